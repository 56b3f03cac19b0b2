"""The postgres search backend: the same contract as the local one, and app servers that share
only the database.

Runs when KB_TEST_PGVECTOR_URL names a PostgreSQL database with pgvector (.ci/run starts one
with `make postgres`); every test works in a schema of its own there. The contract tests run
each assertion on both backends (`backend` is "local" or "postgres").
"""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kb.core.db import create_schema, make_engine, session_factory, transaction
from kb.core.models import Practice
from kb.search import (DocKey, Filters, IndexUnavailable, LocalSearch, build_index,
                       load_documents, make_search)
from kb.search.build import CACHE_FILE

from conftest import CORPUS, CURATION
from databases import postgres_schema
from test_search_index import TINY

PGVECTOR = os.environ.get("KB_TEST_PGVECTOR_URL")
pytestmark = pytest.mark.skipif(not PGVECTOR, reason="set KB_TEST_PGVECTOR_URL to a PostgreSQL "
                                "database with pgvector (.ci/run does, with `make postgres`)")
BACKENDS = ["local", "postgres"]


def pgvector_schema():
    """The URL of a new, empty schema on the pgvector server (pgvector's types stay visible
    from ``public``); dropped afterwards."""
    return postgres_schema("kb_search", PGVECTOR, also="public")


def database(backend: str, folder: Path):
    """An empty kb database at head for ``backend``: a SQLite file, or a pgvector schema."""
    if backend == "local":
        return nullcontext_url(f"sqlite:///{folder / 'kb.sqlite3'}")
    return pgvector_schema()


@contextmanager
def nullcontext_url(url: str):
    yield url


def build(backend: str, engine, root: Path, documents, embedder, cache: Path | None = None):
    """Index ``documents`` with ``backend`` and open the service over them."""
    if backend == "local":
        if cache is not None:
            root.mkdir(parents=True, exist_ok=True)
            (root / CACHE_FILE).write_bytes(cache.read_bytes())
        build_index(root, documents, embedder)
    else:
        from kb.search.postgres_index import rebuild
        rebuild(engine, documents, embedder, local_cache=cache)
    return make_search(engine, root, embedder, backend)


@pytest.fixture(scope="module", params=BACKENDS)
def tiny(request, tmp_path_factory, embedder):
    """The tiny hand-checked corpus of test_search_index, on each backend: (service, engine)."""
    folder = tmp_path_factory.mktemp(f"tiny-{request.param}")
    with database(request.param, folder) as url:
        engine = make_engine(url, check=False)
        create_schema(engine)
        service = build(request.param, engine, folder / "indexes", TINY, embedder)
        yield service, engine
        service.close()
        engine.dispose()


# -- the contract, on both backends ------------------------------------------------------------

@pytest.mark.parametrize("query, first", [
    ("mājoklis", "practice:majoklu-programma"),
    ("majoklis", "practice:majoklu-programma"),          # folded: no diacritics
    ("majokli gimenem", "practice:majoklu-programma"),   # other case forms, stemmed
    ("valodas kursi", "practice:valodas-kursi"),
    ("psychological support", "practice:psihologs"),     # English analysis of the English text
    ("housing", "practice:majoklu-programma"),
    ('"atbalsta grupas"', "practice:psihologs"),         # a phrase
    ("Rīgas dome", "practice:majoklu-programma"),         # organisation field
])
def test_hand_checked_rankings(tiny, query, first):
    service, _ = tiny
    for mode in ("hybrid", "lexical"):
        hits = service.search(query, Filters(types=("practice",)), mode=mode).hits
        assert str(hits[0].key) == first, (mode, [str(h.key) for h in hits])


