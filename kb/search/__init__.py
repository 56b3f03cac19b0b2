"""Search: lexical (Whoosh) and dense (embeddings) retrieval, fused.

Views and commands use only what this module exports; none imports Whoosh or an embedder.
"""
from __future__ import annotations

from pathlib import Path

from kb.config import setting
from kb.search.dense import EmbedderError, make_embedder
from kb.search.documents import TYPES, Document, corpus_hash, load_documents, practice_document
from kb.search.index import (FACETS, FUSIONS, MODES, Filters, Hit, Results, SearchIndex,
                             build_index)
from kb.search.store import IndexUnavailable

__all__ = ["TYPES", "FACETS", "FUSIONS", "MODES", "Document", "EmbedderError", "Filters", "Hit",
           "IndexUnavailable", "Results", "SearchIndex", "build_index", "corpus_hash",
           "default_embedder", "load_documents", "open_index", "practice_document"]


def default_embedder():
    """The embedder KB_EMBEDDER names, with KB_THREADS threads."""
    return make_embedder(setting("KB_EMBEDDER"), setting("KB_THREADS"))


def open_index(root: Path | str | None = None, embedder=None,
               expected_hash: str | None = None) -> SearchIndex:
    """Open the current index in ``root`` (default KB_INDEX_DIR)."""
    return SearchIndex.open(Path(root or setting("KB_INDEX_DIR")), embedder or default_embedder(),
                            expected_hash)
