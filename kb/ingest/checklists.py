"""Parse the general checklist (section 6): one list of tasks for a comprehensive initiative."""
from __future__ import annotations

import re

from kb.ingest.blocks import HEADING, TEXT, to_blocks
from kb.ingest.clean import Line
from kb.ingest.records import ChecklistItemRecord, ChecklistRecord, sentence_case
from kb.ingest.sections import HandbookFormatError

GENERAL_ID = "general"


def parse_general_checklist(lines: list[Line]) -> ChecklistRecord:
    """Return the general checklist; its title is the section heading without its number."""
    blocks = to_blocks(lines)
    title = " ".join(b.text for b in blocks if b.kind == HEADING)
    title = sentence_case(re.sub(r"^6\.\s*", "", title))
    checklist = ChecklistRecord(id=GENERAL_ID, area=None, position=1, title=title)
    for block in blocks:
        if block.kind == TEXT:
            position = len(checklist.items) + 1
            checklist.items.append(ChecklistItemRecord(
                id=f"{GENERAL_ID}-{position:02d}", position=position, text=block.text))
    if not checklist.items:
        raise HandbookFormatError("general checklist (section 6) has no items")
    return checklist
