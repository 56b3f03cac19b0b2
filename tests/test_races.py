"""No lost writes: many requests at the same moment, on SQLite and on PostgreSQL.

Every test starts its threads together at a barrier, each with its own session (or its own
test client, so its own request session), and checks what was answered and what was saved.
PostgreSQL runs when KB_TEST_POSTGRES_URL is set: each test creates its own schema there
and drops it afterwards, so it never touches the tables other tests use.
"""
from __future__ import annotations

import os
import shutil
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kb.curation import accounts, review
from kb.assessment import assess
from kb.core import db as kb_db
from kb.core.db import session_factory
from kb.core.models import Practice, RateCounter

from databases import postgres_copy

POSTGRES = os.environ.get("KB_TEST_POSTGRES_URL")
THREADS = 12  # within the engine's default pool (5 + 10 overflow), so none waits for a connection
GOOD = {"title": "Valodu kafejnīca", "countries": ["LV"], "area": "5",
        "text": "Brīvprātīgie rīko sarunu vakarus latviešu valodā.", "needs": ["language"]}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, handbook_template):
    """The test's own database with the handbook in it: a copy of the session's SQLite
    template, or a schema on the server with the rows of the PostgreSQL template."""
    if request.param == "sqlite":
        shutil.copyfile(handbook_template, tmp_path / "kb.sqlite3")
        yield f"sqlite:///{tmp_path / 'kb.sqlite3'}"
        return
    if not POSTGRES:
        pytest.skip("set KB_TEST_POSTGRES_URL to run on PostgreSQL")
    with postgres_copy(request.getfixturevalue("postgres_handbook_template"), "kb_races") as url:
        yield url


@pytest.fixture()
def kb_engine(database_url):
    """An engine over the test's database (kb's tables at head, the handbook in them)."""
    engine = kb_db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def web(kb_engine, tmp_path):
    """An app of its own over the test's database (no search index: these pages need none)."""
    from kb.web import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": kb_engine.url.render_as_string(False),
                      "INDEX_DIR": str(tmp_path / "indexes"), "SECRET_KEY": "test-races",
                      "WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["kb.engine"].dispose()


