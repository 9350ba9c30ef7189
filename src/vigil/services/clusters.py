"""A copy-paste cluster as an actor may see it: the newest scan's cluster with this key, and the
member listings the actor may see, with counts of the rest.

Member isolation follows the listings' rule (`tenancy.visible_listings`): the operator sees every
member, stored or not; a member sees the members that are stored listings it may see, and only
how many others there are. A member that may see none of the cluster's listings is told that
there is no such cluster, as for a key nobody found. The stored sample text is any listing's
description, so a member is shown the description of one of its own listings instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select

from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.services.assessments.params import utc
from vigil.services.tenancy import visible_listings, visible_scans
from vigil.store import clusters_repo
from vigil.store.db import Store
from vigil.store.tables import ListingRow, ScanRow

MAX_KEY = clusters_repo.MAX_KEY


class ClusterNotFound(VigilError):
    """No scan found a copy-paste cluster with this key, or none of its listings is the
    actor's to see: the two look the same."""


class ClusterListing(BaseModel):
    """A listing of the cluster. The stored listing's fields are null for a listing the store
    does not hold (only the operator is shown those)."""

    platform: str
    listing_id: str
    seller_id: str | None
    listing: int | None = Field(description="The stored listing's id (`/listings/{id}`).")
    title: str | None = None
    seller_name: str | None = None
    verdict: str | None = None
    risk: float | None = None


class ClusterSeller(BaseModel):
    seller_id: str | None = Field(description="Null for listings whose seller is not known.")
    seller_name: str | None
    listings: int = Field(description="How many of the listings shown are this seller's.")


class CopyPasteCluster(BaseModel):
    """A copy-paste cluster: near-identical descriptions posted by several sellers in a scan."""

    key: str
    scan_id: str | None = Field(description="The scan that found it; null when not yours to see.")
    found_at: datetime = Field(description="When the scan that found it started.")
    listings: int = Field(description="Listings in the cluster, in all.")
    sellers: int = Field(description="Distinct sellers of those listings, in all.")
    similarity: float = Field(description="Estimated similarity of the descriptions (0 to 1).")
    sample: str = Field(description="A description from the cluster (for a member: its own).")
    visible_listings: int = Field(description="Of `listings`, those shown to you.")
    visible_sellers: int = Field(description="Distinct sellers of the listings shown to you.")
    hidden_listings: int = Field(description="Listings of the cluster you may not see.")
    members: list[ClusterListing]
    by_seller: list[ClusterSeller]


@dataclass(frozen=True, slots=True)
class _Seen:
    """What the actor may see of a stored cluster."""

    cluster: clusters_repo.ClusterView
    members: list[ClusterListing]
    own_text: str | None  # a description of one of the members, for a member's sample
    scan_visible: bool


def _seen(store: Store, actor: Actor, key: str) -> _Seen:
    with store.session() as session:
        cluster = clusters_repo.latest_cluster(session, key)
        if cluster is None:
            raise ClusterNotFound(f"no copy-paste cluster {key!r}")
        scan = select(ScanRow.id).where(ScanRow.id == cluster.scan_id, visible_scans(actor))
        scan_visible = session.scalar(scan) is not None
        members = clusters_repo.cluster_members(session, cluster.pk)
        pks = [m.listing_pk for m in members if m.listing_pk is not None]
        query = select(
            ListingRow.id,
            ListingRow.title,
            ListingRow.seller_name,
            ListingRow.verdict,
            ListingRow.risk,
            ListingRow.description,
        ).where(ListingRow.id.in_(pks), visible_listings(actor))
        stored = {row.id: row for row in session.execute(query)} if pks else {}
    shown = []
    for member in members:
        row = stored.get(member.listing_pk) if member.listing_pk is not None else None
        if row is None and not actor.is_operator:
            continue
        shown.append(
            ClusterListing(
                platform=member.platform,
                listing_id=member.listing_id,
                seller_id=member.seller_id,
                listing=row.id if row is not None else None,
                title=row.title if row is not None else None,
                seller_name=row.seller_name if row is not None else None,
                verdict=row.verdict if row is not None else None,
                risk=row.risk if row is not None else None,
            )
        )
    # The first of the actor's listings in the cluster's order, so that the page is stable.
    first = next((m.listing_pk for m in members if m.listing_pk in stored), None)
    own_text = (stored[first].description or stored[first].title) if first is not None else None
    return _Seen(cluster, shown, own_text, scan_visible)


def _by_seller(members: list[ClusterListing]) -> list[ClusterSeller]:
    """The sellers of the listings shown, most listings first."""
    sellers: dict[str | None, ClusterSeller] = {}
    for member in members:
        found = sellers.get(member.seller_id)
        if found is None:
            found = sellers[member.seller_id] = ClusterSeller(
                seller_id=member.seller_id, seller_name=member.seller_name, listings=0
            )
        found.listings += 1
        if found.seller_name is None:
            found.seller_name = member.seller_name
    return sorted(sellers.values(), key=lambda s: (-s.listings, s.seller_id or "\uffff"))


def copy_paste_cluster(store: Store, actor: Actor, key: str) -> CopyPasteCluster:
    """The newest stored cluster with this key, as `actor` may see it (see the module's
    docstring); ClusterNotFound when there is none to show."""
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise ClusterNotFound(f"no copy-paste cluster {key[:40]!r}")
    seen = _seen(store, actor, key)
    cluster, members = seen.cluster, seen.members
    if not members and not actor.is_operator:
        raise ClusterNotFound(f"no copy-paste cluster {key!r}")
    sample = cluster.sample if actor.is_operator else seen.own_text or ""
    visible = len(members)
    return CopyPasteCluster(
        key=cluster.key,
        scan_id=cluster.scan_id if seen.scan_visible else None,
        found_at=utc(cluster.scan_started_at),
        listings=cluster.listings,
        sellers=cluster.sellers,
        similarity=cluster.similarity,
        sample=sample,
        visible_listings=visible,
        visible_sellers=len({m.seller_id for m in members if m.seller_id is not None}),
        hidden_listings=max(cluster.listings - visible, 0),
        members=members,
        by_seller=_by_seller(members),
    )
