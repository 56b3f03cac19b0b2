"""An assessment's complete record -- every answer (met / not met / not applicable /
unanswered), every page's notes, its organisation, dates and rounds -- and the writes made
from one: the API's create and versioned PATCH, and importing a downloaded record.

The record is what the API answers and what the download holds, so a downloaded assessment
both documents and restores it: importing it gives a new assessment with the same answers and
notes (and organisation), under a new link.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.assessment import assess
from kb.core.messages import N_
from kb.assessment.assess import (ANSWERS, NOTE_LIMIT, PAGES, UNANSWERED, AssessmentError,
                                  answers_of, note_of)
from kb.core.models import Assessment, AssessmentAnswer, AssessmentChange, AssessmentNote, ChecklistItem

STATUSES = (*ANSWERS, UNANSWERED)


def all_items(session: Session) -> list[ChecklistItem]:
    """Every checklist item, in the order of the pages (areas 1-6, then the general one)."""
    return [i for page in PAGES for c in assess.page_checklists(session, page) for i in c.items]


def answers_in_full(session: Session, assessment: Assessment) -> dict[str, str]:
    saved = answers_of(assessment)
    return {i.id: saved.get(i.id, UNANSWERED) for i in all_items(session)}


def notes_in_full(assessment: Assessment) -> dict[str, str]:
    return {page: note_of(assessment, page) for page in PAGES}


@dataclass
class Changes:
    """What changed after a given version: item -> [before, after], notes' pages, fields."""
    answers: dict[str, list[str]]
    notes: list[str]
    fields: dict[str, list[str]]
    version: int


class StaleVersion(AssessmentError):
    def __init__(self, seen: int, changes: Changes):
        super().__init__(N_("The assessment changed since version %(seen)d: it is at version "
                            "%(now)d; read it again, then send your changes with that "
                            "version."), "version", seen=seen, now=changes.version)
        self.changes = changes


def changes_since(session: Session, assessment: Assessment, seen: int) -> Changes:
    """Every answer, note and field changed by the saves after version ``seen``."""
    rows = session.scalars(select(AssessmentChange).where(
        AssessmentChange.assessment_id == assessment.id, AssessmentChange.version > seen)
        .order_by(AssessmentChange.version))
    answers: dict[str, list[str]] = {}
    notes: set[str] = set()
    fields: dict[str, list[str]] = {}
    for row in rows:
        for item, (before, after) in row.answers.items():
            answers[item] = [answers.get(item, [before])[0], after]
        notes.update(row.notes)
        for name, (before, after) in row.fields.items():
            fields[name] = [fields.get(name, [before])[0], after]
    return Changes({k: v for k, v in answers.items() if v[0] != v[1]}, sorted(notes),
                   {k: v for k, v in fields.items() if v[0] != v[1]}, assessment.version)


def check_answers(session: Session, answers: dict[str, str]) -> None:
    known = {i.id for i in all_items(session)}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise AssessmentError(N_("Unknown checklist item IDs: %(ids)s"), "answers",
                              ids=", ".join(unknown[:5]))
    bad = sorted(i for i, s in answers.items() if s not in STATUSES)
    if bad:
        raise AssessmentError(N_("An answer must be one of %(known)s (%(item)s)."),
                              f"answers.{bad[0]}", known=", ".join(STATUSES), item=bad[0])


def check_notes(notes: dict[str, str]) -> None:
    unknown = sorted(set(notes) - set(PAGES))
    if unknown:
        raise AssessmentError(N_("Unknown pages %(pages)s: notes are per page %(known)s."),
                              "notes", pages=", ".join(map(str, unknown)), known=", ".join(PAGES))
    for page, text in notes.items():
        if len(text) > NOTE_LIMIT:
            raise AssessmentError(N_("The notes of page %(page)s have %(got)d characters; they "
                                     "may have at most %(most)d."), f"notes.{page}", page=page,
                                  got=len(text), most=NOTE_LIMIT)


def write(session: Session, assessment: Assessment, answers: dict[str, str],
          notes: dict[str, str]) -> None:
    """Set the given answers ("unanswered" removes one) and notes; others stay as they are."""
    by_item = {a.item_id: a for a in assessment.answers}
    for item_id, status in answers.items():
        row = by_item.get(item_id)
        if status == UNANSWERED:
            if row is not None:
                assessment.answers.remove(row)
        elif row is None:
            assessment.answers.append(AssessmentAnswer(item_id=item_id, status=status))
        else:
            row.status = status
    by_page = {n.page: n for n in assessment.notes}
    for page, text in notes.items():
        text = text.replace("\r\n", "\n")
        if page in by_page:
            by_page[page].text = text
        elif text:
            assessment.notes.append(AssessmentNote(page=page, text=text))


def create(session: Session, organisation: str = "", organisation_type: str = "",
           answers: dict[str, str] | None = None, notes: dict[str, str] | None = None
           ) -> Assessment:
    """A new assessment with these answers and notes (the organisation type pre-marks the
    items that do not apply to it, unless ``answers`` says otherwise)."""
    answers, notes = answers or {}, notes or {}
    check_answers(session, answers)
    check_notes(notes)
    assessment = assess.create(session, organisation, organisation_type)
    write(session, assessment, answers, notes)
    session.flush()
    return assessment


def patch(session: Session, assessment: Assessment, seen: int, answers: dict[str, str],
          notes: dict[str, str], fields: dict[str, str]) -> Assessment:
    """Change an assessment whose version the writer has seen; a stale version changes
    nothing and raises StaleVersion with what changed since."""
    check_answers(session, answers)
    check_notes(notes)
    if "organisation" in fields and len(fields["organisation"].strip()) > assess.ORGANISATION_LIMIT:
        raise AssessmentError(N_("The organisation's name may have at most %(most)d "
                                 "characters."), "organisation", most=assess.ORGANISATION_LIMIT)
    if fields.get("organisation_type", "") not in ("", *assess.ORGANISATION_TYPES):
        raise AssessmentError(N_("Choose an organisation type from the list."),
                              "organisation_type")
    assess.lock_for_saving(session, assessment)  # the only writer now; its version + 1
    if assessment.version - 1 != seen:
        changes = changes_since(session, assessment, seen)
        changes.version = assessment.version - 1  # this save will not be
        raise StaleVersion(seen, changes)  # the caller rolls the version back
    before_answers, before_notes = answers_of(assessment), notes_in_full(assessment)
    before_fields = {k: getattr(assessment, k) for k in fields}
    write(session, assessment, answers, notes)
    for name, value in fields.items():
        setattr(assessment, name, value.strip())
    session.flush()
    assess.log_change(session, assessment, before_answers, before_notes, before_fields)
    session.flush()
    return assessment
