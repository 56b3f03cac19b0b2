"""The orders a search's results are listed in: one declaration, both backends.

``relevance`` is the fused ranking (the handbook's order for an empty query); the others
re-order the results by one attribute and keep the relevance order among equals (Python's sort
is stable): ``quality`` (best-scored first, unscored last), ``title`` (A-Z in the language
asked for, diacritics folded), ``country`` (A-Z by the name of the first country, in that
language; records without a country last) and ``newest`` (date added, newest first; records
that are not practices last).
"""
from __future__ import annotations

from typing import Callable, NamedTuple, TypeVar

from kb.core.vocabulary import LANGUAGES, country_name, fold
from kb.search.documents import Document

SORTS = ("relevance", "quality", "title", "country", "newest")
Item = TypeVar("Item")


class Sortable(NamedTuple):
    """What the orders read of a document (the postgres backend reads only these columns)."""

    title: str
    title_en: str
    countries: tuple[str, ...]
    added: str
    quality: float | None


def sortable(doc: Document) -> Sortable:
    return Sortable(doc.title, doc.title_en, tuple(doc.countries), doc.added, doc.quality)


def check(sort: str, lang: str) -> None:
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")


def _text(text: str) -> tuple[str, str]:
    return fold(text), text.casefold()


def ordered(items: list[Item], sort: str, lang: str,
            sortable_of: Callable[[Item], Sortable]) -> list[Item]:
    """``items`` (in relevance order) in the order ``sort`` names; ``sortable_of`` reads what
    the order needs of each."""
    check(sort, lang)
    if sort == "relevance":
        return list(items)
    if sort == "quality":
        return sorted(items, key=lambda i: -(sortable_of(i).quality or -1.0))
    if sort == "title":
        def title(i):
            s = sortable_of(i)
            return _text((s.title_en if lang == "en" else "") or s.title)
        return sorted(items, key=title)
    if sort == "country":
        def country(i):
            countries = sortable_of(i).countries
            return (not countries, _text(country_name(countries[0], lang)) if countries else ())
        return sorted(items, key=country)
    return sorted(items, key=lambda i: sortable_of(i).added, reverse=True)  # newest; stable
