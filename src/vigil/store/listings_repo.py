"""Flagged listings and their signals: upserted by (platform, listing_id), never duplicated."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.regions import resolve_region
from vigil.store.tables import BrandRow, ListingAccessRow, ListingRow, ScanRow, SignalRow

LISTING_COLUMNS = (
    "title", "description", "url", "price", "currency", "condition", "region", "category",
    "images", "observed_at",
)  # fmt: skip
LISTINGS = cast(Table, ListingRow.__table__)
SIGNALS = cast(Table, SignalRow.__table__)
ACCESS = cast(Table, ListingAccessRow.__table__)
ASSESSMENT_COLUMNS = ("verdict", "risk", "log_odds", "brand", "product")
REGION_COLUMNS = ("province_code", "city_code", "county_code", "area")


def seller_name(seller: dict[str, Any] | None) -> str | None:
    name = (seller or {}).get("name")
    return str(name)[:300] if name else None


def region_columns(listing: dict[str, Any]) -> dict[str, str | None]:
    """The listing's region resolved to division codes and urban/rural; the seller's region
    stands in when the listing names none. Unresolvable text leaves them all None."""
    seller = listing.get("seller") or {}
    text = listing.get("region") or seller.get("region")
    found = resolve_region(text) if text else None
    return {
        "province_code": found.province_code if found else None,
        "city_code": found.city_code if found else None,
        "county_code": found.county_code if found else None,
        "area": found.area if found else None,
    }


def listing_columns(listing: dict[str, Any]) -> dict[str, Any]:
    """A listing's own columns of `listings`, in the one normal form every writer stores:
    scans, uploads and the benchmark's seed."""
    seller = listing.get("seller")
    row: dict[str, Any] = {
        "platform": listing["platform"],
        "listing_id": listing["listing_id"],
        "seller_id": seller["id"] if seller else None,
        "seller": seller,
        "seller_name": seller_name(seller),
    }
    row.update({c: listing.get(c) for c in LISTING_COLUMNS})
    row["currency"] = row["currency"] or "CNY"
    row["condition"] = row["condition"] or "unknown"
    row["images"] = row["images"] or []
    row.update(region_columns(listing))
    return row


def _listing_row(
    listing: dict[str, Any], assessment: dict[str, Any], scan_id: str, at: datetime
) -> dict[str, Any]:
    row = listing_columns(listing)
    row.update({c: assessment[c] for c in ASSESSMENT_COLUMNS}, scan_id=scan_id, scanned_at=at)
    row["image_records"] = assessment.get("image_records")
    return row


def existing_keys(session: Session, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    if not keys:
        return set()
    found = session.execute(
        select(ListingRow.platform, ListingRow.listing_id).where(
            tuple_(ListingRow.platform, ListingRow.listing_id).in_(keys)
        )
    )
    return {(p, i) for p, i in found}


def save_assessments(
    session: Session,
    *,
    scan_id: str,
    scanned_at: datetime,
    items: list[tuple[dict[str, Any], dict[str, Any]]],
) -> int:
    """Upsert listings with their latest assessment and replace their signals, and let the
    owners of the attributed brands see them; returns the count."""
    if not items:
        return 0
    # The last occurrence of a key in a batch wins, as a later line of a feed would.
    latest = {(a["platform"], a["listing_id"]): (lst, a) for lst, a in items}
    rows = [_listing_row(lst, a, scan_id, scanned_at) for lst, a in latest.values()]
    # Core statements on the session's connection: the ORM's bulk machinery costs several
    # times more per row, and scans store many thousands of rows.
    session.flush()  # the ORM's pending rows (the scan row) must exist before Core writes
    connection = session.connection()
    table = LISTINGS
    dialect = connection.dialect.name
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    update = {
        c: getattr(upsert.excluded, c) for c in rows[0] if c not in ("platform", "listing_id")
    }
    statement = upsert.on_conflict_do_update(
        index_elements=[table.c.platform, table.c.listing_id], set_=update
    ).returning(table.c.id, table.c.platform, table.c.listing_id, sort_by_parameter_order=True)
    ids = {(p, i): pk for pk, p, i in connection.execute(statement, rows)}
    connection.execute(delete(SIGNALS).where(SignalRow.listing_pk.in_(list(ids.values()))))
    signals = [
        {
            "listing_pk": ids[key],
            "detector": s["detector"],
            "kind": s["kind"],
            "asset": s.get("asset"),
            "weight": s["weight"],
            "evidence": s["evidence"],
            "explanation": s["explanation"],
            "details": s.get("details") or {},
        }
        for key, (_, assessment) in latest.items()
        for s in assessment["signals"]
    ]
    if signals:
        connection.execute(insert(SIGNALS), signals)
    _grant_brand_owners(connection, ids, latest)
    return len(rows)


def _grant_brand_owners(
    connection: Connection,
    ids: dict[tuple[str, str], int],
    latest: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    """Let the member owning each attributed brand see the listing (tenancy: assessments that
    concern a member's assets); a grant it already has is kept as it is."""
    brands = {a["brand"] for _, a in latest.values() if a.get("brand")}
    if not brands:
        return
    found = connection.execute(
        select(BrandRow.name, BrandRow.owner_id).where(
            BrandRow.name.in_(brands), BrandRow.owner_id.is_not(None)
        )
    )
    owners = {name: owner for name, owner in found}
    grants = [
        {"listing_pk": ids[key], "member_id": owners[a["brand"]], "reason": "brand"}
        for key, (_, a) in latest.items()
        if a.get("brand") in owners
    ]
    if grants:
        upsert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(
            ACCESS
        )
        connection.execute(upsert.on_conflict_do_nothing(), grants)


def start_scan(session: Session, *, scan_id: str, started_at: datetime, inputs: list[str]) -> None:
    session.add(ScanRow(id=scan_id, started_at=started_at, status="running", inputs=inputs))


def finish_scan(
    session: Session, *, scan_id: str, status: str, finished_at: datetime, summary: dict[str, Any]
) -> None:
    row = session.get(ScanRow, scan_id)
    if row is not None:
        row.status, row.finished_at, row.summary = status, finished_at, summary
