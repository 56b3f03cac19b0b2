"""Records as JSON-ready dicts: one shape for the API and for every page's JSON twin."""
from __future__ import annotations

from kb.core.models import Area, Checklist, GlossaryTerm, Practice, QualityDomain, Reference
from kb.search import Hit


def practice_json(p: Practice, full: bool = True) -> dict:
    data = {
        "id": p.id, "title": p.title, "title_en": p.title_en or None,
        "organisation": p.organisation or None, "city": p.city or None,
        "country": p.country_codes, "area": p.area_id,
        "success_factor": p.success_factor_id,
        "success_factor_name": p.success_factor.name if p.success_factor else None,
        "success_factor_name_en": (p.success_factor.name_en or None) if p.success_factor else None,
        "needs": p.need_codes, "activities": p.activity_codes, "source": p.source,
        "quality": {"overall": p.quality_overall, "good_practice": bool(p.good_practice)},
    }
    if full:
        data.update(text=p.text, summary_en=p.summary_en or None, urls=list(p.urls))
    return data


def reference_json(r: Reference) -> dict:
    return {"id": r.id, "title": r.title, "authors": r.authors or None, "year": r.year,
            "citation": r.citation, "description": r.description, "urls": list(r.urls),
            "areas": [a.id for a in r.areas]}


def checklist_json(c: Checklist) -> dict:
    return {"area": c.area_id, "checklist": c.id, "title": c.title,
            "title_en": c.title_en or None,
            "introduction": c.introduction or None, "note": c.note or None,
            "items": [{"id": i.id, "text": i.text, "text_en": i.text_en or None}
                      for i in c.items]}


def area_json(a: Area, full: bool = False) -> dict:
    data = {"area": a.id, "title": a.title, "motto": a.motto, "title_en": a.title_en or None,
            "motto_en": a.motto_en or None}
    if full:
        data.update(
            introduction=a.introduction, benefits=list(a.benefits),
            success_factors=[{"id": f.id, "name": f.name, "name_en": f.name_en or None,
                              "description": f.description} for f in a.success_factors],
            checklists=[checklist_json(c) for c in a.checklists],
            references=[r.id for r in a.references])
    return data


def glossary_json(t: GlossaryTerm) -> dict:
    return {"id": t.id, "term": t.term, "definition": t.definition}


def criteria_json(d: QualityDomain) -> dict:
    return {"domain": d.id, "name": d.name,
            "questions": [{"id": q.id, "text": q.text,
                           "indicators": [{"id": i.id, "text": i.text} for i in q.indicators]}
                          for q in d.questions]}


def hit_json(h: Hit) -> dict:
    return {"id": h.record_id, "type": h.type, "title": h.title, "title_en": h.title_en or None,
            "snippet": h.snippet,
            "score": h.score, "area": h.areas[0] if len(h.areas) == 1 else None,
            "areas": list(h.areas), "country": list(h.countries),
            "success_factor": h.factor or None, "needs": list(h.needs),
            "activities": list(h.activities),
            "retrievers": list(h.retrievers)}
