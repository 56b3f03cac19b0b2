"""Database engine and sessions."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import JSON, create_engine, event, inspect, literal, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from kb.config import setting
from kb.models import Base


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for ``url`` (default ``KB_DATABASE_URL``) and its tables."""
    url = url or setting("KB_DATABASE_URL")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if parsed.get_backend_name() == "sqlite":
        # SQLite leaves foreign keys off unless asked, and other databases enforce them.
        event.listen(engine, "connect", _sqlite_foreign_keys)
    Base.metadata.create_all(engine)
    upgrade_schema(engine)
    check_schema(engine)
    return engine


class SchemaError(RuntimeError):
    """The database was created by another version of kb."""


def upgrade_schema(engine: Engine) -> list[str]:
    """Add the columns a newer kb introduced to a database an older kb created.

    Only additive changes with a default are made (every column kb has added so far), so the
    rows already there -- curators' practices, assessments -- are kept. Returns what was added.
    """
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    quote = engine.dialect.identifier_preparer.quote
    added = []
    for table in Base.metadata.sorted_tables:
        if table.name not in tables:
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            default = _column_default(column, engine)
            if column.name in present or column.primary_key or default is None:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            try:
                with engine.begin() as connection:
                    connection.execute(text(f"ALTER TABLE {quote(table.name)} ADD COLUMN "
                                            f"{quote(column.name)} {kind} DEFAULT {default}"))
            except DBAPIError:
                # Another kb process (serve and ingest started together) may have added it.
                if column.name not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                    raise
                continue
            added.append(f"{table.name}.{column.name}")
    return added


def _column_default(column, engine: Engine) -> str | None:
    """The column's default as an SQL literal, or None when it has none kb can write."""
    default = column.default
    if default is None:
        return "NULL" if column.nullable else None
    if default.is_callable:
        if isinstance(column.type, JSON) and getattr(default.arg, "__wrapped__", None) in (list, dict):
            return "'[]'" if default.arg.__wrapped__ is list else "'{}'"
        return None
    value = literal(default.arg, column.type)
    return str(value.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def check_schema(engine: Engine) -> None:
    """Raise SchemaError when an existing table lacks a column the models need."""
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c.name for c in table.columns if c.name not in present]
        if missing:
            raise SchemaError(
                f"the database {engine.url.render_as_string(hide_password=True)} was created by "
                f"another version of kb (table {table.name} lacks {', '.join(missing)}); point "
                "KB_DATABASE_URL at a new database and run `kb ingest`")


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
