"""practice template: period, target groups and reach, funding, challenge, how it works,
results, evaluation, transferability, public contact, languages; a suggestion's status link

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:24:19.657214

Every new field is optional: existing practices get empty values (`kb ingest` then fills in
what the handbook states for its practices, from corpus/practice_facts.toml).
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TEXTS = ('challenge', 'how_it_works', 'results', 'evaluation', 'transferability')


def upgrade() -> None:
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('period_start', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('period_end', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ongoing', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('target_groups', sa.JSON(), server_default='[]',
                                      nullable=False))
        batch_op.add_column(sa.Column('reach', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('funding_source', sa.String(length=300), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('funding_band', sa.String(length=20), server_default='',
                                      nullable=False))
        for name in TEXTS:
            batch_op.add_column(sa.Column(name, sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('public_contact', sa.String(length=300), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('languages', sa.JSON(), server_default='[]',
                                      nullable=False))
        batch_op.add_column(sa.Column('status_token', sa.String(length=64), nullable=True))
        # Named as PostgreSQL would name it, so that the downgrade can drop it on both.
        batch_op.create_unique_constraint('practice_status_token_key', ['status_token'])


def downgrade() -> None:
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.drop_constraint('practice_status_token_key', type_='unique')
        for name in ('status_token', 'languages', 'public_contact', *reversed(TEXTS),
                     'funding_band', 'funding_source', 'reach', 'target_groups', 'ongoing',
                     'period_end', 'period_start'):
            batch_op.drop_column(name)
