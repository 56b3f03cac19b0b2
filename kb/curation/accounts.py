"""Curator accounts: hashed passwords, and counters that throttle logins and suggestions.

A counter is changed by one statement that also returns the new count (INSERT ... ON CONFLICT
DO UPDATE ... RETURNING, on SQLite >= 3.35 and PostgreSQL), so requests at the same moment never
read the same count: a limit checked against what `hit` returns lets exactly that many through.
"""
from __future__ import annotations

import re
import secrets
from functools import lru_cache
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from kb.core.models import Curator, RateCounter

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
LOGIN_WINDOW = timedelta(minutes=15)
NO_PASSWORD = "!"  # the password hash of an account `kb import` made: no password matches it
ADDRESS_FACTOR = 4  # failed logins per address, over all accounts: this many times the limit
STRIKES_WINDOW = timedelta(days=1)  # lock-outs remembered this long for the back-off
MAX_WINDOW = timedelta(days=1)


class AccountError(ValueError):
    pass


def add_curator(session: Session, email: str, password: str, admin: bool = False) -> Curator:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise AccountError(f"not an email address: {email!r}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    existing = session.scalar(select(Curator).where(Curator.email == email))
    if existing is not None and existing.password_hash == NO_PASSWORD and not existing.active:
        # An account `kb import` made to hold a curator's name: it gets its password now.
        existing.password_hash = generate_password_hash(password)
        existing.active, existing.is_admin = True, admin or existing.is_admin
        session.flush()
        return existing
    if existing is not None:
        raise AccountError(f"a curator with the email {email} exists already")
    curator = Curator(email=email, password_hash=generate_password_hash(password), is_admin=admin)
    session.add(curator)
    session.flush()
    return curator


def end_sessions(session: Session, curator: Curator) -> None:
    """Every session of ``curator`` stops working (the session version is part of its id)."""
    curator.session_version = (curator.session_version or 0) + 1
    session.flush()


def deactivate(session: Session, email: str) -> Curator:
    """Refuse ``email`` from now on and end its sessions."""
    curator = session.scalar(select(Curator).where(Curator.email == email.strip().lower()))
    if curator is None:
        raise AccountError(f"no curator with the email {email.strip().lower()}")
    curator.active = False
    end_sessions(session, curator)
    return curator


def authenticate(session: Session, email: str, password: str) -> Curator | None:
    curator = session.scalar(select(Curator).where(Curator.email == email.strip().lower()))
    if curator is None or not curator.active:
        # One hash check, as for a known email: the answer's time does not tell which exist.
        check_password_hash(_dummy_hash(), password)
        return None
    return curator if check_password_hash(curator.password_hash, password) else None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def backoff(session: Session, strikes_key: str) -> timedelta:
    """The login window after ``strikes_key``'s lock-outs: 15 minutes, doubled for each
    earlier lock-out in the last day (at most a day)."""
    strikes = count(session, strikes_key, STRIKES_WINDOW)
    return min(LOGIN_WINDOW * 2 ** max(strikes - 1, 0), MAX_WINDOW)


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


def undo(session: Session, key: str) -> None:
    """Take back one event counted for ``key`` (it turned out not to count)."""
    session.execute(update(RateCounter).where(RateCounter.key == key, RateCounter.count > 0)
                    .values(count=RateCounter.count - 1))


def clear(session: Session, key: str) -> None:
    session.execute(delete(RateCounter).where(RateCounter.key == key))


def _insert(session: Session, table):
    """An INSERT that can say ON CONFLICT, in the session's database's dialect."""
    name = session.get_bind().dialect.name
    dialects = {"postgresql": postgresql, "sqlite": sqlite}
    if name not in dialects:
        raise NotImplementedError(f"kb counts rate limits on SQLite and PostgreSQL, not {name}")
    return dialects[name].insert(table)
