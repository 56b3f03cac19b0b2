"""Alembic's environment for kb: runs the revisions on the connection kb.core.migrations hands over.

kb.core.migrations.upgrade opens that connection inside one transaction, so a failed upgrade changes
nothing (PostgreSQL and, through kb.core.migrations.migration_engine, SQLite).
"""
from alembic import context

from kb.core.migrations import lock
from kb.core.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("kb's migrations run through `kb db upgrade` (kb.core.migrations.upgrade), "
                       "which hands Alembic its connection; there is no alembic.ini")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things: batch ops copy the table instead
    compare_type=True,
)
lock(connection)  # two `kb db upgrade` at once: the second waits, then finds nothing to do
with context.begin_transaction():
    context.run_migrations()
