"""Self-assessments through the API and their complete record: create, a versioned PATCH
(409 on a stale version, with what changed), follow-up rounds and their comparison, the
download and its import, the organisation type's pre-marked items, and the summary's details."""
from __future__ import annotations

import io
from collections import Counter
import json
import re

import pytest

from conftest import csrf_from

NGO_NOT_APPLICABLE = {"area-3-02", "area-3-10", "area-3-11", "area-3-12", "area-3-13",
                      *(f"area-4-2-0{n}" for n in range(1, 6))}


@pytest.fixture()
def client(writable_client):
    return writable_client


def create(client, **body):
    response = client.post("/api/assessments", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_patch_conflict_follow_up_export_import_round_trip(client):
    notes = {"1": "Vajadzības apzinām reizi gadā.", "3": "Mājokļi — pašvaldības ziņā.\nOtrā rinda.",
             "general": "Kopsavilkums komandai."}
    created = create(client, organisation="Rīgas dome", organisation_type="municipality",
                     answers={"area-1-01": "met", "area-1-02": "unmet", "area-1-03": "na",
                              "area-3-09": "met", "general-05": "unmet"}, notes=notes)
    token = created["token"]
    assert len(token) >= 32 and created["links"]["summary"].endswith(f"/assess/{token}/summary")
    assert len(created["answers"]) == 93
    assert created["answers"]["area-1-04"] == "unanswered"
    assert created["notes"] == {"1": notes["1"], "2": "", "3": notes["3"], "4": "", "5": "",
                                "6": "", "general": notes["general"]}
    assert created["round"] == 1 and created["rounds"][0]["token"] == token
    version = created["version"]

    patched = client.patch(f"/api/assessments/{token}", json={
        "version": version, "answers": {"area-1-02": "met", "area-1-01": "unanswered"},
        "notes": {"2": "Jauna piezīme."}})
    assert patched.status_code == 200
    record = patched.get_json()
    assert record["version"] == version + 1
    assert (record["answers"]["area-1-02"], record["answers"]["area-1-01"]) == ("met", "unanswered")

    stale = client.patch(f"/api/assessments/{token}", json={
        "version": version, "answers": {"area-1-05": "met"}})
    assert stale.status_code == 409
    conflict = stale.get_json()
    assert conflict["error"]["status"] == 409 and conflict["error"]["param"] == "version"
    assert conflict["version"] == version + 1
    assert conflict["changed"]["answers"] == {"area-1-02": ["unmet", "met"],
                                              "area-1-01": ["met", "unanswered"]}
    assert conflict["changed"]["notes"] == ["2"]
    after = client.get(f"/api/assessments/{token}").get_json()
    assert after["answers"]["area-1-05"] == "unanswered" and after["version"] == version + 1

    followed = client.post(f"/api/assessments/{token}/follow-up")
    assert followed.status_code == 201
    second = followed.get_json()
    assert second["round"] == 2 and second["previous"] == token
    assert second["answers"] == after["answers"]  # copied
    assert [r["round"] for r in second["rounds"]] == [1, 2]
    again = client.post(f"/api/assessments/{token}/follow-up")
    assert again.status_code == 400 and "round 2" in again.get_json()["error"]["message"]

    download = client.get(f"/assess/{token}/summary.json")
    assert download.headers["Content-Disposition"].startswith("attachment")
    exported = json.loads(download.get_data(as_text=True))
    assert exported["answers"] == after["answers"] and exported["notes"] == after["notes"]
    assert exported["summary"]["pages"][0]["met"] == 1

    url = "/assess/import"
    imported = client.post(url, data={
        "csrf_token": csrf_from(client, url),
        "record": (io.BytesIO(download.get_data()), "kb-self-assessment.json")},
        content_type="multipart/form-data")
    assert imported.status_code == 303
    new_token = imported.headers["Location"].split("/")[2]
    assert new_token not in (token, second["token"])
    restored = client.get(f"/api/assessments/{new_token}").get_json()
    assert restored["answers"] == exported["answers"]  # every answer, unanswered ones too
    assert restored["notes"] == exported["notes"]       # every note
    assert (restored["organisation"], restored["organisation_type"]) == ("Rīgas dome", "municipality")


@pytest.mark.parametrize("upload, message", [
    (b"not json", "not a kb self-assessment record"),
    (b'["a list"]', "not a kb self-assessment record"),
    (json.dumps({"answers": {"area-1-01": "maybe"}}).encode(), "answers.area-1-01"),
    (json.dumps({"answers": {"area-9-01": "met"}}).encode(), "Unknown checklist item"),
    (json.dumps({"notes": {"1": "x" * 5001}}).encode(), "notes.1"),
])
def test_a_bad_import_is_a_form_message_and_imports_nothing(client, upload, message):
    url = "/assess/import?lang=en"
    before = assessments_in(client)
    response = client.post(url, data={"csrf_token": csrf_from(client, url),
                                      "record": (io.BytesIO(upload), "x.json")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert assessments_in(client) == before


def assessments_in(client) -> int:
    from sqlalchemy import func, select
    from kb.core.db import session_factory
    from kb.core.models import Assessment
    with session_factory(client.application.extensions["kb.engine"])() as session:
        return session.scalar(select(func.count()).select_from(Assessment))


def test_a_missing_file_is_a_form_message(client):
    url = "/assess/import?lang=en"
    response = client.post(url, data={"csrf_token": csrf_from(client, url)})
    assert response.status_code == 400 and "Choose the JSON file" in response.get_data(as_text=True)


@pytest.mark.parametrize("body, param", [
    ({"answers": {"area-1-01": "yes"}}, "answers.area-1-01"),
    ({"answers": {"area-9-99": "met"}}, "answers"),
    ({"notes": {"7": "x"}}, "notes.7"),
    ({"notes": {"1": "x" * 5001}}, "notes.1"),
    ({"organisation_type": "club"}, "organisation_type"),
    ({"organisation": "x" * 201}, "organisation"),
    ({"colour": "red"}, "colour"),
])
def test_bad_assessment_input_is_a_400_naming_the_field(client, body, param):
    response = client.post("/api/assessments", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == param


def test_patch_needs_a_version_and_unknown_tokens_are_404(client):
    token = create(client)["token"]
    response = client.patch(f"/api/assessments/{token}", json={"answers": {}})
    assert response.status_code == 400 and response.get_json()["error"]["param"] == "version"
    for method, url in (("get", "/api/assessments/nope"), ("patch", "/api/assessments/nope"),
                        ("post", "/api/assessments/nope/follow-up")):
        assert getattr(client, method)(url, json={"version": 1}).status_code == 404


@pytest.mark.parametrize("kind, expected", [
    ("ngo", NGO_NOT_APPLICABLE), ("faith", NGO_NOT_APPLICABLE), ("business", NGO_NOT_APPLICABLE),
    ("education", {f"area-4-2-0{n}" for n in range(1, 6)}), ("municipality", set()),
    ("other", set()), ("", set()),
])
def test_the_organisation_type_pre_marks_the_items_that_do_not_apply(client, kind, expected):
    record = create(client, organisation_type=kind)
    assert {i for i, s in record["answers"].items() if s == "na"} == expected


def test_pre_marked_items_can_be_changed_and_say_why_on_the_page(client):
    record = create(client, organisation_type="ngo", answers={"area-3-10": "met"})
    assert record["answers"]["area-3-10"] == "met" and record["answers"]["area-3-11"] == "na"
    html = client.get(f"/assess/{record['token']}/3?lang=en").get_data(as_text=True)
    assert html.count('class="hint pre-marked"') == 4  # 3-02, 3-11, 3-12, 3-13
    form = client.post("/assess", data={"organisation_type": "ngo",
                                        "csrf_token": csrf_from(client, "/assess")})
    token = form.headers["Location"].split("/")[2]
    assert client.get(f"/api/assessments/{token}").get_json()["answers"]["area-4-2-01"] == "na"


def test_the_summary_lists_unanswered_items_numbers_dates_and_all_not_applicable(client):
    items6 = [f"area-6-{n:02d}" for n in range(1, 11)]
    record = create(client, answers={"area-1-01": "met", "area-1-02": "unmet",
                                     **{i: "na" for i in items6}})
    token = record["token"]
    summary = client.get(f"/assess/{token}/summary?format=json").get_json()
    page1, page6 = summary["pages"][0], summary["pages"][5]
    assert page1["unanswered"] == 8
    assert [i["number"] for i in page1["unanswered_items"]] == list(range(3, 11))
    assert page1["unmet"][0]["number"] == 2 and page1["unmet"][0]["checklist"] == "area-1"
    assert page6["reading"] == "not_applicable" and summary["pages"][1]["reading"] == "open"
    assert summary["created_at"][:2] == "20" and summary["round"] == 1
    html = client.get(f"/assess/{token}/summary?lang=en").get_data(as_text=True)
    assert "Not answered yet (8)" in html and "Every task was answered not applicable" in html
    assert re.search(r'id="dates">Round 1 · started [A-Z][a-z]+ \d{1,2}, \d{4}', html)  # Babel's date
    assert '<span class="number">2.</span>' in html


def test_recommendation_reasons_have_no_function_words_and_follow_the_ui_language(client):
    from kb.assessment.recommend import REASON_STOP_WORDS
    unmet = [f"area-{a}-0{n}" for a in (1, 2, 5) for n in range(1, 6)]
    token = create(client, answers={i: "unmet" for i in unmet})["token"]
    summary = client.get(f"/assess/{token}/summary?format=json").get_json()
    whys = [w for p in summary["pages"] for i in p["unmet"] for r in i["practices"]
            for w in r["why"]]
    assert whys
    for why in whys:
        for word in why["words"] + why["words_en"]:
            assert len(word) > 2 and word.lower() not in REASON_STOP_WORDS, word
    assert any(w["words_en"] for w in whys)
    english = client.get(f"/assess/{token}/summary?lang=en").get_data(as_text=True)
    shown = re.findall(r"Shared words: ([^;<]+)", english)
    english_words = {w for why in whys for w in why["words_en"]}
    latvian_only = {w for why in whys for w in why["words"]} - english_words
    assert shown and not any(w in latvian_only for s in shown for w in s.split(", "))
    assert "Activities: " in english and "Needs: " in english


def test_two_rounds_compare_per_area_newly_met_and_slipped(client):
    first = create(client, answers={"area-1-01": "met", "area-1-02": "met", "area-1-03": "unmet",
                                    "area-2-01": "unmet", "area-5-01": "met"})
    second = client.post(f"/api/assessments/{first['token']}/follow-up").get_json()
    client.patch(f"/api/assessments/{second['token']}", json={
        "version": second["version"],
        "answers": {"area-1-03": "met", "area-2-01": "met", "area-5-01": "unmet",
                    "area-1-02": "na"}})
    summary = client.get(f"/assess/{second['token']}/summary?format=json").get_json()
    comparison = summary["comparison"]
    assert [r["round"] for r in comparison["rounds"]] == [1, 2]
    assert [r["percent"]["1"] for r in comparison["rounds"]] == [67, 100]
    assert [r["percent"]["2"] for r in comparison["rounds"]] == [0, 100]
    assert [r["percent"]["5"] for r in comparison["rounds"]] == [100, 0]
    assert comparison["rounds"][1]["percent"]["3"] is None
    assert [i["id"] for i in comparison["newly_met"]] == ["area-1-03", "area-2-01"]
    assert [i["id"] for i in comparison["slipped"]] == ["area-5-01"]  # not na: it is not met
    html = client.get(f"/assess/{second['token']}/summary?lang=en").get_data(as_text=True)
    assert 'id="comparison"' in html and 'id="slipped"' in html
    # the first round's summary compares nothing yet
    assert len(client.get(f"/assess/{first['token']}/summary?format=json")
               .get_json()["comparison"]["rounds"]) == 1
    # through the page: a follow-up of round 2 is round 3
    url = f"/assess/{second['token']}/summary"
    response = client.post(f"/assess/{second['token']}/follow-up",
                           data={"csrf_token": csrf_from(client, url)})
    assert response.status_code == 303
    third = response.headers["Location"].split("/")[2]
    assert client.get(f"/api/assessments/{third}").get_json()["round"] == 3


def test_a_share_link_shows_the_summary_read_only_until_revoked(client):
    record = create(client, organisation="Biedrība", answers={"area-1-01": "met"},
                    notes={"1": "Kopīgojama piezīme."})
    token = record["token"]
    summary_url = f"/assess/{token}/summary"
    response = client.post(f"/assess/{token}/share", data={"csrf_token": csrf_from(client, summary_url)})
    assert response.status_code == 303
    html = client.get(summary_url).get_data(as_text=True)
    link = re.search(r'id="share-link" href="([^"]+)"', html).group(1)
    shared = client.get(link + "?lang=en").get_data(as_text=True)
    assert "Kopīgojama piezīme." in shared and "A read-only summary" in shared
    assert token not in shared and "follow-up" not in shared and "csrf_token" not in shared
    data = client.get(link + "?format=json").get_json()
    assert data["shared"] is True and token not in json.dumps(data)
    assert client.get(f"/api/assessments/{token}").get_json()["share_url"].endswith(link)
    client.post(f"/assess/{token}/share/revoke", data={"csrf_token": csrf_from(client, summary_url)})
    assert client.get(link).status_code == 404
    assert client.get(f"/api/assessments/{token}").get_json()["share_url"] is None
    # through the API: a new link, and the old one stays dead
    made = client.post(f"/api/assessments/{token}/share")
    assert made.status_code == 201 and not made.get_json()["url"].endswith(link)
    assert client.get(made.get_json()["url"].split("localhost")[1]).status_code == 200
    assert client.delete(f"/api/assessments/{token}/share").get_json() == {"url": None}


def test_a_team_round_counts_every_answer_and_flags_disagreements(client):
    owner = create(client, organisation="Rīgas dome",
                   answers={"area-1-01": "met", "area-1-02": "met", "area-1-03": "unmet",
                            "area-2-01": "na"})
    token = owner["token"]
    members = []
    for name in ("Partneru NVO", "Bēgļu kopiena"):
        response = client.post(f"/api/assessments/{token}/members", json={"name": name})
        assert response.status_code == 201
        members.append(response.get_json())
    assert members[0]["url"].endswith(f"/assess/{members[0]['token']}/1")
    answers = [{"area-1-01": "met", "area-1-02": "unmet", "area-1-03": "unmet", "area-2-01": "met"},
               {"area-1-01": "met", "area-1-02": "na", "area-1-03": "unmet"}]
    for member, given in zip(members, answers):
        record = client.get(f"/api/assessments/{member['token']}").get_json()
        assert record["member_name"] == member["name"]
        client.patch(f"/api/assessments/{member['token']}",
                     json={"version": record["version"], "answers": given})
    team = client.get(f"/assess/{token}/summary?format=json").get_json()["team"]
    counts = {i["id"]: (i["met"], i["unmet"], i["na"], i["unanswered"], i["disagree"])
              for i in team["items"]}
    assert counts["area-1-01"] == (3, 0, 0, 0, False)
    assert counts["area-1-02"] == (1, 1, 1, 0, True)
    assert counts["area-1-03"] == (0, 3, 0, 0, False)
    assert counts["area-2-01"] == (1, 0, 1, 1, True)
    assert counts["area-2-02"] == (0, 0, 0, 3, False)
    assert [i["id"] for i in team["discussion"]] == ["area-1-02", "area-2-01"]
    assert [m["answered"] for m in team["members"]] == [4, 3]
    html = client.get(f"/assess/{token}/summary?lang=en").get_data(as_text=True)
    assert "Points to discuss (2)" in html and 'data-item="area-1-02"' in html
    # a member sees their own answers, cannot invite or follow up, and is no owner
    member_html = client.get(f"/assess/{members[0]['token']}/summary?lang=en").get_data(as_text=True)
    assert 'id="member-note"' in member_html and 'id="follow-up"' not in member_html
    refused = client.post(f"/api/assessments/{members[0]['token']}/members", json={"name": "X"})
    assert refused.status_code == 400
    assert client.post(f"/api/assessments/{members[0]['token']}/follow-up").status_code == 400
    assert client.get(f"/assess/{members[0]['token']}/summary?format=json").get_json()["team"] is None
    # through the page
    url = f"/assess/{token}/summary"
    response = client.post(f"/assess/{token}/team", data={"name": "Skola",
                                                          "csrf_token": csrf_from(client, url)})
    assert response.status_code == 303
    assert len(client.get(f"{url}?format=json").get_json()["team"]["members"]) == 3
    empty = client.post(f"/assess/{token}/team", data={"name": " ",
                                                       "csrf_token": csrf_from(client, url)})
    assert empty.status_code == 400


def test_summary_recommendations_vary_across_items_use_notes_and_say_their_strength(
        client, monkeypatch):
    from kb.assessment import recommend
    from kb.web.services import db, search_reader
    unmet = [f"area-3-{n:02d}" for n in range(1, 18)]
    app = client.application
    with app.app_context():
        plain = recommend.per_item(search_reader(), db(), unmet)
        monkeypatch.setattr(recommend, "REPEAT_DISCOUNT", 1.0)
        undiscounted = recommend.per_item(search_reader(), db(), unmet)
        monkeypatch.undo()
        shown = lambda found: Counter(r.id for rs in found.values() for r in rs)
        assert max(shown(plain).values()) < max(shown(undiscounted).values())
        assert len(shown(plain)) > len(shown(undiscounted))
        first = plain[unmet[0]][0]  # nothing shown before it: the item's best, strong
        assert first.share == 1.0
        # the notes of the item's page join its query: what they are about moves up
        note = "Mātes ar bērniem: sieviešu tikšanās klubs, drošas telpas sievietēm."
        noted = recommend.per_item(search_reader(), db(), ["area-3-05"],
                                   notes={"area-3-05": note}, top=10)["area-3-05"]
        alone = recommend.per_item(search_reader(), db(), ["area-3-05"], top=10)["area-3-05"]
        text = lambda pid: search_reader().get(recommend.DocKey("practice", pid)).text.lower()
        before = {r.id: r.score for r in alone}
        gain = {r.id: r.score / before[r.id] for r in noted if r.id in before}
        women = [p for p in gain if "siev" in text(p)]  # sievietes, sieviešu: women
        neither = sorted(gain[p] for p in gain if "siev" not in text(p) and "bērn" not in text(p))
        assert women and neither
        assert min(gain[p] for p in women) > neither[len(neither) // 2]
    token = create(client, answers={i: "unmet" for i in unmet})["token"]
    page3 = client.get(f"/assess/{token}/summary?format=json").get_json()["pages"][2]
    practices = [r for i in page3["unmet"] for r in i["practices"]]
    assert {r["strength"] for r in practices} <= {"strong", "good", "weak"}
    assert page3["unmet"][0]["practices"][0]["match"] == 1.0
    for r in practices:
        assert r["strength"] == ("strong" if r["match"] >= 0.8 else
                                 "good" if r["match"] >= 0.5 else "weak")
