"""Curators' workflow: submit, edit, review (publish / reject / request changes), unpublish;
revisions of published practices; the overlay and the hiding of handbook practices.

Four eyes: what the public reads has been seen by two people. A curator cannot publish a
practice they wrote -- submitted, sent as a suggestion with their email as its contact, or
edited since it was last published -- and a published practice is never changed by an edit:
the edit becomes its revision (`propose`), which another curator approves (`decide_revision`),
and until then the page, the API and search show the published text. Admins may do both alone.

A handbook practice belongs to `kb ingest`: nobody changes its fields, publishes or unpublishes
it here. Curators add an overlay that ingest keeps -- a correction note (reviewed like an edit)
and quality scores -- and only an admin hides it, with a reason (`hide`), or shows it again.
Who may do what to which practice is decided in one place, `check`, which `practice_for` (the
loader every curation view uses) and every action here call.

Every change is kept as a PracticeChange: who, when, which fields, before and after. Publishing
and approving change search in the same transaction (`sync_search`): the decision and the
search change are committed together.
"""
from __future__ import annotations

import hashlib
import json
import re

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.core.messages import N_, DomainError
from kb.core.vocabulary import slugify
from kb.core.models import (CHANGES_REQUESTED, CURATOR, HANDBOOK, HIDDEN, PENDING, PUBLISHED,
                            REJECTED, Curator, Practice, PracticeChange, PracticeRevision,
                            utcnow)
from kb.curation import schema

NOTE = "correction_note"  # the overlay's text: a Practice column, not a schema field
# The change log names a field by its column (area_id, success_factor_id) as it always has.
TRACKED = (*(stored.attribute for stored in schema.STORED.values()), "status", "review_reason",
           NOTE)
_ADDRESS_PART = r"[^\s@<>()\[\],;:\"']+"
EMAIL_IN_TEXT = re.compile(rf"{_ADDRESS_PART}@{_ADDRESS_PART}")


class ReviewError(DomainError):
    """The action is not allowed, or input is invalid; `errors` maps each field to a message
    (`schema.FieldMessage`s: the web layer says them in the UI language)."""

    def __init__(self, template: str, errors: dict[str, str] | None = None, **values):
        super().__init__(template, **values)
        self.errors = errors or {}


def clean_input(session: Session, raw: dict) -> dict:
    """Validate a submission or an edit against the practice schema; raise ReviewError with a
    message per field. The values are by the schema's field names (`schema.validate`)."""
    try:
        return schema.validate(session, raw)
    except ValidationError as exc:
        raise ReviewError(N_("the practice has errors"), schema.field_errors(exc)) from None


class NotAllowed(ReviewError):
    """This curator may not do this to this practice (whatever the input)."""


def _snapshot(practice: Practice) -> dict:
    fields = {schema.STORED[name].attribute: value for name, value in schema.read(practice).items()}
    return {**fields, "status": practice.status, "review_reason": practice.review_reason,
            NOTE: practice.correction_note or ""}


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
    """Write the values `clean_input` returned; unchanged fields are not touched."""
    schema.write(practice, values)


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
                area_id=values["area"], title=values["title"], text=values["text"],
                submitted_by=curator.id if curator else None, submitted_via=via)
            .on_conflict_do_nothing(index_elements=[table.c.id]).returning(table.c.id))
        taken |= {candidate}
    practice = session.get(Practice, claimed)
    apply_values(practice, values)
    session.flush()
    _log(session, practice, {}, curator, "submitted")
    return practice


# --- who may do what: the one place ----------------------------------------------------------

ACTIONS = {"publish": PUBLISHED, "reject": REJECTED, "request_changes": CHANGES_REQUESTED,
           "unpublish": PENDING}
OWN_SUBMISSION = N_("You cannot publish your own submission: another curator reviews it.")
OWN_EDIT = N_("You edited this practice since it was last published: another curator "
              "publishes it.")
