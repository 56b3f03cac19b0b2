"""Evaluation of search on the development set: nDCG@10, MRR@10 and Recall@10 per slice.

The set (corpus/eval/search.toml) holds realistic queries -- Latvian with and without
diacritics, English -- each with the practices judged relevant to it.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kb.search import Filters, LocalSearch, SearchReader

K = 10
SLICES = ("lv", "lv-ascii", "en")
METRICS = ("ndcg@10", "mrr@10", "recall@10")
# The runs `kb eval` reports: each retriever alone, plain RRF (the baseline), and kb's default.
RUNS = {
    "lexical": {"mode": "lexical"},
    "dense": {"mode": "dense"},
    "hybrid-rrf-plain": {"mode": "hybrid", "fusion": "rrf", "weights": {"lexical": 1, "dense": 1}},
    "hybrid-weighted": {"mode": "hybrid", "fusion": "weighted"},
    "hybrid": {"mode": "hybrid"},
}
TARGETS = {"lv": 0.85, "lv-ascii": 0.80, "en": 0.70}


@dataclass(frozen=True)
class EvalQuery:
    text: str
    lang: str
    need: str
    relevant: frozenset[str]


def load_queries(path: Path) -> list[EvalQuery]:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    queries = [EvalQuery(q["text"], q["lang"], q.get("need", ""), frozenset(q["relevant"]))
               for q in data.get("query", [])]
    bad = [q.text for q in queries if q.lang not in SLICES or not q.relevant]
    if not queries or bad:
        raise ValueError(f"{path}: every query needs a lang in {SLICES} and relevant IDs: {bad}")
    return queries


def ndcg(ranked: list[str], relevant: frozenset[str], k: int = K) -> float:
    gains = sum(1.0 / math.log2(i + 2) for i, r in enumerate(ranked[:k]) if r in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return gains / ideal if ideal else 0.0


def mrr(ranked: list[str], relevant: frozenset[str], k: int = K) -> float:
    return next((1.0 / (i + 1) for i, r in enumerate(ranked[:k]) if r in relevant), 0.0)


def recall(ranked: list[str], relevant: frozenset[str], k: int = K) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ranked_practices(index: SearchReader, query: str, mode: str, **options) -> list[str]:
    """Practice IDs for ``query``, best first (the set judges practices only)."""
    ranked = index.rank(query, Filters(types=("practice",)), mode=mode, **options)
    return [key.id for key, _, _ in ranked[:K]]


def evaluate(index: SearchReader, queries: list[EvalQuery], runs: dict[str, dict]) -> dict:
    """Metrics per run and slice: {run: {slice: {metric: value}}}; slice "all" included.

    ``runs`` maps a run's name to its search options (mode, fusion, weights).
    """
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name, options in runs.items():
        per_query = []
        for q in queries:
            ranked = ranked_practices(index, q.text, **options)
            per_query.append((q.lang, ndcg(ranked, q.relevant), mrr(ranked, q.relevant),
                              recall(ranked, q.relevant)))
        table[name] = {}
        for slice_name in (*SLICES, "all"):
            rows = [r for r in per_query if slice_name in ("all", r[0])]
            table[name][slice_name] = {
                metric: round(sum(r[i + 1] for r in rows) / len(rows), 3) if rows else 0.0
                for i, metric in enumerate(METRICS)}
    return table


def format_table(table: dict, counts: dict[str, int]) -> str:
    """The metrics as a fixed-width text table, one row per run and slice."""
    lines = [f"{'run':<20}{'slice':<10}{'queries':>8}" + "".join(f"{m:>11}" for m in METRICS)]
    for run, slices in table.items():
        for slice_name, values in slices.items():
            lines.append(f"{run:<20}{slice_name:<10}{counts.get(slice_name, 0):>8}"
                         + "".join(f"{values[m]:>11.3f}" for m in METRICS))
    return "\n".join(lines)


def slice_counts(queries: list[EvalQuery]) -> dict[str, int]:
    counts = {s: sum(1 for q in queries if q.lang == s) for s in SLICES}
    return {**counts, "all": len(queries)}


def check_targets(table: dict) -> list[str]:
    """One line per slice: the default hybrid against its target and the best single retriever."""
    lines = []
    for slice_name, target in TARGETS.items():
        hybrid = table["hybrid"][slice_name]["ndcg@10"]
        best = max(table["lexical"][slice_name]["ndcg@10"], table["dense"][slice_name]["ndcg@10"])
        verdict = "met" if hybrid >= target else "MISSED"
        lines.append(f"{slice_name:<9} hybrid nDCG@10 {hybrid:.3f}: target {target:.2f} {verdict}; "
                     f"{'>=' if hybrid >= best else '<'} best single retriever {best:.3f}")
    return lines


def evaluate_without_english(index: LocalSearch, documents, queries) -> dict:
    """Metrics of the default hybrid on an index whose documents lack English and need terms."""
    import dataclasses
    import tempfile

    from kb.search import build_index
    from kb.search.build import CACHE_FILE

    stripped = [dataclasses.replace(d, english="", need_terms="") for d in documents]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cache = index.root / CACHE_FILE
        if cache.exists():  # reuse the embeddings already computed for the Latvian passages
            (root / CACHE_FILE).write_bytes(cache.read_bytes())
        build_index(root, stripped, index.embedder)
        ablated = LocalSearch(root, index.embedder)
        try:
            table = evaluate(ablated.pinned(), queries,
                             {"hybrid-no-english": {"mode": "hybrid"},
                              "lexical-no-english": {"mode": "lexical"}})
        finally:
            ablated.close()
    return table


@dataclass(frozen=True)
class EvalItem:
    id: str
    relevant: frozenset[str]


def load_items(path: Path) -> list[EvalItem]:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    items = [EvalItem(i["id"], frozenset(i["relevant"])) for i in data.get("item", [])]
    if not items or any(not i.relevant for i in items):
        raise ValueError(f"{path}: every item needs an id and relevant practice IDs")
    return items


def evaluate_recommendations(index: SearchReader, session, items: list[EvalItem], k: int = 5) -> dict:
    """Precision@k of the recommendations for each item alone, averaged; and the ceiling."""
    from kb.assessment.recommend import recommend

    precision, ceiling = [], []
    for item in items:
        found = [r.id for r in recommend(index, session, [item.id], limit=k)]
        precision.append(len(set(found) & item.relevant) / k)
        ceiling.append(min(k, len(item.relevant)) / k)
    return {"items": len(items), f"precision@{k}": round(sum(precision) / len(items), 3),
            f"best possible precision@{k}": round(sum(ceiling) / len(items), 3)}
