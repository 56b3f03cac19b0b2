"""The OpenAPI 3.1 description of the JSON API, generated from the routes and the shapes.

Every /api route has an `Operation` here -- `spec` fails on one without -- and its path and
methods come from the app's URL map, its summary from the view's docstring, its answers from
the shapes of `kb.web.serialize` (their JSON schemas, `$defs` and all, become the components)
and the search parameters from the facet registry (`kb.search.FACETS`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from kb import catalogue
from kb.curation.schema import PracticeRecord
from kb.core.vocabulary import COUNTRIES, LANGUAGES
from kb.search import FACETS
from kb.search.facets import AREAS, BY_NAME
from kb.search.sorting import SORTS
from kb.web import export, params, serialize
from kb.web.services import db

COMPONENTS = "#/components/schemas/{model}"


def _param(name: str, schema: dict, description: str, location: str = "query") -> dict:
    return {"name": name, "in": location, "required": location == "path",
            "schema": schema, "description": description}


def _facet(name: str) -> dict:
    facet = BY_NAME[name]
    return _param(facet.name, facet.schema, facet.help)


LIMIT = _param("limit", {"type": "integer", "minimum": 1, "maximum": params.MAX_LIMIT},
               "Results per page.")
OFFSET = _param("offset", {"type": "integer", "minimum": 0, "maximum": params.MAX_OFFSET},
                "Results to skip.")
QUERY = _param("q", {"type": "string", "maxLength": params.MAX_QUERY},
               "Plain words and \"phrases\"; empty lists every record matching the filters.")
SORT = _param("sort", {"type": "string", "enum": list(SORTS)},
              "Order: relevance (default), quality score, title (A-Z), country (A-Z by the "
              "first country's name) or newest (date added) first; ties keep relevance order.")
LANG = _param("lang", {"type": "string", "enum": list(LANGUAGES)},
              "The language titles and country names are sorted in (and the CSV export's "
              "header is written in); default the UI's language (cookie, Accept-Language), "
              "else lv.")
SEARCH = (QUERY, *(_facet(f.name) for f in FACETS), SORT, LANG, LIMIT, OFFSET)
EXPORT = (QUERY, *(_facet(f.name) for f in FACETS if f.name != "type"), SORT, LANG,
          _param("format", {"type": "string", "enum": list(export.FORMATS)},
                 f"csv or json (default). At most {export.MAX_ROWS} practices: a larger "
                 "result set is refused (400); narrow it with q or filters."))
# A path parameter by the name its errors give it, with its description.
PATH = {"practice_id": ("id", "Practice ID."), "number": ("n", "Key area 1-6."),
        "token": ("token", "The secret token of a suggestion's status link.")}


@dataclass(frozen=True)
class Operation:
    answer: type[BaseModel] | None  # the 200 answer's shape; None: any JSON object
    errors: tuple[int, ...] = ()    # the statuses it answers with an error (any may be 500)
    parameters: tuple[dict, ...] = ()
    body: type[BaseModel] | None = None
    answered: tuple[int, ...] = ()  # other statuses answered with the same shape
    alternatives: dict | None = None  # other media types of the 200 answer, with their schemas
    shaped: tuple[tuple[int, type[BaseModel]], ...] = ()  # statuses with a shape of their own
    ok: int = 200  # the status of the answer (201: it created something)


OPERATIONS = {
    "api.health": Operation(serialize.Health, answered=(503,)),  # 503: "degraded"
    "api.search": Operation(serialize.SearchResults, (400, 503), SEARCH),
    "api.search_export": Operation(serialize.SearchExport, (400, 503), EXPORT,
                                   alternatives={"text/csv": {"type": "string"}}),
    "api.practices": Operation(serialize.PracticeList, (400,), (
        _param("area", {"type": "integer", "minimum": 1, "maximum": AREAS}, f"Key area 1-{AREAS}."),
        _param("country", {"type": "string", "enum": sorted(COUNTRIES | {c.lower() for c in
                                                                          COUNTRIES})},
               "ISO 3166-1 alpha-2 country code."), LIMIT, OFFSET)),
    "api.practice": Operation(serialize.Practice, (404,)),
    "api.areas": Operation(serialize.Areas),
    "api.area": Operation(serialize.Area, (404,)),
    "api.checklists": Operation(serialize.Checklists),
    "api.references": Operation(serialize.References),
    "api.glossary": Operation(serialize.Glossary),
    "api.criteria": Operation(serialize.Criteria),
    "api.recommendations": Operation(serialize.Recommendations, (400, 503),
                                     body=serialize.RecommendationRequest),
    "api.openapi": Operation(None),
    "curate.api_queue": Operation(serialize.Queue, (401,)),
    "curate.api_suggestion_status": Operation(serialize.SuggestionStatus, (404,)),
}


# Functions that give a schema the values this deployment accepts (checklist items, quality
# indicators), called with the components' schemas.
VOCABULARIES: list = []


def components() -> tuple[dict, dict]:
    """The schema reference of every shape, and the schemas (each model once, by its name).

    `kb export`'s line (PracticeRecord) is among them, though no endpoint answers with it."""
    shapes = [(op.answer, "serialization") for op in OPERATIONS.values() if op.answer]
    shapes += [(op.body, "validation") for op in OPERATIONS.values() if op.body]
    shapes += [(shape, "serialization") for op in OPERATIONS.values() for _s, shape in op.shaped]
    shapes += [(serialize.Error, "serialization"), (PracticeRecord, "validation")]
    refs, schemas = models_json_schema(shapes, ref_template=COMPONENTS)
    return {model: ref for (model, _mode), ref in refs.items()}, schemas["$defs"]


