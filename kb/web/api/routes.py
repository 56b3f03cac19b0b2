"""The JSON API: a contract other tools rely on (see /api/openapi.json)."""
from __future__ import annotations

from dataclasses import replace

from flask import Response, jsonify, request
from pydantic import ValidationError
from sqlalchemy import func, select

from kb.core.models import (Area, Checklist, ChecklistItem, GlossaryTerm, Practice, Reference, SuccessFactor)
from kb.web import export, params
from kb import catalogue
from kb.web.api import bp
from kb.web.lookups import get_area, get_practice
from kb.web.api.openapi import spec
from kb.assessment.recommend import UnknownItems, recommend
from kb.web.errors import BadParameter
from kb.web.serialize import (RecommendationRequest, area_json, checklist_json, criteria_json,
                              glossary_json, practice_json, recommendation_json,
                              reference_json, search_json)
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
                                    sort=params.sort(args), lang=params.language(args))
    # total counts only the results that match q; when none does, "closest" holds the nearest
    # misses (at most 5), never counted and never among the results
    return jsonify(search_json(results))


@bp.get("/search/export")
def search_export():
    """Export every practice a search finds (query, filters and order; all pages) as JSON or
    CSV, at most export.MAX_ROWS; the CSV header in the UI language."""
    args = request.args
    fmt = args.get("format", "").strip() or "json"
    if fmt not in export.FORMATS:
        raise BadParameter(f"format must be one of {', '.join(export.FORMATS)}, got "
                           f"{fmt[:20]!r}", "format")
    if any(t != "practice" for t in params.filters(args).types):
        raise BadParameter("an export lists practices: leave type out (or type=practice)",
                           "type")
    q = params.query_text(args)
    filters = params.filters(args)
    filters = replace(filters, types=("practice",))
    sort, lang = params.sort(args), params.language(args)
    results = search_reader().search(q, filters, limit=export.MAX_ROWS, sort=sort, lang=lang)
    if results.total > export.MAX_ROWS:
        raise BadParameter(export.too_many(results.total), None)
    practices = catalogue.practices_in_order(db(), [h.record_id for h in results.hits])
    records = [export.exported(practice_json(p), p) for p in practices]
    if fmt == "csv":
        return Response(export.to_csv(records), mimetype="text/csv", headers={
            "Content-Disposition": "attachment; filename=kb-practices.csv"})
    return jsonify({"query": q, "sort": sort, "total": len(records), "results": records,
                    "filters": {f.name: list(values) for f, values in filters.selected()}})


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
    try:
        wanted = RecommendationRequest.model_validate(body)
    except ValidationError as exc:
        param, message = RecommendationRequest.problem(exc)
        raise BadParameter(message, param) from None
    try:
        found = recommend(search_reader(), db(), wanted.unmet, limit=wanted.limit)
    except UnknownItems as exc:
        raise BadParameter(f"unknown checklist item IDs: {', '.join(exc.ids)}", "unmet") from None
    return jsonify({"results": [recommendation_json(r, wanted.lang) for r in found]})


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI description of this API."""
    return jsonify(spec())
