"""Notifications stored as a message key with its parameters (issue 16): rendered in the reader's language

Revision ID: 9e1d4c7a2b60
Revises: 5b7e0c3d2a18
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '9e1d4c7a2b60'
down_revision = '5b7e0c3d2a18'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # earlier notifications hold their title as text: with no parameters it is shown as it was written
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('params')
