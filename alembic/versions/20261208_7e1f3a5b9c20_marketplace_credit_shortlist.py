"""marketplace credit shortlist (信用择优): the scores frozen at sign-up close and the owner's choice

Revision ID: 7e1f3a5b9c20
Revises: 4b2c6d8e0f13
Create Date: 2026-12-08 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = "7e1f3a5b9c20"
down_revision = "4b2c6d8e0f13"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # marketplace_selections is not a guarded table (no retention trigger to re-create after SQLite's rebuild)
    with op.batch_alter_table("marketplace_selections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credit_frozen", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("chosen_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("chosen_at", core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_marketplace_selections_chosen_by_users"), "users", ["chosen_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("marketplace_selections", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_marketplace_selections_chosen_by_users"), type_="foreignkey")
        batch_op.drop_column("chosen_at")
        batch_op.drop_column("chosen_by")
        batch_op.drop_column("credit_frozen")