def test_filters_facets_and_the_empty_query(tiny):
    service, _ = tiny
    results = service.search("", Filters(types=("practice",), country="EE"))
    assert [h.record_id for h in results.hits] == ["valodas-kursi", "psihologs"]
    assert results.total == 2 and results.hits[0].retrievers == ()
    # the country facet counts without its own filter (what adding a country would add)
    assert results.facets["country"] == {"LV": 2, "EE": 2}
    assert results.facets["need"] == {"language": 1, "women": 1, "health": 1}
    assert service.search("kursi", Filters(need="language"), mode="lexical").total == 1
    assert service.search("kursi", Filters(need="health"), mode="lexical").total == 0
    assert service.search("", Filters(area=3)).total == 1
    assert service.search("", Filters(types=("glossary_term",))).hits[0].title == "Mājoklis"
    assert service.search("", Filters()).facets["type"] == {"practice": 3, "glossary_term": 1}
    assert service.search("", Filters()).facets["activity"] == {
        "housing-provision": 1, "case-management": 1, "language-course": 1, "childcare": 1}
    only = service.search("kursi", Filters(activity="housing-provision"))
    assert only.total == 0  # only the dense retriever finds it: a near miss, not a result
    assert [h.record_id for h in only.closest] == ["majoklu-programma"]
    respelt = service.search("valodaas kursi", Filters(types=("practice",)), mode="lexical")
    assert respelt.total or respelt.suggestion == "valodas kursi"
    both = service.search("", Filters(types=("practice", "glossary_term"), country="LV"))
    assert [h.record_id for h in both.hits] == ["majoklu-programma", "valodas-kursi"]
    page = service.search("", Filters(), limit=2, offset=1)
    assert page.total == 4 and [h.record_id for h in page.hits] == ["valodas-kursi", "psihologs"]


def test_hits_snippets_similar_and_get(tiny):
    service, _ = tiny
    hit = service.search("mājoklis ģimenēm").hits[0]
    assert set(hit.retrievers) == {"lexical", "dense"} and "<mark>" in hit.snippet
    assert hit.countries == ("LV",) and hit.needs == ("housing",)
    similar = service.similar(DocKey.practice("valodas-kursi"))
    assert similar and all(h.type == "practice" and h.record_id != "valodas-kursi"
                           for h in similar)
    assert service.get(DocKey.practice("psihologs")).english.startswith("Psychological")
    assert service.get(DocKey.practice("nav-tadas")) is None
    like = service.rank("kursi", Filters(types=("practice",)),
                        like=DocKey.practice("valodas-kursi"))
    assert like[0][0] == DocKey.practice("valodas-kursi")


@pytest.mark.parametrize("query", [
    '"', '""', "NOT", "*", "title:mājoklis", "(((", "'", "\\", "don't", "a'b", "🙂", "\x00",
    "mājoklis " * 60, '"mājoklis', "%", "_", "'; DROP TABLE search_document; --", ":lexemes",
    "-", "3:majokl", "a | b & !c <-> d", "\u200b", "x" * 2000])
def test_odd_queries_never_raise(tiny, query):
    service, _ = tiny
    for mode in ("hybrid", "lexical", "dense"):
        results = service.search(query, Filters(types=("practice",)), mode=mode)
        assert results.total >= 0
    assert service.search(query, Filters(), sort="quality").total >= 0


def test_both_backends_rank_and_score_alike(tmp_path, embedder):
    """The same lexical scores (BM25F, field boosts, coordination) and hybrid rankings."""
    with pgvector_schema() as url:
        engine = make_engine(url, check=False)
        create_schema(engine)
        local = build("local", None, tmp_path / "local", TINY, embedder)
        postgres = build("postgres", engine, tmp_path, TINY, embedder)
        try:
            for query in ("mājoklis ģimenēm", "valodas kursi sievietēm", "support groups",
                          "majokli", "atbalsts", '"atbalsta grupas" psihologs'):
                for mode in ("lexical", "dense", "hybrid"):
                    a = local.rank(query, Filters(), mode=mode)
                    b = postgres.rank(query, Filters(), mode=mode)
                    assert [k for k, _, _ in a] == [k for k, _, _ in b], (query, mode)
                    for (_, x, _), (_, y, _) in zip(a, b):
                        assert y == pytest.approx(x, rel=1e-4), (query, mode)
        finally:
            local.close()
            postgres.close()
            engine.dispose()


