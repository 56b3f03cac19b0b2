"""A self-assessment as JSON: its complete record (the API's answer and the download) and its
summary (the summary page's JSON twin), one shape each for the API and the pages."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import url_for
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kb.assessment import assess, record, rounds, teams
from kb.assessment.recommend import per_item
from kb.core.models import Area
from kb.core.vocabulary import ORGANISATION_TYPES
from kb.web.serialize import ErrorDetail, Shape, Why, why_json
from kb.web.services import db, search_reader

Status = Literal["met", "unmet", "na", "unanswered"]
Page = Literal[assess.PAGES]
Note = Annotated[str, StringConstraints(max_length=assess.NOTE_LIMIT)]
Organisation = Annotated[str, StringConstraints(max_length=assess.ORGANISATION_LIMIT)]
OrganisationType = Literal[("", *ORGANISATION_TYPES)]


# --- requests ------------------------------------------------------------------------------------

class AssessmentCreate(BaseModel):
    """A new self-assessment; every field may be left out."""

    model_config = ConfigDict(extra="forbid")

    organisation: Organisation = ""
    organisation_type: OrganisationType = Field("", description=(
        "Pre-marks the items the handbook says do not apply to this type as na, unless "
        "answers says otherwise."))
    answers: dict[str, Status] = Field(default_factory=dict, description=(
        "Checklist item ID -> met, unmet, na (not applicable) or unanswered."))
    notes: dict[Page, Note] = Field(default_factory=dict, description="Page -> notes.")


class AssessmentPatch(AssessmentCreate):
    """Changes to an assessment, with the version they were made on."""

    version: int = Field(description="The version the changes were made on (from GET); "
                                     "another version is a 409 with what changed since.")
    organisation: Organisation | None = None
    organisation_type: OrganisationType | None = None


# --- answers -------------------------------------------------------------------------------------

class ItemRef(Shape):
    id: str
    checklist: str = Field(description="The checklist the item is in.")
    number: int = Field(description="The item's number in its checklist, as in the handbook.")
    text: str
    text_en: str | None


class WhyShown(Why):
    """Why (the shape of `Why`), read back from its JSON."""

    same_success_factor: bool


class RecommendedPractice(Shape):
    id: str
    title: str
    title_en: str | None
    country: list[str]
    area: int
    score: float = Field(description="Its score for the item (discounted when it was shown "
                                     "for earlier items).")
    match: float = Field(description="Its score against the item's best practice's (1: best).")
    strength: Literal["strong", "good", "weak"] = Field(description=(
        "How well it matches the item: strong (match ≥ 0.8), good (≥ 0.5) or weak."))
    why: list[WhyShown]


class UnmetItem(ItemRef):
    practices: list[RecommendedPractice]


class ReferenceRef(Shape):
    id: str
    title: str
    year: int | None
    url: str | None


class PageSummary(Shape):
    page: Page
    title: str
    title_en: str | None
    met: int
    applicable: int
    not_applicable: int
    unanswered: int
    reading: Literal["all", "some", "none", "not_applicable", "open"]
    percent: int
    notes: str
    unmet: list[UnmetItem]
    unanswered_items: list[ItemRef]
    references: list[ReferenceRef]


class RoundRef(Shape):
    round: int
    token: str | None = Field(description="null in a shared (read-only) summary.")
    created_at: datetime
    updated_at: datetime
    percent: dict[str, int | None] = Field(description="Page -> share of applicable items met.")


class Comparison(Shape):
    rounds: list[RoundRef]
    newly_met: list[ItemRef] = Field(description="Met now, not met in the round before.")
    slipped: list[ItemRef] = Field(description="Met in the round before, not met now.")


class TeamMember(Shape):
    name: str
    token: str | None = Field(description="The member's own link's token (null when shared).")
    url: str | None
    answered: int = Field(description="Items the member has answered.")


class TeamItem(ItemRef):
    met: int
    unmet: int
    na: int
    unanswered: int
    disagree: bool = Field(description="The answers differ: a point to discuss.")


class Team(Shape):
    """A team round: the owner's and every member's answers counted per item."""

    members: list[TeamMember]
    items: list[TeamItem]
    discussion: list[TeamItem] = Field(description="The items the answers differ on.")


class Summary(Shape):
    organisation: str | None
    organisation_type: str | None
    round: int
    created_at: datetime
    updated_at: datetime
    shared: bool = Field(description="A read-only view through a share link.")
    member: str | None = Field(description="A team member's name, on a member's own answers.")
    pages: list[PageSummary]
    comparison: Comparison
    team: Team | None


class AssessmentLinks(Shape):
    record: str
    pages: str
    summary: str
    download: str
    follow_up: str


class AssessmentRecord(Shape):
    """The complete record of a self-assessment: it documents and restores it."""

    token: str
    share_url: str | None = Field(description="The read-only share link, while there is one.")
    member_name: str | None = Field(description="On a team member's answers: their name.")
    version: int
    organisation: str
    organisation_type: str
    round: int
    previous: str | None = Field(description="The token of the round before, if any.")
    created_at: datetime
    updated_at: datetime
    rounds: list[RoundRef]
    answers: dict[str, Status] = Field(description="Every checklist item's answer.")
    notes: dict[str, str] = Field(description="Every page's notes.")
    links: AssessmentLinks
    summary: Summary


class ConflictChanges(Shape):
    answers: dict[str, list[str]] = Field(description="Item -> [before, now].")
    notes: list[str] = Field(description="Pages whose notes changed.")
    fields: dict[str, list[str]]


class Conflict(Shape):
    """409: the assessment changed since the version sent; nothing was saved."""

    error: ErrorDetail
    version: int = Field(description="The assessment's version now.")
    changed: ConflictChanges


# --- builders ------------------------------------------------------------------------------------

def item_ref(item) -> dict:
    return {"id": item.id, "checklist": item.checklist_id, "number": item.position,
            "text": item.text, "text_en": item.text_en or None}


def strength(share: float) -> str:
    """A practice's match: "strong" within 80 % of the item's best practice's score, "good"
    within 50 %, else "weak"."""
    return "strong" if share >= 0.8 else "good" if share >= 0.5 else "weak"


def summary_data(assessment, shared: bool = False) -> dict:
    """The summary: per page met/applicable, reading, notes, unmet items with practices,
    unanswered items, references; the comparison with the round before; a team round's
    counts. ``shared``: the read-only view, which holds no token."""
    pages = assess.summarize(db(), assessment)
    unmet = [i.id for p in pages for i in p.unmet]
    notes = {i.id: p.note for p in pages for i in p.unmet if p.note}
    recommendations = per_item(search_reader(), db(), unmet, top=3, notes=notes) if unmet else {}
    areas = {a.id: a for a in db().query(Area).all()}
    line = rounds.rounds_of(db(), assessment) if assessment.team_id is None else [assessment]
    line = line[:line.index(assessment) + 1]
    compared = rounds.compare(db(), line)
    items = {i.id: i for i in record.all_items(db())}

    def practices(item_id):
        return [{"id": r.id, "title": r.title, "title_en": r.title_en or None,
                 "country": r.countries, "area": r.area, "score": r.score,
                 "match": r.share, "strength": strength(r.share), "why": why_json(r.reasons)}
                for r in recommendations.get(item_id, [])]

    return Summary.model_validate({
        "organisation": assessment.organisation or None,
        "organisation_type": assessment.organisation_type or None,
        "round": assessment.round,
        "created_at": assessment.created_at, "updated_at": assessment.updated_at,
        "pages": [{
            "page": p.page, "title": p.title, "title_en": p.title_en or None, "met": p.met,
            "applicable": p.applicable, "not_applicable": p.not_applicable,
            "unanswered": p.unanswered, "reading": p.reading, "percent": p.percent,
            "notes": p.note,
            "unmet": [{**item_ref(i), "practices": practices(i.id)} for i in p.unmet],
            "unanswered_items": [item_ref(i) for i in p.unanswered_items],
            "references": [{"id": r.id, "title": r.title, "year": r.year,
                            "url": r.urls[0] if r.urls else None}
                           for r in (areas[int(p.page)].references if p.page != "general"
                                     else [])],
        } for p in pages],
        "shared": shared, "member": assessment.member_name or None,
        "team": team_json(assessment, items, shared),
        "comparison": {"rounds": [round_json(r, shared) for r in compared.rounds],
                       "newly_met": [item_ref(items[i]) for i in compared.newly_met],
                       "slipped": [item_ref(items[i]) for i in compared.slipped]},
    }).jsonable()


def round_json(r: rounds.RoundScores, shared: bool = False) -> dict:
    return {"round": r.round, "token": None if shared else r.token, "created_at": r.created_at,
            "updated_at": r.updated_at, "percent": r.percent}


def team_json(owner, items: dict, shared: bool) -> dict | None:
    """A team round's members and counts per item (None when the round has no members)."""
    if owner.team_id is not None:
        return None
    members = teams.members(db(), owner)
    if not members:
        return None
    counts = teams.tally(db(), owner, list(items))
    rows = [{**item_ref(items[i]), "met": t.met, "unmet": t.unmet, "na": t.na,
             "unanswered": t.unanswered, "disagree": t.disagree} for i, t in counts.items()]
    return {"members": [{"name": m.member_name,
                         "token": None if shared else m.token,
                         "url": None if shared else url_for("assess.page", token=m.token,
                                                            page="1", _external=True),
                         "answered": len(m.answers)} for m in members],
            "items": rows, "discussion": [r for r in rows if r["disagree"]]}


