"""The assessments service: filters, sorts and cursors checked against a model computed here
from the stored rows; tenancy, review, share, detail, export.

Listings are seeded through the real services: a marketplace uploads a feed, a scan assesses
it and a second feed nobody uploaded. Every test runs on SQLite and, when
VIGIL_TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import base64
import csv
import io
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import event, func, select, update

from tests.factories import listing, registry_data, write_jsonl, write_registry
from vigil.domain.assessment import Assessment
from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.services import accounts
from vigil.services.assessments import (
    CSV_COLUMNS,
    AssessmentQueryError,
    Filters,
    ListingNotFound,
    MemberNotFound,
    ReviewError,
    Sort,
    assessments,
    encode_cursor,
    export,
    iter_assessments,
    listing_detail,
    parse_filters,
    parse_sort,
    review,
    share,
)
from vigil.services.assessments import count as counting
from vigil.services.assessments.count import Tally, count_assessments
from vigil.services.assessments.highlights import SignalText, segments, spans_for
from vigil.services.assessments.params import Position
from vigil.services.registry import load_registry
from vigil.services.scan import scan
from vigil.services.tenancy import visible_listings
from vigil.services.uploads import ingest_batch
from vigil.settings import load_scan_config
from vigil.store.db import Store, cli_actor
from vigil.store.tables import AuditEventRow, ListingAccessRow, ListingRow, MemberRow

XSS = "<script>alert(1)</script>"
MEMBERS = {
    "alliance": MemberKind.OPERATOR,
    "acme": MemberKind.BRAND_OWNER,
    "globex": MemberKind.BRAND_OWNER,
    "shopmart": MemberKind.MARKETPLACE,
}
BRAND_OWNERS = {"Xiaomi": "acme", "Apple": "globex"}
XIAOMI = [
    "小米14 Ultra 高仿 一比一 顶配",
    "小米14 精仿 原单 全新",
    "Xiaorni 14 phone replica AAA",
    "小米14 Ultra 复刻版 工厂货",
    "小米14 高仿 A货",
]
APPLE = ["Apple iPhone 15 高仿 一比一", "苹果 iPhone 15 精仿 原单"]
UNBRANDED = ["名牌包 高仿 A货 超A", "运动鞋 莆田 1:1 复刻"]
CLEAR = ["小米14 手机壳 适用于小米14", "小米14 Ultra 手机 全新"]
REGIONS = [
    "广东省深圳市南山区",
    "广东省梅州市大埔县",
    "浙江省杭州市",
    "北京市朝阳区",
    "Atlantis",
    None,
]
PLATFORMS = ["taobao", "jd", "pinduoduo"]
# Listings whose text holds what SQL and LIKE treat specially; searching for it must find it.
SPECIAL = {
    "pct": ("100% 正品 小米14 高仿", "%"),
    "und": ("under_score 小米14 精仿", "_"),
    "bsl": ("back\\slash 小米14 复刻", "\\"),
    "sql": ("' OR 1=1 -- 小米14 高仿", "' OR 1=1 --"),
}
DAY0 = datetime(2026, 3, 1, tzinfo=UTC)


def actor_of(member_id: str, role: Role = Role.ANALYST) -> Actor:
    return Actor(
        name=f"{role.value}@{member_id}.test",
        member_id=member_id,
        member_kind=MEMBERS[member_id],
        role=role,
        source="127.0.0.1",
    )


OPERATOR = actor_of("alliance")
ACME = actor_of("acme")
GLOBEX = actor_of("globex")
SHOPMART = actor_of("shopmart")
ACTORS = [OPERATOR, ACME, GLOBEX, SHOPMART]


def generated(rng: random.Random, listing_id: str, *, branded: bool = False) -> dict[str, Any]:
    pools = [XIAOMI, APPLE] if branded else [XIAOMI, XIAOMI, APPLE, UNBRANDED, CLEAR]
    title = rng.choice(rng.choice(pools))
    seller = rng.randrange(6)
    return listing(
        listing_id=listing_id,
        platform=rng.choice(PLATFORMS),
        title=title,
        description=rng.choice([None, "全新 晓米 手机 精仿", "支持验货"]),
        price=None if rng.random() < 0.15 else float(rng.randrange(50, 4000)),
        region=rng.choice(REGIONS),
        seller={"id": f"shop-{seller}", "name": f"数码小铺{seller}号"},
        images=["https://img.example/a.jpg", "photos/local.jpg"],
    )


def special_listings() -> list[dict[str, Any]]:
    found = [
        listing(listing_id=key, title=title, price=None if key == "und" else 600.0)
        for key, (title, _) in SPECIAL.items()
    ]
    found.append(
        listing(
            listing_id="xss",
            title=f"{XSS} 小米14 高仿",
            description=f"{XSS} 晓米 精仿",
            price=900.0,
            seller={"id": "evil-shop", "name": XSS},
        )
    )
    found.append(listing(listing_id="csv", title='=HYPERLINK("http://x") 小米14 高仿', price=500.0))
    return found


def create_members(store: Store) -> None:
    for member_id, kind in MEMBERS.items():
        accounts.create_member(
            store, member_id=member_id, name=member_id.title(), kind=kind.value, actor=cli_actor()
        )


def seed(store: Store, folder: Path, *, uploaded: int = 42, scanned_only: int = 12) -> None:
    """Load a registry (Xiaomi owned by acme, Apple by globex); shopmart uploads a feed; a scan
    assesses it together with a feed nobody uploaded; then the listings are spread over days as
    if scanned on different ones."""
    data = registry_data(members=[])
    for brand in data["brands"]:
        brand["owner"] = BRAND_OWNERS[brand["name"]]
    report = load_registry(store, write_registry(folder / "registry.yaml", data))
    assert report.ok, report.problems
    rng = random.Random(11)
    feed = [generated(rng, f"u{i}") for i in range(uploaded)] + special_listings()
    others = [generated(rng, f"scan-{i}", branded=True) for i in range(scanned_only)]
    uploaded_feed = write_jsonl(folder / "uploaded.jsonl", feed)
    ingest_batch(store, SHOPMART, uploaded_feed.read_bytes())
    scanned = write_jsonl(folder / "scanned.jsonl", others)
    scan(store, [str(uploaded_feed), str(scanned)], folder / "out", config=load_scan_config())
    with store.session() as session:
        for pk in session.scalars(select(ListingRow.id)):
            # Several listings a day, so that days and sort ties both occur.
            session.execute(
                update(ListingRow)
                .where(ListingRow.id == pk)
                .values(scanned_at=DAY0 + timedelta(days=pk % 6, hours=pk % 2))
            )


@pytest.fixture
def seeded(store: Store, tmp_path: Path) -> Store:
    create_members(store)
    seed(store, tmp_path)
    return store


# --- the model: what a query should return, computed from the rows -------------------------


@dataclass
class Row:
    pk: int
    listing_id: str
    platform: str
    title: str
    seller_id: str | None
    seller_name: str | None
    verdict: str
    risk: float
    brand: str | None
    price: float | None
    province_code: str | None
    area: str | None
    scanned_at: datetime
    access: dict[str, str]

    def value(self, key: str) -> Any:
        return getattr(self, key)


def stored_rows(store: Store) -> list[Row]:
    with store.session() as session:
        access: dict[int, dict[str, str]] = {}
        for grant in session.scalars(select(ListingAccessRow)):
            access.setdefault(grant.listing_pk, {})[grant.member_id] = grant.review
        rows = []
        for r in session.scalars(select(ListingRow)):
            at = r.scanned_at if r.scanned_at.tzinfo else r.scanned_at.replace(tzinfo=UTC)
            rows.append(
                Row(
                    pk=r.id,
                    listing_id=r.listing_id,
                    platform=r.platform,
                    title=r.title,
                    seller_id=r.seller_id,
                    seller_name=(r.seller or {}).get("name"),
                    verdict=r.verdict,
                    risk=r.risk,
                    brand=r.brand,
                    price=r.price,
                    province_code=r.province_code,
                    area=r.area,
                    scanned_at=at,
                    access=access.get(r.id, {}),
                )
            )
        return rows


def sees(row: Row, actor: Actor) -> bool:
    return actor.is_operator or actor.member_id in row.access


def contains(haystack: str | None, needle: str) -> bool:
    return haystack is not None and needle.lower() in haystack.lower()


def keeps(row: Row, f: Filters, actor: Actor) -> bool:
    state = row.access.get(actor.member_id or "", "open")
    day = row.scanned_at.date()
    checks = [
        not f.verdicts or row.verdict in f.verdicts,
        not f.brands or row.brand in f.brands,
        not f.platforms or row.platform in f.platforms,
        f.province is None or row.province_code == f.province,
        f.area is None or row.area == f.area,
        f.risk_min is None or row.risk >= f.risk_min,
        f.risk_max is None or row.risk <= f.risk_max,
        f.scanned_from is None or day >= f.scanned_from,
        f.scanned_to is None or day <= f.scanned_to,
        f.review is None or state == f.review,
        f.search is None
        or contains(row.title, f.search)
        or contains(row.seller_id, f.search)
        or contains(row.seller_name, f.search)
        or row.listing_id == f.search,
    ]
    return all(checks)


def expected(rows: list[Row], actor: Actor, f: Filters, sort: Sort) -> list[int]:
    kept = [r for r in rows if sees(r, actor) and keeps(r, f, actor)]
    valued = [r for r in kept if r.value(sort.key) is not None]
    missing = [r for r in kept if r.value(sort.key) is None]
    valued.sort(key=lambda r: (r.value(sort.key), r.pk), reverse=sort.descending)
    missing.sort(key=lambda r: r.pk, reverse=sort.descending)
    return [r.pk for r in valued + missing]


def all_pages(store: Store, actor: Actor, f: Filters, sort: Sort, limit: int) -> list[int]:
    found: list[int] = []
    cursor = None
    for _ in range(1_000):
        page = assessments(store, actor, f, sort=sort, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        found += [item.id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return found
        assert len(page.items) == limit, "a page before the last one is full"
    raise AssertionError("the cursor never ended")


# --- filters, sort, cursor -------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["-risk", "risk", "-scanned_at", "scanned_at", "price", "-price",
                                  "brand", "-brand"])  # fmt: skip
def test_every_sort_pages_through_the_whole_set_once(seeded: Store, sort: str) -> None:
    rows = stored_rows(seeded)
    order = parse_sort(sort)
    for actor in ACTORS:
        want = expected(rows, actor, Filters(), order)
        assert want, f"{actor.member_id} should see listings"
        got = all_pages(seeded, actor, Filters(), order, limit=7)
        assert got == want, f"{actor.member_id} sorted by {sort}"
    # Ties exist (several listings share a day, or a risk), so the id tie-break is exercised.
    assert len({r.scanned_at for r in rows}) < len(rows)


FILTERS = [
    {"verdict": ["counterfeit_suspected"]},
    {"verdict": ["counterfeit_suspected,needs_review"]},
    {"verdict": ["clear", "pending"]},
    {"brand": ["Xiaomi"]},
    {"brand": ["Apple", "Xiaomi"], "platform": ["jd"]},
    {"platform": ["taobao", "pinduoduo"]},
    {"province": ["440000"]},
    {"province": ["44"], "area": ["rural"]},
    {"area": ["urban"]},
    {"risk_min": ["0.9"]},
    {"risk_min": ["0.2"], "risk_max": ["0.95"]},
    {"from": ["2026-03-02"], "to": ["2026-03-03"]},
    {"from": ["2026-03-05"]},
    {"to": ["2026-03-01"]},
    {"review": ["open"]},
    {"q": ["数码小铺3"]},
    {"q": ["IPHONE"]},
    {"q": ["u7"]},
    {"verdict": ["counterfeit_suspected"], "brand": ["Xiaomi"], "from": ["2026-03-01"],
     "to": ["2026-03-04"], "risk_min": ["0.5"], "review": ["open"]},
]  # fmt: skip


@pytest.mark.parametrize("params", FILTERS, ids=[str(f) for f in FILTERS])
def test_filters_keep_what_they_say(seeded: Store, params: dict[str, list[str]]) -> None:
    review(seeded, ACME, [i.id for i in assessments(seeded, ACME, limit=3).items], "confirmed")
    review(seeded, OPERATOR, [assessments(seeded, OPERATOR, limit=1).items[0].id], "dismissed")
    rows = stored_rows(seeded)
    filters = parse_filters(params)
    for sort in ("-risk", "scanned_at", "-price"):
        order = parse_sort(sort)
        for actor in ACTORS:
            want = expected(rows, actor, filters, order)
            assert all_pages(seeded, actor, filters, order, limit=5) == want, (actor, sort)
    sizes = [
        (len(expected(rows, a, filters, Sort())), len(expected(rows, a, Filters(), Sort())))
        for a in ACTORS
    ]
    assert any(0 < kept < everything for kept, everything in sizes), "the filter should matter"


@pytest.mark.parametrize("params", [{}, *FILTERS], ids=["no filter", *map(str, FILTERS)])
def test_a_count_says_how_many_listings_the_pages_hold(
    seeded: Store, params: dict[str, list[str]]
) -> None:
    review(seeded, ACME, [i.id for i in assessments(seeded, ACME, limit=4).items], "confirmed")
    rows = stored_rows(seeded)
    filters = parse_filters(params)
    for actor in ACTORS:
        want = len(expected(rows, actor, filters, Sort()))
        assert count_assessments(seeded, actor, filters) == Tally(want), actor.member_id
        assert count_assessments(seeded, actor, filters, budget=5.0) == Tally(want)


def test_a_count_stops_at_its_cap(seeded: Store) -> None:
    everything = len(expected(stored_rows(seeded), SHOPMART, Filters(), Sort()))
    assert everything > 10
    assert count_assessments(seeded, SHOPMART, Filters(), cap=10) == Tally(10, over=True)
    exact = count_assessments(seeded, SHOPMART, Filters(), cap=everything)
    assert exact == Tally(everything)


def test_a_count_past_its_time_budget_gives_up_and_leaves_the_store_usable(
    seeded: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    search = parse_filters({"q": ["数码小铺"]})
    want = len(expected(stored_rows(seeded), OPERATOR, search, Sort()))
    # Look at the clock after every SQLite instruction, so that even this small store is slow.
    monkeypatch.setattr(counting, "_STEPS", 1)
    late = count_assessments(seeded, OPERATOR, search, budget=0.0)
    if seeded.engine.dialect.name == "sqlite":
        assert late is None
    else:  # a 1 ms statement_timeout: this small count may finish within it
        assert late in (None, Tally(want))
    assert count_assessments(seeded, OPERATOR, search) == Tally(want)
    assert len(all_pages(seeded, OPERATOR, search, Sort(), limit=50)) == want


def test_the_review_filter_follows_decisions(seeded: Store) -> None:
    mine = [item.id for item in assessments(seeded, ACME, limit=10).items]
    review(seeded, ACME, mine[:3], "confirmed")
    review(seeded, ACME, mine[3:5], "dismissed")
    rows = stored_rows(seeded)
    for state in ("open", "confirmed", "dismissed"):
        f = parse_filters({"review": [state]})
        for actor in (ACME, OPERATOR, GLOBEX):
            assert all_pages(seeded, actor, f, Sort(), limit=4) == expected(rows, actor, f, Sort())
    confirmed = parse_filters({"review": ["confirmed"]})
    assert sorted(all_pages(seeded, ACME, confirmed, Sort(), 50)) == sorted(mine[:3])
    # The operator's own queue is its own: acme's decisions are not the operator's.
    assert all_pages(seeded, OPERATOR, confirmed, Sort(), 50) == []


def test_listings_without_a_value_come_last_in_both_directions(seeded: Store) -> None:
    for sort in ("price", "-price", "brand", "-brand"):
        items = list(iter_assessments(seeded, OPERATOR, Filters(), parse_sort(sort), chunk=4))
        values = [getattr(item, sort.lstrip("-")) for item in items]
        first_missing = values.index(None)
        assert all(v is None for v in values[first_missing:]), sort
        assert all(v is not None for v in values[:first_missing]), sort


def test_a_cursor_carries_on_exactly_where_the_page_ended(seeded: Store) -> None:
    first = assessments(seeded, SHOPMART, limit=5)
    assert first.next_cursor
    second = assessments(seeded, SHOPMART, limit=5, cursor=first.next_cursor)
    both = assessments(seeded, SHOPMART, limit=10)
    assert [i.id for i in first.items + second.items] == [i.id for i in both.items]
    # An opaque token: no SQL, no filter values in clear.
    assert "risk" not in first.next_cursor and " " not in first.next_cursor


def _flip(token: str) -> str:
    body, mac = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode() + "." + mac


def test_a_changed_cut_or_foreign_cursor_is_refused(seeded: Store) -> None:
    page = assessments(seeded, ACME, limit=3)
    token = page.next_cursor
    assert token
    body, mac = token.split(".")
    forged_payload = orjson.dumps({"s": "-risk", "f": Filters().fingerprint(), "k": 0.5,
                                   "i": 1, "m": False})  # fmt: skip
    forged = base64.urlsafe_b64encode(forged_payload).rstrip(b"=").decode() + "." + mac
    bad = [_flip(token), token[:-3], body, "garbage", "a.b", "", ".", forged, "\x00"]
    for cursor in bad:
        if not cursor:
            continue
        with pytest.raises(AssessmentQueryError, match="cursor"):
            assessments(seeded, ACME, limit=3, cursor=cursor)
    with pytest.raises(AssessmentQueryError, match="other filters or another sort"):
        assessments(seeded, ACME, Filters(brands=("Xiaomi",)), limit=3, cursor=token)
    with pytest.raises(AssessmentQueryError, match="other filters or another sort"):
        assessments(seeded, ACME, sort=parse_sort("price"), limit=3, cursor=token)
    # A well-formed cursor of the right query, pointing anywhere, still only shows what the
    # actor may see: the cursor carries no authority.
    anywhere = encode_cursor(Filters(), Sort(), Position(1.1, 10**9))
    seen = {i.id for i in assessments(seeded, GLOBEX, limit=500, cursor=anywhere).items}
    assert seen == {r.pk for r in stored_rows(seeded) if "globex" in r.access}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"verdict": ["fake"]}, "verdict: unknown 'fake'"),
        ({"risk_min": ["high"]}, "risk_min: expected a number from 0 to 1"),
        ({"risk_max": ["1.5"]}, "risk_max: expected a number from 0 to 1"),
        ({"risk_min": ["nan"]}, "risk_min"),
        ({"risk_min": ["0.9"], "risk_max": ["0.1"]}, "risk_min is above risk_max"),
        ({"from": ["yesterday"]}, "from: expected a date as YYYY-MM-DD"),
        ({"from": ["2026-03-05"], "to": ["2026-03-01"]}, "from is after to"),
        ({"province": ["Guangdong"]}, "province: expected a province code"),
        ({"area": ["suburban"]}, "area: expected urban or rural"),
        ({"review": ["maybe"]}, "review: expected one of open, confirmed, dismissed"),
        ({"q": ["x" * 201]}, "q: search for at most 200"),
        ({"q": ["a\x00b"]}, "NUL"),
        ({"area": ["urban", "rural"]}, "area: give it once"),
    ],
)
def test_bad_filters_are_explained(params: dict[str, list[str]], message: str) -> None:
    with pytest.raises(AssessmentQueryError, match=message.replace("(", r"\(")):
        parse_filters(params)


def test_bad_sort_and_limit_are_explained(seeded: Store) -> None:
    with pytest.raises(AssessmentQueryError, match="sort: expected one of risk"):
        parse_sort("title; DROP TABLE listings")
    with pytest.raises(AssessmentQueryError, match="limit"):
        assessments(seeded, ACME, limit=501)


METACHARACTERS = ["' OR 1=1 --", "%", "_", "\\", '" OR ""="', "'; DROP TABLE listings; --"]


def _counts(store: Store) -> tuple[int, int, int]:
    with store.session() as session:
        return (
            session.scalar(select(func.count()).select_from(ListingRow)) or 0,
            session.scalar(select(func.count()).select_from(ListingAccessRow)) or 0,
            session.scalar(select(func.count()).select_from(MemberRow)) or 0,
        )


def test_sql_metacharacters_in_every_filter_are_plain_text(seeded: Store) -> None:
    rows = stored_rows(seeded)
    before = _counts(seeded)
    names = ["verdict", "brand", "platform", "province", "area", "risk_min", "risk_max", "from",
             "to", "review", "q"]  # fmt: skip
    for name in names:
        for value in METACHARACTERS:
            try:
                filters = parse_filters({name: [value]})
            except AssessmentQueryError:
                continue  # refused with a message: harmless too
            for actor in (OPERATOR, SHOPMART):
                got = all_pages(seeded, actor, filters, Sort(), limit=50)
                assert got == expected(rows, actor, filters, Sort()), (name, value)
        for value in METACHARACTERS:
            with pytest.raises(AssessmentQueryError):
                parse_sort(value)
            with pytest.raises(AssessmentQueryError):
                assessments(seeded, ACME, cursor=value)
    assert _counts(seeded) == before
    # Searching for a metacharacter finds the listing that holds it, and only listings that do.
    by_id = {r.listing_id: r for r in rows}
    for key, (_, needle) in SPECIAL.items():
        found = all_pages(seeded, SHOPMART, parse_filters({"q": [needle]}), Sort(), 50)
        assert by_id[key].pk in found
        assert all(needle in r.title or needle in (r.seller_name or "") for r in rows
                   if r.pk in found), needle  # fmt: skip
    assert len(all_pages(seeded, SHOPMART, parse_filters({"q": ["%"]}), Sort(), 50)) == 1


# --- tenancy -------------------------------------------------------------------------------


def test_members_see_their_own_listings_and_nothing_else(seeded: Store) -> None:
    rows = stored_rows(seeded)
    everything = {r.pk for r in rows}
    acme = set(all_pages(seeded, ACME, Filters(), Sort(), 100))
    globex = set(all_pages(seeded, GLOBEX, Filters(), Sort(), 100))
    shopmart = set(all_pages(seeded, SHOPMART, Filters(), Sort(), 100))
    assert set(all_pages(seeded, OPERATOR, Filters(), Sort(), 100)) == everything
    # The page query phrases the tenancy rule its own way; it keeps what the rule keeps.
    with seeded.session() as session:
        for actor, seen in ((ACME, acme), (GLOBEX, globex), (SHOPMART, shopmart)):
            rule = set(session.scalars(select(ListingRow.id).where(visible_listings(actor))))
            assert rule == seen, actor.member_id
    assert {r.pk for r in rows if r.brand == "Xiaomi"} == acme
    assert {r.pk for r in rows if r.brand == "Apple"} == globex
    uploaded = {r.pk for r in rows if not r.listing_id.startswith("scan-")}
    assert shopmart == uploaded
    # The scanned-only feed is the brand owners' and the operator's, not the marketplace's.
    scanned_only = everything - uploaded
    assert scanned_only and not scanned_only & shopmart
    secret = next(iter(scanned_only & globex))
    with pytest.raises(ListingNotFound):
        listing_detail(seeded, SHOPMART, secret)
    with pytest.raises(ListingNotFound):
        listing_detail(seeded, ACME, 10**9)
    with pytest.raises(ListingNotFound):
        share(seeded, SHOPMART, secret, "acme")
    result = review(seeded, SHOPMART, [secret, next(iter(shopmart))], "confirmed")
    assert result.not_found == [secret] and len(result.updated) == 1
    with seeded.session() as session:
        grant = session.get(ListingAccessRow, (secret, "shopmart"))
    assert grant is None, "a review never grants access"
    # Filters and exports never widen what a member sees.
    for params in ({"brand": ["Apple"]}, {"q": ["iPhone"]}, {"verdict": ["clear", "pending"]}):
        f = parse_filters(params)
        assert set(all_pages(seeded, ACME, f, Sort(), 100)) <= acme
        exported = b"".join(export(seeded, ACME, f, Sort(), "jsonl"))
        assert {orjson.loads(line)["id"] for line in exported.splitlines()} <= acme


# --- review and share -----------------------------------------------------------------------


def test_a_bulk_review_records_the_members_decision_with_one_audit_event(seeded: Store) -> None:
    pks = [i.id for i in assessments(seeded, ACME, limit=4).items]
    result = review(seeded, ACME, [*pks, pks[0], 10**9], "confirmed", note="fakes, all of them")
    assert result.updated == pks and result.not_found == [10**9]
    with seeded.session() as session:
        grants = session.scalars(
            select(ListingAccessRow).where(
                ListingAccessRow.member_id == "acme", ListingAccessRow.listing_pk.in_(pks)
            )
        ).all()
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "listings.review")
        ).all()
    assert {g.review for g in grants} == {"confirmed"}
    assert {g.reviewed_by for g in grants} == {ACME.name}
    assert all(g.reviewed_at is not None for g in grants)
    assert len(events) == 1
    assert events[0].details["listings"] == pks and events[0].details["not_found"] == [10**9]
    assert events[0].details["note"] == "fakes, all of them"
    assert (events[0].member_id, events[0].actor, events[0].source) == (
        "acme", ACME.name, "127.0.0.1"
    )  # fmt: skip
    page = assessments(seeded, ACME, limit=4)
    assert all(item.review == "confirmed" for item in page.items if item.id in pks)
    # Another member's view of the same listings is untouched.
    shared = [i.id for i in assessments(seeded, SHOPMART, limit=500).items if i.id in pks]
    assert all(i.review == "open" for i in assessments(seeded, SHOPMART, limit=500).items
               if i.id in shared)  # fmt: skip


def test_the_operator_reviews_with_a_row_of_its_own(seeded: Store) -> None:
    pk = assessments(seeded, OPERATOR, limit=1).items[0].id
    assert review(seeded, OPERATOR, [pk], "dismissed").updated == [pk]
    with seeded.session() as session:
        row = session.get(ListingAccessRow, (pk, "alliance"))
    assert row is not None and row.review == "dismissed"
    assert assessments(seeded, OPERATOR, Filters(review="dismissed")).items[0].id == pk


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([], "confirmed"), "at least one listing"),
        ((list(range(1, 1_002)), "confirmed"), "at most 1,000 listings"),
        (([1], "maybe"), "decision: expected one of"),
    ],
)
def test_bad_review_requests_are_explained(
    seeded: Store, args: tuple[list[int], str], message: str
) -> None:
    with pytest.raises(ReviewError, match=message):
        review(seeded, ACME, *args)
    with pytest.raises(ReviewError, match="member's decision"):
        review(seeded, cli_actor(), [1], "confirmed")


def test_sharing_lets_another_member_see_the_listing(seeded: Store) -> None:
    rows = stored_rows(seeded)
    pk = next(r.pk for r in rows if r.brand == "Apple" and "shopmart" not in r.access)
    result = share(seeded, GLOBEX, pk, "shopmart")
    assert result.added
    assert pk in {i.id for i in assessments(seeded, SHOPMART, limit=500).items}
    assert listing_detail(seeded, SHOPMART, pk).listing.id == pk
    assert not share(seeded, GLOBEX, pk, "shopmart").added
    with pytest.raises(MemberNotFound, match="no member 'nobody'"):
        share(seeded, GLOBEX, pk, "nobody")
    with pytest.raises(ReviewError, match="own member"):
        share(seeded, GLOBEX, pk, "globex")
    with seeded.session() as session:
        grant = session.get(ListingAccessRow, (pk, "shopmart"))
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "listings.share")
        ).all()
    assert grant is not None and grant.reason == "shared"
    assert [e.details for e in events] == [
        {"listing": pk, "member": "shopmart", "added": True},
        {"listing": pk, "member": "shopmart", "added": False},
    ]


# --- one listing ----------------------------------------------------------------------------


def test_detail_highlights_the_evidence_and_puts_the_price_in_context(seeded: Store) -> None:
    pk = next(r.pk for r in stored_rows(seeded) if r.listing_id == "xss")
    detail = listing_detail(seeded, ACME, pk)
    item = detail.listing
    kinds = {s.kind for s in item.signals}
    assert {"counterfeit_wording", "price_below_msrp"} <= kinds
    texts = {"title": item.title, "description": item.description or ""}
    assert detail.spans, "the wording and the brand name are in the text"
    for span in detail.spans:
        signal = next(s for s in item.signals if s.id == span.signal_id)
        assert texts[span.field][span.start : span.end].casefold() == signal.evidence.casefold()
    marked = {texts[s.field][s.start : s.end] for s in detail.spans}
    assert {"高仿", "晓米", "精仿"} <= marked
    # The brand owner sees its registered MSRP; the marketplace learns it from the signal.
    assert (detail.price.msrp, detail.price.msrp_source) == (3999.0, "registry")
    assert detail.price.ratio_msrp == pytest.approx(900 / 3999)
    seen_by_shop = listing_detail(seeded, SHOPMART, pk)
    assert (seen_by_shop.price.msrp, seen_by_shop.price.msrp_source) == (3999.0, "signal")
    # Each member sees its own grant only; the operator sees all of them.
    assert [a.member_id for a in detail.access] == ["acme"]
    assert {a.member_id for a in listing_detail(seeded, OPERATOR, pk).access} == {
        "acme", "shopmart"
    }  # fmt: skip


def _signal(id: int, kind: str, evidence: str, **details: Any) -> SignalText:
    return SignalText(id, "test", kind, 1.0, evidence, f"{kind} explained", details)


def test_spans_come_from_offsets_positions_or_the_evidence_text() -> None:
    title = "小米14 高仿 一比一"
    signals = [
        _signal(1, "brand_mention", "小米", field="title", start=0, end=2),
        _signal(2, "counterfeit_wording", "高仿", field="title", position=5),
        _signal(3, "blocklisted_seller", "一比一"),  # no offsets: found by its text
        _signal(4, "brand_variant", "晓米", field="title", start=0, end=2),  # stale offsets
        _signal(5, "price_below_msrp", "¥99 vs MSRP ¥3,999 (2%)"),  # not a quote
    ]
    spans = spans_for(title, None, signals)
    assert [(s.signal_id, s.start, s.end) for s in spans] == [(1, 0, 2), (2, 5, 7), (3, 8, 11)]


def test_overlapping_spans_share_segments_and_the_text_survives_whole() -> None:
    text = "A<b>C 高仿 D"
    a = _signal(1, "brand_variant", "A<b>C 高", field="title", start=0, end=7)
    b = _signal(2, "counterfeit_wording", "C 高仿", field="title", start=4, end=8)
    parts = segments(text, spans_for(text, None, [a, b]))
    assert "".join(p.text for p in parts) == text
    assert [(p.text, p.signal_ids) for p in parts] == [
        ("A<b>", (1,)), ("C 高", (1, 2)), ("仿", (2,)), (" D", ()),
    ]  # fmt: skip
    assert parts[1].title == "brand_variant explained · counterfeit_wording explained"
    assert parts[0].kind == "brand_variant"


# --- exports --------------------------------------------------------------------------------


def test_exports_hold_the_whole_filtered_set(seeded: Store) -> None:
    rows = stored_rows(seeded)
    f = parse_filters({"verdict": ["counterfeit_suspected", "needs_review"]})
    want = expected(rows, SHOPMART, f, Sort())
    lines = b"".join(export(seeded, SHOPMART, f, Sort(), "jsonl")).splitlines()
    records = [orjson.loads(line) for line in lines]
    assert [r["id"] for r in records] == want
    for record in records:
        Assessment.model_validate(record)  # the Assessment contract, listing fields besides
        assert {"title", "seller", "region", "review", "signals"} <= set(record)
        assert record["scanned_at"].endswith("Z")
    table = b"".join(export(seeded, SHOPMART, f, Sort(), "csv")).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(table)))
    assert parsed[0] == list(CSV_COLUMNS)
    assert [int(r[0]) for r in parsed[1:]] == want
    titles = {r[CSV_COLUMNS.index("title")] for r in parsed[1:]}
    assert '\'=HYPERLINK("http://x") 小米14 高仿' in titles, "formulas are defused"
    with seeded.session() as session:
        exports = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "assessments.export")
        ).all()
    assert [e.details["format"] for e in exports] == ["jsonl", "csv"]
    with pytest.raises(AssessmentQueryError, match="format"):
        export(seeded, SHOPMART, f, Sort(), "xlsx")


def test_an_export_reads_in_chunks_past_the_first(seeded: Store) -> None:
    for sort in ("-risk", "price", "-brand"):
        order = parse_sort(sort)
        got = [i.id for i in iter_assessments(seeded, OPERATOR, Filters(), order, chunk=3)]
        assert got == expected(stored_rows(seeded), OPERATOR, Filters(), order)


# --- the plan -------------------------------------------------------------------------------


def test_the_default_queue_reads_the_verdict_risk_index_on_sqlite(seeded: Store) -> None:
    """The queue page must stay fast at 100k listings: on SQLite its first query walks
    `ix_listings_verdict_risk` in risk order (one walk per verdict) and never scans the table."""
    if seeded.engine.dialect.name != "sqlite":
        pytest.skip("an SQLite query plan")
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append((statement, parameters))

    event.listen(seeded.engine, "before_cursor_execute", capture)
    try:
        filters = parse_filters({"verdict": ["counterfeit_suspected,infringement_suspected,"
                                             "needs_review"], "review": ["open"]})  # fmt: skip
        assessments(seeded, ACME, filters, limit=50)
    finally:
        event.remove(seeded.engine, "before_cursor_execute", capture)
    statement, parameters = next((s, p) for s, p in statements if "UNION ALL" in s)
    with seeded.engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    details = [str(row[-1]) for row in plan]
    assert any("ix_listings_verdict_risk" in d for d in details), details
    assert not any(d.startswith("SCAN listings") for d in details), details