def test_a_change_is_searchable_exactly_at_its_commit(tmp_path_factory, embedder, request):
    for backend in BACKENDS:
        folder = tmp_path_factory.mktemp(f"commit-{backend}")
        with database(backend, folder) as url:
            engine = make_engine(url, check=False)
            create_schema(engine)
            service = build(backend, engine, folder / "indexes", TINY, embedder)
            try:
                _publish_then_unpublish(service, engine)
            finally:
                service.close()
                engine.dispose()


def _publish_then_unpublish(service, engine):
    doc = dataclasses.replace(TINY[0], record_id="kraukli", title="Kraukļupītes sarunu vakari",
                              countries=("LT",))
    before = service.generation()
    with session_factory(engine)() as session:
        service.upsert(session, doc)
        session.flush()
        assert service.get(doc.key) is None       # not before the commit
        session.commit()
    assert service.generation() != before
    assert service.search("kraukļupīte").hits[0].record_id == "kraukli"
    assert [h.record_id for h in service.search("krauklupite", mode="lexical").hits] == ["kraukli"]
    assert service.search("", Filters(country="LT")).total == 1
    assert service.get(doc.key).title == doc.title
    with session_factory(engine)() as session:   # rolled back: as if never asked
        service.remove(session, doc.key)
        session.rollback()
    assert service.get(doc.key) is not None
    with session_factory(engine)() as session:
        service.remove(session, doc.key)
        service.remove(session, DocKey.practice("nav-tadas"))  # unknown keys are fine
        session.commit()
    assert service.search("kraukļupīte", mode="lexical").total == 0
    assert "kraukli" not in {h.record_id for h in service.search("kraukļupīte").hits}
    assert service.get(doc.key) is None
    assert service.search("", Filters(country="LT")).total == 0


# -- the postgres backend on its own -----------------------------------------------------------

def test_postgres_writes_keep_the_statistics_of_a_rebuild(tmp_path, embedder):
    """Upserts and removes leave the document count, field lengths and document frequencies a
    rebuild of the same documents would have (so scores do not drift between builds)."""
    from kb.search.postgres_index import rebuild
    with pgvector_schema() as url:
        engine = make_engine(url, check=False)
        create_schema(engine)
        rebuild(engine, TINY[:2], embedder)
        service = make_search(engine, tmp_path, embedder, "postgres")
        with transaction(engine) as session:
            for doc in TINY[1:]:
                service.upsert(session, doc)
            service.remove(session, TINY[0].key)
            service.upsert(session, TINY[0])
        incremental = _statistics(engine)
        rebuild(engine, TINY, embedder)
        assert _statistics(engine) == incremental
        service.close()
        engine.dispose()


def _statistics(engine):
    with engine.connect() as connection:
        state = connection.execute(text("SELECT documents, lengths FROM search_state")).one()
        terms = dict(connection.execute(text("SELECT lexeme, df FROM search_term")).all())
        passages = connection.execute(text("SELECT count(*) FROM search_passage")).scalar()
    return tuple(state), terms, passages


def test_postgres_refuses_what_it_cannot_search(tmp_path, embedder):
    sqlite = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}", check=False)
    with pytest.raises(IndexUnavailable, match="needs a PostgreSQL database"):
        make_search(sqlite, tmp_path, embedder, "postgres")
    sqlite.dispose()
    with pgvector_schema() as url:
        engine = make_engine(url, check=False)
        create_schema(engine)
        service = make_search(engine, tmp_path, embedder, "postgres")
        with pytest.raises(IndexUnavailable, match="run `kb index`"):
            service.pinned()
        health = service.health()
        assert health["status"] == "degraded" and "kb index" in health["problems"][0]
        service.close()
        engine.dispose()


# -- the handbook: API contract and evaluation, on both backends --------------------------------

