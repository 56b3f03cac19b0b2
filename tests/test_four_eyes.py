"""Four eyes that hold: what the public reads was seen by two curators, and the handbook's
practices belong to `kb ingest` -- curators add an overlay, only an admin hides one.

Each test drives the web flows as curators do (anna and janis: curators; boss: admin) and
checks what the public then reads: the practice page, /api/practices and /api/search.
"""
from __future__ import annotations

import re
from typing import NamedTuple

import pytest
from sqlalchemy import select

from kb.core.db import session_factory
from kb.core.models import HIDDEN, PUBLISHED, Curator, Practice, PracticeRevision
from kb.curation import review
from kb.ingest import ingest

from conftest import CORPUS, CURATION, csrf_from, login
from test_web_curate import decide, form, submit

HANDBOOK = "humans-in-the-loop"


def logged_in(app, email: str, password: str):
    client = app.test_client()
    assert login(client, email, password).status_code == 303
    return client


@pytest.fixture()
def boss(curate_app):
    return logged_in(curate_app, "boss@example.lv", "boss-password-1")


@pytest.fixture()
def public(curate_app):
    return curate_app.test_client()


def page(client, practice_id: str, lang: str = "lv") -> str:
    return client.get(f"/curate/practices/{practice_id}?lang={lang}").get_data(as_text=True)


def post(client, practice_id: str, what: str, **data):
    url = f"/curate/practices/{practice_id}"
    return client.post(f"{url}/{what}", data={**data, "csrf_token": csrf_from(client, url)})


def approve(client, practice_id: str):
    """Approve the revision as a reviewer does: the one the page shows."""
    seen = re.search(r'name="seen" value="([0-9a-f]+)"', page(client, practice_id)).group(1)
    return post(client, practice_id, "revision", action="approve", seen=seen)


def found(client, query: str) -> list[str]:
    hits = client.get("/api/search", query_string={"q": query, "type": "practice"}).get_json()
    return [h["id"] for h in hits["results"]]


class Logged(NamedTuple):
    action: str
    by: str | None  # the curator's email
    reason: str
    fields: dict


def changes(app, practice_id: str) -> list[Logged]:
    """The practice's change log."""
    with session_factory(app.extensions["kb.engine"])() as session:
        return [Logged(c.action, c.curator.email if c.curator else None, c.reason, c.fields)
                for c in review.history(session, practice_id)]


def stored(app, practice_id: str) -> Practice:
    with session_factory(app.extensions["kb.engine"])(expire_on_commit=False) as session:
        return session.get(Practice, practice_id)


# -- one's own submission ------------------------------------------------------------------------

def test_a_suggestion_sent_logged_out_cannot_be_published_by_its_sender(curate_app, public,
                                                                        anna, janis, boss):
    sent = form(public, "/suggest", title="Ieteikums Ventspilī", contact="ANNA@Example.lv")
    assert sent.status_code == 200
    [suggestion] = [p["id"] for p in janis.get("/api/curate/queue").get_json()["pending"]
                    if p["title"] == "Ieteikums Ventspilī"]
    assert decide(anna, suggestion, "publish").status_code == 303
    assert "Savu iesniegumu jūs nevarat publicēt" in page(anna, suggestion)
    assert stored(curate_app, suggestion).status == "pending"
    assert public.get(f"/practices/{suggestion}").status_code == 404
    decide(janis, suggestion, "publish")  # another curator may
    assert stored(curate_app, suggestion).status == PUBLISHED


def test_who_edited_a_practice_does_not_publish_it_and_an_admin_may(curate_app, anna, janis, boss):
    practice_id = submit(anna, title="Sarunu klubs Cēsīs")
    assert form(janis, f"/curate/practices/{practice_id}/edit", title="Sarunu klubs Cēsīs",
                text="Janis pārrakstīja visu aprakstu.").status_code == 303
    decide(janis, practice_id, "publish")
    assert "Jūs labojāt šo praksi" in page(janis, practice_id)
    decide(anna, practice_id, "publish")
    assert stored(curate_app, practice_id).status == "pending"
    decide(boss, practice_id, "publish")
    assert stored(curate_app, practice_id).status == PUBLISHED


