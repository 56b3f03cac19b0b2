"""Curators on the web: security (XSS, CSRF, access, throttling, sizes), review, publishing."""
from __future__ import annotations

import re

import pytest

from conftest import csrf_from, decide, login

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FACTOR = "5-visa-atbalsta-modelu-klasta-izmantosana"


def form(client, url, **fields):
    data = {"title": "Valodu kafejnīca", "countries": ["LV"], "area": "5", "success_factor": FACTOR,
            "text": "Brīvprātīgie rīko sarunu vakarus latviešu valodā.", "needs": ["language"],
            "urls": "https://example.lv/kafejnica", "csrf_token": csrf_from(client, url)}
    data.update(fields)
    return client.post(url, data=data)


def submit(client, **fields) -> str:
    response = form(client, "/curate/new", **fields)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"].rsplit("/", 1)[1]


@pytest.mark.parametrize("url", ["/curate", "/curate/new", "/curate/practices/funzi",
                                 "/curate/practices/funzi/edit"])
def test_anonymous_curator_pages_redirect_to_login(curate_app, url):
    response = curate_app.test_client().get(url)
    assert response.status_code == 302 and "/curate/login?next=" in response.headers["Location"]


def test_anonymous_curator_api_is_401(curate_app):
    response = curate_app.test_client().get("/api/curate/queue")
    assert response.status_code == 401
    assert response.get_json() == {"error": {"status": 401, "message": "log in as a curator first",
                                             "param": None}}


@pytest.mark.parametrize("url, data", [
    ("/curate/login", {"email": "anna@example.lv", "password": "anna-password-1"}),
    ("/assess", {"organisation": "x"}),
    ("/suggest", {"title": "x"}),
])
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_missing_or_wrong_csrf_token_is_400(curate_app, url, data, token):
    client = curate_app.test_client()
    client.get(url)  # a session exists, as in a browser
    payload = dict(data) if token is None else {**data, "csrf_token": token}
    response = client.post(url, data=payload)
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)


def test_csrf_is_also_checked_for_logged_in_actions(anna):
    practice_id = submit(anna)
    response = anna.post(f"/curate/practices/{practice_id}/review", data={"action": "publish"})
    assert response.status_code == 400


def test_curator_cannot_publish_own_submission_but_another_can(anna, janis):
    practice_id = submit(anna)
    decide(anna, practice_id, "publish")
    page = anna.get(f"/curate/practices/{practice_id}").get_data(as_text=True)
    assert "Savu iesniegumu jūs nevarat publicēt" in page and "status-pending" in page
    assert decide(janis, practice_id, "publish").status_code == 303
    assert "status-published" in janis.get(f"/curate/practices/{practice_id}").get_data(as_text=True)


def test_publish_makes_it_searchable_at_once_and_unpublish_removes_it(curate_app, anna, janis):
    practice_id = submit(anna, title="Sarunu vakari Liepājā", city="Liepāja",
                         activities=["language-course", "cultural-sports-events"])
    public = curate_app.test_client()
    assert public.get(f"/practices/{practice_id}").status_code == 404  # not yet published
    decide(janis, practice_id, "publish")
    hits = public.get("/api/search?q=sarunu+vakari+Liepājā&type=practice").get_json()["results"]
    assert hits[0]["id"] == practice_id
    assert hits[0]["activities"] == ["language-course", "cultural-sports-events"]
    by_activity = public.get("/api/search?activity=cultural-sports-events&limit=50").get_json()
    assert practice_id in [h["id"] for h in by_activity["results"]]
    assert public.get(f"/practices/{practice_id}").status_code == 200
    decide(janis, practice_id, "unpublish")
    hits = public.get("/api/search?q=sarunu+vakari+Liepājā&type=practice").get_json()["results"]
    assert practice_id not in [h["id"] for h in hits]


def test_reject_and_request_changes_need_a_reason(anna, janis):
    practice_id = submit(anna)
    decide(janis, practice_id, "reject")
    assert "status-pending" in janis.get(f"/curate/practices/{practice_id}").get_data(as_text=True)
    decide(janis, practice_id, "reject", "Nav saistīts ar bēgļiem.")
    page = janis.get(f"/curate/practices/{practice_id}").get_data(as_text=True)
    assert "status-rejected" in page and "Nav saistīts ar bēgļiem." in page


def test_every_field_renders_xss_inert(curate_app, anna, janis):
    practice_id = submit(anna, title=f"Prakse {XSS}", title_en=XSS, organisation=XSS, city=XSS,
                         text=f"Apraksts {XSS}", summary_en=XSS, contact=XSS, source_note=XSS)
    decide(janis, practice_id, "publish")
    public = curate_app.test_client()
    pages = [janis.get(f"/curate/practices/{practice_id}"), janis.get("/curate"),
             public.get(f"/practices/{practice_id}"), public.get(f"/practices/{practice_id}?lang=en"),
             public.get("/search?q=Prakse+script")]
    for response in pages:
        html = response.get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html or "&lt;img" in html


