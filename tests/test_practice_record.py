"""A practice record worth reading: the whole template in the forms, the API and the page;
where each practice comes from; a suggestion's private status link; template facets."""
from __future__ import annotations

import re

import pytest

from conftest import csrf_from, decide

FACTOR = "5-visa-atbalsta-modelu-klasta-izmantosana"
TEMPLATE = {"period_start": "2019", "period_end": "", "ongoing": "y",
            "target_groups": ["women", "host-community"], "reach": "1 200",
            "languages": "lv, UK", "funding_source": "Rīgas dome", "funding_band": "10k-100k",
            "challenge": "Jaunpienācējiem trūkst sarunu prakses.",
            "how_it_works": "Brīvprātīgie vada sarunas reizi nedēļā.",
            "results": "300 dalībnieku gadā.", "evaluation": "Dalībnieku aptauja ik pusgadu.",
            "transferability": "Vajag telpu un divus brīvprātīgos.",
            "public_contact": "https://example.lv/kafejnica/kontakti"}


def form(client, url, **fields):
    data = {"title": "Valodu kafejnīca", "countries": ["LV"], "area": "5",
            "success_factor": FACTOR, "text": "Brīvprātīgie rīko sarunu vakarus latviešu valodā.",
            "needs": ["language"], "urls": "https://example.lv/kafejnica",
            "csrf_token": csrf_from(client, url)}
    data.update(fields)
    return client.post(url, data=data)


# -- the handbook's practices -----------------------------------------------------------------

def test_a_handbook_practice_shows_the_facts_its_text_states(client):
    data = client.get("/api/practices/womento").get_json()
    assert (data["period_start"], data["period_end"], data["ongoing"]) == (2012, None, True)
    assert data["target_groups"] == ["women"] and data["languages"] == ["fi"]
    assert data["provenance"] == {"kind": "handbook", "section": "5.5", "page": None,
                                  "submitted_at": None, "published_at": None}
    html = client.get("/practices/womento").get_data(as_text=True)
    assert "<dt>Laikposms</dt><dd>2012– (joprojām darbojas)</dd>" in html
    assert 'href="/search?type=practice&amp;target=women"' in html
    assert "Sievietes un meitenes" in html and "somu" in html
    assert 'data-provenance="handbook"' in html and "5.5. nodaļa" in html
    related = re.search(r'id="related-h".*?</section>', html, re.S).group(0)
    assert related.count('data-provenance="handbook">UNHCR rokasgrāmata<') == 4
    english = client.get("/practices/kironas-universitate?lang=en").get_data(as_text=True)
    assert "People reached" in english and "1,500" in english
    assert "section 5.5, key area “Engage local communities" in english
    # A practice the text states none of these things about shows none of them.
    none = client.get("/practices/tolerantas-igaunijas-koncerti").get_data(as_text=True)
    assert "Laikposms" not in none and "Mērķgrupas" not in none


def test_cards_and_the_home_page_say_where_practices_come_from(client):
    html = client.get("/areas/3").get_data(as_text=True)
    assert html.count('data-provenance="handbook"') == len(
        client.get("/areas/3?format=json").get_json()["practices"])
    home = client.get("/").get_data(as_text=True)
    assert '<li data-source="handbook">62 no UNHCR rokasgrāmatas</li>' in home
    assert 'data-source="curator"' not in home
    assert client.get("/?format=json").get_json()["sources"] == {
        "handbook": 62, "curator": 0, "public": 0, "import": 0}


def test_search_filters_by_target_group_and_ongoing(client):
    ongoing = client.get("/api/search?type=practice&ongoing=yes&limit=100").get_json()
    assert {r["id"] for r in ongoing["results"]} == {
        "womento", "begli-begliem-r4r", "lasisim-kopa", "jildirimas-socialas-kohezijas-centrs"}
    women = client.get("/api/search?type=practice&target=women&limit=100").get_json()
    assert "womento" in {r["id"] for r in women["results"]} and women["total"] == 9
    assert women["facets"]["ongoing"] == {"yes": 3}
    everything = client.get("/api/search?type=practice&limit=1").get_json()["facets"]
    assert everything["target"]["refugees"] == 32 and everything["ongoing"] == {"yes": 4}
    assert {r["source"] for r in ongoing["results"]} == {"handbook"}
    glossary = client.get("/api/search?type=glossary_term&limit=1").get_json()["results"]
    assert glossary[0]["source"] is None  # only practices have a provenance
    bad = client.get("/api/search?target=aliens")
    assert bad.status_code == 400 and bad.get_json()["error"]["param"] == "target"
    assert client.get("/api/search?ongoing=no").status_code == 400


