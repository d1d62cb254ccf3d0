"""The evaluation report (issue 13, R53): the frozen document and its hash, the members' keys and signatures

Revision ID: 9c3f1e6a4b27
Revises: d4f6a8b0c2e1
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = '9c3f1e6a4b27'
down_revision = 'd4f6a8b0c2e1'  # chained after the tender's end reason at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evaluation_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('generated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('generated_by_seat_id', sa.Integer(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('audit_index', sa.Integer(), nullable=False),
    sa.Column('deadline', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['generated_by_seat_id'], ['draw_seats.id'], name=op.f('fk_evaluation_reports_generated_by_seat_id_draw_seats')),
    sa.ForeignKeyConstraint(['session_id'], ['evaluation_sessions.id'], name=op.f('fk_evaluation_reports_session_id_evaluation_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_evaluation_reports_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_reports')),
    sa.UniqueConstraint('session_id', name=op.f('uq_evaluation_reports_session_id'))
    )
    with op.batch_alter_table('evaluation_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_reports_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_reports_tender_id'), ['tender_id'], unique=False)

    op.create_table('evaluation_report_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('registered_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('audit_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seat_id'], ['draw_seats.id'], name=op.f('fk_evaluation_report_keys_seat_id_draw_seats')),
    sa.ForeignKeyConstraint(['session_id'], ['evaluation_sessions.id'], name=op.f('fk_evaluation_report_keys_session_id_evaluation_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_report_keys')),
    sa.UniqueConstraint('session_id', 'seat_id', name='uq_evaluation_report_key_seat')
    )
    with op.batch_alter_table('evaluation_report_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_report_keys_session_id'), ['session_id'], unique=False)

    op.create_table('evaluation_report_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=True),
    sa.Column('signature', sa.String(length=128), nullable=True),
    sa.Column('dissent', sa.Text(), nullable=False),
    sa.Column('signed_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('audit_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['evaluation_reports.id'], name=op.f('fk_evaluation_report_signatures_report_id_evaluation_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seat_id'], ['draw_seats.id'], name=op.f('fk_evaluation_report_signatures_seat_id_draw_seats')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_report_signatures')),
    sa.UniqueConstraint('report_id', 'seat_id', name='uq_evaluation_report_signature_seat')
    )
    with op.batch_alter_table('evaluation_report_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_report_signatures_report_id'), ['report_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evaluation_report_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_report_signatures_report_id'))
    op.drop_table('evaluation_report_signatures')
    with op.batch_alter_table('evaluation_report_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_report_keys_session_id'))
    op.drop_table('evaluation_report_keys')
    with op.batch_alter_table('evaluation_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_reports_tender_id'))
        batch_op.drop_index(batch_op.f('ix_evaluation_reports_completed_at'))
    op.drop_table('evaluation_reports')