OWN_REVISION = N_("You cannot approve your own revision: another curator reviews it.")
HANDBOOK_FIELDS = N_("A handbook practice belongs to `kb ingest`: its fields cannot be changed "
                     "here; add a correction note, or scores (an admin can hide it).")
ADMINS_HIDE = N_("Only an admin can hide a handbook practice or show it again.")


def _named_in_contact(practice: Practice, curator: Curator) -> bool:
    """Whether the practice's contact gives the curator's email: a suggestion they sent while
    logged out is their own submission."""
    emails = {e.rstrip(".").lower() for e in EMAIL_IN_TEXT.findall(practice.contact or "")}
    return curator.email.lower() in emails


def _edited_since_published(session: Session, practice: Practice) -> set[int]:
    """The curators who changed the practice's fields since it was last published."""
    found: set[int] = set()
    for change in reversed(history(session, practice.id)):
        if change.action == "publish":
            break
        if change.action == "edited" and change.fields and change.curator_id is not None:
            found.add(change.curator_id)
    return found


def check(session: Session, practice: Practice, curator: Curator, intent: str) -> None:
    """Raise NotAllowed unless ``curator`` may ``intent`` ``practice``: "view", "score", "edit",
    "note", a decision of ACTIONS, "approve" or "reject_revision", "hide" or "show"."""
    handbook = practice.source == HANDBOOK
    if handbook and (intent == "edit" or intent in ACTIONS):
        raise NotAllowed(HANDBOOK_FIELDS)
    if not handbook and intent in ("note", "hide", "show"):
        raise NotAllowed(N_("A curator's practice is edited, or unpublished, itself."))
    if intent in ("hide", "show") and not curator.is_admin:
        raise NotAllowed(ADMINS_HIDE)
    if curator.is_admin:
        return  # an admin may publish and approve what they wrote
    if intent == "publish":
        if practice.submitted_by == curator.id or _named_in_contact(practice, curator):
            raise NotAllowed(OWN_SUBMISSION)
        if curator.id in _edited_since_published(session, practice):
            raise NotAllowed(OWN_EDIT)
    if intent == "approve":
        revision = session.get(PracticeRevision, practice.id)
        if revision is not None and revision.proposed_by == curator.id:
            raise NotAllowed(OWN_REVISION)


def practice_for(session: Session, practice_id: str, curator: Curator,
                 intent: str = "view") -> Practice | None:
    """The practice ``curator`` is about to ``intent`` (see `check`), None when there is none;
    raises NotAllowed when they may not."""
    practice = session.get(Practice, practice_id)
    if practice is not None:
        check(session, practice, curator, intent)
    return practice


# --- changing a practice -----------------------------------------------------------------------

def _reason(reason: str, required: bool) -> str:
    reason = (reason or "").strip()
    if len(reason) > schema.REASON_LIMIT:
        raise ReviewError(N_("The reason is too long."), {"reason": schema.FieldMessage(
            N_("at most {max_length} characters ({given} given)"),
            {"max_length": schema.REASON_LIMIT, "given": len(reason)})})
    if required and not reason:
        raise ReviewError(N_("Give a reason."),
                          {"reason": schema.FieldMessage(N_("a reason is required"), {})})
    return reason


def edit(session: Session, practice: Practice, raw: dict,
         curator: Curator) -> PracticeChange | None:
    """Change a practice's fields; the change log keeps before and after. A published practice
    stays as it is: the change becomes its revision, for another curator to approve."""
    check(session, practice, curator, "edit")
    values = clean_input(session, raw)
    if practice.status == PUBLISHED:
        return propose(session, practice, values, curator)
    before = _snapshot(practice)
    apply_values(practice, values)
    session.flush()
    return _log(session, practice, before, curator, "edited")


def set_note(session: Session, practice: Practice, note: str,
             curator: Curator) -> PracticeChange | None:
    """Propose a correction note for a handbook practice (another curator approves it; `kb
    ingest` keeps it)."""
    check(session, practice, curator, "note")
    note = (note or "").strip()
    if len(note) > schema.NOTE_LIMIT:
        raise ReviewError(N_("The note is too long."), {NOTE: schema.FieldMessage(
            N_("at most {max_length} characters ({given} given)"),
            {"max_length": schema.NOTE_LIMIT, "given": len(note)})})
    return propose(session, practice, {NOTE: note}, curator)