def together(work, n: int = THREADS) -> list:
    """Run ``work(i)`` for i in range(n) in n threads released at once; results or exceptions."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test reports every failure
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return results


def failures(results) -> dict[str, int]:
    """How many threads raised each kind of exception (empty when none did)."""
    return dict(Counter(type(r).__name__ for r in results if isinstance(r, Exception)))


def tally(statuses) -> dict[int, int]:
    return dict(sorted(Counter(statuses).items()))


def saved_page(engine, token: str, page: str) -> tuple[dict[str, str], str]:
    with session_factory(engine)() as session:
        assessment = assess.get_by_token(session, token)
        return assess.answers_of(assessment), assess.note_of(assessment, page)


@pytest.mark.parametrize("first_time", [True, False], ids=["first-save", "existing-notes"])
def test_tabs_saving_one_page_at_once_lose_nothing(web, kb_engine, first_time):
    with session_factory(kb_engine)() as session:
        assessment = assess.create(session, "Dome", "municipality")
        items = [i.id for c in assess.page_checklists(session, "4") for i in c.items][:THREADS]
        shown_answers = {} if first_time else {i: "unmet" for i in items}
        shown_note = "" if first_time else "Kopīgās piezīmes"
        if not first_time:
            assess.save_page(session, assessment, "4", shown_answers, {}, shown_note, "")
        session.commit()
        token = assessment.token

    def save_from_tab(i: int) -> int:
        # Every tab was shown the same page; each changes its own item and adds its own line.
        form = {f"item-{item}": status for item, status in shown_answers.items()}
        form.update({f"orig-{item}": status for item, status in shown_answers.items()})
        form[f"item-{items[i]}"] = "met"
        form.update(notes=f"{shown_note}\ncilne {i}".strip(), notes_orig=shown_note, go="stay")
        return web.test_client().post(f"/assess/{token}/4", data=form).status_code

    statuses = together(save_from_tab)
    assert failures(statuses) == {}
    assert tally(statuses) == {303: THREADS}
    answers, note = saved_page(kb_engine, token, "4")
    assert answers == {item: "met" for item in items}  # every tab's change, none undone
    lost = [i for i in range(THREADS) if f"cilne {i}" not in note]
    assert lost == [], f"the notes of {len(lost)} of {THREADS} tabs were lost"


def test_tabs_answering_one_item_at_once_report_the_conflict(kb_engine):
    with session_factory(kb_engine)() as session:
        assessment = assess.create(session)
        session.commit()
        token = assessment.token
    item = "area-1-01"
    choices = ["met", "unmet", "na"]

    def save(i: int):
        with session_factory(kb_engine)() as session:
            found = assess.get_by_token(session, token)
            result = assess.save_page(session, found, "1", {item: choices[i % 3]}, {}, "", "")
            session.commit()
            return result

    results = together(save)
    assert failures(results) == {}
    answers, _ = saved_page(kb_engine, token, "1")
    # Whoever saved last wins, and everyone after the first is told someone else had answered.
    assert answers[item] in choices
    assert sorted(len(r.conflicts) for r in results) == [0] + [1] * (THREADS - 1)
    with session_factory(kb_engine)() as session:
        assert assess.get_by_token(session, token).version == 1 + THREADS


def test_same_title_submissions_get_distinct_ids(kb_engine):
    def submit(_i: int) -> str:
        with session_factory(kb_engine)() as session:
            practice = review.submit(session, GOOD, None, via="public")
            session.commit()
            return practice.id

    ids = together(submit)
    assert failures(ids) == {}
    assert sorted(ids) == sorted(["valodu-kafejnica"] + [f"valodu-kafejnica-{n}"
                                                         for n in range(2, THREADS + 1)])
    with session_factory(kb_engine)() as session:
        saved = session.scalars(select(Practice).where(Practice.title == GOOD["title"])).all()
        assert sorted(p.id for p in saved) == sorted(ids)
        assert all(p.country_codes == ["LV"] and p.need_codes == ["language"] for p in saved)


def test_rate_counter_counts_every_hit_once(kb_engine):
    def hit(_i: int) -> int:
        with session_factory(kb_engine)() as session:
            counted = accounts.hit(session, "race", timedelta(minutes=5))
            session.commit()
            return counted

    counts = together(hit)
    assert failures(counts) == {}
    assert sorted(counts) == list(range(1, THREADS + 1)), f"counts returned: {sorted(counts)}"
    with session_factory(kb_engine)() as session:
        assert session.get(RateCounter, "race").count == THREADS


def test_suggestion_limit_holds_under_concurrency(web, kb_engine, monkeypatch):
    monkeypatch.setenv("KB_SUGGESTIONS_PER_HOUR", "5")

    def suggest(i: int) -> int:
        client = web.test_client()
        client.environ_base["REMOTE_ADDR"] = "10.1.1.1"
        form = {**GOOD, "title": f"Ieteikums {i}", "contact": "ana@example.lv"}
        return client.post("/suggest", data=form).status_code

    statuses = together(suggest)
    assert failures(statuses) == {}
    assert tally(statuses) == {200: 5, 429: THREADS - 5}
    with session_factory(kb_engine)() as session:
        kept = session.scalar(select(func.count()).select_from(Practice)
                              .where(Practice.submitted_via == "public"))
        assert kept == 5 and session.get(RateCounter, "suggest:ip:10.1.1.1").count == 5


def test_login_throttle_holds_under_concurrency(web, kb_engine, monkeypatch):
    monkeypatch.setenv("KB_LOGIN_ATTEMPTS", "5")
    with session_factory(kb_engine)() as session:
        accounts.add_curator(session, "boss@example.lv", "boss-password-1", admin=True)
        session.commit()
    checked = []
    authenticate = accounts.authenticate

    def counting(*args, **kwargs):
        checked.append(1)  # list.append is atomic: no lock needed
        return authenticate(*args, **kwargs)

    monkeypatch.setattr(accounts, "authenticate", counting)

    def guess(i: int) -> int:
        client = web.test_client()
        client.environ_base["REMOTE_ADDR"] = "10.2.2.2"  # one guesser: (account, address)
        return client.post("/curate/login", data={"email": "boss@example.lv",
                                                  "password": f"guess-{i}"}).status_code

    statuses = together(guess)
    assert failures(statuses) == {}
    assert len(checked) == 5, f"{len(checked)} passwords checked"
    assert tally(statuses) == {401: 5, 429: THREADS - 5}
    same = web.test_client()
    same.environ_base["REMOTE_ADDR"] = "10.2.2.2"
    right = {"email": "boss@example.lv", "password": "boss-password-1"}
    assert same.post("/curate/login", data=right).status_code == 429  # this address waits
    elsewhere = web.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert elsewhere.post("/curate/login", data=right).status_code == 303  # not locked out
