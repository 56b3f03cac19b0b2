"""Fusion of the lexical and dense rankings into one.

- Reciprocal-rank fusion (RRF, k=60): each retriever adds 1 / (k + rank); robust, scale-free.
- Weighted fusion: each retriever's scores min-max normalised to [0, 1], then a weighted sum.
Both return (key, score, retrievers) triples, best first.
"""
from __future__ import annotations

RRF_K = 60


def rrf(rankings: dict[str, list[tuple[str, float]]], k: int = RRF_K,
        weights: dict[str, float] | None = None):
    """Reciprocal-rank fusion; ``weights`` scale each retriever's contribution (default 1)."""
    scores: dict[str, float] = {}
    found: dict[str, list[str]] = {}
    for name, ranking in rankings.items():
        weight = (weights or {}).get(name, 1.0)
        for rank, (key, _score) in enumerate(ranking, 1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
            found.setdefault(key, []).append(name)
    return _ordered(scores, found)


def weighted(rankings: dict[str, list[tuple[str, float]]], weights: dict[str, float]):
    scores: dict[str, float] = {}
    found: dict[str, list[str]] = {}
    for name, ranking in rankings.items():
        if not ranking:
            continue
        values = [s for _, s in ranking]
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        for key, score in ranking:
            normalised = (score - low) / span if high > low else 1.0
            scores[key] = scores.get(key, 0.0) + weights.get(name, 1.0) * normalised
            found.setdefault(key, []).append(name)
    return _ordered(scores, found)


def _ordered(scores: dict[str, float], found: dict[str, list[str]]):
    return sorted(((key, score, tuple(found[key])) for key, score in scores.items()),
                  key=lambda item: (-item[1], item[0]))
