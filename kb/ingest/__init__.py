"""The ingest pipeline: handbook text -> structured records -> database.

`parse_handbook` is pure (text and reviewed data in, records out); `ingest` reads a file and
writes the records in one transaction, so a failure leaves the database as it was.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from kb.core.db import transaction
from kb.ingest.areas import parse_area
from kb.ingest.checklists import parse_general_checklist
from kb.ingest.clean import clean_lines
from kb.ingest.criteria import parse_criteria
from kb.ingest.curation import Curation, CurationError, load_curation
from kb.ingest.english_text import apply_english_texts
from kb.ingest.glossary import parse_glossary
from kb.ingest.load import LoadReport, load_handbook
from kb.ingest.practices import stitch_practices, to_records
from kb.ingest.records import Handbook
from kb.ingest.references import citations, merge_references
from kb.ingest.sections import HandbookFormatError, split_sections

__all__ = ["IngestError", "IngestReport", "ingest", "parse_handbook", "read_handbook"]


class IngestError(Exception):
    """Ingest could not run; the message says why and what to do. Nothing was written."""


@dataclass
class IngestReport:
    path: str
    seconds: float
    load: LoadReport
    handbook: Handbook


def parse_handbook(text: str, curation: Curation) -> Handbook:
    """Turn the handbook's extracted text into records, repaired and checked."""
    sections = split_sections(clean_lines(text))
    areas, practices, per_area_refs = [], [], {}
    for number, lines in sections.areas.items():
        section = parse_area(number, lines, curation.references_start.get(number))
        drafts, urls = stitch_practices(number, section.examples, curation)
        practices += to_records(number, drafts, urls, section.record.success_factors, curation,
                                first_position=len(practices) + 1)
        per_area_refs[number] = citations(number, section.references, curation)
        areas.append(section.record)
    _check_practices(practices, curation)
    general = parse_general_checklist(sections.general_checklist)
    items = {i.id: i for c in [*(c for a in areas for c in a.checklists), general] for i in c.items}
    unknown = sorted(set(curation.item_annotations) - set(items))
    if unknown:
        raise CurationError(f"checklist_needs.toml: unknown checklist item IDs {unknown}")
    for item_id, annotation in curation.item_annotations.items():
        items[item_id].needs = list(annotation.needs)
        items[item_id].keywords = list(annotation.keywords)
        items[item_id].activities = list(annotation.activities)
    for kind, item_ids in curation.not_applicable.items():
        unknown = sorted(set(item_ids) - set(items))
        if unknown:
            raise CurationError(f"organisation_types.toml: {kind}: unknown checklist item IDs "
                                f"{unknown}")
        for item_id in item_ids:
            items[item_id].not_applicable_to.append(kind)
    _apply_english(areas, [*(c for a in areas for c in a.checklists), general], items, curation)
    for practice in practices:
        english = curation.english.get(practice.id)
        practice.title_en = english.title if english else ""
        practice.summary_en = english.summary if english else ""
        practice.needs = sorted(curation.practice_needs.get(practice.id, []))
        practice.activities = list(curation.practice_activities.get(practice.id, []))
        _apply_facts(practice, curation)
    references = merge_references(per_area_refs, curation)
    glossary = parse_glossary(sections.glossary)
    apply_english_texts(areas, [*(c for a in areas for c in a.checklists), general], practices,
                        references, glossary, curation)
    domains = parse_criteria(sections.criteria)
    _apply_criteria_english(domains, areas, general, curation)
    return Handbook(
        areas=areas,
        general_checklist=general,
        practices=practices,
        references=references,
        quality_domains=domains,
        glossary=glossary,
        needs=list(curation.needs),
        activities=list(curation.activities),
    )


def _apply_english(areas, checklists, items, curation: Curation) -> None:
    """Give areas, success factors, checklists and items their English wording."""
    english = curation.structure_en
    targets = {
        "area": ({str(a.number): a for a in areas}, {"title": "title_en", "motto": "motto_en"}),
        "success_factor": ({f.id: f for a in areas for f in a.success_factors},
                           {"name": "name_en"}),
        "checklist": ({c.id: c for c in checklists}, {"title": "title_en"}),
        "item": (items, {"text": "text_en", "keywords": "keywords_en"}),
    }
    for table, (records, fields) in targets.items():
        unknown = sorted(set(english.get(table, {})) - set(records))
        if unknown:
            raise CurationError(f"handbook_en.toml: unknown {table} IDs {unknown}")
        for key, entry in english.get(table, {}).items():
            for source, attribute in fields.items():
                value = getattr(entry, source)
                setattr(records[key], attribute, list(value) if source == "keywords" else value)


