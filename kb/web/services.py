"""Per-request database sessions and the per-process search index."""
from __future__ import annotations

import threading

from flask import Flask, current_app, g

from kb.db import make_engine, session_factory
from kb.search import IndexUnavailable, SearchIndex, open_index
from kb.web.errors import Unavailable

_LOCK = threading.Lock()


def init_services(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["kb.engine"] = engine
    app.extensions["kb.sessions"] = session_factory(engine)
    app.extensions["kb.search"] = None

    @app.teardown_appcontext
    def close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def db():
    """The request's SQLAlchemy session."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["kb.sessions"]()
    return g.db_session


def search_index() -> SearchIndex:
    """The search index, opened once per process; 503 with a clear message when it is missing."""
    app = current_app._get_current_object()
    index = app.extensions.get("kb.search")
    if index is None:
        with _LOCK:
            index = app.extensions.get("kb.search")
            if index is None:
                try:
                    index = open_index(app.config["INDEX_DIR"], app.config.get("EMBEDDER"))
                except IndexUnavailable as exc:
                    raise Unavailable(str(exc)) from None
                app.extensions["kb.search"] = index
    return index
