"""Parse one key area: title, motto, introduction, benefits, success factors and checklists.

The area's blocks run in a fixed order -- introduction, benefits, success factors, checklist(s),
good-practice examples, references -- which `parse_area` walks as a small state machine. The
examples and the references are handed back as blocks for `practices` and `references`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from kb.ingest.blocks import HEADING, TEXT, URL, Block, to_blocks
from kb.ingest.clean import Line, is_heading, is_lower_start
from kb.core.vocabulary import slugify
from kb.ingest.records import (AreaRecord, ChecklistItemRecord, ChecklistRecord,
                               SuccessFactorRecord, sentence_case)
from kb.ingest.sections import AREA_TITLE, HandbookFormatError

FACTOR = re.compile(r"^([A-ZĀČĒĢĪĶĻŅŠŪŽ][^:.;]{2,100}):\s+(\S.*)$")
FOOTNOTE = re.compile(r"^\d\s+[A-ZĀČĒĢĪĶĻŅŠŪŽ]")


@dataclass
class AreaSection:
    record: AreaRecord
    examples: list[Block]
    references: list[Block]


def is_examples_heading(text: str) -> bool:
    return "LABAS PRAKSES PIEMĒRI" in text or text.startswith("LABA PRAKSE")


def is_references_heading(text: str) -> bool:
    return text.startswith("UZZINIET VAIRĀK")


def parse_area(number: int, lines: list[Line], references_start: str | None = None) -> AreaSection:
    """Parse the lines of area ``number``; ``references_start`` marks references printed early."""
    title, motto, rest = _title_and_motto(lines)
    builder = _AreaBuilder(number)
    blocks = to_blocks(rest)
    for i, block in enumerate(blocks):
        if block.kind == HEADING and is_examples_heading(block.text):
            examples, references = _split_references(blocks[i + 1:], references_start, number)
            break
        builder.feed(block)
    else:
        raise HandbookFormatError(f"area {number}: no good-practice examples heading found")
    record = AreaRecord(number=number, title=title, motto=motto,
                        introduction="\n\n".join(builder.introduction),
                        benefits=builder.benefits, success_factors=builder.factors,
                        checklists=builder.finish())
    return AreaSection(record, examples, references)


def _title_and_motto(lines: list[Line]) -> tuple[str, str, list[Line]]:
    match = AREA_TITLE.match(lines[0].text)
    title_parts = [match.group(2)]
    i = 1
    while i < len(lines) and not lines[i].blank and is_heading(lines[i].text):
        title_parts.append(lines[i].text)
        i += 1
    while i < len(lines) and lines[i].blank:
        i += 1
    motto = [lines[i].text]
    i += 1
    while i < len(lines) and not lines[i].blank and is_lower_start(lines[i].text):
        motto.append(lines[i].text)
        i += 1
    return sentence_case(" ".join(title_parts)), " ".join(motto), lines[i:]


def _split_references(blocks: list[Block], start: str | None, number: int):
    for i, block in enumerate(blocks):
        if block.kind == HEADING and is_references_heading(block.text):
            return blocks[:i], blocks[i + 1:]
        if start and block.kind == TEXT and block.text.startswith(start):
            return blocks[:i], blocks[i:]
    raise HandbookFormatError(f"area {number}: no references ('UZZINIET VAIRĀK') found")


class _AreaBuilder:
    """Consumes an area's blocks up to its good-practice examples."""

    def __init__(self, number: int):
        self.number = number
        self.state = "introduction"
        self.introduction: list[str] = []
        self.benefits: list[str] = []
        self.factors: list[SuccessFactorRecord] = []
        self.checklists: list[ChecklistRecord] = []
        self.notes: list[str] = []

    def feed(self, block: Block) -> None:
        if block.kind == URL:
            return  # link annotations printed beside a checklist, not part of it
        if block.kind == HEADING:
            self._heading(block.text)
        elif self.state == "introduction":
            self.introduction.append(block.text)
        elif self.state == "benefits" and not FACTOR.match(block.text):
            self.benefits.append(block.text.rstrip(" ;.").rstrip(" ;."))
        elif self.state in ("benefits", "factors") and FACTOR.match(block.text):
            self.state = "factors"
            self._factor(block.text)
        else:
            self.state = "checklist"
            self._checklist_text(block.text)

    def _heading(self, text: str) -> None:
        if "PRIEKŠROCĪBAS" in text or "IEGUVUMI" in text:
            self.state = "benefits"
        elif text.startswith("VEIKSMES FAKTORI"):
            if self.state in ("introduction", "benefits"):
                self.state = "factors"
        elif "KONTROLSARAKSTS" in text:
            self.state = "checklist"
            untitled = [c for c in self.checklists if not c.title]
            if untitled:
                untitled[0].title = sentence_case(text.rstrip(" :"))
            else:
                self._new_checklist(sentence_case(text.rstrip(" :")))
        else:
            raise HandbookFormatError(f"area {self.number}: unexpected heading {text!r}")

    def _factor(self, text: str) -> None:
        name, description = FACTOR.match(text).groups()
        position = len(self.factors) + 1
        self.factors.append(SuccessFactorRecord(
            id=f"{self.number}-{slugify(name, 60)}", area=self.number, position=position,
            name=name.strip(), description=description.strip()))

    def _checklist_text(self, text: str) -> None:
        if FOOTNOTE.match(text):
            self.notes.append(text[1:].strip())
            return
        checklist = self.checklists[-1] if self.checklists else self._new_checklist("")
        if "kontrolsarakst" in text.lower() and not checklist.introduction:
            # "This checklist describes...": its introduction, printed before or after the
            # items that the PDF's layout put ahead of the checklist heading.
            checklist.introduction = text
        else:
            checklist.items.append(ChecklistItemRecord(
                id=f"{checklist.id}-{len(checklist.items) + 1:02d}",
                position=len(checklist.items) + 1, text=text))

    def _new_checklist(self, title: str) -> ChecklistRecord:
        position = len(self.checklists) + 1
        checklist_id = f"area-{self.number}" if position == 1 else f"area-{self.number}-{position}"
        checklist = ChecklistRecord(id=checklist_id, area=self.number, position=position, title=title)
        self.checklists.append(checklist)
        return checklist

    def finish(self) -> list[ChecklistRecord]:
        if not self.checklists or not all(c.items for c in self.checklists):
            raise HandbookFormatError(f"area {self.number}: checklist without items")
        for note in self.notes:
            self.checklists[0].note = note
        return self.checklists
