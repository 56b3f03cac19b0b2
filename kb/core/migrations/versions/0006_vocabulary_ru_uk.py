"""Russian and Ukrainian labels, keywords and descriptions of the needs and activities

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:50:00

Empty until the next `kb ingest` reads them from corpus/needs.toml and corpus/activities.toml.
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

COLUMNS = {
    'need': (('label_ru', sa.String(length=120)), ('label_uk', sa.String(length=120)),
             ('keywords_ru', sa.Text()), ('keywords_uk', sa.Text())),
    'activity': (('label_ru', sa.String(length=120)), ('label_uk', sa.String(length=120)),
                 ('about_ru', sa.Text()), ('about_uk', sa.Text())),
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, kind in columns:
                batch_op.add_column(sa.Column(name, kind, server_default='', nullable=False))


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in reversed(columns):
                batch_op.drop_column(name)
