"""Serving for real: concurrent readers and writers, crashes mid-update, damaged builds.

Everything here is bounded (fixed numbers of requests, deadlines) and asserts errors and data,
never timings.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from kb.core.db import make_engine, session_factory
from kb.core.models import PUBLISHED, Practice
from kb.search import DocKey, Document, Filters, LocalSearch
from kb.search.store import current_folder, current_name

QUERIES = ["mājoklis bēgļu ģimenēm", "majoklis beglu gimenem", "valodas kursi",
           "psychological support", "mentoring for women", "darba meklēšana", "bērni skolā"]


@pytest.fixture()
def copy(handbook_copy):
    """A writable copy of the ingested, indexed handbook: (database url, index root)."""
    return handbook_copy


def practice(n: int, word: str) -> Document:
    return Document("practice", f"serving-{n}", f"Prakse {word}",
                    f"Brīvprātīgie {word} rīko sarunu vakarus latviešu valodā.",
                    areas=(5,), countries=("LV",), position=1000 + n)


def test_threads_search_while_others_publish_and_unpublish(copy, embedder):
    url, root = copy
    engine = make_engine(url)
    service = LocalSearch(root, embedder, engine)
    errors: list[str] = []
    published: dict[str, bool] = {}  # key -> searchable now

    def read(n: int) -> None:
        for i in range(60):
            try:
                results = service.search(QUERIES[(n + i) % len(QUERIES)], limit=10)
                assert results.total >= len(results.hits)
                service.search("", Filters(types=("practice",), country="LV"), limit=5)
                service.similar(DocKey.practice("laipni-lugti-majas"))
            except Exception as exc:  # noqa: BLE001 - every error counts
                errors.append(f"reader: {type(exc).__name__}: {exc}")

    def write(n: int) -> None:
        for i in range(8):
            word = f"zvejnieks{n}x{i}"
            doc = practice(n * 100 + i, word)
            try:
                with session_factory(engine)() as session:
                    service.upsert(session, doc)
                    session.commit()
                hits = service.search(word, mode="lexical").hits
                if not hits or hits[0].key != doc.key:
                    errors.append(f"{word} not found right after its commit")
                published[str(doc.key)] = True
                if i % 2:
                    with session_factory(engine)() as session:
                        service.remove(session, doc.key)
                        session.commit()
                    if service.get(doc.key) is not None:
                        errors.append(f"{word} still found after removal")
                    published[str(doc.key)] = False
            except Exception as exc:  # noqa: BLE001
                errors.append(f"writer: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=read, args=(n,)) for n in range(6)]
    threads += [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert len(published) == 24
    fresh = LocalSearch(root, embedder, engine)  # another process, or this one restarted
    for key, searchable in published.items():
        assert (fresh.get(DocKey.parse(key)) is not None) is searchable, key
        assert (service.get(DocKey.parse(key)) is not None) is searchable, key
    assert fresh.generation() == service.generation()
    engine.dispose()


def test_concurrent_publishes_through_the_workflow_are_all_searchable(copy, embedder):
    """20 practices published by 4 threads at once: none lost (Whoosh's lock lost 9 of 20)."""
    from kb.curation import review
    url, root = copy
    engine = make_engine(url)
    service = LocalSearch(root, embedder, engine)
    errors, ids = [], {}

    def publish(n: int) -> None:
        for i in range(5):
            try:
                with session_factory(engine)() as session:
                    p = review.submit(session, {"title": f"Kopā darbs {n} {i}", "countries": ["LV"],
                                                "area": "5", "text": f"Unikāls vārds kopdarbs{n}x{i}."},
                                      None, via="public")
                    p.status = PUBLISHED
                    review.sync_search(service, session, p)
                    session.commit()
                    ids[f"kopdarbs{n}x{i}"] = p.id
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    other = LocalSearch(root, embedder, engine)
    assert len(set(ids.values())) == 20
    for word, practice_id in ids.items():
        assert other.search(word, mode="lexical").hits[0].record_id == practice_id
    assert other.health()["status"] == "ok", other.health()["problems"]
    engine.dispose()


# -- crashes --------------------------------------------------------------------------------

CRASH = textwrap.dedent("""
    import os, signal, sys
    import sqlalchemy.event
    from kb.curation import review
    from kb.core.db import make_engine, session_factory
    from kb.core.models import Practice
    from kb.search import LocalSearch, default_embedder
    import kb.search.service as service_module
    url, root, step = sys.argv[1:4]

    def die(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    def hook(owner, name, before):
        original = getattr(owner, name)
        def hooked(*args, **kwargs):
            if before:
                die()
            result = original(*args, **kwargs)
            die()
        setattr(owner, name, hooked)

    engine = make_engine(url)
    service = LocalSearch(root, default_embedder(), engine)
    service.snapshot()
    with session_factory(engine)() as session:
        practice = session.get(Practice, "laipni-lugti-majas")
        practice.title = "Laipni lūgti mājās Kraukļupīte"
        if step == "before-embedding":
            hook(service_module, "embed_passages", True)
        elif step == "after-embedding":
            hook(service_module, "embed_passages", False)
        elif step == "after-logging":
            hook(service_module.changes, "record", False)
        elif step == "after-commit":
            sqlalchemy.event.listen(session, "after_commit", die)
        elif step == "at-refresh":
            hook(LocalSearch, "refresh", True)
        review.sync_search(service, session, practice)
        session.commit()
    print("finished without being killed")
""")


@pytest.mark.parametrize("step, committed", [
    ("before-embedding", False), ("after-embedding", False), ("after-logging", False),
    ("after-commit", True), ("at-refresh", True)])
def test_a_publish_killed_at_any_step_leaves_a_consistent_index(copy, embedder, step, committed):
    url, root = copy
    result = subprocess.run([sys.executable, "-c", CRASH, url, str(root), step],
                            capture_output=True, text=True, timeout=120,
                            env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == -9, result.stdout + result.stderr
    engine = make_engine(url)
    with session_factory(engine)() as session:
        title = session.get(Practice, "laipni-lugti-majas").title
    assert ("Kraukļupīte" in title) is committed
    service = LocalSearch(root, embedder, engine)  # what a restarted server opens
    health = service.health()
    assert health["status"] == "ok", health["problems"]
    found = [h.record_id for h in service.search("Kraukļupīte", mode="lexical").hits]
    assert found == (["laipni-lugti-majas"] if committed else [])
    assert service.get(DocKey.practice("laipni-lugti-majas")).title == title
    engine.dispose()


BUILD_CRASH = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import kb.search.build as build
    root, step = Path(sys.argv[1]), sys.argv[2]
    target = {"lexical": (build.LexicalIndex, "build"), "vectors": (build.VectorIndex, "save"),
              "activate": (build, "activate")}[step]
    original = getattr(*target)
    def killed(*args, **kwargs):
        if step != "activate":
            original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(*target, killed)
    from kb.cli import main
    sys.argv = ["kb", "index"]
    main()
""")


@pytest.mark.parametrize("step", ["lexical", "vectors", "activate"])
def test_kb_index_killed_mid_build_keeps_the_current_index(copy, embedder, step):
    url, root = copy
    before = current_name(root)
    result = subprocess.run([sys.executable, "-c", BUILD_CRASH, str(root), step],
                            capture_output=True, text=True, timeout=300,
                            env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
                                 "KB_DATABASE_URL": url, "KB_INDEX_DIR": str(root)})
    assert result.returncode == -9, result.stdout + result.stderr
    assert current_name(root) == before
    engine = make_engine(url)
    service = LocalSearch(root, embedder, engine)
    assert service.health()["status"] == "ok"
    assert service.search("mājoklis").total > 0
    engine.dispose()


def test_a_damaged_build_is_reported_and_never_answers_500(copy, embedder):
    url, root = copy
    folder = current_folder(root)
    lines = (folder / "documents.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    lost = next(json.loads(line) for line in lines if '"laipni-lugti-majas"' in line)
    (folder / "documents.jsonl").write_text(
        "".join(line for line in lines if '"laipni-lugti-majas"' not in line), encoding="utf-8")
    engine = make_engine(url)
    service = LocalSearch(root, embedder, engine)
    health = service.health()
    assert health["status"] == "degraded"
    assert any("missing from" in p or "only in" in p for p in health["problems"])
    assert any("kb index" in p for p in health["problems"])
    for query in (lost["title"], "mājoklis", "majoklis beglu gimenem", ""):
        hits = service.search(query, limit=100).hits
        assert "laipni-lugti-majas" not in [h.record_id for h in hits]
    engine.dispose()


def test_kb_index_while_a_service_reads_switches_without_errors(copy, embedder, runner,
                                                               monkeypatch):
    """`kb index` builds beside the open build; the reader moves over and nothing breaks."""
    from kb.cli import cli
    url, root = copy
    monkeypatch.setenv("KB_DATABASE_URL", url)
    monkeypatch.setenv("KB_INDEX_DIR", str(root))
    engine = make_engine(url)
    service = LocalSearch(root, embedder, engine)
    old = service.generation()
    from kb.curation import review
    key = DocKey.practice("laipni-lugti-majas")
    with session_factory(engine)() as session:  # a change before the build, and it includes it
        record = session.get(Practice, key.id)
        record.title = "Laipni lūgti mājās Pirmsindeksa"
        review.sync_search(service, session, record)
        session.commit()
    errors, done, reads = [], threading.Event(), []

    def read() -> None:
        while not done.wait(0.05):  # a pause: the build beside it gets the CPU (and GIL) too
            try:
                reads.append(service.generation())
                service.search("valodas kursi")
                assert "Pirmsindeksa" in service.get(key).title
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{type(exc).__name__}: {exc}")

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        result = runner.invoke(cli, ["index"])
        assert result.exit_code == 0, result.output
        for _ in range(200):  # the new build is opened in the background; readers read it
            if reads and reads[-1].split("@")[0] != old.split("@")[0]:
                break
            time.sleep(0.05)
    finally:
        done.set()
        for t in readers:
            t.join(30)
    assert errors == []
    assert service.generation().split("@")[0] == current_name(root)
    assert {g.split("@")[0] for g in reads} == {old.split("@")[0], current_name(root)}, \
        "the readers read before and after the switch"
    engine.dispose()


def test_the_instance_secret_is_made_once_and_private(tmp_path):
    from kb.web import instance_secret
    first = instance_secret(tmp_path / "instance")
    assert instance_secret(tmp_path / "instance") == first and len(first) == 64
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600


# -- real servers -----------------------------------------------------------------------------

def test_two_server_processes_agree_while_publishing_indexing_and_importing(copy, runner,
                                                                              monkeypatch):
    """Two `kb serve` processes (two gunicorn workers each) on one database and index folder,
    searched by 6 clients throughout: publishes through one are found through the other,
    unpublished ones disappear from both, `kb index` and `kb import` in a third process are
    picked up by both -- and no request fails."""
    from kb.cli import cli
    from serving import (Curator, Server, add_admin, get_json, search_ids,
                         searched_throughout, server_env)
    url, root = copy
    add_admin(url)
    env = server_env(url, root)
    monkeypatch.setenv("KB_DATABASE_URL", url)
    monkeypatch.setenv("KB_INDEX_DIR", str(root))
    servers = [Server(env, workers=2, threads=4), Server(env, workers=2, threads=4)]

    def found_everywhere(word: str, expected: bool) -> bool:
        for _ in range(100):  # bounded: 100 looks, 50 ms apart
            if all((ids[word] in search_ids(s.base, word)) is expected for s in servers):
                return True
            time.sleep(0.05)
        return False

    with searched_throughout(servers, QUERIES, clients=6) as served:
        curator = Curator(servers[0].base)
        ids = {"zīlīte": "importeta-prakse"}
        for i in range(4):
            word = f"kraukluciems{i}"
            ids[word] = curator.submit(f"Sarunu vakari {word}", f"Vakari {word} ciematā.")
            curator.decide(ids[word], "publish")
            assert found_everywhere(word, True), word
        curator.decide(ids["kraukluciems1"], "unpublish")
        assert found_everywhere("kraukluciems1", False)
        result = runner.invoke(cli, ["index"])
        assert result.exit_code == 0, result.output
        line = json.dumps({"id": "importeta-prakse", "title": "Importēta prakse Zīlīte",
                           "countries": ["LV"], "area": 5, "text": "Zīlīte importēta."})
        (root.parent / "import.jsonl").write_text(line + "\n", encoding="utf-8")
        result = runner.invoke(cli, ["import", str(root.parent / "import.jsonl")])
        assert result.exit_code == 0, result.output
        assert found_everywhere("zīlīte", True)
        for s in servers:  # every worker moved to the new build (health asks each in turn)
            for _ in range(100):
                generations = {get_json(s.base + "/api/health")[1]["index"]["generation"]
                               for _ in range(4)}
                if all(g.startswith(current_name(root) + "@") for g in generations):
                    break
                time.sleep(0.05)
            else:
                raise AssertionError(f"{s.base} still serves {generations}")
        assert found_everywhere("kraukluciems3", True) and found_everywhere("kraukluciems1", False)
        for s in servers:
            status, health = get_json(s.base + "/api/health")
            assert status == 200 and health["status"] == "ok", health
    assert served[0] > 50


def test_catalogue_pages_read_from_the_read_replica(writable_app, tmp_path, monkeypatch):
    """With KB_DATABASE_READ_URL set, catalogue pages read there; curation and the API read
    their own writes on KB_DATABASE_URL. The "replica" here is a copy that differs."""
    import shutil

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    import kb.search
    primary = make_url(writable_app.config["DATABASE_URL"]).database
    replica = tmp_path / "replica.sqlite3"
    shutil.copyfile(primary, replica)
    engine = create_engine(f"sqlite:///{replica}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE practice SET title = 'Kopija no replikas' "
                                "WHERE id = 'laipni-lugti-majas'"))
    engine.dispose()
    monkeypatch.setenv("KB_DATABASE_READ_URL", f"sqlite:///{replica}")
    client = writable_app.test_client()
    try:
        page = client.get("/practices/laipni-lugti-majas").get_data(as_text=True)
        assert "Kopija no replikas" in page
        api = client.get("/api/practices/laipni-lugti-majas").get_json()
        assert api["title"] != "Kopija no replikas"
    finally:
        kb.search.read_engine().dispose()
