"""The OpenAPI 3.1 description of the JSON API."""
from __future__ import annotations

from kb.search import FACETS, TYPES

ERROR = {"$ref": "#/components/schemas/Error"}


def _param(name: str, schema: dict, description: str, location: str = "query") -> dict:
    return {"name": name, "in": location, "required": location == "path",
            "schema": schema, "description": description}


def _get(summary: str, parameters: list, response: dict, errors=(400,)) -> dict:
    responses = {"200": {"description": "OK", "content": {"application/json": {"schema": response}}}}
    for status in errors:
        responses[str(status)] = {"description": "Error",
                                  "content": {"application/json": {"schema": ERROR}}}
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


def spec() -> dict:
    limit = _param("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Results per page.")
    offset = _param("offset", {"type": "integer", "minimum": 0, "maximum": 10000}, "Results to skip.")
    area = _param("area", {"type": "integer", "minimum": 1, "maximum": 6}, "Key area 1-6.")
    country = _param("country", {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                     "ISO 3166-1 alpha-2 country code.")
    obj = {"type": "object"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "kb API", "version": "1",
                 "description": "Good practices for the inclusion of refugees: search and records "
                                "from the UNHCR/MPG handbook. Every error has one shape."},
        "paths": {
            "/api/health": _get("Record counts and search index metadata", [],
                                {"$ref": "#/components/schemas/Health"}, errors=(503,)),
            "/api/search": _get("Search all record types", [
                _param("q", {"type": "string", "maxLength": 1000},
                       "Plain words and \"phrases\"; empty lists every record matching the filters."),
                *(_param(f.name, f.schema, f.help) for f in FACETS),
                _param("sort", {"type": "string", "enum": ["relevance", "quality"]},
                       "Order by relevance (default) or quality score."),
                limit, offset], {"$ref": "#/components/schemas/SearchResults"}, errors=(400, 503)),
            "/api/practices": _get("Published practices with full text", [area, country, limit, offset],
                                   {"type": "object", "properties": {
                                       "total": {"type": "integer"},
                                       "results": {"type": "array",
                                                   "items": {"$ref": "#/components/schemas/Practice"}}}}),
            "/api/practices/{id}": _get("One practice", [_param("id", {"type": "string"}, "Practice ID", "path")],
                                        {"$ref": "#/components/schemas/Practice"}, errors=(404,)),
            "/api/areas": _get("The six key areas", [], obj),
            "/api/areas/{n}": _get("One key area", [_param("n", {"type": "integer"}, "Area 1-6", "path")],
                                   obj, errors=(404,)),
            "/api/checklists": _get("Checklists with their items", [], {"$ref": "#/components/schemas/Checklists"}),
            "/api/references": _get("References", [], obj),
            "/api/glossary": _get("Glossary", [], obj),
            "/api/criteria": _get("Quality criteria", [], obj),
            "/api/openapi.json": _get("This description", [], obj, errors=()),
            "/api/curate/queue": _get("The review queue (curators only; 401 otherwise)", [], obj,
                                      errors=(401,)),
            "/api/recommendations": {"post": {
                "summary": "Practices for unmet checklist items",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["unmet"], "properties": {
                        "unmet": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                                  "maxItems": 200},
                        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                        "lang": {"type": "string", "enum": ["lv", "en"]}}}}}},
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"results": {"type": "array", "items": {
                            "type": "object", "required": ["id", "title", "country", "area",
                                                       "score", "because", "why"],
                        "properties": {
                            "because": {"type": "array", "items": {"type": "string"}},
                            "why": {"type": "array", "items": {"type": "object", "properties": {
                                "item": {"type": "string"},
                                "words": {"type": "array", "items": {"type": "string"}},
                                "needs": {"type": "array", "items": {"type": "string"}},
                                "activities": {"type": "array", "items": {"type": "string"}},
                                "same_area": {"type": "boolean"},
                                "same_success_factor": {"type": "boolean"}}}}}}}}}}}},
                    "400": {"description": "Error", "content": {"application/json": {"schema": ERROR}}},
                    "503": {"description": "Error", "content": {"application/json": {"schema": ERROR}}}}}},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["status", "message", "param"], "properties": {
                    "status": {"type": "integer"}, "message": {"type": "string"},
                    "param": {"type": ["string", "null"]}}}}},
            "Health": {"type": "object", "properties": {
                "status": {"type": "string", "enum": ["ok", "degraded"]},
                "records": {"type": "object"}, "index": {"type": "object"}}},
            "Hit": {"type": "object", "required": ["id", "type", "title", "snippet", "score", "area",
                                                   "country", "success_factor"],
                    "properties": {
                        "id": {"type": "string"}, "type": {"type": "string", "enum": list(TYPES)},
                        "title": {"type": "string"}, "title_en": {"type": ["string", "null"]},
                        "snippet": {"type": "string", "description": "HTML: text escaped, matches in <mark>"},
                        "score": {"type": "number"}, "area": {"type": ["integer", "null"]},
                        "areas": {"type": "array", "items": {"type": "integer"}},
                        "country": {"type": "array", "items": {"type": "string"}},
                        "success_factor": {"type": ["string", "null"]},
                        "needs": {"type": "array", "items": {"type": "string"}},
                        "activities": {"type": "array", "items": {"type": "string"}},
                        "retrievers": {"type": "array", "items": {"enum": ["lexical", "dense"]}}}},
            "SearchResults": {"type": "object", "required": ["query", "total", "results", "facets"],
                              "properties": {"query": {"type": "string"}, "total": {"type": "integer"},
                                             "results": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
                                             "facets": {"type": "object"}}},
            "Practice": {"type": "object", "properties": {
                "id": {"type": "string"}, "title": {"type": "string"}, "title_en": {"type": ["string", "null"]},
                "organisation": {"type": ["string", "null"]}, "city": {"type": ["string", "null"]},
                "country": {"type": "array", "items": {"type": "string"}}, "area": {"type": "integer"},
                "success_factor": {"type": ["string", "null"]},
                "success_factor_name": {"type": ["string", "null"]},
                "success_factor_name_en": {"type": ["string", "null"]}, "needs": {"type": "array"},
                "activities": {"type": "array", "items": {"type": "string"},
                               "description": "Activity codes, most central first."},
                "text": {"type": "string"}, "summary_en": {"type": ["string", "null"]},
                "urls": {"type": "array", "items": {"type": "string"}}}},
            "Checklists": {"type": "object", "properties": {"areas": {"type": "array", "items": {
                "type": "object", "properties": {
                    "area": {"type": ["integer", "null"]}, "checklist": {"type": "string"},
                    "title": {"type": "string"}, "title_en": {"type": ["string", "null"]},
                    "items": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "string"}, "text": {"type": "string"},
                        "text_en": {"type": ["string", "null"]}}}}}}}}},
        }},
    }
