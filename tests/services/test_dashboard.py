"""The dashboard service: every figure checked against counts computed here from the seed."""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Table, insert, select, text, update

from tests.factories import write_registry
from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.regions import province_name
from vigil.services.dashboard import FLAGGED, Dashboard, DashboardError, dashboard
from vigil.services.registry import load_registry
from vigil.services.tenancy import grant_access
from vigil.store import listings_repo
from vigil.store.db import Store
from vigil.store.tables import ListingAccessRow, ListingRow, ScanRow

TODAY = date(2026, 11, 25)
MEMBERS = ("acme", "globex")
BRANDS = [f"Brand{n:02d}" for n in range(14)]  # more than the ten the dashboard names
BRAND_OWNERS = {"Brand00": "acme", "Brand01": "globex"}
CATEGORIES = ["phones", "shoes", "bags", "watches", "cosmetics", None]
PLATFORMS = ["taobao", "jd", "pinduoduo", "ebay"]
# (region text, province code, area) as vigil.regions would resolve them.
REGIONS: list[tuple[str | None, str | None, str | None]] = [
    ("广东省深圳市南山区", "440000", "urban"),
    ("广东省梅州市大埔县", "440000", "rural"),
    ("浙江省杭州市", "330000", None),
    ("北京市朝阳区", "110000", "urban"),
    ("内蒙古自治区锡林郭勒盟正蓝旗", "150000", "rural"),
    ("Atlantis, somewhere", None, None),
    (None, None, None),
    ("  ", None, None),
]


def actor_of(member_id: str, kind: MemberKind = MemberKind.BRAND_OWNER) -> Actor:
    return Actor(
        name=f"viewer@{member_id}.test", member_id=member_id, member_kind=kind, role=Role.VIEWER
    )


OPERATOR = actor_of("alliance", MemberKind.OPERATOR)
ACME = actor_of("acme")
GLOBEX = actor_of("globex")


@dataclass
class Seed:
    """One stored listing as the test means it, with who may see it and their review state."""

    listing_id: str
    platform: str
    verdict: str
    risk: float
    brand: str | None
    category: str | None
    seller_id: str | None
    seller_name: str | None
    region: str | None
    province_code: str | None
    area: str | None
    scanned_at: datetime
    access: dict[str, str] = field(default_factory=dict)  # member -> review state


@dataclass
class SeedScan:
    id: str
    member_id: str | None
    started_at: datetime
    flagged: int
    scanned: int


def random_seeds(count: int, rng: random.Random, today: date = TODAY) -> list[Seed]:
    seeds = []
    for n in range(count):
        region, province, area = rng.choice(REGIONS)
        seller = rng.randrange(30)
        verdict = rng.choices([*FLAGGED, "clear", "pending"], weights=[4, 2, 3, 2, 1])[0]
        moment = datetime.combine(today, datetime.min.time(), UTC) - timedelta(
            days=rng.randint(-3, 100), seconds=rng.randint(0, 86_399)
        )
        brand = rng.choice([*BRANDS, None])
        # A brand's owner always sees the listing (the repository grants it); others by chance.
        access = {
            m: rng.choice(["open", "open", "confirmed", "dismissed"])
            for m in MEMBERS
            if rng.random() < 0.45 or BRAND_OWNERS.get(brand) == m
        }
        seeds.append(
            Seed(
                listing_id=f"R{n}",
                platform=rng.choice(PLATFORMS),
                verdict=verdict,
                risk=round(rng.random(), 3),
                brand=brand,
                category=rng.choice(CATEGORIES),
                seller_id=None if seller == 0 else f"seller-{seller}",
                seller_name=f"店铺{seller}",
                region=region,
                province_code=province,
                area=area,
                scanned_at=moment,
                access=access,
            )
        )
    return seeds


