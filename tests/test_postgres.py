"""The same records and workflows on PostgreSQL (KB_DATABASE_URL may name any database).

Runs when KB_TEST_POSTGRES_URL names a database, as .ci/run sets it up; each test has a schema
of its own there (made and dropped by the test), so none sees another's rows.
"""
from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import func, select

from kb.curation import accounts, quality, review, transfer
from kb.assessment import assess
from kb.core.db import create_schema, make_engine, session_factory
from kb.ingest import ingest
from kb.core.models import Practice
from kb.search import LocalSearch, build_index, load_documents

from conftest import CORPUS, CURATION, as_before_migrations, migrated
from databases import postgres_copy, postgres_schema

URL = os.environ.get("KB_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="set KB_TEST_POSTGRES_URL (.ci/run does)")


@pytest.fixture()
def pg_empty():
    """kb's tables, empty, in a schema of the test's own."""
    with postgres_schema("kb_pg") as url:
        engine = migrated(url)
        assert engine.dialect.name == "postgresql"
        yield engine
        engine.dispose()


@pytest.fixture()
def pg(postgres_handbook_template):
    """The handbook ingested, in a schema of the test's own (a copy of the session's)."""
    with postgres_copy(postgres_handbook_template, "kb_pg") as url:
        engine = migrated(url)
        yield engine
        engine.dispose()


def test_ingest_is_idempotent_on_postgresql(pg_empty):
    first = ingest(CORPUS, pg_empty, CURATION)
    second = ingest(CORPUS, pg_empty, CURATION)
    assert first.load.counts == second.load.counts and not second.load.removed
    with session_factory(pg_empty)() as session:
        assert session.scalar(select(func.count()).select_from(Practice)) == 62
        assert session.get(Practice, "humans-in-the-loop").country_codes == ["BG"]


def test_search_index_from_postgresql(pg, tmp_path, embedder, handbook_index_root):
    cache = handbook_index_root / "embedding-cache.sqlite3"
    shutil.copy(cache, tmp_path / cache.name)  # same texts: every embedding is cached
    with session_factory(pg)() as session:
        documents = load_documents(session)
    assert len(documents) == 246
    build_index(tmp_path, documents, embedder)
    index = LocalSearch(tmp_path, embedder, pg)
    assert index.search("mājoklis").total > 0
    index.close()


def test_assessment_curators_quality_and_transfer_on_postgresql(pg):
    with session_factory(pg)() as session:
        a = assess.create(session, "Dome", "municipality")
        item = assess.page_checklists(session, "1")[0].items[0].id
        assess.save_page(session, a, "1", {item: "unmet"}, {}, "Piezīmes", "")
        assert assess.summarize(session, a)[0].reading == "none"
        anna = accounts.add_curator(session, "anna@example.lv", "anna-password-1")
        janis = accounts.add_curator(session, "janis@example.lv", "janis-password-1")
        practice = review.submit(session, {
            "title": "Valodu kafejnīca", "countries": ["LV"], "area": "5",
            "text": "Sarunu vakari latviešu valodā.", "needs": ["language"]}, anna, "curator")
        review.decide(session, practice, "publish", janis)
        indicators = [i.id for d in quality.domains_with_indicators(session)
                      for q in d.questions for i in q.indicators]
        assert quality.save_scores(session, practice, {i: "met" for i in indicators},
                                   janis.id).good_practice
        assert [c.action for c in review.history(session, practice.id)] == [
            "submitted", "publish", "scored"]  # score changes are kept in the history
        exported = transfer.export_jsonl(session)
        assert exported.count("\n") == 63
        session.commit()
    ingest(CORPUS, pg, CURATION)  # never touches curators' work
    with session_factory(pg)() as session:
        assert session.get(Practice, "valodu-kafejnica").good_practice


def test_a_database_of_an_older_kb_is_upgraded_on_postgresql(pg):
    from sqlalchemy import inspect, text

    from kb.core.models import Area, ChecklistItem
    ingest(CORPUS, pg, CURATION)
    with session_factory(pg)() as session:  # earlier tests here added curators' practices
        practices = session.scalar(select(func.count()).select_from(Practice))
    as_before_migrations(pg)
    with pg.begin() as connection:  # what an older kb created
        connection.execute(text("ALTER TABLE checklist_item DROP COLUMN keywords_en"))
        connection.execute(text("ALTER TABLE area DROP COLUMN title_en"))
    create_schema(pg)  # `kb db upgrade`
    upgraded = make_engine(pg.url.render_as_string(hide_password=False))
    try:
        assert "keywords_en" in {c["name"] for c in inspect(upgraded).get_columns("checklist_item")}
        with session_factory(upgraded)() as session:
            assert session.get(ChecklistItem, "area-1-01").keywords_en == []
        ingest(CORPUS, upgraded, CURATION)
        with session_factory(upgraded)() as session:
            assert session.get(Area, 4).title_en == "Work with people, not only for them"
            assert session.scalar(select(func.count()).select_from(Practice)) == practices
    finally:
        upgraded.dispose()


def test_search_changes_from_many_threads_on_postgresql(pg, tmp_path, embedder,
                                                          handbook_index_root):
    """Writers on PostgreSQL take the change log's advisory lock: 20 changes from 4 threads at
    once all reach a second reader, none lost or out of order."""
    import threading

    from kb.search import Document, last_seq
    cache = handbook_index_root / "embedding-cache.sqlite3"
    shutil.copy(cache, tmp_path / cache.name)
    with session_factory(pg)() as session:
        seq, documents = last_seq(session), load_documents(session)
    build_index(tmp_path, documents, embedder, change_seq=seq)
    writer, reader = LocalSearch(tmp_path, embedder, pg), LocalSearch(tmp_path, embedder, pg)
    reader.snapshot()
    errors = []

    def write(n: int) -> None:
        for i in range(5):
            doc = Document("practice", f"pg-{n}-{i}", f"Prakse pgvards{n}x{i}", "Teksts.",
                           areas=(5,), countries=("LV",))
            try:
                with session_factory(pg)() as session:
                    writer.upsert(session, doc)
                    session.commit()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    reader.refresh()
    assert all(reader.get(Document("practice", f"pg-{n}-{i}", "", "").key)
               for n in range(4) for i in range(5))
    assert reader.generation() == writer.generation()


def test_a_full_export_round_trips_on_postgresql(pg):
    """`kb export --all` of a PostgreSQL database with curators' work of every kind, imported
    into another one after `kb ingest`, exports the same lines again (timestamps with zones)."""
    from test_transfer import curators_work, round_trip
    curators_work(pg)
    with postgres_schema("kb_pg_fresh") as url:
        fresh = migrated(url)
        ingest(CORPUS, fresh, CURATION)
        before, after = round_trip(pg, fresh)
        fresh.dispose()
    assert len(before) == 3 + 62 + 4
    assert after[3:] == before[3:] and [c["email"] for c in after[:3]] == \
        [c["email"] for c in before[:3]]
