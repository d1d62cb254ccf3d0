"""A tender's end reason given by the platform as a message key with parameters (issue 16)

Revision ID: d4f6a8b0c2e1
Revises: c7d1e4a9b263
Create Date: 2026-12-04 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'd4f6a8b0c2e1'
down_revision = 'c7d1e4a9b263'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_reason_key', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('end_reason_params', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.drop_column('end_reason_params')
        batch_op.drop_column('end_reason_key')
