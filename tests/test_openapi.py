"""The OpenAPI document against the API's real answers, and the one practice schema.

Every request below is sent to the app and its answer -- success or error -- is validated
against the schema the generated document gives for that path, method and status.
"""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import inspect

from kb.core.db import session_factory
from kb.core.models import Practice
from kb.curation import review, schema, transfer

from conftest import close_app, csrf_from, login, new_app

GOOD = {"title": "Valodu kafejnīca", "title_en": "Language café", "organisation": "Biedrība",
        "city": "Rīga", "countries": ["LV", "EE"], "area": "5",
        "success_factor": "5-visa-atbalsta-modelu-klasta-izmantosana",
        "text": "Brīvprātīgie rīko sarunu vakarus.", "summary_en": "Volunteers host evenings.",
        "needs": ["language", "women"], "activities": ["language-course", "mentoring"],
        "urls": ["https://example.lv/kafejnica", "http://example.lv/en"],
        "period_start": 2019, "period_end": None, "ongoing": True,
        "target_groups": ["women", "host-community"], "reach": 1200,
        "funding_source": "Rīgas dome", "funding_band": "10k-100k",
        "challenge": "Jaunpienācējiem trūkst sarunu prakses.", "how_it_works": "Reizi nedēļā.",
        "results": "300 dalībnieku.", "evaluation": "Dalībnieku aptauja.",
        "transferability": "Vajag telpu un brīvprātīgos.", "public_contact": "info@example.lv",
        "languages": ["lv", "uk"],
        "contact": "ana@example.lv", "source_note": "Ieteica Ana"}

# (method, url, JSON body or None, status): every operation of the document, and its errors.
REQUESTS = [
    ("get", "/api/health", None, 200),
    ("get", "/api/search?q=housing+for+refugee+families", None, 200),
    ("get", "/api/search?type=practice&limit=100", None, 200),
    ("get", "/api/search?q=&type=reference,glossary_term,area,success_factor,checklist_item"
            "&limit=100", None, 200),
    ("get", "/api/search?q=valoda&sort=quality&need=language", None, 200),
    ("get", "/api/search?limit=abc", None, 400),
    ("get", "/api/search?activity=juggling", None, 400),
    ("get", "/api/search?country=LV&country=DE,PL&need=housing&need=women&sort=newest", None, 200),
    ("get", "/api/search?sort=popular", None, 400),
    ("get", "/api/search/export?country=PL&sort=title&lang=en", None, 200),
    ("get", "/api/search/export?q=mājoklis&format=json", None, 200),
    ("get", "/api/search/export?format=xml", None, 400),
    ("get", "/api/practices?limit=100", None, 200),
    ("get", "/api/practices?area=6&country=IT", None, 200),
    ("get", "/api/practices?area=9", None, 400),
    ("get", "/api/practices/humans-in-the-loop", None, 200),
    ("get", "/api/practices/no-such-practice", None, 404),
    ("get", "/api/areas", None, 200),
    *(("get", f"/api/areas/{n}", None, 200) for n in range(1, 7)),
    ("get", "/api/areas/9", None, 404),
    ("get", "/api/checklists", None, 200),
    ("get", "/api/references", None, 200),
    ("get", "/api/glossary", None, 200),
    ("get", "/api/criteria", None, 200),
    ("get", "/api/openapi.json", None, 200),
    ("get", "/api/curate/queue", None, 401),
    ("get", "/api/suggestions/not-a-status-token", None, 404),
    ("post", "/api/recommendations", {"unmet": ["area-3-09", "area-1-08"], "limit": 5,
                                      "lang": "en"}, 200),
    ("post", "/api/recommendations", {"unmet": ["area-1-06"]}, 200),
    ("post", "/api/recommendations", {"unmet": ["nope"]}, 400),
    ("post", "/api/recommendations", {"unmet": []}, 400),
    ("post", "/api/recommendations", {"unmet": ["area-1-01"], "limit": "5"}, 400),
    ("post", "/api/recommendations", {"unmet": ["area-1-01"], "lang": "de"}, 400),
    ("post", "/api/recommendations", [1, 2], 400),
    ("post", "/api/quality-check", {"scores": {"1.1.1": 1, "1.1.2": 0.5, "3.1.1": None},
                                    "lang": "en"}, 200),
    ("post", "/api/quality-check", {"scores": {"1.1.1": 3}}, 400),
    ("get", "/api/nothing-here", None, 404),
    ("delete", "/api/practices/humans-in-the-loop", None, 405),
]


