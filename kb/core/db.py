"""Database engine and sessions."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from kb.core import migrations
from kb.core.config import setting
from kb.core.migrations import SchemaError

__all__ = ["SchemaError", "check_schema", "create_schema", "make_engine", "session_factory",
           "transaction"]


def make_engine(url: str | None = None, *, check: bool = True) -> Engine:
    """Create an engine for ``url`` (default ``KB_DATABASE_URL``) and check its schema.

    Runs no DDL: `kb db upgrade` (:func:`create_schema`) creates and upgrades the tables. With
    ``check`` a database behind this kb raises SchemaError saying to run it.
    """
    url = url or setting("KB_DATABASE_URL")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    sqlite = parsed.get_backend_name() == "sqlite"
    # SQLite serialises writers: a writer waits up to 30 s for another (several workers, a
    # `kb import` beside the server) instead of failing with "database is locked" after 5 s.
    # hide_parameters: an error's message (and so a logged traceback) never carries the values
    # of a statement -- note texts, emails.
    engine = create_engine(url, connect_args={"timeout": 30} if sqlite else {},
                           pool_pre_ping=not sqlite, hide_parameters=True)
    if sqlite:
        # SQLite leaves foreign keys off unless asked, and other databases enforce them.
        event.listen(engine, "connect", _sqlite_foreign_keys)
    if check:
        try:
            check_schema(engine)
        except BaseException:
            engine.dispose()
            raise
    return engine


def create_schema(engine: Engine) -> migrations.Upgrade:
    """Create kb's tables, or upgrade them to this kb's models, keeping every row
    (what `kb db upgrade` runs: Alembic's upgrade to head)."""
    return migrations.upgrade(engine)


def check_schema(engine: Engine) -> None:
    """Raise SchemaError unless the database is at the revision this kb's models are."""
    status = migrations.status(engine)
    if status.at_head:
        return
    where = f"the database {engine.url.render_as_string(hide_password=True)}"
    if not status.known:
        raise SchemaError(
            f"{where} is at schema revision {status.current}, which this kb does not have (a "
            "newer kb upgraded it): run that kb, or point KB_DATABASE_URL at another database")
    if status.current is None and not status.kb_tables:
        raise SchemaError(f"{where} has no kb tables yet: run `kb db upgrade` to create them")
    if status.current is None:
        why = "was made by a kb before schema migrations"
    else:
        why = f"is at schema revision {status.current} and this kb needs {status.head}"
    raise SchemaError(f"{where} {why}: run `kb db upgrade` to upgrade it (every row is kept)")


def _sqlite_foreign_keys(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine):
    """A session whose work is committed together, or rolled back together on any error."""
    with session_factory(engine)() as session:
        with session.begin():
            yield session