@pytest.fixture(scope="module", params=BACKENDS)
def handbook_app(request, tmp_path_factory, embedder, handbook_index_root):
    """The app over the ingested handbook, searched by ``request.param``: (client, engine)."""
    from kb.ingest import ingest
    from kb.web import create_app
    folder = tmp_path_factory.mktemp(f"handbook-{request.param}")
    with database(request.param, folder) as url:
        engine = make_engine(url, check=False)
        create_schema(engine)
        ingest(CORPUS, engine, CURATION)
        with session_factory(engine)() as session:
            documents = load_documents(session)
        service = build(request.param, engine, folder / "indexes", documents, embedder,
                        cache=handbook_index_root / CACHE_FILE)
        service.close()
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test",
                          "INDEX_DIR": str(folder / "indexes"), "EMBEDDER": embedder,
                          "SEARCH_BACKEND": request.param})
        yield app.test_client(), engine, request.param
        if app.extensions.get("kb.search") is not None:
            app.extensions["kb.search"].close()
        app.extensions["kb.engine"].dispose()
        engine.dispose()


def test_the_api_answers_alike(handbook_app):
    client, _, backend = handbook_app
    status = client.get("/api/health")
    assert status.status_code == 200, status.get_json()
    health = status.get_json()
    assert health["status"] == "ok" and health["index"]["documents"] == 246
    body = client.get("/api/search?q=majoklis&type=practice").get_json()
    ids = [r["id"] for r in body["results"]]
    assert "laipni-lugti-majas" in ids[:5], ids
    assert body["total"] >= 5 and body["facets"]["type"]["practice"] == body["total"]
    poland = client.get("/api/search?q=&type=practice&country=PL&limit=100").get_json()
    assert poland["total"] == len(poland["results"]) > 0
    assert all("PL" in r["country"] for r in poland["results"])
    assert poland["facets"]["country"]["PL"] == poland["total"]
    english = client.get("/api/search?q=housing%20for%20families&type=practice").get_json()
    assert english["results"][0]["id"] == "lublinas-gimenes-palidzibas-centri"
    assert client.get("/api/search?q=%22&type=practice").status_code == 200
    assert client.get("/api/search?q=m%C4%81joklis&sort=quality").status_code == 200
    page = client.get("/practices/laipni-lugti-majas")
    assert page.status_code == 200


def test_kb_import_makes_practices_searchable_on_either_backend(handbook_app, tmp_path):
    """`kb import` writes through the configured backend: the practice is found at once."""
    import json

    from click.testing import CliRunner

    from kb.cli import cli
    client, engine, backend = handbook_app
    line = json.dumps({"id": "rigas-valodu-kafejnica", "title": "Rīgas valodu kafejnīca",
                       "countries": ["LV"], "area": 5,
                       "success_factor": "5-visa-atbalsta-modelu-klasta-izmantosana",
                       "text": "Brīvprātīgie rīko sarunu vakarus latviešu valodā kafejnīcā.",
                       "needs": ["language"], "source": "curator"}, ensure_ascii=False)
    env = {"KB_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "KB_SEARCH_BACKEND": backend, "KB_INDEX_DIR": client.application.config["INDEX_DIR"]}
    (tmp_path / "one.jsonl").write_text(line + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(tmp_path / "one.jsonl")], env=env)
    try:
        assert result.exit_code == 0, result.output
        found = client.get("/api/search?q=valodu%20kafejn%C4%ABca&type=practice").get_json()
        assert found["results"][0]["id"] == "rigas-valodu-kafejnica", found
    finally:
        service = client.application.extensions["kb.search"]
        with transaction(engine) as session:
            practice = session.get(Practice, "rigas-valodu-kafejnica")
            if practice is not None:
                session.delete(practice)
                service.remove(session, DocKey.practice("rigas-valodu-kafejnica"))
    gone = client.get("/api/search?q=valodu%20kafejn%C4%ABca&type=practice").get_json()
    assert "rigas-valodu-kafejnica" not in [r["id"] for r in gone["results"]]


