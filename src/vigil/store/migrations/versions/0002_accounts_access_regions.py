"""people, sessions, API keys, listing access, resolved regions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 06:20:35.425831
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_users_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_member_id"), ["member_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=24), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "listing_access",
        sa.Column("listing_pk", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("review", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("reviewed_by", sa.String(length=320), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["listing_pk"],
            ["listings.id"],
            name=op.f("fk_listing_access_listing_pk_listings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_listing_access_member_id_members")
        ),
        sa.PrimaryKeyConstraint("listing_pk", "member_id", name=op.f("pk_listing_access")),
    )
    with op.batch_alter_table("listing_access", schema=None) as batch_op:
        batch_op.create_index(
            "ix_listing_access_member_review", ["member_id", "review"], unique=False
        )

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_events_member_id"), ["member_id"], unique=False)

    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("province_code", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("city_code", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("county_code", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("area", sa.String(length=10), nullable=True))
        batch_op.alter_column("scan_id", existing_type=sa.VARCHAR(length=40), nullable=True)
        batch_op.create_index("ix_listings_scanned_at", ["scanned_at"], unique=False)

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), server_default="1", nullable=False))

    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("total", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("done", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(batch_op.f("ix_scans_member_id"), ["member_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_scans_member_id_members"), "members", ["member_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_scans_member_id_members"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_scans_member_id"))
        batch_op.drop_column("done")
        batch_op.drop_column("total")
        batch_op.drop_column("member_id")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("active")

    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index("ix_listings_scanned_at")
        batch_op.alter_column("scan_id", existing_type=sa.VARCHAR(length=40), nullable=False)
        batch_op.drop_column("area")
        batch_op.drop_column("county_code")
        batch_op.drop_column("city_code")
        batch_op.drop_column("province_code")

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_member_id"))
        batch_op.drop_column("source")
        batch_op.drop_column("member_id")

    with op.batch_alter_table("listing_access", schema=None) as batch_op:
        batch_op.drop_index("ix_listing_access_member_review")

    op.drop_table("listing_access")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))

    op.drop_table("web_sessions")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_user_id"))

    op.drop_table("api_keys")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_member_id"))

    op.drop_table("users")
