"""Schema migrations: the previous release's database upgraded with every row kept, an empty one
created, a database behind the code stopped with the command to run -- on SQLite and PostgreSQL.

The previous release is commit c71bc86, the last kb before migrations: its models are
fixtures/models_c71bc86.py (`git show c71bc86:kb/models.py`, verbatim), and the database its
`make_engine` left is their `create_all` with the rows below.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from kb.core import migrations
from kb.cli import cli
from kb.core.db import SchemaError, create_schema, make_engine, session_factory
from kb.core.models import (Assessment, Base, Curator, Practice, PracticeChange, QualityScore,
                       RateCounter)

from databases import POSTGRES, postgres_schema

FIXTURES = Path(__file__).resolve().parent / "fixtures"
AT = datetime(2026, 3, 14, 9, 26, 53, tzinfo=timezone.utc)
CAFE = "valodu-kafejnica"

# A row in every table of the previous release: a curator's scored practice with countries,
# needs and activities and its change log, an assessment with answers and notes, a handbook
# practice with the records it belongs to.
ROWS = {
    "area": [{"id": 5, "title": "Valoda un izglītība", "motto": "Valoda ir atslēga",
              "introduction": "Ievads.", "benefits": ["iekļaušana", "darbs"],
              "title_en": "Language and education", "motto_en": "Language is the key"}],
    "reference": [{"id": "eurofound-2020", "position": 1, "citation": "Eurofound (2020).",
                   "authors": "Eurofound", "title": "Integrācija", "year": 2020,
                   "description": "Pārskats.", "urls": ["https://example.org/eurofound"]}],
    "area_reference": [{"area_id": 5, "reference_id": "eurofound-2020"}],
    "success_factor": [{"id": "5-macieties-valodu", "area_id": 5, "position": 1,
                        "name": "Mācieties valodu", "description": "Apraksts.",
                        "name_en": "Learn the language"}],
    "checklist": [{"id": "area-5", "area_id": 5, "position": 5, "title": "Kontrolsaraksts",
                   "introduction": "Ievads.", "note": "Piezīme.", "title_en": "Checklist"}],
    "checklist_item": [{"id": "area-5-01", "checklist_id": "area-5", "position": 1,
                        "text": "Piedāvājiet valodas kursus.", "needs": ["language"],
                        "keywords": ["kursi"], "activities": ["language-course"],
                        "text_en": "Offer language courses.", "keywords_en": ["courses"]}],
    "curator": [{"id": 1, "email": "anna@example.lv", "password_hash": "scrypt:anna",
                 "is_admin": False, "active": True, "created_at": AT},
                {"id": 2, "email": "boss@example.lv", "password_hash": "scrypt:boss",
                 "is_admin": True, "active": False, "created_at": AT}],
    "practice": [
        {"id": "humans-in-the-loop", "source": "handbook", "status": "published", "position": 3,
         "area_id": 5, "success_factor_id": "5-macieties-valodu", "title": "Humans in the Loop",
         "organisation": "HITL", "city": "Sofija", "text": "Teksts.", "urls": [],
         "title_en": "", "summary_en": "", "submitted_by": None, "submitted_via": "",
         "contact": "", "source_note": "", "review_reason": "", "quality_overall": None,
         "good_practice": False, "created_at": AT, "updated_at": AT},
        {"id": CAFE, "source": "curator", "status": "published", "position": 0, "area_id": 5,
         "success_factor_id": None, "title": "Valodu kafejnīca", "organisation": "Biedrība",
         "city": "Rīga", "text": "Sarunu vakari latviešu valodā.",
         "urls": ["https://example.lv/kafejnica"], "title_en": "Language café",
         "summary_en": "Conversation evenings.", "submitted_by": 1, "submitted_via": "curator",
         "contact": "info@example.lv", "source_note": "Mājaslapa", "review_reason": "Labi.",
         "quality_overall": 0.875, "good_practice": True, "created_at": AT, "updated_at": AT}],
    "practice_country": [{"practice_id": CAFE, "country": "LV", "position": 0},
                         {"practice_id": CAFE, "country": "EE", "position": 1},
                         {"practice_id": "humans-in-the-loop", "country": "BG", "position": 0}],
    "need": [{"code": "language", "position": 1, "label_lv": "Valoda", "label_en": "Language",
              "keywords_lv": "valoda", "keywords_en": "language"}],
    "practice_need": [{"practice_id": CAFE, "need": "language"},
                      {"practice_id": CAFE, "need": "social-contact"}],
    "activity": [{"code": "language-course", "position": 1, "label_lv": "Valodas kursi",
                  "label_en": "Language course", "about": "Kursi."}],
    "practice_activity": [{"practice_id": CAFE, "activity": "language-course", "position": 0},
                          {"practice_id": CAFE, "activity": "mentoring", "position": 1}],
    "quality_domain": [{"id": 1, "name": "Atbilstība"}],
    "guiding_question": [{"id": "1.1", "domain_id": 1, "position": 1, "text": "Vai?"}],
    "quality_indicator": [{"id": "1.1.1", "question_id": "1.1", "position": 1,
                           "text": "Vajadzības ir izvērtētas."},
                          {"id": "1.1.2", "question_id": "1.1", "position": 2, "text": "Mērķi."}],
    "glossary_term": [{"id": "integracija", "position": 1, "term": "Integrācija",
                       "definition": "Divvirzienu process."}],
    "assessment": [{"id": 7, "token": "t0ken-of-the-dome", "organisation": "Dome",
                    "organisation_type": "municipality", "version": 3, "created_at": AT,
                    "updated_at": AT}],
    "assessment_answer": [{"assessment_id": 7, "item_id": "area-5-01", "status": "met"},
                          {"assessment_id": 7, "item_id": "area-5-02", "status": "na"}],
    "assessment_note": [{"assessment_id": 7, "page": "5", "text": "Piezīmes par valodu."}],
    "practice_change": [{"id": 1, "practice_id": CAFE, "curator_id": 1, "at": AT,
                         "action": "submitted", "fields": {"title": [None, "Valodu kafejnīca"]},
                         "reason": ""},
                        {"id": 2, "practice_id": CAFE, "curator_id": 2, "at": AT,
                         "action": "publish", "fields": {}, "reason": "Labi."}],
    "quality_score": [{"practice_id": CAFE, "indicator_id": "1.1.1", "value": "met",
                       "curator_id": 2, "updated_at": AT},
                      {"practice_id": CAFE, "indicator_id": "1.1.2", "value": "partly",
                       "curator_id": 2, "updated_at": AT}],
    "rate_counter": [{"key": "login:203.0.113.9", "window_start": AT, "count": 4}],
}


def previous_release_models():
    """kb.core.models as of c71bc86, imported as a module of its own (its own declarative Base)."""
    spec = importlib.util.spec_from_file_location("models_c71bc86", FIXTURES / "models_c71bc86.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its string annotations are resolved in its module
    spec.loader.exec_module(module)
    return module


OLD = previous_release_models()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """An empty database: a SQLite file, or a schema of its own in KB_TEST_POSTGRES_URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kb.sqlite3'}"
        return
    if not POSTGRES:
        pytest.skip("set KB_TEST_POSTGRES_URL (.ci/run does)")
    with postgres_schema("kb_migrations") as schema_url:
        yield schema_url


