"""Serving for real: gunicorn, several worker processes with several threads each.

Every worker creates its own app (database pool, embedder, search service); they share the
database and the index folder, and agree within a second (`kb.search.service`). Workers are
not forked from a loaded app, so a worker killed and restarted starts clean.
"""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from kb.core.config import setting

TIMEOUT = 120  # seconds a worker may stay silent (opening a large index at start)


class Server(BaseApplication):
    """gunicorn running `create_app()` in each worker."""

    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from kb.web import create_app
        return create_app()


def _warm_up(worker) -> None:
    # Open the search index before the first request rather than during it.
    from kb.web.services import search_service
    with worker.wsgi.app_context():
        try:
            search_service().snapshot()
        except Exception as exc:  # noqa: BLE001 - pages say what is missing
            worker.log.warning("search index not loaded: %s", exc)


def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run the server until it is stopped (Ctrl-C or SIGTERM: graceful)."""
    Server({"bind": f"{host}:{port}", "workers": workers, "threads": threads,
            "worker_class": "gthread", "timeout": TIMEOUT, "graceful_timeout": 30,
            "keepalive": 5, "proc_name": "kb", "post_worker_init": _warm_up,
            "accesslog": None, "errorlog": "-", "loglevel": "info"}).run()


def stale_index_warning(engine) -> str | None:
    """What is wrong with the index the workers will open, if anything (a cheap look)."""
    from pathlib import Path

    from kb.search.store import FORMAT_VERSION, current_folder, read_meta
    if setting("KB_SEARCH_BACKEND") == "postgres":
        from kb.search.postgres import tables_warning
        return tables_warning(engine)
    folder = current_folder(Path(setting("KB_INDEX_DIR")))
    if folder is None:
        return "no search index: run `kb index` (pages work; search answers 503 until then)"
    if read_meta(folder).get("format") != FORMAT_VERSION:
        return "the search index has an older format: run `kb index`"
    return None
