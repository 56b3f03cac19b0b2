"""The practice schema: a practice's fields, their limits and their rules, declared once.

Everything that handles a practice's fields reads them from here: the review workflow
(`review.clean_input`, the change log, `review.apply_values`), export and import (`transfer`),
the curators' and the public forms (their maximum lengths), the JSON API's practice
(`kb.web.serialize`) and so the OpenAPI document. Lengths come from the `Practice` columns,
so the table and the schema cannot disagree.

The fields come in three layers, for three audiences: `PracticeHeading` (what a list of
practices shows), `PracticeDescribed` (the heading, the description and the web addresses:
what anyone may read) and `PracticeFields` (with the contact and the source note, which only
curators see and `kb export` writes).

The checks against the database's vocabularies (needs, activities, success factors) need
them as the validation context (`vocabularies`); responses, read from the database, skip them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from annotated_types import MaxLen
from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      ValidationError, ValidationInfo, WithJsonSchema, field_validator)
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.core.models import (CURATOR, HANDBOOK, Activity, Need, Practice, PracticeActivity,
                            PracticeCountry, PracticeNeed, SuccessFactor)
from kb.core.messages import N_, FieldMessage
from kb.core.vocabulary import COUNTRIES, FUNDING_BANDS, LANGUAGE_CODES, TARGET_GROUPS
from kb.search.facets import AREAS


def column_length(model: type, column: str) -> int:
    """The length of ``model``'s String column: the schema's maximum for the field."""
    return model.__table__.c[column].type.length


DESCRIPTION_LIMIT = 20_000  # the descriptions are Text columns: kb's own limit
SECTION_LIMIT = 5_000       # a section of the template (challenge, results, ...): Text too
FIRST_YEAR, LAST_YEAR = 1945, 2100
MAX_REACH = 100_000_000
REASON_LIMIT = 2_000        # a review decision's reason (a Text column too)
NOTE_LIMIT = 2_000          # a curators' correction note on a practice (Practice.correction_note)
URL_LIMIT = 2_000
MAX_URLS = 10
URL = r"^https?://[^\s<>\"']+$"
ID_LENGTH = column_length(Practice, "id")


@dataclass(frozen=True)
class Stored:
    """Where a field lives on a Practice: a column, or a relationship of one code a row."""

    attribute: str             # the column or relationship; also the change log's name for it
    row: type | None = None    # a relationship's row class
    code: str = ""             # the row's column holding the code
    ordered: bool = False      # rows keep their position (most central first)
    many: bool = False         # a list, also when the column holds none yet
    keep_when_absent: bool = False  # an input without the field leaves it as it is

    def read(self, practice: Practice) -> Any:
        value = getattr(practice, self.attribute)
        if self.row is not None:
            return [getattr(row, self.code) for row in value]
        return list(value or []) if self.many else value

    def write(self, practice: Practice, value: Any) -> None:
        if self.read(practice) == value:
            return  # an unchanged field is not touched: the change log and updated_at see none
        if self.row is not None:
            value = [self.row(**{self.code: v}, **({"position": i} if self.ordered else {}))
                     for i, v in enumerate(value)]
        setattr(practice, self.attribute, value)


# --- how form fields and import lines are read ---------------------------------------------------

def _text(value: Any) -> str:
    """A form's or a line's value as text: None is empty, surrounding space is dropped."""
    return str(value or "").strip()


def _listed(value: Any) -> Any:
    """A list's text items stripped and its blank ones dropped; anything not a list is left
    for the field's type to refuse."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return value
    return [v.strip() if isinstance(v, str) else v for v in value
            if not (isinstance(v, str) and not v.strip())]


def _once(values: list) -> list:
    return list(dict.fromkeys(values))


def _known(label: str, vocabulary: str | frozenset[str]):
    """Refuse the codes that are not in ``vocabulary`` (or the context's vocabulary of that
    name), naming them all."""
    def check(codes: list[str], info: ValidationInfo) -> list[str]:
        known = (vocabulary if isinstance(vocabulary, frozenset)
                 else (info.context or {}).get(vocabulary))
        unknown = [c for c in codes if known is not None and c not in known]
        if unknown:
            raise PydanticCustomError("unknown_codes", OWN["unknown_codes"],
                                      {"label": label, "codes": ", ".join(unknown)})
        return codes
    return check


