"""Accessibility and phone width, measured in a real browser (Playwright driving Debian's
Chromium, with the `browser` fixture of conftest.py and its skip rule).

- axe-core (bundled by the `axe-playwright-python` package) checks every public page in both
  languages against the WCAG 2.1 A and AA rules: no violation.
- At 360 px no page scrolls sideways; on the search page the "Filters" disclosure comes before
  the results and opens without JavaScript.
- The keyboard: the first Tab focuses the skip link, Enter moves focus to the main content,
  and from the search box a few Tab presses reach the first result.
"""
from __future__ import annotations

import pytest
from test_browser import serve, shot

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 360, "height": 780}
#: Tab presses from the search box to the first result's link are at most this many: the skip
#: link, the "Filters" disclosure and the export links come before it, not every facet value.
MAX_TABS_TO_FIRST_RESULT = 6


@pytest.fixture(scope="module")
def site(tmp_path_factory, curators_template, handbook_index_root, embedder):
    """The app with curators, served; a self-assessment and a saved assessment table made in
    it, so their pages exist. Yields (base URL, {page name: path})."""
    from conftest import close_app, csrf_from, new_app
    from serving import copy_handbook
    url, index_root = copy_handbook(tmp_path_factory.mktemp("a11y"), curators_template,
                                    handbook_index_root)
    app = new_app(url, index_root, embedder)
    server = serve(app)
    base = next(server)
    client = app.test_client()
    started = client.post("/assess", data={"organisation": "Cēsu novada pašvaldība",
                                           "organisation_type": "municipality",
                                           "csrf_token": csrf_from(client, "/assess")})
    assessment = started.headers["Location"].rsplit("/", 1)[0]  # /assess/<token>
    assessment = answer_two_rounds(client, assessment)
    saved = client.post("/quality-check", data={"title": "Valodu kafejnīca",
                                                "csrf_token": csrf_from(client, "/quality-check")})
    quality_check = saved.headers["Location"]
    pages = {
        "home": "/",
        "search": "/search?q=valodas+kursi",
        "search-nothing-found": "/search?q=asdfqwer",
        "practice": "/practices/womento",
        "area": "/areas/2",
        "country": "/countries/GR",
        "checklists": "/checklists",
        "glossary": "/glossary",
        "criteria": "/criteria",
        "quality-check": "/quality-check",
        "quality-check-saved": quality_check,
        "assess-start": "/assess",
        "assess-area": f"{assessment}/1",
        "assess-general": f"{assessment}/general",
        "assess-summary": f"{assessment}/summary",
        "suggest": "/suggest",
        "curator-login": "/curate/login",
    }
    yield base, pages
    next(server, None)
    close_app(app)


def answer_two_rounds(client, assessment: str) -> str:
    """Answer areas 1 and 2 of ``assessment`` (/assess/<token>), start a follow-up round and
    change an answer in it, so the summary shows its charts, tables and the comparison;
    return the follow-up round's path."""
    import re

    from conftest import csrf_from

    def answer(path: str, values) -> None:
        html = client.get(f"{path}").get_data(as_text=True)
        items = re.findall(r'name="item-([^"]+)" value="met"', html)
        data = {f"item-{item}": value for item, value in zip(items, values)}
        data.update(csrf_token=csrf_from(client, path), go="stay", notes="Piezīmes.")
        assert client.post(path, data=data).status_code == 303

    answer(f"{assessment}/1", ["met", "unmet", "na"] * 10)
    answer(f"{assessment}/2", ["unmet"] * 20)
    summary = f"{assessment}/summary"
    follow_up = client.post(f"{assessment}/follow-up",
                            data={"csrf_token": csrf_from(client, summary)})
    assert follow_up.status_code == 303, follow_up.status_code
    assessment = follow_up.headers["Location"].rsplit("/", 1)[0]
    answer(f"{assessment}/2", ["met"] * 20)
    return assessment


#: The innermost elements reaching past the right edge of the screen, as "tag.class".
WIDER_THAN_THE_SCREEN = """() => [...document.body.querySelectorAll("*")]
  .filter(e => e.getBoundingClientRect().right > 360.5
               && ![...e.children].some(c => c.getBoundingClientRect().right > 360.5))
  .slice(0, 8).map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : ""))"""