def boundary_seeds() -> list[Seed]:
    """Flagged listings at the edges of a 30-day period, seen by acme alone."""
    midnight = datetime.combine(TODAY, datetime.min.time(), UTC)
    first_day = midnight - timedelta(days=29)
    moments = {
        "B-first-instant": first_day,
        "B-just-before": first_day - timedelta(microseconds=1),
        "B-last-instant": midnight + timedelta(days=1, microseconds=-1),
        "B-tomorrow": midnight + timedelta(days=1),
    }
    return [
        Seed(
            listing_id=key,
            platform="edge",
            verdict="counterfeit_suspected",
            risk=0.99,
            brand="Brand00",
            category="phones",
            seller_id="edge-seller",
            seller_name="边界店",
            region=None,
            province_code=None,
            area=None,
            scanned_at=moment,
            access={"acme": "open"},
        )
        for key, moment in moments.items()
    ]


def seed_scans() -> list[SeedScan]:
    base = datetime(2026, 11, 1, 8, tzinfo=UTC)
    owners = ["acme", "globex", None, "acme", "globex", "acme", "acme", None, "acme", "globex"]
    return [
        SeedScan(
            id=f"scan-{n:02d}",
            member_id=owner,
            started_at=base + timedelta(hours=7 * n),
            flagged=n * 3,
            scanned=n * 10 + 5,
        )
        for n, owner in enumerate(owners)
    ]


def load_brands(store: Store, tmp_path: Path, *, members: bool = True) -> None:
    """The members (unless they exist already) and the two brands they own, as a registry."""
    registry: dict[str, Any] = {
        "brands": [
            {"name": name, "owner": owner, "aliases": []} for name, owner in BRAND_OWNERS.items()
        ]
    }
    if members:
        registry["members"] = [
            {"id": "alliance", "name": "The Alliance", "kind": "operator"},
            {"id": "acme", "name": "Acme Corp.", "kind": "brand_owner"},
            {"id": "globex", "name": "Globex", "kind": "brand_owner"},
        ]
    report = load_registry(store, write_registry(tmp_path / "brands.yaml", registry))
    assert report.ok, report.problems


def store_seeds(store: Store, seeds: Iterable[Seed], scans: Iterable[SeedScan] = ()) -> None:
    """Write the seed through the listings repository, then what the region resolver and the
    review queue would have added: resolved regions, access rows and review decisions."""
    seeds = list(seeds)
    items = [
        (
            {
                "platform": s.platform,
                "listing_id": s.listing_id,
                "title": f"title {s.listing_id}",
                "region": s.region,
                "category": s.category,
                "seller": {"id": s.seller_id, "name": s.seller_name} if s.seller_id else None,
            },
            {
                "platform": s.platform,
                "listing_id": s.listing_id,
                "verdict": s.verdict,
                "risk": s.risk,
                "log_odds": 0.0,
                "brand": s.brand,
                "product": None,
                "signals": [],
            },
        )
        for s in seeds
    ]
    with store.session() as session:
        started = datetime(2020, 1, 1, tzinfo=UTC)
        listings_repo.start_scan(session, scan_id="seed", started_at=started, inputs=[])
        listings_repo.save_assessments(session, scan_id="seed", scanned_at=started, items=items)
        pks = dict(session.execute(select(ListingRow.listing_id, ListingRow.id)).all())
        # Each listing's own scan time (one scan per listing would be slow to seed).
        session.execute(
            update(ListingRow),
            [
                {
                    "id": pks[s.listing_id],
                    "scanned_at": s.scanned_at,
                    "province_code": s.province_code,
                    "area": s.area,
                }
                for s in seeds
            ],
        )
        for member in MEMBERS:
            mine = [pks[s.listing_id] for s in seeds if member in s.access]
            grant_access(session, mine, member, "shared")
        session.execute(
            update(ListingAccessRow),
            [
                {"listing_pk": pks[s.listing_id], "member_id": member, "review": review}
                for s in seeds
                for member, review in s.access.items()
            ],
        )
        for scan in scans:
            session.add(
                ScanRow(
                    id=scan.id,
                    started_at=scan.started_at,
                    status="finished",
                    finished_at=scan.started_at + timedelta(minutes=5),
                    inputs=[],
                    member_id=scan.member_id,
                    total=scan.scanned,
                    done=scan.scanned,
                    summary={
                        "scanned": scan.scanned,
                        "by_verdict": {"counterfeit_suspected": scan.flagged, "clear": 1},
                    },
                )
            )


