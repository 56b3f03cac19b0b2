"""The assessment table (/quality-check, POST /api/quality-check): the curators' rule on
hand-computed cases, the criteria in English, the weakest domains, saving, and the scores
carried into a suggestion for curators to see."""
from __future__ import annotations

import re

import pytest

from conftest import csrf_from, login
from kb.core.quality import domains_with_indicators
from kb.curation import quality

DOMAIN_SIZES = {1: 11, 2: 9, 3: 6, 4: 4, 5: 4}  # indicators per domain, 34 in all


@pytest.fixture(scope="module")
def indicators(app):
    with app.app_context():
        from kb.web.services import db
        domains = domains_with_indicators(db())
        return {d.id: [i.id for q in d.questions for i in q.indicators] for d in domains}


def _all(indicators, value, **per_domain):
    """Every indicator ``value``; ``per_domain`` {"d3": [values...]} overrides one domain."""
    scores = {i: value for ids in indicators.values() for i in ids}
    for key, values in per_domain.items():
        scores.update(dict(zip(indicators[int(key[1:])], values)))
    return scores


def check(client, scores, **body):
    response = client.post("/api/quality-check", json={"scores": scores, **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_there_are_five_domains_twelve_questions_34_indicators_in_both_languages(client):
    domains = client.get("/api/criteria").get_json()["domains"]
    assert {d["domain"]: sum(len(q["indicators"]) for q in d["questions"])
            for d in domains} == DOMAIN_SIZES
    assert sum(len(d["questions"]) for d in domains) == 12
    assert domains[2]["name_en"] == "Effectiveness" and domains[0]["name"] == "Iekļautība un līdzdalība"
    texts = [i for d in domains for q in d["questions"] for i in q["indicators"]]
    assert all(i["text_en"] and i["text"] for i in texts)
    assert texts[-1]["text_en"].startswith("It ensures coordinated work with the relevant partners")
    html = client.get("/criteria?lang=en").get_data(as_text=True)
    assert "Relevance and complementarity" in html and "at least 50 %" in html and "70 %" in html


@pytest.mark.parametrize("case, expected_domains, overall, good", [
    # every indicator met
    ("all_met", [100.0, 100.0, 100.0, 100.0, 100.0], 100.0, True),
    # every one partly: each domain 50 %, overall 50 % < 70 %
    ("all_partly", [50.0] * 5, 50.0, False),
    # domain 3 at exactly 50 % (3 of 6 met), the rest met: 90 % overall, good
    ("d3_half", [100.0, 100.0, 50.0, 100.0, 100.0], 90.0, True),
    # domain 3 at 2 of 6 (33.3 %): below 50 %, not good though overall 86.7 %
    ("d3_third", [100.0, 100.0, 33.3, 100.0, 100.0], 86.7, False),
    # domains 3, 4, 5 at 50 %: overall exactly 70 %, good
    ("overall_70", [100.0, 100.0, 50.0, 50.0, 50.0], 70.0, True),
    # domain 4: two known (met, partly) of four -> 75 %; domain 5: one known of four -> not
    # scored, so no overall and no verdict of good practice
    ("unknowns", [100.0, 100.0, 100.0, 75.0, None], None, False),
])
def test_table_scores_equal_the_curators_rule_on_hand_computed_cases(
        client, app, indicators, case, expected_domains, overall, good):
    scores = {
        "all_met": _all(indicators, 1),
        "all_partly": _all(indicators, 0.5),
        "d3_half": _all(indicators, 1, d3=[1, 1, 1, 0, 0, 0]),
        "d3_third": _all(indicators, 1, d3=[1, 0, 1, 0, 0, 0]),
        "overall_70": _all(indicators, 1, d3=[1, 0, 1, 0, 1, 0], d4=[0, 1, 1, 0],
                           d5=[0, 0, 1, 1]),
        "unknowns": {**_all(indicators, 1, d4=[1, 0.5, None, None], d5=[1, None, None, None])},
    }[case]
    result = check(client, scores)
    assert [d["score"] for d in result["domains"]] == expected_domains
    assert (result["overall"], result["good_practice"]) == (overall, good)
    # the same as the curators' scoring of a practice with those scores
    names = {1: "met", 0.5: "partly", 0: "not_met", None: "unknown"}
    with app.app_context():
        from kb.web.services import db
        curators = quality.score({k: names[v] for k, v in scores.items()},
                                 domains_with_indicators(db()))
    assert list(curators.domains.values()) == expected_domains
    assert (curators.overall, curators.good_practice) == (overall, good)


def test_the_verdict_explains_the_thresholds_and_names_the_weak_domains(client, indicators):
    result = check(client, _all(indicators, 1, d3=[1, 0, 1, 0, 0, 0]), lang="en")
    assert result["shortfalls"] == [{"rule": "below", "domain": 3, "score": 33.3}]
    assert "domain 3 (Effectiveness) scores 33.3 %, below 50 %" in result["verdict"]
    assert "at least 50 % in every domain and at least 70 % overall" in result["verdict"]
    unknowns = check(client, {indicators[1][0]: 1}, lang="en")
    assert {s["rule"] for s in unknowns["shortfalls"]} == {"unscored"}
    assert "fewer than half of its indicators known" in unknowns["verdict"]
    latvian = check(client, _all(indicators, 0.5))
    assert latvian["shortfalls"] == [{"rule": "overall_below", "domain": None, "score": 50.0}]
    assert "70 %" in latvian["verdict"] and "Not yet" not in latvian["verdict"]


def test_weakest_domains_get_the_handbooks_guidance_and_practices_that_do_it(client, indicators):
    result = check(client, _all(indicators, 1, d4=[0, 0, 0.5, 0], d1=[1] * 8 + [0, 0, 0]))
    weakest = result["weakest"]
    assert [w["domain"] for w in weakest] == [4, 1]  # 12.5 %, then 72.7 %
    sustainability = weakest[0]
    assert sustainability["open_indicators"] == indicators[4]
    assert {g["id"] for g in sustainability["guidance"]} == {"general-04", "general-05"}
    assert len(sustainability["practices"]) == 3
    wanted = {"transition", "staff-training", "strategy", "funding", "partnership",
              "entrepreneurship"}  # what domain 4's questions are about (criteria_en.toml)
    for practice in sustainability["practices"]:
        assert practice["activities"] and set(practice["activities"]) <= wanted
    practices = client.get("/api/practices?limit=100").get_json()["results"]
    activities = {p["id"]: set(p["activities"]) for p in practices}
    for practice in sustainability["practices"]:  # what it says it shares, it does
        assert set(practice["activities"]) <= activities[practice["id"]]
    # domain 1's open indicators are all under question 1.3 (consulting beneficiaries)
    assert weakest[1]["open_indicators"] == indicators[1][8:]
    assert any({"consultation", "feedback", "advisory-body", "co-design"} & set(p["activities"])
               for p in weakest[1]["practices"])


@pytest.mark.parametrize("body, param", [
    ({"scores": {"9.9.9": 1}}, "scores"),
    ({"scores": {"1.1.1": 2}}, "scores.1.1.1"),
    ({"scores": {"1.1.1": "met"}}, "scores.1.1.1"),
    ({"scores": []}, "scores"),
    ({"scores": {}, "colour": "red"}, "colour"),
    ({"scores": {}, "lang": "de"}, "lang"),
    ({}, "scores"),
    ([1], "body"),
])
def test_bad_scores_are_a_400_naming_the_field(client, body, param):
    response = client.post("/api/quality-check", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == param


def _form(client, url, scores, **fields):
    data = {f"ind-{k}": v for k, v in scores.items()}
    data.update(csrf_token=csrf_from(client, url), **fields)
    return client.post(url, data=data)


def test_the_page_saves_under_a_private_link_with_json_and_print(writable_client, indicators):
    client = writable_client
    page = client.get("/quality-check?lang=en").get_data(as_text=True)
    assert len(set(re.findall(r'name="ind-([\d.]+)"', page))) == 34
    assert "Is the practice accessible" not in page and "Does the practice make sure that services" in page
    scores = {i: "met" for ids in indicators.values() for i in ids} | {indicators[3][0]: "not_met"}
    response = _form(client, "/quality-check", scores, title="Valodu kafejnīca")
    assert response.status_code == 303
    token = response.headers["Location"].rsplit("/", 1)[1]
    assert len(token) >= 32
    html = client.get(f"/quality-check/{token}?lang=en").get_data(as_text=True)
    assert "Good practice: every domain reaches 50 %" in html and "data-print" in html
    data = client.get(f"/quality-check/{token}?format=json").get_json()
    assert data["token"] == token and data["scores"][indicators[3][0]] == 0
    assert [d["score"] for d in data["domains"]] == [100.0, 100.0, 83.3, 100.0, 100.0]
    changed = _form(client, f"/quality-check/{token}", {**scores, indicators[3][1]: "not_met",
                                                        indicators[3][2]: "not_met",
                                                        indicators[3][3]: "unknown"})
    assert changed.status_code == 303
    data = client.get(f"/quality-check/{token}?format=json").get_json()
    assert data["domains"][2]["score"] == 40.0 and data["domains"][2]["known"] == 5
    assert not data["good_practice"]
    assert client.get("/quality-check/not-a-token").status_code == 404
    bad = _form(client, "/quality-check", {indicators[1][0]: "perfect"})
    assert bad.status_code == 400


def test_saving_through_the_api_answers_201_with_the_link(writable_client, indicators):
    response = writable_client.post("/api/quality-check", json={
        "scores": {indicators[1][0]: 1, indicators[1][1]: None}, "save": True, "title": "X"})
    assert response.status_code == 201
    body = response.get_json()
    saved = writable_client.get(f"/quality-check/{body['token']}?format=json").get_json()
    assert saved["scores"][indicators[1][0]] == 1 and saved["scores"][indicators[1][1]] is None
    assert body["url"].endswith(f"/quality-check/{body['token']}")


def test_suggesting_carries_the_self_scores_to_the_curators(curate_app, indicators):
    public = curate_app.test_client()
    scores = {i: "met" for ids in indicators.values() for i in ids} | {indicators[5][0]: "partly"}
    response = _form(public, "/quality-check", scores, title="Kopienas dārzs",
                     organisation="Biedrība X")
    token = response.headers["Location"].rsplit("/", 1)[1]
    page = public.get(f"/quality-check/{token}").get_data(as_text=True)
    suggest_url = re.search(r'id="suggest" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    form = public.get(suggest_url).get_data(as_text=True)
    assert 'value="Kopienas dārzs"' in form and f'name="quality_check" value="{token}"' in form
    sent = public.post("/suggest", data={
        "title": "Kopienas dārzs", "countries": ["LV"], "area": "5",
        "text": "Iedzīvotāji un bēgļi kopā kopj dārzu.", "needs": ["cohesion"],
        "contact": "dace@example.lv", "quality_check": token,
        "csrf_token": re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                                form).group(1)})
    assert sent.status_code == 200
    janis = curate_app.test_client()
    assert login(janis, "janis@example.lv", "janis-password-1").status_code == 303
    queue = janis.get("/api/curate/queue").get_json()
    practice_id = next(p["id"] for p in queue["pending"] if p["title"] == "Kopienas dārzs")
    html = janis.get(f"/curate/practices/{practice_id}").get_data(as_text=True)
    assert 'id="self-overall"' in html and "87.5 %" in html  # domain 5: (0.5+3)/4
    assert re.search(rf'data-indicator="{re.escape(indicators[5][0])}">[^<]*Partly|'
                     rf'data-indicator="{re.escape(indicators[5][0])}">[^<]*Daļēji', html)


@pytest.mark.parametrize("old, new, message", [
    ('[indicator."5.2.2"]', '[indicator."5.2.3"]',
     r"criteria_en.toml: indicator IDs \['5.2.3'\] are not in the handbook"),
    ('[question."5.2"]\ntext', '[question."5.9"]\ntext',
     r"criteria_en.toml: question IDs \['5.9'\] are not in the handbook"),
    ('guidance = ["general-12", "general-13"]', 'guidance = ["general-12", "general-99"]',
     r"domain '5' has unknown general checklist items \['general-99'\]"),
    ('success_factors = ["6-strukturfondu-pieejamiba"]', 'success_factors = ["6-fondi"]',
     r"question '4.2' has unknown success factors \['6-fondi'\]"),
])
def test_criteria_english_that_does_not_match_the_handbook_is_an_error(
        tmp_path, handbook_text, old, new, message):
    from kb.ingest import parse_handbook
    from kb.ingest.curation import CurationError, load_curation
    from test_curation_files import copy_data, edit
    data = copy_data(tmp_path)
    edit(data, "criteria_en.toml", old, new)
    with pytest.raises(CurationError, match=message):
        parse_handbook(handbook_text, load_curation(data))


def test_criteria_english_codes_and_coverage_are_checked_on_load(tmp_path, handbook_text):
    from kb.ingest import parse_handbook
    from kb.ingest.curation import CurationError, load_curation
    from test_curation_files import copy_data, edit
    data = copy_data(tmp_path)
    edit(data, "criteria_en.toml", 'activities = ["funding", "partnership", "entrepreneurship"]',
         'activities = ["fundraising"]')
    with pytest.raises(CurationError, match=r"question '4.2' has unknown activities"):
        load_curation(data)
    data = copy_data(tmp_path / "second")
    edit(data, "criteria_en.toml", '[indicator."3.1.3"]\n', '[indicator."3.1.3x"]\n')
    edit(data, "criteria_en.toml", '[indicator."3.1.3x"]', "# removed")
    text = (data / "criteria_en.toml").read_text(encoding="utf-8")
    (data / "criteria_en.toml").write_text(
        re.sub(r'# removed\ntext = "Possible risks[^\n]*\n', "", text), encoding="utf-8")
    with pytest.raises(CurationError, match=r"no English for indicator IDs \['3.1.3'\]"):
        parse_handbook(handbook_text, load_curation(data))
