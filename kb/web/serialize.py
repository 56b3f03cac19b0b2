"""Records as JSON: one shape for the API and for every page's JSON twin.

Each shape is a pydantic model -- the OpenAPI document is generated from them -- read from the
records' attributes; the ``*_json`` functions are what views call. A practice's fields come
from the practice schema (`kb.curation.schema`), with the API's names (``country``) and null
for an empty text.
"""
from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import (AliasGenerator, BaseModel, BeforeValidator, ConfigDict, Field,
                      ValidationError, field_serializer)

from kb import search
from kb.core import models
from kb.core.models import CURATOR, HANDBOOK, REVIEW_STATUSES
from kb.curation import provenance, schema

Blank = BeforeValidator(lambda value: value or None)  # an empty text is null
Ids = BeforeValidator(lambda records: [r.id for r in records])


class Shape(BaseModel):
    """A JSON shape: read from a record's attributes; every field is always present."""

    model_config = ConfigDict(from_attributes=True,
                              json_schema_serialization_defaults_required=True)

    def jsonable(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def of(cls, record) -> dict:
        """``record`` (an ORM row, a search hit, ...) in this shape, as JSON-ready data."""
        return cls.model_validate(record).jsonable()


# --- practices -----------------------------------------------------------------------------------

class Quality(Shape):
    overall: float | None = Field(description="Overall quality score in percent.")
    good_practice: bool


class Provenance(Shape):
    """Where a practice comes from: the handbook (its section), a curator's submission or a
    public suggestion (with the dates it was submitted and published)."""

    kind: Literal["handbook", "curator", "public", "import"]
    section: str | None = Field(description="The handbook's section, e.g. \"5.2\".")
    page: int | None = Field(description="The handbook's page, when kb knows it.")
    submitted_at: str | None = Field(description="ISO 8601; null for the handbook's.")
    published_at: str | None = Field(description="ISO 8601: when it was last published.")


class PracticeShown(Shape):
    """What the API adds to a practice's schema fields (a curator's contact and source note
    are never shown)."""

    model_config = ConfigDict(alias_generator=AliasGenerator(
        serialization_alias=lambda name: {"countries": "country"}.get(name, name)))

    id: str
    success_factor_name: str | None
    success_factor_name_en: str | None
    source: Literal[HANDBOOK, CURATOR]
    provenance: Provenance
    quality: Quality
    organisation_en: Annotated[str | None, Blank] = Field(description=(
        "The organisation's name in kb's English rendering (handbook practices)."))

    @field_serializer("title_en", "organisation", "city", "summary_en", "funding_source",
                      "funding_band", "challenge", "how_it_works", "results", "evaluation",
                      "transferability", "public_contact", check_fields=False)
    def _blank_is_null(self, text: str) -> str | None:
        return text or None


class PracticeSummary(PracticeShown, schema.PracticeHeading):
    """A practice in a list of them."""


class Practice(PracticeShown, schema.PracticeTemplate):
    """A practice with its description, web addresses and the whole template."""

    text_en: Annotated[str | None, Blank] = Field(description=(
        "A handbook practice's whole description in kb's English rendering of the Latvian "
        "edition (corpus/practices_en_text.toml, written by `kb ingest`); null for curators' "
        "practices and for a handbook practice still without one."))

    correction_note: Annotated[str | None, Blank] = Field(
        description="The curators' correction note (reviewed by a second curator; for a "
                    "handbook practice, kept by `kb ingest` beside the handbook's text).")


def practice_json(p: models.Practice, full: bool = True) -> dict:
    factor = p.success_factor
    shape = Practice if full else PracticeSummary
    return shape.model_validate({
        **schema.read(p), "id": p.id, "source": p.source, "provenance": provenance.of(p),
        "success_factor_name": factor.name if factor else None,
        "success_factor_name_en": (factor.name_en or None) if factor else None,
        "quality": {"overall": p.quality_overall, "good_practice": bool(p.good_practice)},
        "correction_note": p.correction_note, "text_en": p.text_en,
        "organisation_en": p.organisation_en,
    }).jsonable()


class QueueEntry(PracticeSummary):
    status: Literal[REVIEW_STATUSES]
    submitted_via: str
    submitted_by: int | None
    review_reason: str | None


class Queue(Shape):
    """The review queue, by status."""

    pending: list[QueueEntry]
    changes_requested: list[QueueEntry]
    published: list[QueueEntry]
    rejected: list[QueueEntry]


class SuggestionStatus(Shape):
    """What became of a public suggestion (its private status link)."""

    id: str
    title: str
    status: Literal[REVIEW_STATUSES]
    reason: str | None = Field(description="The curators' reason, when they rejected it or "
                                           "asked for changes.")
    submitted_at: str
    url: str | None = Field(description="Its public page, once published.")


def suggestion_status_json(p: models.Practice) -> dict:
    from flask import url_for
    published = p.status == models.PUBLISHED
    return SuggestionStatus.model_validate({
        "id": p.id, "title": p.title, "status": p.status,
        "reason": (p.review_reason or None) if p.status in (models.REJECTED,
                                                           models.CHANGES_REQUESTED) else None,
        "submitted_at": p.created_at.isoformat(),
        "url": url_for("main.practice", practice_id=p.id) if published else None}).jsonable()


class PracticeList(Shape):
    total: int
    results: list[Practice]


# --- search --------------------------------------------------------------------------------------

class Hit(Shape):
    """A search result (kb.search.Hit)."""

    id: str = Field(validation_alias="record_id")
    type: Literal[search.TYPES]
    title: str
    title_en: Annotated[str | None, Blank]
    snippet: str = Field(description="HTML: the text escaped, matches in <mark>.")
    snippet_en: Annotated[str | None, Blank] = Field(description=(
        "HTML: the same for the English text (kb's English rendering of the Latvian edition, "
        "else the English wording); null when the record has no English text."))
    score: float
    area: Annotated[int | None, BeforeValidator(lambda areas: areas[0] if len(areas) == 1
                                                else None),
                    Field(validation_alias="areas", description="The key area, when it has one.")]
    areas: list[int]
    country: list[str] = Field(validation_alias="countries")
    success_factor: Annotated[str | None, Blank] = Field(validation_alias="factor")
    needs: list[str]
    activities: list[str]
    retrievers: list[Literal["lexical", "dense"]]
    source: Annotated[Literal[models.PROVENANCES] | None, Blank] = Field(
        description="A practice's provenance: handbook, curator, public (a suggestion) or "
                    "import; null for other records.")


hit_json = Hit.of  # kb.search.Hit


class SearchResults(Shape):
    query: str
    total: int = Field(description="How many records match the query (results, not candidates).")
    results: list[Hit] = Field(validation_alias="hits")
    facets: dict[str, dict[str, int]] = Field(description="Counts per facet and value.")
    closest: list[Hit] = Field(default_factory=list, description=(
        "When nothing matches: the nearest records (at most 5), which do not match the "
        "query's words; never counted in total."))


search_json = SearchResults.of  # kb.search.Results: the API's and `kb search --json`'s


class ExportedPractice(Practice):
    """A practice in an export: the API's practice, and when it was added."""

    added: str = Field(description="When it was added, UTC (\"2026-05-04T10:30:00Z\"); "
                                   "sort=newest orders by it.")


class SearchExport(Shape):
    """Every practice a search finds, all pages, in its order (`/api/search/export`)."""

    query: str
    filters: dict[str, list[str]] = Field(description="The filters that restrict, by facet.")
    sort: str
    total: int
    results: list[ExportedPractice]


# --- the handbook's records ----------------------------------------------------------------------

class ChecklistItem(Shape):
    id: str
    text: str
    text_en: Annotated[str | None, Blank]


class Checklist(Shape):
    area: int | None = Field(validation_alias="area_id", description="null: the general checklist")
    checklist: str = Field(validation_alias="id")
    title: str
    title_en: Annotated[str | None, Blank]
    introduction: Annotated[str | None, Blank]
    note: Annotated[str | None, Blank]
    introduction_en: Annotated[str | None, Blank]
    note_en: Annotated[str | None, Blank]
    items: list[ChecklistItem]


checklist_json = Checklist.of


class Checklists(Shape):
    areas: list[Checklist]


class SuccessFactor(Shape):
    id: str
    name: str
    name_en: Annotated[str | None, Blank]
    description: str
    description_en: Annotated[str | None, Blank] = Field(
        description="kb's English rendering of the description (null: not translated yet).")


class AreaSummary(Shape):
    area: int = Field(validation_alias="id")
    title: str
    motto: str
    title_en: Annotated[str | None, Blank]
    motto_en: Annotated[str | None, Blank]


class Area(AreaSummary):
    introduction: str
    benefits: list[str]
    introduction_en: Annotated[str | None, Blank] = Field(
        description="kb's English rendering of the introduction (null: not translated yet).")
    benefits_en: list[str] = Field(description="kb's English rendering of the benefits, one "
                                               "for each benefit (empty: not translated yet).")
    success_factors: list[SuccessFactor]
    checklists: list[Checklist]
    references: Annotated[list[str], Ids]


def area_json(a: models.Area, full: bool = False) -> dict:
    return (Area if full else AreaSummary).of(a)


class Areas(Shape):
    areas: list[AreaSummary]


class Reference(Shape):
    id: str
    title: str
    authors: Annotated[str | None, Blank]
    year: int | None
    citation: str
    description: str
    title_en: Annotated[str | None, Blank] = Field(
        description="An English title, where the handbook prints the title in Latvian.")
    description_en: Annotated[str | None, Blank] = Field(
        description="kb's English rendering of the description (null: not translated yet).")
    urls: list[str]
    areas: Annotated[list[int], Ids]


reference_json = Reference.of


class References(Shape):
    references: list[Reference]


class GlossaryTerm(Shape):
    id: str
    term: str
    definition: str
    term_en: Annotated[str | None, Blank] = Field(description="kb's English rendering.")
    definition_en: Annotated[str | None, Blank] = Field(description="kb's English rendering.")


glossary_json = GlossaryTerm.of


class Glossary(Shape):
    terms: list[GlossaryTerm]


class Indicator(Shape):
    id: str
    text: str
    text_en: Annotated[str | None, Blank]


class Question(Shape):
    id: str
    text: str
    text_en: Annotated[str | None, Blank]
    indicators: list[Indicator]


class QualityDomain(Shape):
    domain: int = Field(validation_alias="id")
    name: str
    name_en: Annotated[str | None, Blank]
    questions: list[Question]


criteria_json = QualityDomain.of


class Criteria(Shape):
    domains: list[QualityDomain]


# --- recommendations -----------------------------------------------------------------------------

class Why(Shape):
    """Why a practice is recommended for one checklist item (kb.assessment.recommend.Reason)."""

    item: str = Field(description="The checklist item ID.")
    words: list[str] = Field(description="Words the item and the practice share (Latvian).")
    words_en: list[str] = Field(description="Words the item's English wording shares with the "
                                            "practice's English summary.")
    needs: list[str]
    activities: list[str] = Field(description="Activities the item calls for that the practice "
                                              "carries out.")
    same_area: bool
    same_success_factor: bool = Field(validation_alias="same_factor")


def why_json(reasons: list) -> list[dict]:
    """The one shape of "why": a list, one entry an item (the API and the assessment summary)."""
    return [Why.of(r) for r in reasons]


class RecommendationRequest(BaseModel):
    # "limit": "5" is refused, not read as 5; an unknown field is refused, not ignored.
    model_config = ConfigDict(strict=True, extra="forbid")

    unmet: list[str] = Field(min_length=1, max_length=200,
                             description="IDs of the checklist items not met yet.")
    # JSON has one kind of number: 5.0 is the whole number 5 (as JSON Schema says too).
    limit: Annotated[int, BeforeValidator(
        lambda v: int(v) if isinstance(v, float) and v.is_integer() else v)] = Field(
        10, ge=1, le=100)
    lang: Literal["lv", "en"] = Field("lv", description="The language of the titles.")

    @classmethod
    def problem(cls, error: ValidationError) -> tuple[str, str]:
        """The parameter at fault and what to send instead (the first error)."""
        e = error.errors()[0]
        param = str(e["loc"][0])
        if e["type"] == "extra_forbidden":
            return param, f"unknown field {param[:40]!r}; the fields are unmet, limit and lang"
        if param == "unmet" and e["type"] == "too_short":
            return param, "unmet is empty: give at least one checklist item ID"
        if param == "unmet" and e["type"] == "too_long":
            return param, f"unmet may list at most {e['ctx']['max_length']} items"
        field = cls.model_json_schema()["properties"][param]
        expected = {"unmet": "a list of checklist item IDs",
                    "limit": f"a whole number from {field.get('minimum')} to "
                             f"{field.get('maximum')}",
                    "lang": " or ".join(json.dumps(v) for v in field.get("enum", []))}
        return param, f"{param} must be {expected[param]}"


class Recommendation(Shape):
    id: str
    title: str
    country: list[str] = Field(validation_alias="countries")
    area: int
    score: float
    because: list[str] = Field(description="The unmet items it answers.")
    why: list[Why] = Field(validation_alias="reasons")


def recommendation_json(r, lang: str) -> dict:
    """A recommended practice (kb.assessment.recommend.Recommendation), titled in ``lang``."""
    shown = Recommendation.model_validate(r)
    if lang == "en":
        shown.title = r.title_en or r.title
    return shown.jsonable()


class Recommendations(Shape):
    results: list[Recommendation]


# --- the rest ------------------------------------------------------------------------------------

class IndexHealth(Shape):
    """The search index: its build's meta.json and how it is served (more keys may follow);
    without an index, only the error and the problems."""

    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=False)

    generation: str | None = None
    documents: int | None = None
    changes: int | None = None
    problems: list[str]
    error: str | None


class Health(Shape):
    status: Literal["ok", "degraded"]
    records: dict[str, int]
    index: IndexHealth


class ErrorDetail(Shape):
    status: int
    message: str
    param: str | None = Field(description="The parameter at fault, if one is.")


class Error(Shape):
    """The one error shape of the API."""

    error: ErrorDetail

