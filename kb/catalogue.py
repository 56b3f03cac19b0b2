"""The catalogue: what practitioners read -- published practices, key areas, checklists,
references, the glossary and the quality criteria -- queried in one place for pages and API.

May import kb.core only.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select

from kb.core.models import (PRACTICE_LOADS, PUBLISHED, Area, Checklist, GlossaryTerm, Practice, PracticeCountry,
                            QualityDomain, Reference)

def published(area: int | None = None, country: str | None = None) -> Select:
    """Published practices (of ``area``, of ``country``), in the handbook's order."""
    query = select(Practice).where(Practice.status == PUBLISHED)
    if area is not None:
        query = query.where(Practice.area_id == area)
    if country:
        query = query.where(Practice.id.in_(
            select(PracticeCountry.practice_id).where(PracticeCountry.country == country)))
    return query.options(*PRACTICE_LOADS).order_by(Practice.area_id, Practice.position,
                                                  Practice.id)


def practices(session: Session, area: int | None = None, country: str | None = None,
              limit: int | None = None, offset: int = 0) -> tuple[int, list[Practice]]:
    """How many published practices match, and one page of them."""
    query = published(area, country)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return total, list(session.scalars(query.limit(limit).offset(offset)))


def practice(session: Session, practice_id: str) -> Practice | None:
    """A published practice, or None (unpublished ones are not in the catalogue)."""
    found = session.get(Practice, practice_id)
    return found if found is not None and found.status == PUBLISHED else None


def practices_in_order(session: Session, ids: list[str]) -> list[Practice]:
    """The published practices of ``ids``, in that order (an ID not published is left out)."""
    found = {p.id: p for p in session.scalars(select(Practice).where(
        Practice.id.in_(ids), Practice.status == PUBLISHED).options(*PRACTICE_LOADS))}
    return [found[i] for i in ids if i in found]


def areas(session: Session) -> list[Area]:
    return list(session.scalars(select(Area).order_by(Area.id)))


def area(session: Session, number: int) -> Area | None:
    return session.get(Area, number)


def checklists(session: Session) -> list[Checklist]:
    """Every checklist with its items: the six areas' in order, then the general one."""
    rows = session.scalars(select(Checklist).options(selectinload(Checklist.items)))
    return sorted(rows, key=lambda c: (c.area_id is None, c.area_id or 0, c.position))


def references(session: Session) -> list[Reference]:
    return list(session.scalars(select(Reference).options(selectinload(Reference.areas))
                                .order_by(Reference.position)))


def glossary(session: Session) -> list[GlossaryTerm]:
    return list(session.scalars(select(GlossaryTerm).order_by(GlossaryTerm.position)))


def criteria(session: Session) -> list[QualityDomain]:
    return list(session.scalars(select(QualityDomain).order_by(QualityDomain.id)))


def practice_countries(session: Session) -> list[str]:
    """The countries the published practices take place in (the likely ones for a new one)."""
    return list(session.scalars(
        select(PracticeCountry.country).join(Practice).where(Practice.status == PUBLISHED)
        .distinct()))
