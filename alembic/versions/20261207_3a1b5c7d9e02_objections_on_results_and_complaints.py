"""Objections on results (R54) and complaints to the supervisor (R60, R61), issue 14

Revision ID: 3a1b5c7d9e02
Revises: 6d4e8f0a2b35
Create Date: 2026-12-07 15:02:46.280528
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = '3a1b5c7d9e02'
down_revision = '6d4e8f0a2b35'  # chained after the archive's retention guard at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('raised_by', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('matter', sa.String(length=20), nullable=False),
    sa.Column('objection_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('known_on', sa.Date(), nullable=False),
    sa.Column('received_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('acceptance_due', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acceptance_note', sa.Text(), nullable=False),
    sa.Column('decision_due', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('remedy', sa.String(length=20), nullable=False),
    sa.Column('dropped_bid', sa.Integer(), nullable=True),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('audit_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_complaints_decided_by_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_complaints_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['raised_by'], ['users.id'], name=op.f('fk_complaints_raised_by_users')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_complaints_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_tender_id'), ['tender_id'], unique=False)

    op.create_table('result_objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('publicity_id', sa.Integer(), nullable=False),
    sa.Column('raised_by', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('raised_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answer_due', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('audit_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], name=op.f('fk_result_objections_answered_by_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_result_objections_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['publicity_id'], ['publicities.id'], name=op.f('fk_result_objections_publicity_id_publicities')),
    sa.ForeignKeyConstraint(['raised_by'], ['users.id'], name=op.f('fk_result_objections_raised_by_users')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_result_objections_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result_objections'))
    )
    with op.batch_alter_table('result_objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_objections_answer_due'), ['answer_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_result_objections_publicity_id'), ['publicity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_result_objections_tender_id'), ['tender_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('result_objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_objections_tender_id'))
        batch_op.drop_index(batch_op.f('ix_result_objections_publicity_id'))
        batch_op.drop_index(batch_op.f('ix_result_objections_answer_due'))

    op.drop_table('result_objections')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_tender_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_status'))

    op.drop_table('complaints')
