"""Parse the glossary (section 8): a term, a colon, its definition."""
from __future__ import annotations

import re

from kb.ingest.clean import Line
from kb.core.vocabulary import slugify
from kb.ingest.records import GlossaryTermRecord
from kb.ingest.sections import HandbookFormatError

ENTRY = re.compile(r"^([A-ZĀČĒĢĪĶĻŅŠŪŽ][\w ]{1,60}?):\s+(\S.*)$")


def parse_glossary(lines: list[Line]) -> list[GlossaryTermRecord]:
    """Return the glossary terms in the handbook's order."""
    entries: list[list[str]] = []
    for line in lines[1:]:  # the first line is the section heading
        text = line.text.strip()
        if not text:
            continue
        match = ENTRY.match(text)
        if match and len(match.group(1).split()) <= 5:
            entries.append([match.group(1), match.group(2)])
        elif entries:
            entries[-1][1] += " " + text
    if not entries:
        raise HandbookFormatError("glossary (section 8) has no terms")
    return [GlossaryTermRecord(id=slugify(term), position=i, term=term, definition=definition.strip())
            for i, (term, definition) in enumerate(entries, 1)]
