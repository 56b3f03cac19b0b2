"""Schemas of the reviewed data files in corpus/: every key known, typed, required or not.

A file that does not fit its schema is refused with a message naming the entry and the key,
e.g. ``practice #2 'lublinas-gimenes-palidzibas-centri': unknown key 'organization' (did you
mean 'organisation'?)``. TOML values are typed, so nothing is coerced (``year = "2018"`` is an
error, not a year).
"""
from __future__ import annotations

import difflib
import typing
from functools import cache
from typing import Annotated, Literal

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model,
                      model_validator)

from kb.core.vocabulary import COUNTRIES, FUNDING_BANDS, LANGUAGE_CODES, TARGET_GROUPS

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text


def _countries(codes: list[str]) -> list[str]:
    if not codes or any(c not in COUNTRIES for c in codes):
        raise ValueError(f"must be ISO 3166-1 alpha-2 codes, got {codes}")
    return codes


Text = Annotated[str, AfterValidator(_not_blank)]
PracticeId = Annotated[str, Field(pattern=SLUG, max_length=160)]   # the column's length
Code = Annotated[str, Field(pattern=SLUG, max_length=40)]


class Entry(BaseModel):
    """A table of a data file: unknown keys are errors, values keep their TOML types."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --- practices.toml ------------------------------------------------------------------------------

class PracticeEntry(Entry):
    id: PracticeId
    anchor: Text
    title: Text
    organisation: str = ""
    city: str = ""
    countries: Annotated[list[str], AfterValidator(_countries)]
    factor: str = ""
    urls: list[str] = []


class PracticesFile(Entry):
    practice: list[PracticeEntry] = Field(min_length=1)


# --- practice_facts.toml -------------------------------------------------------------------------

def _languages(codes: list[str]) -> list[str]:
    unknown = [c for c in codes if c not in LANGUAGE_CODES]
    if unknown:
        raise ValueError(f"must be ISO 639-1 language codes, got {unknown}")
    return codes


Year = Annotated[int, Field(ge=1945, le=2100)]


class PracticeFacts(Entry):
    """What the handbook's text states about one practice, in the practice template's fields;
    ``says`` quotes the words of the text each fact is read from (checked on every ingest)."""

    period_start: Year | None = None
    period_end: Year | None = None
    ongoing: bool = False
    target_groups: list[Literal[TARGET_GROUPS]] = []
    reach: Annotated[int, Field(ge=0)] | None = None
    funding_source: str = ""
    funding_band: Literal["", *FUNDING_BANDS] = ""
    languages: Annotated[list[str], AfterValidator(_languages)] = []
    says: list[Text] = Field(min_length=1)

    @model_validator(mode="after")
    def _a_period(self) -> "PracticeFacts":
        if self.period_end is not None and self.period_start is not None \
                and self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        if self.ongoing and self.period_end is not None:
            raise ValueError("an ongoing practice has no period_end")
        return self


class PracticeFactsFile(Entry):
    practice: dict[str, PracticeFacts] = {}


# --- repairs.toml, references.toml -------------------------------------------------------------

class Fragment(Entry):
    starts: Text
    practice: Text      # the anchor of the example the paragraph belongs to


class ReferencesStart(Entry):
    area: int
    starts: Text


class ReferenceUrls(Entry):
    area: int
    block: int
    per_reference: list[int] = Field(min_length=1)


class RepairsFile(Entry):
    factor_headings: dict[str, Text] = {}
    fragment: list[Fragment] = []
    references_start: list[ReferencesStart] = []
    reference_urls: list[ReferenceUrls] = []


class ReferenceOverride(Entry):
    starts: Text
    authors: str = ""
    title: Text
    year: int | None = None


class ReferencesFile(Entry):
    reference: list[ReferenceOverride] = []


# --- English wording: practices_en.toml, handbook_en.toml ----------------------------------------

class PracticeEnglish(Entry):
    title: Text
    summary: Text


class PracticesEnglishFile(Entry):
    practice: dict[str, PracticeEnglish] = {}


class AreaEnglish(Entry):
    title: str = ""
    motto: str = ""


class SuccessFactorEnglish(Entry):
    name: str = ""


class ChecklistEnglish(Entry):
    title: str = ""


class ItemEnglish(Entry):
    text: Text
    keywords: list[str] = []


class HandbookEnglishFile(Entry):
    area: dict[str, AreaEnglish] = {}
    success_factor: dict[str, SuccessFactorEnglish] = {}
    checklist: dict[str, ChecklistEnglish] = {}
    item: dict[str, ItemEnglish] = {}


# --- kb's English rendering: handbook_en_text.toml, practices_en_text.toml -----------------------

class AreaText(Entry):
    introduction: Text
    benefits: list[Text] = Field(min_length=1)


class SuccessFactorText(Entry):
    description: Text


class ChecklistText(Entry):
    introduction: str = ""
    note: str = ""


class GlossaryText(Entry):
    term: Text
    definition: Text


class ReferenceText(Entry):
    title: str = ""  # only where the handbook prints the title in Latvian
    description: Text


class MissingHandbookTexts(Entry):
    """Records reviewed and knowingly left without English text (shown in Latvian)."""

    area: list[str] = []
    success_factor: list[str] = []
    checklist: list[str] = []
    glossary: list[str] = []
    reference: list[str] = []


class HandbookTextFile(Entry):
    missing: MissingHandbookTexts = MissingHandbookTexts()
    area: dict[str, AreaText] = {}
    success_factor: dict[str, SuccessFactorText] = {}
    checklist: dict[str, ChecklistText] = {}
    glossary: dict[str, GlossaryText] = {}
    reference: dict[str, ReferenceText] = {}


class PracticeText(Entry):
    organisation: str = ""  # the organisation's English name (practices.toml has the Latvian)
    text: Text


class PracticesTextFile(Entry):
    missing: list[PracticeId] = []
    practice: dict[str, PracticeText] = {}


class DomainEnglish(Entry):
    name: Text
    guidance: list[str] = []


class QuestionEnglish(Entry):
    text: Text
    activities: list[Code] = []
    needs: list[Code] = []
    success_factors: list[str] = []


class IndicatorEnglish(Entry):
    text: Text


class OrganisationType(Entry):
    not_applicable: list[str] = []


class OrganisationTypesFile(Entry):
    """organisation_types.toml: the checklist items that do not apply to a type."""

    type: dict[str, OrganisationType] = {}


class CriteriaEnglishFile(Entry):
    """criteria_en.toml: the quality criteria's English wording and what each question is about."""

    domain: dict[str, DomainEnglish] = {}
    question: dict[str, QuestionEnglish] = {}
    indicator: dict[str, IndicatorEnglish] = {}


