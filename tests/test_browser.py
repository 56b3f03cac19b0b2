"""Real browser tests: Playwright driving Debian's Chromium against the app served by waitress.

Screenshots of the home, results and practice pages in both languages (and at phone width)
are written to test-artifacts/screenshots/ for a person to look at.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
FACTOR = "5-visa-atbalsta-modelu-klasta-izmantosana"
SHOTS = ROOT / "test-artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        # CI installs chromium (.ci/run): there a missing browser is a broken setup, not a skip.
        message = ("browser tests need Debian's chromium: apt-get install chromium "
                   "chromium-driver (.ci/run installs it)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture()
def page(browser):
    context = browser.new_context(locale="lv-LV", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def shot(page, name: str) -> None:
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
    assert saved["pages"][1]["reading"] == "none"

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
        "Consult representatives of different groups")
    assert page.locator(".why", has_text="does what the task calls for").count() >= 19
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
    anna.select_option("#countries", "LV")
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
