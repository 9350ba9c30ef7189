"""cases with parties, listings and timelines; case rules; evidence items; notices

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "case_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=300), nullable=True),
        sa.Column("min_risk", sa.Float(), nullable=False),
        sa.Column("verdicts", sa.JSON(), nullable=False),
        sa.Column("group_by", sa.String(length=20), server_default="seller", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        _fk("case_rules", "owner_id", "members.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_rules")),
    )
    with op.batch_alter_table("case_rules") as batch:
        batch.create_index("ix_case_rules_owner_id", ["owner_id"])

    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("owner_id", sa.String(length=100), nullable=False),
        sa.Column("brand", sa.String(length=300), nullable=True),
        sa.Column("platform", sa.String(length=100), nullable=True),
        sa.Column("seller_id", sa.String(length=300), nullable=True),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("opened_by", sa.String(length=320), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("timer", sa.String(length=40), nullable=True),
        sa.Column("due_at", TZ, nullable=True),
        sa.Column("notice_sent_at", TZ, nullable=True),
        sa.Column("actioned_at", TZ, nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        _fk("cases", "owner_id", "members.id"),
        _fk("cases", "rule_id", "case_rules.id", ondelete="SET NULL"),
        _fk("cases", "assignee_id", "users.id", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("reference", name=op.f("uq_cases_reference")),
    )
    with op.batch_alter_table("cases") as batch:
        batch.create_index("ix_cases_owner_state", ["owner_id", "state"])
        batch.create_index("ix_cases_due", ["due_at"])

    op.create_table(
        "case_parties",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        _fk("case_parties", "case_id", "cases.id", ondelete="CASCADE"),
        _fk("case_parties", "member_id", "members.id"),
        sa.PrimaryKeyConstraint("case_id", "member_id", "role", name=op.f("pk_case_parties")),
    )
    with op.batch_alter_table("case_parties") as batch:
        batch.create_index("ix_case_parties_member_id", ["member_id"])

    op.create_table(
        "case_listings",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("listing_pk", sa.Integer(), nullable=False),
        sa.Column("added_at", TZ, nullable=False),
        _fk("case_listings", "case_id", "cases.id", ondelete="CASCADE"),
        _fk("case_listings", "listing_pk", "listings.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "listing_pk", name=op.f("pk_case_listings")),
    )
    with op.batch_alter_table("case_listings") as batch:
        batch.create_index("ix_case_listings_listing_pk", ["listing_pk"])

    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        _fk("case_events", "case_id", "cases.id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    with op.batch_alter_table("case_events") as batch:
        batch.create_index("ix_case_events_case_id", ["case_id"])

    op.create_table(
        "evidence_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("listing_pk", sa.Integer(), nullable=True),
        sa.Column("captured_at", TZ, nullable=False),
        sa.Column("captured_by", sa.String(length=320), nullable=False),
        sa.Column("storage", sa.String(length=10), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.Column("log_entry", sa.LargeBinary(), nullable=True),
        _fk("evidence_items", "case_id", "cases.id", ondelete="CASCADE"),
        _fk("evidence_items", "listing_pk", "listings.id", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_items")),
        sa.UniqueConstraint("case_id", "kind", "sha256", name=op.f("uq_evidence_items_case_id")),
        sa.UniqueConstraint("log_index", name=op.f("uq_evidence_items_log_index")),
    )
    with op.batch_alter_table("evidence_items") as batch:
        batch.create_index("ix_evidence_items_case_id", ["case_id"])
        batch.create_index("ix_evidence_items_sha256", ["sha256"])

    op.create_table(
        "evidence_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_evidence_blobs")),
    )

    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("platform", sa.String(length=100), nullable=False),
        sa.Column("marketplace_id", sa.String(length=100), nullable=True),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("sent_at", TZ, nullable=False),
        sa.Column("sent_by", sa.String(length=320), nullable=False),
        sa.Column("due_at", TZ, nullable=True),
        sa.Column("answered_at", TZ, nullable=True),
        sa.Column("answered_by", sa.String(length=320), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=True),
        sa.Column("counter_notice", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("answer_note", sa.Text(), nullable=True),
        sa.Column("removed", sa.JSON(), nullable=True),
        _fk("notices", "case_id", "cases.id", ondelete="CASCADE"),
        _fk("notices", "marketplace_id", "members.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("reference", name=op.f("uq_notices_reference")),
    )
    with op.batch_alter_table("notices") as batch:
        batch.create_index("ix_notices_case_id", ["case_id"])


def downgrade() -> None:
    for table in (
        "notices",
        "evidence_blobs",
        "evidence_items",
        "case_events",
        "case_listings",
        "case_parties",
        "cases",
        "case_rules",
    ):
        op.drop_table(table)
