"""Tables of the relational store. Schema changes ship as migrations in `migrations/versions`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, overload

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """A stored time in UTC: SQLite hands times back without their zone, and every time Vigil
    stores was written in UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class MemberRow(Base):
    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30))
    # Admitted members are active; a suspended member's users cannot sign in.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UserRow(Base):
    """A person who signs in; belongs to one member and has one role there."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebSessionRow(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ApiKeyRow(Base):
    """A user's API key: shown once, stored as SHA-256 of its secret, scoped, revocable."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(24), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class BrandRow(Base):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    # The rest of the registry entry (aliases, marks, logos, sellers...) as its JSON form.
    entry: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuthorizedSellerRow(Base):
    __tablename__ = "authorized_sellers"
    __table_args__ = (UniqueConstraint("brand_id", "platform", "seller_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(100))
    seller_id: Mapped[str] = mapped_column(String(300))


class ProductRow(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("brand_id", "model"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(300))
    entry: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WorkRow(Base):
    __tablename__ = "works"
    __table_args__ = (UniqueConstraint("owner_id", "title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    title: Mapped[str] = mapped_column(String(500))
    entry: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LexiconTermRow(Base):
    __tablename__ = "lexicon_terms"

    term: Mapped[str] = mapped_column(String(200), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    lang: Mapped[str | None] = mapped_column(String(20), nullable=True)


class ScanRow(Base):
    __tablename__ = "scans"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    inputs: Mapped[list[Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Scans started through the API belong to a member and report progress as they go.
    member_id: Mapped[str | None] = mapped_column(
        ForeignKey("members.id"), nullable=True, index=True
    )
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# The dashboard groups a period's listings by these; see migration 0003.
DASHBOARD_COLUMNS = (
    "scanned_at", "verdict", "platform", "brand", "category", "province_code", "area", "region",
    "seller_id", "risk",
)  # fmt: skip


class ListingRow(Base):
    """A listing some scan flagged (or once flagged), or that a member uploaded, with the
    assessment of its last scan (verdict `pending` until an uploaded listing is scanned)."""

    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("platform", "listing_id"),
        # id last: pages in risk order break ties by id; without it PostgreSQL sorts each tie
        # group (every pending upload has risk 0) before the first row.
        Index("ix_listings_verdict_risk", "verdict", "risk", "id"),
        Index("ix_listings_brand", "brand"),
        Index("ix_listings_dashboard", *DASHBOARD_COLUMNS),
        Index("ix_listings_price", "price"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(100))
    listing_id: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    condition: Mapped[str] = mapped_column(String(20))
    seller_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    seller: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    # The seller's name out of `seller`, for search: reading it from JSON costs per row.
    seller_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    region: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # `region` resolved to China's administrative divisions (see vigil.regions); all None
    # when it could not be resolved. `area` is the urban/rural approximation.
    province_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    city_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    county_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    area: Mapped[str | None] = mapped_column(String(10), nullable=True)
    category: Mapped[str | None] = mapped_column(String(200), nullable=True)
    images: Mapped[list[Any]] = mapped_column(JSON)
    # The last scan's record of each image (the assessment's `images`): content digest, PDQ
    # hash and quality, or the reason it could not be used. None when it had no images.
    image_records: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    observed_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    verdict: Mapped[str] = mapped_column(String(30))
    risk: Mapped[float] = mapped_column(Float)
    log_odds: Mapped[float] = mapped_column(Float)
    brand: Mapped[str | None] = mapped_column(String(300), nullable=True)
    product: Mapped[str | None] = mapped_column(String(300), nullable=True)
    scan_id: Mapped[str | None] = mapped_column(ForeignKey("scans.id"), nullable=True)
    scanned_at: Mapped[datetime] = mapped_column()


class ListingAccessRow(Base):
    """Which members may see a listing, why, and where each stands in reviewing it.

    A member sees a listing it uploaded (`uploaded`), one whose assessment names a brand it
    owns (`brand`), or one another member shared with it (`shared`); the operator sees all.
    """

    __tablename__ = "listing_access"
    __table_args__ = (
        Index("ix_listing_access_member_review", "member_id", "review", "listing_pk"),
    )

    listing_pk: Mapped[int] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20))
    review: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    reviewed_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class SignalRow(Base):
    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    listing_pk: Mapped[int] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), index=True
    )
    detector: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(60))
    asset: Mapped[str | None] = mapped_column(String(400), nullable=True)
    weight: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class CaseRuleRow(Base):
    """A member's rule that opens cases by itself after a scan (e.g. risk >= 0.9 for a brand)."""

    __tablename__ = "case_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str | None] = mapped_column(String(300), nullable=True)
    min_risk: Mapped[float] = mapped_column(Float)
    verdicts: Mapped[list[Any]] = mapped_column(JSON)
    # One case per seller (all its matching listings), or one per listing.
    group_by: Mapped[str] = mapped_column(String(20), default="seller", server_default="seller")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseRow(Base):
    """A case: suspicion about listings or a seller, worked to a decision and a takedown."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_owner_state", "owner_id", "state"),
        Index("ix_cases_due", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # What people quote: "C-2026-000042".
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(20))
    # The analyst's last judgement (confirmed/dismissed), kept through later states.
    decision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(30), nullable=True)
    # The member whose rights the case defends (its rights holder), who opened it.
    owner_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    brand: Mapped[str | None] = mapped_column(String(300), nullable=True)
    platform: Mapped[str | None] = mapped_column(String(100), nullable=True)
    seller_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    origin: Mapped[str] = mapped_column(String(20))  # manual, queue, rule
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_rules.id", ondelete="SET NULL"), nullable=True
    )
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    opened_by: Mapped[str] = mapped_column(String(320))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The service-level timer that runs in the current state, and when it falls due.
    timer: Mapped[str | None] = mapped_column(String(40), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    notice_sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    actioned_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class CasePartyRow(Base):
    """A member taking part in a case, in a role; parties see the case, nobody else does."""

    __tablename__ = "case_parties"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)


class CaseListingRow(Base):
    __tablename__ = "case_listings"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    listing_pk: Mapped[int] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseEventRow(Base):
    """One line of a case's timeline: opened, moved, assigned, commented, evidence, notice..."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class EvidenceItemRow(Base):
    """A piece of a case's evidence, content-addressed (SHA-256 of its bytes) and entered in the
    transparency log. Its bytes are kept under the home or in `evidence_blobs`."""

    __tablename__ = "evidence_items"
    __table_args__ = (UniqueConstraint("case_id", "kind", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # listing_snapshot, image, signals, attachment
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    # A file name for attachments, the image's reference for images.
    name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    listing_pk: Mapped[int | None] = mapped_column(
        ForeignKey("listings.id", ondelete="SET NULL"), nullable=True
    )
    captured_at: Mapped[datetime] = mapped_column(default=utcnow)
    captured_by: Mapped[str] = mapped_column(String(320))
    storage: Mapped[str] = mapped_column(String(10))  # home, database
    # The entry's index in the transparency log, and the entry itself (canonical JSON).
    log_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    log_entry: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class EvidenceBlobRow(Base):
    """Evidence bytes kept in the database (setting `evidence_storage: database`)."""

    __tablename__ = "evidence_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class NoticeRow(Base):
    """A takedown notice sent to a marketplace for a confirmed case, and its answer."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # "N-2026-000042-1"
    type: Mapped[str] = mapped_column(String(20))  # counterfeit, trademark, copyright
    platform: Mapped[str] = mapped_column(String(100))
    marketplace_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    template: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(10))
    # The notice for machines (its JSON form); HTML and PDF are rendered from it.
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))  # of the document's canonical JSON
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_by: Mapped[str] = mapped_column(String(320))
    due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    action: Mapped[str | None] = mapped_column(String(10), nullable=True)  # yes, no, partial
    counter_notice: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    answer_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The listings the marketplace says it removed (their platform ids), for a partial answer.
    removed: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class AuditEventRow(Base):
    """Who did what, when: every write through a service leaves one."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(400))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Whose data the write touched (None: the alliance's own) and where it came from
    # ("cli", or the client's address for the web).
    member_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    source: Mapped[str | None] = mapped_column(String(100), nullable=True)


class TextClusterRow(Base):
    """A copy-paste cluster one scan found: near-identical descriptions posted by several
    sellers. `key` names the cluster within its scan; the newest scan's row is the one shown."""

    __tablename__ = "text_clusters"
    __table_args__ = (
        UniqueConstraint("scan_id", "key"),
        Index("ix_text_clusters_key", "key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id"))
    key: Mapped[str] = mapped_column(String(16))
    listings: Mapped[int] = mapped_column(Integer)
    sellers: Mapped[int] = mapped_column(Integer)
    similarity: Mapped[float] = mapped_column(Float)
    # A representative description of the cluster, at most 2,000 characters.
    sample: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TextClusterMemberRow(Base):
    """A listing of a copy-paste cluster, by its natural key (it need not be stored itself:
    only flagged or uploaded listings are), with its seller as the scan saw it."""

    __tablename__ = "text_cluster_members"
    __table_args__ = (
        # The clusters a listing belongs to (the seller network reads them as edges).
        Index("ix_text_cluster_members_listing", "platform", "listing_id"),
    )

    cluster_pk: Mapped[int] = mapped_column(
        ForeignKey("text_clusters.id", ondelete="CASCADE"), primary_key=True
    )
    platform: Mapped[str] = mapped_column(String(100), primary_key=True)
    listing_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    seller_id: Mapped[str | None] = mapped_column(String(300), nullable=True)


# --- The evidence transparency log (vigil.evidence.log) -----------------------------------


class EvidenceLogEntryRow(Base):
    """One entry of the append-only Merkle log, at its 0-based position `idx`, with its RFC 6962
    leaf hash (SHA-256 of 0x00 and the entry). Rows are never updated or deleted."""

    __tablename__ = "evidence_log_entries"
    # No index on leaf_hash: its random keys would dirty a page per append and cost about 40%
    # of the append rate at 1M entries; whoever logs an item keeps the index `append` returns.

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    appended_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvidenceLogNodeRow(Base):
    """The hash of a perfect subtree of the log: leaves [idx * 2**level, (idx + 1) * 2**level)
    for level >= 1 (level 0 is the entry's own leaf hash). Stored once the subtree is full, so
    any proof or root needs O(log n) of them."""

    __tablename__ = "evidence_log_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class EvidenceTreeHeadRow(Base):
    """A signed tree head: the log had `size` entries with root `root` at `timestamp`, signed
    with Ed25519 by the key whose id is `key_id`. A new key may sign the same size again."""

    __tablename__ = "evidence_tree_heads"
    __table_args__ = (Index("ix_evidence_tree_heads_size", "size"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp: Mapped[datetime] = mapped_column()
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(64))
