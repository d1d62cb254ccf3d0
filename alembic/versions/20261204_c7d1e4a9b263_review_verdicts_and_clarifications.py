"""The qualification and compliance review (issue 13): members' verdicts and the committee's clarification requests

Revision ID: c7d1e4a9b263
Revises: 5e1c7a93d2f0
Create Date: 2026-12-04 18:46:18.219716
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = 'c7d1e4a9b263'
down_revision = '5e1c7a93d2f0'  # chained after the marketplace at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_clarifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('opened_bid_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('low_price', sa.Boolean(), nullable=False),
    sa.Column('asked_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('asked_by_seat_id', sa.Integer(), nullable=False),
    sa.Column('deadline', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('no_substance_change', sa.Boolean(), nullable=False),
    sa.Column('answered_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('assessment', sa.String(length=20), nullable=False),
    sa.Column('assessment_reason', sa.Text(), nullable=False),
    sa.Column('assessed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('assessed_by_seat_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], name=op.f('fk_review_clarifications_answered_by_users')),
    sa.ForeignKeyConstraint(['asked_by_seat_id'], ['draw_seats.id'], name=op.f('fk_review_clarifications_asked_by_seat_id_draw_seats')),
    sa.ForeignKeyConstraint(['assessed_by_seat_id'], ['draw_seats.id'], name=op.f('fk_review_clarifications_assessed_by_seat_id_draw_seats')),
    sa.ForeignKeyConstraint(['opened_bid_id'], ['opened_bids.id'], name=op.f('fk_review_clarifications_opened_bid_id_opened_bids')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_review_clarifications_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['session_id'], ['evaluation_sessions.id'], name=op.f('fk_review_clarifications_session_id_evaluation_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_review_clarifications_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_clarifications'))
    )
    with op.batch_alter_table('review_clarifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_clarifications_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_clarifications_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_clarifications_tender_id'), ['tender_id'], unique=False)

    op.create_table('review_verdicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.Integer(), nullable=False),
    sa.Column('attendance_id', sa.Integer(), nullable=False),
    sa.Column('opened_bid_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('criterion_index', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.Text(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('ground', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('entered_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attendance_id'], ['evaluation_attendances.id'], name=op.f('fk_review_verdicts_attendance_id_evaluation_attendances')),
    sa.ForeignKeyConstraint(['opened_bid_id'], ['opened_bids.id'], name=op.f('fk_review_verdicts_opened_bid_id_opened_bids')),
    sa.ForeignKeyConstraint(['seat_id'], ['draw_seats.id'], name=op.f('fk_review_verdicts_seat_id_draw_seats')),
    sa.ForeignKeyConstraint(['session_id'], ['evaluation_sessions.id'], name=op.f('fk_review_verdicts_session_id_evaluation_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_verdicts')),
    sa.UniqueConstraint('session_id', 'seat_id', 'opened_bid_id', 'kind', 'criterion_index', name='uq_review_verdict')
    )
    with op.batch_alter_table('review_verdicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_verdicts_session_id'), ['session_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review_verdicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_verdicts_session_id'))

    op.drop_table('review_verdicts')
    with op.batch_alter_table('review_clarifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_clarifications_tender_id'))
        batch_op.drop_index(batch_op.f('ix_review_clarifications_session_id'))
        batch_op.drop_index(batch_op.f('ix_review_clarifications_organisation_id'))

    op.drop_table('review_clarifications')