def _content(ref: dict | None) -> dict:
    return {"application/json": {"schema": ref or {"type": "object"}}}


def _operation(endpoint: str, rule: str, refs: dict) -> dict:
    op = OPERATIONS[endpoint]
    doc = (current_app.view_functions[endpoint].__doc__ or "").strip()
    error = {"description": "Error", "content": _content(refs[serialize.Error])}
    path = [_param(PATH[name][0], {"type": "integer" if converter == "int" else "string"},
                   PATH[name][1], "path")
            for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule)]
    answer = {"content": _content(refs.get(op.answer))}
    ok = {"content": {**answer["content"], **{media: {"schema": schema} for media, schema
                                              in (op.alternatives or {}).items()}}}
    operation = {"summary": " ".join(doc.split()) or endpoint, "operationId": endpoint,
                 "parameters": [*path, *map(_with_vocabulary, op.parameters)],
                 "responses": {str(op.ok): {"description": "OK" if op.ok == 200 else
                                            "Created", **ok},
                               **{str(s): {"description": "Answered", **answer}
                                  for s in op.answered},
                               **{str(s): error for s in op.errors},
                               **{str(s): {"description": shape.__doc__.strip().split("\n")[0]
                                           if shape.__doc__ else "Answered",
                                           "content": _content(refs[shape])}
                                  for s, shape in op.shaped},
                               "default": error}}
    if op.body is not None:
        operation["requestBody"] = {"required": True, "content": _content(refs[op.body])}
    return operation


def _with_vocabulary(parameter: dict) -> dict:
    """A facet parameter whose values come from the database (needs, activities, success
    factors) lists this deployment's values: the document says exactly what is accepted."""
    facet = BY_NAME.get(parameter["name"])
    if facet is None or facet.codes is None:
        return parameter
    values = {"type": "string", "enum": facet.codes(db())}
    return {**parameter, "schema": {"type": "array", "items": values} if facet.several
            else values}


def _path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + PATH[m.group(1)][0] + "}", rule)


def spec() -> dict:
    """The OpenAPI document of the app's /api routes."""
    refs, schemas = components()
    unmet = schemas.get("RecommendationRequest", {}).get("properties", {}).get("unmet")
    if unmet is not None:  # the checklist items there are
        unmet["items"] = {"type": "string",
                          "enum": [i.id for c in catalogue.checklists(db()) for i in c.items]}
    for vocabulary in VOCABULARIES:
        vocabulary(schemas)
    paths: dict[str, dict] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith("/api/"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                paths.setdefault(_path(rule.rule), {})[method.lower()] = _operation(
                    rule.endpoint, rule.rule, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "kb API", "version": "1",
                 "description": "Good practices for the inclusion of refugees: search and records "
                                "from the UNHCR/MPG handbook. Every error has one shape."},
        "paths": paths,
        "components": {"schemas": schemas},
    }
