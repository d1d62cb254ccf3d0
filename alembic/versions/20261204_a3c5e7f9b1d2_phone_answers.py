"""Drawn experts' answers taken by the centre's phone call (issue 16)

Revision ID: a3c5e7f9b1d2
Revises: 9e1d4c7a2b60
Create Date: 2026-12-04 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = 'a3c5e7f9b1d2'
down_revision = '9e1d4c7a2b60'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('draw_phone_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('called_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('spoke_with', sa.String(length=100), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_draw_phone_answers_recorded_by_users')),
    sa.ForeignKeyConstraint(['seat_id'], ['draw_seats.id'], name=op.f('fk_draw_phone_answers_seat_id_draw_seats'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draw_phone_answers'))
    )
    with op.batch_alter_table('draw_phone_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draw_phone_answers_seat_id'), ['seat_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('draw_phone_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draw_phone_answers_seat_id'))
    op.drop_table('draw_phone_answers')
