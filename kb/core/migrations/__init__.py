"""kb's schema migrations: Alembic revisions in ``versions/``, run from code (no alembic.ini).

``kb db upgrade`` calls :func:`upgrade`; every engine kb makes calls :func:`status` first, a
cheap read of the ``alembic_version`` table. ``kb db revision MESSAGE`` (:func:`autogenerate`)
writes the next revision for what ``kb/models.py`` has beyond the last one.
"""
from __future__ import annotations

import functools
from argparse import Namespace
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from kb.core.migrations import baseline

HERE = Path(__file__).resolve().parent
# pg_advisory_xact_lock key ("kbdb"): one `kb db upgrade` at a time per PostgreSQL database.
LOCK_KEY = 0x6B626462


class SchemaError(RuntimeError):
    """The database's schema is not the one this kb needs (and what to run about it)."""


class Status(NamedTuple):
    """Where a database's schema is, and where this kb needs it."""

    current: str | None  # the database's revision; None when it has no alembic_version
    head: str            # the revision this kb's models are
    known: bool          # whether this kb has the database's revision (False: a newer kb's)
    kb_tables: bool      # whether it has any of kb's tables (unversioned: a kb before migrations)

    @property
    def at_head(self) -> bool:
        return self.current == self.head


class Upgrade(NamedTuple):
    """What `kb db upgrade` did: the revision before and after, and what the legacy step added."""

    before: str | None
    after: str
    adopted: list[str] | None  # None unless the database was made by a kb before migrations


def config(connection: Connection | None = None):
    """An Alembic config for kb's revisions, running on ``connection``."""
    from alembic.config import Config
    cfg = Config(cmd_opts=Namespace(quiet=True))  # kb says what was done, not Alembic
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def _scripts():
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(config())


@functools.cache
def head() -> str:
    """The revision this kb's models are (an error when two revisions claim to be it)."""
    from alembic.util import CommandError
    try:
        return _scripts().get_current_head()
    except CommandError as exc:
        raise SchemaError(f"kb's migrations are inconsistent: {exc}") from None


@functools.cache
def revisions() -> tuple[str, ...]:
    """Every revision id, oldest first."""
    return tuple(reversed([s.revision for s in _scripts().walk_revisions()]))


def current(connection: Connection) -> str | None:
    """The database's revision, None when it has none."""
    from alembic.runtime.migration import MigrationContext
    heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(heads) if heads else None


def has_kb_tables(connection: Connection) -> bool:
    return bool(set(inspect(connection).get_table_names()) & set(baseline.metadata.tables))


def status(engine: Engine) -> Status:
    """Read the database's revision (and, when it has none, whether kb's tables are there)."""
    with engine.connect() as connection:
        revision = current(connection)
        kb_tables = revision is not None or has_kb_tables(connection)
    return Status(revision, head(), revision is None or revision in revisions(), kb_tables)


def lock(connection: Connection) -> None:
    """Serialise schema changes: PostgreSQL holds this lock until the transaction ends; SQLite's
    migration transactions begin IMMEDIATE (see :func:`migration_engine`), which serialises too."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


@contextmanager
def migration_engine(engine: Engine):
    """An engine whose transactions suit schema changes.

    On a SQLite file: the driver's own transaction handling is off, so DDL runs inside the
    transaction and a failed upgrade leaves nothing half done; BEGIN IMMEDIATE takes the write
    lock before reading the revision, so a second `kb db upgrade` waits and then has nothing to
    do; and foreign keys stay off, so the table copies of batch ALTERs never cascade deletes.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        yield engine
        return
    migrator = create_engine(engine.url, poolclass=NullPool, connect_args={"timeout": 60})

    @event.listens_for(migrator, "connect")
    def _driver_leaves_transactions_to_us(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(migrator, "begin")
    def _begin_immediate(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        yield migrator
    finally:
        migrator.dispose()


def upgrade(engine: Engine, revision: str = "head") -> Upgrade:
    """Create kb's tables in an empty database, or upgrade them to ``revision``, in one transaction.

    A database that a kb before migrations made (kb's tables, no alembic_version) is first
    brought to the baseline by :mod:`kb.core.migrations.legacy` and stamped with it; rows are kept.
    """
    from alembic import command
    from alembic.util import CommandError

    from kb.core.migrations import legacy
    head()  # inconsistent revisions fail here, before anything is changed
    with migration_engine(engine) as migrator, migrator.begin() as connection:
        lock(connection)
        before = current(connection)
        adopted = None
        if before is None and has_kb_tables(connection):
            adopted = legacy.bring_to_baseline(connection)
            command.stamp(config(connection), baseline.REVISION)
        try:
            command.upgrade(config(connection), revision)
        except CommandError as exc:  # e.g. a revision only a newer kb has
            raise SchemaError(f"cannot upgrade the database: {exc}") from None
        return Upgrade(before, current(connection), adopted)


def compare(engine: Engine) -> list:
    """What kb's models have that the database does not (or the other way): Alembic's diff."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from kb.core import search_tables
    from kb.core.models import Base
    # PostgreSQL also has the postgres search backend's tables (revision 0004, PostgreSQL only).
    targets = [Base.metadata] + ([search_tables.metadata]
                                 if engine.dialect.name == "postgresql" else [])
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), targets)


def autogenerate(message: str) -> Path | None:
    """Write the next revision for what kb/models.py has beyond the last revision (for
    developers; review the file, with its batch ALTERs for SQLite, before committing it).

    The diff is taken against a scratch SQLite database upgraded to the current head, so it
    never depends on the state of anyone's database. Returns None when there is nothing to add.
    """
    from alembic import command
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'head.sqlite3'}")
        try:
            upgrade(engine)
            if not compare(engine):
                return None
            with migration_engine(engine) as migrator, migrator.begin() as connection:
                script = command.revision(config(connection), message=message, autogenerate=True,
                                          rev_id=f"{len(revisions()) + 1:04d}")
        finally:
            engine.dispose()
    for cached in (_scripts, head, revisions):
        cached.cache_clear()
    return Path(script.path)
