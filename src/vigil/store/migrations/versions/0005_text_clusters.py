"""copy-paste clusters of listing descriptions, and their member listings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_clusters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scan_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("listings", sa.Integer(), nullable=False),
        sa.Column("sellers", sa.Integer(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("sample", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["scans.id"], name=op.f("fk_text_clusters_scan_id_scans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_clusters")),
        sa.UniqueConstraint("scan_id", "key", name=op.f("uq_text_clusters_scan_id")),
    )
    with op.batch_alter_table("text_clusters") as batch:
        batch.create_index("ix_text_clusters_key", ["key"])

    op.create_table(
        "text_cluster_members",
        sa.Column("cluster_pk", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=100), nullable=False),
        sa.Column("listing_id", sa.String(length=300), nullable=False),
        sa.Column("seller_id", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["cluster_pk"],
            ["text_clusters.id"],
            name=op.f("fk_text_cluster_members_cluster_pk_text_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "cluster_pk", "platform", "listing_id", name=op.f("pk_text_cluster_members")
        ),
    )
    with op.batch_alter_table("text_cluster_members") as batch:
        batch.create_index("ix_text_cluster_members_listing", ["platform", "listing_id"])


def downgrade() -> None:
    with op.batch_alter_table("text_cluster_members") as batch:
        batch.drop_index("ix_text_cluster_members_listing")
    op.drop_table("text_cluster_members")
    with op.batch_alter_table("text_clusters") as batch:
        batch.drop_index("ix_text_clusters_key")
    op.drop_table("text_clusters")