# -- the forms --------------------------------------------------------------------------------

def test_the_suggestion_form_is_grouped_with_hints_and_required_fields_marked(curate_app):
    html = curate_app.test_client().get("/suggest").get_data(as_text=True)
    legends = re.findall(r'<fieldset class="group"><legend>([^<]+)</legend>', html)
    assert legends == ["Prakse", "Vieta rokasgrāmatā", "Kopsavilkums", "Kad un kam",
                       "Finansējums", "Ko tā dara un kas no tā iznāca", "Vajadzības un darbības",
                       "Saites un kontakti"]
    required = re.findall(r'<label for="([^"]+)">[^<]*<span class="required"', html)
    assert required == ["title", "area", "text", "summary_en", "contact"]
    assert re.search(r'<fieldset class="countries[^>]*><legend>[^<]*<span class="required"', html)
    for name in ("period_start", "period_end", "ongoing", "reach", "languages", "funding_source",
                 "funding_band", "challenge", "how_it_works", "results", "evaluation",
                 "transferability", "public_contact"):
        assert f'name="{name}"' in html, name
    assert html.count('name="target_groups"') == 13 and "Pagaidu aizsardzības saņēmēji" in html


@pytest.mark.parametrize("fields, field, message", [
    ({"period_start": "2020", "period_end": "2018", "ongoing": ""}, "period_end",
     "the end year is before the start year"),
    ({"period_start": "2020", "period_end": "2022"}, "period_end",
     "an ongoing practice has no end year"),
    ({"period_start": "1800"}, "period_start", "a year from 1945 to 2100"),
    ({"reach": "daudz"}, "reach", "a whole number of people"),
    ({"languages": "lv, klingon"}, "languages", "unknown language codes: klingon"),
    ({"funding_band": "huge"}, "funding_band", "the funding band is one of"),
    ({"target_groups": ["aliens"]}, "target_groups", "target groups must be a list of"),
])
def test_bad_template_fields_are_refused_with_a_message_each(anna, fields, field, message):
    anna.set_cookie("lang", "en")  # the messages in English (tests/test_messages.py: Latvian)
    response = form(anna, "/curate/new", **{**TEMPLATE, **fields})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error"[^>]*>{re.escape(message)}', html.replace("&#39;", "'"))
    assert "Jaunpienācējiem trūkst sarunu prakses." in html  # what was typed is kept


