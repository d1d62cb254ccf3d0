"""OCDS open data (issue 14): the releases published, in feed order, and the sync's state (opendata/models.py)

Revision ID: 5c3d7e9f1a24
Revises: 8f6a0b2c4d57
Create Date: 2026-12-07 15:01:00.086508
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = '5c3d7e9f1a24'
down_revision = '8f6a0b2c4d57'  # chained after the workbenches' at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ocds_releases',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('release_id', sa.String(length=200), nullable=False),
    sa.Column('ocid', sa.String(length=120), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=60), nullable=False),
    sa.Column('date', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('audit_index', sa.BigInteger(), nullable=True),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('published_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_ocds_releases')),
    sa.UniqueConstraint('release_id', name=op.f('uq_ocds_releases_release_id'))
    )
    with op.batch_alter_table('ocds_releases', schema=None) as batch_op:
        batch_op.create_index('ix_ocds_releases_ocid_seq', ['ocid', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_ocds_releases_tender_id'), ['tender_id'], unique=False)

    op.create_table('ocds_sync_state',
    sa.Column('tender_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('synced_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tender_id', name=op.f('pk_ocds_sync_state'))
    )



def downgrade() -> None:
    op.drop_table('ocds_sync_state')
    with op.batch_alter_table('ocds_releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ocds_releases_tender_id'))
        batch_op.drop_index('ix_ocds_releases_ocid_seq')

    op.drop_table('ocds_releases')
