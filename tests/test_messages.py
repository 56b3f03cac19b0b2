"""Every page and every error in the Latvian UI says it in Latvian: no English catalogue
string shows on them (the catalogue's msgids are English; Latvian is the default UI)."""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from conftest import csrf_from, login

CATALOGUE = Path(__file__).resolve().parent.parent / "kb/web/translations/lv/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sd]")


def _english_fragments() -> dict[str, str]:
    """Per translated msgid, its longest literal run of words (what a page would show of it
    untranslated); single words and short runs are left out (names, codes, "ID")."""
    fragments = {}
    with CATALOGUE.open("rb") as file:
        for message in read_po(file):
            for msgid, msgstr in _pairs(message):
                if not msgid or msgid == msgstr:
                    continue
                longest = max((p.strip(" .,;:()") for p in PLACEHOLDER.split(msgid)), key=len)
                if len(longest) >= 16 and " " in longest:
                    fragments[longest] = msgid
    return fragments


def _pairs(message):
    if isinstance(message.id, str):
        return [(message.id, message.string)]
    return list(zip(message.id, message.string or ("",) * len(message.id)))


def visible_text(page: str) -> str:
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return " ".join(html.unescape(page).split())


ENGLISH = _english_fragments()
PAGES = ["/", "/search?q=m%C4%81joklis", "/search?q=asdfqwer", "/search?q=&country=PL&country=DE",
         "/practices/laipni-lugti-majas", *[f"/areas/{n}" for n in range(1, 7)], "/countries/PL",
         "/checklists", "/glossary", "/criteria", "/quality-check", "/assess", "/suggest",
         "/curate/login", "/assess/import"]
ERRORS = [("/practices/no-such-practice", 404), ("/areas/9", 404), ("/countries/ZZ", 404),
          ("/search?q=" + "x" * 1001, 400), ("/search?sort=sideways", 400),
          ("/search?country=XX", 400), ("/search?area=99", 400), ("/search?page=many", 400),
          ("/no/such/page", 404), ("/assess/not-a-token/1", 404),
          ("/quality-check/not-a-token", 404), ("/assess/shared/not-a-token", 404),
          ("/suggest/status/not-a-token", 404)]


def test_the_catalogue_has_english_to_look_for():
    assert len(ENGLISH) > 200, len(ENGLISH)


@pytest.mark.parametrize("url", PAGES)
def test_every_page_is_latvian(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    _no_english(response.get_data(as_text=True), url)


@pytest.mark.parametrize("url, status", ERRORS)
def test_every_error_page_is_latvian(client, url, status):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    _no_english(response.get_data(as_text=True), url)


def test_a_refused_form_and_a_stale_form_are_latvian(writable_client):
    refused = writable_client.post("/suggest", data={
        "title": "", "csrf_token": csrf_from(writable_client, "/suggest")})
    assert refused.status_code == 400
    _no_english(refused.get_data(as_text=True), "/suggest (refused)")
    stale = writable_client.post("/suggest", data={"title": "Bez žetona"})
    assert stale.status_code == 400 and "CSRF" in stale.get_data(as_text=True)
    _no_english(stale.get_data(as_text=True), "/suggest (no CSRF token)")
    wrong = writable_client.post("/glossary")
    assert wrong.status_code == 405
    _no_english(wrong.get_data(as_text=True), "POST /glossary")


def test_curators_refusals_are_latvian(curate_app):
    """The schema's and the review rules' refusals, and WTForms' own messages, in Latvian."""
    anna, janis = curate_app.test_client(), curate_app.test_client()
    assert login(anna, "anna@example.lv", "anna-password-1").status_code == 303
    assert login(janis, "janis@example.lv", "janis-password-1").status_code == 303
    bad = anna.post("/curate/new", data={
        "title": "Valodu kafejnīca", "countries": ["LV"], "area": "2",
        "success_factor": "5-visa-atbalsta-modelu-klasta-izmantosana", "text": "",
        "urls": "ne-adrese", "period_start": "1800", "csrf_token": csrf_from(anna, "/curate/new")})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "izvēlieties kādu no izvēlētās galvenās jomas veiksmes faktoriem" in page
    assert "nav tīmekļa adrese" in page and "gads no 1945 līdz 2100" in page
    _no_english(page, "/curate/new (refused)")
    empty = anna.post("/curate/new", data={"csrf_token": csrf_from(anna, "/curate/new")})
    assert empty.status_code == 400 and "Šis lauks ir obligāts." in empty.get_data(as_text=True)
    _no_english(empty.get_data(as_text=True), "/curate/new (empty)")
    made = anna.post("/curate/new", data={
        "title": "Valodu kafejnīca", "countries": ["LV"], "area": "5",
        "success_factor": "5-visa-atbalsta-modelu-klasta-izmantosana",
        "text": "Brīvprātīgie rīko sarunu vakarus.", "csrf_token": csrf_from(anna, "/curate/new")})
    assert made.status_code == 303
    practice = made.headers["Location"]
    own = anna.post(practice + "/review", data={"action": "publish",
                                                "csrf_token": csrf_from(anna, practice)},
                    follow_redirects=True)
    assert "Savu iesniegumu jūs nevarat publicēt" in own.get_data(as_text=True)
    _no_english(own.get_data(as_text=True), "publishing one's own submission")
    no_reason = janis.post(practice + "/review", data={"action": "reject",
                                                       "csrf_token": csrf_from(janis, practice)},
                           follow_redirects=True)
    assert "pamatojums ir obligāts" in no_reason.get_data(as_text=True)
    _no_english(no_reason.get_data(as_text=True), "rejecting without a reason")


def _no_english(page: str, where: str) -> None:
    text = visible_text(page)
    found = sorted(f for f in ENGLISH if f in text)
    assert not found, f"{where}: English catalogue strings {found[:5]}"
