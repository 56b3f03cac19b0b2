"""Evaluation of search on the development set: nDCG@10, MRR@10 and Recall@10 per slice.

The set (corpus/eval/search.toml) holds realistic queries -- Latvian with and without
diacritics, English, Russian, Ukrainian -- each with the practices judged relevant to it. Each run also searches
the out-of-domain queries (corpus/eval/out_of_domain.toml), which should find nothing.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kb.core.config import setting
from kb.search import Filters, LocalSearch, SearchReader

K = 10
SLICES = ("lv", "lv-ascii", "en", "ru", "uk")
METRICS = ("ndcg@10", "mrr@10", "recall@10")
# The runs `kb eval` reports: each retriever alone, plain RRF (the baseline), and kb's default.
RUNS = {
    "lexical": {"mode": "lexical"},
    "dense": {"mode": "dense"},
    "hybrid-rrf-plain": {"mode": "hybrid", "fusion": "rrf", "weights": {"lexical": 1, "dense": 1}},
    "hybrid-weighted": {"mode": "hybrid", "fusion": "weighted"},
    "hybrid": {"mode": "hybrid"},
}
TARGETS = {"lv": 0.89, "lv-ascii": 0.85, "en": 0.80, "ru": 0.70, "uk": 0.70}
RECOMMENDATIONS_TARGET = 0.70  # precision@5 of the recommendations for unmet checklist items
OUT_OF_DOMAIN = "out-of-domain"  # the table's entry for the queries that should find nothing
OUT_OF_DOMAIN_TARGET = 0.95      # the share of them the default hybrid must find nothing for


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


def load_out_of_domain(path: Path | None = None) -> list[str]:
    """The queries no record answers (default corpus/eval/out_of_domain.toml; none if absent)."""
    path = Path(path or Path(setting("KB_CURATION_DIR")) / "eval" / "out_of_domain.toml")
    if not path.is_file():
        return []
    return [q for q in tomllib.loads(path.read_text(encoding="utf-8")).get("queries", [])
            if q.strip()]


def ndcg(ranked: list[str], relevant: frozenset[str], k: int = K) -> float:
    gains = sum(1.0 / math.log2(i + 2) for i, r in enumerate(ranked[:k]) if r in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return gains / ideal if ideal else 0.0


def mrr(ranked: list[str], relevant: frozenset[str], k: int = K) -> float:
    return next((1.0 / (i + 1) for i, r in enumerate(ranked[:k]) if r in relevant), 0.0)


def recall(ranked: list[str], relevant: frozenset[str], k: int = K) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ranked_practices(index: SearchReader, query: str, mode: str, **options) -> list[str]:
    """The practice results for ``query``, best first, as a user sees them (the set judges
    practices only)."""
    results = index.search(query, Filters(types=("practice",)), limit=K, mode=mode,
                           facets=False, **options)
    return [hit.record_id for hit in results.hits]


def nothing_found(index: SearchReader, queries: list[str], **options) -> dict[str, float]:
    """How many of ``queries`` find no record at all (searching every type), and their share."""
    empty = sum(1 for q in queries
                if index.search(q, limit=1, facets=False, **options).total == 0)
    return {"queries": len(queries), "no results": round(empty / len(queries), 3) if queries else 0.0}


def evaluate(index: SearchReader, queries: list[EvalQuery], runs: dict[str, dict],
             out_of_domain: list[str] | None = None) -> dict:
    """Metrics per run and slice: {run: {slice: {metric: value}}}; slice "all" included, and
    OUT_OF_DOMAIN: the share of ``out_of_domain`` queries (default `load_out_of_domain`) that
    find nothing.

    ``runs`` maps a run's name to its search options (mode, fusion, weights).
    """
    out_of_domain = load_out_of_domain() if out_of_domain is None else out_of_domain
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
        if out_of_domain:
            table[name][OUT_OF_DOMAIN] = nothing_found(index, out_of_domain, **options)
    return table


def format_table(table: dict, counts: dict[str, int]) -> str:
    """The metrics as a fixed-width text table, one row per run and slice."""
    lines = [f"{'run':<20}{'slice':<10}{'queries':>8}" + "".join(f"{m:>11}" for m in METRICS)]
    for run, slices in table.items():
        for slice_name, values in slices.items():
            if slice_name != OUT_OF_DOMAIN:
                lines.append(f"{run:<20}{slice_name:<10}{counts.get(slice_name, 0):>8}"
                             + "".join(f"{values[m]:>11.3f}" for m in METRICS))
    found = [(run, slices[OUT_OF_DOMAIN]) for run, slices in table.items() if OUT_OF_DOMAIN in slices]
    if found:
        lines += ["", f"{'run':<20}{'out-of-domain queries':<22}{'no results':>11}"]
        lines += [f"{run:<20}{values['queries']:<22}{values['no results']:>11.3f}"
                  for run, values in found]
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
    nothing = table["hybrid"].get(OUT_OF_DOMAIN)
    if nothing:
        share = nothing["no results"]
        lines.append(f"{'out-of-domain':<9} hybrid finds nothing for {share:.0%} of "
                     f"{nothing['queries']} queries: target {OUT_OF_DOMAIN_TARGET:.0%} "
                     f"{'met' if share >= OUT_OF_DOMAIN_TARGET else 'MISSED'}")
    return lines


def evaluate_without_english(index: LocalSearch, documents, queries) -> dict:
    """Metrics of the default hybrid on an index whose documents lack English (wording,
    summaries, kb's English rendering) and the vocabularies' terms (the needs' Latvian and
    English ones, the Russian and Ukrainian ones)."""
    import dataclasses
    import tempfile

    from kb.search import build_index
    from kb.search.build import CACHE_FILE

    stripped = [dataclasses.replace(d, english="", text_en="", need_terms="", terms_ru_uk="")
                for d in documents]
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