@pytest.fixture(scope="module")
def spec(app) -> dict:
    return app.test_client().get("/api/openapi.json").get_json()


def answer_schema(spec: dict, path: str, method: str, status: int) -> dict:
    """The schema of the answer with ``status``, resolvable on its own (components inside)."""
    responses = spec["paths"][path][method]["responses"]
    response = responses.get(str(status)) or responses["default"]
    return {**response["content"]["application/json"]["schema"],
            "components": spec["components"]}


def shape(spec: dict, name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}


def problems(schema_: dict, instance) -> list[str]:
    validator = Draft202012Validator(schema_)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in validator.iter_errors(instance)]


def operation_of(app, spec: dict, method: str, url: str) -> str | None:
    """The document's path for ``url`` and ``method``; None where no operation answers (an
    unknown path or method: the Error shape all the same)."""
    from werkzeug.exceptions import HTTPException

    from kb.web.api.openapi import _path
    try:
        rule, _ = app.url_map.bind("localhost").match(url.split("?")[0], method.upper(),
                                                      return_rule=True)
    except HTTPException:
        return None
    return _path(rule.rule) if method in spec["paths"].get(_path(rule.rule), {}) else None


def send(client, method: str, url: str, body):
    return client.open(url, method=method.upper(), json=body)


def check(client, spec: dict, path: str | None, method: str, url: str, body, status: int):
    response = send(client, method, url, body)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    target = answer_schema(spec, path, method, status) if path else shape(spec, "Error")
    assert problems(target, response.get_json()) == []


def test_the_document_is_valid_json_schema(spec):
    for name, component in spec["components"]["schemas"].items():
        Draft202012Validator.check_schema(component)
    assert "$defs" not in json.dumps(spec)  # every definition is a component
    assert {"Practice", "Hit", "SearchResults", "Why", "Error", "Health", "Area", "Areas",
            "Checklists", "References", "Glossary", "Criteria", "RecommendationRequest",
            "Recommendations", "Queue", "PracticeRecord", "SearchExport",
            "ExportedPractice"} <= set(spec["components"]["schemas"])


