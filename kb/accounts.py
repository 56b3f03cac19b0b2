"""Curator accounts: hashed passwords, and counters that throttle logins and suggestions."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from kb.models import Curator, RateCounter

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
    """Events counted for ``key`` in the current window."""
    row = session.get(RateCounter, key)
    if row is None or _now() - _aware(row.window_start) > window:
        return 0
    return row.count


def hit(session: Session, key: str, window: timedelta) -> int:
    """Count one event for ``key``; return the count in the current window."""
    row = session.get(RateCounter, key)
    if row is None:
        row = RateCounter(key=key, window_start=_now(), count=0)
        session.add(row)
    elif _now() - _aware(row.window_start) > window:
        row.window_start, row.count = _now(), 0
    row.count += 1
    session.flush()
    return row.count


def clear(session: Session, key: str) -> None:
    row = session.get(RateCounter, key)
    if row is not None:
        session.delete(row)
        session.flush()
