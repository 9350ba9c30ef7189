"""What a listing said and how it was assessed, as the JSON values evidence keeps.

A snapshot holds the listing's fields as the Listing contract names them (docs/formats.md) with
its last assessment; the signals item holds the signals that explain that assessment. Both are
kept as canonical JSON (vigil.evidence.canonical); fields without a value are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vigil.evidence.entries import rfc3339
from vigil.store.tables import ListingRow, SignalRow

SNAPSHOT_VERSION = 1


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def listing_snapshot(listing: ListingRow) -> dict[str, Any]:
    """The listing's fields as the Listing contract names them, with its last assessment."""
    seller = _present(dict(listing.seller)) if listing.seller else None
    return {
        "version": SNAPSHOT_VERSION,
        "kind": "listing_snapshot",
        "listing": _present(
            {
                "platform": listing.platform,
                "listing_id": listing.listing_id,
                "title": listing.title,
                "description": listing.description,
                "url": listing.url,
                "price": listing.price,
                "currency": listing.currency,
                "condition": listing.condition,
                "seller": seller,
                "region": listing.region,
                "category": listing.category,
                "images": list(listing.images or []),
                "observed_at": listing.observed_at,
            }
        ),
        "assessment": _present(
            {
                "verdict": listing.verdict,
                "risk": listing.risk,
                "brand": listing.brand,
                "product": listing.product,
                "assessed_at": rfc3339(listing.scanned_at),
            }
        ),
    }


def signals_snapshot(listing: ListingRow, signals: Iterable[SignalRow]) -> dict[str, Any]:
    """The signals that explain the listing's assessment, in a stable order."""
    shown = [
        _present(
            {
                "detector": signal.detector,
                "kind": signal.kind,
                "asset": signal.asset,
                "weight": signal.weight,
                "evidence": signal.evidence,
                "explanation": signal.explanation,
                "details": signal.details or {},
            }
        )
        for signal in signals
    ]
    shown.sort(key=lambda s: (s["detector"], s["kind"], s.get("asset") or "", s["evidence"]))
    return {
        "version": SNAPSHOT_VERSION,
        "kind": "signals",
        "listing": {"platform": listing.platform, "listing_id": listing.listing_id},
        "assessed_at": rfc3339(listing.scanned_at),
        "risk": listing.risk,
        "verdict": listing.verdict,
        "signals": shown,
    }
