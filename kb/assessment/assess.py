"""Self-assessment rules: pages, answers, notes, the handbook's reading of a result, merging.

The handbook (section 4): every item met -- the organisation fully uses the comprehensive
approach in that area; some unmet -- improve the service; none met -- rethink the services.
Items answered "not applicable" are left out (some tasks do not apply to NGOs).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from kb.core.messages import N_, DomainError
from kb.core.vocabulary import ORGANISATION_TYPES
from kb.core.models import (Area, Assessment, AssessmentAnswer, AssessmentChange,
                            AssessmentNote, Checklist, ChecklistItem)

PAGES = ("1", "2", "3", "4", "5", "6", "general")
ANSWERS = ("met", "unmet", "na")
UNANSWERED = "unanswered"  # what the complete record says of an item with no answer
NOTE_LIMIT = 5000
ORGANISATION_LIMIT = 200


class AssessmentError(DomainError):
    """Input that cannot be saved; `field` names what is wrong."""


def new_token() -> str:
    """An unguessable link token: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def create(session: Session, organisation: str = "", organisation_type: str = "") -> Assessment:
    organisation = organisation.strip()
    if len(organisation) > ORGANISATION_LIMIT:
        raise AssessmentError(N_("The organisation's name may have at most %(most)d "
                                 "characters."), "organisation", most=ORGANISATION_LIMIT)
    if organisation_type not in ("", *ORGANISATION_TYPES):
        raise AssessmentError(N_("Choose an organisation type from the list."),
                              "organisation_type")
    assessment = Assessment(token=new_token(), organisation=organisation,
                            organisation_type=organisation_type)
    session.add(assessment)
    assessment.answers.extend(AssessmentAnswer(item_id=i, status="na")
                              for i in not_applicable_for(session, organisation_type))
    session.flush()
    return assessment


def not_applicable_for(session: Session, organisation_type: str) -> list[str]:
    """The checklist items the handbook says do not apply to ``organisation_type``
    (corpus/organisation_types.toml): a new assessment of that type starts with them marked
    "not applicable", and the user may change them."""
    if not organisation_type:
        return []
    return [i.id for i in session.scalars(select(ChecklistItem).order_by(ChecklistItem.id))
            if organisation_type in (i.not_applicable_to or [])]


def get_by_token(session: Session, token: str) -> Assessment | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(Assessment).where(Assessment.token == token)
                          .options(selectinload(Assessment.answers), selectinload(Assessment.notes)))


def page_checklists(session: Session, page: str) -> list[Checklist]:
    """The checklists shown on ``page`` (an area number, or "general")."""
    if page not in PAGES:
        raise AssessmentError(N_("There is no page %(page)r; the pages are 1-6 and general."),
                              "page", page=page)
    area = None if page == "general" else int(page)
    query = select(Checklist).options(selectinload(Checklist.items)).order_by(Checklist.position)
    query = query.where(Checklist.area_id.is_(None) if area is None else Checklist.area_id == area)
    return list(session.scalars(query))


def answers_of(assessment: Assessment) -> dict[str, str]:
    return {a.item_id: a.status for a in assessment.answers}


def note_of(assessment: Assessment, page: str) -> str:
    return next((n.text for n in assessment.notes if n.page == page), "")


@dataclass
class SaveResult:
    conflicts: list[str] = field(default_factory=list)  # item IDs changed meanwhile elsewhere
    note_merged: bool = False
    note_error: str | None = None


def save_page(session: Session, assessment: Assessment, page: str, answers: dict[str, str],
              original: dict[str, str], note: str, note_original: str) -> SaveResult:
    """Save one page with a three-way merge, so that two tabs never overwrite each other silently.

    ``original`` holds the answers (and ``note_original`` the note) the form was shown with.
    An answer the user did not change keeps whatever is saved now; one the user changed wins,
    and is reported when another tab had changed it too. Notes changed in both places are kept
    both. A note over NOTE_LIMIT is not saved (the answers are) and the result says why.
    Saves of one assessment at the same moment merge one after the other, never from a stale copy.
    """
    items = {i.id for c in page_checklists(session, page) for i in c.items}
    unknown = sorted(set(answers) - items)
    if unknown:
        raise AssessmentError(N_("These items are not on this page: %(items)s"), "answers",
                              items=", ".join(unknown[:5]))
    bad = sorted(i for i, s in answers.items() if s not in ANSWERS)
    if bad:
        raise AssessmentError(N_("An answer must be one of %(known)s (%(item)s)."), bad[0],
                              known=", ".join(ANSWERS), item=bad[0])
    lock_for_saving(session, assessment)
    saved = answers_of(assessment)
    saved_note = note_of(assessment, page)
    result = SaveResult()
    by_item = {a.item_id: a for a in assessment.answers}
    for item_id, status in answers.items():
        if status == original.get(item_id):
            continue  # not changed here: keep what is saved (maybe by another tab)
        if saved.get(item_id) != original.get(item_id):
            result.conflicts.append(item_id)
        if item_id in by_item:
            by_item[item_id].status = status
        else:
            assessment.answers.append(AssessmentAnswer(item_id=item_id, status=status))
    _save_note(assessment, page, note, note_original, result)
    log_change(session, assessment, saved, {page: saved_note})
    session.flush()
    return result


