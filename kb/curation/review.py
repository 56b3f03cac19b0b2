"""Curators' workflow: submit, edit, review (publish / reject / request changes), unpublish.

Every change is kept as a PracticeChange: who, when, which fields, before and after. A curator
cannot publish their own submission; an admin can. Publishing changes search in the same
transaction (`sync_search`): the decision and the search change are committed together.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.core.vocabulary import COUNTRIES
from kb.core.vocabulary import slugify
from kb.core.models import (CHANGES_REQUESTED, CURATOR, PENDING, PUBLISHED, REJECTED, Activity,
                       Curator, Need, Practice, PracticeActivity, PracticeChange, PracticeCountry,
                       PracticeNeed, SuccessFactor)

LIMITS = {"title": 300, "title_en": 300, "organisation": 300, "city": 120, "text": 20_000,
          "summary_en": 20_000, "contact": 300, "source_note": 500, "reason": 2000}
MAX_URLS = 10
URL = re.compile(r"^https?://[^\s<>\"']+$")
TRACKED = ("title", "title_en", "organisation", "city", "countries", "area_id",
           "success_factor_id", "text", "summary_en", "needs", "activities", "urls", "contact",
           "source_note", "status", "review_reason")


class ReviewError(ValueError):
    """The action is not allowed, or input is invalid; `errors` maps each field to a message."""

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.errors = errors or {}


def clean_input(session: Session, raw: dict) -> dict:
    """Validate a submission or an edit; raise ReviewError with a message per field."""
    errors: dict[str, str] = {}
    values: dict = {}
    for name, limit in LIMITS.items():
        if name == "reason":
            continue
        value = str(raw.get(name, "") or "").strip()
        if len(value) > limit:
            errors[name] = f"at most {limit} characters ({len(value)} given)"
        values[name] = value
    if not values["title"]:
        errors["title"] = "a title is required"
    if not values["text"] and not values["summary_en"]:
        errors["text"] = "a description is required, in Latvian and/or English"
    countries = [c.strip().upper() for c in raw.get("countries", []) if str(c).strip()]
    bad = [c for c in countries if c not in COUNTRIES]
    if not countries:
        errors["countries"] = "choose at least one country"
    elif bad:
        errors["countries"] = f"unknown country codes: {', '.join(bad)}"
    values["countries"] = list(dict.fromkeys(countries))
    try:
        values["area_id"] = int(raw.get("area") or 0)
    except (TypeError, ValueError):
        values["area_id"] = 0
    if not 1 <= values["area_id"] <= 6:
        errors["area"] = "choose a key area from 1 to 6"
    factor = str(raw.get("success_factor") or "").strip() or None
    if factor is not None:
        found = session.get(SuccessFactor, factor)
        if found is None or found.area_id != values["area_id"]:
            errors["success_factor"] = "choose a success factor of the chosen key area"
    values["success_factor_id"] = factor
    needs = _codes(raw.get("needs", []), set(session.scalars(select(Need.code))), "needs",
                   errors)
    values["needs"] = sorted(set(needs))
    # Activities keep their order (most central first). A record without the field -- a line
    # exported before kb had activities -- leaves a practice's activities as they are.
    values["activities"] = (_codes(raw["activities"], set(session.scalars(select(Activity.code))),
                                   "activities", errors)
                            if "activities" in raw else None)
    urls = [u.strip() for u in raw.get("urls", []) if u and u.strip()]
    bad_urls = [u for u in urls if not URL.match(u) or len(u) > 2000]
    if bad_urls:
        errors["urls"] = f"not a web address (http:// or https://): {bad_urls[0][:80]}"
    elif len(urls) > MAX_URLS:
        errors["urls"] = f"at most {MAX_URLS} addresses"
    values["urls"] = list(dict.fromkeys(urls))
    if errors:
        raise ReviewError("the practice has errors", errors)
    return values


def _codes(raw, known: set[str], name: str, errors: dict[str, str]) -> list[str]:
    """Vocabulary codes from a form or an import line, each once, in the order given."""
    if not isinstance(raw, (list, tuple)) or not all(isinstance(c, str) for c in raw):
        errors[name] = f"{name} must be a list of codes"
        return []
    codes = list(dict.fromkeys(c.strip() for c in raw if c.strip()))
    unknown = [c for c in codes if c not in known]
    if unknown:
        errors[name] = f"unknown {name}: {', '.join(unknown)}"
    return codes


def _snapshot(practice: Practice) -> dict:
    return {"title": practice.title, "title_en": practice.title_en,
            "organisation": practice.organisation, "city": practice.city,
            "countries": practice.country_codes, "area_id": practice.area_id,
            "success_factor_id": practice.success_factor_id, "text": practice.text,
            "summary_en": practice.summary_en, "needs": practice.need_codes,
            "activities": practice.activity_codes,
            "urls": list(practice.urls or []), "contact": practice.contact,
            "source_note": practice.source_note, "status": practice.status,
            "review_reason": practice.review_reason}


def _log(session: Session, practice: Practice, before: dict, curator: Curator | None,
         action: str, reason: str = "") -> PracticeChange:
    after = _snapshot(practice)
    fields = {k: [before.get(k), after[k]] for k in TRACKED if before.get(k) != after[k]}
    change = PracticeChange(practice_id=practice.id, curator_id=curator.id if curator else None,
                            action=action, fields=fields, reason=reason)
    session.add(change)
    session.flush()
    return change


def apply_values(practice: Practice, values: dict) -> None:
    for name in ("title", "title_en", "organisation", "city", "area_id", "success_factor_id",
                 "text", "summary_en", "urls", "contact", "source_note"):
        if getattr(practice, name) != values[name]:
            setattr(practice, name, values[name])
    if practice.country_codes != values["countries"]:
        practice.countries = [PracticeCountry(country=c, position=i)
                              for i, c in enumerate(values["countries"])]
    if practice.need_codes != values["needs"]:
        practice.needs = [PracticeNeed(need=n) for n in values["needs"]]
    if values["activities"] is not None and practice.activity_codes != values["activities"]:
        practice.activities = [PracticeActivity(activity=a, position=i)
                               for i, a in enumerate(values["activities"])]


def new_id(session: Session, title: str, taken: frozenset[str] = frozenset()) -> str:
    """The first ID free for ``title`` and not in ``taken``: its slug, else slug-2, slug-3, ..."""
    base = slugify(title) or "practice"
    candidate, n = base, 2
    while candidate in taken or session.get(Practice, candidate) is not None:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def submit(session: Session, raw: dict, curator: Curator | None, via: str) -> Practice:
    """A new practice in the review queue (from a curator, or the public form).

    The ID is claimed by INSERT ... ON CONFLICT DO NOTHING: when a submission with the same
    title took it meanwhile, the insert does nothing (on PostgreSQL after waiting for the other
    transaction to end) and the next free ID is tried -- never an IntegrityError. The insert is
    also the transaction's first write, so on SQLite the next ID is read under the write lock.
    """
    from sqlalchemy.dialects import postgresql, sqlite
    values = clean_input(session, raw)
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[session.get_bind().dialect.name]
    table = Practice.__table__
    taken: frozenset[str] = frozenset()
    claimed = None
    while claimed is None:
        candidate = new_id(session, values["title"], taken)
        claimed = session.scalar(
            dialect.insert(table).values(
                id=candidate, source=CURATOR, status=PENDING, position=0,
                area_id=values["area_id"], title=values["title"], text=values["text"],
                submitted_by=curator.id if curator else None, submitted_via=via)
            .on_conflict_do_nothing(index_elements=[table.c.id]).returning(table.c.id))
        taken |= {candidate}
    practice = session.get(Practice, claimed)
    apply_values(practice, values)
    session.flush()
    _log(session, practice, {}, curator, "submitted")
    return practice


def edit(session: Session, practice: Practice, raw: dict, curator: Curator) -> PracticeChange:
    """Change a practice's fields; the change log keeps before and after."""
    values = clean_input(session, raw)
    before = _snapshot(practice)
    apply_values(practice, values)
    session.flush()
    return _log(session, practice, before, curator, "edited")