def test_kb_serve_warns_about_search_tables_that_cannot_be_searched(tmp_path, embedder,
                                                                     monkeypatch):
    """`kb serve` looks at the backend it will serve: the postgres tables, not a folder."""
    from kb.web.server import stale_index_warning
    monkeypatch.setenv("KB_SEARCH_BACKEND", "postgres")
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "no-index-here"))
    sqlite = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}", check=False)
    assert "needs a PostgreSQL database" in stale_index_warning(sqlite)
    with pgvector_schema() as url:
        engine = make_engine(url, check=False)
        try:
            assert "kb db upgrade" in stale_index_warning(engine)   # no tables yet
            create_schema(engine)
            assert "run `kb index`" in stale_index_warning(engine)  # tables, nothing built
            build("postgres", engine, tmp_path, TINY, embedder).close()
            assert stale_index_warning(engine) is None
        finally:
            engine.dispose()


def test_the_evaluation_set_scores_alike(handbook_app, handbook_index_root, embedder):
    """nDCG@10 of the default hybrid and of lexical search, per slice, within 0.02 of the
    local backend's on the same handbook."""
    from kb.evaluation.metrics import OUT_OF_DOMAIN, RUNS, SLICES, evaluate, load_queries
    client, _, backend = handbook_app
    if backend == "local":
        pytest.skip("the local backend is the reference")
    client.get("/api/health")
    service = client.application.extensions["kb.search"]
    queries = load_queries(CURATION / "eval" / "search.toml")
    runs = {"hybrid": RUNS["hybrid"], "lexical": RUNS["lexical"]}
    local = LocalSearch(handbook_index_root, embedder)
    try:
        reference = evaluate(local.pinned(), queries, runs)
    finally:
        local.close()
    table = evaluate(service.pinned(), queries, runs)
    for run in runs:
        for slice_name in (*SLICES, "all"):
            values, local = table[run][slice_name], reference[run][slice_name]
            assert values["ndcg@10"] >= local["ndcg@10"] - 0.02, (run, slice_name, values, local)
        assert table[run][OUT_OF_DOMAIN] == reference[run][OUT_OF_DOMAIN]


# -- app servers that share only the database --------------------------------------------------

@pytest.fixture(scope="module")
def shared_database(tmp_path_factory, embedder, handbook_index_root):
    """The handbook in a pgvector schema, indexed there, with an admin curator: its URL."""
    from kb.ingest import ingest
    from kb.search.postgres_index import rebuild

    from serving import add_admin
    with pgvector_schema() as url:
        engine = make_engine(url, check=False)
        create_schema(engine)
        ingest(CORPUS, engine, CURATION)
        with session_factory(engine)() as session:
            documents = load_documents(session)
        rebuild(engine, documents, embedder, local_cache=handbook_index_root / CACHE_FILE)
        engine.dispose()
        add_admin(url)
        yield url


def app_server(url: str, folder: Path, workers: int = 1):
    """`kb serve` with the postgres backend and an index folder of its own (left empty)."""
    from serving import Server, server_env
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "indexes").mkdir(exist_ok=True)
    return Server(server_env(url, folder / "indexes", KB_SEARCH_BACKEND="postgres"),
                  workers=workers, threads=4)


SEARCHES = 300  # searches the clients make at least, publishing or not


def test_two_app_servers_share_only_the_database(shared_database, tmp_path):
    """A practice published through one server is found through the other at once, and
    unpublished it is gone from both; 8 clients search both throughout (at least SEARCHES
    searches) without an error."""
    from serving import Curator, search_ids, searched_throughout
    servers = [app_server(shared_database, tmp_path / "a"),
               app_server(shared_database, tmp_path / "b", workers=2)]
    queries = ["mājoklis", "valodas kursi", "psychological support", "darbs", "majoklis",
               "jaunieši", "housing", "kraukluciems"]
    with searched_throughout(servers, queries, clients=8) as served:
        curator = Curator(servers[0].base)
        published = []
        for i in range(3):
            word = f"kraukluciems{i}"
            practice = curator.submit(f"Sarunu vakari {word}", f"Vakari {word} ciematā.")
            curator.decide(practice, "publish")
            # no waiting: the commit is the publish, on every server
            assert practice in search_ids(servers[1].base, word), word
            assert practice in search_ids(servers[0].base, word), word
            published.append((word, practice))
        word, practice = published[1]
        curator.decide(practice, "unpublish")
        assert practice not in search_ids(servers[1].base, word)
        assert practice not in search_ids(servers[0].base, word)
        deadline = time.monotonic() + 60  # bounded: at most a minute more
        while served[0] < SEARCHES and time.monotonic() < deadline:
            time.sleep(0.1)
    assert served[0] >= SEARCHES


