"""kb's English rendering of the Latvian edition: the full texts, checked against the handbook.

corpus/handbook_en_text.toml gives the areas' introductions and benefits, the success factors',
checklists', glossary terms' and references' texts; corpus/practices_en_text.toml the
practices' descriptions. Each file is checked on every ingest, as handbook_en.toml is: an ID
the handbook does not have is refused, and so is a record with Latvian text that has neither
its English text nor a place in the file's ``missing`` list (records reviewed and knowingly
left in Latvian) -- the error names the file, the entry and the key. A translation keeps the
text's shape: one paragraph for each Latvian paragraph, one benefit for each benefit.
"""
from __future__ import annotations

from dataclasses import dataclass

from kb.ingest.curation import Curation, CurationError
from kb.ingest.records import (AreaRecord, ChecklistRecord, GlossaryTermRecord, PracticeRecord,
                               ReferenceRecord)

HANDBOOK_FILE = "handbook_en_text.toml"
PRACTICES_FILE = "practices_en_text.toml"
PARAGRAPH = "\n\n"


@dataclass(frozen=True)
class Table:
    """One table of a text file: its records by ID and the fields it translates."""

    file: str
    name: str
    records: dict
    fields: dict[str, str]    # the entry's key -> the record's Latvian attribute
    missing_hint: str         # where to list a record left without English
    # Whether paragraphs are counted: the text extraction breaks some references'
    # descriptions mid-sentence, which a translation need not copy.
    paragraphs: bool = True


def apply_english_texts(areas: list[AreaRecord], checklists: list[ChecklistRecord],
                        practices: list[PracticeRecord], references: list[ReferenceRecord],
                        glossary: list[GlossaryTermRecord], curation: Curation) -> None:
    """Give the records their English texts from the two files (when present), or refuse."""
    handbook = curation.handbook_text_en
    if handbook is not None:
        hint = "list it in [missing] {table}".format
        tables = [
            Table(HANDBOOK_FILE, "area", {str(a.number): a for a in areas},
                  {"introduction": "introduction", "benefits": "benefits"}, hint(table="area")),
            Table(HANDBOOK_FILE, "success_factor",
                  {f.id: f for a in areas for f in a.success_factors},
                  {"description": "description"}, hint(table="success_factor")),
            Table(HANDBOOK_FILE, "checklist", {c.id: c for c in checklists},
                  {"introduction": "introduction", "note": "note"}, hint(table="checklist")),
            Table(HANDBOOK_FILE, "glossary", {t.id: t for t in glossary},
                  {"term": "term", "definition": "definition"}, hint(table="glossary")),
            Table(HANDBOOK_FILE, "reference", {r.id: r for r in references},
                  {"description": "description"}, hint(table="reference"), paragraphs=False),
        ]
        for table in tables:
            _apply(table, getattr(handbook, table.name), getattr(handbook.missing, table.name))
        for key, entry in handbook.reference.items():  # an optional English title
            table = tables[-1]
            if entry.title:
                table.records[key].title_en = entry.title
    if curation.practices_text_en is not None:
        file = curation.practices_text_en
        _apply(Table(PRACTICES_FILE, "practice", {p.id: p for p in practices},
                     {"organisation": "organisation", "text": "text"}, "list it in missing"),
               file.practice, file.missing)


def _apply(table: Table, entries: dict, missing: list[str]) -> None:
    where = f"{table.file}:"
    unknown = sorted((set(entries) | set(missing)) - set(table.records))
    if unknown:
        raise CurationError(f"{where} unknown {table.name} IDs {unknown}")
    both = sorted(set(entries) & set(missing))
    if both:
        raise CurationError(f"{where} {table.name} {both} have an English text and are listed "
                            "as missing: remove them from the missing list")
    twice = sorted({m for m in missing if missing.count(m) > 1})
    if twice:
        raise CurationError(f"{where} {table.name} {twice} are listed as missing twice")
    for key, record in table.records.items():
        latvian = {name: getattr(record, attribute) for name, attribute in table.fields.items()}
        if not any(latvian.values()) or key in missing:
            continue
        entry = entries.get(key)
        if entry is None:
            raise CurationError(f"{where} {table.name} {key!r} has no English text: add "
                                f"[{table.name}.{key}] or {table.missing_hint}")
        for name, source in latvian.items():
            english = getattr(entry, name)
            _check(f"{where} {table.name} {key!r}: key {name!r}", source, english,
                   table.paragraphs)
            value = [e.strip() for e in english] if isinstance(english, list) else english.strip()
            setattr(record, f"{table.fields[name]}_en", value)


def _check(where: str, latvian, english, paragraphs: bool) -> None:
    """The English keeps the Latvian's shape: present where it is, as many items/paragraphs."""
    if isinstance(latvian, list):
        if len(english) != len(latvian):
            raise CurationError(f"{where} has {len(english)} items, the Latvian text "
                                f"{len(latvian)}")
        return
    if latvian and not english.strip():
        raise CurationError(f"{where} is missing (the Latvian text has one)")
    if english.strip() and not latvian:
        raise CurationError(f"{where} has no Latvian text to translate")
    ours, theirs = _paragraphs(english), _paragraphs(latvian)
    if paragraphs and latvian and ours != theirs:
        raise CurationError(f"{where} has {ours} paragraph(s), the Latvian text {theirs}")


def _paragraphs(text: str) -> int:
    return len([p for p in text.strip().split(PARAGRAPH) if p.strip()])