def axe_violations(page) -> list[dict]:
    """The WCAG 2.1 A/AA violations axe-core finds on ``page``: rule id, impact, and where."""
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG},
                                       "resultTypes": ["violations"]})
    return [{"rule": v["id"], "impact": v["impact"],
             "nodes": [n["target"] for n in v["nodes"]][:5], "count": len(v["nodes"])}
            for v in results.response["violations"]]


def test_axe_finds_what_it_should(browser):
    """The check can fail: a page with an unlabelled field, an image without a text
    alternative and faint text has those violations."""
    page = browser.new_page()
    page.set_content('<!doctype html><html lang="lv"><title>t</title><main><img src="x.png">'
                     '<p style="color:#bbb">blāvs</p><input type="text"></main></html>')
    assert {v["rule"] for v in axe_violations(page)} == {"image-alt", "color-contrast", "label"}
    page.close()


WIDTHS = [1280, 360]


@pytest.mark.parametrize("lang", ["lv", "en"])
def test_every_page_has_no_wcag_violations(browser, site, lang):
    """Each page is loaded once and checked at each width: the layout is CSS alone (media
    queries, no script reads the width), so resizing the page is loading it at that width."""
    base, pages = site
    context = browser.new_context(locale=f"{lang}-LV" if lang == "lv" else "en-GB",
                                  viewport={"width": WIDTHS[0], "height": 900})
    page = context.new_page()
    found = {}
    for name, path in pages.items():
        response = page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert response.status == 200, (name, response.status)
        assert page.locator("html").get_attribute("lang") == lang
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate("window.innerWidth") == width
            violations = axe_violations(page)
            print(f"axe {lang} {width} px {name}: {sum(v['count'] for v in violations)} "
                  f"violations {[v['rule'] for v in violations]}")
            if violations:
                found[f"{name} {width} px"] = violations
    context.close()
    assert found == {}