# --- vocabularies: needs.toml, activities.toml; checklist_needs.toml ------------------------------

class Term(Entry):
    """A code of a controlled vocabulary with its Latvian, English, Russian and Ukrainian labels
    (the UI shows the first two; search also indexes the Russian and Ukrainian ones)."""

    code: Code
    lv: Text
    en: Text
    ru: Text
    uk: Text


@cache
def vocabulary_schema(entry: str, codes: str, details: tuple[str, ...]) -> type[Entry]:
    """The one layout of a vocabulary file, named for its vocabulary::

        [[<entry>]]                      # code, lv, en, ru, uk and the vocabulary's details
        [practice.<practice id>]
        <codes> = ["code", ...]          # the practice's codes, in order

    ``details`` are the optional texts the vocabulary keeps (the database has a column for
    each); any other key of a term is unknown.
    """
    term = create_model(f"{entry.title()}Term", __base__=Term,
                        **{name: (str, "") for name in details})
    practice = create_model(f"Practice{codes.title()}", __base__=Entry,
                            **{codes: (list[Code], ...)})
    return create_model(f"{codes.title()}File", __base__=Entry,
                        **{entry: (list[term], Field(min_length=1)),
                           "practice": (dict[str, practice], {})})


class ItemAnnotation(Entry):
    needs: list[Code] = []
    keywords: list[str] = []
    activities: list[Code] = []