# --- what the dashboard should say, computed from the seed -------------------------------


def visible(seeds: list[Seed], actor: Actor, days: int, today: date = TODAY) -> list[Seed]:
    start = today - timedelta(days=days - 1)
    return [
        s
        for s in seeds
        if (actor.is_operator or actor.member_id in s.access)
        and start <= s.scanned_at.date() <= today
    ]


def review_state(seed: Seed, actor: Actor) -> str:
    if not actor.is_operator:
        return seed.access[actor.member_id or ""]
    states = set(seed.access.values())
    return next((s for s in ("confirmed", "dismissed") if s in states), "open")


def ranked(counter: Counter[str | None]) -> list[tuple[str | None, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))


def expect_ranking(board_ranking: Any, counter: Counter[str | None]) -> None:
    order = ranked(counter)
    assert [(c.key, c.flagged) for c in board_ranking.top] == order[:10]
    assert board_ranking.other == sum(n for _, n in order[10:])
    assert board_ranking.other_buckets == len(order[10:])


def province_key(seed: Seed) -> str:
    if seed.province_code:
        return seed.province_code
    return "unresolved" if (seed.region or "").strip() else "none"


def check_dashboard(
    board: Dashboard, seeds: list[Seed], actor: Actor, days: int, today: date = TODAY
) -> None:
    mine = visible(seeds, actor, days, today)
    flagged = [s for s in mine if s.verdict in FLAGGED]
    states = Counter(review_state(s, actor) for s in flagged)

    assert board.totals.listings == len(mine)
    assert board.totals.flagged == len(flagged)
    assert board.totals.confirmed == states["confirmed"]
    assert board.totals.dismissed == states["dismissed"]
    assert board.totals.open == states["open"]

    per_day = Counter(s.scanned_at.date() for s in flagged)
    assert [d.day for d in board.per_day] == [
        today - timedelta(days=days - 1 - i) for i in range(days)
    ]
    assert [d.flagged for d in board.per_day] == [per_day[d.day] for d in board.per_day]

    platforms = ranked(Counter(s.platform for s in flagged))
    assert [(c.key, c.flagged) for c in board.by_platform] == platforms
    expect_ranking(board.by_brand, Counter(s.brand for s in flagged))
    expect_ranking(board.by_category, Counter(s.category for s in flagged))

    provinces: dict[str, Counter[str]] = defaultdict(Counter)
    for s in flagged:
        provinces[province_key(s)][s.area or "unknown"] += 1
    got = {p.code: p for p in board.by_province}
    assert set(got) == set(provinces)
    for code, areas in provinces.items():
        bucket = got[code]
        assert (bucket.areas.urban, bucket.areas.rural, bucket.areas.unknown) == (
            areas["urban"],
            areas["rural"],
            areas["unknown"],
        )
        assert bucket.flagged == sum(areas.values())
    overall = Counter(s.area or "unknown" for s in flagged)
    assert (board.areas.urban, board.areas.rural, board.areas.unknown) == (
        overall["urban"],
        overall["rural"],
        overall["unknown"],
    )

    sellers: dict[tuple[str, str], list[Seed]] = defaultdict(list)
    for s in flagged:
        if s.seller_id:
            sellers[(s.platform, s.seller_id)].append(s)
    expected_sellers = sorted(
        ((key, len(group), max(x.risk for x in group)) for key, group in sellers.items()),
        key=lambda t: (-t[1], -t[2], t[0]),
    )[:10]
    assert [
        ((x.platform, x.seller_id), x.flagged, x.max_risk) for x in board.top_sellers
    ] == expected_sellers


# --- the tests ---------------------------------------------------------------------------


@pytest.fixture
def seeded(store: Store, tmp_path: Path) -> list[Seed]:
    load_brands(store, tmp_path)
    seeds = random_seeds(500, random.Random(20261125)) + boundary_seeds()
    store_seeds(store, seeds, seed_scans())
    return seeds


