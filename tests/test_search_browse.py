"""Browsing search results: multi-select facets whose counts follow, sorts, the other record
types beside the practices (linked to their places), and the export of a result set.

The facet and sort rules run on a tiny corpus with hand-counted totals, on the local backend
and -- when KB_TEST_PGVECTOR_URL names a pgvector database -- on the postgres one; the pages,
the API and the export on the handbook.
"""
from __future__ import annotations

import csv
import io
import re

import pytest

from kb.core.db import create_schema, make_engine
from kb.search import Document, Filters

from test_search_postgres import PGVECTOR, build, database
from test_web_api import assert_error


def practice(record_id, title, countries, area, needs, added, title_en="", position=0):
    return Document("practice", record_id, title, f"{title}: atbalsts bēgļiem.",
                    title_en=title_en, english=title_en, areas=(area,), countries=countries,
                    needs=needs, added=added, position=position)


# Five practices and two other records, every one holding "atbalsts" (support).
CORPUS = [
    practice("p1", "Mājokļi ģimenēm", ("LV",), 3, ("housing",), "2026-01-01T00:00:00Z",
             "Housing for families", 1),
    practice("p2", "Valodas kursi", ("LV", "EE"), 2, ("language",), "2026-03-01T00:00:00Z",
             "Language courses", 2),
    practice("p3", "Darba atbalsts", ("DE",), 2, ("employment",), "2026-02-01T00:00:00Z", "", 3),
    practice("p4", "Bērnu atbalsts", ("PL",), 1, ("children", "housing"),
             "2025-12-01T00:00:00Z", "Children's support", 4),
    practice("p5", "Ārsta atbalsts", ("DE",), 5, ("health",), "2026-04-01T00:00:00Z", "Doctor",
             5),
    Document("checklist_item", "area-2-01", "Nodrošiniet atbalstu valodas apguvē",
             "Kontrolsaraksts", areas=(2,), position=1),
    Document("glossary_term", "atbalsts", "Atbalsts", "Palīdzība.", position=1),
]
PRACTICES = Filters(types=("practice",))
BACKENDS = ["local", *(["postgres"] if PGVECTOR else [])]


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(request, tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp(f"browse-{request.param}")
    with database(request.param, folder) as url:
        engine = make_engine(url, check=False)
        create_schema(engine)
        service = build(request.param, engine, folder / "indexes", CORPUS, embedder)
        yield service
        service.close()
        engine.dispose()


def ids(results) -> list[str]:
    return [h.record_id for h in results.hits]


@pytest.mark.parametrize("query", ["", "atbalsts"])
def test_several_values_of_a_facet_are_any_of_them_and_facets_all_of_them(corpus, query):
    two = corpus.search(query, Filters(types=("practice",), country=("LV", "DE")), limit=10)
    assert sorted(ids(two)) == ["p1", "p2", "p3", "p5"] and two.total == 4
    # the country facet leaves its own filter out (what adding a country would add) ...
    assert two.facets["country"] == {"LV": 2, "DE": 2, "EE": 1, "PL": 1}
    # ... the others count the results
    assert two.facets["need"] == {"housing": 1, "language": 1, "employment": 1, "health": 1}
    assert two.facets["area"] == {"2": 2, "3": 1, "5": 1}
    both = corpus.search(query, Filters(types=("practice",), country=("LV", "DE"),
                                        need=("housing", "health")), limit=10)
    assert sorted(ids(both)) == ["p1", "p5"] and both.total == 2  # AND across facets
    assert both.facets["country"] == {"LV": 1, "PL": 1, "DE": 1}     # with need applied
    assert both.facets["need"] == {"housing": 1, "language": 1, "employment": 1, "health": 1}
    assert both.facets["area"] == {"3": 1, "5": 1}
    one = corpus.search(query, Filters(types=("practice",), country="DE", area=(2, 5)))
    assert sorted(ids(one)) == ["p3", "p5"] and one.facets["area"] == {"2": 1, "5": 1}
    # the type facet, too, counts without its own filter: what else the query finds
    everything = corpus.search(query, Filters(types=("practice",)))
    assert everything.facets["type"] == {"practice": 5, "checklist_item": 1, "glossary_term": 1}
    assert everything.total == 5


@pytest.mark.parametrize("query", ["", "atbalsts"])
@pytest.mark.parametrize("sort, lang, expected", [
    ("title", "lv", ["p5", "p4", "p3", "p1", "p2"]),     # Ārsta, Bērnu, Darba, Mājokļi, Valodas
    ("title", "en", ["p4", "p3", "p5", "p1", "p2"]),     # Children's, Darba (no English), Doctor
    ("country", "lv", ["p1", "p2", "p4", "p3", "p5"]),   # Latvija, Polija, Vācija
    ("country", "en", ["p3", "p5", "p1", "p2", "p4"]),   # Germany, Latvia, Poland
    ("newest", "lv", ["p5", "p2", "p3", "p1", "p4"]),
])
def test_sorts(corpus, query, sort, lang, expected):
    results = corpus.search(query, PRACTICES, sort=sort, lang=lang)
    assert ids(results) == expected
    paged = corpus.search(query, PRACTICES, sort=sort, lang=lang, limit=2, offset=2)
    assert ids(paged) == expected[2:4] and paged.total == 5


def test_a_sort_keeps_relevance_among_equals_and_unknown_sorts_are_refused(corpus):
    listing = corpus.search("", PRACTICES, sort="relevance")
    assert ids(listing) == ["p1", "p2", "p3", "p4", "p5"]
    everything = corpus.search("", Filters(), sort="newest")  # records never added: last
    assert ids(everything)[5:] == ["area-2-01", "atbalsts"]
    for sort, lang in (("popular", "lv"), ("title", "de")):
        with pytest.raises(ValueError):
            corpus.search("", PRACTICES, sort=sort, lang=lang)


# -- the pages and the API on the handbook -----------------------------------------------------

def test_the_search_page_searches_practices_and_shows_the_rest_beside(client):
    data = client.get("/search?q=mājoklis&format=json").get_json()
    assert data["total"] >= 5 and {r["type"] for r in data["results"]} == {"practice"}
    counts = data["elsewhere"]["counts"]
    api = client.get("/api/search?q=mājoklis&limit=1").get_json()["facets"]["type"]
    assert counts == {t: n for t, n in api.items() if t != "practice"} and counts["checklist_item"]
    assert all(1 <= len(data["elsewhere"]["hits"][t]) <= min(3, n) for t, n in counts.items())
    # the API's type parameter works as it did: all types by default, or the ones named
    assert client.get("/api/search?q=mājoklis&limit=100").get_json()["total"] == sum(api.values())
    items = client.get("/api/search?q=mājoklis&type=checklist_item&limit=100").get_json()
    assert {r["type"] for r in items["results"]} == {"checklist_item"}
    assert items["total"] == counts["checklist_item"]
    html = client.get("/search?q=mājoklis").get_data(as_text=True)
    side = html[html.index('<aside class="elsewhere"'):]
    assert "type=checklist_item" in side and "Kontrolsarakstu punkti" in side


def _anchored_links(html: str) -> list[str]:
    side = html[html.index('<aside class="elsewhere"'):]
    return re.findall(r'<li><a href="([^"#]+#[^"]+)"', side)


@pytest.mark.parametrize("query", ["mājoklis", "childcare during consultations",
                                   "refugee participation", "integration strategy"])
def test_every_hit_beside_links_to_a_place_that_exists(client, query):
    links = _anchored_links(client.get(f"/search?q={query}").get_data(as_text=True))
    assert links
    for link in links:
        path, anchor = link.split("#")
        page = client.get(path)
        assert page.status_code == 200, link
        assert f'id="{anchor}"' in page.get_data(as_text=True), link


def test_checklist_items_link_to_their_item_and_general_ones_to_the_checklists_page(client):
    html = client.get("/search?q=childcare+during+consultations&lang=en").get_data(as_text=True)
    assert '<a href="/areas/4#area-4-07"' in html
    general = client.get("/search?q=&type=checklist_item").get_data(as_text=True)
    assert '<a href="/checklists#general-' in general
    checklists = client.get("/checklists").get_data(as_text=True)
    assert 'id="general-01"' in checklists and 'id="area-4-07"' in checklists
    twin = client.get("/checklists?format=json").get_json()["checklists"]
    assert [c["checklist"] for c in twin][-1] == "general" and len(twin) == 8


def test_facet_links_add_and_remove_values_and_keep_the_rest(client):
    html = client.get("/search?q=&type=practice&country=GR&need=housing").get_data(as_text=True)
    facets = html[html.index('<aside class="facets"'):html.index('<section class="results"')]
    # another country adds to the selection; the chosen one takes itself out
    assert "country=GR&amp;country=PL" in facets
    assert re.search(r'class="active" aria-current="true" href="/search\?q=&amp;type=practice'
                     r'&amp;need=housing">✓ Grieķija', facets)
    assert 'name="country" value="GR"' in html and 'name="need" value="housing"' in html
    repeated = client.get("/api/search?type=practice&country=GR&country=IT&limit=100").get_json()
    comma = client.get("/api/search?type=practice&country=GR,it&limit=100").get_json()
    assert repeated == comma
    gr = {r["id"] for r in client.get("/api/search?type=practice&country=GR&limit=100")
          .get_json()["results"]}
    it = {r["id"] for r in client.get("/api/search?type=practice&country=IT&limit=100")
          .get_json()["results"]}
    assert {r["id"] for r in repeated["results"]} == gr | it and repeated["total"] == len(gr | it)
    assert repeated["facets"]["country"]["GR"] == len(gr)


def test_area_and_success_factor_facets_are_named_in_the_ui_language(client):
    latvian = client.get("/search?q=&type=practice").get_data(as_text=True)
    english = client.get("/search?q=&type=practice&lang=en").get_data(as_text=True)
    assert "4. Strādājiet ne tikai cilvēku labā, bet arī ar viņiem" in latvian
    assert "4. Work with people, not only for them" in english
    assert "Involve beneficiaries in planning" not in latvian  # a success factor, in English
    factor = client.get("/api/areas/4").get_json()["success_factors"][0]
    assert factor["name"] in latvian and factor["name_en"] in english


@pytest.mark.parametrize("sort", ["title", "country", "newest", "quality"])
def test_the_page_and_the_api_sort(client, sort):
    api = client.get(f"/api/search?q=&type=practice&sort={sort}&limit=100").get_json()
    page = client.get(f"/search?q=&type=practice&sort={sort}&format=json").get_json()
    assert [r["id"] for r in page["results"]] == [r["id"] for r in api["results"]][:10]
    html = client.get(f"/search?q=&type=practice&sort={sort}").get_data(as_text=True)
    assert html.count('<strong aria-current="true">') == 1
    from kb.core.vocabulary import country_name, fold
    if sort == "title":
        for lang in ("lv", "en"):
            found = client.get(f"/api/search?type=practice&sort=title&lang={lang}&limit=100"
                               ).get_json()["results"]
            titles = [fold((r["title_en"] if lang == "en" else None) or r["title"])
                      for r in found]
            assert titles == sorted(titles) and len(titles) == 62
            shown = client.get(f"/search?type=practice&sort=title&lang={lang}&format=json")
            assert [r["id"] for r in shown.get_json()["results"]] == [r["id"] for r in found][:10]
    if sort == "country":
        names = [fold(country_name(r["country"][0], "lv")) for r in api["results"]]
        assert names == sorted(names)
    if sort == "newest":
        added = [r["added"] for r in client.get(
            "/api/search/export?sort=newest").get_json()["results"]]
        assert added == sorted(added, reverse=True) and len(added) == 62


@pytest.mark.parametrize("url, param", [
    ("/api/search?sort=popular", "sort"), ("/api/search?country=LV&country=XX", "country"),
    ("/api/search?area=2,9", "area"), ("/api/search?need=housing&need=pets", "need"),
    ("/api/search?lang=de", "lang"), ("/api/search/export?sort=popular", "sort"),
    ("/api/search/export?format=xlsx", "format"), ("/api/search/export?type=reference", "type"),
    ("/api/search/export?country=Latvia", "country"), ("/api/search/export?lang=ru", "lang"),
])
def test_bad_parameters_are_400_in_the_one_error_shape(client, url, param):
    assert param in assert_error(client.get(url), 400, param)


def test_bad_page_parameters_are_a_form_message(client):
    response = client.get("/search?q=x&sort=popular")
    assert response.status_code == 400 and "kārtojumam (sort) jābūt vienam no šiem" in response.get_data(as_text=True)


# -- export -----------------------------------------------------------------------------------

def _csv(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_no_csv_cell_runs_as_a_spreadsheet_formula(client):
    """Text that would start a formula (=, +, -, @) is exported with an apostrophe before it;
    the rest of the row is as it was."""
    from kb.web import export
    practice = client.get("/api/practices/womento").get_json()
    record = {**practice, "title": '=HYPERLINK("https://x.example","Klikšķini")',
              "organisation": "+371 20000000", "text": "@SUM(A1:A9)", "summary_en": "-2+3",
              "added": "2026-12-02T10:00:00Z"}
    [row] = list(csv.DictReader(io.StringIO(export.to_csv([record]))))
    assert row["Title"] == '\'=HYPERLINK("https://x.example","Klikšķini")'
    assert row["Organisation"] == "'+371 20000000" and row["Description"] == "'@SUM(A1:A9)"
    assert row["Summary in English"] == "'-2+3"
    assert row["ID"] == "womento" and row["Key area"] == str(practice["area"])


def test_the_csv_export_round_trips_the_result_set(client):
    from kb.web import export
    search = client.get("/api/search?q=mājoklis&type=practice&limit=100").get_json()
    rows = _csv(client.get("/api/search/export?q=mājoklis&format=csv&lang=en"))
    labels = dict((str(label), column) for column, label in export.COLUMNS)
    assert list(rows[0]) == list(labels) and "Title in English" in labels
    assert [r["ID"] for r in rows] == [r["id"] for r in search["results"]] and rows
    for row in rows:
        practice = client.get(f"/api/practices/{row['ID']}").get_json()
        parsed = {labels[label]: value for label, value in row.items()}
        assert parsed["title"] == practice["title"] and parsed["text"] == practice["text"]
        assert parsed["country"].split() == practice["country"]
        assert parsed["needs"].split() == practice["needs"]
        assert parsed["activities"].split() == practice["activities"]
        assert parsed["urls"].splitlines() == practice["urls"]
        assert parsed["area"] == str(practice["area"])
        assert parsed["summary_en"] == (practice["summary_en"] or "")
        assert parsed["success_factor_name"] == (practice["success_factor_name"] or "")
        assert parsed["good_practice"] == str(practice["quality"]["good_practice"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", parsed["added"])
    latvian = _csv(client.get("/api/search/export?q=mājoklis&format=csv&lang=lv"))
    assert list(latvian[0])[:2] == ["ID", "Nosaukums"]
    assert [r["ID"] for r in latvian] == [r["ID"] for r in rows]


def test_the_json_export_holds_every_field_of_each_practice(client):
    body = client.get("/api/search/export?q=mājoklis&sort=title").get_json()
    search = client.get("/api/search?q=mājoklis&type=practice&sort=title&limit=100").get_json()
    assert [r["id"] for r in body["results"]] == [r["id"] for r in search["results"]]
    assert body["total"] == search["total"] == len(body["results"])
    assert body["sort"] == "title" and body["filters"] == {"type": ["practice"]}
    for record in body["results"]:
        practice = client.get(f"/api/practices/{record['id']}").get_json()
        assert {k: v for k, v in record.items() if k != "added"} == practice


def test_the_export_of_a_filtered_set_holds_every_page(client):
    pages = [client.get(f"/api/search?type=practice&country=PL&country=DE&limit=10&offset={o}")
             .get_json() for o in (0, 10, 20)]
    expected = [r["id"] for p in pages for r in p["results"]]
    assert len(expected) == pages[0]["total"] > 10  # more than one page
    rows = _csv(client.get("/api/search/export?country=PL,DE&format=csv"))
    assert [r["ID"] for r in rows] == expected
    body = client.get("/api/search/export?country=PL&country=DE&format=json").get_json()
    assert [r["id"] for r in body["results"]] == expected


def test_the_export_is_bounded(client, monkeypatch):
    from kb.web import export
    monkeypatch.setattr(export, "MAX_ROWS", 5)
    message = assert_error(client.get("/api/search/export?country=PL&format=csv"), 400, None)
    assert "14 practices" in message and "at most 5" in message
    assert len(_csv(client.get("/api/search/export?country=GR&format=csv"))) == 4


def test_the_search_page_links_its_export(client):
    html = client.get("/search?q=atbalsts&country=PL&country=DE&sort=newest&page=2"
                      ).get_data(as_text=True)
    links = re.findall(r'href="(/api/search/export\?[^"]+)"', html)
    assert len(links) == 2
    for link in links:
        link = link.replace("&amp;", "&")
        assert "country=PL&country=DE" in link and "sort=newest" in link and "page=" not in link
        assert client.get(link).status_code == 200
    rows = _csv(client.get(links[0].replace("&amp;", "&")))
    page = client.get("/search?q=atbalsts&country=PL&country=DE&sort=newest&format=json")
    assert len(rows) == page.get_json()["total"]


def test_no_practice_matching_but_other_records_says_so_and_shows_them(client):
    html = client.get("/search?q=bezvalstnieks&lang=lv").get_data(as_text=True)
    assert "Neviens šāda veida ieraksts neatbilst vaicājumam “bezvalstnieks”" in html
    assert "Rokasgrāmatā nekas neatbilst" not in html  # it does: a glossary term, a key area
    side = html[html.index('<aside class="elsewhere"'):]
    assert 'data-type="glossary_term"' in side and 'href="/glossary#' in side
    assert client.get("/search?q=bezvalstnieks&format=json").get_json()["total"] == 0
