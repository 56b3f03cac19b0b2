"""Write parsed handbook records to the database: update in place, never duplicate.

Records are keyed by their stable IDs. Rows the handbook no longer has are removed, except
practices that curators own (source "curator"): ingest never creates, changes or deletes those.
A handbook practice's fields are the handbook's, and it is published -- unless an admin hid
it, which ingest respects; curators' overlay on it (correction note, scores) is never touched.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kb.ingest.curation import CurationError
from kb.ingest.records import Handbook
from kb.core.models import (CURATOR, HANDBOOK, HIDDEN, PUBLISHED, Activity, Area, Checklist, ChecklistItem, GlossaryTerm,
                       GuidingQuestion, Need, Practice, PracticeActivity, PracticeCountry,
                       PracticeNeed,
                       QualityDomain, QualityIndicator, Reference, SuccessFactor, area_reference)


# The practice template's fields ingest writes on a handbook practice: what practice_facts.toml
# says, else empty (a fact taken out of the file is taken off the practice).
FACTS = {"period_start": None, "period_end": None, "ongoing": False, "target_groups": [],
         "reach": None, "funding_source": "", "funding_band": "", "languages": []}


@dataclass
class LoadReport:
    counts: dict[str, int] = field(default_factory=dict)
    per_area: dict[int, int] = field(default_factory=dict)
    per_country: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)


def _upsert(session: Session, model, key, **values):
    obj = session.get(model, key)
    if obj is None:
        obj = model(**{_pk_name(model): key})
        session.add(obj)
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
    return obj


def _pk_name(model) -> str:
    return model.__mapper__.primary_key[0].name


def _remove_stale(session: Session, model, keep: set, report: LoadReport, *where) -> None:
    column = model.__mapper__.primary_key[0]
    stale = session.scalars(select(column).where(column.not_in(keep), *where)).all()
    if stale:
        session.execute(delete(model).where(column.in_(stale)))
        report.removed[model.__tablename__] = len(stale)


def load_handbook(handbook: Handbook, session: Session) -> LoadReport:
    """Upsert every record of ``handbook`` into ``session`` (the caller commits)."""
    report = LoadReport()
    _load_areas(handbook, session, report)
    _load_practices(handbook, session, report)
    _load_references(handbook, session, report)
    _load_criteria(handbook, session, report)
    for term in handbook.glossary:
        _upsert(session, GlossaryTerm, term.id, position=term.position, term=term.term,
                definition=term.definition, term_en=term.term_en,
                definition_en=term.definition_en)
    for position, need in enumerate(handbook.needs, 1):
        _upsert(session, Need, need.code, position=position, label_lv=need.lv, label_en=need.en,
                label_ru=need.ru, label_uk=need.uk, keywords_lv=need.keywords_lv,
                keywords_en=need.keywords_en, keywords_ru=need.keywords_ru,
                keywords_uk=need.keywords_uk)
    for position, activity in enumerate(handbook.activities, 1):
        _upsert(session, Activity, activity.code, position=position, label_lv=activity.lv,
                label_en=activity.en, label_ru=activity.ru, label_uk=activity.uk,
                about=activity.about, about_ru=activity.about_ru, about_uk=activity.about_uk)
    session.flush()
    _remove_stale(session, GlossaryTerm, {t.id for t in handbook.glossary}, report)
    _remove_stale(session, Need, {n.code for n in handbook.needs}, report)
    # Handbook practices got their activities above; curators' practices keep theirs even
    # when the vocabulary drops a code (shown as the bare code until a curator edits it).
    _remove_stale(session, Activity, {a.code for a in handbook.activities}, report)
    report.counts = {
        "areas": len(handbook.areas),
        "success_factors": sum(len(a.success_factors) for a in handbook.areas),
        "checklists": len(handbook.checklists),
        "checklist_items": sum(len(c.items) for c in handbook.checklists),
        "practices": len(handbook.practices),
        "references": len(handbook.references),
        "quality_domains": len(handbook.quality_domains),
        "guiding_questions": sum(len(d.questions) for d in handbook.quality_domains),
        "quality_indicators": sum(len(q.indicators) for d in handbook.quality_domains
                                  for q in d.questions),
        "glossary_terms": len(handbook.glossary),
        "needs": len(handbook.needs),
        "activities": len(handbook.activities),
    }
    report.per_area = dict(sorted(Counter(p.area for p in handbook.practices).items()))
    report.per_country = dict(Counter(c for p in handbook.practices for c in p.countries)
                              .most_common())
    return report


def _load_areas(handbook: Handbook, session: Session, report: LoadReport) -> None:
    factor_ids, checklist_ids, item_ids = set(), set(), set()
    for area in handbook.areas:
        _upsert(session, Area, area.number, title=area.title, motto=area.motto,
                introduction=area.introduction, benefits=area.benefits, title_en=area.title_en,
                motto_en=area.motto_en, introduction_en=area.introduction_en,
                benefits_en=area.benefits_en)
        for f in area.success_factors:
            factor_ids.add(f.id)
            _upsert(session, SuccessFactor, f.id, area_id=area.number, position=f.position,
                    name=f.name, description=f.description, name_en=f.name_en,
                    description_en=f.description_en)
    for checklist in handbook.checklists:
        checklist_ids.add(checklist.id)
        _upsert(session, Checklist, checklist.id, area_id=checklist.area,
                position=checklist.position, title=checklist.title,
                introduction=checklist.introduction, note=checklist.note,
                title_en=checklist.title_en, introduction_en=checklist.introduction_en,
                note_en=checklist.note_en)
        for item in checklist.items:
            item_ids.add(item.id)
            _upsert(session, ChecklistItem, item.id, checklist_id=checklist.id,
                    position=item.position, text=item.text, needs=item.needs,
                    keywords=item.keywords, activities=item.activities, text_en=item.text_en,
                    keywords_en=item.keywords_en, not_applicable_to=item.not_applicable_to)
    session.flush()
    # A curator's practice keeps its place when the handbook drops the factor it named.
    session.execute(update(Practice).where(Practice.success_factor_id.not_in(factor_ids))
                    .values(success_factor_id=None))
    _remove_stale(session, ChecklistItem, item_ids, report)
    _remove_stale(session, Checklist, checklist_ids, report)
    _remove_stale(session, SuccessFactor, factor_ids, report)


def _load_practices(handbook: Handbook, session: Session, report: LoadReport) -> None:
    for p in handbook.practices:
        existing = session.get(Practice, p.id)
        if existing is not None and existing.source == CURATOR:
            raise CurationError(f"practice ID {p.id!r} belongs to a curator's practice; "
                                "give the handbook practice another id in corpus/practices.toml")
        hidden = existing is not None and existing.hidden_at is not None
        practice = _upsert(session, Practice, p.id, source=HANDBOOK,
                           status=HIDDEN if hidden else PUBLISHED, position=p.position,
                           area_id=p.area, success_factor_id=p.success_factor, title=p.title,
                           organisation=p.organisation, city=p.city, text=p.text, urls=p.urls,
                           title_en=p.title_en, summary_en=p.summary_en, text_en=p.text_en,
                           organisation_en=p.organisation_en, **{**FACTS, **p.facts})
        if practice.country_codes != p.countries:
            practice.countries = [PracticeCountry(country=c, position=i)
                                  for i, c in enumerate(p.countries)]
        if practice.need_codes != sorted(p.needs):
            practice.needs = [PracticeNeed(need=n) for n in sorted(p.needs)]
        if practice.activity_codes != p.activities:
            practice.activities = [PracticeActivity(activity=a, position=i)
                                   for i, a in enumerate(p.activities)]
    session.flush()
    _remove_stale(session, Practice, {p.id for p in handbook.practices}, report,
                  Practice.source == HANDBOOK)


def _load_references(handbook: Handbook, session: Session, report: LoadReport) -> None:
    for r in handbook.references:
        _upsert(session, Reference, r.id, position=r.position, citation=r.citation,
                authors=r.authors, title=r.title, year=r.year, description=r.description,
                urls=r.urls, title_en=r.title_en, description_en=r.description_en)
    session.flush()
    wanted = {(a, r.id) for r in handbook.references for a in r.areas}
    present = set(session.execute(select(area_reference.c.area_id,
                                         area_reference.c.reference_id)).all())
    for area_id, ref_id in present - wanted:
        session.execute(delete(area_reference).where(area_reference.c.area_id == area_id,
                                                     area_reference.c.reference_id == ref_id))
    for area_id, ref_id in sorted(wanted - present):
        session.execute(area_reference.insert().values(area_id=area_id, reference_id=ref_id))
    _remove_stale(session, Reference, {r.id for r in handbook.references}, report)


def _load_criteria(handbook: Handbook, session: Session, report: LoadReport) -> None:
    question_ids, indicator_ids = set(), set()
    for domain in handbook.quality_domains:
        _upsert(session, QualityDomain, domain.number, name=domain.name,
                name_en=domain.name_en, guidance=domain.guidance)
        for q in domain.questions:
            question_ids.add(q.id)
            _upsert(session, GuidingQuestion, q.id, domain_id=domain.number,
                    position=q.position, text=q.text, text_en=q.text_en,
                    activities=q.activities, needs=q.needs, success_factors=q.success_factors)
            for i in q.indicators:
                indicator_ids.add(i.id)
                _upsert(session, QualityIndicator, i.id, question_id=q.id,
                        position=i.position, text=i.text, text_en=i.text_en)
    session.flush()
    _remove_stale(session, QualityIndicator, indicator_ids, report)
    _remove_stale(session, GuidingQuestion, question_ids, report)
    _remove_stale(session, QualityDomain, {d.number for d in handbook.quality_domains}, report)