def _one_of(label: str, values: tuple[str, ...]):
    def check(value: str) -> str:
        if value not in values:
            raise PydanticCustomError("not_one_of", OWN["not_one_of"],
                                      {"label": label, "values": ", ".join(v for v in values if v)})
        return value
    return check


def Line(column: str, *constraints) -> Any:
    """A one-line text field as long as its column allows."""
    return Annotated[str, BeforeValidator(_text), *constraints,
                     Field(max_length=column_length(Practice, column)), Stored(column)]


Description = Annotated[str, BeforeValidator(_text), Field(max_length=DESCRIPTION_LIMIT)]


def Section(column: str, about: str) -> Any:
    """A text section of the template, stored in its own column."""
    return Annotated[str, BeforeValidator(_text), Field(max_length=SECTION_LIMIT,
                                                        description=about), Stored(column)]


def _number(value: Any) -> Any:
    """A form's empty box is no number; "1 200" and "1,200" are 1200; anything else is left
    for the field's type to refuse."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return value.strip().replace(" ", "").replace("\u00a0", "").replace(",", "")
    return value


Year = Annotated[Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR)] | None,
                 BeforeValidator(_number)]
Country = Annotated[str, BeforeValidator(lambda c: c.upper() if isinstance(c, str) else c),
                    WithJsonSchema({"type": "string", "enum": sorted(COUNTRIES),
                                    "description": "ISO 3166-1 alpha-2 code"})]
Code = Annotated[str, Field(max_length=column_length(Need, "code"))]
Url = Annotated[str, Field(pattern=URL, max_length=URL_LIMIT)]
AreaNumber = Annotated[int, Field(ge=1, le=AREAS)]
FactorId = Annotated[str, Field(max_length=column_length(SuccessFactor, "id"))]


class _Fields(BaseModel):
    # Forms and import lines carry more than the practice (a CSRF token, an ID, the source).
    model_config = ConfigDict(extra="ignore")


class PracticeHeading(_Fields):
    """What a list of practices shows of each."""

    title: Line("title", Field(min_length=1))
    title_en: Line("title_en") = ""
    organisation: Line("organisation") = ""
    city: Line("city") = ""
    countries: Annotated[list[Country], BeforeValidator(_listed), Field(min_length=1),
                         AfterValidator(_known(N_("country codes"), COUNTRIES)),
                         AfterValidator(_once), Stored("countries", PracticeCountry, "country",
                                                       ordered=True)]
    area: Annotated[AreaNumber, Field(description=f"Key area 1-{AREAS}."), Stored("area_id")]
    success_factor: Annotated[FactorId | None, BeforeValidator(lambda v: _text(v) or None),
                              Field(description="A success factor of the practice's key area."),
                              Stored("success_factor_id")] = None
    needs: Annotated[list[Code], BeforeValidator(_listed), AfterValidator(_known(N_("needs"), "needs")),
                     AfterValidator(lambda codes: sorted(set(codes))),
                     Field(description="Need codes (corpus/needs.toml)."),
                     Stored("needs", PracticeNeed, "need")] = []
    # Activities keep their order (most central first). A line exported before kb had
    # activities leaves a practice's activities as they are.
    activities: Annotated[list[Code], BeforeValidator(_listed),
                          AfterValidator(_known(N_("activities"), "activities")), AfterValidator(_once),
                          Field(description="Activity codes (corpus/activities.toml), most "
                                            "central first."),
                          Stored("activities", PracticeActivity, "activity", ordered=True,
                                 keep_when_absent=True)] = []

    @field_validator("success_factor")
    @classmethod
    def _factor_of_the_area(cls, factor: str | None, info: ValidationInfo) -> str | None:
        areas = (info.context or {}).get("success_factors")
        if factor is not None and areas is not None and areas.get(factor) != info.data.get("area"):
            raise PydanticCustomError("factor_of_another_area", OWN["factor_of_another_area"])
        return factor


class PracticeDescribed(PracticeHeading):
    """A practice as anyone may read it: the heading, the description, the web addresses."""

    text: Annotated[Description, Field(description="The description in Latvian."),
                    Stored("text")] = ""
    summary_en: Annotated[Description, Field(description="The description in English.",
                                             validate_default=True),
                          Stored("summary_en")] = ""
    urls: Annotated[list[Url], BeforeValidator(_listed), Field(max_length=MAX_URLS),
                    AfterValidator(_once), Stored("urls", many=True)] = []

    @field_validator("summary_en")
    @classmethod
    def _a_description(cls, summary: str, info: ValidationInfo) -> str:
        # Checked with the later of the two fields, so that it sees both; reported on "text".
        if not summary and "text" in info.data and not info.data["text"]:
            raise PydanticCustomError("description_required", OWN["description_required"])
        return summary


class PracticeTemplate(PracticeDescribed):
    """A practice with the whole template (the EU integration practices database's fields and
    the handbook's question whether it can be transferred): all optional."""

    period_start: Annotated[Year, Field(description="The year it began."),
                            Stored("period_start")] = None
    period_end: Annotated[Year, Field(description="The year it ended (none while ongoing)."),
                          Stored("period_end")] = None
    ongoing: Annotated[bool, BeforeValidator(lambda v: False if v in (None, "") else v),
                       Field(description="It still runs."), Stored("ongoing")] = False
    target_groups: Annotated[list[Literal[TARGET_GROUPS]], BeforeValidator(_listed),
                             AfterValidator(_once),
                             Field(description="Who it is for."),
                             Stored("target_groups", many=True)] = []
    reach: Annotated[Annotated[int, Field(ge=0, le=MAX_REACH)] | None, BeforeValidator(_number),
                     Field(description="How many people it reached."), Stored("reach")] = None
    funding_source: Annotated[Line("funding_source"), Field(description="Who funds it.")] = ""
    funding_band: Annotated[str, BeforeValidator(_text),
                            AfterValidator(_one_of(N_("funding band"), ("", *FUNDING_BANDS))),
                            Field(max_length=column_length(Practice, "funding_band")),
                            WithJsonSchema({"type": "string", "enum": ["", *FUNDING_BANDS],
                                            "maxLength": column_length(Practice, "funding_band"),
                                            "description": "Its funding in euros a year: none, "
                                            "under 10,000, 10,000-100,000, 100,000-1 million, "
                                            "over 1 million."}),
                            Stored("funding_band")] = ""
    challenge: Section("challenge", "The challenge it meets and its goals.") = ""
    how_it_works: Section("how_it_works", "How it works.") = ""
    results: Section("results", "What came of it.") = ""
    evaluation: Section("evaluation", "How it was evaluated, and by whom.") = ""
    transferability: Section("transferability",
                             "What another municipality needs to do the same.") = ""
    public_contact: Annotated[Line("public_contact"),
                              Field(description="Whom to contact about it (shown).")] = ""
    languages: Annotated[list[Annotated[str, BeforeValidator(
                             lambda c: c.strip().lower() if isinstance(c, str) else c)]],
                         BeforeValidator(_listed),
                         AfterValidator(_known(N_("language codes"), LANGUAGE_CODES)), AfterValidator(_once),
                         Field(description="The languages it works in (ISO 639-1)."),
                         Stored("languages", many=True)] = []

    @field_validator("period_end")
    @classmethod
    def _after_the_start(cls, end: int | None, info: ValidationInfo) -> int | None:
        start = info.data.get("period_start")
        if end is not None and start is not None and end < start:
            raise PydanticCustomError("end_before_start", OWN["end_before_start"])
        return end

    @field_validator("ongoing")
    @classmethod
    def _no_end_while_ongoing(cls, ongoing: bool, info: ValidationInfo) -> bool:
        if ongoing and info.data.get("period_end") is not None:
            raise PydanticCustomError("ended_and_ongoing", OWN["ended_and_ongoing"])
        return ongoing


class PracticeFields(PracticeTemplate):
    """Every field a curator writes: also how to reach the source, and where it came from."""

    contact: Line("contact") = ""
    source_note: Line("source_note") = ""


class PracticeRecord(PracticeFields):
    """A line of `kb export` and `kb import` (which ignores ``source``)."""

    id: Annotated[str, Field(min_length=1, max_length=ID_LENGTH)]
    source: Literal[HANDBOOK, CURATOR] = CURATOR


FIELDS = tuple(PracticeFields.model_fields)
STORED = {name: next(m for m in f.metadata if isinstance(m, Stored))
          for name, f in PracticeFields.model_fields.items()}
LISTS = tuple(name for name, stored in STORED.items() if stored.row or stored.many)
LIMITS = {name: next(m.max_length for m in f.metadata if isinstance(m, MaxLen))
          for name, f in PracticeFields.model_fields.items() if f.annotation is str}


# --- reading, validating and writing a practice --------------------------------------------------

def vocabularies(session: Session) -> dict:
    """The validation context: the codes there are, and each success factor's key area."""
    return {"needs": set(session.scalars(select(Need.code))),
            "activities": set(session.scalars(select(Activity.code))),
            "success_factors": dict(session.execute(select(SuccessFactor.id,
                                                           SuccessFactor.area_id)).all())}


def validate(session: Session, raw: dict) -> dict:
    """The values to write from a form or an import line; raises ValidationError."""
    practice = PracticeFields.model_validate(raw, context=vocabularies(session))
    return {name: value for name, value in practice if name in practice.model_fields_set
            or not STORED[name].keep_when_absent}


def read(practice: Practice) -> dict:
    """The practice's value of every field, by the schema's names."""
    return {name: stored.read(practice) for name, stored in STORED.items()}


def write(practice: Practice, values: dict) -> None:
    """Set the fields ``values`` has (as `validate` returns them); unchanged ones stay."""
    for name, value in values.items():
        STORED[name].write(practice, value)


# --- messages ------------------------------------------------------------------------------------

# kb's message for pydantic's errors: by field and error type, by field, then by error type.
# What a form and `kb import` say of a field's error: str.format templates (N_-marked msgids:
# the web layer says them in the UI language), with the error's context and these values.
MESSAGES = {
    ("title", "too_short"): N_("a title is required"),
    ("countries", "too_short"): N_("choose at least one country"),
    ("urls", "too_long"): N_("at most {max_length} addresses"),
    "countries": N_("countries must be a list of ISO 3166-1 alpha-2 codes"),
    "area": N_("choose a key area from 1 to {areas}"),
    "needs": N_("needs must be a list of codes"),
    "activities": N_("activities must be a list of codes"),
    "urls": N_("not a web address (http:// or https://): {input:.80}"),
    "too_long": N_("at most {max_length} characters ({given} given)"),
    "period_start": N_("a year from {first_year} to {last_year}"),
    "period_end": N_("a year from {first_year} to {last_year}"),
    "reach": N_("a whole number of people from 0 to {max_reach}"),
    "ongoing": N_("ongoing must be true or false"),
    "target_groups": N_("target groups must be a list of: {target_groups}"),
    "languages": N_("languages must be a list of ISO 639-1 codes"),
}
FIXED = {"areas": AREAS, "first_year": FIRST_YEAR, "last_year": LAST_YEAR,
         "max_reach": f"{MAX_REACH:,}", "target_groups": ", ".join(TARGET_GROUPS)}
# The errors the schema's own validators raise (PydanticCustomError), by type: they say it
# themselves, from these templates.
OWN = {
    "unknown_codes": N_("unknown {label}: {codes}"),
    "not_one_of": N_("the {label} is one of: {values}"),
    "factor_of_another_area": N_("choose a success factor of the chosen key area"),
    "description_required": N_("a description is required, in Latvian and/or English"),
    "end_before_start": N_("the end year is before the start year"),
    "ended_and_ongoing": N_("an ongoing practice has no end year"),
}

# The form shows a message under the field it is about.
REPORTED_ON = {"description_required": "text", "ended_and_ongoing": "period_end"}


def field_errors(error: ValidationError) -> dict[str, str]:
    """A message per field (its first error), as the forms and `kb import` show them."""
    messages: dict[str, str] = {}
    for e in error.errors():
        field = REPORTED_ON.get(e["type"], str(e["loc"][0]) if e["loc"] else "practice")
        messages.setdefault(field, _message(field, e))
    return messages


def _message(field: str, e: dict) -> str:
    if e["type"] in OWN:
        return FieldMessage(OWN[e["type"]], dict(e.get("ctx") or {}))
    template = MESSAGES.get((field, e["type"])) or MESSAGES.get(field) or MESSAGES.get(e["type"])
    if template is None:
        return e["msg"]
    value = e.get("input")
    return FieldMessage(template, {**FIXED, **(e.get("ctx") or {}), "input": str(value),
                                   "given": len(value) if isinstance(value, (str, list)) else "?"})
