"""Tables of the relational store. Schema changes ship as migrations in `migrations/versions`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
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
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


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


class ListingRow(Base):
    """A listing some scan flagged (or once flagged), with the assessment of its last scan."""

    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("platform", "listing_id"),
        Index("ix_listings_verdict_risk", "verdict", "risk"),
        Index("ix_listings_brand", "brand"),
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
    region: Mapped[str | None] = mapped_column(String(200), nullable=True)
    category: Mapped[str | None] = mapped_column(String(200), nullable=True)
    images: Mapped[list[Any]] = mapped_column(JSON)
    observed_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    verdict: Mapped[str] = mapped_column(String(30))
    risk: Mapped[float] = mapped_column(Float)
    log_odds: Mapped[float] = mapped_column(Float)
    brand: Mapped[str | None] = mapped_column(String(300), nullable=True)
    product: Mapped[str | None] = mapped_column(String(300), nullable=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id"))
    scanned_at: Mapped[datetime] = mapped_column()


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


class AuditEventRow(Base):
    """Who did what, when: every write through a service leaves one."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(400))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
