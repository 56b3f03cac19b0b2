"""One generation of the search index: a build read from disk, plus the changes since.

A `Build` is a folder `kb index` wrote, opened once and held in memory: it never changes, and
deleting its folder afterwards takes nothing from under a reader. A `Snapshot` is a build with
the changes committed after it (publish, unpublish, edit, import) laid over it: small in-memory
lexical indexes of the changed documents, their vectors, and masks hiding what they supersede.
Snapshots are immutable too: a change makes a new one (`advance`), so each request reads one
consistent generation -- lexical index, vectors and documents together -- from start to end.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from kb.search import hybrid, sorting
from kb.search.analysis import restore_accents
from kb.search.dense import VectorIndex
from kb.search.documents import TYPES, DocKey, Document, corpus_hash
from kb.search.lexical import LexicalIndex, LexicalView, informative_words, user_words
from kb.search.facets import counts_that_follow
from kb.search.results import FACETS, Filters, Hit, Results
from kb.search.snippets import snippet
from kb.search.store import IndexUnavailable, read_meta

CANDIDATES = 100          # per retriever, fed to fusion
DENSE_MARGIN = 0.06       # dense hits this far below the best one are not candidates
MODES = ("hybrid", "lexical", "dense")
FUSIONS = ("rrf", "weighted")
# Chosen on the evaluation set (`kb eval`): the dense ranking re-orders and extends the lexical
# one rather than competing with it as an equal (plain RRF), which scored far lower in Latvian.
DEFAULT_WEIGHTS = {"rrf": {"lexical": 1.0, "dense": 0.1}, "weighted": {"lexical": 0.8, "dense": 0.2}}
MAX_SEGMENTS = 8          # change indexes kept apart before they are merged into one
MEMO_SIZE = 4096          # rankings kept per snapshot (recommendations' "like" rankings)


class Change(NamedTuple):
    """A document's state after a change: None when it was removed."""

    document: Document | None
    vectors: np.ndarray | None


