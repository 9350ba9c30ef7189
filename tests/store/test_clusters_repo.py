"""Copy-paste clusters in the store, on SQLite and (when configured) PostgreSQL: saved per scan,
replaced when the scan is saved again, read back by key from the newest scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import listing
from vigil.store import clusters_repo, listings_repo
from vigil.store.clusters_repo import ClusterRecord
from vigil.store.db import Store
from vigil.store.tables import TextClusterMemberRow, TextClusterRow

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def ring(
    key: str, sellers: int = 3, per_seller: int = 2, sample: str = "同款文案"
) -> ClusterRecord:
    """A cluster of `sellers` shops posting `per_seller` listings each."""
    members = [
        ("taobao", f"{key}-{s}-{n}", f"shop-{s}") for s in range(sellers) for n in range(per_seller)
    ]
    return ClusterRecord(
        key=key,
        listings=len(members),
        sellers=sellers,
        similarity=0.82,
        sample=sample,
        members=members,
    )


def start(store: Store, scan_id: str, at: datetime) -> None:
    with store.session() as session:
        listings_repo.start_scan(session, scan_id=scan_id, started_at=at, inputs=["feed.jsonl"])


def counts(store: Store) -> tuple[int, int]:
    with store.session() as session:
        clusters = session.scalar(select(func.count()).select_from(TextClusterRow))
        members = session.scalar(select(func.count()).select_from(TextClusterMemberRow))
    return clusters or 0, members or 0


def test_saved_clusters_come_back_by_key_with_their_members(store: Store) -> None:
    start(store, "s1", T0)
    with store.session() as session:
        saved = clusters_repo.save_clusters(
            session, "s1", [ring("a1b2c3d4e5f60718"), ring("ffff000011112222", sellers=4)]
        )
    assert saved == 2
    with store.session() as session:
        found = clusters_repo.latest_cluster(session, "ffff000011112222")
        assert found is not None
        members = clusters_repo.cluster_members(session, found.pk)
    assert (found.scan_id, found.listings, found.sellers) == ("s1", 8, 4)
    assert found.similarity == pytest.approx(0.82) and found.sample == "同款文案"
    assert len(members) == 8
    assert [m.seller_id for m in members] == sorted(m.seller_id or "" for m in members)
    assert all(m.listing_pk is None for m in members), "none of these listings is stored"


def test_saving_the_same_scan_again_replaces_its_clusters(store: Store) -> None:
    start(store, "s1", T0)
    for _ in range(2):
        with store.session() as session:
            clusters_repo.save_clusters(session, "s1", [ring("k1"), ring("k2")])
    assert counts(store) == (2, 12)
    with store.session() as session:
        clusters_repo.save_clusters(session, "s1", [ring("k3", sellers=5, per_seller=1)])
    assert counts(store) == (1, 5)
    with store.session() as session:
        assert clusters_repo.latest_cluster(session, "k1") is None
        clusters_repo.save_clusters(session, "s1", [])
    assert counts(store) == (0, 0)


def test_the_newest_scan_with_the_key_wins_and_older_ones_stay(store: Store) -> None:
    start(store, "old", T0)
    start(store, "new", T0 + timedelta(days=1))
    with store.session() as session:
        clusters_repo.save_clusters(session, "new", [ring("same", sample="newer text")])
        clusters_repo.save_clusters(session, "old", [ring("same", sellers=9, sample="older")])
    with store.session() as session:
        found = clusters_repo.latest_cluster(session, "same")
    assert found is not None and (found.scan_id, found.sample) == ("new", "newer text")
    assert counts(store)[0] == 2
    with store.session() as session:
        assert clusters_repo.latest_cluster(session, "unknown") is None


def test_members_name_the_stored_listing_when_there_is_one(store: Store) -> None:
    start(store, "s1", T0)
    stored = listing(platform="taobao", listing_id="copy-1")
    assessment = {
        "platform": "taobao", "listing_id": "copy-1", "verdict": "needs_review", "risk": 0.5,
        "log_odds": 0.1, "brand": None, "product": None, "signals": [],
    }  # fmt: skip
    record = ClusterRecord(
        key="abc",
        listings=3,
        sellers=3,
        similarity=0.9,
        sample="x" * 5000,
        members=[
            ("taobao", "copy-1", "s1"),
            ("taobao", "copy-2", None),
            ("jd", "copy-1", "s3"),
            ("taobao", "copy-1", "s1"),  # named twice: stored once
        ],
    )
    with store.session() as session:
        listings_repo.save_assessments(
            session, scan_id="s1", scanned_at=T0, items=[(stored, assessment)]
        )
        clusters_repo.save_clusters(session, "s1", [record])
    with store.session() as session:
        found = clusters_repo.latest_cluster(session, "abc")
        assert found is not None
        members = {
            (m.platform, m.listing_id): m for m in clusters_repo.cluster_members(session, found.pk)
        }
    assert len(found.sample) == clusters_repo.MAX_SAMPLE
    assert set(members) == {("taobao", "copy-1"), ("taobao", "copy-2"), ("jd", "copy-1")}
    assert members["taobao", "copy-1"].listing_pk is not None
    assert members["jd", "copy-1"].listing_pk is None
    assert members["taobao", "copy-2"].seller_id is None


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([ring("0123456789abcdef0")], "expected 1 to 16 characters"),
        ([ring("dup"), ring("dup")], "unique within a scan"),
        (
            [ClusterRecord("k", 1, 1, 0.9, "t", [("taobao", "x" * 301, None)])],
            "over 100",
        ),
    ],
)
def test_bad_clusters_are_refused_before_anything_is_written(
    store: Store, records: list[ClusterRecord], message: str
) -> None:
    start(store, "s1", T0)
    with store.session() as session:
        clusters_repo.save_clusters(session, "s1", [ring("kept")])
    with pytest.raises(ValueError, match=message), store.session() as session:
        clusters_repo.save_clusters(session, "s1", records)
    assert counts(store) == (1, 6)
