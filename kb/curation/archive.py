"""A practice's whole record beyond its fields, for `kb export --all` and `kb import`.

`kb export --all` writes, besides each practice's schema fields (`schema.PracticeRecord`):

- ``record``: its review status and reason, who submitted it and via what, its timestamps, the
  curators' correction note and hiding, its quality verdict, its position and the digest of a
  suggestion's status link -- every column of `Practice` that is not a schema field;
- ``scores``: the curators' quality scores, indicator by indicator;
- ``history``: its change log, oldest first;
- ``revision``: the revision waiting for review, if any;

and a line for every curator the records name (``"kind": "curator"``: email, admin, active,
created -- never a password hash). Curators are named by email, so a record means the same
in another database.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kb.core.models import (REVIEW_STATUSES, HIDDEN, Curator, Practice, PracticeChange,
                            PracticeRevision, QualityScore)
from kb.curation.schema import REASON_LIMIT, column_length

Email = Annotated[str, Field(min_length=3, max_length=column_length(Curator, "email"))]
SCORE_VALUES = ("met", "partly", "not_met", "unknown")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Record(_Strict):
    """The columns of a practice that are not schema fields."""

    status: Literal[(*REVIEW_STATUSES, HIDDEN)]
    position: int = 0
    submitted_via: Annotated[str, Field(max_length=column_length(Practice, "submitted_via"))] = ""
    submitted_by: Email | None = None
    created_at: datetime
    updated_at: datetime
    review_reason: str = ""
    correction_note: str = ""
    hidden_at: datetime | None = None
    hidden_by: Email | None = None
    hidden_reason: str = ""
    quality_overall: float | None = None
    good_practice: bool = False
    status_token: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    # kb's English rendering of a handbook practice (`kb ingest` writes it; "" for the rest)
    text_en: str = ""
    organisation_en: Annotated[str, Field(max_length=column_length(Practice,
                                                                   "organisation_en"))] = ""


class Score(_Strict):
    indicator: Annotated[str, Field(max_length=column_length(QualityScore, "indicator_id"))]
    value: Literal[SCORE_VALUES]
    curator: Email | None = None
    updated_at: datetime


class Change(_Strict):
    at: datetime
    action: Annotated[str, Field(min_length=1, max_length=column_length(PracticeChange,
                                                                         "action"))]
    curator: Email | None = None
    fields: dict = {}
    reason: Annotated[str, Field(max_length=REASON_LIMIT * 10)] = ""


class Revision(_Strict):
    proposed_by: Email
    proposed_at: datetime
    proposed: dict
    base: dict


class Archive(BaseModel):
    """The whole-record part of a line of `kb export --all`."""

    model_config = ConfigDict(extra="ignore")

    record: Record
    scores: list[Score] = []
    history: list[Change] = []
    revision: Revision | None = None

    def emails(self) -> set[str]:
        """The curators this record names."""
        found = {self.record.submitted_by, self.record.hidden_by,
                 *(s.curator for s in self.scores), *(c.curator for c in self.history),
                 self.revision.proposed_by if self.revision else None}
        return {e for e in found if e}


class CuratorLine(_Strict):
    """A curator a record names (`"kind": "curator"`); never a password."""

    kind: Literal["curator"]
    email: Email
    is_admin: bool = False
    active: bool = True
    created_at: datetime


RECORD_COLUMNS = tuple(name for name in Record.model_fields
                       if name not in ("submitted_by", "hidden_by"))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class Related:
    """Every practice's scores, change log and revision, read in three queries (not three a
    practice: an export of 50,000 practices is three statements, not 150,000)."""

    def __init__(self, session: Session):
        self.scores: dict[str, list[QualityScore]] = defaultdict(list)
        self.history: dict[str, list[PracticeChange]] = defaultdict(list)
        for s in session.scalars(select(QualityScore).order_by(QualityScore.practice_id,
                                                               QualityScore.indicator_id)):
            self.scores[s.practice_id].append(s)
        for c in session.scalars(select(PracticeChange).order_by(PracticeChange.at,
                                                                 PracticeChange.id)):
            self.history[c.practice_id].append(c)
        self.revisions = {r.practice_id: r for r in session.scalars(select(PracticeRevision))}


def of(related: Related, practice: Practice, emails: dict[int, str]) -> dict:
    """The whole-record part of ``practice``'s line (JSON-ready)."""
    record = {name: getattr(practice, name) for name in RECORD_COLUMNS}
    record.update(submitted_by=emails.get(practice.submitted_by),
                  hidden_by=emails.get(practice.hidden_by),
                  good_practice=bool(practice.good_practice))
    scores = related.scores.get(practice.id, [])
    history = related.history.get(practice.id, [])
    revision = related.revisions.get(practice.id)
    return Archive.model_validate({
        "record": record,
        "scores": [{"indicator": s.indicator_id, "value": s.value,
                    "curator": emails.get(s.curator_id), "updated_at": s.updated_at}
                   for s in scores],
        "history": [{"at": c.at, "action": c.action, "curator": emails.get(c.curator_id),
                     "fields": c.fields or {}, "reason": c.reason or ""} for c in history],
        "revision": {"proposed_by": emails.get(revision.proposed_by),
                     "proposed_at": revision.proposed_at, "proposed": revision.proposed,
                     "base": revision.base} if revision else None,
    }).model_dump(mode="json")


def curator_line(curator: Curator) -> dict:
    return CuratorLine(kind="curator", email=curator.email, is_admin=curator.is_admin,
                       active=curator.active, created_at=curator.created_at).model_dump(mode="json")


def restore(session: Session, practice: Practice, archive: Archive, ids: dict[str, int]) -> None:
    """Make ``practice``'s record, scores, change log and revision ``archive``'s (``ids``:
    curator email -> id in this database). Its fields are set already."""
    record = archive.record
    for name in RECORD_COLUMNS:
        if name != "updated_at":
            setattr(practice, name, getattr(record, name))
    practice.submitted_by = ids.get(record.submitted_by)
    practice.hidden_by = ids.get(record.hidden_by)
    for model in (QualityScore, PracticeChange, PracticeRevision):
        session.execute(delete(model).where(model.practice_id == practice.id))
    session.add_all(QualityScore(practice_id=practice.id, indicator_id=s.indicator,
                                 value=s.value, curator_id=ids.get(s.curator),
                                 updated_at=s.updated_at) for s in archive.scores)
    session.add_all(PracticeChange(practice_id=practice.id, at=c.at, action=c.action,
                                   curator_id=ids.get(c.curator), fields=c.fields,
                                   reason=c.reason) for c in archive.history)
    if archive.revision is not None:
        r = archive.revision
        session.add(PracticeRevision(practice_id=practice.id, proposed_by=ids[r.proposed_by],
                                     proposed_at=r.proposed_at, proposed=r.proposed, base=r.base))
    session.flush()
    practice.updated_at = record.updated_at  # last: writing the others would renew it
    session.flush()
