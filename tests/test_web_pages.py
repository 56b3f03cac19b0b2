"""HTML pages, their JSON twins, languages and errors."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("url, text", [
    ("/", "Pārlūkot pēc galvenās jomas"),
    ("/search?q=mājoklis", "<mark>"),
    ("/practices/humans-in-the-loop", "Bulgārijā Humans in the Loop"),
    ("/areas/4", "Īpašs kontrolsaraksts"),
    ("/countries/GR", "Grieķija"),
    ("/glossary", "Patvēruma meklētājs"),
    ("/criteria", "Iekļautība un līdzdalība"),
])
def test_pages_render_in_latvian_by_default(client, url, text):
    response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert text in html and '<html lang="lv">' in html


def test_every_page_has_a_json_twin(client):
    def twin(url):
        response = client.get(url + ("&" if "?" in url else "?") + "format=json")
        assert response.status_code == 200 and response.is_json, url
        return response.get_json()

    home = twin("/")  # what the page shows, as data: the same records and counts
    assert home["practices"] == 62 and [a["area"] for a in home["areas"]] == [1, 2, 3, 4, 5, 6]
    assert sum(a["practices"] for a in home["areas"]) == 62 and home["countries"]["GR"] == 4
    search = twin("/search?q=mājoklis")  # practices, and the other record types beside them
    assert search["query"] == "mājoklis" and search["page"] == 1
    assert 0 < len(search["results"]) == min(10, search["total"])
    assert {r["type"] for r in search["results"]} == {"practice"}
    assert any("<mark>" in r["snippet"] for r in search["results"])
    assert search["elsewhere"]["counts"]["checklist_item"] >= 1
    practice = twin("/practices/humans-in-the-loop")
    assert practice["practice"]["id"] == "humans-in-the-loop" and practice["area"]["area"] == 1
    assert practice["practice"]["text"].startswith("Bulgārijā Humans in the Loop")
    assert practice["related"] and "humans-in-the-loop" not in {r["id"] for r in practice["related"]}
    area = twin("/areas/4")["area"]
    assert area["area"] == 4 and len(area["success_factors"]) == 5
    assert [c["title"].startswith("Īpašs kontrolsaraksts") for c in area["checklists"]] == [False, True]
    country = twin("/countries/GR")
    assert country["country"] == "GR" and len(country["practices"]) == 4
    assert all("GR" in p["country"] for p in country["practices"])
    terms = twin("/glossary")["terms"]
    assert len(terms) == 19 and "Patvēruma meklētājs" in {t["term"] for t in terms}
    domains = twin("/criteria")["domains"]
    assert domains[0]["name"] == "Iekļautība un līdzdalība"
    assert sum(len(q["indicators"]) for d in domains for q in d["questions"]) == 34
    assert client.get("/areas/2", headers={"Accept": "application/json"}).get_json()["area"]["area"] == 2


def test_practice_page_shows_everything_about_a_practice(client):
    html = client.get("/practices/laipni-lugti-majas?lang=en").get_data(as_text=True)
    for text in ["Laipni lūgti mājās", "Poland", "Key area", "Success factor", "Housing",
                 "ec.europa.eu/migrant-integration/intpract/welcome-home", "Related practices",
                 "Summary in English", "Learn more: references of this key area"]:
        assert text in html, text
    data = client.get("/practices/laipni-lugti-majas?format=json").get_json()
    assert 3 <= len(data["related"]) <= 5 and data["practice"]["id"] not in {r["id"] for r in data["related"]}


def test_search_page_keeps_state_in_the_url_and_pages(client):
    html = client.get("/search?q=atbalsts&type=practice&country=PL").get_data(as_text=True)
    assert 'name="type" value="practice"' in html and "country=PL" in html
    assert "remove filter" in html or "noņemt filtru" in html
    page2 = client.get("/search?q=atbalsts&page=2").get_data(as_text=True)
    assert 'start="11"' in page2 and "rel=\"prev\"" in page2


def test_language_from_accept_language_and_cookie(client):
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="lv">' in client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    response = client.get("/?lang=en")
    assert "lang=en" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    html = client.get("/countries/GR").get_data(as_text=True)  # the cookie persists the choice
    assert '<html lang="en">' in html and "Greece" in html
    client.get("/?lang=lv")
    assert "Grieķija" in client.get("/countries/GR").get_data(as_text=True)


@pytest.mark.parametrize("url, status", [("/practices/nope", 404), ("/areas/7", 404),
                                         ("/countries/XX", 404), ("/search?area=9", 400),
                                         ("/search?limit=5&page=x", 400)])
def test_page_errors_are_html_with_the_message(client, url, status):
    response = client.get(url)
    assert response.status_code == status and response.mimetype == "text/html"
    assert "<p class=\"error\">" in response.get_data(as_text=True)


def test_html_escapes_user_input(client):
    html = client.get('/search?q=<script>alert(1)</script>').get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_every_ui_string_is_translated():
    from babel.messages.pofile import read_po
    from conftest import ROOT
    with open(ROOT / "kb/web/translations/lv/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    untranslated = [m.id for m in catalog if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert untranslated == []
    assert not any(m.fuzzy for m in catalog if m.id)


def test_english_ui_shows_the_handbook_structure_in_english(client):
    english = client.get("/areas/4?lang=en").get_data(as_text=True)
    for text in ["Work with people, not only for them", "Involve beneficiaries in planning",
                 "During consultations, provide childcare"]:
        assert text in english, text
    # kb's English rendering of the introduction (tests/test_english_text.py has the rest)
    assert "Involving refugees in the design, implementation, monitoring and evaluation" in english
    latvian = client.get("/areas/4?lang=lv").get_data(as_text=True)
    assert "Strādājiet ne tikai cilvēku labā, bet arī ar viņiem" in latvian
    assert "Work with people, not only for them" not in latvian
    data = client.get("/areas/4?format=json").get_json()["area"]
    assert data["title_en"] == "Work with people, not only for them"
    assert all(i["text_en"] for c in data["checklists"] for i in c["items"])


def test_home_and_practice_pages_offer_activities(client):
    home = client.get("/?lang=lv").get_data(as_text=True)
    assert "Pārlūkot pēc darbības veida" in home and "activity=feedback" in home
    practice = client.get("/practices/humans-in-the-loop?lang=en").get_data(as_text=True)
    assert "Feedback and complaints mechanisms" in practice
    results = client.get("/search?type=practice&activity=mentoring&lang=en").get_data(as_text=True)
    assert "Mentoring and buddies" in results and 'name="activity" value="mentoring"' in results


def test_english_queries_find_checklist_items_by_their_english_wording(client):
    body = client.get("/api/search?q=childcare+during+consultations&type=checklist_item").get_json()
    assert body["results"][0]["id"] == "area-4-07"
    assert body["results"][0]["title_en"].startswith("During consultations, provide childcare")
    html = client.get("/search?q=childcare+during+consultations&type=checklist_item&lang=en")
    assert "During consultations, provide childcare" in html.get_data(as_text=True)


def test_search_hits_say_where_a_practice_comes_from(client):
    page = client.get("/search?q=m%C4%81joklis").get_data(as_text=True)
    assert page.count('data-provenance="handbook"') >= 5  # every handbook practice hit says so
