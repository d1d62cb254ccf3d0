"""The award's own tables (issue 14): signed award and result notices (L45), bid securities (R35, R57), and
the re-tender link on tenders (R44, L42, R55)

Revision ID: 4b2c6d8e0f13
Revises: 2b8d4f6a0c13
Create Date: 2026-12-07 15:04:03.609599
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = "4b2c6d8e0f13"
down_revision = "9a7b1c3d5e68"  # chained at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bid_securities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tender_id", sa.Integer(), nullable=False),
        sa.Column("bid_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refund_due", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refund_reference", sa.String(length=100), nullable=False),
        sa.Column("forfeit_reason_key", sa.String(length=300), nullable=False),
        sa.Column("forfeit_note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("audit_index", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["bid_id"], ["bids.id"], name=op.f("fk_bid_securities_bid_id_bids")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_bid_securities_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_bid_securities_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["tenders.id"], name=op.f("fk_bid_securities_tender_id_tenders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bid_securities")),
        sa.UniqueConstraint("bid_id", name=op.f("uq_bid_securities_bid_id")),
    )
    with op.batch_alter_table("bid_securities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bid_securities_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_bid_securities_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_bid_securities_tender_id"), ["tender_id"], unique=False)

    op.create_table(
        "award_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=False),
        sa.Column("tender_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("signer", sa.String(length=300), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["award_id"], ["awards.id"], name=op.f("fk_award_notices_award_id_awards")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_award_notices_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"], ["tenders.id"], name=op.f("fk_award_notices_tender_id_tenders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_notices")),
        sa.UniqueConstraint("number", name=op.f("uq_award_notices_number")),
    )
    with op.batch_alter_table("award_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_award_notices_award_id"), ["award_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_award_notices_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_award_notices_tender_id"), ["tender_id"], unique=False)

    with op.batch_alter_table("tenders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retender_of_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("retender_reason_key", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.create_index(batch_op.f("ix_tenders_retender_of_id"), ["retender_of_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_tenders_retender_of_id_tenders"), "tenders", ["retender_of_id"], ["id"]
        )
    _keep_tenders()


def _keep_tenders() -> None:
    """SQLite's batch mode rebuilds the tenders table, which drops its retention trigger (alembic
    6d4e8f0a2b35): made again as that migration made it. PostgreSQL alters the table in place."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS etender_keep_tenders")
    op.execute(
        "CREATE TRIGGER etender_keep_tenders BEFORE DELETE ON tenders BEGIN SELECT RAISE(ABORT, "
        "'etender: tenders rows are never deleted (records are kept at least 15 years: E49)'); END"
    )


def downgrade() -> None:
    with op.batch_alter_table("tenders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tenders_retender_of_id_tenders"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_tenders_retender_of_id"))
        batch_op.drop_column("retender_reason_key")
        batch_op.drop_column("retender_of_id")
    _keep_tenders()

    with op.batch_alter_table("award_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_award_notices_tender_id"))
        batch_op.drop_index(batch_op.f("ix_award_notices_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_award_notices_award_id"))

    op.drop_table("award_notices")
    with op.batch_alter_table("bid_securities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bid_securities_tender_id"))
        batch_op.drop_index(batch_op.f("ix_bid_securities_status"))
        batch_op.drop_index(batch_op.f("ix_bid_securities_organisation_id"))

    op.drop_table("bid_securities")