CRASH = textwrap.dedent("""
    import os, signal, sys
    import sqlalchemy.event
    from kb.curation import review
    from kb.core.db import make_engine, session_factory
    from kb.core.models import Practice
    from kb.search import default_embedder, make_search
    import kb.search.postgres_index as writes
    url, step = sys.argv[1:3]

    def die(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    def after(owner, name):
        original = getattr(owner, name)
        def hooked(*args, **kwargs):
            original(*args, **kwargs)
            die()
        setattr(owner, name, hooked)

    engine = make_engine(url)
    service = make_search(engine, "/nonexistent", default_embedder(), "postgres")
    with session_factory(engine)() as session:
        practice = session.get(Practice, "laipni-lugti-majas")
        practice.title = "Laipni lūgti mājās Zīlītes " + step
        if step == "after-embedding":
            after(writes, "embed")
        elif step == "after-writing":
            after(writes, "replace")
        elif step == "after-commit":
            sqlalchemy.event.listen(session, "after_commit", die)
        review.sync_search(service, session, practice)
        session.commit()
    print("finished without being killed")
""")


@pytest.mark.parametrize("step, committed", [
    ("after-embedding", False), ("after-writing", False), ("after-commit", True)])
def test_an_app_server_killed_mid_publish_leaves_the_other_consistent(shared_database, tmp_path,
                                                                       step, committed):
    """A process killed (-9) at each step of a publish: the server beside it keeps answering,
    and the record and its search rows changed together or not at all."""
    from serving import get_json
    server = app_server(shared_database, tmp_path / "other")
    try:
        result = subprocess.run(
            [sys.executable, "-c", CRASH, shared_database, step], capture_output=True,
            text=True, timeout=120,
            env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "KB_SEARCH_BACKEND": "postgres"})
        assert result.returncode == -signal.SIGKILL, result.stdout + result.stderr
        engine = make_engine(shared_database)
        with session_factory(engine)() as session:
            title = session.get(Practice, "laipni-lugti-majas").title
        engine.dispose()
        assert (step in title) is committed
        status, body = get_json(f"{server.base}/api/search?" + urllib.parse.urlencode(
            {"q": f"Zīlītes {step}", "type": "practice"}))
        assert status == 200
        titles = [r["title"] for r in body["results"]]
        assert any(step in t for t in titles) is committed, titles
        assert not committed or titles[0] == title
        status, health = get_json(f"{server.base}/api/health")
        assert status == 200 and health["status"] == "ok", health
    finally:
        server.close()


def test_searches_read_from_the_read_replica(tmp_path, embedder, monkeypatch):
    """With KB_DATABASE_READ_URL the service reads there and writes in the callers' sessions
    (the primary); here the "replica" is the same database under another URL."""
    import kb.search as search
    with pgvector_schema() as url:
        engine = make_engine(url, check=False)
        create_schema(engine)
        build("postgres", engine, tmp_path, TINY, embedder).close()
        replica = make_url(url).update_query_dict({"application_name": "kb-replica"})
        monkeypatch.setenv("KB_DATABASE_READ_URL", replica.render_as_string(hide_password=False))
        service = make_search(engine, tmp_path, embedder, "postgres")
        try:
            assert service.read_engine.url.query["application_name"] == "kb-replica"
            assert service.search("valodas kursi").hits[0].record_id == "valodas-kursi"
            with transaction(engine) as session:
                service.remove(session, DocKey.practice("valodas-kursi"))
            assert service.get(DocKey.practice("valodas-kursi")) is None
        finally:
            service.close()
            search.read_engine().dispose()
            engine.dispose()
