"""One listing as the actor may see it: signals, highlighted spans, price in context."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.domain.people import Actor
from vigil.services.assessments.errors import ListingNotFound
from vigil.services.assessments.highlights import SignalText, Span, spans_for
from vigil.services.assessments.params import utc
from vigil.services.assessments.query import AssessedListing, load_listings
from vigil.services.tenancy import can_see_listing, visible_brands
from vigil.store.db import Store
from vigil.store.tables import BrandRow, ListingAccessRow, ProductRow


class PriceContext(BaseModel):
    """The listing's price beside the product's MSRP and the scan's market median, when known.
    Ratios compare amounts in the same currency (the detector's base currency when it gave
    the figures)."""

    price: float | None
    currency: str
    msrp: float | None = None
    msrp_currency: str | None = None
    msrp_source: str | None = None  # "registry" or "signal"
    market_median: float | None = None
    market_currency: str | None = None
    market_observed: int | None = None
    ratio_msrp: float | None = None
    ratio_market: float | None = None


class AccessOut(BaseModel):
    member_id: str
    reason: str
    review: str
    reviewed_by: str | None
    reviewed_at: datetime | None


class ListingDetail(BaseModel):
    listing: AssessedListing
    spans: list[Span]
    price: PriceContext
    access: list[AccessOut]


def _number(details: Mapping[str, Any], key: str) -> float | None:
    value = details.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _text(details: Mapping[str, Any], key: str) -> str | None:
    value = details.get(key)
    return value if isinstance(value, str) else None


def _price_context(session: Session, actor: Actor, item: AssessedListing) -> PriceContext:
    context = PriceContext(price=item.price, currency=item.currency)
    by_kind = {s.kind: s.details for s in item.signals}
    if item.brand and item.product:
        # The registry entry is its owner's: others learn the MSRP only from a price signal.
        entry = session.scalar(
            select(ProductRow.entry)
            .join(BrandRow, BrandRow.id == ProductRow.brand_id)
            .where(
                BrandRow.name == item.brand,
                ProductRow.model == item.product,
                visible_brands(actor),
            )
        )
        msrp = (entry or {}).get("msrp") or {}
        if isinstance(msrp.get("amount"), int | float):
            context.msrp = float(msrp["amount"])
            context.msrp_currency = str(msrp.get("currency") or "CNY")
            context.msrp_source = "registry"
    below_msrp = by_kind.get("price_below_msrp", {})
    if context.msrp is None and _number(below_msrp, "msrp_base") is not None:
        context.msrp = _number(below_msrp, "msrp_base")
        context.msrp_currency = _text(below_msrp, "base_currency")
        context.msrp_source = "signal"
    market = by_kind.get("price_below_market", {})
    if _number(market, "median_base") is not None:
        context.market_median = _number(market, "median_base")
        context.market_currency = _text(market, "base_currency")
        observed = market.get("observed")
        context.market_observed = observed if isinstance(observed, int) else None
        context.ratio_market = _number(market, "ratio")
    if context.msrp and item.price is not None and context.msrp_currency == item.currency:
        context.ratio_msrp = item.price / context.msrp
    elif context.msrp is not None:
        context.ratio_msrp = _number(below_msrp, "ratio")
    if (
        context.ratio_market is None
        and context.market_median
        and context.market_currency == (item.currency)
    ):
        context.ratio_market = (item.price or 0.0) / context.market_median
    return context


def listing_detail(store: Store, actor: Actor, listing_pk: int) -> ListingDetail:
    """One listing the actor may see, with its signals, the spans they point at in its text,
    its price in context and the review states the actor may know."""
    with store.session() as session:
        if not can_see_listing(session, actor, listing_pk):
            raise ListingNotFound(f"no listing {listing_pk}")
        items = load_listings(session, actor, [listing_pk])
        if not items:
            raise ListingNotFound(f"no listing {listing_pk}")
        item = items[0]
        texts = [
            SignalText(s.id, s.detector, s.kind, s.weight, s.evidence, s.explanation, s.details)
            for s in item.signals
        ]
        rows = select(ListingAccessRow).where(ListingAccessRow.listing_pk == listing_pk)
        if not actor.is_operator:
            # Other members' grants and decisions are theirs.
            rows = rows.where(ListingAccessRow.member_id == actor.member_id)
        access = [
            AccessOut(
                member_id=row.member_id,
                reason=row.reason,
                review=row.review,
                reviewed_by=row.reviewed_by,
                reviewed_at=utc(row.reviewed_at) if row.reviewed_at else None,
            )
            for row in session.scalars(rows.order_by(ListingAccessRow.member_id))
        ]
        return ListingDetail(
            listing=item,
            spans=spans_for(item.title, item.description, texts),
            price=_price_context(session, actor, item),
            access=access,
        )
