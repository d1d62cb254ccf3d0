"""marketplace directory indexes: offers by (organisation, service, validity), standings by (region, sort key)

The public directory (issue 15) tests, for each standing it walks, whether the intermediary has an offer of
the service valid today: answered from the first index alone. A region's page walks the second in the
directory's order instead of sorting the region's standings.

Revision ID: 1d5b7f9a3c46
Revises: 2f4a6c8e0b19
Create Date: 2026-12-08 00:00:00
"""

from __future__ import annotations

from alembic import op

revision = "1d5b7f9a3c46"
down_revision = "2f4a6c8e0b19"  # chained after the marketplace documents at the merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_marketplace_offers_directory",
        "marketplace_offers",
        ["organisation_id", "service_code", "valid_until"],
        unique=False,
    )
    op.create_index(
        "ix_marketplace_standings_region_sort_key",
        "marketplace_standings",
        ["region", "sort_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_marketplace_standings_region_sort_key", table_name="marketplace_standings")
    op.drop_index("ix_marketplace_offers_directory", table_name="marketplace_offers")