@pytest.mark.parametrize("days", [7, 30, 90])
@pytest.mark.parametrize("who", ["acme", "globex", "operator"])
def test_every_figure_matches_the_seed(
    store: Store, seeded: list[Seed], who: str, days: int
) -> None:
    actor = {"acme": ACME, "globex": GLOBEX, "operator": OPERATOR}[who]
    board = dashboard(store, actor, days=days, today=TODAY)
    assert (board.days, board.start, board.end) == (days, TODAY - timedelta(days=days - 1), TODAY)
    check_dashboard(board, seeded, actor, days)


def test_the_seed_exercises_what_the_dashboard_distinguishes(seeded: list[Seed]) -> None:
    # Guards the test above against a seed too bland to catch a wrong figure.
    flagged = [s for s in visible(seeded, ACME, 90) if s.verdict in FLAGGED]
    assert len({s.brand for s in flagged}) > 11
    assert {province_key(s) for s in flagged} >= {"440000", "unresolved", "none"}
    assert {review_state(s, ACME) for s in flagged} == {"open", "confirmed", "dismissed"}
    assert any(len(s.access) == 2 and len(set(s.access.values())) == 2 for s in seeded)
    assert any(not s.access for s in seeded)


def test_the_period_includes_its_first_and_last_instant_only(
    store: Store, seeded: list[Seed]
) -> None:
    # Four listings on platform "edge": the period's first and last instants, one microsecond
    # before it and the first instant of tomorrow.
    def edge_count(days: int) -> int:
        board = dashboard(store, ACME, days=days, today=TODAY)
        return next((c.flagged for c in board.by_platform if c.key == "edge"), 0)

    assert edge_count(30) == 2
    assert edge_count(31) == 3  # one day more takes in the instant before
    assert edge_count(1) == 1  # today: its last instant only


def test_a_member_never_sees_what_only_another_member_may(store: Store, seeded: list[Seed]) -> None:
    acme = dashboard(store, ACME, days=90, today=TODAY)
    operator = dashboard(store, OPERATOR, days=90, today=TODAY)
    acme_ids = {s.listing_id for s in visible(seeded, ACME, 90)}
    globex_only = [s for s in visible(seeded, GLOBEX, 90) if s.listing_id not in acme_ids]
    assert globex_only
    assert acme.totals.listings + len(globex_only) <= operator.totals.listings
    assert acme.totals.listings == len(acme_ids)
    # A seller whose every flagged listing belongs to globex alone does not appear to acme.
    acme_sellers = {s.seller_id for s in visible(seeded, ACME, 90) if s.verdict in FLAGGED}
    assert all(x.seller_id in acme_sellers for x in acme.top_sellers)
    # Scans: a member sees its own, the operator all of them.
    assert [s.id for s in acme.recent_scans] == [
        "scan-08",
        "scan-06",
        "scan-05",
        "scan-03",
        "scan-00",
    ]
    assert {s.member_id for s in acme.recent_scans} == {"acme"}
    assert [s.id for s in operator.recent_scans] == [f"scan-{n:02d}" for n in range(9, 4, -1)]
    assert [s.id for s in dashboard(store, GLOBEX, today=TODAY).recent_scans] == [
        "scan-09",
        "scan-04",
        "scan-01",
    ]


def test_recent_scans_carry_their_progress_and_outcome(store: Store, seeded: list[Seed]) -> None:
    latest = dashboard(store, ACME, today=TODAY).recent_scans[0]
    assert (latest.id, latest.status, latest.scanned, latest.flagged) == (
        "scan-08",
        "finished",
        85,
        24,
    )
    assert latest.started_at == datetime(2026, 11, 3, 16, tzinfo=UTC)
    assert latest.finished_at == latest.started_at + timedelta(minutes=5)


