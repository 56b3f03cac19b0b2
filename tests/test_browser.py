"""Real browser tests: Playwright driving Debian's Chromium against the app served by waitress.

Screenshots of the home, results and practice pages in both languages (and at phone width)
are written to test-artifacts/screenshots/ for a person to look at.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from conftest import SHOTS

FACTOR = "5-visa-atbalsta-modelu-klasta-izmantosana"


def serve(app):
    """Serve ``app`` with waitress on a free local port, in a thread; yield its base URL."""
    from waitress import create_server
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture(scope="session")
def live_server(app):
    """The session's read-only app, served."""
    yield from serve(app)


@pytest.fixture()
def writable_server(writable_app):
    """An app on the test's own copy of the handbook, served."""
    yield from serve(writable_app)


@pytest.fixture()
def page(browser):
    context = browser.new_context(locale="lv-LV", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def shot(page, name: str) -> None:
    """A full-page screenshot for people to look at, under test-artifacts/screenshots/, when
    KB_TEST_SCREENSHOTS is set (each costs ~0.4 s of CPU; no test reads them)."""
    if os.environ.get("KB_TEST_SCREENSHOTS"):
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_search_facet_practice_in_both_languages(page, live_server):
    for lang in ("lv", "en"):
        page.goto(f"{live_server}/?lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        shot(page, f"home-{lang}")
        page.fill("#q", "mājoklis bēgļu ģimenēm")
        page.press("#q", "Enter")
        page.wait_for_url("**/search?**")
        assert page.locator(".hit").count() == 10
        assert page.locator(".hit mark").count() > 0
        shot(page, f"results-{lang}")
        country = "Polija" if lang == "lv" else "Poland"
        page.locator(".facets a", has_text=country).first.click()
        page.wait_for_url("**country=PL**")
        first = page.locator(".hit h2 a").first
        title = first.inner_text()
        first.click()
        page.wait_for_url("**/practices/**")
        assert page.locator("h1").inner_text() == title
        assert ("Polija" if lang == "lv" else "Poland") in page.locator(".facts").inner_text()
        shot(page, f"practice-{lang}")


def test_language_switch_persists(page, live_server):
    page.goto(f"{live_server}/")
    assert page.locator("h2#areas-h").inner_text() == "Pārlūkot pēc galvenās jomas"
    page.click("nav.lang a[hreflang=en]")
    assert page.locator("h2#areas-h").inner_text() == "Browse by key area"
    page.goto(f"{live_server}/countries/GR")
    assert "Greece" in page.locator("h1").inner_text()
    page.click("nav.lang a[hreflang=lv]")
    assert "Grieķija" in page.locator("h1").inner_text()


def test_search_with_the_keyboard_only(page, live_server):
    page.goto(f"{live_server}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    for _ in range(15):
        if page.evaluate("document.activeElement.id") == "q":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("psiholoģiskais atbalsts")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=**")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.hit') !== null"):
            break
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus
    target = page.evaluate("document.activeElement.href")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == target and page.locator("h1").count() == 1


def test_phone_width(browser, live_server):
    context = browser.new_context(locale="lv-LV", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    for name, url in [("home-phone", "/"), ("results-phone", "/search?q=valodas+kursi"),
                      ("practice-phone", "/practices/womento")]:
        page.goto(live_server + url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 391, (url, width)  # nothing wider than the screen
        shot(page, name)
    context.close()


def test_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/search?q=mentori")
    page.locator(".facets a").first.click()
    assert page.locator(".hit").count() >= 1
    context.close()


def test_nothing_found_says_so_and_offers_what_helps(page, live_server):
    page.goto(f"{live_server}/")
    page.fill("#q", "asdfqwer")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?q=asdfqwer**")
    assert page.locator("h1#results-h").inner_text().startswith("0 ")
    status = page.locator(".nothing-found")
    assert "Rokasgrāmatā nekas neatbilst vaicājumam “asdfqwer”" in status.inner_text()
    assert page.locator("section.results > ol.hits").count() == 0  # no results, ...
    assert 1 <= page.locator(".closest .hit").count() <= 5      # ... near misses apart
    assert page.locator(".export").count() == 0
    needs = page.locator("#browse-needs-h + .chips a")
    countries = page.locator("#browse-countries-h + .chips a")
    assert needs.count() >= 10 and countries.count() >= 10
    shot(page, "nothing-found-lv")
    with page.expect_navigation():
        needs.first.click()
    assert page.locator(".hits .hit").count() >= 1
    # a misspelt word: the spelling the handbook uses, with its diacritics, is offered
    page.goto(f"{live_server}/search?q=m%C4%81joklls")
    suggestion = page.locator(".nothing-found a.suggestion")
    assert suggestion.inner_text() == "mājoklis"
    with page.expect_navigation():
        suggestion.click()
    assert page.locator(".hits .hit").count() >= 1


def test_two_countries_selected_show_practices_of_both_and_their_counts(page, live_server):
    expected = {c: page.request.get(f"{live_server}/api/search?type=practice&country={c}"
                                    "&limit=100").json()["total"] for c in ("GR", "IT")}
    page.goto(f"{live_server}/search?q=")
    countries = page.locator('.facet[data-facet="country"]')
    countries.locator("a", has_text="Grieķija").click()
    page.wait_for_url("**country=GR**")
    countries.locator("a", has_text="Itālija").click()
    page.wait_for_url("**country=GR&country=IT**")
    kinds = page.locator("section.results .hit .kind").all_inner_texts()
    assert len(kinds) == expected["GR"] + expected["IT"]  # 9: one page
    assert all("Grieķija" in k or "Itālija" in k for k in kinds)
    assert any("Grieķija" in k for k in kinds) and any("Itālija" in k for k in kinds)
    assert page.locator("h1#results-h").inner_text().startswith(f"{len(kinds)} ")
    active = countries.locator("a.active")
    assert active.count() == 2
    for name, code in (("Grieķija", "GR"), ("Itālija", "IT")):
        link = active.filter(has_text=name)
        assert link.locator(".n").inner_text() == str(expected[code])
    # another country's count says what it would add; choosing it adds it
    poland = countries.locator("a", has_text="Polija")
    assert poland.locator(".n").inner_text() == "14"
    shot(page, "two-countries-lv")
    active.filter(has_text="Grieķija").click()  # taken out again
    page.wait_for_url("**country=IT**")
    assert "GR" not in page.url and page.locator("section.results .hit").count() == expected["IT"]


def test_self_assessment_in_the_browser(page, writable_server):
    page.goto(f"{writable_server}/assess?lang=lv")
    page.fill("#organisation", "Valmieras novada pašvaldība")
    page.select_option("#organisation_type", "municipality")
    page.click("button[type=submit]")
    page.wait_for_url("**/assess/*/1")
    link = page.locator(".private-link a").get_attribute("href")
    radios = page.locator("fieldset")
    for i in range(radios.count()):
        radios.nth(i).locator("input[type=radio][value=%s]" % ("met" if i % 3 else "unmet")).check()
    page.fill("#notes", "Pirmās jomas piezīmes: jārunā ar NVO.")
    page.click("button[value=next]")
    page.wait_for_url("**/assess/*/2")
    fieldsets = page.locator("fieldset")
    for i in range(fieldsets.count()):
        fieldsets.nth(i).locator("input[type=radio][value=unmet]").check()
    page.fill("#notes", "Otrās jomas piezīmes.")
    page.click("button[value=summary]")
    page.wait_for_url("**/summary")
    assert page.locator("svg[role=img] rect").count() == 12  # six areas: track and bar each
    assert "Pirmās jomas piezīmes" in page.content()
    assert page.locator(".recommended li").count() >= 3 * 19  # 4 + 15 unmet items, 3 each
    shot(page, "assessment-summary-lv")
    page.pdf(path=str(SHOTS.parent / "assessment-summary.pdf"))  # what "save as PDF" gives
    with page.expect_download() as download:
        page.click("text=Lejupielādēt JSON")
    import json
    saved = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert saved["summary"]["pages"][1]["reading"] == "none"  # the complete record
    assert saved["notes"]["1"] == "Pirmās jomas piezīmes: jārunā ar NVO."

    # Reopen through the private link, change an answer, see the summary change.
    page.goto(link)
    first = page.locator("fieldset").first
    assert first.locator("input[type=radio][value=unmet]").is_checked()
    first.locator("input[type=radio][value=met]").check()
    page.click("button[value=summary]")
    page.wait_for_url("**/summary")
    data = page.evaluate("async () => (await fetch(location.pathname + '?format=json')).json()")
    assert data["pages"][0]["met"] == 7 and len(data["pages"][0]["unmet"]) == 3

    # In English the tasks read in English, and each practice says what it does for the task.
    page.goto(page.url.split("?")[0] + "?lang=en")
    assert page.locator("#unmet-area-2-01 .item").inner_text().startswith(
        "1. Consult representatives of different groups")
    assert page.locator(".why", has_text="Activities: ").count() >= 19
    shot(page, "assessment-summary-en")


@pytest.fixture()
def curate_server(curate_app):
    yield from serve(curate_app)


def browser_login(page, server, email, password, lang="en"):
    page.goto(f"{server}/curate/login?lang={lang}")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/curate")


def test_curators_submit_score_approve_and_it_is_searchable(browser, curate_server):
    anna = browser.new_context(locale="en-GB").new_page()
    browser_login(anna, curate_server, "anna@example.lv", "anna-password-1")
    anna.click("text=Submit a practice")
    anna.fill("#title", "Daugavpils sarunu klubs")
    anna.check("input[name=countries][value=LV]")
    anna.fill("#city", "Daugavpils")
    anna.select_option("#area", "5")
    anna.select_option("#success_factor", FACTOR)
    anna.fill("#text", "Brīvprātīgie katru ceturtdienu rīko sarunu klubu latviešu valodā "
                       "bēgļiem un vietējiem iedzīvotājiem Daugavpilī.")
    anna.check("input[name=needs][value=language]")
    anna.fill("#urls", "https://example.lv/klubs")
    anna.click("form.stack button[type=submit]")
    anna.wait_for_url("**/curate/practices/*")
    practice_url = anna.url
    shot(anna, "curator-submitted-en")

    janis = browser.new_context(locale="lv-LV").new_page()
    browser_login(janis, curate_server, "janis@example.lv", "janis-password-1", lang="lv")
    janis.goto(practice_url)
    for radio in janis.locator("input[type=radio][value=met]").all():
        radio.check()
    janis.click("text=Saglabāt novērtējumu")
    janis.wait_for_url("**#quality")
    assert "100.0" in janis.locator("#quality").inner_text()
    janis.select_option("#action", "publish")
    janis.click("text=Saglabāt lēmumu")
    janis.wait_for_load_state()
    assert "status-published" in janis.content()
    shot(janis, "curator-published-lv")

    visitor = browser.new_context(locale="lv-LV").new_page()
    visitor.goto(f"{curate_server}/search?q=Daugavpils+sarunu+klubs")
    assert visitor.locator(".hit h2 a").first.inner_text() == "Daugavpils sarunu klubs"
    api = visitor.evaluate("async () => (await fetch('/api/search?q=Daugavpils&type=practice')).json()")
    assert api["results"][0]["title"] == "Daugavpils sarunu klubs"
    for page in (anna, janis, visitor):
        page.context.close()


def test_the_assessment_table_in_english_reads_the_verdict(page, writable_server):
    page.goto(f"{writable_server}/quality-check?lang=en")
    assert "Does the practice make sure that services are accessible" in page.content()
    indicators = page.locator("fieldset.indicator")
    assert indicators.count() == 34
    for i in range(indicators.count()):
        indicators.nth(i).locator("input[value=met]").check()
    # the scores follow every change (the page asks POST /api/quality-check)
    from playwright.sync_api import expect
    expect(page.locator("#overall")).to_have_text("100 %")
    assert page.locator("#verdict").inner_text().startswith("Good practice: every domain reaches 50 %")
    effectiveness = page.locator('fieldset.domain[data-domain="3"] fieldset.indicator')
    for i in range(4):
        effectiveness.nth(i).locator("input[value=not_met]").check()
    expect(page.locator("#verdict")).to_contain_text("Not yet a good practice")
    verdict = page.locator("#verdict").inner_text()
    assert "domain 3 (Effectiveness) scores 33.3 %, below 50 %" in verdict
    assert "at least 50 % in every domain and at least 70 % overall" in verdict
    assert page.locator('#domain-scores tr[data-domain="3"] .score').inner_text() == "33.3 %"
    page.fill("#title", "Valodu kafejnīca")
    page.click("form.quality-table button[type=submit]")
    page.wait_for_url("**/quality-check/*")
    assert "Not yet a good practice" in page.locator("#verdict").inner_text()
    weakest = page.locator('#weakest .weak-domain[data-domain="3"]')
    assert weakest.locator(".guidance li").count() == 2
    assert weakest.locator(".recommended li").count() == 3
    shot(page, "assessment-table-en")
    assert page.locator("#suggest").get_attribute("href").startswith("/suggest?quality_check=")


def test_two_rounds_compared_in_the_browser(page, writable_server):
    page.goto(f"{writable_server}/assess?lang=en")
    page.click("button[type=submit]")
    page.wait_for_url("**/assess/*/1")
    fieldsets = page.locator(".checklist fieldset")
    for i in range(fieldsets.count()):  # round 1: items 1-5 met, 6-10 not met
        fieldsets.nth(i).locator("input[type=radio][value=%s]" % ("met" if i < 5 else "unmet")).check()
    page.click("button[value=summary]")
    page.wait_for_url("**/summary*")
    assert page.locator("#comparison").count() == 0  # one round: nothing to compare
    page.click("#follow-up")
    page.wait_for_url("**/assess/*/1")
    fieldsets = page.locator(".checklist fieldset")
    assert fieldsets.nth(0).locator("input[type=radio][value=met]").is_checked()  # answers copied
    fieldsets.nth(0).locator("input[type=radio][value=unmet]").check()  # slipped
    fieldsets.nth(5).locator("input[type=radio][value=met]").check()    # newly met
    fieldsets.nth(6).locator("input[type=radio][value=met]").check()    # newly met
    page.click("button[value=summary]")
    page.wait_for_url("**/summary*")
    assert page.locator("#dates").inner_text().startswith("Round 2 · started ")
    comparison = page.locator("#comparison")
    assert comparison.locator("svg[role=img] rect").count() == 2 * 2 * 6  # 2 rounds, 6 areas
    rows = comparison.locator("#rounds-table tbody tr").first.locator("td")
    assert [rows.nth(0).inner_text(), rows.nth(1).inner_text()] == ["50", "60"]
    assert comparison.locator("#newly-met li").count() == 2
    assert comparison.locator("#newly-met li").first.inner_text().startswith("6.")
    assert comparison.locator("#slipped li").count() == 1
    assert comparison.locator("#slipped li").first.inner_text().startswith("1.")
    shot(page, "assessment-rounds-en")


def test_the_grouped_practice_form_and_the_facts_fit_a_phone(browser, live_server):
    """At 360 px the suggestion form (long key area and success factor names in its selects)
    and a practice with every fact the handbook states scroll no wider than the screen."""
    context = browser.new_context(locale="lv-LV", viewport={"width": 360, "height": 800})
    page = context.new_page()
    try:
        for path in ("/suggest", "/practices/oboristes-rajona-integracijas-atbalsts"):
            page.goto(live_server + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    finally:
        context.close()
