"""PostgreSQL search backend: the search_* tables of kb.core.search_tables (PostgreSQL only).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

On SQLite this revision does nothing (the local backend keeps its index in KB_INDEX_DIR). On
PostgreSQL it creates the tables with core types only (tsvector, real[], GIN indexes), so it
runs the same on a server without pgvector; `kb index` with KB_SEARCH_BACKEND=postgres then
creates the extension (where the role may) and the HNSW index for the embedder's dimension.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("search_embedding", "search_passage", "search_term", "search_document", "search_state")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if sa.inspect(bind).has_table("search_state"):
        # All five are made in one transaction: a database that lost its alembic_version and
        # was adopted again (kb.core.migrations.legacy) keeps the ones it has, rows and all.
        return
    state = op.create_table(
        "search_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("build", sa.String(length=64), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("embedder", sa.String(length=200), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("lengths", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("accents", postgresql.JSONB(), nullable=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    # The one row every writer updates (under the change-log writers' lock) and readers read.
    op.bulk_insert(state, [{"id": 1, "build": None, "seq": 0, "format": 0, "embedder": "",
                            "dim": 0, "documents": 0, "lengths": [], "accents": None,
                            "built_at": None}])
    op.create_table(
        "search_document",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("type_order", sa.SmallInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column("facets", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("quality", sa.Float(), nullable=True),
        sa.Column("lexemes", postgresql.TSVECTOR(), nullable=False),
        sa.Column("lengths", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("norms", postgresql.ARRAY(postgresql.REAL()), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_search_document_lexemes", "search_document", ["lexemes"],
                    postgresql_using="gin")
    op.create_index("ix_search_document_facets", "search_document", ["facets"],
                    postgresql_using="gin")
    op.create_index("ix_search_document_listing", "search_document",
                    ["type_order", "position", "record_id"])
    op.create_table(
        "search_term",
        sa.Column("lexeme", sa.Text(), nullable=False),
        sa.Column("df", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("lexeme"),
    )
    op.create_table(
        "search_passage",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("n", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("build", sa.String(length=64), nullable=False),
        sa.Column("facets", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("embedding", postgresql.ARRAY(postgresql.REAL()), nullable=False),
        sa.ForeignKeyConstraint(["key"], ["search_document.key"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", "n"),
    )
    op.create_index("ix_search_passage_facets", "search_passage", ["facets"],
                    postgresql_using="gin")
    op.create_table(
        "search_embedding",
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("model", "digest"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:  # with the HNSW index `kb index` made on search_passage
        op.drop_table(table)
