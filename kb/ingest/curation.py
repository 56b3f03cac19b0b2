"""Load the reviewed data files in corpus/: what the rules cannot read from the text.

- practices.toml: each good-practice example's ID, anchor, title, organisation, city, countries,
  URLs;
- repairs.toml: sub-heading -> success factor, misplaced fragments, reference boundaries and URLs;
- references.toml: citations whose authors, title or year the citation rule reads wrongly;
- practices_en.toml (optional): English title and summary of each practice;
- needs.toml, activities.toml (optional): two vocabularies of one layout (kb.ingest.schemas
  ``vocabulary_schema``) and the needs / activities of each practice;
- checklist_needs.toml (optional): the needs, keywords and activities of each checklist item;
- handbook_en.toml (optional): English wording of the key areas, success factors, checklists
  and checklist items;
- handbook_en_text.toml, practices_en_text.toml (optional): kb's English rendering of the
  Latvian edition's full texts -- areas' introductions and benefits, success factors',
  checklists', glossary terms' and references' texts, practices' descriptions -- and the
  records knowingly left without one (`kb.ingest.english_text` checks them against the text);
- organisation_types.toml (optional): the checklist items that do not apply to a type of
  organisation (pre-marked "not applicable" in its assessments);
- criteria_en.toml (optional): English wording of the quality criteria, what each guiding
  question is about (activities, needs, success factors) and each domain's guidance.
- practice_facts.toml (optional): what the handbook's text states about each practice in the
  practice template's fields (period, target groups, reach, funding, languages), with the
  words it is read from.

Every file is checked against its schema (kb/ingest/schemas.py) before anything is read from it.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from kb.core.vocabulary import ORGANISATION_TYPES
from kb.ingest.schemas import (COUNTRIES, ChecklistNeedsFile, CriteriaEnglishFile, Entry,
                               HandbookEnglishFile, HandbookTextFile, ItemAnnotation,
                               OrganisationTypesFile, PracticeEnglish, PracticeEntry,
                               PracticeFacts, PracticeFactsFile, PracticesEnglishFile,
                               PracticesFile, PracticesTextFile, ReferencesFile, RepairsFile, Term,
                               validate, vocabulary_schema)

__all__ = ["COUNTRIES", "Curation", "CurationError", "PracticeEntry", "Term", "load_curation"]


class CurationError(ValueError):
    """A reviewed data file is missing, malformed, or contradicts the handbook."""


class Vocabulary(NamedTuple):
    file: str
    entry: str                  # [[entry]] tables: the terms
    codes: str                  # [practice.<id>] <codes> = [...]: the codes of each practice
    details: tuple[str, ...]    # optional texts of a term besides its labels


NEEDS = Vocabulary("needs.toml", "need", "needs",
                   ("keywords_lv", "keywords_en", "keywords_ru", "keywords_uk"))
ACTIVITIES = Vocabulary("activities.toml", "activity", "activities",
                        ("about", "about_ru", "about_uk"))


@dataclass
class Curation:
    practices: list[PracticeEntry]
    factor_headings: dict[str, str]
    fragments: dict[str, str]                       # fragment start -> practice anchor
    references_start: dict[int, str]                # area -> first citation printed early
    reference_urls: dict[tuple[int, int], list[int]]  # (area, block) -> URLs per reference
    reference_overrides: dict[str, dict]            # citation start -> authors/title/year
    english: dict[str, PracticeEnglish] = field(default_factory=dict)   # practice id -> wording
    needs: list[Term] = field(default_factory=list)
    practice_needs: dict[str, list[str]] = field(default_factory=dict)
    item_annotations: dict[str, ItemAnnotation] = field(default_factory=dict)  # item id -> ...
    activities: list[Term] = field(default_factory=list)
    practice_activities: dict[str, list[str]] = field(default_factory=dict)
    # English wording: {"area": {"1": AreaEnglish}, "success_factor": {id: ...},
    # "checklist": {id: ...}, "item": {id: ItemEnglish}}
    structure_en: dict[str, dict[str, Entry]] = field(default_factory=dict)
    # kb's English rendering of the full texts: handbook_en_text.toml's and
    # practices_en_text.toml's parsed files (None: the file is absent).
    handbook_text_en: HandbookTextFile | None = None
    practices_text_en: PracticesTextFile | None = None
    criteria_en: CriteriaEnglishFile | None = None
    not_applicable: dict[str, list[str]] = field(default_factory=dict)  # type -> item IDs
    facts: dict[str, PracticeFacts] = field(default_factory=dict)  # practice id -> facts


def _read(path: Path, schema: type[Entry], required: bool = True) -> Entry | None:
    """The file at ``path`` as ``schema``; None if it is optional and absent."""
    if not path.exists():
        if required:
            raise CurationError(f"{path}: reviewed data file not found")
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CurationError(f"{path}: {exc}") from exc
    parsed, problems = validate(schema, data)
    if problems:
        raise CurationError(f"{path}: {'; '.join(problems)}")
    return parsed


def load_curation(folder: Path | str) -> Curation:
    """Read and validate every data file in ``folder``."""
    folder = Path(folder)
    practices = _read(folder / "practices.toml", PracticesFile).practice
    _unique(folder / "practices.toml", "practice", practices, "id")
    _unique(folder / "practices.toml", "practice", practices, "anchor")
    repairs = _read(folder / "repairs.toml", RepairsFile)
    references = _read(folder / "references.toml", ReferencesFile, required=False)
    english = _read(folder / "practices_en.toml", PracticesEnglishFile, required=False)
    needs, practice_needs = _vocabulary(folder, NEEDS)
    activities, practice_activities = _vocabulary(folder, ACTIVITIES)
    items = _read(folder / "checklist_needs.toml", ChecklistNeedsFile, required=False)
    items = items.item if items else {}
    need_codes, activity_codes = {n.code for n in needs}, {a.code for a in activities}
    for item_id, annotation in items.items():
        where = f"item {item_id!r}"
        _check_codes(folder / "checklist_needs.toml", where, "needs", annotation.needs, need_codes)
        _check_codes(folder / "checklist_needs.toml", where, "activities", annotation.activities,
                     activity_codes)
    structure_en = _read(folder / "handbook_en.toml", HandbookEnglishFile, required=False)
    handbook_text_en = _read(folder / "handbook_en_text.toml", HandbookTextFile, required=False)
    practices_text_en = _read(folder / "practices_en_text.toml", PracticesTextFile,
                              required=False)
    criteria_en = _read(folder / "criteria_en.toml", CriteriaEnglishFile, required=False)
    types = _read(folder / "organisation_types.toml", OrganisationTypesFile, required=False)
    not_applicable = {t: list(e.not_applicable) for t, e in (types.type if types else {}).items()}
    unknown = sorted(set(not_applicable) - set(ORGANISATION_TYPES))
    if unknown:
        raise CurationError(f"{folder / 'organisation_types.toml'}: unknown organisation types "
                            f"{unknown}; they are {', '.join(ORGANISATION_TYPES)}")
    for question_id, question in (criteria_en.question if criteria_en else {}).items():
        where = f"question {question_id!r}"
        _check_codes(folder / "criteria_en.toml", where, "needs", question.needs, need_codes)
        _check_codes(folder / "criteria_en.toml", where, "activities", question.activities,
                     activity_codes)
    facts = _read(folder / "practice_facts.toml", PracticeFactsFile, required=False)
    return Curation(
        practices=practices,
        factor_headings=dict(repairs.factor_headings),
        fragments={f.starts: f.practice for f in repairs.fragment},
        references_start={r.area: r.starts for r in repairs.references_start},
        reference_urls={(r.area, r.block): list(r.per_reference) for r in repairs.reference_urls},
        reference_overrides={o.starts: o.model_dump() for o in references.reference}
        if references else {},
        english=dict(english.practice) if english else {},
        needs=needs,
        practice_needs=practice_needs,
        item_annotations=items,
        activities=activities,
        practice_activities=practice_activities,
        structure_en={name: dict(getattr(structure_en, name)) if structure_en else {}
                      for name in ("area", "success_factor", "checklist", "item")},
        handbook_text_en=handbook_text_en,
        practices_text_en=practices_text_en,
        criteria_en=criteria_en,
        not_applicable=not_applicable,
        facts=dict(facts.practice) if facts else {},
    )


def _vocabulary(folder: Path, vocabulary: Vocabulary) -> tuple[list[Term], dict[str, list[str]]]:
    """The terms of a vocabulary file, and the codes of each practice (all of them known)."""
    path = folder / vocabulary.file
    parsed = _read(path, vocabulary_schema(vocabulary.entry, vocabulary.codes, vocabulary.details),
                   required=False)
    if parsed is None:
        return [], {}
    terms = getattr(parsed, vocabulary.entry)
    _unique(path, vocabulary.entry, terms, "code")
    known = {t.code for t in terms}
    per_practice = {pid: list(getattr(entry, vocabulary.codes))
                    for pid, entry in parsed.practice.items()}
    for practice_id, codes in per_practice.items():
        _check_codes(path, f"practice {practice_id!r}", vocabulary.codes, codes, known)
    return terms, per_practice


def _unique(path: Path, table: str, entries: list[Entry], key: str) -> None:
    """No two entries of ``table`` have the same ``key``; the error names both."""
    first: dict[str, int] = {}
    for number, entry in enumerate(entries, 1):
        value = getattr(entry, key)
        if value in first:
            both = " and ".join(_entry(table, n, entries[n - 1]) for n in (first[value], number))
            raise CurationError(f"{path}: {both} have the same {key} {value!r}")
        first[value] = number


def _entry(table: str, number: int, entry: Entry) -> str:
    title = getattr(entry, "title", None) or getattr(entry, "en", None)
    return f"{table} #{number}" + (f" ({title!r})" if title else "")


def _check_codes(path: Path, where: str, kind: str, codes: list[str], known: set[str]) -> None:
    unknown = sorted(set(codes) - known)
    if unknown:
        raise CurationError(f"{path}: {where} has unknown {kind} {unknown}")
    if len(set(codes)) != len(codes):
        raise CurationError(f"{path}: {where} lists one of its {kind} twice: {codes}")