@pytest.mark.parametrize("lang", ["lv", "en"])
def test_no_page_scrolls_sideways_at_360_px(browser, site, lang):
    base, pages = site
    context = browser.new_context(locale="lv-LV", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    widths = {}
    for name, path in pages.items():
        page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            widths[name] = (width, page.evaluate(WIDER_THAN_THE_SCREEN))
        if name in ("search", "assess-summary", "suggest"):
            shot(page, f"{name}-360-{lang}")
    # a table wider than the screen scrolls inside itself, with the keyboard too
    page.goto(f"{base}{pages['assess-summary']}?lang={lang}")
    table = page.locator("table.summary-table").last
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")
    table.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("t => t.scrollLeft > 0", arg=table.element_handle())
    context.close()
    print(f"pages wider than 360 px ({lang}):", widths)
    assert widths == {}


def test_filters_come_before_the_results_on_a_phone_without_javascript(browser, site):
    base, _ = site
    context = browser.new_context(locale="lv-LV", viewport=PHONE, is_mobile=True,
                                  java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/search?q=valodas+kursi")
    summary = page.locator("details.filters > summary")
    first_hit = page.locator("section.results .hit").first
    assert summary.inner_text() == "Filtri (1)"  # the record type, practices, is chosen
    assert summary.bounding_box()["y"] < first_hit.bounding_box()["y"]
    country = page.locator('.facet[data-facet="country"] a').first
    assert not country.is_visible()  # closed: the results are not pushed down
    summary.click()  # opens without a script
    assert country.is_visible()
    assert country.bounding_box()["y"] < first_hit.bounding_box()["y"]
    with page.expect_navigation():
        country.click()
    assert "country=" in page.url and page.locator("section.results .hit").count() >= 1
    context.close()


def test_filters_are_open_beside_the_results_on_a_wide_screen(browser, site):
    base, _ = site
    context = browser.new_context(locale="lv-LV", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/search?q=valodas+kursi")
    country = page.locator('.facet[data-facet="country"] a').first
    assert country.is_visible()
    first_hit = page.locator("section.results .hit").first
    assert country.bounding_box()["x"] < first_hit.bounding_box()["x"]  # the column beside
    context.close()


def test_the_skip_link_moves_focus_to_the_main_content(browser, site):
    base, pages = site
    context = browser.new_context(locale="lv-LV")
    page = context.new_page()
    for path in pages.values():
        page.goto(base + path)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        assert page.locator("a.skip").is_visible()  # visible when focused
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "content"
        assert page.evaluate("document.activeElement.tagName") == "MAIN"
        page.keyboard.press("Tab")  # the next stop comes after the header: in main or below
        assert page.evaluate("document.activeElement.closest('header.site') === null"
                             " && document.activeElement !== document.body"), path
    context.close()


def tabs_to_first_result(page, skip_filters: bool = False) -> int:
    """Tab presses from the search box until a result's link has the focus; with
    ``skip_filters``, Enter on the "Skip to the results" link when Tab reaches it."""
    page.focus("#q")
    for presses in range(1, 200):
        page.keyboard.press("Tab")
        if skip_filters and page.evaluate("document.activeElement.className") == "skip-results":
            page.keyboard.press("Enter")
            assert page.evaluate("document.activeElement.id") == "results"
        if page.evaluate("document.activeElement.closest('section.results .hit') !== null"):
            return presses
    raise AssertionError("Tab never reached a result")


def test_few_tab_presses_from_the_search_box_to_the_first_result(browser, site):
    """On a phone the filters are one closed disclosure; on a wide screen they are open beside
    the results, and the first thing Tab reaches in them is a link past them."""
    base, _ = site
    presses = {}
    for width, skip in ((360, False), (1280, False), (1280, True)):
        context = browser.new_context(locale="lv-LV", viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(f"{base}/search?q=valodas+kursi")
        presses[width, skip] = tabs_to_first_result(page, skip)
        assert page.evaluate("document.activeElement.href") == page.locator(
            "section.results .hit h2 a").first.evaluate("a => a.href")
        if width == 1280 and not skip:  # the link past the filters is visible when focused
            page.focus("#q")
            page.keyboard.press("Tab")
            page.keyboard.press("Tab")
            assert page.locator("a.skip-results").is_visible()
        context.close()
    print("Tab presses from the search box to the first result:", presses)
    assert presses[360, False] <= MAX_TABS_TO_FIRST_RESULT
    assert presses[1280, True] <= MAX_TABS_TO_FIRST_RESULT
    assert presses[1280, False] > 20  # every filter value is a stop: hence the link past them


def test_print_button_only_where_it_works(browser, site):
    base, pages = site
    for javascript in (False, True):
        context = browser.new_context(locale="en-GB", java_script_enabled=javascript)
        page = context.new_page()
        for path in (pages["assess-summary"], pages["quality-check-saved"]):
            page.goto(f"{base}{path}?lang=en")
            button = page.locator("button[data-print]").first
            assert button.count() == 1 and button.is_visible() == javascript, (path, javascript)
        context.close()


#: The checkboxes whose label's text does not start on the box's line, right of it (the label
#: either names the box with for= or wraps it).
LABELS_BELOW_THEIR_BOXES = """() => [...document.querySelectorAll("fieldset input[type=checkbox]")]
  .filter(box => {
    const label = box.closest("label") || document.querySelector(`label[for="${box.id}"]`);
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
    let text = walker.nextNode();
    while (text && !text.textContent.trim()) text = walker.nextNode();
    const range = document.createRange();
    range.selectNodeContents(text);
    const first = range.getClientRects()[0], b = box.getBoundingClientRect();
    return !(first.left >= b.right && first.top < b.bottom);
  }).map(box => box.name + "=" + box.value)"""


def test_checkbox_labels_stay_beside_their_boxes_on_a_phone(browser, site):
    """On the suggestion form at 360 px, each need/activity label starts on its checkbox's
    line (a long label wraps in its own column, not below the box)."""
    base, pages = site
    context = browser.new_context(locale="lv-LV", viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.goto(base + pages["suggest"])
    assert page.locator("fieldset input[type=checkbox]").count() >= 10
    misplaced = page.evaluate(LABELS_BELOW_THEIR_BOXES)
    context.close()
    assert misplaced == []
