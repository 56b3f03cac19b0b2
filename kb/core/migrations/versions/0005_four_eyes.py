"""four eyes: revisions of published practices, correction notes, hidden handbook practices

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:32:00.852947

A handbook practice that is not published when this revision runs was unpublished by a curator
before only admins could hide one: it becomes hidden (with a reason saying so, and a line in its
change log), so `kb ingest`, which now publishes every handbook practice that is not hidden,
does not bring it back unasked. An admin can show it again.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

LEGACY_REASON = ("unpublished before handbook practices could only be hidden by an admin; "
                 "kept hidden by the upgrade")


def upgrade() -> None:
    op.create_table('practice_revision',
    sa.Column('practice_id', sa.String(length=160), nullable=False),
    sa.Column('proposed_by', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('proposed', sa.JSON(), nullable=False),
    sa.Column('base', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by'], ['curator.id'], ),
    sa.PrimaryKeyConstraint('practice_id')
    )
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correction_note', sa.Text(), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hidden_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('hidden_reason', sa.Text(), server_default='',
                                      nullable=False))
        # Named as PostgreSQL would name it, so that the downgrade can drop it on both.
        batch_op.create_foreign_key('practice_hidden_by_fkey', 'curator', ['hidden_by'], ['id'])
    _hide_unpublished_handbook_practices()


def _hide_unpublished_handbook_practices() -> None:
    practice = sa.table('practice', sa.column('id', sa.String), sa.column('source', sa.String),
                        sa.column('status', sa.String), sa.column('hidden_at', sa.DateTime),
                        sa.column('hidden_reason', sa.Text))
    change = sa.table('practice_change', sa.column('practice_id', sa.String),
                      sa.column('curator_id', sa.Integer), sa.column('at', sa.DateTime),
                      sa.column('action', sa.String), sa.column('fields', sa.JSON),
                      sa.column('reason', sa.Text))
    connection = op.get_bind()
    now = datetime.now(timezone.utc)
    unpublished = connection.execute(sa.select(practice.c.id, practice.c.status).where(
        practice.c.source == 'handbook', practice.c.status != 'published')).all()
    for practice_id, status in unpublished:
        connection.execute(practice.update().where(practice.c.id == practice_id).values(
            status='hidden', hidden_at=now, hidden_reason=LEGACY_REASON))
        connection.execute(change.insert().values(
            practice_id=practice_id, curator_id=None, at=now, action='hidden',
            fields={'status': [status, 'hidden']}, reason=LEGACY_REASON))


def downgrade() -> None:
    op.execute("UPDATE practice SET status = 'rejected' WHERE status = 'hidden'")
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.drop_constraint('practice_hidden_by_fkey', type_='foreignkey')
        batch_op.drop_column('hidden_reason')
        batch_op.drop_column('hidden_by')
        batch_op.drop_column('hidden_at')
        batch_op.drop_column('correction_note')

    op.drop_table('practice_revision')