def make_previous_release(url: str) -> None:
    """The database kb c71bc86 left: its make_engine's create_all, with ROWS in every table."""
    engine = create_engine(url)
    OLD.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        for table in OLD.Base.metadata.sorted_tables:
            connection.execute(table.insert(), ROWS[table.name])
    engine.dispose()


def snapshot(url: str) -> dict:
    """Every row of the previous release's tables, read through its own table definitions."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = {t.name: [dict(r._mapping) for r in connection.execute(
                    select(t).order_by(*t.primary_key.columns))]
                for t in OLD.Base.metadata.sorted_tables}
    engine.dispose()
    return rows


def kb(url: str, *args: str):
    """Run `kb ARGS` on the database at ``url``."""
    return CliRunner().invoke(cli, list(args), env={"KB_DATABASE_URL": url})


def shown(url: str) -> str:
    """The URL as kb prints it: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def test_rows_cover_every_table_of_the_previous_release():
    assert set(ROWS) == set(OLD.Base.metadata.tables)
    assert all(ROWS.values())


def test_the_previous_release_database_is_upgraded_keeping_every_row(url):
    make_previous_release(url)
    before = snapshot(url)
    assert kb(url, "db", "current").output == (
        f"{shown(url)}: none (made by a kb before schema migrations; head "
        f"{migrations.head()}: run `kb db upgrade`)\n")

    result = kb(url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{shown(url)} was made by a kb before schema migrations: brought it to the baseline "
        f"and upgraded it to {migrations.head()} (head); every row is kept.\n")
    assert snapshot(url) == before
    assert kb(url, "db", "current").output == f"{shown(url)}: {migrations.head()} (head)\n"

    engine = make_engine(url)  # the check passes now
    try:
        assert migrations.compare(engine) == []
        with session_factory(engine)() as session:
            cafe = session.get(Practice, CAFE)
            assert (cafe.country_codes, cafe.need_codes, cafe.activity_codes) == (
                ["LV", "EE"], ["language", "social-contact"], ["language-course", "mentoring"])
            assert (cafe.title, cafe.city, cafe.quality_overall, cafe.good_practice) == (
                "Valodu kafejnīca", "Rīga", 0.875, True)
            assert cafe.submitted_by == 1 and cafe.urls == ["https://example.lv/kafejnica"]
            assessment = session.scalar(
                select(Assessment).where(Assessment.token == "t0ken-of-the-dome"))
            assert {a.item_id: a.status for a in assessment.answers} == {
                "area-5-01": "met", "area-5-02": "na"}
            assert [n.text for n in assessment.notes] == ["Piezīmes par valodu."]
            assert {s.indicator_id: s.value for s in session.scalars(select(QualityScore))} == {
                "1.1.1": "met", "1.1.2": "partly"}
            changes = session.scalars(select(PracticeChange).order_by(PracticeChange.id)).all()
            assert [(c.action, c.fields, c.curator.email) for c in changes] == [
                ("submitted", {"title": [None, "Valodu kafejnīca"]}, "anna@example.lv"),
                ("publish", {}, "boss@example.lv")]
            assert [(c.email, c.is_admin, c.active) for c in session.scalars(
                select(Curator).order_by(Curator.id))] == [
                ("anna@example.lv", False, True), ("boss@example.lv", True, False)]
            assert session.get(RateCounter, "login:203.0.113.9").count == 4
            assert cafe.created_at.replace(tzinfo=timezone.utc) == AT
    finally:
        engine.dispose()

    again = kb(url, "db", "upgrade")
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert snapshot(url) == before


