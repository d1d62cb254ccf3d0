"""draw contributions (etender-draw-2): each party's committed and revealed value, and when and why a draw ended
without a committee (failed, abandoned)

Revision ID: 3c8e1f0a9b42
Revises: 7d2e5a91c4b0
Create Date: 2026-12-03 16:43:45.927762
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = '3c8e1f0a9b42'
down_revision = '7d2e5a91c4b0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('draw_contributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=True),
    sa.Column('value', sa.String(length=64), nullable=True),
    sa.Column('committed_entry', sa.Integer(), nullable=True),
    sa.Column('revealed_entry', sa.Integer(), nullable=True),
    sa.Column('committed_by', sa.Integer(), nullable=True),
    sa.Column('revealed_by', sa.Integer(), nullable=True),
    sa.Column('committed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revealed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['committed_by'], ['users.id'], name=op.f('fk_draw_contributions_committed_by_users')),
    sa.ForeignKeyConstraint(['draw_id'], ['expert_draws.id'], name=op.f('fk_draw_contributions_draw_id_expert_draws'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_draw_contributions_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['revealed_by'], ['users.id'], name=op.f('fk_draw_contributions_revealed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draw_contributions')),
    sa.UniqueConstraint('draw_id', 'party', name=op.f('uq_draw_contributions_draw_id_party'))
    )
    with op.batch_alter_table('draw_contributions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draw_contributions_draw_id'), ['draw_id'], unique=False)

    with op.batch_alter_table('expert_draws', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', core.db.UTCDateTime(timezone=True), nullable=True))
        # the draws made before keep an empty note
        batch_op.add_column(sa.Column('end_note', sa.Text(), nullable=False, server_default=''))



def downgrade() -> None:
    with op.batch_alter_table('expert_draws', schema=None) as batch_op:
        batch_op.drop_column('end_note')
        batch_op.drop_column('ended_at')

    with op.batch_alter_table('draw_contributions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draw_contributions_draw_id'))

    op.drop_table('draw_contributions')