class ChecklistNeedsFile(Entry):
    item: dict[str, ItemAnnotation] = {}


# --- messages ------------------------------------------------------------------------------------

EXPECTED = {
    "string_type": "must be text", "int_type": "must be a whole number",
    "bool_type": "must be true or false", "list_type": "must be a list",
    "dict_type": "must be a table", "model_type": "must be a table",
    "too_short": "must not be empty", "literal_error": "must be one of the codes", "string_too_long": "is too long",
    "string_pattern_mismatch": "must be lower-case ASCII letters, digits and hyphens "
                               "(like 'humans-in-the-loop')",
}
IDENTIFIERS = ("id", "code", "starts", "title")


def validate(schema: type[Entry], data: dict) -> tuple[Entry | None, list[str]]:
    """Return the file's data as ``schema``, or None and what is wrong, one message a problem."""
    try:
        return schema.model_validate(data), []
    except ValidationError as exc:
        errors = exc.errors()
    misspelt = {(*e["loc"][:-1], _close(schema, e))
                for e in errors if e["type"] == "extra_forbidden"}
    # A misspelt key is also a missing one: say it once, as the misspelling.
    return None, [_problem(schema, data, e) for e in errors
                  if not (e["type"] == "missing" and tuple(e["loc"]) in misspelt)]


def _problem(schema: type[Entry], data: dict, error: dict) -> str:
    table, *loc = error["loc"]
    if not loc:
        return _about(schema, "table", table, error)
    position, *keys = loc
    raw = data.get(table)
    if isinstance(position, int):
        entry = f"{table} #{position + 1}"
        item = raw[position] if isinstance(raw, list) else None
        ident = next((item[k] for k in IDENTIFIERS if isinstance(item, dict) and k in item), None)
        if ident is not None:
            entry += f" {ident!r}"
    else:
        entry = f"{table} {position!r}"
    if not keys:
        return f"{entry} {_expected(error)}"
    return f"{entry}: {_about(_table_model(schema, table), 'key', keys[0], error, keys[1:])}"


def _about(model: type[Entry] | None, kind: str, name, error: dict, inner=()) -> str:
    """What is wrong with the key (or table) ``name`` of ``model``."""
    if error["type"] == "extra_forbidden":
        close = _suggestion(model, name)
        return f"unknown {kind} {name!r}" + (f" (did you mean {close!r}?)" if close else "")
    if error["type"] == "missing":
        return f"missing {kind} {name!r}"
    where = "".join(f" item #{i + 1}" if isinstance(i, int) else f" {i!r}" for i in inner)
    return f"{kind} {name!r}{where} {_expected(error)}"


def _expected(error: dict) -> str:
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    expected = EXPECTED.get(error["type"], error["msg"][:1].lower() + error["msg"][1:])
    value = repr(error["input"])
    return f"{expected}, got {value if len(value) <= 60 else value[:57] + '...'}"


def _suggestion(model: type[Entry] | None, name) -> str | None:
    """The key of ``model`` that ``name`` is most likely a misspelling of."""
    close = difflib.get_close_matches(str(name), list(model.model_fields) if model else [], n=1)
    return close[0] if close else None


def _close(schema: type[Entry], error: dict) -> str | None:
    """The suggestion for an unknown key: looked up in its table's model, or the file's."""
    loc = error["loc"]
    return _suggestion(schema if len(loc) == 1 else _table_model(schema, loc[0]), loc[-1])


def _table_model(schema: type[Entry], table: str) -> type[Entry] | None:
    """The model of one entry of ``table`` (the item type of its list or dict)."""
    field = schema.model_fields.get(table)
    args = typing.get_args(field.annotation) if field else ()
    model = args[-1] if args else None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None
