"""Lookups that answer 404 (pages and API alike) when the record is not in the catalogue."""
from __future__ import annotations

from kb import catalogue
from kb.core.messages import N_
from kb.core.models import Area, Practice
from kb.web.errors import NotFound
from kb.web.services import db


def get_practice(practice_id: str) -> Practice:
    """A published practice, or 404."""
    found = catalogue.practice(db(), practice_id)
    if found is None:
        raise NotFound(N_("There is no practice %(id)r."), "id", values={"id": practice_id})
    return found


def get_area(number: int) -> Area:
    """A key area, or 404."""
    found = catalogue.area(db(), number) if 1 <= number <= 1_000_000 else None
    if found is None:
        raise NotFound(N_("There is no key area %(n)d; the areas are 1 to 6."), "n",
                       values={"n": number})
    return found
