"""Split the cleaned handbook into its sections: six key areas, general checklist, criteria, glossary."""
from __future__ import annotations

import re
from dataclasses import dataclass

from kb.ingest.clean import Line

AREA_TITLE = re.compile(r"^5\.([1-6])\.\s*(\S.*)$")
STARTS = {
    "general_checklist": re.compile(r"^6\.\s*VISPĀRĒJS"),
    "criteria": re.compile(r"^7\.\s*INTEGRĀCIJAS PRAKSES"),
    "glossary": re.compile(r"^8\.\s*GLOSĀRIJS"),
    "end": re.compile(r"^9\.\s*ATSAUKSMES"),
}


class HandbookFormatError(ValueError):
    """The text is not the handbook, or its structure is not where the parser expects it."""


@dataclass
class Sections:
    areas: dict[int, list[Line]]
    general_checklist: list[Line]
    criteria: list[Line]
    glossary: list[Line]


def split_sections(lines: list[Line]) -> Sections:
    """Cut ``lines`` at the section headings; raise HandbookFormatError if one is missing."""
    marks: list[tuple[int, str]] = []
    seen_areas: set[int] = set()
    for i, line in enumerate(lines):
        match = AREA_TITLE.match(line.text)
        if match and int(match.group(1)) not in seen_areas:
            seen_areas.add(int(match.group(1)))
            marks.append((i, f"area:{match.group(1)}"))
            continue
        for name, pattern in STARTS.items():
            if pattern.match(line.text) and name not in {m for _, m in marks}:
                marks.append((i, name))
    if not seen_areas:
        raise HandbookFormatError(
            "no key areas found: expected headings '5.1.' to '5.6.' of the handbook")
    missing = [f"5.{n}." for n in range(1, 7) if n not in seen_areas]
    missing += [name for name in STARTS if name not in {m for _, m in marks}]
    if missing:
        raise HandbookFormatError(f"handbook sections not found: {', '.join(missing)}")
    marks.sort()
    spans = {name: lines[start:end] for (start, name), (end, _) in zip(marks, marks[1:])}
    return Sections(
        areas={n: spans[f"area:{n}"] for n in range(1, 7)},
        general_checklist=spans["general_checklist"],
        criteria=spans["criteria"],
        glossary=spans["glossary"],
    )
