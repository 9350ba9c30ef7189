"""What the transparency log records about an evidence item: its log entry.

An entry is canonical JSON (RFC 8785) binding the item's digest to its case, its kind, its
size and media type, the listing it shows and the time it was captured. It names the content
by digest and never holds it, so the log can be proved to anyone without revealing evidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vigil.evidence.canonical import canonical_json

ENTRY_VERSION = 1
ITEM_KINDS = ("listing_snapshot", "signals", "image", "attachment")


def rfc3339(moment: datetime) -> str:
    """`moment` in UTC as RFC 3339 with milliseconds and a Z, the form every entry uses."""
    stamp = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """The facts an entry binds; `encode` gives the bytes the log hashes."""

    case: str  # the case's reference, e.g. C-2026-000042
    sha256: str
    kind: str
    media_type: str
    size: int
    captured_at: str  # RFC 3339, as `rfc3339` writes it
    platform: str | None = None
    listing_id: str | None = None

    def encode(self) -> bytes:
        listing = (
            {"platform": self.platform, "listing_id": self.listing_id}
            if self.platform is not None and self.listing_id is not None
            else None
        )
        return canonical_json(
            {
                "version": ENTRY_VERSION,
                "case": self.case,
                "sha256": self.sha256,
                "kind": self.kind,
                "media_type": self.media_type,
                "size": self.size,
                "listing": listing,
                "captured_at": self.captured_at,
            }
        )


class EntryError(ValueError):
    """Bytes that are not a log entry of a known version; the message says what is wrong."""


def decode_entry(data: bytes) -> LogEntry:
    """Read an entry's bytes back; raise EntryError naming what is wrong with them."""
    try:
        value: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise EntryError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise EntryError(f"a log entry is a JSON object, not {type(value).__name__}")
    if value.get("version") != ENTRY_VERSION:
        raise EntryError(
            f"version {value.get('version')!r} is not one this verifier reads "
            f"(it reads {ENTRY_VERSION}); use a newer Vigil"
        )
    fields = {
        "case": str,
        "sha256": str,
        "kind": str,
        "media_type": str,
        "size": int,
        "captured_at": str,
    }
    for name, kind in fields.items():
        found = value.get(name)
        if not isinstance(found, kind) or isinstance(found, bool):
            raise EntryError(f"its {name} is missing or not a {kind.__name__}: {found!r}")
    listing = value.get("listing")
    platform = listing_id = None
    if listing is not None:
        if not isinstance(listing, dict):
            raise EntryError(f"its listing must be an object or null, not {listing!r}")
        platform, listing_id = listing.get("platform"), listing.get("listing_id")
        if not isinstance(platform, str) or not isinstance(listing_id, str):
            raise EntryError(f"its listing must name a platform and a listing_id: {listing!r}")
    entry = LogEntry(
        case=value["case"],
        sha256=value["sha256"],
        kind=value["kind"],
        media_type=value["media_type"],
        size=value["size"],
        captured_at=value["captured_at"],
        platform=platform,
        listing_id=listing_id,
    )
    if entry.encode() != data:
        raise EntryError(
            "it is not in canonical form (RFC 8785) or holds fields an entry does not have: "
            "the log only ever wrote canonical entries, so these bytes were changed"
        )
    return entry
