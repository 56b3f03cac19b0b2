"""english text: kb's English rendering of the handbook's full texts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:40:00

Columns for the English texts `kb ingest` reads from corpus/handbook_en_text.toml and
corpus/practices_en_text.toml: areas' introductions and benefits, success factors',
checklists', glossary terms' and references' texts, handbook practices' descriptions and
organisations' names. They
start empty; the next `kb ingest` fills them.
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = {
    'area': [('introduction_en', sa.Text(), ''), ('benefits_en', sa.JSON(), '[]')],
    'success_factor': [('description_en', sa.Text(), '')],
    'checklist': [('introduction_en', sa.Text(), ''), ('note_en', sa.Text(), '')],
    'practice': [('text_en', sa.Text(), ''), ('organisation_en', sa.String(length=300), '')],
    'reference': [('title_en', sa.String(length=400), ''), ('description_en', sa.Text(), '')],
    'glossary_term': [('term_en', sa.String(length=200), ''), ('definition_en', sa.Text(), '')],
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_, default in columns:
                batch_op.add_column(sa.Column(name, type_, server_default=default,
                                              nullable=False))


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _type, _default in reversed(columns):
                batch_op.drop_column(name)
