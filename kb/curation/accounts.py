"""Curator accounts: hashed passwords, and counters that throttle logins and suggestions.

A counter is changed by one statement that also returns the new count (INSERT ... ON CONFLICT
DO UPDATE ... RETURNING, on SQLite >= 3.35 and PostgreSQL), so requests at the same moment never
read the same count: a limit checked against what `hit` returns lets exactly that many through.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from kb.core.models import Curator, RateCounter

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
LOGIN_WINDOW = timedelta(minutes=15)


class AccountError(ValueError):
    pass


def add_curator(session: Session, email: str, password: str, admin: bool = False) -> Curator:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise AccountError(f"not an email address: {email!r}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    if session.scalar(select(Curator).where(Curator.email == email)):
        raise AccountError(f"a curator with the email {email} exists already")
    curator = Curator(email=email, password_hash=generate_password_hash(password), is_admin=admin)
    session.add(curator)
    session.flush()
    return curator


def authenticate(session: Session, email: str, password: str) -> Curator | None:
    curator = session.scalar(select(Curator).where(Curator.email == email.strip().lower()))
    if curator is None or not curator.active:
        check_password_hash(generate_password_hash("x"), password)  # same time either way
        return None
    return curator if check_password_hash(curator.password_hash, password) else None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def count(session: Session, key: str, window: timedelta) -> int:
    """Events counted for ``key`` in the current window (a quick look: `hit` decides)."""
    row = session.execute(select(RateCounter.window_start, RateCounter.count)
                          .where(RateCounter.key == key)).first()
    if row is None or _now() - _aware(row.window_start) > window:
        return 0
    return row.count


def hit(session: Session, key: str, window: timedelta) -> int:
    """Count one event for ``key``; return the count in the current window, this one included.

    The counter's row stays locked until the transaction ends (on SQLite, the database's write
    lock), so a caller that rolls back over the limit leaves the count as it was.
    """
    now = _now()
    table = RateCounter.__table__
    over = table.c.window_start < now - window
    statement = _insert(session, table).values(key=key, window_start=now, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"count": case((over, 1), else_=table.c.count + 1),
              "window_start": case((over, now), else_=table.c.window_start)})
    return session.execute(statement.returning(table.c.count)).scalar_one()


def clear(session: Session, key: str) -> None:
    session.execute(delete(RateCounter).where(RateCounter.key == key))


def _insert(session: Session, table):
    """An INSERT that can say ON CONFLICT, in the session's database's dialect."""
    name = session.get_bind().dialect.name
    dialects = {"postgresql": postgresql, "sqlite": sqlite}
    if name not in dialects:
        raise NotImplementedError(f"kb counts rate limits on SQLite and PostgreSQL, not {name}")
    return dialects[name].insert(table)
