"""The JSON API: a contract other tools rely on (see /api/openapi.json)."""
from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import func, select

from kb.core.models import (Area, Checklist, ChecklistItem, GlossaryTerm, Practice, Reference, SuccessFactor)
from kb.web import params
from kb import catalogue
from kb.web.api import bp
from kb.web.lookups import get_area, get_practice
from kb.web.api.openapi import spec
from kb.assessment.recommend import UnknownItems, recommend
from kb.web.errors import BadParameter
from kb.web.serialize import (area_json, checklist_json, criteria_json, glossary_json, hit_json,
                              practice_json, reference_json)
from kb.search import IndexUnavailable
from kb.web.services import db, search_reader, search_service

RECORD_COUNTS = {"areas": Area, "success_factors": SuccessFactor, "checklists": Checklist,
                 "checklist_items": ChecklistItem, "practices": Practice,
                 "references": Reference, "glossary_terms": GlossaryTerm}


@bp.get("/health")
def health():
    """Report record counts and the search index; 503 "degraded" with the reasons when the
    index is missing, damaged, or does not match the database."""
    records = {name: db().scalar(select(func.count()).select_from(model))
               for name, model in RECORD_COUNTS.items()}
    try:
        index = search_service().health()
    except IndexUnavailable as exc:
        return jsonify({"status": "degraded", "records": records,
                        "index": {"error": str(exc), "problems": [str(exc)]}}), 503
    status = index.pop("status")
    index = {**index.pop("build"), **index, "error": "; ".join(index["problems"]) or None}
    return jsonify({"status": status, "records": records, "index": index}), \
        200 if status == "ok" else 503


@bp.get("/search")
def search():
    """Search every record type; an empty q with filters lists every matching record."""
    args = request.args
    q = params.query_text(args)
    filters = params.filters(args)
    limit, offset = params.paging(args)
    results = search_reader().search(q, filters, limit=limit, offset=offset,
                                    sort=params.sort(args))
    return jsonify({"query": results.query, "total": results.total,
                    "results": [hit_json(h) for h in results.hits], "facets": results.facets})


@bp.get("/practices")
def practices():
    """List published practices with their full text, filtered by area and country."""
    args = request.args
    area = params.integer(args, "area", None, 1, 6)
    country = params.country(args)
    limit, offset = params.paging(args, default_limit=20)
    total, rows = catalogue.practices(db(), area, country, limit, offset)
    return jsonify({"total": total, "results": [practice_json(p) for p in rows]})


@bp.get("/practices/<practice_id>")
def practice(practice_id: str):
    """One practice with its full text."""
    return jsonify(practice_json(get_practice(practice_id)))


@bp.get("/areas")
def areas():
    """The six key areas."""
    return jsonify({"areas": [area_json(a) for a in catalogue.areas(db())]})


@bp.get("/areas/<int:number>")
def area(number: int):
    """One key area with its success factors, checklists and references."""
    return jsonify(area_json(get_area(number), full=True))


@bp.get("/checklists")
def checklists():
    """Every checklist with its items: the six areas' and the general one (area null)."""
    return jsonify({"areas": [checklist_json(c) for c in catalogue.checklists(db())]})


@bp.get("/references")
def references():
    """Every reference ("Uzziniet vairāk"), with the areas that list it."""
    return jsonify({"references": [reference_json(r) for r in catalogue.references(db())]})


@bp.get("/glossary")
def glossary():
    """The glossary."""
    return jsonify({"terms": [glossary_json(t) for t in catalogue.glossary(db())]})


@bp.get("/criteria")
def criteria():
    """The quality criteria: domains, guiding questions, indicators."""
    return jsonify({"domains": [criteria_json(d) for d in catalogue.criteria(db())]})


@bp.post("/recommendations")
def recommendations():
    """Practices for the checklist items an organisation does not meet yet."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadParameter("send a JSON object: {\"unmet\": [item IDs], \"limit\": n, "
                           "\"lang\": \"lv\" or \"en\"}", "body")
    unmet = body.get("unmet")
    if not isinstance(unmet, list) or not all(isinstance(i, str) for i in unmet):
        raise BadParameter("unmet must be a list of checklist item IDs", "unmet")
    if not unmet:
        raise BadParameter("unmet is empty: give at least one checklist item ID", "unmet")
    if len(unmet) > 200:
        raise BadParameter("unmet may list at most 200 items", "unmet")
    limit = body.get("limit", 10)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
        raise BadParameter("limit must be a whole number from 1 to 100", "limit")
    lang = body.get("lang", "lv")
    if lang not in ("lv", "en"):
        raise BadParameter("lang must be \"lv\" or \"en\"", "lang")
    try:
        found = recommend(search_reader(), db(), unmet, limit=limit)
    except UnknownItems as exc:
        raise BadParameter(f"unknown checklist item IDs: {', '.join(exc.ids)}", "unmet") from None
    return jsonify({"results": [
        {"id": r.id, "title": (r.title_en or r.title) if lang == "en" else r.title,
         "country": r.countries, "area": r.area, "score": r.score, "because": r.because,
         "why": [{"item": x.item, "words": x.words, "needs": x.needs,
                  "activities": x.activities, "same_area": x.same_area,
                  "same_success_factor": x.same_factor} for x in r.reasons]}
        for r in found]})


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI description of this API."""
    return jsonify(spec())
