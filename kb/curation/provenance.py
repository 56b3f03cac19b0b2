"""Where a practice comes from, as its page, its card and the home page's counts say it.

A handbook practice stands in the handbook's section 5.<its key area> (the extracted text
keeps no page numbers, so kb does not know its page); a curator's practice was submitted by a
curator, sent as a public suggestion, or imported -- each with the date it was submitted and
the date it was last published (from its change log).

A public suggestion also gets a private status link: a random token (192 bits) that only the
submitter is shown; the database keeps its SHA-256, so neither a copy of the database nor its
export reveals a working link.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from kb.core.models import CURATOR, HANDBOOK, PROVENANCES, Practice, PracticeChange

KINDS = PROVENANCES
TOKEN_BYTES = 24


def kind(practice: Practice) -> str:
    """handbook, curator (a curator submitted it), public (a suggestion) or import."""
    return practice.provenance


def section(practice: Practice) -> str | None:
    """The handbook's section the practice stands in: its key area's, 5.1-5.6."""
    return f"5.{practice.area_id}" if practice.source == HANDBOOK else None


def published_at(session: Session, practice_id: str) -> datetime | None:
    """When the practice was last published (or its revision approved), from its change log."""
    return session.scalar(select(func.max(PracticeChange.at)).where(
        PracticeChange.practice_id == practice_id,
        PracticeChange.action.in_(("publish", "imported", "revision_approved"))))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def of(practice: Practice) -> dict:
    """The practice's provenance (the API's `Provenance`)."""
    if practice.source == HANDBOOK:
        return {"kind": "handbook", "section": section(practice), "page": None,
                "submitted_at": None, "published_at": None}
    session = object_session(practice)
    return {"kind": kind(practice), "section": None, "page": None,
            "submitted_at": _iso(practice.created_at),
            "published_at": _iso(published_at(session, practice.id) if session else None)}


def counts(practices: list[Practice]) -> dict[str, int]:
    """How many of ``practices`` come from each source, in the order of KINDS (none left out)."""
    found = {k: 0 for k in KINDS}
    for p in practices:
        found[kind(p)] += 1
    return found


# --- a suggestion's status link ----------------------------------------------------------------

def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(practice: Practice) -> str:
    """A new secret token for ``practice``'s status link; the practice keeps only its digest."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    practice.status_token = digest(token)
    return token


def by_token(session: Session, token: str) -> Practice | None:
    """The practice whose status link ``token`` is, or None (a malformed token too)."""
    if not token or len(token) > 100 or not token.isascii():
        return None
    return session.scalar(select(Practice).where(Practice.status_token == digest(token),
                                                 Practice.source == CURATOR))
