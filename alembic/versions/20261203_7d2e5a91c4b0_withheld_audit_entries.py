"""withheld audit entries: an entry's salt, the fact it is withheld as, and when it was released

Revision ID: 7d2e5a91c4b0
Revises: 7d2e9a41c3b5
Create Date: 2026-12-03 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = '7d2e5a91c4b0'
down_revision = '7d2e9a41c3b5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: the entries written before keep NULL and their bytes have no salt key, so they verify as before.
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('salt', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('withheld', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('released_at', core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_entries_withheld'), ['withheld'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_withheld'))
        batch_op.drop_column('released_at')
        batch_op.drop_column('withheld')
        batch_op.drop_column('salt')