def test_sql_shaped_input_is_stored_literally(curate_app, anna):
    sql = "Robert'); DROP TABLE practice;--"
    practice_id = submit(anna, title=sql, organisation="' OR 1=1 --")
    page = anna.get(f"/curate/practices/{practice_id}").get_data(as_text=True)
    assert "Robert&#39;); DROP TABLE practice;--" in page
    assert curate_app.test_client().get("/api/practices/humans-in-the-loop").status_code == 200


def test_oversized_fields_and_requests(curate_app, anna):
    response = form(anna, "/curate/new", title="x" * 301)
    assert response.status_code == 400 and "300" in response.get_data(as_text=True)
    response = form(anna, "/curate/new", text="x" * 20_001)
    assert response.status_code == 400
    big = anna.post("/curate/new", data={"text": "x" * (1024 * 1024 + 10)})
    assert big.status_code == 413


def test_field_errors_are_shown_per_field(anna):
    response = form(anna, "/curate/new", title="", countries=["XX"], area="2")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert html.count('class="field-error"') >= 2  # title, countries, factor of another area


def test_repeated_wrong_passwords_are_throttled(curate_app):
    attacker = curate_app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    for _ in range(5):
        assert login(attacker, "boss@example.lv", "wrong-password").status_code == 401
    response = login(attacker, "boss@example.lv", "boss-password-1")  # even the right one now
    assert response.status_code == 429 and "15" in response.get_data(as_text=True)
    other = curate_app.test_client()  # the curator is not locked out from elsewhere
    other.environ_base["REMOTE_ADDR"] = "10.9.9.10"
    assert login(other, "boss@example.lv", "boss-password-1").status_code == 303
    assert login(other, "anna@example.lv", "anna-password-1").status_code == 303


def test_public_suggestions_honeypot_rate_limit_and_queue(curate_app, janis):
    public = curate_app.test_client()
    bot = form(public, "/suggest", title="Bot", contact="bot@example.com", website="http://spam")
    assert bot.status_code == 200 and "Bot" not in janis.get("/curate").get_data(as_text=True)
    assert form(public, "/suggest", title="Bez kontakta", contact="").status_code == 400
    for n in range(5):
        response = form(public, "/suggest", title=f"Ieteikums {n}", contact="ana@example.lv")
        assert response.status_code == 200
    refused = form(public, "/suggest", title="Sestais", contact="ana@example.lv",
                   text="Garš apraksts, ko nedrīkst pazaudēt. " * 30)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and 'value="Sestais"' in page  # the form again, kept
    assert "Garš apraksts, ko nedrīkst pazaudēt." in page and "pēc stundas" in page
    queue = janis.get("/api/curate/queue").get_json()
    assert {"Ieteikums 0", "Ieteikums 4"} <= {p["title"] for p in queue["pending"]}
    assert all(p["submitted_via"] == "public" for p in queue["pending"] if p["title"].startswith("Ieteikums"))


def test_quality_scores_show_and_filter_search(curate_app, anna, janis):
    practice_id = submit(anna, title="Kvalitatīva prakse")
    decide(janis, practice_id, "publish")
    url = f"/curate/practices/{practice_id}"
    html = janis.get(url).get_data(as_text=True)
    indicators = sorted(set(re.findall(r'name="ind-([\d.]+)"', html)))
    assert len(indicators) == 34
    response = janis.post(url + "/quality", data={**{f"ind-{i}": "met" for i in indicators},
                                                  "csrf_token": csrf_from(janis, url)})
    assert response.status_code == 303
    public = curate_app.test_client()
    page = public.get(f"/practices/{practice_id}?lang=en").get_data(as_text=True)
    assert "Quality score" in page and "100 %" in page and "Good practice" in page
    good = public.get("/api/search?quality=good&type=practice").get_json()
    assert [r["id"] for r in good["results"]] == [practice_id]
    first = public.get("/api/search?q=prakse&type=practice&sort=quality").get_json()["results"][0]
    assert first["id"] == practice_id
    assert public.get("/api/search?sort=best").status_code == 400


def test_edit_keeps_history_with_before_and_after(anna, janis):
    practice_id = submit(anna)
    url = f"/curate/practices/{practice_id}/edit"
    response = form(janis, url, title="Valodu kafejnīca Rīgā", city="Rīga")
    assert response.status_code == 303
    page = janis.get(f"/curate/practices/{practice_id}").get_data(as_text=True)
    assert "janis@example.lv" in page and "Valodu kafejnīca → Valodu kafejnīca Rīgā" in page


def test_a_publish_whose_embedding_fails_is_still_found(curate_app, anna, janis, monkeypatch):
    from kb.web.services import search_service
    practice_id = submit(anna, title="Prakse bez vektoriem Zvejniekciems")
    with curate_app.app_context():
        embedder = search_service().embedder

    def broken(texts):
        raise OSError("disk full")
    monkeypatch.setattr(embedder, "encode_passages", broken)
    assert decide(janis, practice_id, "publish").status_code == 303
    page = janis.get(f"/curate/practices/{practice_id}").get_data(as_text=True)
    assert "status-published" in page
    found = janis.get("/api/search?q=Zvejniekciems&type=practice").get_json()
    assert found["results"][0]["id"] == practice_id  # the lexical retriever finds it