"""The postgres search backend: the `SearchService` over tables in the database itself.

KB_SEARCH_BACKEND=postgres. Nothing lives on the app server: the index is the search_* tables
(`kb.core.search_tables`), written in the same transaction as the record change they follow
(`upsert` / `remove` in the caller's session), so a publish is searchable exactly when it is
committed, on every app server at once; `kb index` rebuilds them in one transaction.

- lexical: BM25F over one tsvector of field-tagged lexemes that kb's own analyzers produce
  (`kb.search.postgres_rows`), with the local backend's field boosts, query plan
  (`kb.search.lexical.plan_query`) and coordination factor;
- dense: the passages' embeddings, nearest by cosine through pgvector's HNSW index;
- fused by `kb.search.hybrid` exactly as the local backend fuses; snippets, facets and hits
  are made the same way.

Each read runs in one REPEATABLE READ, read-only transaction (from KB_DATABASE_READ_URL when
set): a search sees one committed state from its first statement to its last.
"""
from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from contextlib import contextmanager
from typing import Callable, NamedTuple

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kb.search import hybrid, lexical, sorting
from kb.search import postgres_index as writes
from kb.search import postgres_lexical
from kb.search import postgres_sql as sql
from kb.search.analysis import restore_accents
from kb.search.dense import Embedder, QueryEmbeddings
from kb.search.documents import DocKey, Document
from kb.search.postgres_rows import FIELDS, FORMAT
from kb.search.facets import counts_that_follow
from kb.search.results import Filters, Hit, Results
from kb.search.snapshot import (CANDIDATES, DEFAULT_WEIGHTS, DENSE_MARGIN, FUSIONS, MEMO_SIZE,
                                MODES, make_hit)
from kb.search.store import IndexUnavailable

log = logging.getLogger(__name__)


class State(NamedTuple):
    """search_state as one read saw it."""

    build: str | None
    seq: int
    format: int
    embedder: str
    dim: int
    documents: int
    lengths: list[int]
    pgvector: str | None

    @property
    def generation(self) -> str:
        return f"postgres:{self.build}@{self.seq}"


def check_state(row, embedder: str | None = None) -> State:
    """The search tables' state ``row`` (`postgres_sql.STATE`) if they can be searched with
    ``embedder`` (any when None); otherwise IndexUnavailable saying what to run."""
    state = State(row.build, row.seq, row.format, row.embedder, row.dim, row.documents,
                  list(row.lengths), row.pgvector)
    if state.pgvector is None:
        raise IndexUnavailable("pgvector is not installed in this database: run `kb index` "
                               "(it creates the extension where the role may)")
    if state.build is None:
        raise IndexUnavailable("the search tables are empty: run `kb index` to build them")
    if state.format != FORMAT or len(state.lengths) != len(FIELDS):
        raise IndexUnavailable(f"the search tables have format {state.format}, this kb "
                               f"reads format {FORMAT}: run `kb index` to rebuild them")
    if embedder is not None and state.embedder != embedder:
        raise IndexUnavailable(f"the search tables were built with embedder "
                               f"{state.embedder!r} but KB_EMBEDDER gives "
                               f"{embedder!r}: run `kb index`")
    return state


def tables_warning(engine: Engine) -> str | None:
    """What is wrong with ``engine``'s search tables, if anything (a cheap look, no embedder)."""
    if engine.dialect.name != "postgresql":
        return (f"KB_SEARCH_BACKEND=postgres needs a PostgreSQL database, and KB_DATABASE_URL is "
                f"{engine.dialect.name}: search answers 503")
    try:
        with engine.connect() as connection:
            check_state(PostgresSearch._read_state(connection))
    except SQLAlchemyError as exc:
        return f"the database cannot be reached: {_reason(exc)}"
    except IndexUnavailable as exc:
        return f"{exc} (pages work; search answers 503 until then)"
    return None


