"""indexes for the dashboard, the queue's orders and members' grants; the seller's name

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 07:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The dashboard groups a period's listings by these columns; with all of them in the index
# SQLite answers from the index alone instead of fetching each row (3x faster at 100k).
DASHBOARD = [
    "scanned_at", "verdict", "platform", "brand", "category", "province_code", "area", "region",
    "seller_id", "risk",
]  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("listings") as batch:
        batch.add_column(sa.Column("seller_name", sa.String(length=300), nullable=True))
        batch.drop_index("ix_listings_verdict_risk")
        batch.create_index("ix_listings_verdict_risk", ["verdict", "risk", "id"])
        batch.drop_index("ix_listings_scanned_at")
        batch.create_index("ix_listings_dashboard", DASHBOARD)
        batch.create_index("ix_listings_price", ["price"])
    with op.batch_alter_table("listing_access") as batch:
        # The member's grants in listing order, by review state: a member's visible set and
        # its confirmed/dismissed filters read only this index.
        batch.drop_index("ix_listing_access_member_review")
        batch.create_index("ix_listing_access_member_review", ["member_id", "review", "listing_pk"])


def downgrade() -> None:
    with op.batch_alter_table("listing_access") as batch:
        batch.drop_index("ix_listing_access_member_review")
        batch.create_index("ix_listing_access_member_review", ["member_id", "review"])
    with op.batch_alter_table("listings") as batch:
        batch.drop_index("ix_listings_price")
        batch.drop_index("ix_listings_dashboard")
        batch.create_index("ix_listings_scanned_at", ["scanned_at"])
        batch.drop_index("ix_listings_verdict_risk")
        batch.create_index("ix_listings_verdict_risk", ["verdict", "risk"])
        batch.drop_column("seller_name")
