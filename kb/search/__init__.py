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
                                 practice_document)
from kb.search.facets import FACETS, FILTER_FIELDS, Facet
from kb.search.results import Filters, Hit, Results
from kb.search.service import LocalSearch, SearchReader, SearchService
from kb.search.snapshot import FUSIONS, MODES
from kb.search.store import IndexUnavailable

__all__ = ["TYPES", "FACETS", "FILTER_FIELDS", "Facet", "FUSIONS", "MODES", "DocKey", "Document", "EmbedderError",
           "Filters", "Hit", "IndexUnavailable", "LocalSearch", "Results", "SearchReader",
           "SearchService", "build_index", "corpus_hash", "default_embedder", "last_seq",
           "load_documents", "open_search", "practice_document", "prune"]


def default_embedder():
    """The embedder KB_EMBEDDER names, with KB_THREADS threads."""
    return make_embedder(setting("KB_EMBEDDER"), setting("KB_THREADS"))


def open_search(engine=None, root: Path | str | None = None, embedder=None) -> SearchService:
    """The search service over the index in ``root`` (default KB_INDEX_DIR), kept current from
    ``engine``'s change log; raises IndexUnavailable (saying what to run) when it has no index."""
    service = LocalSearch(Path(root or setting("KB_INDEX_DIR")), embedder or default_embedder(),
                          engine)
    service.snapshot()
    return service
