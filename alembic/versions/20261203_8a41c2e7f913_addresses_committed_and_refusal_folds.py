"""audit entries commit to their network address by a salted digest; folded refused attempts

Revision ID: 8a41c2e7f913
Revises: 4c442ad6175e
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = "8a41c2e7f913"
down_revision = "4c442ad6175e"  # chained after the evaluation room at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for every entry written before: its bytes hold the address itself (docs/audit-log.md)
    op.add_column("audit_entries", sa.Column("address", sa.String(length=64), nullable=True))
    op.add_column("audit_entries", sa.Column("address_salt", sa.String(length=32), nullable=True))
    op.create_table(
        "audit_refusal_folds",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("conceal_actor", sa.Boolean(), nullable=False),
        sa.Column("withhold", sa.String(length=20), nullable=True),
        sa.Column("first_index", sa.Integer(), nullable=False),
        sa.Column("started_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_repeat_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_audit_refusal_folds")),
    )
    op.create_index(
        op.f("ix_audit_refusal_folds_started_at"), "audit_refusal_folds", ["started_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_refusal_folds_started_at"), table_name="audit_refusal_folds")
    op.drop_table("audit_refusal_folds")
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.drop_column("address_salt")
        batch_op.drop_column("address")
