"""Validate query parameters: coerce types, check ranges, say which parameter is wrong and why."""
from __future__ import annotations

import re

from flask_babel import get_locale
from werkzeug.datastructures import MultiDict

from kb.core.messages import N_
from kb.core.vocabulary import LANGUAGES
from kb.search.sorting import SORTS
from kb.search import FACETS, FILTER_FIELDS, Facet, Filters
from kb.search.facets import BY_NAME
from kb.web.errors import BadParameter
from kb.web.services import db

MAX_QUERY = 1000
MAX_LIMIT = 100
MAX_OFFSET = 10_000


def integer(args: MultiDict, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = args.get(name, "")
    if raw == "":
        return default
    if not re.fullmatch(r"\s*\d+\s*", raw):
        raise BadParameter(N_("%(name)s must be a whole number from %(low)d to %(high)d, got "
                              "%(got)r"), name,
                           values={"name": name, "low": low, "high": high, "got": raw[:40]})
    if len(raw.strip().lstrip("0")) > len(str(high)):  # int() of 4,300+ digits would raise
        raise BadParameter(N_("%(name)s must be from %(low)d to %(high)d, got %(got)s…"), name,
                           values={"name": name, "low": low, "high": high,
                                   "got": raw.strip()[:20]})
    value = int(raw)
    if not low <= value <= high:
        raise BadParameter(N_("%(name)s must be from %(low)d to %(high)d, got %(got)d"), name,
                           values={"name": name, "low": low, "high": high, "got": value})
    return value


def query_text(args: MultiDict) -> str:
    q = args.get("q", "")
    if len(q) > MAX_QUERY:
        raise BadParameter(N_("The query may have at most %(most)d characters; it has %(got)d."),
                           "q", values={"most": MAX_QUERY, "got": len(q)})
    return q.replace("\x00", " ")


def country(args: MultiDict) -> str | None:
    """An ISO 3166-1 alpha-2 country code (for /api/practices)."""
    return _one(args, BY_NAME["country"])


def _one(args: MultiDict, facet: Facet):
    values = _values(args, facet)
    return values[0] if values else None


def _values(args: MultiDict, facet: Facet) -> list:
    """The facet's parsed values: several comma-separated or repeated where it allows that."""
    raws = [args.get(facet.name, "")] if not facet.several else args.getlist(facet.name)
    parts = [p.strip() for raw in raws for p in (raw.split(",") if facet.several else [raw])]
    values = []
    for part in filter(None, parts):
        try:
            values.append(facet.parse(part))
        except ValueError as exc:
            raise BadParameter(N_("%(name)s: %(why)s"), facet.name,
                               values={"name": facet.name, "why": exc}) from None
    if facet.codes is not None and values:
        known = facet.codes(db())
        unknown = [v for v in values if v not in known]
        if unknown:
            listed = ", ".join(known[:60]) + (" ..." if len(known) > 60 else "")
            raise BadParameter(N_("unknown %(name)s %(got)r; use one of %(known)s"), facet.name,
                               values={"name": facet.name, "got": unknown[0], "known": listed})
    return list(dict.fromkeys(values))


def sort(args: MultiDict) -> str:
    """One of `kb.search.sorting.SORTS` (default relevance)."""
    raw = args.get("sort", "").strip() or "relevance"
    if raw not in SORTS:
        raise BadParameter(N_("sort must be one of %(known)s, got %(got)r"), "sort",
                           values={"known": ", ".join(SORTS), "got": raw[:40]})
    return raw


def language(args: MultiDict) -> str:
    """The ``lang`` asked for (lv or en; a bad one is 400), else the UI's language."""
    raw = args.get("lang", "")
    if raw and raw not in LANGUAGES:
        raise BadParameter(N_("lang must be one of %(known)s, got %(got)r"), "lang",
                           values={"known": ", ".join(LANGUAGES), "got": raw[:20]})
    return raw or str(get_locale())


def filters(args: MultiDict) -> Filters:
    """The search's filters: one parameter per facet of the registry (kb.search.facets)."""
    return Filters(**{name: tuple(_values(args, f)) if f.several else _one(args, f)
                      for name, f in zip(FILTER_FIELDS, FACETS)})


def paging(args: MultiDict, default_limit: int = 10) -> tuple[int, int]:
    return (integer(args, "limit", default_limit, 1, MAX_LIMIT),
            integer(args, "offset", 0, 0, MAX_OFFSET))
