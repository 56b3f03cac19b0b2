"""The search service: the one interface the web app, recommendations, curation and the CLI use.

`SearchService` is the seam: reads (search, rank, similar, get, generation, health) and writes
(upsert, remove). `LocalSearch` implements it with an index folder on this machine (Whoosh and
vectors, read into memory) and the database's change log:

- reads take the current `Snapshot` -- one generation of build and changes -- and never see a
  mix; `pinned()` holds one snapshot for a whole request;
- writes go into the caller's database transaction (`kb.search.changes`), so a change is
  searchable exactly when it is committed, in this process at once and in every other process
  that shares the database within `POLL` seconds;
- a new build from `kb index` is opened in the background and swapped in when ready.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kb.core.models import PUBLISHED, Practice
from kb.search import changes
from kb.search.build import embed_passages
from kb.search.dense import Embedder, QueryEmbeddings
from kb.search.documents import DocKey, Document
from kb.search.results import Filters, Hit, Results
from kb.search.snapshot import Build, Change, Snapshot
from kb.search.store import FORMAT_VERSION, IndexUnavailable, current_name, read_meta

POLL = 0.2             # seconds between looks at the change log and CURRENT
log = logging.getLogger(__name__)


class SearchReader(Protocol):
    """Reading the index: what a request needs."""

    def search(self, query: str, filters: Filters = Filters(), limit: int = 10,
               offset: int = 0, mode: str = "hybrid", fusion: str = "rrf",
               weights: dict[str, float] | None = None, sort: str = "relevance",
               lang: str = "lv", facets: bool = True) -> Results: ...

    def rank(self, query: str, filters: Filters = Filters(), mode: str = "hybrid",
             fusion: str = "rrf", weights: dict[str, float] | None = None,
             like: DocKey | None = None) -> list[tuple[DocKey, float, tuple[str, ...]]]: ...

    def similar(self, key: DocKey, limit: int = 4,
                filters: Filters = Filters(types=("practice",))) -> list[Hit]: ...

    def get(self, key: DocKey) -> Document | None: ...

    def generation(self) -> str: ...

    def content(self) -> str:
        """Names what is indexed (not where): two readers with the same content rank alike,
        so caches of rankings (recommendations) key on it."""
        ...


class SearchService(SearchReader, Protocol):
    """The search index as a whole: reads, the writes that keep it current, and its health."""

    def upsert(self, session: Session, document: Document) -> None: ...

    def remove(self, session: Session, key: DocKey) -> None: ...

    def health(self) -> dict: ...

    def pinned(self) -> SearchReader: ...


class Pinned:
    """Reads from one snapshot: a request sees one generation from start to end."""

    def __init__(self, service: LocalSearch, snapshot: Snapshot):
        self._service = service
        self.snapshot = snapshot

    def search(self, query: str, filters: Filters = Filters(), limit: int = 10,
               offset: int = 0, mode: str = "hybrid", fusion: str = "rrf",
               weights: dict[str, float] | None = None, sort: str = "relevance",
               lang: str = "lv", facets: bool = True) -> Results:
        vectors = self._service.query_vectors(self.snapshot, query, mode)
        return self.snapshot.search(query, filters, limit, offset, mode, fusion, weights, sort,
                                    lang, facets, query_vectors=vectors)

    def rank(self, query: str, filters: Filters = Filters(), mode: str = "hybrid",
             fusion: str = "rrf", weights: dict[str, float] | None = None,
             like: DocKey | None = None):
        vectors = None if like is not None else self._service.query_vectors(self.snapshot, query,
                                                                              mode)
        return self.snapshot.rank(query, filters, mode, fusion, weights, like=like,
                                  query_vectors=vectors)

    def similar(self, key: DocKey, limit: int = 4,
                filters: Filters = Filters(types=("practice",))) -> list[Hit]:
        return self.snapshot.similar(key, limit, filters)

    def get(self, key: DocKey) -> Document | None:
        return self.snapshot.documents.get(key)

    def generation(self) -> str:
        return self.snapshot.generation

    def content(self) -> str:
        return self.snapshot.content


class LocalSearch:
    """The index folder ``root`` (built by `kb index`) kept current from ``engine``'s change log.

    Without an engine (evaluation of an ablated index) the build is read as it is.
    """

    def __init__(self, root: Path, embedder: Embedder, engine: Engine | None = None):
        self.root = Path(root)
        self.embedder = embedder
        self.engine = engine
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()        # one refresh at a time
        self._due = 0.0
        self._opening: str | None = None     # a newer build being opened in the background
        self._problems: dict[str, str] = {}  # what health reports besides the build's own
        self._queries = QueryEmbeddings(embedder)

    # -- reading ----------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The newest snapshot (looking for changes at most every POLL seconds)."""
        if self._snapshot is None:
            self.refresh()
        elif time.monotonic() >= self._due and self._lock.acquire(blocking=False):
            try:
                self._refresh()
            finally:
                self._lock.release()
        return self._snapshot

    def pinned(self) -> Pinned:
        return Pinned(self, self.snapshot())

    def search(self, query: str, filters: Filters = Filters(), **options) -> Results:
        return self.pinned().search(query, filters, **options)

    def rank(self, query: str, filters: Filters = Filters(), **options):
        return self.pinned().rank(query, filters, **options)

    def similar(self, key: DocKey, limit: int = 4,
                filters: Filters = Filters(types=("practice",))) -> list[Hit]:
        return self.pinned().similar(key, limit, filters)

    def get(self, key: DocKey) -> Document | None:
        return self.pinned().get(key)

    def generation(self) -> str:
        return self.snapshot().generation

    def content(self) -> str:
        return self.snapshot().content

    def query_vectors(self, snapshot: Snapshot, query: str, mode: str
                      ) -> Callable[[], np.ndarray] | None:
        """The query's embeddings, started now (in another thread) and ready when asked.

        The embedder releases the GIL, so it runs while the lexical search does; recent
        queries' embeddings are kept.
        """
        if mode == "lexical" or not query.strip():
            return None
        return self._queries.start(snapshot.readings(query))

    # -- keeping current --------------------------------------------------------------------

    def refresh(self) -> None:
        """Bring the snapshot up to date now (waiting for a refresh under way)."""
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        self._due = time.monotonic() + POLL
        name = current_name(self.root)
        snapshot = self._snapshot
        if snapshot is None:
            if name is None:
                raise IndexUnavailable(f"no search index in {self.root}: run `kb index` to build it")
            snapshot = self._snapshot = Snapshot.of(self._open(self.root / name))
        elif name is not None and name != snapshot.build.name and name != self._opening:
            self._opening = name
            threading.Thread(target=self._open_in_background, args=(name,), daemon=True,
                             name="kb-open-index").start()
        self._snapshot = self._apply_changes(snapshot)

    def _open(self, folder: Path) -> Build:
        """Open a build, refusing one made by another kb or with another embedder."""
        try:
            meta = read_meta(folder)
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"the index in {folder} cannot be read ({exc}): run `kb index`"
                                   ) from None
        if meta.get("format") != FORMAT_VERSION:
            raise IndexUnavailable(f"the index in {folder} has format {meta.get('format')}, this "
                                   f"kb reads format {FORMAT_VERSION}: run `kb index` to rebuild it")
        if meta.get("embedder") != self.embedder.name:
            raise IndexUnavailable(f"the index was built with embedder {meta.get('embedder')!r} "
                                   f"but KB_EMBEDDER gives {self.embedder.name!r}: run `kb index`")
        return Build(folder)

    def _open_in_background(self, name: str) -> None:
        try:
            build = self._open(self.root / name)
        except IndexUnavailable as exc:
            # Keep serving the build we have; say why the new one is not used.
            self._problems["build"] = f"the newest build {name} is not used: {exc}"
            log.error("%s", self._problems["build"])
            return
        finally:
            self._opening = None
        with self._lock:
            self._problems.pop("build", None)
            self._snapshot = self._apply_changes(Snapshot.of(build))

    def _apply_changes(self, snapshot: Snapshot) -> Snapshot:
        if self.engine is None:
            return snapshot
        try:
            with self.engine.connect() as connection:
                rows = changes.since(connection, snapshot.seq)
            while rows:
                snapshot = snapshot.advance(rows[-1].seq, [
                    (row.key, Change(row.document, self._vectors_of(row))) for row in rows])
                with self.engine.connect() as connection:
                    rows = changes.since(connection, snapshot.seq)
        except Exception as exc:  # noqa: BLE001 - keep serving what we have, and say so
            self._problems["changes"] = (f"recent changes could not be applied "
                                         f"({type(exc).__name__}: {exc})")
            log.exception("applying search changes failed")
            return snapshot
        self._problems.pop("changes", None)
        return snapshot

    def _vectors_of(self, row: changes.Row) -> np.ndarray | None:
        if row.document is None:
            return None
        if row.vectors is not None and row.embedder == self.embedder.name:
            return row.vectors
        try:
            return embed_passages(self.root, self.embedder, row.document.passages)
        except Exception:  # noqa: BLE001 - found by its words until it can be embedded
            log.exception("embedding %s failed", row.key)
            return None

    # -- writing ----------------------------------------------------------------------------

    def upsert(self, session: Session, document: Document) -> None:
        """Add or replace ``document`` when ``session`` commits (embedded now, once).

        When the embedder fails the change is still made: the lexical retriever finds the
        document, and each reader tries to embed it again.
        """
        try:
            vectors = embed_passages(self.root, self.embedder, document.passages)
        except Exception:  # noqa: BLE001 - the record change must not depend on the embedder
            log.exception("embedding %s failed; it is searchable by its words", document.key)
            vectors = None
        changes.record(session, document.key, document, self.embedder.name, vectors)
        session.info.setdefault(_AFTER_COMMIT, set()).add(self)

    def remove(self, session: Session, key: DocKey) -> None:
        """Remove ``key`` when ``session`` commits (unknown keys are fine)."""
        changes.record(session, key, None)
        session.info.setdefault(_AFTER_COMMIT, set()).add(self)

    # -- health -----------------------------------------------------------------------------

    def health(self) -> dict:
        """What is served, and every reason it may be wrong (``status`` "degraded")."""
        self.refresh()
        snapshot = self._snapshot
        problems = [*snapshot.build.problems, *self._problems.values()]
        if self.engine is not None:
            with self.engine.connect() as connection:
                published = connection.execute(select(func.count()).select_from(Practice)
                                               .where(Practice.status == PUBLISHED)).scalar()
            indexed = sum(1 for key in snapshot.documents if key.type == "practice")
            if published != indexed:
                problems.append(f"the index holds {indexed} practices, the database has "
                                f"{published} published: run `kb index`")
        return {"status": "degraded" if problems else "ok", "problems": problems,
                "generation": snapshot.generation, "documents": len(snapshot.documents),
                "changes": len(snapshot.changes), "build": snapshot.build.meta}

    def close(self) -> None:
        self._queries.close()


_AFTER_COMMIT = "kb.search.refresh"


@event.listens_for(Session, "after_commit")
def _refresh_after_commit(session: Session) -> None:
    # A change is searchable in the process that made it as soon as it is committed.
    for service in session.info.pop(_AFTER_COMMIT, ()):
        try:
            service.refresh()
        except Exception:  # noqa: BLE001 - the next request refreshes again
            log.exception("refreshing the search index after a commit failed")


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