# -- an edit of a published practice is a revision -----------------------------------------------

def test_an_edit_of_a_published_practice_waits_for_another_curators_approval(curate_app, public,
                                                                             anna, janis):
    practice_id = submit(anna, title="Sarunu vakari Kuldīgā",
                         text="Brīvprātīgie rīko sarunu vakarus Zīlēnciemā.")
    decide(janis, practice_id, "publish")
    assert practice_id in found(public, "Zīlēnciemā")
    edit = form(anna, f"/curate/practices/{practice_id}/edit", title="Sarunu vakari Kuldīgā",
                text="Brīvprātīgie rīko sarunu vakarus Pūcesciemā.")
    assert edit.status_code == 303
    # Until approved, the published text is what the public reads and finds.
    assert practice_id in found(public, "Zīlēnciemā")
    assert practice_id not in found(public, "Pūcesciemā")
    shown = public.get(f"/practices/{practice_id}").get_data(as_text=True)
    assert "Zīlēnciemā" in shown and "Pūcesciemā" not in shown
    assert public.get(f"/api/practices/{practice_id}").get_json()["text"].endswith("Zīlēnciemā.")
    # The proposer cannot approve it; a curator who reads an older version of it cannot either.
    assert post(anna, practice_id, "revision", action="approve").status_code == 303
    assert "Savu redakciju jūs nevarat apstiprināt" in page(anna, practice_id)
    post(janis, practice_id, "revision", action="approve", seen="0" * 16)
    assert "ir mainījusies, kopš to lasījāt" in page(janis, practice_id)
    assert practice_id not in found(public, "Pūcesciemā")
    # Another curator approves what they read: it is published and searchable at once.
    assert "vakarus Zīlēnciemā. → Brīvprātīgie rīko sarunu vakarus Pūcesciemā." in page(
        janis, practice_id)
    assert approve(janis, practice_id).status_code == 303
    assert practice_id in found(public, "Pūcesciemā")
    assert practice_id not in found(public, "Zīlēnciemā")
    assert "Pūcesciemā" in public.get(f"/practices/{practice_id}").get_data(as_text=True)
    log = changes(curate_app, practice_id)
    assert [c.action for c in log][-2:] == ["revision_proposed", "revision_approved"]
    assert log[-2].fields == {"text": ["Brīvprātīgie rīko sarunu vakarus Zīlēnciemā.",
                                       "Brīvprātīgie rīko sarunu vakarus Pūcesciemā."]}
    assert log[-1].fields == log[-2].fields


def test_a_rejected_revision_is_discarded_with_its_reason(curate_app, public, anna, janis):
    practice_id = submit(anna, title="Darba klubs Valmierā")
    decide(janis, practice_id, "publish")
    form(anna, f"/curate/practices/{practice_id}/edit", title="Darba klubs Valmierā (labots)")
    # While it waits, nobody else proposes another one over it.
    refused = form(janis, f"/curate/practices/{practice_id}/edit", title="Cits nosaukums")
    assert refused.status_code == 400 and "gaida izskatīšanu" in refused.get_data(as_text=True)
    post(janis, practice_id, "revision", action="reject_revision")  # a reason is required
    assert 'id="revision-h"' in page(janis, practice_id)
    post(janis, practice_id, "revision", action="reject_revision",
         reason="Nosaukums bija pareizs.")
    html = page(janis, practice_id)
    assert 'id="revision-h"' not in html and "Nosaukums bija pareizs." in html
    assert public.get(f"/api/practices/{practice_id}").get_json()["title"] == "Darba klubs Valmierā"
    with session_factory(curate_app.extensions["kb.engine"])() as session:
        assert session.get(PracticeRevision, practice_id) is None
    rejected = changes(curate_app, practice_id)[-1]
    assert (rejected.action, rejected.reason) == ("revision_rejected", "Nosaukums bija pareizs.")
    assert rejected.fields == {"title": ["Darba klubs Valmierā", "Darba klubs Valmierā (labots)"]}


# -- handbook practices belong to the ingest -----------------------------------------------------