def log_change(session: Session, assessment: Assessment, answers_before: dict[str, str],
               notes_before: dict[str, str], fields_before: dict[str, str] | None = None) -> None:
    """Keep what this save changed, under the assessment's version after it."""
    after = answers_of(assessment)
    changed = {i: [answers_before.get(i, UNANSWERED), after.get(i, UNANSWERED)]
               for i in sorted(set(answers_before) | set(after))
               if answers_before.get(i) != after.get(i)}
    notes = sorted(p for p, text in notes_before.items() if note_of(assessment, p) != text)
    fields = {k: [v, getattr(assessment, k)] for k, v in (fields_before or {}).items()
              if getattr(assessment, k) != v}
    session.merge(AssessmentChange(assessment_id=assessment.id, version=assessment.version,
                                   answers=changed, notes=notes, fields=fields))


def lock_for_saving(session: Session, assessment: Assessment) -> None:
    """Make this transaction the assessment's only writer, then reload what is saved.

    The first write is an UPDATE of the assessment's row (its version): PostgreSQL keeps that
    row locked until commit, so another tab's save waits here; SQLite's driver opens the
    transaction at its first write, which takes the database's write lock as BEGIN IMMEDIATE
    would. Either way the answers and notes read after it are the last committed ones: the merge
    never works from a copy another tab has changed meanwhile, nor inserts a row it just inserted.
    """
    session.execute(update(Assessment).where(Assessment.id == assessment.id)
                    .values(version=Assessment.version + 1)
                    .execution_options(synchronize_session=False))
    session.scalars(select(Assessment).where(Assessment.id == assessment.id)
                    .options(selectinload(Assessment.answers), selectinload(Assessment.notes))
                    .execution_options(populate_existing=True)).one()


def _save_note(assessment: Assessment, page: str, note: str, note_original: str,
               result: SaveResult) -> None:
    note = note.replace("\r\n", "\n")
    if len(note) > NOTE_LIMIT:
        result.note_error = (f"The notes have {len(note)} characters; at most {NOTE_LIMIT} can be "
                             "saved. Shorten them and save again; your answers were saved.")
        return
    current = note_of(assessment, page)
    if note == note_original.replace("\r\n", "\n"):
        return
    if current != note_original.replace("\r\n", "\n") and current.strip():
        note = f"{current}\n\n---\n\n{note}"  # changed in both places: keep both
        result.note_merged = True
        if len(note) > NOTE_LIMIT:
            result.note_error = "The notes changed elsewhere too, and both together are too long."
            return
    existing = next((n for n in assessment.notes if n.page == page), None)
    if existing is None:
        assessment.notes.append(AssessmentNote(page=page, text=note))
    else:
        existing.text = note


@dataclass
class PageSummary:
    page: str
    title: str
    title_en: str
    met: int
    unmet: list[ChecklistItem]
    not_applicable: int
    unanswered_items: list[ChecklistItem]
    note: str

    @property
    def unanswered(self) -> int:
        return len(self.unanswered_items)

    @property
    def applicable(self) -> int:
        return self.met + len(self.unmet)

    @property
    def reading(self) -> str:
        """The handbook's reading: "all", "some", "none"; "not_applicable" when every item
        was answered not applicable; "open" while nothing that applies is answered."""
        if self.applicable == 0:
            return "not_applicable" if self.not_applicable and not self.unanswered else "open"
        if not self.unmet:
            return "all"
        return "none" if self.met == 0 else "some"

    @property
    def percent(self) -> int:
        return round(100 * self.met / self.applicable) if self.applicable else 0


def summarize(session: Session, assessment: Assessment) -> list[PageSummary]:
    """Per page: items met of those that apply, the unmet items, the handbook's reading, notes."""
    answers = answers_of(assessment)
    areas = {a.id: a for a in session.scalars(select(Area))}
    summaries = []
    for page in PAGES:
        area = areas.get(int(page)) if page != "general" else None
        items = [i for c in page_checklists(session, page) for i in c.items]
        statuses = [answers.get(i.id) for i in items]
        summaries.append(PageSummary(
            page=page, title=area.title if area else "", title_en=area.title_en if area else "",
            met=statuses.count("met"), unmet=[i for i in items if answers.get(i.id) == "unmet"],
            not_applicable=statuses.count("na"),
            unanswered_items=[i for i in items if answers.get(i.id) is None],
            note=note_of(assessment, page)))
    return summaries
