"""Load the reviewed data files in corpus/: what the rules cannot read from the text.

- practices.toml: each good-practice example's anchor, title, organisation, city, countries, URLs;
- repairs.toml: sub-heading -> success factor, misplaced fragments, reference boundaries and URLs;
- references.toml: citations whose authors, title or year the citation rule reads wrongly;
- practices_en.toml (optional): English title and summary of each practice;
- needs.toml (optional): the needs vocabulary and the needs of each practice;
- checklist_needs.toml (optional): the needs, keywords and activities of each checklist item;
- activities.toml (optional): the activities vocabulary and the activities of each practice;
- handbook_en.toml (optional): English wording of the key areas, success factors, checklists
  and checklist items.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale

COUNTRIES = frozenset(code for code in Locale("en").territories if len(code) == 2 and code.isalpha())


class CurationError(ValueError):
    """A reviewed data file is missing, malformed, or contradicts the handbook."""


@dataclass(frozen=True)
class PracticeEntry:
    anchor: str
    title: str
    organisation: str = ""
    city: str = ""
    countries: tuple[str, ...] = ()
    factor: str = ""
    urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Need:
    code: str
    lv: str
    en: str
    keywords_lv: str = ""
    keywords_en: str = ""


@dataclass(frozen=True)
class Activity:
    code: str
    lv: str
    en: str
    about: str = ""


@dataclass
class Curation:
    practices: list[PracticeEntry]
    factor_headings: dict[str, str]
    fragments: dict[str, str]                       # fragment start -> practice anchor
    references_start: dict[int, str]                # area -> first citation printed early
    reference_urls: dict[tuple[int, int], list[int]]  # (area, block) -> URLs per reference
    reference_overrides: dict[str, dict]            # citation start -> authors/title/year
    english: dict[str, dict] = field(default_factory=dict)   # practice id -> title_en, summary_en
    needs: list[Need] = field(default_factory=list)
    practice_needs: dict[str, list[str]] = field(default_factory=dict)
    item_annotations: dict[str, dict] = field(default_factory=dict)  # item id -> needs, keywords
    activities: list[Activity] = field(default_factory=list)
    practice_activities: dict[str, list[str]] = field(default_factory=dict)
    # English wording: {"area": {"1": {title, motto}}, "success_factor": {id: {name}},
    # "checklist": {id: {title}}, "item": {id: {text, keywords}}}
    structure_en: dict[str, dict] = field(default_factory=dict)


def _read(path: Path, required: bool = True) -> dict:
    if not path.exists():
        if required:
            raise CurationError(f"{path}: reviewed data file not found")
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CurationError(f"{path}: {exc}") from exc


def load_curation(folder: Path | str) -> Curation:
    """Read and validate every data file in ``folder``."""
    folder = Path(folder)
    practices = [_practice_entry(folder / "practices.toml", i, raw)
                 for i, raw in enumerate(_read(folder / "practices.toml").get("practice", []), 1)]
    if not practices:
        raise CurationError(f"{folder / 'practices.toml'}: no [[practice]] entries")
    repairs = _read(folder / "repairs.toml")
    references = _read(folder / "references.toml", required=False)
    english = _read(folder / "practices_en.toml", required=False)
    needs = _read(folder / "needs.toml", required=False)
    vocabulary = [Need(n["code"], n["lv"], n["en"], n.get("keywords_lv", ""),
                       n.get("keywords_en", "")) for n in needs.get("need", [])]
    known = {n.code for n in vocabulary}
    practice_needs = needs.get("practices", {})
    for practice_id, codes in practice_needs.items():
        unknown = sorted(set(codes) - known)
        if unknown:
            raise CurationError(f"needs.toml: practice {practice_id!r} has unknown needs {unknown}")
    activities = _read(folder / "activities.toml", required=False)
    activity_vocabulary = [Activity(a["code"], a["lv"], a["en"], a.get("about", ""))
                           for a in activities.get("activity", [])]
    activity_codes = {a.code for a in activity_vocabulary}
    practice_activities = {pid: list(entry.get("activities", []))
                           for pid, entry in activities.get("practice", {}).items()}
    for practice_id, codes in practice_activities.items():
        _check_codes("activities.toml", f"practice {practice_id!r}", "activities", codes,
                     activity_codes)
    items = _read(folder / "checklist_needs.toml", required=False).get("item", {})
    for item_id, annotation in items.items():
        where = f"item {item_id!r}"
        _check_codes("checklist_needs.toml", where, "needs", annotation.get("needs", []), known)
        _check_codes("checklist_needs.toml", where, "activities",
                     annotation.get("activities", []), activity_codes)
    structure_en = _read(folder / "handbook_en.toml", required=False)
    _check_english(structure_en)
    return Curation(
        practices=practices,
        factor_headings=dict(repairs.get("factor_headings", {})),
        fragments={f["starts"]: f["practice"] for f in repairs.get("fragment", [])},
        references_start={r["area"]: r["starts"] for r in repairs.get("references_start", [])},
        reference_urls={(r["area"], r["block"]): list(r["per_reference"])
                        for r in repairs.get("reference_urls", [])},
        reference_overrides={o["starts"]: o for o in references.get("reference", [])},
        english=english.get("practice", {}),
        needs=vocabulary,
        practice_needs=practice_needs,
        item_annotations=items,
        activities=activity_vocabulary,
        practice_activities=practice_activities,
        structure_en={name: dict(structure_en.get(name, {}))
                      for name in ("area", "success_factor", "checklist", "item")},
    )


ENGLISH_FIELDS = {"area": ("title", "motto"), "success_factor": ("name",),
                  "checklist": ("title",), "item": ("text",)}


def _check_english(data: dict) -> None:
    """Every English entry has its texts as strings (an item's text is required)."""
    for table, fields in ENGLISH_FIELDS.items():
        for key, entry in data.get(table, {}).items():
            where = f"handbook_en.toml: {table} {key!r}"
            if not isinstance(entry, dict) or any(not isinstance(entry.get(f, ""), str)
                                                  for f in fields):
                raise CurationError(f"{where}: {', '.join(fields)} must be text")
            keywords = entry.get("keywords", [])
            if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
                raise CurationError(f"{where}: keywords must be a list of strings")
            if table == "item" and not entry.get("text", "").strip():
                raise CurationError(f"{where} has no English text")


def _check_codes(file: str, where: str, kind: str, codes: list[str], known: set[str]) -> None:
    unknown = sorted(set(codes) - known)
    if unknown:
        raise CurationError(f"{file}: {where} has unknown {kind} {unknown}")
    if len(set(codes)) != len(codes):
        raise CurationError(f"{file}: {where} lists one of its {kind} twice: {codes}")


def _practice_entry(path: Path, index: int, raw: dict) -> PracticeEntry:
    where = f"{path}: practice #{index}"
    for key in ("anchor", "title"):
        if not str(raw.get(key, "")).strip():
            raise CurationError(f"{where}: {key!r} is required")
    countries = tuple(raw.get("countries", ()))
    bad = [c for c in countries if c not in COUNTRIES]
    if not countries or bad:
        raise CurationError(f"{where} ({raw['title']}): countries must be ISO 3166-1 alpha-2 "
                            f"codes, got {list(countries)}")
    return PracticeEntry(anchor=raw["anchor"], title=raw["title"],
                         organisation=raw.get("organisation", ""), city=raw.get("city", ""),
                         countries=countries, factor=raw.get("factor", ""),
                         urls=tuple(raw.get("urls", ())))
