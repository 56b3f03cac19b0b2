"""What a search returns: small value types (bm25s' `Results`)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from kb.search.documents import DocKey
from kb.search.facets import FACETS, Filters  # noqa: F401 - a search's filters come with it


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
    snippet_en: str = ""  # the snippet of the English text ("" when it has none), for English UIs
    source: str = ""  # a practice's provenance (Document.source)


class Results(NamedTuple):
    query: str
    total: int                               # the results: candidates that match the query
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    closest: Sequence[Hit] = ()              # when nothing matches: the nearest misses
    suggestion: str = ""                     # when nothing matches: a respelling that does
