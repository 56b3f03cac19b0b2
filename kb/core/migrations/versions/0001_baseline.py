"""Baseline: the schema of kb's last release before migrations (commit c71bc86).

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""
from alembic import op

from kb.core.migrations.baseline import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # checkfirst=False: a table already there means the database is not empty, and an empty
    # database is the only one this revision runs on (kb.core.migrations.legacy adopts the others).
    metadata.create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), checkfirst=False)