def record_json(assessment) -> dict:
    """The complete record: every answer and note, organisation, dates, rounds, summary."""
    token = assessment.token
    line = rounds.rounds_of(db(), assessment) if assessment.team_id is None else [assessment]
    previous = next((r.token for r in line if r.id == assessment.previous_id), None)
    compared = rounds.compare(db(), line)
    return AssessmentRecord.model_validate({
        "token": token, "version": assessment.version,
        "share_url": url_for("assess.shared", share_token=assessment.share_token,
                             _external=True) if assessment.share_token else None,
        "member_name": assessment.member_name or None,
        "organisation": assessment.organisation, "organisation_type": assessment.organisation_type,
        "round": assessment.round, "previous": previous,
        "created_at": assessment.created_at, "updated_at": assessment.updated_at,
        "rounds": [round_json(r) for r in compared.rounds],
        "answers": record.answers_in_full(db(), assessment),
        "notes": record.notes_in_full(assessment),
        "links": {
            "record": url_for("api.assessment", token=token, _external=True),
            "pages": url_for("assess.page", token=token, page="1", _external=True),
            "summary": url_for("assess.summary", token=token, _external=True),
            "download": url_for("assess.download", token=token, _external=True),
            "follow_up": url_for("api.assessment_follow_up", token=token, _external=True),
        },
        "summary": summary_data(assessment),
    }).jsonable()


class Share(Shape):
    """The read-only share link of a round's summary (null once revoked)."""

    url: str | None


class MemberRequest(BaseModel):
    """A member to invite to a team round."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=teams.NAME_LIMIT)]


def conflict_json(exc: record.StaleVersion) -> dict:
    c = exc.changes
    return Conflict.model_validate({
        "error": {"status": 409, "message": str(exc), "param": "version"},
        "version": c.version,
        "changed": {"answers": c.answers, "notes": c.notes, "fields": c.fields},
    }).jsonable()
