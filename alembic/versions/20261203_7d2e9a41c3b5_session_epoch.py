"""users.session_epoch: a password change ends the user's other sessions

Revision ID: 7d2e9a41c3b5
Revises: 7d2e91b4c0aa
Create Date: 2026-12-03 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '7d2e9a41c3b5'
down_revision = "7d2e91b4c0aa"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # every existing session carries no epoch, read as 0: it stays valid until the password changes
    op.add_column('users', sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('session_epoch')
