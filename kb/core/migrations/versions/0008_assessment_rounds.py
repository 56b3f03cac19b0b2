"""assessment rounds, teams and share links; the assessment table; criteria in English

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:25:04.387114

Assessments gain rounds (a follow-up links to the round before it), a revocable read-only
share token, team membership and a change log (what each save changed, so that a stale PATCH
is told); `quality_check` keeps practitioners' own scorings on the quality criteria; checklist
items say which organisation types they do not apply to, and the criteria gain English wording
and what each guiding question is about (both filled by the next `kb ingest`). Constraints are
named as PostgreSQL would name them, so that the downgrade drops them on both databases.
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quality_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('practice_id', sa.String(length=160), nullable=True),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('quality_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_check_practice_id'), ['practice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_check_token'), ['token'], unique=True)

    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('round', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('share_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('member_name', sa.String(length=100), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_assessment_previous_id'), ['previous_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_team_id'), ['team_id'], unique=False)
        batch_op.create_unique_constraint('assessment_share_token_key', ['share_token'])
        batch_op.create_foreign_key('assessment_team_id_fkey', 'assessment', ['team_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key('assessment_previous_id_fkey', 'assessment', ['previous_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('guiding_question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_en', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('activities', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('needs', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('success_factors', sa.JSON(), server_default='[]', nullable=False))

    with op.batch_alter_table('quality_domain', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_en', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('guidance', sa.JSON(), server_default='[]', nullable=False))

    with op.batch_alter_table('quality_indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_en', sa.Text(), server_default='', nullable=False))

    with op.batch_alter_table('checklist_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_applicable_to', sa.JSON(), server_default='[]',
                                      nullable=False))

    op.create_table('assessment_change',
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assessment_id', 'version')
    )



def downgrade() -> None:
    op.drop_table('assessment_change')
    with op.batch_alter_table('checklist_item', schema=None) as batch_op:
        batch_op.drop_column('not_applicable_to')

    with op.batch_alter_table('quality_indicator', schema=None) as batch_op:
        batch_op.drop_column('text_en')

    with op.batch_alter_table('quality_domain', schema=None) as batch_op:
        batch_op.drop_column('guidance')
        batch_op.drop_column('name_en')

    with op.batch_alter_table('guiding_question', schema=None) as batch_op:
        batch_op.drop_column('success_factors')
        batch_op.drop_column('needs')
        batch_op.drop_column('activities')
        batch_op.drop_column('text_en')

    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_constraint('assessment_previous_id_fkey', type_='foreignkey')
        batch_op.drop_constraint('assessment_team_id_fkey', type_='foreignkey')
        batch_op.drop_constraint('assessment_share_token_key', type_='unique')
        batch_op.drop_index(batch_op.f('ix_assessment_team_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_previous_id'))
        batch_op.drop_column('member_name')
        batch_op.drop_column('team_id')
        batch_op.drop_column('share_token')
        batch_op.drop_column('round')
        batch_op.drop_column('previous_id')

    with op.batch_alter_table('quality_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_check_token'))
        batch_op.drop_index(batch_op.f('ix_quality_check_practice_id'))

    op.drop_table('quality_check')
