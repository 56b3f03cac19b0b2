"""Per-request database sessions and the per-process search service."""
from __future__ import annotations

import threading
from functools import lru_cache

from flask import Flask, current_app, g, request

from kb.core.db import make_engine, session_factory
from kb.search import (IndexUnavailable, SearchReader, SearchService, default_embedder,
                       make_search, read_engine)
from kb.web.errors import Unavailable

_LOCK = threading.Lock()


def init_services(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["kb.engine"] = engine
    app.extensions["kb.sessions"] = session_factory(engine)
    app.extensions["kb.search"] = None

    @app.teardown_appcontext
    def close_session(_exc):
        g.pop("search_reader", None)
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


# The blueprint whose pages only read published records: with KB_DATABASE_READ_URL set they
# read from the replica. Every other request (curation, assessments, the API) reads its own
# writes, so it stays on the primary.
CATALOGUE_BLUEPRINT = "main"


def db():
    """The request's SQLAlchemy session: on the read replica for catalogue pages when
    KB_DATABASE_READ_URL is set, on KB_DATABASE_URL otherwise."""
    if "db_session" not in g:
        replica = None
        if request and request.blueprint == CATALOGUE_BLUEPRINT and request.method in (
                "GET", "HEAD"):
            replica = read_engine()
        g.db_session = (_replica_sessions(replica)() if replica is not None
                        else current_app.extensions["kb.sessions"]())
    return g.db_session


@lru_cache(maxsize=4)
def _replica_sessions(engine):
    """Sessions on the replica's engine (`kb.search.read_engine`, one per process)."""
    return session_factory(engine)


def search_service() -> SearchService:
    """The search service of this process (opened on first use), for writes and health."""
    app = current_app._get_current_object()
    service = app.extensions.get("kb.search")
    if service is None:
        with _LOCK:
            service = app.extensions.get("kb.search")
            if service is None:
                service = make_search(app.extensions["kb.engine"], app.config["INDEX_DIR"],
                                      app.config.get("EMBEDDER") or default_embedder(),
                                      app.config.get("SEARCH_BACKEND"))
                app.extensions["kb.search"] = service
    return service


def search_reader() -> SearchReader:
    """The search index as this request sees it: one generation for the whole request;
    503 with a clear message when there is no index."""
    if "search_reader" not in g:
        try:
            g.search_reader = search_service().pinned()
        except IndexUnavailable as exc:
            raise Unavailable(str(exc)) from None
    return g.search_reader