def test_the_template_goes_from_the_form_to_the_page_and_review_shows_it(curate_app, anna,
                                                                         janis):
    response = form(anna, "/curate/new", **TEMPLATE)
    assert response.status_code == 303
    practice_id = response.headers["Location"].rsplit("/", 1)[1]
    edit = f"/curate/practices/{practice_id}/edit"
    page = anna.get(edit).get_data(as_text=True)
    assert 'value="1200"' in page and 'value="lv, uk"' in page and 'value="2019"' in page
    assert anna.post(edit, data={**{k: v for k, v in TEMPLATE.items()}, "title": "Valodu kafejnīca",
                                 "countries": ["LV"], "area": "5", "success_factor": FACTOR,
                                 "text": "Brīvprātīgie rīko sarunu vakarus latviešu valodā.",
                                 "needs": ["language"], "urls": "https://example.lv/kafejnica",
                                 "reach": "1500", "csrf_token": csrf_from(anna, edit)}
                     ).status_code == 303
    history = janis.get(f"/curate/practices/{practice_id}").get_data(as_text=True)
    # fields by their labels, numbers as the UI language writes them
    assert re.search(r'data-field="reach">Sasniegto cilvēku skaits: 1\s?200 → 1\s?500', history)
    assert 'data-field="target_groups"' in history  # the submission lists its fields
    assert 'data-field="period_end"' not in history  # ... those it has
    assert 'data-field="countries">Valstis: — → Latvija' in history, re.findall(
        r'data-field="countries">[^<]*', history)  # names, not codes
    assert decide(janis, practice_id, "publish").status_code == 303
    data = curate_app.test_client().get(f"/api/practices/{practice_id}").get_json()
    assert {k: data[k] for k in ("period_start", "ongoing", "target_groups", "reach",
                                 "languages", "funding_band", "public_contact")} == {
        "period_start": 2019, "ongoing": True, "target_groups": ["women", "host-community"],
        "reach": 1500, "languages": ["lv", "uk"], "funding_band": "10k-100k",
        "public_contact": "https://example.lv/kafejnica/kontakti"}
    assert data["provenance"]["kind"] == "curator" and data["provenance"]["published_at"]
    public = curate_app.test_client()
    html = public.get(f"/practices/{practice_id}?lang=en").get_data(as_text=True)
    for text in ("Challenge and goals", "Jaunpienācējiem trūkst sarunu prakses.", "How it works",
                 "Results", "Evaluation (how and by whom)", "Transferability",
                 "Vajag telpu un divus brīvprātīgos.", "1,500", "2019–", "(ongoing)",
                 "€10,000–100,000 a year", "Ukrainian", "Submitted by a kb curator on",
                 "Published on"):
        assert text in html, text
    assert "Source: the UNHCR handbook" not in html
    home = public.get("/?lang=lv").get_data(as_text=True)
    assert "62 no UNHCR rokasgrāmatas" in home and "1 iesniedza kuratori" in home
    assert public.get("/?format=json").get_json()["practices"] == 63
    found = public.get("/api/search?type=practice&q=brīvprātīgos+telpu").get_json()
    assert practice_id in [r["id"] for r in found["results"]]  # the sections are searched
    assert {r["id"]: r["source"] for r in found["results"]}[practice_id] == "curator"


# -- a suggestion's status link -----------------------------------------------------------------

def test_a_suggestion_gets_a_private_status_link(curate_app, janis):
    public = curate_app.test_client()
    response = form(public, "/suggest", contact="ana@example.lv", **TEMPLATE)
    assert response.status_code == 200
    link = re.search(r'class="private-link"><a href="([^"]+)"', response.get_data(as_text=True))
    path = link.group(1).split("localhost", 1)[1]
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 32
    status = public.get(path)
    assert status.status_code == 200 and 'data-status="pending"' in status.get_data(as_text=True)
    practice_id = public.get(path + "?format=json").get_json()["id"]
    assert decide(janis, practice_id, "request_changes", "Lūdzu, norādiet pilsētu.").status_code == 303
    answer = public.get(f"/api/suggestions/{token}").get_json()
    assert answer["status"] == "changes_requested" and answer["reason"] == "Lūdzu, norādiet pilsētu."
    assert "Lūdzu, norādiet pilsētu." in public.get(path).get_data(as_text=True)
    decide(janis, practice_id, "reject", "Nav par bēgļu iekļaušanu.")
    assert public.get(f"/api/suggestions/{token}").get_json()["reason"] == \
        "Nav par bēgļu iekļaušanu."
    decide(janis, practice_id, "publish")
    answer = public.get(f"/api/suggestions/{token}").get_json()
    assert answer == {**answer, "status": "published", "reason": None,
                      "url": f"/practices/{practice_id}"}
    html = public.get(f"/practices/{practice_id}").get_data(as_text=True)
    assert 'data-provenance="public"' in html and "Publisks ieteikums, iesniegts" in html
    # The link is the only way in: a wrong token says nothing, the database keeps no token.
    wrong = public.get(f"/api/suggestions/{token[:-2]}xx")
    assert wrong.status_code == 404 and wrong.get_json()["error"]["param"] == "token"
    assert public.get(f"/suggest/status/{token}x").status_code == 404
    from sqlalchemy import select

    from kb.core.db import session_factory
    from kb.core.models import Practice
    with session_factory(curate_app.extensions["kb.engine"])() as session:
        stored = session.scalar(select(Practice.status_token).where(Practice.id == practice_id))
    assert stored and token not in stored and len(stored) == 64