def decide(session: Session, practice: Practice, action: str, curator: Curator,
           reason: str = "") -> PracticeChange:
    """Publish, reject (with a reason), request changes (with a reason) or unpublish."""
    if action not in ACTIONS:
        raise ReviewError(N_("Unknown action %(action)r."), action=action)
    reason = _reason(reason, required=action in ("reject", "request_changes"))
    check(session, practice, curator, action)
    before = _snapshot(practice)
    practice.status = ACTIONS[action]
    practice.review_reason = reason
    session.flush()
    return _log(session, practice, before, curator, action, reason)


def hide(session: Session, practice: Practice, curator: Curator, reason: str) -> PracticeChange:
    """Hide a handbook practice (admins, with a reason): out of the catalogue and search, and
    `kb ingest` keeps it hidden."""
    reason = _reason(reason, required=True)
    check(session, practice, curator, "hide")
    if practice.status == HIDDEN:
        raise ReviewError(N_("The practice is hidden already."))
    before = _snapshot(practice)
    practice.status, practice.hidden_at = HIDDEN, utcnow()
    practice.hidden_by, practice.hidden_reason = curator.id, reason
    session.flush()
    return _log(session, practice, before, curator, "hidden", reason)


def show(session: Session, practice: Practice, curator: Curator,
         reason: str = "") -> PracticeChange:
    """Publish a hidden handbook practice again (admins)."""
    reason = _reason(reason, required=False)
    check(session, practice, curator, "show")
    if practice.status != HIDDEN:
        raise ReviewError(N_("The practice is not hidden."))
    before = _snapshot(practice)
    practice.status, practice.hidden_at, practice.hidden_by, practice.hidden_reason = (
        PUBLISHED, None, None, "")
    session.flush()
    return _log(session, practice, before, curator, "shown", reason)


# --- revisions of published practices ------------------------------------------------------------

def _values(practice: Practice) -> dict:
    """What a revision may change, by name: the schema's fields and the correction note."""
    return {**schema.read(practice), NOTE: practice.correction_note or ""}


def _column(name: str) -> str:
    return schema.STORED[name].attribute if name in schema.STORED else name


def revision_fields(revision: PracticeRevision) -> dict:
    """What the revision changes, as the change log names it: column -> [before, proposed]."""
    return {_column(n): [revision.base.get(n), v] for n, v in revision.proposed.items()}


def revision_of(session: Session, practice_id: str) -> PracticeRevision | None:
    """The practice's revision waiting for review, if it has one."""
    return session.get(PracticeRevision, practice_id)


def proposed_values(session: Session, practice: Practice) -> dict:
    """The practice's values as its waiting revision would make them (its own when none)."""
    revision = revision_of(session, practice.id)
    return {**_values(practice), **(revision.proposed if revision else {})}