def test_an_empty_database_is_created_at_head_and_upgrading_again_does_nothing(url):
    assert kb(url, "db", "current").output == (
        f"{shown(url)}: none (no kb tables yet; head {migrations.head()}: run `kb db upgrade`)\n")
    first = kb(url, "db", "upgrade")
    assert first.exit_code == 0, first.output
    assert first.output == f"Created kb's tables in {shown(url)} at {migrations.head()} (head).\n"
    second = kb(url, "db", "upgrade")
    assert second.exit_code == 0, second.output
    assert second.output == (
        f"{shown(url)} is at {migrations.head()} (head) already: nothing to do.\n")
    assert kb(url, "db", "current").output == f"{shown(url)}: {migrations.head()} (head)\n"
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        from kb.core import search_tables  # the postgres search backend's, PostgreSQL only
        search = set(search_tables.metadata.tables) if engine.dialect.name == "postgresql" else set()
        assert tables == set(Base.metadata.tables) | search | {"alembic_version"}
    finally:
        engine.dispose()


def test_the_baseline_is_the_previous_release_schema(url):
    engine = make_engine(url, check=False)
    try:
        migrations.upgrade(engine, migrations.revisions()[0])
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), OLD.Base.metadata) == []
    finally:
        engine.dispose()


def test_the_migrations_head_is_the_models(url):
    """A model change without its revision fails here: run `kb db revision MESSAGE`."""
    engine = make_engine(url, check=False)
    try:
        create_schema(engine)
        assert migrations.compare(engine) == [], (
            "kb/models.py has changes no revision makes: run `kb db revision MESSAGE`")
    finally:
        engine.dispose()


