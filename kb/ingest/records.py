"""Plain records the parser produces and the loader writes: the handbook, structured."""
from __future__ import annotations

from dataclasses import dataclass, field




def sentence_case(heading: str) -> str:
    """'SKAIDRĪBA PAR BĒGĻIEM' -> 'Skaidrība par bēgļiem'."""
    heading = heading.strip()
    return heading[:1].upper() + heading[1:].lower()


@dataclass
class SuccessFactorRecord:
    id: str
    area: int
    position: int
    name: str
    description: str
    name_en: str = ""
    description_en: str = ""


@dataclass
class ChecklistItemRecord:
    id: str
    position: int
    text: str
    needs: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)
    text_en: str = ""
    keywords_en: list[str] = field(default_factory=list)
    not_applicable_to: list[str] = field(default_factory=list)  # organisation types


@dataclass
class ChecklistRecord:
    id: str
    area: int | None
    position: int
    title: str
    introduction: str = ""
    note: str = ""
    items: list[ChecklistItemRecord] = field(default_factory=list)
    title_en: str = ""
    introduction_en: str = ""
    note_en: str = ""


@dataclass
class AreaRecord:
    number: int
    title: str
    motto: str
    introduction: str
    benefits: list[str]
    success_factors: list[SuccessFactorRecord]
    checklists: list[ChecklistRecord]
    title_en: str = ""
    motto_en: str = ""
    introduction_en: str = ""
    benefits_en: list[str] = field(default_factory=list)


@dataclass
class PracticeRecord:
    id: str
    area: int
    success_factor: str | None
    title: str
    organisation: str
    city: str
    countries: list[str]
    text: str
    urls: list[str]
    position: int
    title_en: str = ""
    summary_en: str = ""
    organisation_en: str = ""
    text_en: str = ""
    needs: list[str] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)
    # The practice template's fields the handbook's text states (corpus/practice_facts.toml).
    facts: dict = field(default_factory=dict)


@dataclass
class ReferenceRecord:
    id: str
    citation: str
    authors: str
    title: str
    year: int | None
    description: str
    urls: list[str]
    areas: list[int]
    position: int
    title_en: str = ""
    description_en: str = ""


@dataclass
class QualityIndicatorRecord:
    id: str
    position: int
    text: str
    text_en: str = ""


@dataclass
class GuidingQuestionRecord:
    id: str
    position: int
    text: str
    indicators: list[QualityIndicatorRecord]
    text_en: str = ""
    # what the question is about (corpus/criteria_en.toml): to find practices that do it
    activities: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    success_factors: list[str] = field(default_factory=list)


@dataclass
class QualityDomainRecord:
    number: int
    name: str
    questions: list[GuidingQuestionRecord]
    name_en: str = ""
    guidance: list[str] = field(default_factory=list)  # general checklist item IDs


@dataclass
class GlossaryTermRecord:
    id: str
    position: int
    term: str
    definition: str
    term_en: str = ""
    definition_en: str = ""


@dataclass
class Handbook:
    areas: list[AreaRecord]
    general_checklist: ChecklistRecord
    practices: list[PracticeRecord]
    references: list[ReferenceRecord]
    quality_domains: list[QualityDomainRecord]
    glossary: list[GlossaryTermRecord]
    needs: list = field(default_factory=list)  # kb.ingest.schemas.Term, from corpus/needs.toml
    activities: list = field(default_factory=list)  # kb.ingest.schemas.Term (activities.toml)

    @property
    def checklists(self) -> list[ChecklistRecord]:
        return [c for a in self.areas for c in a.checklists] + [self.general_checklist]
