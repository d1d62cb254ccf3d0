"""indexes for reused sealed bids (R40)

A sealed file (its SHA-256) or a header bid id already used on a tender by another company is refused at
submission: the lookup goes by these two indexes.

Revision ID: 7d2e91b4c0aa
Revises: 1b6331ba26e4
Create Date: 2026-12-03 12:40:00.000000
"""

from __future__ import annotations

from alembic import op


revision = '7d2e91b4c0aa'
down_revision = '1b6331ba26e4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.create_index('ix_bids_tender_blob_key', ['tender_id', 'blob_key'], unique=False)
        batch_op.create_index('ix_bids_tender_sealed_bid_id', ['tender_id', 'sealed_bid_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.drop_index('ix_bids_tender_sealed_bid_id')
        batch_op.drop_index('ix_bids_tender_blob_key')
