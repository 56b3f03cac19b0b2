"""The self-assessment in the web app, the recommendations API, and bad input."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import csrf_from


@pytest.fixture()
def client(writable_client):
    """Assessments are saved: every test here has a copy of the handbook of its own."""
    return writable_client


def start(client, organisation="Rīgas dome") -> str:
    response = client.post("/assess", data={"organisation": organisation,
                                            "organisation_type": "municipality",
                                            "csrf_token": csrf_from(client, "/assess")})
    assert response.status_code == 303
    token = response.headers["Location"].split("/")[2]
    assert len(token) >= 32
    return token


def items_on(client, token, page):
    html = client.get(f"/assess/{token}/{page}").get_data(as_text=True)
    return re.findall(r'name="item-([^"]+)" value="met"', html)


def answer(client, token, page, statuses, notes="", notes_orig="", orig=None, go="next"):
    data = {f"item-{i}": s for i, s in statuses.items()}
    data.update({f"orig-{i}": s for i, s in (orig or {}).items()})
    data.update(notes=notes, notes_orig=notes_orig, go=go,
                csrf_token=csrf_from(client, f"/assess/{token}/{page}"))
    return client.post(f"/assess/{token}/{page}", data=data)


def test_flow_pages_summary_and_downloads(client):
    token = start(client)
    items1 = items_on(client, token, "1")
    assert len(items1) == 10
    response = answer(client, token, "1", {i: "met" for i in items1[:8]} | {items1[8]: "unmet",
                      items1[9]: "na"}, notes="Jānoskaidro mājokļu jautājums.")
    assert response.headers["Location"].endswith(f"/assess/{token}/2")
    items3 = items_on(client, token, "3")
    answer(client, token, "3", {i: "unmet" for i in items3})
    summary = client.get(f"/assess/{token}/summary")
    html = summary.get_data(as_text=True)
    assert summary.status_code == 200 and "<svg" in html and "8/9" in html
    assert "Jānoskaidro mājokļu jautājums." in html
    data = client.get(f"/assess/{token}/summary?format=json").get_json()
    page1, page3 = data["pages"][0], data["pages"][2]
    assert (page1["met"], page1["applicable"], page1["reading"]) == (8, 9, "some")
    assert page3["reading"] == "none" and len(page3["unmet"]) == 17
    for item in page3["unmet"]:
        assert len(item["practices"]) == 3
        assert all({"id", "title", "country", "why"} <= set(p) for p in item["practices"])
    assert data["pages"][1]["reading"] == "open" and page3["references"]
    download = client.get(f"/assess/{token}/summary.json")
    assert "attachment" in download.headers["Content-Disposition"]
    record = download.get_json()  # the complete record: every answer and note, the summary
    assert record["notes"]["1"] == "Jānoskaidro mājokļu jautājums."
    assert record["summary"]["pages"][0]["notes"] == "Jānoskaidro mājokļu jautājums."


def test_reopening_the_link_shows_saved_answers(client):
    token = start(client)
    items = items_on(client, token, "general")
    answer(client, token, "general", {items[0]: "unmet"}, go="stay")
    html = client.get(f"/assess/{token}/general").get_data(as_text=True)
    assert re.search(rf'name="item-{items[0]}" value="unmet" checked', html)
    assert f'name="orig-{items[0]}" value="unmet"' in html


@pytest.mark.parametrize("url", ["/assess/wrong-token/1", "/assess/" + "a" * 100 + "/1",
                                 "/assess/x/summary", "/assess/x/summary.json"])
def test_a_missing_or_wrong_token_is_404_and_leaks_nothing(client, url):
    start(client, organisation="Slepena organizācija")
    response = client.get(url)
    assert response.status_code == 404
    assert "Slepena" not in response.get_data(as_text=True)


def test_assessments_do_not_see_each_other(client):
    first, second = start(client, "Pirmā"), start(client, "Otrā")
    items = items_on(client, first, "1")
    answer(client, first, "1", {items[0]: "met"}, notes="pirmās piezīmes")
    data = client.get(f"/assess/{second}/summary?format=json").get_json()
    assert data["organisation"] == "Otrā" and data["pages"][0]["met"] == 0
    assert "pirmās piezīmes" not in client.get(f"/assess/{second}/1").get_data(as_text=True)


@pytest.mark.parametrize("tamper", [{"item-area-1-01": "yes"}, {"item-area-5-01": "met"},
                                    {"item-'; DROP TABLE assessment;--": "met"}])
def test_tampered_form_values_are_400(client, tamper):
    token = start(client)
    response = client.post(f"/assess/{token}/1", data={
        **tamper, "notes": "", "notes_orig": "", "csrf_token": csrf_from(client, f"/assess/{token}/1")})
    assert response.status_code == 400
    assert client.get(f"/assess/{token}/summary?format=json").get_json()["pages"][0]["met"] == 0


def test_notes_over_the_limit_keep_the_answers_and_the_text(client):
    token = start(client)
    items = items_on(client, token, "2")
    long_note = "piezīme " * 700
    response = answer(client, token, "2", {items[0]: "met"}, notes=long_note)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "5000" in html
    assert long_note.strip() in html  # the text is still in the form, nothing lost
    assert client.get(f"/assess/{token}/summary?format=json").get_json()["pages"][1]["met"] == 1


def test_two_tabs_saving_the_same_page(client):
    token = start(client)
    items = items_on(client, token, "4")
    answer(client, token, "4", {items[0]: "met"}, notes="no cilnes A")
    response = answer(client, token, "4", {items[0]: "unmet"}, notes="no cilnes B")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "another window" in page or "citā logā" in page
    notes = client.get(f"/assess/{token}/summary?format=json").get_json()["pages"][3]["notes"]
    assert "no cilnes A" in notes and "no cilnes B" in notes


def test_recommendations_api(client):
    body = client.post("/api/recommendations", json={"unmet": ["area-3-09", "area-1-08"],
                                                     "limit": 5, "lang": "en"}).get_json()
    results = body["results"]
    assert len(results) == 5
    assert all({"id", "title", "country", "area", "score", "because"} <= set(r) for r in results)
    assert {i for r in results for i in r["because"]} <= {"area-3-09", "area-1-08"}
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    housing = {r["id"] for r in results if "area-3-09" in r["because"]}
    assert housing & {"laipni-lugti-majas", "lublinas-gimenes-palidzibas-centri",
                      "varsavas-gimenes-palidzibas-centra-programma-witek", "tandem"}
    ids = [r["id"] for r in results]
    assert len(ids) == len(set(ids))  # one entry per practice, however many items it answers
    why = [w for r in results for w in r["why"]]
    assert all(set(w) >= {"item", "words", "needs", "activities", "same_area"} for w in why)
    assert any("housing-provision" in w["activities"] for w in why if w["item"] == "area-3-09")


@pytest.mark.parametrize("body, message", [
    ({"unmet": ["area-1-01", "nope", "also-nope"]}, "nope, also-nope"),
    ({"unmet": []}, "empty"),
    ({"unmet": "area-1-01"}, "list"),
    ({"unmet": ["area-1-01"], "limit": 0}, "limit"),
    ({"unmet": ["area-1-01"], "limit": "5"}, "limit"),
    ({"unmet": ["area-1-01"], "lang": "de"}, "lang"),
    ({}, "list"),
])
def test_recommendations_api_errors(client, body, message):
    response = client.post("/api/recommendations", json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]["message"]


def test_recommendations_prefer_practices_that_do_what_the_item_calls_for(app, monkeypatch):
    """area-1-06 asks for feedback mechanisms: its practices carry out "feedback"."""
    import kb.assessment.recommend as recommend
    from kb.core.db import session_factory
    from kb.web.services import search_service
    with app.app_context(), session_factory(app.extensions["kb.engine"])() as session:
        index = search_service().pinned()
        with_activities = recommend.recommend(index, session, ["area-1-06"], limit=5)
        monkeypatch.setattr(recommend, "ACTIVITY_PRIOR", 0.0)
        monkeypatch.setattr(recommend, "FEEDBACK_WEIGHT", 0.0)  # activities there too
        without = recommend.recommend(index, session, ["area-1-06"], limit=5)
    doing = lambda found: sum("feedback" in r.reasons[0].activities for r in found)
    assert doing(with_activities) == 5 and doing(with_activities) > doing(without)


@pytest.mark.parametrize("wanted, carried_out, match", [
    (["feedback"], ("feedback", "consultation"), 1.0),
    (["feedback", "consultation", "strategy"], ("consultation",), 0.25),
    (["feedback", "consultation"], ("feedback", "consultation"), 1.5),
    (["feedback"], (), 0.0),
    ([], ("feedback",), 0.0),
])
def test_activity_match(wanted, carried_out, match):
    from kb.assessment.recommend import activity_match
    assert activity_match(wanted, carried_out) == match


def test_feedback_raises_practices_doing_what_the_best_matches_do(monkeypatch):
    from kb.assessment import recommend
    from kb.search.documents import Document
    doc = lambda name, *acts: Document(type="practice", record_id=name, title=name, text="",
                                       activities=acts)
    scored = [(doc("a", "x", "y"), 2.0), (doc("b", "x"), 1.0), (doc("c", "z"), 1.0),
              (doc("e", "q"), 0.95), (doc("d", "x", "y"), 0.9)]
    monkeypatch.setattr(recommend, "FEEDBACK", 3)
    monkeypatch.setattr(recommend, "FEEDBACK_WEIGHT", 0.5)
    found = {d.record_id: score for d, score in recommend.with_feedback(scored)}
    # d shares all of a's activities and half of b's: (2 * 1 + 1 * 0.5 + 1 * 0) / 4 = 0.625
    assert found["d"] == pytest.approx(0.9 * (1 + 0.5 * 0.625))
    assert found["a"] == pytest.approx(2.0 * (1 + 0.5 * 0.25))  # itself not counted
    assert found["e"] == 0.95 and found["c"] == 1.0
    assert [d.record_id for d, _ in recommend.with_feedback(scored)] == ["a", "d", "b", "c", "e"]
    monkeypatch.setattr(recommend, "FEEDBACK_WEIGHT", 0.0)
    assert recommend.with_feedback(scored) == scored
    assert recommend.overlap((), ()) == 0.0 and recommend.overlap(("x",), ("x", "y")) == 0.5


def test_feedback_lifts_precision_on_the_evaluation_set(app, monkeypatch):
    """README, Evaluation: precision@5 0.626 without the feedback, 0.644 with it."""
    from kb.assessment import recommend
    from kb.core import config
    from kb.core.db import session_factory
    from kb.evaluation import metrics
    from kb.web.services import search_service
    items = metrics.load_items(Path(config.setting("KB_CURATION_DIR")) / "eval" / "recommend.toml")
    with app.app_context(), session_factory(app.extensions["kb.engine"])() as session:
        index = search_service().pinned()
        with_feedback = metrics.evaluate_recommendations(index, session, items)["precision@5"]
        monkeypatch.setattr(recommend, "FEEDBACK_WEIGHT", 0.0)
        without = metrics.evaluate_recommendations(index, session, items)["precision@5"]
    assert with_feedback >= 0.64 and with_feedback > without


def test_an_items_ranking_is_searched_once_per_index(app, monkeypatch):
    import kb.assessment.recommend as recommend
    from kb.core.db import session_factory
    from kb.web.services import search_service
    monkeypatch.setattr(recommend, "_CACHE", type(recommend._CACHE)())
    with app.app_context(), session_factory(app.extensions["kb.engine"])() as session:
        index = search_service().pinned()
        searches = []
        rank = index.rank
        monkeypatch.setattr(index, "rank", lambda *a, **k: searches.append(a[0]) or rank(*a, **k))
        first = recommend.recommend(index, session, ["area-3-09"], limit=5)
        assert len(searches) == 2  # the item's Latvian and English wording
        again = recommend.recommend(index, session, ["area-3-09", "area-3-09"], limit=5)
        assert len(searches) == 2 and [r.id for r in again] == [r.id for r in first]


def test_copies_share_an_items_ranking_until_one_of_them_changes(writable_app, tmp_path,
                                                                  handbook_template,
                                                                  handbook_index_root, embedder,
                                                                  monkeypatch):
    """Rankings are kept by what is indexed (`content()`): a second copy of the handbook uses
    the first one's; after a practice is published in one copy, only that copy offers it."""
    import kb.assessment.recommend as recommend
    from conftest import close_app, new_app
    from serving import copy_handbook

    from kb.core.db import session_factory
    from kb.search import DocKey, Document
    from kb.web.services import search_service
    url, root = copy_handbook(tmp_path / "other", handbook_template, handbook_index_root)
    other = new_app(url, root, embedder)

    def offered(app) -> list[str]:
        """The practices ranked for the feedback-box item (before they are read from the
        database, where the practice below is not)."""
        from kb.core.models import ChecklistItem
        with app.app_context(), session_factory(app.extensions["kb.engine"])() as session:
            index = search_service().pinned()
            item = session.get(ChecklistItem, "area-1-06")
            return [p for p, _, _ in recommend.rank_for_item(index, item)[:5]]

    monkeypatch.setattr(recommend, "_CACHE", type(recommend._CACHE)())
    computed = []
    rank = recommend._rank_for_item
    monkeypatch.setattr(recommend, "_rank_for_item",
                        lambda *args: computed.append(args[1].id) or rank(*args))
    assert offered(writable_app) == offered(other) and computed == ["area-1-06"]
    with writable_app.app_context():
        service = search_service()
        model = service.get(DocKey.practice("mazovijas-vojevodistes-biroja-apmierinatibas-anketa"))
        new = Document(**{**model.to_json(), "record_id": "anonimo-atsauksmju-kaste",
                          "title": "Anonīmo atsauksmju un sūdzību kaste bēgļiem",
                          "text": "Bēgļi anonīmi iesniedz sūdzības un atsauksmes par "
                                  "pakalpojumiem; atsauksmju kaste un anketa."})
        with session_factory(writable_app.extensions["kb.engine"])() as session:
            service.upsert(session, new)
            session.commit()
    assert "anonimo-atsauksmju-kaste" in offered(writable_app)
    assert "anonimo-atsauksmju-kaste" not in offered(other)
    assert computed == ["area-1-06", "area-1-06"]  # once more, for the copy that changed
    close_app(other)