def _apply_criteria_english(domains, areas, general, curation: Curation) -> None:
    """Give the quality criteria their English wording and tags (criteria_en.toml): an ID
    the handbook does not have, or a criterion left without English, is an error."""
    english = curation.criteria_en
    if english is None:
        return
    targets = {"domain": {str(d.number): d for d in domains},
               "question": {q.id: q for d in domains for q in d.questions},
               "indicator": {i.id: i for d in domains for q in d.questions for i in q.indicators}}
    for table, records in targets.items():
        given = getattr(english, table)
        unknown, missing = sorted(set(given) - set(records)), sorted(set(records) - set(given))
        if unknown or missing:
            raise CurationError(f"criteria_en.toml: {table} IDs {unknown} are not in the "
                                f"handbook" if unknown else
                                f"criteria_en.toml: no English for {table} IDs {missing}")
    factors = {f.id for a in areas for f in a.success_factors}
    general_items = {i.id for i in general.items}
    for key, entry in english.domain.items():
        unknown = sorted(set(entry.guidance) - general_items)
        if unknown:
            raise CurationError(f"criteria_en.toml: domain {key!r} has unknown general "
                                f"checklist items {unknown}")
        targets["domain"][key].name_en, targets["domain"][key].guidance = entry.name, list(entry.guidance)
    for key, entry in english.question.items():
        unknown = sorted(set(entry.success_factors) - factors)
        if unknown:
            raise CurationError(f"criteria_en.toml: question {key!r} has unknown success "
                                f"factors {unknown}")
        question = targets["question"][key]
        question.text_en, question.activities = entry.text, list(entry.activities)
        question.needs, question.success_factors = list(entry.needs), list(entry.success_factors)
    for key, entry in english.indicator.items():
        targets["indicator"][key].text_en = entry.text


def _apply_facts(practice, curation: Curation) -> None:
    """Give a practice what practice_facts.toml reads from its text; every quoted phrase must
    be in the text, so an entry that no longer matches it is an error."""
    facts = curation.facts.get(practice.id)
    if facts is None:
        return
    flat = " ".join(practice.text.split())
    missing = [phrase for phrase in facts.says if " ".join(phrase.split()) not in flat]
    if missing:
        raise CurationError(f"practice_facts.toml: practice {practice.id!r}: says {missing[0]!r}, "
                            "which is not in its text")
    practice.facts = facts.model_dump(exclude={"says"})


def _check_practices(practices, curation: Curation) -> None:
    known = {p.id for p in practices}
    missing = [e.anchor for e in curation.practices if e.id not in known]
    if missing:
        raise CurationError(f"practices.toml: anchors not found in the handbook: {missing}")
    ids = [p.id for p in practices]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:  # the ids are unique in the file: an anchor was found twice in the text
        raise CurationError(f"practices.toml: the anchors of {twice} begin two examples each")
    for name, table in (("practices_en.toml", curation.english),
                        ("needs.toml", curation.practice_needs),
                        ("activities.toml", curation.practice_activities),
                        ("practice_facts.toml", curation.facts)):
        unknown = sorted(set(table) - known)
        if unknown:
            raise CurationError(f"{name}: unknown practice IDs {unknown}")


def read_handbook(path: Path | str) -> str:
    """Read the handbook text, or raise IngestError saying what is wrong with the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IngestError(f"{path}: is a directory, expected the handbook's text file") from None
    except PermissionError:
        raise IngestError(f"{path}: permission denied") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror}") from None
    if not data.strip():
        raise IngestError(f"{path}: the file is empty")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise IngestError(f"{path}: not UTF-8 text; expected the handbook's extracted text") from None


def ingest(path: Path | str, engine: Engine, curation_dir: Path | str) -> IngestReport:
    """Parse the handbook at ``path`` and upsert its records in one transaction."""
    started = time.perf_counter()
    text = read_handbook(path)
    try:
        curation = load_curation(curation_dir)
    except CurationError as exc:  # a data file is wrong, whatever the handbook says: name it alone
        raise IngestError(str(exc)) from None
    try:
        handbook = parse_handbook(text, curation)
    except (HandbookFormatError, CurationError) as exc:
        raise IngestError(f"{path}: {exc}") from None
    try:
        with transaction(engine) as session:
            report = load_handbook(handbook, session)
    except CurationError as exc:
        raise IngestError(f"{path}: {exc}") from None
    return IngestReport(str(path), time.perf_counter() - started, report, handbook)
