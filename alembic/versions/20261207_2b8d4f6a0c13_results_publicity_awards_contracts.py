"""The results' common tables (issue 14): the candidates' publicity (R54), awards (R55), contracts (L46)

Revision ID: 2b8d4f6a0c13
Revises: 9c3f1e6a4b27
Create Date: 2026-12-07 14:53:10.686164
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = '2b8d4f6a0c13'
down_revision = '9c3f1e6a4b27'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('estimate', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=False),
    sa.Column('end_reason_key', sa.String(length=300), nullable=False),
    sa.Column('end_reason_params', sa.JSON(), nullable=False),
    sa.Column('end_note', sa.Text(), nullable=False),
    sa.Column('ended_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('audit_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], name=op.f('fk_awards_bid_id_bids')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_awards_decided_by_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_awards_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_awards_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_awards'))
    )
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_awards_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_awards_tender_id'), ['tender_id'], unique=False)

    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('performance_bond', sa.BigInteger(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('blob_key', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('published_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('audit_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_contracts_award_id_awards')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_contracts_recorded_by_users')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_contracts_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('award_id', name=op.f('uq_contracts_award_id'))
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contracts_tender_id'), ['tender_id'], unique=False)

    op.create_table('publicities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('published_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('audit_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['evaluation_reports.id'], name=op.f('fk_publicities_report_id_evaluation_reports')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_publicities_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publicities')),
    sa.UniqueConstraint('tender_id', name=op.f('uq_publicities_tender_id'))
    )


def downgrade() -> None:
    op.drop_table('publicities')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contracts_tender_id'))

    op.drop_table('contracts')
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_awards_tender_id'))
        batch_op.drop_index(batch_op.f('ix_awards_organisation_id'))

    op.drop_table('awards')