def test_curators_cannot_edit_or_unpublish_a_handbook_practice(curate_app, public, janis):
    title = public.get(f"/api/practices/{HANDBOOK}").get_json()["title"]
    assert janis.get(f"/curate/practices/{HANDBOOK}/edit").status_code == 403
    response = janis.post(f"/curate/practices/{HANDBOOK}/edit",
                          data={"title": "Nomainīts", "countries": ["LV"], "area": "5",
                                "text": "Nomainīts.", "csrf_token": csrf_from(janis, "/curate")})
    assert response.status_code == 403
    decide(janis, HANDBOOK, "unpublish")
    assert "pieder `kb ingest`" in page(janis, HANDBOOK)
    assert post(janis, HANDBOOK, "hide", reason="Neder.").status_code == 403  # admins only
    assert public.get(f"/practices/{HANDBOOK}").status_code == 200
    assert public.get(f"/api/practices/{HANDBOOK}").get_json()["title"] == title
    assert stored(curate_app, HANDBOOK).status == PUBLISHED
    assert [c.action for c in changes(curate_app, HANDBOOK)] == []
    with session_factory(curate_app.extensions["kb.engine"])() as session:
        curator = session.scalar(select(Curator).where(Curator.email == "janis@example.lv"))
        practice = review.practice_for(session, HANDBOOK, curator, "view")
        for intent in ("edit", "unpublish", "reject", "hide"):  # the library refuses too
            with pytest.raises(review.NotAllowed):
                review.practice_for(session, HANDBOOK, curator, intent)
        with pytest.raises(review.NotAllowed):
            review.edit(session, practice, {"title": "Nomainīts"}, curator)


def test_an_admin_hides_a_handbook_practice_and_ingest_keeps_it_hidden(curate_app, public, boss):
    assert HANDBOOK in found(public, "Humans in the Loop")
    post(boss, HANDBOOK, "hide")  # a reason is required
    assert stored(curate_app, HANDBOOK).status == PUBLISHED
    post(boss, HANDBOOK, "hide", reason="Organizācija vairs nedarbojas.")
    assert public.get(f"/practices/{HANDBOOK}").status_code == 404
    assert public.get(f"/api/practices/{HANDBOOK}").status_code == 404
    assert HANDBOOK not in found(public, "Humans in the Loop")
    ingest(CORPUS, curate_app.extensions["kb.engine"], CURATION)
    practice = stored(curate_app, HANDBOOK)
    assert practice.status == HIDDEN and practice.hidden_reason == "Organizācija vairs nedarbojas."
    assert public.get(f"/practices/{HANDBOOK}").status_code == 404
    [hidden] = changes(curate_app, HANDBOOK)
    assert (hidden.action, hidden.reason, hidden.by) == (
        "hidden", "Organizācija vairs nedarbojas.", "boss@example.lv")
    html = page(boss, HANDBOOK)
    assert 'data-action="hidden"' in html and "boss@example.lv" in html
    assert "Organizācija vairs nedarbojas." in html
    post(boss, HANDBOOK, "show", reason="Atkal darbojas.")
    assert public.get(f"/practices/{HANDBOOK}").status_code == 200
    assert HANDBOOK in found(public, "Humans in the Loop")


def test_the_correction_note_is_reviewed_survives_ingest_and_shows(curate_app, public, anna, janis):
    note = "Labojums: projekts kopš 2024. gada darbojas arī Plovdivā."
    assert public.get(f"/api/practices/{HANDBOOK}").get_json()["correction_note"] is None
    post(janis, HANDBOOK, "note", note=note)
    assert note not in public.get(f"/practices/{HANDBOOK}").get_data(as_text=True)  # not yet
    approve(janis, HANDBOOK)
    assert "Savu redakciju jūs nevarat apstiprināt" in page(janis, HANDBOOK)
    approve(anna, HANDBOOK)
    ingest(CORPUS, curate_app.extensions["kb.engine"], CURATION)
    assert public.get(f"/api/practices/{HANDBOOK}").get_json()["correction_note"] == note
    shown = public.get(f"/practices/{HANDBOOK}").get_data(as_text=True)
    assert note in shown and "Correction note" in public.get(
        f"/practices/{HANDBOOK}?lang=en").get_data(as_text=True)
    assert [c.action for c in changes(curate_app, HANDBOOK)] == ["revision_proposed",
                                                                 "revision_approved"]


