"""The search change log: every change to a searchable record since the last `kb index`.

A row is written in the same transaction as the record change it follows, so a publish is in
the log exactly when it is in the database -- whatever kills the process, at whatever step.
Writers take one lock (PostgreSQL: an advisory lock held to commit; SQLite serialises writers
itself), so sequence numbers follow commit order and a reader that has seen row n has seen
every row before it.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import NamedTuple

import numpy as np
from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kb.core.models import SearchChange
from kb.search.documents import DocKey, Document

WRITER_LOCK = 0x6B62_5345  # PostgreSQL advisory lock of change-log writers ("kbSE")
KEEP = timedelta(hours=1)   # rows a newer build covers are deleted after this


class Row(NamedTuple):
    seq: int
    key: DocKey
    document: Document | None
    embedder: str
    vectors: np.ndarray | None


def record(session: Session, key: DocKey, document: Document | None, embedder: str = "",
           vectors: np.ndarray | None = None) -> None:
    """Log that ``key`` is now ``document`` (None: removed), in the session's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK})
    blob = None
    if vectors is not None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        blob = vectors.tobytes()
    session.add(SearchChange(key=str(key), document=document.to_json() if document else None,
                             embedder=embedder if blob is not None else "",
                             dim=int(vectors.shape[1]) if blob is not None else 0, vectors=blob))
    session.flush()


def last_seq(connection: Connection | Session) -> int:
    """The newest row's number (0 when the log is empty)."""
    return int(connection.execute(select(func.coalesce(func.max(SearchChange.seq), 0))).scalar())


def since(connection: Connection, seq: int, limit: int = 5000) -> list[Row]:
    """Rows after ``seq``, oldest first (at most ``limit``)."""
    rows = connection.execute(
        select(SearchChange.seq, SearchChange.key, SearchChange.document, SearchChange.embedder,
               SearchChange.dim, SearchChange.vectors)
        .where(SearchChange.seq > seq).order_by(SearchChange.seq).limit(limit))
    return [Row(r.seq, DocKey.parse(r.key),
                Document.from_json(r.document) if r.document else None, r.embedder,
                np.frombuffer(r.vectors, dtype=np.float32).reshape(-1, r.dim)
                if r.vectors and r.dim else None)
            for r in rows]


def prune(session: Session, covered: int) -> int:
    """Delete rows that a build covers (up to ``covered``) once they are an hour old."""
    cutoff = datetime.now(timezone.utc) - KEEP
    result = session.execute(delete(SearchChange).where(SearchChange.seq <= covered,
                                                        SearchChange.at < cutoff))
    return result.rowcount or 0
