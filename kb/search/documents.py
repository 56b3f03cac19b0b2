"""Search documents: every record type flattened into one shape the indexes share."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import timezone
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.core.models import (PRACTICE_LOADS, PUBLISHED, Activity, Area, Checklist, ChecklistItem, GlossaryTerm, Need, Practice,
                       Reference, SuccessFactor)

TYPES = ("practice", "reference", "success_factor", "checklist_item", "glossary_term", "area")


class DocKey(NamedTuple):
    """A document's identity across record types: its type and its record's ID.

    Stored as ``"<type>:<id>"`` (``str(key)``) wherever a string is needed (the lexical index,
    the vectors file, the change log); `DocKey.parse` reads it back.
    """

    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> DocKey:
        kind, sep, record_id = str(text).partition(":")
        if not sep or kind not in TYPES or not record_id:
            raise ValueError(f"not a document key: {text!r}")
        return cls(kind, record_id)

    @classmethod
    def practice(cls, record_id: str) -> DocKey:
        return cls("practice", record_id)


@dataclass(frozen=True)
class Document:
    """One searchable record; `key` identifies it across types."""

    type: str
    record_id: str
    title: str
    text: str
    organisation: str = ""
    english: str = ""  # English title and summary, or an English citation
    title_en: str = ""  # the title in the English UI (empty: the title)
    # kb's English rendering of the whole text (corpus/*_en_text.toml): indexed with the English
    # analyzer beside ``english``, not embedded (the embedder reads the Latvian text).
    text_en: str = ""
    areas: tuple[int, ...] = ()
    countries: tuple[str, ...] = ()
    factor: str = ""
    needs: tuple[str, ...] = ()
    need_terms: str = ""  # labels and keywords of the needs, in Latvian and English
    terms_ru_uk: str = ""  # Russian and Ukrainian words of its needs and activities
    activities: tuple[str, ...] = ()  # codes from corpus/activities.toml, most central first
    position: int = 0
    quality: float | None = None  # overall quality score (%), when curators scored it
    good_practice: bool = False
    added: str = ""  # a practice's date added (UTC, "2026-05-04T10:30:00Z"); "" for the rest
    target_groups: tuple[str, ...] = ()  # the practice template's (kb.core.vocabulary)
    ongoing: bool = False
    source: str = ""  # a practice's provenance: handbook, curator, public or import

    @property
    def key(self) -> DocKey:
        return DocKey(self.type, self.record_id)

    @property
    def passages(self) -> list[str]:
        """Texts the embedder encodes: the title with each part of the text, and the English.

        A short query matches one part of a long text better than the whole of it, so long
        texts are cut at sentences into parts of about CHUNK characters (the document scores
        as its best part).
        """
        head = ". ".join(part for part in (self.title, self.organisation) if part)
        parts = [f"{head}. {chunk}" for chunk in chunks(self.text)] or [head]
        return parts + [self.english] if self.english else parts

    @property
    def content_hash(self) -> str:
        payload = json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def to_json(self) -> dict:
        data = asdict(self)
        for name in LISTED:
            data[name] = list(data[name])
        return data

    @classmethod
    def from_json(cls, data: dict) -> Document:
        # A change logged before a field existed lacks it: the field's default.
        return cls(**{**data, **{name: tuple(data[name]) for name in LISTED if name in data}})


LISTED = ("areas", "countries", "needs", "activities", "target_groups")


CHUNK = 400
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZĀČĒĢĪĶĻŅŠŪŽ\"“0-9])")


def chunks(text: str, size: int = CHUNK) -> list[str]:
    """Split ``text`` into parts of about ``size`` characters at sentence ends."""
    parts: list[str] = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        if parts and len(parts[-1]) + len(sentence) < size:
            parts[-1] += " " + sentence
        elif sentence:
            parts.append(sentence)
    return parts


def need_terms(codes, needs: dict[str, Need]) -> str:
    return " ".join(f"{n.label_lv} {n.keywords_lv} {n.label_en} {n.keywords_en}"
                    for n in (needs.get(c) for c in codes) if n)


# The practice template's text sections, searched with the description.
SECTIONS = ("challenge", "how_it_works", "results", "evaluation", "transferability")


def terms_ru_uk(need_codes, needs: dict[str, Need], activity_codes,
                activities: dict[str, Activity]) -> str:
    """The Russian and Ukrainian words of a practice's needs and activities (labels, keywords,
    descriptions):
    the handbook is Latvian, so these are what a query in either language can match."""
    words = [f"{n.label_ru} {n.keywords_ru} {n.label_uk} {n.keywords_uk}"
             for n in (needs.get(c) for c in need_codes) if n]
    words += [f"{a.label_ru} {a.about_ru} {a.label_uk} {a.about_uk}"
              for a in (activities.get(c) for c in activity_codes) if a]
    return " ".join(words)


def vocabularies(session: Session) -> tuple[dict[str, Need], dict[str, Activity]]:
    """The needs and activities by code, as `practice_document` takes them."""
    return ({n.code: n for n in session.scalars(select(Need))},
            {a.code: a for a in session.scalars(select(Activity))})


def practice_document(p: Practice, needs: dict[str, Need],
                      activities: dict[str, Activity] | None = None) -> Document:
    english = ". ".join(part for part in (p.title_en, p.summary_en) if part)
    text = "\n\n".join(part for part in (p.text, *(getattr(p, s) for s in SECTIONS)) if part)
    return Document(type="practice", record_id=p.id, title=p.title, text=text,
                    organisation=p.organisation, english=english, title_en=p.title_en,
                    text_en="\n\n".join(t for t in (p.organisation_en, p.text_en) if t),
                    areas=(p.area_id,),
                    countries=tuple(p.country_codes), factor=p.success_factor_id or "",
                    needs=tuple(p.need_codes), need_terms=need_terms(p.need_codes, needs),
                    terms_ru_uk=terms_ru_uk(p.need_codes, needs, p.activity_codes,
                                            activities or {}),
                    activities=tuple(p.activity_codes),
                    position=p.position, quality=p.quality_overall,
                    good_practice=bool(p.good_practice), added=added(p),
                    target_groups=tuple(p.target_groups or ()), ongoing=bool(p.ongoing),
                    source=p.provenance)


def added(p: Practice) -> str:
    """When ``p`` was added, in UTC to the second (SQLite returns its timestamps naive)."""
    when = p.created_at
    if when is None:
        return ""
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def load_documents(session: Session) -> list[Document]:
    """Every searchable record in the database, as documents (published practices only)."""
    docs: list[Document] = []
    needs, activities = vocabularies(session)
    practices = session.scalars(
        select(Practice).where(Practice.status == PUBLISHED).options(*PRACTICE_LOADS)
        .order_by(Practice.position, Practice.id))
    docs += [practice_document(p, needs, activities) for p in practices]
    for r in session.scalars(select(Reference).options(selectinload(Reference.areas))
                             .order_by(Reference.position)):
        docs.append(Document(type="reference", record_id=r.id, title=r.title, text=r.description,
                             organisation=r.authors, english=r.citation, title_en=r.title_en,
                             text_en=r.description_en,
                             areas=tuple(a.id for a in r.areas), position=r.position))
    for f in session.scalars(select(SuccessFactor).order_by(SuccessFactor.area_id,
                                                            SuccessFactor.position)):
        docs.append(Document(type="success_factor", record_id=f.id, title=f.name,
                             text=f.description, english=f.name_en, title_en=f.name_en,
                             text_en=f.description_en,
                             areas=(f.area_id,), factor=f.id,
                             position=f.area_id * 100 + f.position))
    items = session.scalars(select(ChecklistItem).join(Checklist)
                            .order_by(Checklist.area_id, Checklist.position, ChecklistItem.position))
    for i, item in enumerate(items, 1):
        area = item.checklist.area_id
        english = " ".join([item.text_en, *item.keywords_en]).strip()
        docs.append(Document(type="checklist_item", record_id=item.id, title=item.text,
                             text=item.checklist.title, english=english, title_en=item.text_en,
                             areas=(area,) if area else (),
                             position=i))
    for t in session.scalars(select(GlossaryTerm).order_by(GlossaryTerm.position)):
        docs.append(Document(type="glossary_term", record_id=t.id, title=t.term,
                             text=t.definition, english=t.term_en, title_en=t.term_en,
                             text_en=t.definition_en,
                             position=t.position))
    for a in session.scalars(select(Area).order_by(Area.id)):
        docs.append(Document(type="area", record_id=str(a.id), title=a.title,
                             text="\n\n".join([a.motto, a.introduction, *a.benefits]),
                             english=". ".join(t for t in (a.title_en, a.motto_en) if t),
                             title_en=a.title_en,
                             text_en="\n\n".join([a.introduction_en, *a.benefits_en]).strip(),
                             areas=(a.id,), position=a.id))
    return docs


def corpus_hash(documents: list[Document]) -> str:
    """A fingerprint of the indexed content: changes whenever any document does."""
    digest = hashlib.sha256()
    for h in sorted(str(d.key) + d.content_hash for d in documents):
        digest.update(h.encode())
    return digest.hexdigest()[:16]
