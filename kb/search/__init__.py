"""Search: lexical (Whoosh) and dense (embeddings) retrieval, fused, behind one service.

Views, recommendations, curation and commands use only what this module exports -- above all
`SearchService` (`open_search`) -- and none imports Whoosh or an embedder, or reaches into the
index's documents, vectors or memo.
"""
from __future__ import annotations

from pathlib import Path

from kb.core.config import setting
from kb.search.build import build_index
from kb.search.changes import last_seq, prune
from kb.search.dense import EmbedderError, make_embedder
from kb.search.documents import (TYPES, DocKey, Document, corpus_hash, load_documents,
                                 practice_document, vocabularies)
from kb.search.facets import FACETS, FILTER_FIELDS, Facet
from kb.search.results import Filters, Hit, Results
from kb.search.service import LocalSearch, SearchReader, SearchService
from kb.search.snapshot import FUSIONS, MODES
from kb.search.store import IndexUnavailable

__all__ = ["TYPES", "FACETS", "FILTER_FIELDS", "Facet", "FUSIONS", "MODES", "DocKey", "Document", "EmbedderError",
           "Filters", "Hit", "IndexUnavailable", "LocalSearch", "Results", "SearchReader",
           "SearchService", "build_index", "corpus_hash", "default_embedder", "last_seq",
           "load_documents", "make_search", "open_search", "practice_document", "prune",
           "vocabularies"]


def default_embedder():
    """The embedder KB_EMBEDDER names, with KB_THREADS threads."""
    return make_embedder(setting("KB_EMBEDDER"), setting("KB_THREADS"))


BACKENDS = ("local", "postgres")


def make_search(engine=None, root: Path | str | None = None, embedder=None,
                backend: str | None = None) -> SearchService:
    """The search service KB_SEARCH_BACKEND (or ``backend``) names, not opened yet.

    ``local``: the index folder ``root`` (default KB_INDEX_DIR), kept current from
    ``engine``'s change log. ``postgres``: the search tables of ``engine``'s database, read
    from KB_DATABASE_READ_URL when it is set.
    """
    backend = backend or setting("KB_SEARCH_BACKEND")
    if backend == "postgres":
        from kb.search.postgres import PostgresSearch
        if engine is None:
            raise IndexUnavailable("KB_SEARCH_BACKEND=postgres searches the database: it needs "
                                   "an engine on KB_DATABASE_URL")
        return PostgresSearch(engine, embedder or default_embedder(), read_engine())
    if backend != "local":
        raise ValueError(f"KB_SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, "
                         f"got {backend!r}")
    return LocalSearch(Path(root or setting("KB_INDEX_DIR")), embedder or default_embedder(),
                       engine)


def read_engine():
    """An engine on KB_DATABASE_READ_URL, made once per process (None when it is not set)."""
    global _READ_ENGINE
    url = setting("KB_DATABASE_READ_URL")
    if not url:
        return None
    if _READ_ENGINE is None or _READ_ENGINE[0] != url:
        from sqlalchemy import create_engine
        # Per process (each gunicorn worker has its own): enough for its request threads.
        _READ_ENGINE = (url, create_engine(url, pool_size=4, max_overflow=8, pool_pre_ping=True,
                                           pool_recycle=1800, hide_parameters=True))
    return _READ_ENGINE[1]


_READ_ENGINE = None


def open_search(engine=None, root: Path | str | None = None, embedder=None,
                backend: str | None = None) -> SearchService:
    """The search service (see `make_search`), opened; raises IndexUnavailable (saying what to
    run) when it has no index."""
    service = make_search(engine, root, embedder, backend)
    service.snapshot()
    return service
