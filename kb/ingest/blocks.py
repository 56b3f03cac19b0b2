"""Group cleaned lines into blocks: headings, paragraphs of running text, and URLs.

A paragraph ends at a blank line or where the extraction starts a new text block. A paragraph
that begins in lower case after one that did not finish its sentence is the rest of that
sentence (the PDF broke it across a column or a page), so the two are joined again.
"""
from __future__ import annotations

from dataclasses import dataclass

from kb.ingest.clean import Line, is_finished, is_lower_start

HEADING, TEXT, URL = "heading", "text", "url"


@dataclass
class Block:
    kind: str
    text: str

    def __repr__(self) -> str:  # short, for test failure messages
        return f"{self.kind}:{self.text[:60]!r}"


def to_blocks(lines: list[Line]) -> list[Block]:
    """Group ``lines`` into blocks and rejoin sentences the extraction broke."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    previous_was_heading = False

    def flush() -> None:
        if paragraph:
            blocks.append(Block(TEXT, " ".join(paragraph)))
            paragraph.clear()

    for line in lines:
        if line.blank:
            flush()
            previous_was_heading = False
        elif line.is_url:
            flush()
            blocks.append(Block(URL, line.text))
            previous_was_heading = False
        elif line.is_heading:
            flush()
            if previous_was_heading and not line.page_start:
                blocks[-1].text += " " + line.text
            else:
                blocks.append(Block(HEADING, line.text))
            previous_was_heading = True
        else:
            if line.page_start:
                flush()
            paragraph.append(line.text)
            previous_was_heading = False
    flush()
    return join_continuations(blocks)


def join_continuations(blocks: list[Block]) -> list[Block]:
    """Append a lower-case paragraph to the unfinished paragraph before it (URLs between allowed)."""
    out: list[Block] = []
    for block in blocks:
        if block.kind == TEXT and is_lower_start(block.text):
            target = _previous_text(out)
            if target is not None and not is_finished(target.text):
                target.text += " " + block.text
                continue
        out.append(block)
    return out


def _previous_text(blocks: list[Block]) -> Block | None:
    for block in reversed(blocks):
        if block.kind == TEXT:
            return block
        if block.kind == HEADING:
            return None
    return None
