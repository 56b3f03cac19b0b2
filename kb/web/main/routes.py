"""Pages for practitioners. Every page can also be read as JSON (?format=json)."""
from __future__ import annotations

import math
from collections import Counter

from flask import jsonify, render_template, request
from sqlalchemy import select

from kb.core.models import (SuccessFactor)
from kb.web import params
from kb import catalogue
from kb.curation import provenance
from kb.web.lookups import get_area, get_practice
from kb.web.errors import NotFound, Unavailable, wants_json
from kb.web.helpers import localized
from kb.web.main import bp
from kb.web.serialize import (area_json, criteria_json, glossary_json, hit_json, practice_json,
                              reference_json)
from kb.search import DocKey, Filters
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
    """Search results with facets, snippets and pages; all state is in the URL."""
    args = request.args
    q = params.query_text(args)
    filters = params.filters(args)
    page = params.integer(args, "page", 1, 1, 1000)
    reader = search_reader()
    results = reader.search(q, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                            sort=params.sort(args))
    pages = max(1, math.ceil(results.total / PAGE_SIZE))
    factors = {f.id: localized(f, "name") for f in db().scalars(select(SuccessFactor))}
    data = {"query": q, "total": results.total, "page": page, "pages": pages,
            "beyond_last_page": results.total > 0 and page > pages,
            "results": [hit_json(h) for h in results.hits], "facets": results.facets,
            "filters": filters.as_dict(), "closest": [hit_json(h) for h in results.closest],
            "suggestion": results.suggestion or None, "browse": None}
    if results.total == 0:  # what helps when nothing matches: the handbook by need and country
        practices = reader.search("", Filters(types=("practice",)), limit=0).facets
        data["browse"] = {"needs": practices["need"], "countries": practices["country"]}
    return render_page("search.html", data, factor_names=factors, filtered=not filters.empty)


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
        raise NotFound(f"no practices in country {code!r}", "code")
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
                       {"domains": [criteria_json(d) for d in catalogue.criteria(db())]})