def test_every_route_is_described_with_its_methods(app, spec):
    from kb.web.api.openapi import _path
    routes = {(_path(r.rule), m.lower()) for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/") for m in r.methods - {"HEAD", "OPTIONS"}}
    assert routes == {(p, m) for p, ops in spec["paths"].items() for m in ops}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and "default" in op["responses"], (path, method)


@pytest.mark.parametrize("method, url, body, status", REQUESTS)
def test_real_answers_fit_the_document(app, client, spec, method, url, body, status):
    check(client, spec, operation_of(app, spec, method, url), method, url, body, status)


def test_every_operation_and_declared_error_is_checked(app, spec):
    """REQUESTS, the queue's test and the no-index tests try all that the document declares."""
    sent = {(operation_of(app, spec, m, url), m, str(status)) for m, url, _, status in REQUESTS}
    sent |= {(path, m, str(status)) for path, m, status in WRITES}
    sent |= {("/api/curate/queue", "get", "200"), ("/api/health", "get", "503"),
             ("/api/suggestions/{token}", "get", "200"),
             ("/api/search", "get", "503"), ("/api/search/export", "get", "503"),
             ("/api/recommendations", "post", "503")}
    declared = {(p, m, s) for p, ops in spec["paths"].items() for m, op in ops.items()
                for s in op["responses"] if s != "default"}
    assert declared == sent - {(None, "get", "404"), (None, "delete", "405")}


# Answers of requests that write, checked by test_assessments_fit_the_document.
WRITES = [("/api/quality-check", "post", 201), ("/api/assessments", "post", 201),
          ("/api/assessments", "post", 400), ("/api/assessments/{token}", "get", 200),
          ("/api/assessments/{token}", "get", 404), ("/api/assessments/{token}", "patch", 200),
          ("/api/assessments/{token}", "patch", 400), ("/api/assessments/{token}", "patch", 404),
          ("/api/assessments/{token}", "patch", 409),
          ("/api/assessments/{token}/follow-up", "post", 201),
          ("/api/assessments/{token}/follow-up", "post", 400),
          ("/api/assessments/{token}/follow-up", "post", 404),
          ("/api/assessments/{token}/share", "post", 201),
          ("/api/assessments/{token}/share", "post", 404),
          ("/api/assessments/{token}/share", "delete", 200),
          ("/api/assessments/{token}/share", "delete", 404),
          ("/api/assessments/{token}/members", "post", 201),
          ("/api/assessments/{token}/members", "post", 400),
          ("/api/assessments/{token}/members", "post", 404)]


def test_assessments_fit_the_document(writable_client, spec):
    client = writable_client
    check(client, spec, "/api/quality-check", "post", "/api/quality-check",
          {"scores": {"1.1.1": 1}, "save": True}, 201)
    path = "/api/assessments"
    created = client.post(path, json={"answers": {"area-1-01": "met"}}).get_json()
    token = created["token"]
    check(client, spec, path, "post", path, {"notes": {"1": "Piezīme."}}, 201)
    check(client, spec, path, "post", path, {"answers": {"area-1-01": "?"}}, 400)
    one = path + "/{token}"
    check(client, spec, one, "get", f"{path}/{token}", None, 200)
    check(client, spec, one, "get", f"{path}/nope", None, 404)
    check(client, spec, one, "patch", f"{path}/{token}",
          {"version": created["version"], "answers": {"area-1-02": "unmet"}}, 200)
    check(client, spec, one, "patch", f"{path}/{token}",
          {"version": created["version"], "answers": {"area-1-03": "met"}}, 409)
    check(client, spec, one, "patch", f"{path}/{token}", {"answers": {}}, 400)
    check(client, spec, one, "patch", f"{path}/nope", {"version": 1}, 404)
    follow = one + "/follow-up"
    check(client, spec, follow, "post", f"{path}/{token}/follow-up", None, 201)
    check(client, spec, follow, "post", f"{path}/{token}/follow-up", None, 400)
    check(client, spec, follow, "post", f"{path}/nope/follow-up", None, 404)
    shared = one + "/share"
    check(client, spec, shared, "post", f"{path}/{token}/share", None, 201)
    check(client, spec, shared, "post", f"{path}/nope/share", None, 404)
    check(client, spec, shared, "delete", f"{path}/{token}/share", None, 200)
    check(client, spec, shared, "delete", f"{path}/nope/share", None, 404)
    members = one + "/members"
    check(client, spec, members, "post", f"{path}/{token}/members", {"name": "NVO"}, 201)
    check(client, spec, members, "post", f"{path}/{token}/members", {"name": ""}, 400)
    check(client, spec, members, "post", f"{path}/nope/members", {"name": "NVO"}, 404)


def test_the_queue_fits_the_document(curate_app, spec):
    client = curate_app.test_client()
    assert login(client, "anna@example.lv", "anna-password-1").status_code == 303
    with session_factory(curate_app.extensions["kb.engine"])() as session:
        review.submit(session, GOOD, None, via="public")
        session.commit()
    check(client, spec, "/api/curate/queue", "get", "/api/curate/queue", None, 200)
    assert client.get("/api/curate/queue").get_json()["pending"]


def test_a_suggestions_status_fits_the_document(curate_app, spec):
    from kb.curation import provenance
    client = curate_app.test_client()
    with session_factory(curate_app.extensions["kb.engine"])() as session:
        practice = review.submit(session, GOOD, None, via="public")
        token = provenance.issue_token(practice)
        session.commit()
    url = f"/api/suggestions/{token}"
    check(client, spec, "/api/suggestions/{token}", "get", url, None, 200)
    assert client.get(url).get_json()["status"] == "pending"


@pytest.fixture()
def without_index(handbook_engine, embedder, tmp_path):
    """The app over the handbook with no search index built."""
    app = new_app(handbook_engine.url.render_as_string(hide_password=False), tmp_path, embedder)
    yield app
    close_app(app)


@pytest.mark.parametrize("method, url, body", [
    ("get", "/api/health", None), ("get", "/api/search?q=x", None),
    ("get", "/api/search/export?q=x", None),
    ("post", "/api/recommendations", {"unmet": ["area-1-01"]}),
])
def test_answers_without_an_index_fit_the_document(without_index, spec, method, url, body):
    path = url.split("?")[0]
    check(without_index.test_client(), spec, path, method, url, body, 503)


def test_the_assessment_summary_says_why_in_the_api_shape(writable_client, spec):
    client = writable_client
    response = client.post("/assess", data={"organisation": "Rīgas dome",
                                            "organisation_type": "municipality",
                                            "csrf_token": csrf_from(client, "/assess")})
    token = response.headers["Location"].split("/")[2]
    page = f"/assess/{token}/3"
    client.post(page, data={"item-area-3-09": "unmet", "go": "stay",
                            "csrf_token": csrf_from(client, page)})
    data = client.get(f"/assess/{token}/summary?format=json").get_json()
    practices = [p for page in data["pages"] for item in page["unmet"] for p in item["practices"]]
    assert practices
    why = {"type": "array", "items": {"$ref": "#/components/schemas/Why"},
           "components": spec["components"]}
    for practice in practices:
        assert problems(why, practice["why"]) == []
        assert [w["item"] for w in practice["why"]] == ["area-3-09"]


def test_search_json_of_the_cli_fits_the_document(handbook_index, spec):
    from kb.web.serialize import search_json
    results = search_json(handbook_index.search("mājoklis", limit=20))
    assert problems(shape(spec, "SearchResults"), results) == []
    assert all(isinstance(h["area"], int) for h in results["results"] if len(h["areas"]) == 1)


# --- the practice schema --------------------------------------------------------------------------

def test_the_schemas_lengths_are_the_columns():
    columns = inspect(Practice).columns
    properties = schema.PracticeRecord.model_json_schema()["properties"]
    checked = []
    for name, stored in {**schema.STORED, "id": schema.Stored("id")}.items():
        length = getattr(columns[stored.attribute].type, "length", None) \
            if stored.attribute in columns else None
        if length is not None:
            field = properties[name]
            assert length in [field.get("maxLength")] + [s.get("maxLength")
                                                          for s in field.get("anyOf", [])], name
            checked.append(name)
    assert len(checked) == 11 and set(schema.LIMITS) > set(checked) - {"id", "success_factor"}


def test_the_forms_have_the_schemas_fields(app):
    from kb.web.curate.forms import PracticeForm, SuggestForm
    with app.test_request_context():
        for form in (PracticeForm(meta={"csrf": False}), SuggestForm(meta={"csrf": False})):
            names = {f.name for f in form} - {"website"}  # the suggestion form's honeypot
            assert names == set(schema.FIELDS)
            for name, limit in schema.LIMITS.items():
                assert any(getattr(v, "max", None) == limit for v in form[name].validators), name


def test_the_handbook_fits_the_practice_schema(handbook_engine, spec):
    """Every exported practice is a valid PracticeRecord, vocabularies and all."""
    with session_factory(handbook_engine)() as session:
        lines = transfer.export_jsonl(session).splitlines()
        context = schema.vocabularies(session)
    assert len(lines) == 62
    for line in lines:
        record = json.loads(line)
        schema.PracticeRecord.model_validate(record, context=context)
        assert problems(shape(spec, "PracticeRecord"), record) == [], record["id"]


def test_a_practice_round_trips_through_export_and_import(handbook_copy):
    from kb.core.db import make_engine
    engine = make_engine(handbook_copy[0])
    with session_factory(engine)() as session:
        practice = review.submit(session, GOOD, None, via="public")
        practice.status = "published"
        session.flush()
        exported = transfer.practice_record(practice)
        assert {k: v for k, v in exported.items() if k not in ("id", "source")} == {
            **GOOD, "area": 5, "needs": sorted(GOOD["needs"])}
        line = {**exported, "id": "kafejnica-kopija"}
        report = transfer.import_jsonl(session, json.dumps(line, ensure_ascii=False) + "\n")
        assert report.created == ["kafejnica-kopija"]
        again = [json.loads(x) for x in transfer.export_jsonl(session).splitlines()]
        assert next(r for r in again if r["id"] == "kafejnica-kopija") == {**line,
                                                                        "source": "curator"}
        rows = list(transfer.export_csv(session).splitlines())
        assert rows[0].split(",") == list(transfer.FIELDS)
    engine.dispose()
