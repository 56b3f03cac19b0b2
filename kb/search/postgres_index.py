"""Writing the postgres backend's tables: one document in the caller's transaction, or all of
them (`kb index`) in one transaction.

Writers take the change-log writers' advisory lock (`kb.search.changes.WRITER_LOCK`), held to
commit, so the corpus statistics (document count, field lengths, document frequencies) and the
change counter move one writer at a time, in commit order. Readers never wait: PostgreSQL's
MVCC shows them the state before the commit until it commits, then the state after.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kb.search.analysis import accent_table
from kb.search.changes import WRITER_LOCK
from kb.search.dense import Embedder, EmbeddingCache
from kb.search.documents import DocKey, Document, corpus_hash
from kb.search.postgres_rows import FIELDS, FORMAT, digest, document_row
from kb.search.store import IndexUnavailable

log = logging.getLogger(__name__)
HNSW_PREFIX = "ix_search_passage_hnsw_"
BATCH = 64  # passages embedded (and their cache rows committed) at a time by `kb index`

DOCUMENT_COLUMNS = ("key", "type_order", "position", "record_id", "content_hash", "document",
                    "facets", "quality", "lexemes", "lengths", "norms")


def lock(connection) -> None:
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK})


# -- embeddings, cached in the database by (model, text hash) -----------------------------------

def cached_vectors(connection, model: str, digests: list[str]) -> dict[str, np.ndarray]:
    found = {}
    for start in range(0, len(digests), 1000):
        rows = connection.execute(
            text("SELECT digest, vector FROM search_embedding WHERE model = :model "
                 "AND digest = ANY(:digests)"),
            {"model": model, "digests": digests[start:start + 1000]})
        found.update((d, np.frombuffer(v, dtype=np.float32)) for d, v in rows)
    return found


def store_vectors(connection, model: str, vectors: dict[str, np.ndarray]) -> None:
    if vectors:
        connection.execute(
            text("INSERT INTO search_embedding (model, digest, vector) VALUES "
                 "(:model, :digest, :vector) ON CONFLICT DO NOTHING"),
            [{"model": model, "digest": d, "vector": np.asarray(v, np.float32).tobytes()}
             for d, v in vectors.items()])


def embed(connection, embedder: Embedder, passages: list[str]) -> np.ndarray:
    """Passage embeddings through the cache, in ``connection``'s transaction."""
    digests = [digest(p) for p in passages]
    found = cached_vectors(connection, embedder.name, digests)
    missing = {d: p for d, p in zip(digests, passages) if d not in found}
    if missing:
        fresh = dict(zip(missing, embedder.encode_passages(list(missing.values()))))
        store_vectors(connection, embedder.name, fresh)
        found.update(fresh)
    return np.stack([found[d] for d in digests]) if digests else \
        np.zeros((0, embedder.dim), dtype=np.float32)


def embed_all(engine: Engine, embedder: Embedder, passages: list[str],
              progress: Callable[[int], None] | None = None,
              local_cache: Path | None = None) -> np.ndarray:
    """Embeddings of every passage for a build: cached ones read, the others encoded in batches
    whose cache rows are committed as they go (an interrupted `kb index` keeps its work).
    ``local_cache`` (the local backend's cache file) is read too, so moving from the local
    backend to this one embeds nothing again."""
    digests = [digest(p) for p in passages]
    with engine.connect() as connection:
        found = cached_vectors(connection, embedder.name, list(set(digests)))
    missing = {d: p for d, p in zip(digests, passages) if d not in found}
    if missing and local_cache is not None and local_cache.is_file():
        cache = EmbeddingCache(local_cache)
        try:
            reused = cache._read(embedder.name, list(missing))
        finally:
            cache.close()
        with engine.begin() as connection:
            store_vectors(connection, embedder.name, reused)
        found.update(reused)
        missing = {d: p for d, p in missing.items() if d not in reused}
    if progress:
        progress(len(digests) - len(missing))
    todo = list(missing.items())
    for start in range(0, len(todo), BATCH):
        part = todo[start:start + BATCH]
        fresh = dict(zip((d for d, _ in part),
                         embedder.encode_passages([p for _, p in part])))
        with engine.begin() as connection:
            store_vectors(connection, embedder.name, fresh)
        found.update(fresh)
        if progress:
            progress(len(part))
    return np.stack([found[d] for d in digests]) if digests else \
        np.zeros((0, embedder.dim), dtype=np.float32)


# -- one document, in the caller's transaction --------------------------------------------------

