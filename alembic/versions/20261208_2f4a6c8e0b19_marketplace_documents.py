"""marketplace documents: the contract's and the service result's files; a purchase's excluded intermediaries

Revision ID: 2f4a6c8e0b19
Revises: 7e1f3a5b9c20
Create Date: 2026-12-07 23:37:23.576468
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = "2f4a6c8e0b19"
down_revision = "7e1f3a5b9c20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "marketplace_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_marketplace_documents_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["marketplace_purchases.id"],
            name=op.f("fk_marketplace_documents_purchase_id_marketplace_purchases"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_marketplace_documents_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_documents")),
    )
    with op.batch_alter_table("marketplace_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_marketplace_documents_purchase_id"), ["purchase_id"], unique=False
        )

    # the purchases' exclusions: every purchase posted before had none (marketplace_purchases is not a guarded
    # table: no retention trigger to re-create after SQLite's rebuild)
    with op.batch_alter_table("marketplace_purchases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("excluded", sa.JSON(), nullable=True))
    op.execute("UPDATE marketplace_purchases SET excluded = '[]'")
    with op.batch_alter_table("marketplace_purchases", schema=None) as batch_op:
        batch_op.alter_column("excluded", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("marketplace_purchases", schema=None) as batch_op:
        batch_op.drop_column("excluded")
    with op.batch_alter_table("marketplace_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_marketplace_documents_purchase_id"))

    op.drop_table("marketplace_documents")
