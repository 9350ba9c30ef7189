"""Copy-paste clusters a scan found: saved per scan (a rerun of the scan replaces its own), read
back by key (the newest scan that has it) with their member listings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from vigil.store.tables import ListingRow, ScanRow, TextClusterMemberRow, TextClusterRow

CLUSTERS = cast(Table, TextClusterRow.__table__)
MEMBERS = cast(Table, TextClusterMemberRow.__table__)
# Column sizes of the tables: a key is 16 hex digits; the sample is cut to this length.
MAX_KEY = 16
MAX_SAMPLE = 2000
MAX_PLATFORM = 100
MAX_LISTING_ID = 300
MAX_SELLER_ID = 300


@dataclass(frozen=True, slots=True)
class ClusterRecord:
    """A cluster as the scan hands it over: its key within the scan, how many listings and
    distinct sellers it spans, the similarity that joined them, a representative description,
    and its listings as (platform, listing id, seller id or None)."""

    key: str
    listings: int
    sellers: int
    similarity: float
    sample: str
    members: Sequence[tuple[str, str, str | None]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ClusterView:
    """A stored cluster."""

    pk: int
    scan_id: str
    key: str
    listings: int
    sellers: int
    similarity: float
    sample: str
    created_at: datetime
    scan_started_at: datetime


@dataclass(frozen=True, slots=True)
class MemberView:
    """A listing of a stored cluster; `listing_pk` is the stored listing's id, None when the
    store does not hold the listing."""

    platform: str
    listing_id: str
    seller_id: str | None
    listing_pk: int | None


def _check(record: ClusterRecord) -> None:
    """Refuse what the tables cannot hold, naming the cluster, before anything is written."""
    if not 1 <= len(record.key) <= MAX_KEY:
        raise ValueError(
            f"copy-paste cluster key {record.key[:40]!r}: expected 1 to {MAX_KEY} characters"
        )
    for platform, listing_id, seller_id in record.members:
        if not platform or not listing_id:
            raise ValueError(f"copy-paste cluster {record.key}: a member has no platform or id")
        if (
            len(platform) > MAX_PLATFORM
            or len(listing_id) > MAX_LISTING_ID
            or len(seller_id or "") > MAX_SELLER_ID
        ):
            raise ValueError(
                f"copy-paste cluster {record.key}: member {platform}/{listing_id[:40]} has a "
                f"platform over {MAX_PLATFORM}, or an id or seller over {MAX_LISTING_ID} "
                "characters"
            )


def save_clusters(session: Session, scan_id: str, clusters: Sequence[ClusterRecord]) -> int:
    """Store the scan's copy-paste clusters, replacing any it stored before (a rerun of the same
    scan saves the same clusters once); returns how many were saved. A listing named twice in a
    cluster is stored once."""
    keys = [c.key for c in clusters]
    if len(set(keys)) != len(keys):
        raise ValueError(f"scan {scan_id}: copy-paste cluster keys must be unique within a scan")
    for record in clusters:
        _check(record)
    session.flush()  # the scan row may still be pending in the ORM
    connection = session.connection()
    previous = select(TextClusterRow.id).where(TextClusterRow.scan_id == scan_id)
    connection.execute(delete(MEMBERS).where(MEMBERS.c.cluster_pk.in_(previous)))
    connection.execute(delete(CLUSTERS).where(CLUSTERS.c.scan_id == scan_id))
    if not clusters:
        return 0
    rows = [
        {
            "scan_id": scan_id,
            "key": c.key,
            "listings": c.listings,
            "sellers": c.sellers,
            "similarity": float(c.similarity),
            "sample": c.sample[:MAX_SAMPLE],
        }
        for c in clusters
    ]
    statement = insert(CLUSTERS).returning(CLUSTERS.c.id, sort_by_parameter_order=True)
    pks = list(connection.execute(statement, rows).scalars())
    members = []
    for pk, record in zip(pks, clusters, strict=True):
        seen: set[tuple[str, str]] = set()
        for platform, listing_id, seller_id in record.members:
            if (platform, listing_id) in seen:
                continue
            seen.add((platform, listing_id))
            members.append(
                {
                    "cluster_pk": pk,
                    "platform": platform,
                    "listing_id": listing_id,
                    "seller_id": seller_id,
                }
            )
    if members:
        connection.execute(insert(MEMBERS), members)
    return len(pks)


def latest_cluster(session: Session, key: str) -> ClusterView | None:
    """The cluster with this key from the newest scan that found one; None when none did."""
    found = session.execute(
        select(TextClusterRow, ScanRow.started_at)
        .join(ScanRow, ScanRow.id == TextClusterRow.scan_id)
        .where(TextClusterRow.key == key)
        .order_by(ScanRow.started_at.desc(), TextClusterRow.id.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    row, started_at = found
    return ClusterView(
        pk=row.id,
        scan_id=row.scan_id,
        key=row.key,
        listings=row.listings,
        sellers=row.sellers,
        similarity=row.similarity,
        sample=row.sample,
        created_at=row.created_at,
        scan_started_at=started_at,
    )


def cluster_members(session: Session, cluster_pk: int) -> list[MemberView]:
    """The cluster's listings by seller, then platform and id, with the stored listing's id
    where the store holds it."""
    rows = session.execute(
        select(
            TextClusterMemberRow.platform,
            TextClusterMemberRow.listing_id,
            TextClusterMemberRow.seller_id,
            ListingRow.id,
        )
        .outerjoin(
            ListingRow,
            (ListingRow.platform == TextClusterMemberRow.platform)
            & (ListingRow.listing_id == TextClusterMemberRow.listing_id),
        )
        .where(TextClusterMemberRow.cluster_pk == cluster_pk)
        .order_by(
            TextClusterMemberRow.seller_id,
            TextClusterMemberRow.platform,
            TextClusterMemberRow.listing_id,
        )
    )
    return [MemberView(p, i, s, pk) for p, i, s, pk in rows]
