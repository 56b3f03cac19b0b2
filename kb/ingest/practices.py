"""Stitch an area's good-practice examples back together.

The extraction interleaves two columns: an example can end after the next one begins, or after
a page's URL list several pages later. The rules, in order:

1. An example begins at its anchor (corpus/practices.toml), even in the middle of a paragraph.
2. A paragraph listed as a fragment (corpus/repairs.toml) goes to the example named there.
3. A paragraph that begins in lower case finishes the most recent example whose last sentence
   is unfinished; one printed before its example waits until that example has been read.
4. Any other paragraph continues the example before it.

The success factor is the sub-heading above the example, mapped to the area's success factors.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.ingest.areas import is_examples_heading
from kb.ingest.blocks import HEADING, URL, Block
from kb.ingest.clean import is_finished, is_lower_start
from kb.ingest.curation import Curation, CurationError, PracticeEntry
from kb.ingest.records import PracticeRecord, SuccessFactorRecord
from kb.ingest.sections import HandbookFormatError


@dataclass
class _Draft:
    entry: PracticeEntry
    heading: str | None
    paragraphs: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    def continue_sentence(self, text: str) -> None:
        self.paragraphs[-1] = f"{self.paragraphs[-1]} {text}"


def _norm(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.casefold()).strip()


def split_at_anchors(text: str, entries: list[PracticeEntry]) -> list[tuple[str, PracticeEntry | None]]:
    """Cut ``text`` where an example's anchor begins; pair each piece with its entry, if any."""
    starts = sorted((text.find(e.anchor), e) for e in entries if e.anchor in text)
    pieces: list[tuple[str, PracticeEntry | None]] = []
    if not starts or starts[0][0] > 0:
        pieces.append((text[:starts[0][0]] if starts else text, None))
    for (start, entry), (end, _) in zip(starts, starts[1:] + [(len(text), None)]):
        pieces.append((text[start:end], entry))
    return [(piece.strip(), entry) for piece, entry in pieces if piece.strip()]


def stitch_practices(area: int, blocks: list[Block], curation: Curation) -> tuple[list[_Draft], list[str]]:
    """Return the area's examples as drafts, and the URLs printed among them."""
    drafts: list[_Draft] = []
    waiting: list[str] = []
    printed_urls: list[str] = []
    heading: str | None = None
    for block in blocks:
        if block.kind == HEADING:
            if not is_examples_heading(block.text):
                heading = block.text
            continue
        if block.kind == URL:
            printed_urls.append(block.text)
            continue
        for piece, entry in split_at_anchors(block.text, curation.practices):
            if entry is not None:
                drafts.append(_Draft(entry, heading, [piece]))
            else:
                _place(area, piece, drafts, waiting, curation)
    for piece in waiting:
        unfinished = [d for d in drafts if not is_finished(d.text)]
        if len(unfinished) != 1:
            raise HandbookFormatError(
                f"area {area}: cannot place the fragment {piece[:50]!r}; "
                "name its example in corpus/repairs.toml [[fragment]]")
        unfinished[0].continue_sentence(piece)
    return drafts, printed_urls


def _place(area: int, piece: str, drafts: list[_Draft], waiting: list[str], curation: Curation):
    for start, anchor in curation.fragments.items():
        if piece.startswith(start):
            owner = [d for d in drafts if d.entry.anchor == anchor]
            if not owner:
                raise CurationError(f"repairs.toml: fragment {start!r} names an example "
                                    f"{anchor!r} not found before it in area {area}")
            owner[0].paragraphs.append(piece)
            return
    if is_lower_start(piece):
        for draft in reversed(drafts):
            if not is_finished(draft.text):
                draft.continue_sentence(piece)
                return
        waiting.append(piece)
    elif drafts:
        drafts[-1].paragraphs.append(piece)
    else:
        raise HandbookFormatError(f"area {area}: text before the first example: {piece[:60]!r}")


def to_records(area: int, drafts: list[_Draft], printed_urls: list[str],
               factors: list[SuccessFactorRecord], curation: Curation,
               first_position: int) -> list[PracticeRecord]:
    """Resolve success factors and URLs of the drafts and return practice records."""
    by_name = {_norm(f.name): f for f in factors}
    claimed: set[str] = set()
    records = []
    for offset, draft in enumerate(drafts):
        entry = draft.entry
        heading = entry.factor or draft.heading
        if heading is None:
            raise HandbookFormatError(f"area {area}: example {entry.title!r} has no sub-heading")
        name = curation.factor_headings.get(heading, heading)
        factor = by_name.get(_norm(name))
        if factor is None:
            raise CurationError(f"area {area}: sub-heading {heading!r} is no success factor of the "
                                "area; map it in corpus/repairs.toml [factor_headings]")
        for url in entry.urls:
            if url not in printed_urls:
                raise CurationError(f"practices.toml: {entry.title!r} claims {url}, which is not "
                                    f"printed among area {area}'s examples")
        claimed.update(entry.urls)
        records.append(PracticeRecord(
            id=entry.id, area=area, success_factor=factor.id, title=entry.title,
            organisation=entry.organisation, city=entry.city, countries=list(entry.countries),
            text=draft.text, urls=list(entry.urls), position=first_position + offset))
    unclaimed = [u for u in printed_urls if u not in claimed]
    if unclaimed:
        raise CurationError(f"area {area}: URLs printed with the examples but claimed by none in "
                            f"corpus/practices.toml: {unclaimed}")
    return records
