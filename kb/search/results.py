"""What a search returns, and the filters it takes: small value types (bm25s' `Results`)."""
from __future__ import annotations

from typing import NamedTuple

from kb.search.documents import DocKey, Document

FACETS = ("type", "area", "country", "factor", "need", "activity", "quality")


class Hit(NamedTuple):
    key: DocKey
    type: str
    record_id: str
    title: str
    title_en: str
    snippet: str
    score: float
    areas: tuple[int, ...]
    countries: tuple[str, ...]
    factor: str
    needs: tuple[str, ...]
    activities: tuple[str, ...]
    retrievers: tuple[str, ...]


class Results(NamedTuple):
    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]


class Filters(NamedTuple):
    types: tuple[str, ...] = ()
    area: int | None = None
    country: str | None = None
    factor: str | None = None
    need: str | None = None
    quality: str | None = None  # "good": only practices scored good practice
    activity: str | None = None

    def accepts(self, doc: Document) -> bool:
        return ((not self.types or doc.type in self.types)
                and (self.area is None or self.area in doc.areas)
                and (not self.country or self.country in doc.countries)
                and (not self.factor or self.factor == doc.factor)
                and (not self.need or self.need in doc.needs)
                and (not self.quality or doc.good_practice)
                and (not self.activity or self.activity in doc.activities))

    @property
    def empty(self) -> bool:
        return self == Filters()
