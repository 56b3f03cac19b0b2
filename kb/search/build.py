"""Building an index folder: both retrievers and the document store of one set of documents."""
from __future__ import annotations

import fcntl
import json
import os
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np

from kb.search.analysis import accent_table
from kb.search.dense import Embedder, EmbeddingCache, VectorIndex
from kb.search.documents import Document, corpus_hash
from kb.search.lexical import LexicalIndex
from kb.search.store import FORMAT_VERSION, activate, new_build_folder, write_meta

CACHE_FILE = "embedding-cache.sqlite3"
LOCK_FILE = ".build.lock"


@contextmanager
def build_lock(root: Path):
    """One build at a time under ``root`` (another `kb index` waits for this one)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def build_index(root: Path, documents: list[Document], embedder: Embedder,
                progress: Callable[[int], None] | None = None,
                vectors: np.ndarray | None = None, change_seq: int = 0) -> Path:
    """Build lexical and dense indexes of ``documents`` into a new folder and make it current.

    ``change_seq`` is the last change-log entry ``documents`` include: servers apply the later
    ones on top. ``vectors`` (one row per passage) skips encoding; the benchmark's synthetic
    corpus uses it.
    """
    started = time.perf_counter()
    with build_lock(root):
        folder = new_build_folder(root)
        LexicalIndex.build(folder / "lexical", documents)
        keys = [d.key for d in documents for _ in d.passages]
        if vectors is None:
            vectors = embed_passages(root, embedder, [p for d in documents for p in d.passages],
                                     progress)
        VectorIndex(keys, vectors).save(folder)
        _write_documents(folder, documents)
        _write_accents(folder, documents)
        write_meta(folder, {
            "format": FORMAT_VERSION,
            "embedder": embedder.name,
            "dim": int(vectors.shape[1]) if len(vectors) else embedder.dim,
            "documents": len(documents),
            "records": dict(Counter(d.type for d in documents)),
            "corpus_hash": corpus_hash(documents),
            "change_seq": change_seq,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.perf_counter() - started, 2),
        })
        return activate(root, folder)


def embed_passages(root: Path, embedder: Embedder, passages: list[str],
                   progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Passage embeddings, through the cache kept beside the builds."""
    cache = EmbeddingCache(root / CACHE_FILE)
    try:
        return cache.encode(embedder, passages, progress=progress)
    finally:
        cache.close()


def _write_accents(folder: Path, documents) -> None:
    table = accent_table(t for d in documents for t in (d.title, d.organisation, d.text))
    (folder / "accents.json").write_text(json.dumps(table, ensure_ascii=False, sort_keys=True),
                                         encoding="utf-8")


def _write_documents(folder: Path, documents) -> None:
    with open(folder / "documents.jsonl", "w", encoding="utf-8") as f:
        for doc in documents:
            f.write(json.dumps(doc.to_json(), ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
