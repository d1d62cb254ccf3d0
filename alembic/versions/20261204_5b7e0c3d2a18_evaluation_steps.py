"""The committee's steps (issue 13): each closed once by the chair, with its outcome

Revision ID: 5b7e0c3d2a18
Revises: 8a41c2e7f913
Create Date: 2026-12-04 18:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = '5b7e0c3d2a18'
down_revision = '8a41c2e7f913'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evaluation_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('closed_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_by_seat_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['closed_by_seat_id'], ['draw_seats.id'], name=op.f('fk_evaluation_steps_closed_by_seat_id_draw_seats')),
    sa.ForeignKeyConstraint(['session_id'], ['evaluation_sessions.id'], name=op.f('fk_evaluation_steps_session_id_evaluation_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_steps')),
    sa.UniqueConstraint('session_id', 'step', name='uq_evaluation_step')
    )
    with op.batch_alter_table('evaluation_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_steps_session_id'), ['session_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evaluation_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_steps_session_id'))
    op.drop_table('evaluation_steps')