# -- scores and long texts in the history --------------------------------------------------------

def test_a_score_change_is_kept_in_the_history(curate_app, anna, janis):
    url = f"/curate/practices/{HANDBOOK}"
    indicators = sorted(set(re.findall(r'name="ind-([\d.]+)"', page(janis, HANDBOOK))))
    janis.post(url + "/quality", data={**{f"ind-{i}": "met" for i in indicators},
                                       "csrf_token": csrf_from(janis, url)})
    anna.post(url + "/quality", data={**{f"ind-{i}": "not_met" for i in indicators},
                                      "csrf_token": csrf_from(anna, url)})
    first, second = changes(curate_app, HANDBOOK)
    assert (first.action, first.by, second.by) == (
        "scored", "janis@example.lv", "anna@example.lv")
    assert first.fields[indicators[0]] == ["unknown", "met"]
    assert second.fields[indicators[0]] == ["met", "not_met"]
    assert len([k for k in second.fields if k in indicators]) == 34
    assert second.fields["quality_overall"] == [100.0, 0.0]
    assert second.fields["good_practice"] == [True, False]
    html = page(anna, HANDBOOK, "en")
    assert f"<code>{indicators[0]}</code>: Met → Not met" in html
    assert 'data-field="quality_overall">Quality score: 100 → 0' in html, re.findall(
        r'data-field="quality_overall">[^<]*', html)


def test_the_history_of_a_long_text_edit_shows_a_diff_not_both_texts(anna, janis):
    words = [f"vārds{i}" for i in range(2_400)]
    before = " ".join(words)[:20_000].rsplit(" ", 1)[0]
    after = before.replace(" vārds1200 ", " jaunsvārds ")
    practice_id = submit(anna, title="Gara prakse", text=before)
    assert form(janis, f"/curate/practices/{practice_id}/edit", title="Gara prakse",
                text=after).status_code == 303
    html = page(janis, practice_id)
    assert "<del>vārds1200 </del><ins>jaunsvārds </ins>" in html
    assert html.count(after) == 1  # the description itself, not the history
    assert before not in html
    history = html[html.index('id="history-h"'):]
    assert len(history) < 10_000


def test_the_upgrade_keeps_hidden_what_curators_had_unpublished(tmp_path):
    """A handbook practice a curator unpublished before only admins could hide one stays
    unpublished through the upgrade (hidden, saying why) and through `kb ingest`."""
    from sqlalchemy import create_engine, text

    from kb.core import migrations
    from kb.core.db import make_engine
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    before = create_engine(url)
    migrations.upgrade(before, "0004")
    with before.begin() as connection:
        connection.execute(text("INSERT INTO area (id, title, motto, introduction, benefits, "
                                "title_en, motto_en) VALUES (5, 'Valoda', '', '', '[]', '', '')"))
        for practice_id, status in ((HANDBOOK, "pending"), ("laipni-lugti-majas", "published")):
            connection.execute(text(
                "INSERT INTO practice (id, source, status, position, area_id, title, "
                "organisation, city, text, urls, title_en, summary_en, submitted_via, contact, "
                "source_note, review_reason, good_practice, created_at, updated_at) VALUES "
                "(:id, 'handbook', :status, 1, 5, 'Prakse', '', '', 'Teksts.', '[]', '', '', "
                "'', '', '', '', 0, '2026-01-01', '2026-01-01')"),
                {"id": practice_id, "status": status})
    before.dispose()
    migrations.upgrade(before)
    engine = make_engine(url)
    ingest(CORPUS, engine, CURATION)
    with session_factory(engine)() as session:
        hidden = session.get(Practice, HANDBOOK)
        assert hidden.status == HIDDEN and "only be hidden by an admin" in hidden.hidden_reason
        assert session.get(Practice, "laipni-lugti-majas").status == PUBLISHED
        [change] = review.history(session, HANDBOOK)
        assert (change.action, change.fields) == ("hidden", {"status": ["pending", "hidden"]})
    engine.dispose()
