"""Scan runs in the background: lifecycle, results, brand access, tenancy and failures.

Every test runs on SQLite and, when VIGIL_TEST_DATABASE_URL is set, on PostgreSQL; the scans
use the real detectors on a small registry in which the member `acme` owns Xiaomi."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from tests.factories import listing, registry_data, write_registry
from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.services.accounts import create_member
from vigil.services.registry import load_registry
from vigil.services.scan_runs import (
    ScanRunError,
    ScanRunner,
    get_run,
    list_runs,
    run_results,
)
from vigil.services.uploads import ingest_batch
from vigil.settings import Settings
from vigil.store.db import Store, cli_actor
from vigil.store.tables import AuditEventRow, ListingAccessRow, ListingRow, SignalRow

FEED = [
    listing(listing_id="c1", title="高仿小米14 Ultra 一比一 顶级版", price=6299),
    listing(listing_id="g1", title="小米14 Ultra 16+512G 官方正品", price=6299),
    listing(listing_id="u1", title="东北黄小米 5斤装 新米", price=39, category="food"),
    listing(listing_id="t1", title="纯棉男士短袖T恤 夏季", price=59, category="clothing"),
]  # fmt: skip
WAIT = 120.0


def actor_of(member_id: str, kind: MemberKind, role: Role = Role.ANALYST) -> Actor:
    return Actor(name=f"{role.value}@{member_id}.test", member_id=member_id, member_kind=kind,
                 role=role, source="127.0.0.1")  # fmt: skip


@pytest.fixture
def alliance(store: Store, tmp_path: Path) -> dict[str, Actor]:
    data = registry_data()
    data["members"][0].update(id="acme", name="Acme Brands")
    data["brands"][0]["owner"] = "acme"
    report = load_registry(store, write_registry(tmp_path / "registry.yaml", data))
    assert report.ok, report.problems
    for member_id, kind in (("shopmart", "marketplace"), ("bazaar", "marketplace"),
                            ("alliance", "operator")):  # fmt: skip
        create_member(store, member_id=member_id, name=member_id, kind=kind, actor=cli_actor())
    return {
        "shopmart": actor_of("shopmart", MemberKind.MARKETPLACE),
        "bazaar": actor_of("bazaar", MemberKind.MARKETPLACE),
        "acme": actor_of("acme", MemberKind.BRAND_OWNER),
        "operator": actor_of("alliance", MemberKind.OPERATOR),
    }


@pytest.fixture
def runner(store: Store, tmp_path: Path) -> Iterator[ScanRunner]:
    started = ScanRunner(store, Settings(home=tmp_path / "home"))
    yield started
    started.shutdown()


def upload(store: Store, actor: Actor, records: list[dict[str, object]]) -> None:
    ingest_batch(store, actor, b"".join(orjson.dumps(r) + b"\n" for r in records))


def rows(store: Store) -> dict[str, ListingRow]:
    with store.session() as session:
        return {row.listing_id: row for row in session.scalars(select(ListingRow))}


def test_a_scan_assesses_every_uploaded_listing_and_stores_all_of_them(
    store: Store, alliance: dict[str, Actor], runner: ScanRunner
) -> None:
    shopmart = alliance["shopmart"]
    upload(store, shopmart, FEED)
    run = runner.start(shopmart)
    assert (run.status, run.total, run.done, run.scope) == ("queued", 4, 0, "pending")
    runner.wait(run.id, WAIT)
    done = get_run(store, shopmart, run.id)
    assert done is not None
    assert (done.status, done.total, done.done, done.percent) == ("finished", 4, 4, 100)
    assert done.by_verdict["counterfeit_suspected"] == 1 and sum(done.by_verdict.values()) == 4
    assert done.error is None and done.finished_at is not None
    stored = rows(store)
    # Every listing has its assessment now, clear ones included, all from this scan.
    assert {r.scan_id for r in stored.values()} == {run.id}
    assert stored["c1"].verdict == "counterfeit_suspected" and stored["c1"].brand == "Xiaomi"
    assert stored["c1"].risk > 0.5
    assert stored["t1"].verdict == "clear" and stored["t1"].brand is None
    assert "pending" not in {r.verdict for r in stored.values()}
    with store.session() as session:
        kinds = set(
            session.scalars(select(SignalRow.kind).where(SignalRow.listing_pk == stored["c1"].id))
        )
        actions = session.scalars(select(AuditEventRow.action)).all()
    assert "counterfeit_wording" in kinds
    assert actions.count("scan.start") == 1 and actions.count("scan.finish") == 1
    # The run's outputs are in the home like any scan's; its exported input is gone.
    folder = runner.settings.home / "scans" / run.id
    assert (folder / "assessments.jsonl").exists() and not (folder / "listings.jsonl").exists()


def test_the_owner_of_the_attributed_brand_gets_access_and_sees_the_results(
    store: Store, alliance: dict[str, Actor], runner: ScanRunner
) -> None:
    shopmart, acme = alliance["shopmart"], alliance["acme"]
    upload(store, shopmart, FEED)
    run = runner.start(shopmart)
    runner.wait(run.id, WAIT)
    with store.session() as session:
        grants = session.execute(
            select(ListingRow.listing_id, ListingAccessRow.reason)
            .join(ListingRow, ListingRow.id == ListingAccessRow.listing_pk)
            .where(ListingAccessRow.member_id == "acme")
        ).all()
    attributed = {k for k, r in rows(store).items() if r.brand == "Xiaomi"}
    assert "c1" in attributed and "t1" not in attributed
    assert {(k, "brand") for k in attributed} == set(grants)
    # The scan is shopmart's: acme cannot open it, though it sees its brand's listings.
    assert get_run(store, acme, run.id) is None and run_results(store, acme, run.id) is None
    mine = run_results(store, shopmart, run.id)
    assert mine is not None and len(mine.items) == 4 and mine.next_cursor is None
    c1 = next(i for i in mine.items if i["listing_id"] == "c1")
    assert c1["verdict"] == "counterfeit_suspected" and c1["signals"]
    assert {s["kind"] for s in c1["signals"]} >= {"counterfeit_wording"}


def test_another_member_cannot_see_a_scan_and_the_operator_sees_all(
    store: Store, alliance: dict[str, Actor], runner: ScanRunner
) -> None:
    shopmart, bazaar = alliance["shopmart"], alliance["bazaar"]
    upload(store, shopmart, FEED[:2])
    upload(store, bazaar, FEED[2:])
    first = runner.start(shopmart)
    runner.wait(first.id, WAIT)
    second = runner.start(bazaar)
    runner.wait(second.id, WAIT)
    assert [r.id for r in list_runs(store, shopmart)] == [first.id]
    assert get_run(store, bazaar, first.id) is None
    assert run_results(store, bazaar, first.id) is None
    assert [r.id for r in list_runs(store, alliance["operator"])] == [second.id, first.id]
    # A member's scan covers only what it can see: bazaar's scan touched only its listings.
    theirs = run_results(store, alliance["operator"], second.id)
    assert theirs is not None
    assert sorted(i["listing_id"] for i in theirs.items) == ["t1", "u1"]


def test_results_are_paginated_with_a_cursor(
    store: Store, alliance: dict[str, Actor], runner: ScanRunner
) -> None:
    shopmart = alliance["shopmart"]
    upload(store, shopmart, [listing(listing_id=f"p{i}", title=f"纯棉T恤 {i}") for i in range(7)])
    run = runner.start(shopmart)
    runner.wait(run.id, WAIT)
    seen: list[str] = []
    cursor = None
    while True:
        page = run_results(store, shopmart, run.id, cursor=cursor, limit=3)
        assert page is not None
        seen += [i["listing_id"] for i in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == [f"p{i}" for i in range(7)] and len(seen) == 7
    with pytest.raises(ScanRunError, match="next_cursor"):
        run_results(store, shopmart, run.id, cursor="'; DROP TABLE listings; --")
    with pytest.raises(ScanRunError, match="limit must be between"):
        run_results(store, shopmart, run.id, limit=0)


def test_results_by_risk_come_highest_first_across_pages(
    store: Store, alliance: dict[str, Actor], runner: ScanRunner
) -> None:
    shopmart = alliance["shopmart"]
    feed = [
        listing(listing_id=f"r{i}", title=title, price=price)
        for i, (title, price) in enumerate(
            [("纯棉T恤", 59), ("高仿小米14 Ultra 一比一", 999), ("纯棉T恤 夏季", 49),
             ("小米14 Ultra 复刻版", 1299), ("纯棉T恤 男款", 69), ("高仿小米14 一比一 顶级版", 799),
             ("纯棉T恤 女款", 39)]
        )
    ]  # fmt: skip
    upload(store, shopmart, feed)
    run = runner.start(shopmart)
    runner.wait(run.id, WAIT)
    seen: list[tuple[float, int]] = []
    cursor = None
    while True:
        page = run_results(store, shopmart, run.id, cursor=cursor, limit=2, order="risk")
        assert page is not None and len(page.items) <= 2
        seen += [(i["risk"], i["listing_pk"]) for i in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    # Every result once, highest risk first, equal risks in listing order.
    assert seen == sorted(seen, key=lambda r: (-r[0], r[1])) and len(set(seen)) == len(feed)
    assert seen[0][0] > seen[-1][0]
    assert len({risk for risk, _ in seen}) < len(seen)  # ties exist, so the cursor met them
    for bad in ("12", "abc_1", "nan_3", "0.5_x", "0.5_"):
        with pytest.raises(ScanRunError, match="next_cursor"):
            run_results(store, shopmart, run.id, cursor=bad, order="risk")
    with pytest.raises(ScanRunError, match="order must be"):
        run_results(store, shopmart, run.id, order="price")
    # A risk-order cursor does not continue the listing order.
    with pytest.raises(ScanRunError, match="next_cursor"):
        run_results(store, shopmart, run.id, cursor="0.5_3")


def test_scopes_pending_and_all(
    store: Store, alliance: dict[str, Actor], runner: ScanRunner
) -> None:
    shopmart = alliance["shopmart"]
    upload(store, shopmart, FEED)
    runner.wait(runner.start(shopmart).id, WAIT)
    with pytest.raises(ScanRunError, match="nothing to scan"):
        runner.start(shopmart)  # nothing is pending any more
    upload(store, shopmart, [{**FEED[3], "title": "纯棉男士短袖T恤 冬季"}])
    again = runner.start(shopmart)
    assert again.total == 1
    runner.wait(again.id, WAIT)
    everything = runner.start(shopmart, scope="all")
    assert everything.total == 4
    runner.wait(everything.id, WAIT)
    with pytest.raises(ScanRunError, match="scope must be"):
        runner.start(shopmart, scope="everything")
    with pytest.raises(ScanRunError, match="upload listings first"):
        runner.start(alliance["bazaar"], scope="all")


def test_a_queued_scan_shows_as_queued_until_the_worker_takes_it(
    store: Store, alliance: dict[str, Actor], runner: ScanRunner
) -> None:
    shopmart = alliance["shopmart"]
    upload(store, shopmart, FEED)
    gate = threading.Event()
    runner._executor.submit(gate.wait, WAIT)  # occupy the worker, as a long scan would
    run = runner.start(shopmart)
    view = get_run(store, shopmart, run.id)
    assert view is not None and view.status == "queued" and view.percent == 0
    gate.set()
    runner.wait(run.id, WAIT)
    view = get_run(store, shopmart, run.id)
    assert view is not None and view.status == "finished"


def test_shutting_down_fails_the_scans_that_did_not_run_and_keeps_listings_pending(
    store: Store, alliance: dict[str, Actor], runner: ScanRunner
) -> None:
    shopmart = alliance["shopmart"]
    upload(store, shopmart, FEED)
    gate = threading.Event()
    runner._executor.submit(gate.wait, WAIT)
    run = runner.start(shopmart)
    threading.Timer(0.2, gate.set).start()
    runner.shutdown()
    view = get_run(store, shopmart, run.id)
    assert view is not None and view.status == "failed"
    assert view.error is not None and "start it again" in view.error
    assert {r.verdict for r in rows(store).values()} == {"pending"}
    with pytest.raises(ScanRunError, match="shutting down"):
        runner.start(shopmart)


def test_a_scan_that_cannot_run_is_marked_failed_with_the_reason(
    store: Store, alliance: dict[str, Actor], runner: ScanRunner
) -> None:
    shopmart = alliance["shopmart"]
    upload(store, shopmart, FEED)
    home = runner.settings.home
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yaml").write_text("scoring: [not, a, mapping\n", encoding="utf-8")
    run = runner.start(shopmart)
    runner.wait(run.id, WAIT)
    view = get_run(store, shopmart, run.id)
    assert view is not None and view.status == "failed"
    assert view.error is not None and "config.yaml" in view.error
    assert {r.verdict for r in rows(store).values()} == {"pending"}
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(SignalRow)) == 0