def replace(session: Session, key: DocKey, document: Document | None, embedder_name: str,
            vectors: np.ndarray | None) -> None:
    """Make ``key`` be ``document`` (None: removed) when ``session`` commits."""
    lock(session)
    state = session.execute(text("SELECT build, embedder, dim, documents, lengths "
                                 "FROM search_state WHERE id = 1 FOR UPDATE")).one()
    documents = state.documents
    totals = list(state.lengths) if len(state.lengths) == len(FIELDS) else [0] * len(FIELDS)
    old = session.execute(text("DELETE FROM search_document WHERE key = :key "
                               "RETURNING lengths, tsvector_to_array(lexemes) AS terms"),
                          {"key": str(key)}).first()
    if old is not None:
        documents -= 1
        totals = [t - n for t, n in zip(totals, old.lengths)]
        session.execute(text("UPDATE search_term SET df = df - 1 WHERE lexeme = ANY(CAST(:terms AS text[]))"),
                        {"terms": old.terms})
        session.execute(text("DELETE FROM search_term WHERE lexeme = ANY(CAST(:terms AS text[])) AND df <= 0"),
                        {"terms": old.terms})
    if document is not None:
        row = document_row(document)
        insert_document(session, row)
        session.execute(text("INSERT INTO search_term (lexeme, df) SELECT unnest(CAST(:terms AS text[])), 1 "
                             "ON CONFLICT (lexeme) DO UPDATE SET df = search_term.df + 1"),
                        {"terms": row.terms})
        documents += 1
        totals = [t + n for t, n in zip(totals, row.lengths)]
        if vectors is not None and len(vectors) and embedder_name == state.embedder \
                and vectors.shape[1] == state.dim:
            insert_passages(session, row.key, state.build, row.facets, vectors)
        elif vectors is not None:
            log.warning("%s: embedded with %s (%s dimensions), the tables were built with %s "
                        "(%s): found by its words until `kb index`", key, embedder_name,
                        vectors.shape[1], state.embedder or "nothing", state.dim)
    session.execute(text("UPDATE search_state SET seq = seq + 1, documents = :documents, "
                         "lengths = :lengths WHERE id = 1"),
                    {"documents": documents, "lengths": totals})


def insert_document(connection, row) -> None:
    values = {c: getattr(row, c) for c in DOCUMENT_COLUMNS}
    values["document"] = json.dumps(row.document, ensure_ascii=False)
    connection.execute(text(
        "INSERT INTO search_document (key, type_order, position, record_id, content_hash, "
        "document, facets, quality, lexemes, lengths, norms) VALUES (:key, :type_order, "
        ":position, :record_id, :content_hash, CAST(:document AS jsonb), :facets, :quality, "
        "CAST(:lexemes AS tsvector), :lengths, :norms)"), values)


def insert_passages(connection, key: str, build: str, facets: list[str],
                    vectors: np.ndarray) -> None:
    connection.execute(
        text("INSERT INTO search_passage (key, n, build, facets, embedding) "
             "VALUES (:key, :n, :build, :facets, :embedding)"),
        [{"key": key, "n": n, "build": build, "facets": facets, "embedding": v.tolist()}
         for n, v in enumerate(np.asarray(vectors, dtype=np.float32))])


# -- every document: `kb index` -----------------------------------------------------------------

