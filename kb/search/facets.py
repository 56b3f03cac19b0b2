"""The facets: one declaration each, from which everything about filtering follows.

A `Facet` says which document attribute it reads, whether a document has one value or several,
whether a filter may select several values (any of them: OR within a facet, AND across facets),
how a parameter is parsed and checked, its label and its API schema. From `FACETS` follow the
`Filters` type and its `accepts`, the lexical index's fields and filter query, the facet counts,
the web's parameter parsing, the OpenAPI parameters, the CLI's options and the facet list on
the search page (in the manner of datasette's filters and facets registries).

Adding a facet: declare it here, and give documents the attribute it reads
(`kb.search.documents`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass, replace
from typing import Any, Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.core.models import Activity, Need, SuccessFactor
from kb.core.messages import N_, DomainError
from kb.core.vocabulary import COUNTRIES, TARGET_GROUPS
from kb.search.documents import TYPES, Document


@dataclass(frozen=True)
class Facet:
    name: str                  # the parameter, the facet's key in results, the lexical field
    attribute: str             # the Document attribute it reads
    label: str                 # English; translated where shown
    help: str                  # what the parameter does (OpenAPI, CLI --help)
    schema: dict               # the parameter's JSON schema (OpenAPI)
    multi: bool = False        # a document has several values (areas, countries, needs)
    several: bool = False      # a filter may select several values (any of them: OR)
    parse: Callable[[str], Any] = str.strip  # raw text -> value; ValueError says what is wrong
    codes: Callable[[Session], list[str]] | None = None  # the values there are, to check against
    derive: Callable[[Any], tuple[str, ...]] | None = None  # attribute -> values, when not plain

    def values(self, doc: Document) -> tuple[str, ...]:
        """The values a document has for this facet, as text."""
        raw = getattr(doc, self.attribute)
        if self.derive is not None:
            return self.derive(raw)
        if self.multi:
            return tuple(str(v) for v in raw)
        return (str(raw),) if raw not in (None, "") else ()


def _type(raw: str) -> str:
    if raw not in TYPES:
        raise DomainError(N_("unknown type %(got)r; use one of %(known)s"), got=raw,
                          known=", ".join(TYPES))
    return raw


def _country(raw: str) -> str:
    code = raw.strip().upper()
    if code not in COUNTRIES:
        raise DomainError(N_("must be an ISO 3166-1 alpha-2 code such as PL, got %(got)r"),
                          got=raw)
    return code


def _area(raw: str) -> int:
    text = raw.strip()
    if not text.isdigit() or len(text) > 3 or not 1 <= int(text) <= AREAS:
        raise DomainError(N_("must be a key area from 1 to %(n)d, got %(got)r"), n=AREAS,
                          got=raw[:20])
    return int(text)


def _quality(raw: str) -> str:
    if raw.strip() != "good":
        raise DomainError(N_("must be \"good\", got %(got)r"), got=raw[:20])
    return "good"


def _target_group(raw: str) -> str:
    if raw.strip() not in TARGET_GROUPS:
        raise DomainError(N_("must be one of %(known)s, got %(got)r"),
                          known=", ".join(TARGET_GROUPS), got=raw[:30])
    return raw.strip()


def _ongoing(raw: str) -> str:
    if raw.strip() != "yes":
        raise DomainError(N_("must be \"yes\", got %(got)r"), got=raw[:20])
    return "yes"


def _codes(key, *order) -> Callable[[Session], list[str]]:
    return lambda session: list(session.scalars(select(key).order_by(*order)))


AREAS = 6  # the handbook's key areas

def _several(item: dict, pattern: str | None = None) -> dict:
    """The schema of a parameter that may be repeated (``country=LV&country=DE``): each value
    ``item``, or -- ``pattern`` -- a comma-separated list of them (the server takes comma lists
    of every facet that selects several; the document says so where a pattern can)."""
    return {"type": "array", "items": {"type": "string", "pattern": pattern} if pattern else item}


FACETS: tuple[Facet, ...] = (
    Facet("type", "type", N_("Record type"), "Record type (repeat or comma-separate for "
          "several); default all.",
          _several({}, f"^({'|'.join(TYPES)})(,({'|'.join(TYPES)}))*$"),
          several=True, parse=_type),
    Facet("area", "areas", N_("Key area"), f"Key area 1-{AREAS} (repeat or comma-separate for "
          "any of several).", _several({"type": "integer", "minimum": 1, "maximum": AREAS}),
          multi=True, several=True, parse=_area),
    Facet("country", "countries", N_("Country"), "ISO 3166-1 alpha-2 country code (repeat or "
          "comma-separate for any of several).",
          _several({"type": "string", "enum": sorted(COUNTRIES | {c.lower() for c in COUNTRIES})}),
          multi=True, several=True, parse=_country),
    Facet("factor", "factor", N_("Success factor"), "Success factor ID (repeat for any of "
          "several).", _several({"type": "string"}), several=True,
          codes=_codes(SuccessFactor.id, SuccessFactor.area_id, SuccessFactor.position)),
    Facet("need", "needs", N_("Need"), "Need code, see corpus/needs.toml (repeat for any of "
          "several).", _several({"type": "string"}), multi=True, several=True,
          codes=_codes(Need.code, Need.position)),
    Facet("activity", "activities", N_("Activity"),
          "Activity code, see corpus/activities.toml (repeat for any of several).",
          _several({"type": "string"}), multi=True, several=True,
          codes=_codes(Activity.code, Activity.position)),
    Facet("quality", "good_practice", N_("Quality"),
          "Only practices curators scored a good practice.", {"type": "string", "enum": ["good"]},
          parse=_quality, derive=lambda good: ("good",) if good else ()),
    # The practice template's (kb.curation.schema): who a practice is for; whether it runs.
    Facet("target", "target_groups", N_("Target group"),
          "Target group code (kb/core/vocabulary.py TARGET_GROUPS).",
          {"type": "string", "enum": list(TARGET_GROUPS)}, multi=True, parse=_target_group),
    Facet("ongoing", "ongoing", N_("Ongoing"), "Only practices still running.",
          {"type": "string", "enum": ["yes"]}, parse=_ongoing,
          derive=lambda ongoing: ("yes",) if ongoing else ()),
)
BY_NAME = {f.name: f for f in FACETS}


class _FiltersBase:
    """What a search is restricted to: for each facet the values a document may have (any of
    them) -- a tuple for a facet that selects several, else one value or None -- and AND
    across facets. A single value given for a facet that selects several is one value:
    ``Filters(country="LV")`` is ``Filters(country=("LV",))``."""

    def __post_init__(self):
        for f in FACETS:
            if f.several:
                value = getattr(self, _field(f))
                if value is None or value == "":
                    value = ()
                elif isinstance(value, (str, int)):
                    value = (value,)
                object.__setattr__(self, _field(f), tuple(value))

    def selected(self) -> Iterator[tuple[Facet, tuple[str, ...]]]:
        """Each facet that restricts, with the values (as text) a document may have."""
        for f in FACETS:
            value = getattr(self, _field(f))
            if f.several and value:
                yield f, tuple(str(v) for v in value)
            elif not f.several and value not in (None, ""):
                yield f, (str(value),)

    def accepts(self, doc: Document) -> bool:
        return all(not set(f.values(doc)).isdisjoint(values) for f, values in self.selected())

    def without(self, name: str):
        """These filters with facet ``name``'s selection taken away."""
        f = BY_NAME[name]
        return replace(self, **{_field(f): () if f.several else None})

    @property
    def empty(self) -> bool:
        return next(self.selected(), None) is None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, _field(f)) for f in FACETS}


def counts_that_follow(filters, counts: dict[str, dict[str, int]],
                       count: Callable[[Any], dict[str, dict[str, int]]]
                       ) -> dict[str, dict[str, int]]:
    """Facet counts as a faceted search shows them: a facet that restricts is counted with the
    other facets' filters applied but not its own (``count(filters.without(name))``), so its
    counts say what choosing one more of its values would add; the rest are ``counts``, of
    the results themselves. Both search backends count this way."""
    followed = dict(counts)
    for f, _ in filters.selected():
        followed[f.name] = count(filters.without(f.name))[f.name]
    return followed


def _field(f: Facet) -> str:
    return "types" if f.name == "type" else f.name


Filters = make_dataclass(
    "Filters", [(_field(f), Any, field(default=() if f.several else None)) for f in FACETS],
    bases=(_FiltersBase,), frozen=True, namespace={"__module__": __name__})
Filters.__doc__ = _FiltersBase.__doc__
FILTER_FIELDS = tuple(f.name for f in fields(Filters))
