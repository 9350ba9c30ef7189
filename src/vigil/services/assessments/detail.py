"""One listing as the actor may see it: signals, highlighted spans, price in context, and its
photos with what the scan learnt about each and the registry images they matched."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.domain.people import Actor
from vigil.services.assessments.errors import ListingNotFound
from vigil.services.assessments.highlights import SignalText, Span, spans_for
from vigil.services.assessments.params import utc
from vigil.services.assessments.query import AssessedListing, SignalOut, load_listings
from vigil.services.media import DEFAULT_MIN_QUALITY, IMAGE_DETECTOR, MediaPlaces, is_address
from vigil.services.tenancy import can_see_listing, visible_brands
from vigil.store.db import Store
from vigil.store.tables import BrandRow, ListingAccessRow, ListingRow, ProductRow


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


class ImageMatch(BaseModel):
    """A registered photo or logo that one of the listing's photos matched (an `images`
    signal), with the figures that say how closely."""

    signal_id: int
    kind: str
    asset: str | None
    weight: float
    asset_name: str | None = Field(description="The name of the registry's file.")
    asset_sha256: str | None
    asset_kept: bool = Field(
        description="The registry image's bytes are kept on the server: it is served at "
        "`/listings/{id}/images/{asset_sha256}`."
    )
    distance: int | None = Field(description="PDQ distance (bits that differ, of 256).")
    radius: int | None = Field(description="The largest distance that counts as a match.")
    transform: str | None = Field(
        description="How the listing's photo is turned or flipped from the registry's, "
        "e.g. `mirrored left to right`; `original` when it is not."
    )
    inliers: int | None = Field(description="Logos: keypoints that agree with the match.")
    outline: list[tuple[float, float]] | None = Field(
        description="Logos: the logo's four corners in the listing photo's own pixels."
    )
    image_width: int | None
    image_height: int | None
    hidden_brand: bool | None = Field(
        description="Logos: the listing's text names no brand while its photo shows one."
    )


class ListingPhoto(BaseModel):
    """One image the listing names, with the scan's record of it (when it was scanned with
    images): digest, format, size, PDQ hash and quality, or the reason it could not be used."""

    ref: str = Field(description="As the listing gives it.")
    name: str = Field(description="What a person reads: the address, or a path's file name.")
    address: str | None = Field(description="The ref, when it is an http(s) address.")
    analysed: bool = Field(description="The last scan left a record of this image.")
    sha256: str | None = None
    kept: bool = Field(
        default=False,
        description="Its bytes are kept on the server: served at `/listings/{id}/images/{sha256}`.",
    )
    format: str | None = None
    width: int | None = None
    height: int | None = None
    pdq: str | None = None
    quality: int | None = None
    below_min_quality: bool = Field(
        default=False,
        description="PDQ quality below the scan's minimum: recorded, but not matched.",
    )
    error: str | None = Field(default=None, description="Why it could not be used.")
    notes: list[str] = Field(default_factory=list)
    matches: list[ImageMatch] = Field(default_factory=list)


class ListingDetail(BaseModel):
    listing: AssessedListing
    spans: list[Span]
    price: PriceContext
    access: list[AccessOut]
    images: list[ListingPhoto] = Field(default_factory=list)
    pdq_min_quality: int = Field(
        default=DEFAULT_MIN_QUALITY,
        description="Photos whose PDQ quality is below this are not matched.",
    )


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


def _integer(details: Mapping[str, Any], key: str) -> int | None:
    value = details.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _outline(details: Mapping[str, Any]) -> list[tuple[float, float]] | None:
    """The logo's corners from the signal's `polygon` (a JSON list of [x, y]); None when it
    has none or it is not four points."""
    text = details.get("polygon")
    try:
        points = json.loads(text) if isinstance(text, str) else None
        corners = [(float(x), float(y)) for x, y in points] if isinstance(points, list) else []
    except (ValueError, TypeError):
        return None
    return corners if len(corners) == 4 else None


def _match(signal: SignalOut, places: MediaPlaces | None) -> ImageMatch:
    details = signal.details
    asset_file = _text(details, "asset_file")
    asset_sha256 = _text(details, "asset_sha256") or None
    return ImageMatch(
        signal_id=signal.id,
        kind=signal.kind,
        asset=signal.asset,
        weight=signal.weight,
        asset_name=_display_name(asset_file) if asset_file else None,
        asset_sha256=asset_sha256,
        asset_kept=places is not None and places.kept(asset_sha256),
        distance=_integer(details, "distance"),
        radius=_integer(details, "radius"),
        transform=_text(details, "transform"),
        inliers=_integer(details, "inliers"),
        outline=_outline(details),
        image_width=_integer(details, "image_width"),
        image_height=_integer(details, "image_height"),
        hidden_brand=hidden if isinstance(hidden := details.get("hidden_brand"), bool) else None,
    )


def _display_name(ref: str) -> str:
    """An address as it is; of a path, only the file's name (the folders are the uploader's)."""
    return ref if is_address(ref) else PurePath(ref).name or ref


def _photo(ref: str, record: Mapping[str, Any] | None, places: MediaPlaces | None) -> ListingPhoto:
    address = ref if is_address(ref) else None
    if record is None:
        return ListingPhoto(ref=ref, name=_display_name(ref), address=address, analysed=False)
    sha256 = _text(record, "sha256")
    quality = _integer(record, "quality")
    min_quality = places.min_quality if places is not None else DEFAULT_MIN_QUALITY
    notes = record.get("notes")
    return ListingPhoto(
        ref=ref,
        name=_display_name(ref),
        address=address,
        analysed=True,
        sha256=sha256,
        kept=places is not None and places.kept(sha256),
        format=_text(record, "format"),
        width=_integer(record, "width"),
        height=_integer(record, "height"),
        pdq=_text(record, "pdq"),
        quality=quality,
        below_min_quality=quality is not None and quality < min_quality,
        error=_text(record, "error"),
        notes=[str(n) for n in notes] if isinstance(notes, list) else [],
    )


def _photos(
    session: Session, item: AssessedListing, places: MediaPlaces | None
) -> list[ListingPhoto]:
    """The listing's images in its order, from the scan's records when it left them, each
    with the image signals that name it (by reference, else by digest)."""
    records = session.scalar(select(ListingRow.image_records).where(ListingRow.id == item.id))
    if isinstance(records, list) and records:
        photos = [
            _photo(str(r.get("ref", "")), r, places) for r in records if isinstance(r, Mapping)
        ]
    else:
        photos = [_photo(ref, None, places) for ref in item.images]
    for signal in item.signals:
        if signal.detector != IMAGE_DETECTOR:
            continue
        ref, sha256 = _text(signal.details, "image"), _text(signal.details, "image_sha256")
        target = next((p for p in photos if ref is not None and p.ref == ref), None) or next(
            (p for p in photos if sha256 and p.sha256 == sha256), None
        )
        if target is not None:
            target.matches.append(_match(signal, places))
    return photos


def listing_detail(
    store: Store, actor: Actor, listing_pk: int, *, places: MediaPlaces | None = None
) -> ListingDetail:
    """One listing the actor may see, with its signals, the spans they point at in its text,
    its price in context, its photos and what they matched, and the review states the actor
    may know. `places` says which images' bytes the server keeps."""
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
            images=_photos(session, item, places),
            pdq_min_quality=places.min_quality if places is not None else DEFAULT_MIN_QUALITY,
        )