def test_every_revision_downgrades_to_an_empty_database(url):
    from alembic import command
    engine = make_engine(url, check=False)
    try:
        create_schema(engine)
        with migrations.migration_engine(engine) as migrator, migrator.begin() as connection:
            command.downgrade(migrations.config(connection), "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        create_schema(engine)
        assert migrations.compare(engine) == []
    finally:
        engine.dispose()


def behind(url: str, state: str) -> None:
    if state == "previous release":
        make_previous_release(url)
    elif state == "older revision":
        if len(migrations.revisions()) < 2:
            pytest.skip("only one revision so far")
        engine = make_engine(url, check=False)
        migrations.upgrade(engine, migrations.revisions()[-2])
        engine.dispose()


@pytest.mark.parametrize("state", ["empty", "previous release", "older revision"])
def test_a_database_behind_the_code_stops_the_app_and_the_cli_naming_the_command(url, state):
    from kb.web import create_app
    behind(url, state)
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    with pytest.raises(SchemaError) as raised:
        create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test"})
    message = str(raised.value)
    assert "run `kb db upgrade`" in message and shown(url) in message
    if make_url(url).password:
        assert f":{make_url(url).password}@" not in message and ":***@" in message
    result = kb(url, "curator", "list")
    assert result.exit_code == 1 and "run `kb db upgrade`" in result.output
    assert set(inspect(engine).get_table_names()) == tables  # no DDL on the way
    engine.dispose()


def test_a_database_a_newer_kb_upgraded_is_refused(url):
    engine = make_engine(url, check=False)
    create_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaError, match="revision 9999, which this kb does not have"):
        make_engine(url)
    assert "not a revision this kb has" in kb(url, "db", "current").output
    result = kb(url, "db", "upgrade")
    assert result.exit_code == 1 and "9999" in result.output


def test_an_unversioned_database_with_newer_tables_is_not_guessed_at(url):
    newer = [t for t in Base.metadata.sorted_tables if t.name not in OLD.Base.metadata.tables]
    if not newer:
        pytest.skip("kb has no table beyond the baseline yet")
    make_previous_release(url)
    engine = create_engine(url)
    newer[0].create(engine)  # what a development kb that ran create_all left
    engine.dispose()
    result = kb(url, "db", "upgrade")
    assert result.exit_code == 1 and "development kb" in result.output
    assert newer[0].name in result.output
    assert "none (made by a kb before" in kb(url, "db", "current").output  # nothing changed


def test_upgrades_started_together_upgrade_once(url):
    make_previous_release(url)
    before = snapshot(url)
    env = {**os.environ, "KB_DATABASE_URL": url}
    command = [sys.executable, "-c", "from kb.cli import main; main()", "db", "upgrade"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert sum("before schema migrations" in o for o in outputs) == 1, outputs
    assert sum("nothing to do" in o for o in outputs) == 1, outputs
    assert snapshot(url) == before
    assert kb(url, "db", "current").output == f"{shown(url)}: {migrations.head()} (head)\n"