def ensure_pgvector(engine: Engine) -> str:
    """Create the vector extension when it is missing (the role must be allowed to); return its
    version, or raise IndexUnavailable saying what to do."""
    with engine.connect() as connection:
        version = connection.execute(text(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'")).scalar()
        if version:
            return version
        available = connection.execute(text(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'")).scalar()
    if not available:
        raise IndexUnavailable(
            "this PostgreSQL server has no pgvector (the `vector` extension), which "
            "KB_SEARCH_BACKEND=postgres needs: install it on the server (Debian: "
            "postgresql-<version>-pgvector; managed PostgreSQL: enable it), or use `make "
            "postgres` for a development server that has it")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    except DBAPIError as exc:
        raise IndexUnavailable(
            f"pgvector is installed on the server but not in this database, and this role "
            f"cannot create it ({exc.orig}): have an administrator run CREATE EXTENSION vector"
        ) from None
    return available


def rebuild(engine: Engine, documents: list[Document], embedder: Embedder,
            progress: Callable[[int], None] | None = None, vectors: np.ndarray | None = None,
            local_cache: Path | None = None,
            reload: Callable[[Session], list[Document]] | None = None) -> dict:
    """Replace every row with ``documents`` in one transaction; return what was built.

    Readers see the previous build until the commit and this one after it. The passages are
    embedded first, outside any lock; then, holding the writers' lock, ``reload`` (when given)
    reads the documents again, so a change committed meanwhile is in the build (its passages
    embedded then), and one committed later waits for the lock and applies on top. ``vectors``
    (one row per passage) skips the embedder, as `build_index`'s does.
    """
    started = time.perf_counter()
    ensure_pgvector(engine)
    if vectors is None:
        vectors = embed_all(engine, embedder, [p for d in documents for p in d.passages],
                            progress, local_cache)
    build = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        lock(connection)
        if reload is not None:
            with Session(bind=connection) as session:
                documents = reload(session)
            vectors = embed(connection, embedder, [p for d in documents for p in d.passages])
        dim = int(vectors.shape[1]) if len(vectors) else embedder.dim
        rows = [document_row(d) for d in documents]
        frequencies = Counter(t for row in rows for t in row.terms)
        totals = [sum(row.lengths[i] for row in rows) for i in range(len(FIELDS))]
        accents = accent_table(t for d in documents for t in (d.title, d.organisation, d.text))
        connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for table in ("search_passage", "search_document", "search_term"):
            connection.execute(text(f"DELETE FROM {table}"))
        copy_rows(connection, build, rows, frequencies, vectors, documents)
        # This build's own vector index, made in one go from its rows: the previous build's
        # (partial, on the rows just deleted) serves readers until the commit, and CREATE
        # INDEX blocks writers only (who wait for the lock anyway), never readers.
        connection.execute(text(
            f'CREATE INDEX "{HNSW_PREFIX}{build}" ON search_passage USING hnsw '
            f"((CAST(embedding AS vector({dim}))) vector_cosine_ops) WHERE build = '{build}'"))
        connection.execute(text(
            "UPDATE search_state SET build = :build, seq = 0, format = :format, "
            "embedder = :embedder, dim = :dim, documents = :documents, lengths = :lengths, "
            "accents = CAST(:accents AS jsonb), built_at = now() WHERE id = 1"),
            {"build": build, "format": FORMAT, "embedder": embedder.name, "dim": dim,
             "documents": len(rows), "lengths": totals,
             "accents": json.dumps(accents, ensure_ascii=False)})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        drop_old_vector_indexes(connection, build)
        # Statistics for the planner, and the GIN indexes' pending lists merged (a search
        # would read the whole list for every lexeme until autovacuum did it): readers go on.
        connection.execute(text("VACUUM (ANALYZE) search_document, search_term, search_passage"))
    return {"backend": "postgres", "build": build, "embedder": embedder.name, "dim": dim,
            "documents": len(rows), "passages": len(vectors),
            "records": dict(Counter(d.type for d in documents)),
            "corpus_hash": corpus_hash(documents),
            "build_seconds": round(time.perf_counter() - started, 2)}


def drop_old_vector_indexes(connection: Connection, build: str) -> None:
    """Drop the vector indexes of earlier builds (their rows are gone), waiting for the
    readers still using one (DROP INDEX CONCURRENTLY: nobody is blocked)."""
    names = connection.execute(text(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'search_passage' "
        "AND indexname LIKE :prefix AND schemaname = current_schema()"),
        {"prefix": HNSW_PREFIX + "%"}).scalars().all()
    for name in names:
        if name != f"{HNSW_PREFIX}{build}":
            connection.execute(text(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"'))


def copy_rows(connection: Connection, build: str, rows, frequencies: Counter,
              vectors: np.ndarray, documents: list[Document]) -> None:
    """COPY the rows in (many times faster than INSERTs at 50,000 documents)."""
    from psycopg.types.json import Jsonb
    raw = connection.connection.dbapi_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY search_document ({', '.join(DOCUMENT_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([Jsonb(row.document) if c == "document" else getattr(row, c)
                                for c in DOCUMENT_COLUMNS])
        with cursor.copy("COPY search_term (lexeme, df) FROM STDIN") as copy:
            for term, df in frequencies.items():
                copy.write_row((term, df))
        with cursor.copy("COPY search_passage (key, n, build, facets, embedding) "
                         "FROM STDIN") as copy:
            at = 0
            for row, doc in zip(rows, documents):
                for n in range(len(doc.passages)):
                    copy.write_row((row.key, n, build, row.facets, _array(vectors[at])))
                    at += 1


def _array(vector: np.ndarray) -> str:
    """A real[] as COPY's text format spells it (formatting 384 floats a row in Python is the
    slow part of writing 50,000 documents' passages)."""
    return "{" + ",".join(np.char.mod("%.9g", vector).tolist()) + "}"