class PostgresSearch:
    """The search index in PostgreSQL tables; reads from ``read_engine`` (a replica, or the
    primary), writes in the callers' sessions on the primary."""

    def __init__(self, engine: Engine, embedder: Embedder, read_engine: Engine | None = None):
        if engine.dialect.name != "postgresql":
            raise IndexUnavailable(
                f"KB_SEARCH_BACKEND=postgres needs a PostgreSQL database, and KB_DATABASE_URL "
                f"is {engine.dialect.name}: point it at PostgreSQL, or use "
                "KB_SEARCH_BACKEND=local")
        self.engine = engine
        self.embedder = embedder
        self.read_engine = (read_engine or engine).execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True)
        self._accents: tuple[str | None, dict[str, str]] = (None, {})
        self._queries = QueryEmbeddings(embedder)
        self._memo: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    # -- reading ----------------------------------------------------------------------------

    def _connect(self):
        """A read-only connection, or IndexUnavailable saying why there is none."""
        try:
            return self.read_engine.connect()
        except SQLAlchemyError as exc:
            raise IndexUnavailable(f"the search database cannot be reached: {_reason(exc)}"
                                   ) from None

    @contextmanager
    def _read(self):
        """One read-only transaction that sees one committed state, and its search_state."""
        with self._connect() as connection:
            state = self._check(self._read_state(connection))
            yield connection, state

    @staticmethod
    def _read_state(connection):
        try:
            return connection.execute(sql.STATE).one()
        except SQLAlchemyError as exc:
            raise IndexUnavailable(f"the search tables cannot be read ({_reason(exc)}): run "
                                   "`kb db upgrade`, then `kb index`") from None

    def _check(self, row) -> State:
        """The state of ``row``, or IndexUnavailable saying what to run."""
        return check_state(row, self.embedder.name)

    def snapshot(self) -> State:
        """Check the tables can be searched (IndexUnavailable says what to run) and read the
        build's accent table, before the first request rather than during it."""
        with self._read() as (connection, state):
            self._accents_of(connection, state)
            return state

    def pinned(self) -> PostgresSearch:
        self.snapshot()
        return self

    def generation(self) -> str:
        with self._read() as (_, state):
            return state.generation

    def content(self) -> str:
        """The generation in this database: a copy of the tables elsewhere (another schema)
        may go on differently from the same build."""
        return f"{self.engine.url.render_as_string(hide_password=True)} {self.generation()}"

    def get(self, key: DocKey) -> Document | None:
        with self._read() as (connection, _):
            return self._documents(connection, [str(key)]).get(key)

    def search(self, query: str, filters: Filters = Filters(), limit: int = 10,
               offset: int = 0, mode: str = "hybrid", fusion: str = "rrf",
               weights: dict[str, float] | None = None, sort: str = "relevance",
               lang: str = "lv", facets: bool = True) -> Results:
        """Search ``query`` within ``filters``; an empty query lists every matching record.
        Ordered, and facets counted (unless ``facets`` is False), as the local backend does
        (`kb.search.sorting`, `counts_that_follow`)."""
        if mode not in MODES or fusion not in FUSIONS:
            raise ValueError(f"mode must be one of {MODES} and fusion one of {FUSIONS}")
        sorting.check(sort, lang)
        query = query.strip()
        with self._read() as (connection, state):
            if not query:
                return self._listing(connection, query, filters, limit, offset, sort, lang,
                                     facets)
            vectors = self._query_vectors(connection, state, query, mode)

            def results(within: Filters):
                rankings, matches = self._rankings(connection, state, query, within, mode,
                                                   None, vectors)
                return hybrid.cut(_fuse(rankings, fusion, weights), matches,
                                  lexical.informative_words(query), rankings.get("dense", []))

            ranked, closest = results(filters)
            suggestion = self._suggest(connection, state, query, filters) \
                if not ranked and mode != "dense" else ""
            rows = self._rows(connection, [str(key) for key, _, _ in ranked])
            counts = counts_that_follow(
                filters, _count_facets(rows[str(key)].facets for key, _, _ in ranked),
                lambda within: self._counted(connection, results(within)[0])) if facets else {}
            ranked = sorting.ordered(ranked, sort, lang, lambda r: _sortable(rows[str(r[0])]))
            page = ranked[offset:offset + limit]
            documents = self._documents(connection, [str(k) for k, _, _ in [*page, *closest]])
        hits = [make_hit(documents[key], score, found, query) for key, score, found in page
                if key in documents]
        near = [make_hit(documents[key], score, found, query) for key, score, found in closest
                if key in documents]
        return Results(query, len(ranked), hits, counts, near, suggestion)

    @staticmethod
    def _rows(connection, keys: list[str]) -> dict:
        """Each key's facet values and what the orders read (`sorting.Sortable`)."""
        return {r.key: r for r in connection.execute(sql.SORTABLE, {"keys": keys})}

    def _counted(self, connection, ranked) -> dict[str, dict[str, int]]:
        rows = self._rows(connection, [str(key) for key, _, _ in ranked])
        return _count_facets(rows[str(key)].facets for key, _, _ in ranked)

    def rank(self, query: str, filters: Filters = Filters(), mode: str = "hybrid",
             fusion: str = "rrf", weights: dict[str, float] | None = None,
             like: DocKey | None = None) -> list[tuple[DocKey, float, tuple[str, ...]]]:
        """All candidates for ``query`` as (key, score, retrievers), best first; ``like`` names
        a document whose stored embedding the dense retriever uses instead of the query's."""
        with self._read() as (connection, state):
            vectors = None if like is not None else \
                self._query_vectors(connection, state, query.strip(), mode)
            return self._rank(connection, state, query.strip(), filters, mode, fusion, weights,
                              like, vectors)

    def similar(self, key: DocKey, limit: int = 4,
                filters: Filters = Filters(types=("practice",))) -> list[Hit]:
        """Documents whose embeddings are closest to ``key``'s (the document itself excluded)."""
        with self._read() as (connection, state):
            centre = self._centroid(connection, key)
            if centre is None:
                return []
            found = self._nearest(connection, state, centre, filters, limit, exclude=str(key))
            documents = self._documents(connection, [str(k) for k, _ in found])
        return [make_hit(documents[k], s, ("dense",), "") for k, s in found if k in documents]

    # -- the retrievers ---------------------------------------------------------------------

    def _rank(self, connection, state: State, query: str, filters: Filters, mode: str,
              fusion: str, weights, like: DocKey | None,
              vectors: Callable[[], np.ndarray] | None):
        rankings, _ = self._rankings(connection, state, query, filters, mode, like, vectors)
        return _fuse(rankings, fusion, weights)

    def _rankings(self, connection, state: State, query: str, filters: Filters, mode: str,
                  like: DocKey | None, vectors: Callable[[], np.ndarray] | None):
        """Each retriever's candidates (key, score), and the lexical one's `Match` per key
        (None when it did not run)."""
        rankings: dict[str, list[tuple[DocKey, float]]] = {}
        matches = None
        if mode in ("hybrid", "lexical"):
            found = postgres_lexical.retrieve(connection, state, query, filters)
            rankings["lexical"] = [(key, score) for key, score, _ in found]
            matches = {key: match for key, _, match in found}
        if mode in ("hybrid", "dense"):
            if like is not None:
                rankings["dense"] = self._dense_like(connection, state, like, filters)
            else:
                rankings["dense"] = self._dense(connection, state,
                                                vectors() if vectors else None, filters)
        return rankings, matches

    def _suggest(self, connection, state: State, query: str, filters: Filters) -> str:
        """The query respelt as the handbook spells it, when that finds something (as the local
        backend's `Snapshot.suggest`): each unknown word replaced by the most frequent indexed
        word within one edit (two from 8 letters) with the same first letter."""
        words, changed = [], False
        for word in lexical.user_words(query):
            better = postgres_lexical.spelling(connection, word)
            changed |= better is not None
            words.append(restore_accents(better, self._accents_of(connection, state))
                         if better else word)
        if not changed:
            return ""
        respelt = " ".join(words)
        found = postgres_lexical.retrieve(connection, state, respelt, filters, limit=1)
        return respelt if found else ""

    def _dense(self, connection, state: State, vectors: np.ndarray | None, filters: Filters):
        """Dense candidates: the documents within DENSE_MARGIN of the best one."""
        if vectors is None:
            return []
        ranking = self._nearest(connection, state, vectors, filters, CANDIDATES,
                                margin=DENSE_MARGIN)
        if ranking:
            floor = ranking[0][1] - DENSE_MARGIN
            ranking = [(k, s) for k, s in ranking if s >= floor]
        return ranking

    def _dense_like(self, connection, state: State, like: DocKey, filters: Filters):
        memo_key = (state.generation, like, filters)
        with self._lock:
            if memo_key in self._memo:
                return self._memo[memo_key]
        centre = self._centroid(connection, like)
        ranking = self._dense(connection, state, centre, filters) if centre is not None else []
        with self._lock:
            self._memo[memo_key] = ranking
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return ranking

    def _nearest(self, connection, state: State, vectors: np.ndarray, filters: Filters,
                 limit: int, exclude: str | None = None,
                 margin: float | None = None) -> list[tuple[DocKey, float]]:
        """The ``limit`` documents nearest ``vectors`` (one, or one per reading), each scored
        by its best passage under its best reading -- or, with ``margin``, those of them within
        ``margin`` of the best. A few passages are fetched first, more when they may not hold
        them all (documents have several passages)."""
        for passages in sql.PASSAGES:
            params: dict = {}
            statement = sql.nearest_statement(vectors, state.dim, state.build, filters, params,
                                              exclude, passages)
            best: dict[str, float] = {}
            lowest: dict[int, float] = {}  # per reading: its farthest passage fetched
            rows: dict[int, int] = {}
            for reading, key, score in connection.execute(statement, params):
                rows[reading] = rows.get(reading, 0) + 1
                lowest[reading] = min(lowest.get(reading, np.inf), score)
                if score > best.get(key, -np.inf):
                    best[key] = float(score)
            top = max(best.values(), default=0.0)
            # Enough when each reading is exhausted or has gone past the margin, or when the
            # documents found are already ``limit``.
            covered = all(rows.get(n, 0) < passages
                          or (margin is not None and lowest[n] < top - margin)
                          for n in range(len(np.atleast_2d(vectors))))
            if covered or len(best) >= limit:
                break
        ranked = sorted(best.items(), key=lambda pair: -pair[1])[:limit]
        return [(DocKey.parse(k), s) for k, s in ranked]

    def _centroid(self, connection, key: DocKey) -> np.ndarray | None:
        rows = connection.execute(text("SELECT embedding FROM search_passage WHERE key = :key"),
                                  {"key": str(key)}).scalars().all()
        if not rows:
            return None
        centre = np.asarray(rows, dtype=np.float32).mean(axis=0)
        return centre / (np.linalg.norm(centre) or 1.0)

    # -- query embeddings -------------------------------------------------------------------

    def _accents_of(self, connection, state: State) -> dict[str, str]:
        build, table = self._accents
        if build != state.build:
            raw = connection.execute(text("SELECT accents FROM search_state WHERE id = 1")).scalar()
            table = raw if isinstance(raw, dict) else json.loads(raw or "{}")
            self._accents = (state.build, table)
        return table

    def _query_vectors(self, connection, state: State, query: str, mode: str
                       ) -> Callable[[], np.ndarray] | None:
        """The query's embeddings (as typed, and with the corpus' diacritics put back), started
        now in another thread while the lexical query runs; recent ones are kept."""
        if mode == "lexical" or not query:
            return None
        accents = self._accents_of(connection, state)
        return self._queries.start(
            tuple(dict.fromkeys([restore_accents(query, accents), query])))

    # -- pages ------------------------------------------------------------------------------

    def _documents(self, connection, keys: list[str]) -> dict[DocKey, Document]:
        if not keys:
            return {}
        rows = connection.execute(text("SELECT key, document FROM search_document "
                                       "WHERE key = ANY(:keys)"), {"keys": keys})
        return {DocKey.parse(k): Document.from_json(d) for k, d in rows}

    def _listing(self, connection, query: str, filters: Filters, limit: int, offset: int,
                 sort: str, lang: str, facets: bool = True) -> Results:
        params: dict = {"limit": limit, "offset": offset}
        total, page, counting = sql.listing_statements(filters, sort, params)
        count = connection.execute(total, params).scalar()
        if sort in sql.LISTING_ORDERS:
            documents = [Document.from_json(d) for _, d in connection.execute(page, params)]
        else:  # ordered here, as the local backend orders: what the orders read, of every match
            rows = connection.execute(sql.listing_sortables(filters, params), params).all()
            keys = [r.key for r in sorting.ordered(rows, sort, lang, _sortable)
                    ][offset:offset + limit]
            found = self._documents(connection, keys)
            documents = [found[DocKey.parse(k)] for k in keys if DocKey.parse(k) in found]

        def counted(within: Filters):
            relaxed: dict = {}
            statement = sql.listing_statements(within, "relevance", relaxed)[2]
            return sql.facet_counts(connection.execute(statement, relaxed).all())

        counts = counts_that_follow(filters, sql.facet_counts(connection.execute(
            counting, params).all()), counted) if facets else {}
        return Results(query, count, [make_hit(d, 0.0, (), "") for d in documents], counts)

    # -- writing ----------------------------------------------------------------------------

    def upsert(self, session: Session, document: Document) -> None:
        """Add or replace ``document`` when ``session`` commits (embedded now, once, through the
        database's embedding cache). When the embedder fails the document is still written:
        it is found by its words until `kb index`."""
        try:
            vectors = writes.embed(session, self.embedder, document.passages)
        except Exception:  # noqa: BLE001 - the record change must not depend on the embedder
            log.exception("embedding %s failed; it is searchable by its words", document.key)
            vectors = None
        writes.replace(session, document.key, document, self.embedder.name, vectors)

    def remove(self, session: Session, key: DocKey) -> None:
        """Remove ``key`` when ``session`` commits (unknown keys are fine)."""
        writes.replace(session, key, None, self.embedder.name, None)

    # -- health -----------------------------------------------------------------------------

    def health(self) -> dict:
        """What is served, and every reason it may be wrong (``status`` "degraded")."""
        with self._connect() as connection:
            row = self._read_state(connection)
            state, problems = None, []
            try:
                state = self._check(row)
            except IndexUnavailable as exc:
                problems.append(str(exc))
            records = dict(connection.execute(text(
                "SELECT document->>'type', count(*) FROM search_document GROUP BY 1")).all())
            published = connection.execute(text(
                "SELECT count(*) FROM practice WHERE status = 'published'")).scalar()
        indexed = records.get("practice", 0)
        if published != indexed:
            problems.append(f"the index holds {indexed} practices, the database has "
                            f"{published} published: run `kb index`")
        generation = state.generation if state else f"postgres:{row.build}@{row.seq}"
        return {"status": "degraded" if problems else "ok", "problems": problems,
                "generation": generation, "documents": row.documents, "changes": row.seq,
                "build": {"backend": "postgres", "build": row.build, "format": row.format,
                          "embedder": row.embedder, "dim": row.dim, "documents": row.documents,
                          "records": records, "pgvector": state.pgvector if state else None,
                          "built_at": row.built_at.isoformat() if row.built_at else None}}

    def corpus_hash(self) -> str:
        """The indexed content's fingerprint (`kb.search.documents.corpus_hash` of it)."""
        import hashlib
        with self._read() as (connection, _):
            pairs = connection.execute(text("SELECT key, content_hash FROM search_document")).all()
        digest = hashlib.sha256()
        for h in sorted(key + content for key, content in pairs):
            digest.update(h.encode())
        return digest.hexdigest()[:16]

    def close(self) -> None:
        self._queries.close()


def _fuse(rankings: dict, fusion: str, weights: dict[str, float] | None):
    weights = weights or DEFAULT_WEIGHTS[fusion]
    if fusion == "weighted":
        return hybrid.weighted(rankings, weights)
    return hybrid.rrf(rankings, weights=weights)


def _reason(exc: SQLAlchemyError) -> str:
    return f"{type(exc.orig or exc).__name__}: {str(exc.orig or exc).strip().splitlines()[0]}" \
        if getattr(exc, "orig", None) is not None else f"{type(exc).__name__}: {exc}"


def _sortable(row) -> sorting.Sortable:
    return sorting.Sortable(row.title, row.title_en or "", tuple(row.countries or ()),
                            row.added or "", row.quality)


def _count_facets(values_per_document) -> dict[str, dict[str, int]]:
    """Facet counts over the ranked documents, as the local backend counts them."""
    from collections import Counter

    from kb.search.facets import FACETS
    counts = {f.name: Counter() for f in FACETS}
    for values in values_per_document:
        for value in values:
            name, _, code = value.partition("=")
            if name in counts:
                counts[name][code] += 1
    return {name: dict(c.most_common()) for name, c in counts.items()}


__all__ = ["PostgresSearch"]