def revision_digest(revision: PracticeRevision) -> str:
    """Names one version of a revision: approving says which one the reviewer read."""
    text = json.dumps([revision.proposed, revision.base], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def propose(session: Session, practice: Practice, values: dict,
            curator: Curator) -> PracticeChange | None:
    """Make ``values`` (validated) the practice's revision waiting for review, or change the
    curator's own waiting one; the practice itself is not changed. None: nothing to review."""
    current = _values(practice)
    changed = {name: value for name, value in values.items() if current[name] != value}
    revision = session.get(PracticeRevision, practice.id)
    if revision is not None and revision.proposed_by != curator.id:
        raise ReviewError(N_("Another curator's revision of this practice waits for review: "
                             "approve or reject it first."))
    if revision is None and not changed:
        return None
    if revision is None:
        revision = _claim_revision(session, practice, curator)
    action = "revision_proposed" if changed else "revision_withdrawn"
    fields = ({_column(n): [current[n], v] for n, v in changed.items()} if changed
              else revision_fields(revision))
    if changed:
        revision.proposed, revision.base = changed, {n: current[n] for n in changed}
        revision.proposed_at = utcnow()
    else:  # edited back to the published text: nothing is left to review
        session.delete(revision)
    change = PracticeChange(practice_id=practice.id, curator_id=curator.id, action=action,
                            fields=fields)
    session.add(change)
    session.flush()
    return change


def _claim_revision(session: Session, practice: Practice, curator: Curator) -> PracticeRevision:
    """A new revision row. The practice is its key: of two curators proposing at once, the
    second finds the first's (INSERT ... ON CONFLICT DO NOTHING) and is refused."""
    from sqlalchemy.dialects import postgresql, sqlite
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[session.get_bind().dialect.name]
    table = PracticeRevision.__table__
    claimed = session.scalar(
        dialect.insert(table).values(practice_id=practice.id, proposed_by=curator.id,
                                     proposed_at=utcnow(), proposed={}, base={})
        .on_conflict_do_nothing(index_elements=[table.c.practice_id])
        .returning(table.c.practice_id))
    if claimed is None:
        raise ReviewError(N_("Another curator's revision of this practice waits for review: "
                             "approve or reject it first."))
    return session.get(PracticeRevision, claimed)


def decide_revision(session: Session, practice: Practice, action: str, curator: Curator,
                    reason: str = "", seen: str | None = None) -> PracticeChange:
    """Approve the practice's waiting revision (it is applied: the caller updates search in the
    same transaction) or reject it (with a reason: it is discarded). ``seen`` is the digest of
    the revision the reviewer read: approving a revision changed since is refused."""
    if action not in ("approve", "reject_revision"):
        raise ReviewError(N_("Unknown action %(action)r."), action=action)
    reason = _reason(reason, required=action == "reject_revision")
    revision = session.get(PracticeRevision, practice.id, with_for_update=True)
    if revision is None:
        raise ReviewError(N_("No revision of this practice waits for review."))
    check(session, practice, curator, action)
    if action == "approve" and seen is not None and seen != revision_digest(revision):
        raise ReviewError(N_("The revision changed since you read it: read it again."))
    before = _snapshot(practice)
    if action == "reject_revision":
        fields = revision_fields(revision)
        session.delete(revision)
        change = PracticeChange(practice_id=practice.id, curator_id=curator.id,
                                action="revision_rejected", fields=fields, reason=reason)
        session.add(change)
        session.flush()
        return change
    current = _values(practice)
    stale = sorted(n for n, v in revision.base.items() if current.get(n) != v)
    if stale:
        raise ReviewError(N_("The practice changed since this revision was proposed "
                             "(%(fields)s): reject it, and propose it again."),
                          fields=", ".join(stale))
    proposed = dict(revision.proposed)
    if set(proposed) - {NOTE}:  # checked again: the vocabularies may have changed meanwhile
        fields = clean_input(session, {**schema.read(practice), **proposed})
        apply_values(practice, {n: fields[n] for n in proposed if n != NOTE})
    if NOTE in proposed:
        practice.correction_note = proposed[NOTE]
    session.delete(revision)
    session.flush()
    return _log(session, practice, before, curator, "revision_approved", reason)


def history(session: Session, practice_id: str) -> list[PracticeChange]:
    return list(session.scalars(select(PracticeChange).where(
        PracticeChange.practice_id == practice_id).order_by(PracticeChange.at, PracticeChange.id)))


def sync_search(search, session: Session, practice: Practice) -> None:
    """Put a published practice into search, or take it out, in the session's transaction:
    search changes exactly when the decision is committed, never one without the other."""
    from kb.search import DocKey, practice_document, vocabularies
    if practice.status == PUBLISHED:
        search.upsert(session, practice_document(practice, *vocabularies(session)))
    else:
        search.remove(session, DocKey.practice(practice.id))