ACTIONS = {"publish": PUBLISHED, "reject": REJECTED, "request_changes": CHANGES_REQUESTED,
           "unpublish": PENDING}


def decide(session: Session, practice: Practice, action: str, curator: Curator,
           reason: str = "") -> PracticeChange:
    """Publish, reject (with a reason), request changes (with a reason) or unpublish."""
    if action not in ACTIONS:
        raise ReviewError(f"unknown action {action!r}")
    reason = reason.strip()
    if len(reason) > LIMITS["reason"]:
        raise ReviewError("the reason is too long", {"reason": f"at most {LIMITS['reason']} characters"})
    if action in ("reject", "request_changes") and not reason:
        raise ReviewError("give a reason", {"reason": "a reason is required"})
    if action == "publish" and practice.submitted_by == curator.id and not curator.is_admin:
        raise ReviewError("you cannot publish your own submission: another curator reviews it")
    before = _snapshot(practice)
    practice.status = ACTIONS[action]
    practice.review_reason = reason
    session.flush()
    return _log(session, practice, before, curator, action, reason)


def history(session: Session, practice_id: str) -> list[PracticeChange]:
    return list(session.scalars(select(PracticeChange).where(
        PracticeChange.practice_id == practice_id).order_by(PracticeChange.at, PracticeChange.id)))


def sync_search(search, session: Session, practice: Practice) -> None:
    """Put a published practice into search, or take it out, in the session's transaction:
    search changes exactly when the decision is committed, never one without the other."""
    from kb.search import DocKey, practice_document
    if practice.status == PUBLISHED:
        needs = {n.code: n for n in session.scalars(select(Need))}
        search.upsert(session, practice_document(practice, needs))
    else:
        search.remove(session, DocKey.practice(practice.id))