class Build:
    """A build folder, read into memory and checked: every document in every store."""

    def __init__(self, folder: Path):
        try:
            self.meta = read_meta(folder)
            self.lexical = LexicalIndex.load(folder / "lexical")
            self.vectors = VectorIndex.load(folder)
            with open(folder / "documents.jsonl", encoding="utf-8") as f:
                docs = [Document.from_json(json.loads(line)) for line in f if line.strip()]
            self.accents: dict[str, str] = json.loads(
                (folder / "accents.json").read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001 - any damage means the same thing
            raise IndexUnavailable(f"the index in {folder} cannot be read ({type(exc).__name__}: "
                                   f"{exc}): run `kb index` to rebuild it") from None
        self.folder = folder
        self.name = folder.name
        self.seq = int(self.meta.get("change_seq", 0))
        self.documents: dict[DocKey, Document] = {d.key: d for d in docs}
        self.docnums = {key: n for n, key in enumerate(self.lexical.keys)}
        self.problems, self.broken = self._check(len(docs))
        # What the build holds, whatever its folder is called: two builds of the same documents
        # with the same embedder rank alike (a copy of a build folder, as tests make, too).
        self.content = _digest(self.meta.get("embedder", ""), corpus_hash(docs),
                               *sorted(map(str, self.broken)))

    def _check(self, stored: int) -> tuple[list[str], frozenset[DocKey]]:
        """What does not match across the three stores, and the keys that are not whole.

        Builds are written whole and never changed, so this finds only outside damage. A key
        missing from any store is left out of every one: searches never meet half a document.
        """
        documents, lexical, dense = set(self.documents), set(self.docnums), set(self.vectors.rows)
        problems = []
        if stored != len(documents):
            problems.append(f"the document store lists {stored - len(documents)} keys twice")
        if len(lexical) != len(self.lexical.keys):
            problems.append("the lexical index holds some documents twice")
        for name, keys in (("lexical index", lexical), ("vectors", dense)):
            for what, found in (("missing from", documents - keys), ("only in", keys - documents)):
                if found:
                    problems.append(f"{len(found)} documents {what} the {name} "
                                    f"(e.g. {min(map(str, found))})")
        if self.meta.get("documents") not in (None, len(documents)):
            problems.append(f"meta.json counts {self.meta['documents']} documents, the store "
                            f"holds {len(documents)}")
        return problems, frozenset((documents | lexical | dense) - (documents & lexical & dense))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _named(key: DocKey, change: Change) -> str:
    """A change as the content digest reads it: the key and its document's hash, or removed."""
    return f"{key}={change.document.content_hash if change.document else '-'}"


class Snapshot:
    """A build with the changes since it: what one request reads, from start to end."""

    def __init__(self, build: Build, seq: int, changes: dict[DocKey, Change],
                 segments: tuple[LexicalIndex, ...] = (), content: str | None = None):
        self.build = build
        self.seq = seq
        self.changes = changes
        self.segments = segments
        #: Names what this snapshot holds and how it is laid out (the build's content and each
        #: batch of changes applied to it, in order): snapshots with the same content rank alike,
        #: so caches of rankings key on it (`SearchReader.content`), not on the generation.
        self.content = content or build.content
        self.accents = build.accents
        self.documents = {k: d for k, d in build.documents.items()
                          if k not in build.broken and k not in changes}
        self.documents.update((k, c.document) for k, c in changes.items() if c.document)
        self.lexical = LexicalView([build.lexical, *segments], self._lexical_mask())
        hidden = set(changes) | build.broken
        self._excluded = np.zeros(len(build.vectors.keys), dtype=bool)
        for key in hidden:
            self._excluded[build.vectors.rows.get(key, [])] = True
        live = [(k, c.vectors) for k, c in changes.items()
                if c.document is not None and c.vectors is not None and len(c.vectors)]
        self._recent = VectorIndex([k for k, v in live for _ in range(len(v))],
                                   np.vstack([v for _, v in live]) if live
                                   else np.zeros((0, build.vectors.dim), dtype=np.float32))
        self.memo: OrderedDict = OrderedDict()

    @classmethod
    def of(cls, build: Build) -> Snapshot:
        return cls(build, build.seq, {})

    @property
    def generation(self) -> str:
        """Names this snapshot: the build and the last change applied to it."""
        return f"{self.build.name}@{self.seq}"

    def advance(self, seq: int, changes: list[tuple[DocKey, Change]]) -> Snapshot:
        """A new snapshot with ``changes`` (in commit order) applied, up to change ``seq``."""
        merged = dict(self.changes)
        batch: dict[DocKey, Document] = {}
        for key, change in changes:
            merged[key] = change
            batch.pop(key, None)
            if change.document is not None:
                batch[key] = change.document
        segments = self.segments + ((LexicalIndex.in_memory(list(batch.values())),) if batch else ())
        content = _digest(self.content, *(_named(key, change) for key, change in changes))
        if len(segments) > MAX_SEGMENTS:  # many small indexes: merge them into one
            live = [c.document for c in merged.values() if c.document is not None]
            segments = (LexicalIndex.in_memory(live),) if live else ()
            content = _digest(self.build.content, "merged",
                              *sorted(_named(key, change) for key, change in merged.items()))
        return Snapshot(self.build, seq, merged, segments, content)

    def _lexical_mask(self) -> frozenset[int]:
        """Document numbers that a later change supersedes (or that are not whole)."""
        mask = {self.build.docnums[k] for k in (*self.changes, *self.build.broken)
                if k in self.build.docnums}
        last = {key: n for n, segment in enumerate(self.segments) for key in segment.keys}
        offset = len(self.build.lexical)
        for n, segment in enumerate(self.segments):
            for i, key in enumerate(segment.keys):
                if last[key] != n or self.changes[key].document is None:
                    mask.add(offset + i)
            offset += len(segment)
        return frozenset(mask)

    # -- querying ---------------------------------------------------------------------------

    def readings(self, query: str) -> tuple[str, ...]:
        """The texts a query is embedded as.

        A query typed without diacritics is embedded as typed and with the corpus' spellings
        put back, and each passage scores by the closer reading: restoration picks one form
        per word and sometimes the wrong one ("prakses serbijā"), while the typed form still
        carries the meaning. On the evaluation set this lifted hybrid lv-ascii nDCG@10 from
        0.814 to 0.818 and left the other slices as they were.
        """
        return tuple(dict.fromkeys([restore_accents(query.strip(), self.accents), query.strip()]))

    def search(self, query: str, filters: Filters = Filters(), limit: int = 10, offset: int = 0,
               mode: str = "hybrid", fusion: str = "rrf",
               weights: dict[str, float] | None = None, sort: str = "relevance",
               lang: str = "lv", facets: bool = True,
               query_vectors: Callable[[], np.ndarray] | None = None) -> Results:
        """Search ``query`` within ``filters``; an empty query lists every matching record.

        ``sort`` names an order of `kb.search.sorting` (titles and country names in
        ``lang``). ``query_vectors`` gives the query's embeddings (of `readings`) when the
        dense retriever needs them. Facets count as `counts_that_follow` says (``facets=False``:
        not at all, which saves a retrieval per facet that restricts).

        Only candidates that match the query are results (`hybrid.cut`; a dense-only search
        keeps them all); when none does, the first few are ``closest``, and ``suggestion`` a
        respelling of the query that finds something.
        """
        if mode not in MODES or fusion not in FUSIONS:
            raise ValueError(f"mode must be one of {MODES} and fusion one of {FUSIONS}")
        sorting.check(sort, lang)
        query = query.strip()

        def results(within: Filters):
            return self._results(query, within, mode, fusion, weights, query_vectors)

        ranked, closest = results(filters)
        suggestion = self.suggest(query, filters) if query and not ranked and mode != "dense" \
            else ""
        counts = counts_that_follow(
            filters, self._facets(key for key, _, _ in ranked),
            lambda within: self._facets(k for k, _, _ in results(within)[0])) if facets else {}
        ranked = sorting.ordered(ranked, sort, lang,
                                 lambda r: sorting.sortable(self.documents[r[0]]))
        hits = [self.hit(key, score, found, query) for key, score, found in
                ranked[offset:offset + limit]]
        return Results(query, len(ranked), hits, counts,
                       [self.hit(key, score, found, query) for key, score, found in closest],
                       suggestion)

    def _results(self, query: str, filters: Filters, mode: str, fusion: str, weights,
                 query_vectors) -> tuple[list, list]:
        """The results (key, score, retrievers) in relevance order, and the near misses."""
        if not query:
            return [(d.key, 0.0, ()) for d in sorted(
                (d for d in self.documents.values() if filters.accepts(d)),
                key=lambda d: (TYPES.index(d.type), d.position, d.record_id))], []
        rankings, matches = self._rankings(query, filters, mode, None, query_vectors)
        return hybrid.cut(self._fuse(rankings, fusion, weights), matches,
                          informative_words(query), rankings.get("dense", []))

    def suggest(self, query: str, filters: Filters = Filters()) -> str:
        """The query respelt as the handbook spells it, when that finds something: each word
        the index does not know replaced by the closest one it does, with its diacritics put
        back (the build's accent table); "" when there is no such spelling."""
        words, changed = [], False
        for word in user_words(query):
            better = self.lexical.suggest(word)
            changed |= better is not None
            words.append(restore_accents(better, self.accents) if better else word)
        if not changed:
            return ""
        respelt = " ".join(words)
        found, _ = self._results(respelt, filters, "lexical", "rrf", None, None)
        return respelt if found else ""

    def rank(self, query: str, filters: Filters = Filters(), mode: str = "hybrid",
             fusion: str = "rrf", weights: dict[str, float] | None = None,
             like: DocKey | None = None,
             query_vectors: Callable[[], np.ndarray] | None = None):
        """All candidates for ``query`` as (key, score, retrievers), best first, before the
        relevance cut-off (`search` applies it; recommendations rank every candidate).

        ``like`` names an indexed document whose stored embedding the dense retriever uses
        instead of embedding ``query`` (a long query costs ~0.1 s to embed; its document's
        embedding is already there); that ranking is kept in the snapshot's memo.
        """
        return self._fuse(self._rankings(query, filters, mode, like, query_vectors)[0],
                          fusion, weights)

    def _rankings(self, query: str, filters: Filters, mode: str, like: DocKey | None,
                  query_vectors: Callable[[], np.ndarray] | None):
        """Each retriever's candidates (key, score), and the lexical one's `Match` per key
        (None when it did not run)."""
        rankings: dict[str, list[tuple[DocKey, float]]] = {}
        matches = None
        if mode in ("hybrid", "lexical"):
            found = self.lexical.matches(query, CANDIDATES, LexicalView.filter_query(filters))
            rankings["lexical"] = [(key, score) for key, score, _ in found]
            matches = {key: match for key, _, match in found}
        if mode in ("hybrid", "dense"):
            rankings["dense"] = self._dense_like(like, filters) if like is not None else \
                self.dense_ranking(query_vectors(), filters)
        return rankings, matches

    @staticmethod
    def _fuse(rankings: dict, fusion: str, weights: dict[str, float] | None):
        weights = weights or DEFAULT_WEIGHTS[fusion]
        if fusion == "weighted":
            return hybrid.weighted(rankings, weights)
        return hybrid.rrf(rankings, weights=weights)

    def _dense_like(self, like: DocKey, filters: Filters):
        return self.remember(("dense-like", like, filters),
                             lambda: self.dense_ranking(self.centroid(like), filters))

    def remember(self, key, compute: Callable):
        """``compute()``, kept in this snapshot's bounded memo under ``key``."""
        if key in self.memo:
            return self.memo[key]
        value = self.memo[key] = compute()
        while len(self.memo) > MEMO_SIZE:
            self.memo.popitem(last=False)
        return value

    def dense_ranking(self, vectors: np.ndarray | None, filters: Filters = Filters(),
                      limit: int = CANDIDATES):
        """Dense candidates for query ``vectors``: those within DENSE_MARGIN of the best."""
        if vectors is None:
            return []
        ranking = self.nearest(vectors, limit, self._allowed(filters))
        if ranking:
            floor = ranking[0][1] - DENSE_MARGIN
            ranking = [(k, s) for k, s in ranking if s >= floor]
        return ranking

    def _allowed(self, filters: Filters) -> set[DocKey] | None:
        return None if filters.empty else {k for k, d in self.documents.items()
                                           if filters.accepts(d)}

    def nearest(self, vectors: np.ndarray, limit: int, allowed: set[DocKey] | None = None):
        """The ``limit`` documents closest to ``vectors``, in the build and the changes."""
        found = self.build.vectors.search(vectors, limit, allowed, self._excluded)
        found += self._recent.search(vectors, limit, allowed)
        return sorted(found, key=lambda pair: -pair[1])[:limit]

    def centroid(self, key: DocKey) -> np.ndarray | None:
        if key in self.changes:
            return self._recent.centroid(key)
        return None if key in self.build.broken else self.build.vectors.centroid(key)

    def similar(self, key: DocKey, limit: int = 4, filters: Filters = Filters(types=("practice",))
                ) -> list[Hit]:
        """Documents whose embeddings are closest to ``key``'s (the document itself excluded)."""
        centre = self.centroid(key)
        if centre is None:
            return []
        allowed = {k for k, d in self.documents.items() if filters.accepts(d) and k != key}
        return [self.hit(k, s, ("dense",), "") for k, s in self.nearest(centre, limit, allowed)]

    def _facets(self, keys) -> dict[str, dict[str, int]]:
        counts = {f.name: Counter() for f in FACETS}
        for key in keys:
            doc = self.documents[key]
            for f in FACETS:
                counts[f.name].update(f.values(doc))
        return {name: dict(c.most_common()) for name, c in counts.items()}

    def hit(self, key: DocKey, score: float, found: tuple[str, ...], query: str) -> Hit:
        return make_hit(self.documents[key], score, found, query)


def make_hit(doc: Document, score: float, found: tuple[str, ...], query: str) -> Hit:
    """A search hit of ``doc``, its snippet marking ``query``'s words (every backend's hits)."""
    text = snippet(doc.text or doc.english, query) if query else snippet(doc.text, "")
    if query and "<mark>" not in text:  # matched in English: show where
        marked = [snippet(t, query) for t in (doc.english, doc.text_en) if t]
        text = next((m for m in marked if "<mark>" in m), text)
    return Hit(doc.key, doc.type, doc.record_id, doc.title, doc.title_en, text, round(score, 6),
               doc.areas, doc.countries, doc.factor, doc.needs, doc.activities, found,
               english_snippet(doc, query), doc.source)


def english_snippet(doc: Document, query: str) -> str:
    """The snippet of ``doc``'s English text -- kb's English rendering, else its English
    wording -- marking ``query``'s words where one of them holds any; "" without English."""
    sources = [t for t in (doc.text_en, doc.english) if t]
    if not sources:
        return ""
    if not query:
        return snippet(sources[0], "")
    marked = [snippet(t, query) for t in sources]
    return next((m for m in marked if "<mark>" in m), marked[0])
