"""Parse the "Uzziniet vairāk" references of an area: citation, description, URLs.

A reference list is printed as citations (in English, or ending with a year), each followed by
a Latvian description, and then the URLs of the whole list, one per reference in order. The
same reference listed by several areas becomes one record linked to each of them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.ingest.blocks import HEADING, URL, Block
from kb.ingest.curation import Curation, CurationError
from kb.core.vocabulary import slugify
from kb.ingest.records import ReferenceRecord
from kb.ingest.sections import HandbookFormatError

YEAR = re.compile(r"(?:19|20)\d\d")
ENDS_WITH_YEAR = re.compile(r"(?:19|20)\d\d\)?\.?(?:\s*gads)?\.?\s*$")
LATVIAN_LETTERS = re.compile(r"[āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ]")
PERSON = r"[A-ZĀ-Ž][\w'’-]+,?\s(?:[A-Z]\.\s?)+"
AUTHORS = re.compile(rf"^((?:{PERSON}(?:[,;]\s*|\s*&\s*|\s+and\s+))+)")


@dataclass
class _Citation:
    text: str
    description: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


def is_citation(text: str) -> bool:
    """A citation ends with its year, or is written in English (no Latvian letters)."""
    return bool(ENDS_WITH_YEAR.search(text)) or not LATVIAN_LETTERS.search(text)


def parse_citation(text: str, overrides: dict[str, dict]) -> tuple[str, str, int | None]:
    """Return (authors, title, year) of a citation; corpus/references.toml overrides the rule."""
    for start, override in overrides.items():
        if text.startswith(start):
            return override.get("authors", ""), override["title"], override.get("year")
    years = YEAR.findall(text)
    year = int(years[-1]) if years else None
    match = AUTHORS.match(text)
    if match:
        authors, rest = match.group(1).rstrip(" ,;&"), text[match.end():]
    else:
        head, _, rest = text.partition(", ")
        authors, rest = (head, rest) if rest and len(head.split()) <= 10 else ("", text)
    title = rest.split(", ")[0]
    title = re.sub(r"[\s,.(]*(?:19|20)\d\d\)?\.?(?:\s*gads)?\.?\s*$", "", title).strip(" ,.")
    return authors, title, year


def citations(area: int, blocks: list[Block], curation: Curation) -> list[_Citation]:
    """Group an area's reference blocks into citations with their descriptions and URLs."""
    groups: list[list[_Citation]] = [[]]
    group_urls: list[list[str]] = [[]]
    for block in blocks:
        if block.kind == HEADING:
            continue
        if block.kind == URL:
            group_urls[-1].append(block.text)
            continue
        if group_urls[-1]:  # a citation after a URL list starts the next list
            groups.append([])
            group_urls.append([])
        if is_citation(block.text):
            groups[-1].append(_Citation(block.text))
        elif groups[-1]:
            groups[-1][-1].description.append(block.text)
        else:
            raise HandbookFormatError(f"area {area}: reference description without a citation: "
                                      f"{block.text[:60]!r}")
    for number, (refs, urls) in enumerate(zip(groups, group_urls), 1):
        counts = curation.reference_urls.get((area, number), [1] * len(refs))
        if len(counts) != len(refs) or sum(counts) != len(urls):
            raise CurationError(
                f"area {area}, reference list {number}: {len(refs)} references and {len(urls)} "
                "URLs; give the URLs per reference in corpus/repairs.toml [[reference_urls]]")
        position = 0
        for ref, count in zip(refs, counts):
            ref.urls = urls[position:position + count]
            position += count
    return [ref for refs in groups for ref in refs]


def merge_references(per_area: dict[int, list[_Citation]], curation: Curation) -> list[ReferenceRecord]:
    """One record per distinct reference (same title and year), linked to every listing area."""
    records: dict[str, ReferenceRecord] = {}
    for area, cites in sorted(per_area.items()):
        for cite in cites:
            authors, title, year = parse_citation(cite.text, curation.reference_overrides)
            ref_id = slugify(title, 80) + (f"-{year}" if year else "")
            if ref_id in records:
                record = records[ref_id]
                if area not in record.areas:
                    record.areas.append(area)
                record.urls += [u for u in cite.urls if u not in record.urls]
                continue
            records[ref_id] = ReferenceRecord(
                id=ref_id, citation=cite.text, authors=authors, title=title, year=year,
                description="\n\n".join(cite.description), urls=list(cite.urls), areas=[area],
                position=len(records) + 1)
    return list(records.values())
