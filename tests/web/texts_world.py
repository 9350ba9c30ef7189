"""A small alliance whose listings copy text, with the signals built by hand as the `texts`
detector records them (the shapes its contract gives): acme owns a registered manual
(a work of kind text, its file uploaded as the pages do); one listing copies a passage of it and
belongs to a copy-paste cluster of six listings by three sellers, one of which the store does
not hold. Who sees what: acme sees the copier and one ring listing, shopmart two other ring
listings, globex none; the operator all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.factories import listing
from vigil.services import registry_works
from vigil.services.tenancy import grant_access
from vigil.store import clusters_repo, listings_repo
from vigil.store.db import Store, cli_actor
from vigil.store.tables import ListingRow

SCAN = "texts-scan"
SCANNED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = "3f2a9c0d1b7e4a56"
WORK = "X1 手机用户手册"
MANUAL = (
    "# X1 手机用户手册\n\n"
    "欢迎使用 X1 手机。本手册介绍手机的基本功能与安全注意事项。\n\n"
    "本产品采用高强度铝合金机身，配备六点七英寸高刷新率显示屏。首次使用前，请将电池充满电，"
    "并阅读本说明书中的安全注意事项。请勿在高温、潮湿或有腐蚀性气体的环境中使用本产品。\n\n"
    "如需维修，请联系授权服务中心。\n"
)
PASSAGE = (
    "本产品采用高强度铝合金机身,配备六点七英寸高刷新率显示屏。首次使用前,请将电池充满电,"
    "并阅读本说明书中的安全注意事项。"
)
BEFORE = "欢迎使用x1手机。本手册介绍手机的基本功能与安全注意事项。"
AFTER = "请勿在高温、潮湿或有腐蚀性气体的环境中使用本产品。"
RING_TEXT = "厂家直销 高品质手机壳 多色可选 下单备注颜色 批量拿货请联系微信 ring-secret-42"
# The stored sample: a description from the ring that only the operator may read.
SAMPLE = RING_TEXT + " 店铺 shop-c 专用"


def copyrighted_signal(**details: Any) -> dict[str, Any]:
    """A `copyrighted_text` signal as the detector records it; `details` override."""
    recorded: dict[str, Any] = {
        "work": WORK,
        "owner": "acme",
        "containment": 0.83,
        "copied_chars": len(PASSAGE),
        "passage": PASSAGE,
        "work_excerpt": {"before": BEFORE, "match": PASSAGE, "after": AFTER},
        "work_offset": 42,
        "brand": None,
    }
    recorded.update(details)
    return {
        "detector": "texts",
        "kind": "copyrighted_text",
        "asset": f"work:acme/{WORK}",
        "weight": 3.9,
        "evidence": PASSAGE[:300],
        "explanation": "The description copies a passage of a registered work.",
        "details": recorded,
    }


def cluster_signal(key: str = KEY, listings: int = 6, sellers: int = 3) -> dict[str, Any]:
    return {
        "detector": "texts",
        "kind": "copy_paste_cluster",
        "asset": f"cluster:{key}",
        "weight": 1.3,
        "evidence": f"{listings} listings by {sellers} sellers",
        "explanation": "The description is pasted by several sellers.",
        "details": {"cluster": key, "listings": listings, "sellers": sellers, "similarity": 0.91},
    }


def _assessment(record: dict[str, Any], signals: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "platform": record["platform"],
        "listing_id": record["listing_id"],
        "verdict": "infringement_suspected" if len(signals) > 1 else "needs_review",
        "risk": 0.93 if len(signals) > 1 else 0.62,
        "log_odds": 2.6,
        "brand": None,
        "product": None,
        "signals": signals,
    }


@dataclass
class TextsWorld:
    pks: dict[str, int]  # stored listings by listing id
    work_id: int
    work_file: Path


# Ring listings by seller: (listing id, seller); `ring-6` is in the cluster but not stored.
RING = [
    ("ring-1", "shop-a"),
    ("ring-2", "shop-b"),
    ("ring-3", "shop-b"),
    ("ring-4", "shop-c"),
    ("ring-6", "shop-c"),
]


def build_texts_world(store: Store, home: Path) -> TextsWorld:
    """Store the world; the members (acme, globex, shopmart, the operator) must exist."""
    actor = cli_actor()
    work = registry_works.create_work(store, actor=actor, title=WORK, owner="acme")
    kept = registry_works.store_work_file(
        MANUAL.encode(), "x1-manual.md", places=registry_works.WorkPlaces(assets=home / "assets")
    )
    registry_works.add_work_file(store, work.id, actor=actor, stored=kept)

    copier = listing(
        listing_id="copier",
        title="X1 手机 全新正品 官方说明",
        description="全新X1手机。" + PASSAGE + " 包邮 七天无理由退换",
        seller={"id": "shop-a", "name": "小A数码"},
    )
    items = [(copier, _assessment(copier, [copyrighted_signal(), cluster_signal()]))]
    for listing_id, seller in RING[:-1]:
        record = listing(
            listing_id=listing_id,
            title=f"手机壳 {listing_id}",
            description=RING_TEXT + f" {listing_id}",
            seller={"id": seller, "name": f"店铺 {seller}"},
        )
        items.append((record, _assessment(record, [cluster_signal()])))
    with store.session() as session:
        listings_repo.start_scan(session, scan_id=SCAN, started_at=SCANNED_AT, inputs=["feed"])
        listings_repo.save_assessments(session, scan_id=SCAN, scanned_at=SCANNED_AT, items=items)
        listings_repo.finish_scan(
            session, scan_id=SCAN, status="finished", finished_at=SCANNED_AT, summary={}
        )
        members = [("taobao", "copier", "shop-a")] + [("taobao", i, s) for i, s in RING]
        clusters_repo.save_clusters(
            session,
            SCAN,
            [clusters_repo.ClusterRecord(KEY, 6, 3, 0.91, SAMPLE, members)],
        )
    with store.session() as session:
        pks = {i: pk for i, pk in session.execute(select(ListingRow.listing_id, ListingRow.id))}
        grant_access(session, [pks["copier"], pks["ring-1"]], "acme", "shared")
        grant_access(session, [pks["ring-2"], pks["ring-3"]], "shopmart", "uploaded")
    return TextsWorld(pks=pks, work_id=work.id, work_file=kept.path)