def test_province_names_come_from_the_region_tables(store: Store, seeded: list[Seed]) -> None:
    board = dashboard(store, OPERATOR, days=90, today=TODAY)
    names = {p.code: p.name for p in board.by_province}
    assert names["440000"] == province_name("440000")
    assert "广东" in names["440000"]
    assert "内蒙古" in names["150000"]
    # Named provinces first (largest first), then the two buckets without a province.
    assert [p.code for p in board.by_province][-2:] in (
        ["unresolved", "none"],
        ["none", "unresolved"],
    )
    named = [p.flagged for p in board.by_province[:-2]]
    assert named == sorted(named, reverse=True)


def test_an_empty_store_gives_zeros(store: Store, tmp_path: Path) -> None:
    load_brands(store, tmp_path)
    for actor in (ACME, OPERATOR):
        board = dashboard(store, actor, days=7, today=TODAY)
        assert board.totals.model_dump() == {
            "listings": 0,
            "flagged": 0,
            "confirmed": 0,
            "dismissed": 0,
            "open": 0,
        }
        assert [d.flagged for d in board.per_day] == [0] * 7
        assert board.by_platform == [] and board.by_brand.top == [] and board.by_brand.other == 0
        assert board.by_province == [] and board.areas.total == 0
        assert board.top_sellers == [] and board.recent_scans == []


def test_the_period_defaults_to_thirty_days_ending_today(store: Store) -> None:
    board = dashboard(store, OPERATOR)
    assert board.days == 30 and board.end == datetime.now(UTC).date()
    assert len(board.per_day) == 30


@pytest.mark.parametrize("days", [0, -5, 367])
def test_a_period_out_of_range_is_refused_with_the_limits(store: Store, days: int) -> None:
    with pytest.raises(DashboardError, match="between 1 and 366 days"):
        dashboard(store, ACME, days=days, today=TODAY)


def test_at_volume_the_counts_hold_and_the_dashboard_is_quick(store: Store, tmp_path: Path) -> None:
    load_brands(store, tmp_path)
    rng = random.Random(4)
    seeds = random_seeds(20_000, rng)
    bulk_insert(store, seeds)
    timings = {}
    for actor in (OPERATOR, ACME):
        started = time.perf_counter()
        board = dashboard(store, actor, days=90, today=TODAY)
        timings[actor.member_id] = time.perf_counter() - started
        check_dashboard(board, seeds, actor, 90)
    print(f"dashboard over 20,000 listings: {timings}")
    # Generous: a query that falls off its index takes many times longer than this.
    assert max(timings.values()) < 3.0, timings


def bulk_insert(store: Store, seeds: list[Seed]) -> None:
    """Volume rows straight into the tables (the repository path is tested above)."""
    rows = [
        {
            "id": n + 1,
            "platform": s.platform,
            "listing_id": s.listing_id,
            "title": "t",
            "currency": "CNY",
            "condition": "new",
            "seller_id": s.seller_id,
            "seller": {"id": s.seller_id, "name": s.seller_name} if s.seller_id else None,
            "region": s.region,
            "province_code": s.province_code,
            "area": s.area,
            "category": s.category,
            "images": [],
            "verdict": s.verdict,
            "risk": s.risk,
            "log_odds": 0.0,
            "brand": s.brand,
            "scanned_at": s.scanned_at,
        }
        for n, s in enumerate(seeds)
    ]
    access = [
        {"listing_pk": n + 1, "member_id": m, "reason": "brand", "review": review}
        for n, s in enumerate(seeds)
        for m, review in s.access.items()
    ]
    with store.session() as session:
        # Core statements: the ORM's bulk insert costs several times more per row.
        connection = session.connection()
        connection.execute(insert(cast(Table, ListingRow.__table__)), rows)
        connection.execute(insert(cast(Table, ListingAccessRow.__table__)), access)
    if store.engine.dialect.name == "postgresql":
        # Autovacuum gathers statistics within a minute of a bulk load; without them the
        # planner takes the fresh tables for nearly empty and picks nested loops.
        with store.engine.connect() as connection:
            connection.execute(text("ANALYZE listings"))
            connection.execute(text("ANALYZE listing_access"))
            connection.commit()
