"""Pages for practitioners. Every page can also be read as JSON (?format=json)."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

from flask import jsonify, render_template, request, url_for
from flask_babel import get_locale
from sqlalchemy import select

from kb.core.models import (SuccessFactor)
from kb.web import params
from kb import catalogue
from kb.core.config import setting
from kb.curation import provenance
from kb.web.lookups import get_area, get_practice
from kb.web.errors import NotFound, Unavailable, wants_json
from kb.core.messages import N_
from kb.web.helpers import localized
from kb.web.main import bp
from kb.web.serialize import (area_json, checklist_json, criteria_json, glossary_json, hit_json,
                              practice_json, reference_json)
from kb.search import TYPES, DocKey, Filters
from kb.search.sorting import SORTS
from kb.web.services import db, search_reader

PAGE_SIZE = 10


def render_page(template: str, data: dict, **context):
    """One renderer: JSON when asked for (?format=json or Accept), else the HTML template."""
    if wants_json():
        return jsonify(data)
    return render_template(template, **data, **context)


@bp.get("/")
def home():
    """Search box; browse by key area, country, need and activity, with counts."""
    practices = db().scalars(catalogue.published()).all()
    per_area = Counter(p.area_id for p in practices)
    per_country = Counter(c for p in practices for c in p.country_codes)
    per_need = Counter(n for p in practices for n in p.need_codes)
    per_activity = Counter(a for p in practices for a in p.activity_codes)
    areas = [{**area_json(a), "practices": per_area.get(a.id, 0)}
             for a in catalogue.areas(db())]
    return render_page("home.html", {
        "areas": areas, "countries": dict(per_country.most_common()),
        "needs": dict(per_need.most_common()), "activities": dict(per_activity.most_common()),
        "practices": len(practices), "sources": provenance.counts(practices)})


@bp.get("/search")
def search():
    """Practices (or the record types asked for) with multi-select facets whose counts follow,
    sorts, pages and export links; the other record types that match beside them, each linked
    to its place. All state is in the URL."""
    args = request.args
    q = params.query_text(args)
    filters = params.filters(args)
    if not filters.types:  # the page searches practices unless other types are asked for
        filters = replace(filters, types=("practice",))
    page = params.integer(args, "page", 1, 1, 1000)
    sort, lang = params.sort(args), str(get_locale())
    reader = search_reader()
    results = reader.search(q, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                            sort=sort, lang=lang)
    pages = max(1, math.ceil(results.total / PAGE_SIZE))
    factors = {f.id: localized(f, "name") for f in db().scalars(select(SuccessFactor))}
    areas = {str(a.id): f"{a.id}. {localized(a, 'title')}" for a in catalogue.areas(db())}
    data = {"query": q, "total": results.total, "page": page, "pages": pages,
            "beyond_last_page": results.total > 0 and page > pages, "sort": sort,
            "results": [hit_json(h) for h in results.hits], "facets": results.facets,
            "filters": filters.as_dict(), "closest": [hit_json(h) for h in results.closest],
            "suggestion": results.suggestion or None, "browse": None,
            "elsewhere": elsewhere(reader, q, filters, results.facets["type"])}
    if results.total == 0:  # what helps when nothing matches: the handbook by need and country
        practices = reader.search("", Filters(types=("practice",)), limit=0).facets
        data["browse"] = {"needs": practices["need"], "countries": practices["country"]}
    selected = {f.name: [str(v) for v in values] for f, values in filters.selected()}
    kept = {key: args.getlist(key) for key in args if key not in ("page", "type", "format", "lang")}
    export_urls = {fmt: url_for("api.search_export", **kept, lang=lang, format=fmt)
                   for fmt in ("csv", "json")}
    return render_page("search.html", data, factor_names=factors, area_names=areas,
                       selected=selected, sorts=SORTS, export_urls=export_urls,
                       filtered=any(name != "type" for name in selected))


ELSEWHERE_HITS = 3        # hits shown of each other record type
ELSEWHERE_CANDIDATES = 20  # the best hits of the other types they are taken from


def elsewhere(reader, q: str, filters: Filters, type_counts: dict[str, int]) -> dict | None:
    """The other record types that match ``q`` (and the other filters): how many of each --
    the type facet's counts, which do not apply the type filter -- and the best few of each."""
    others = tuple(t for t in TYPES if t not in filters.types and type_counts.get(t))
    if not q.strip() or not others:
        return None
    found = reader.search(q, replace(filters, types=others), limit=ELSEWHERE_CANDIDATES,
                          facets=False)
    hits = {t: [] for t in others}
    for h in found.hits:
        if len(hits[h.type]) < ELSEWHERE_HITS:
            hits[h.type].append(hit_json(h))
    return {"counts": {t: type_counts[t] for t in others}, "hits": hits}


@bp.get("/checklists")
def checklists():
    """Every checklist with its items: the six key areas' and the general one."""
    return render_page("checklists.html",
                       {"checklists": [checklist_json(c) for c in catalogue.checklists(db())]})


@bp.get("/practices/<practice_id>")
def practice(practice_id: str):
    """A practice: full text, where, who, area, success factor, needs, links, related practices."""
    p = get_practice(practice_id)
    related = []
    try:
        related = [hit_json(h) for h in search_reader().similar(DocKey.practice(p.id), limit=4)]
    except Unavailable:  # the page stands without related practices
        related = []
    data = {"practice": practice_json(p), "area": area_json(p.area),
            "references": [reference_json(r) for r in p.area.references], "related": related}
    return render_page("practice.html", data)


@bp.get("/areas/<int:number>")
def area(number: int):
    """A key area: motto, introduction, benefits, success factors, checklists, practices, references."""
    a = get_area(number)
    practices = db().scalars(catalogue.published(area=number)).all()
    data = {"area": area_json(a, full=True),
            "practices": [practice_json(p, full=False) for p in practices],
            "references": [reference_json(r) for r in a.references]}
    return render_page("area.html", data)


@bp.get("/countries/<code>")
def country(code: str):
    """The practices of one country."""
    code = code.upper()
    practices = db().scalars(catalogue.published(country=code)).all()
    if not practices:
        raise NotFound(N_("kb has no practices from the country with the code %(code)s."), "code",
                       values={"code": code[:10]})
    return render_page("country.html", {"country": code,
                                        "practices": [practice_json(p, full=False) for p in practices]})


@bp.get("/glossary")
def glossary():
    """The glossary."""
    return render_page("glossary.html",
                       {"terms": [glossary_json(t) for t in catalogue.glossary(db())]})


@bp.get("/criteria")
def criteria():
    """The quality-assessment criteria."""
    return render_page("criteria.html",
                       {"domains": [criteria_json(d) for d in catalogue.criteria(db())]},
                       domain_min=setting("KB_QUALITY_DOMAIN_MIN"),
                       overall_min=setting("KB_QUALITY_OVERALL_MIN"))
