"""The store suite: every test runs on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, inspect, select

from tests.factories import registry_data, write_registry
from vigil.services.registry import load_registry, registry_snapshot
from vigil.store import listings_repo
from vigil.store.db import Store, open_store
from vigil.store.tables import AuditEventRow, ListingRow, SignalRow


def test_migrations_create_every_table_and_run_twice(store: Store, store_url: str) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"members", "brands", "products", "listings", "signals", "audit_events"} <= tables
    open_store(store_url).close()  # a second open finds the schema current and changes nothing


def test_registry_load_is_an_idempotent_upsert(store: Store, tmp_path: Path) -> None:
    path = write_registry(tmp_path / "registry.yaml")
    first = load_registry(store, path)
    assert first.ok and first.changes["brands"]["added"] == 2
    assert first.changes["products"]["added"] == 3
    second = load_registry(store, path)
    assert second.changes["brands"] == {"unchanged": 2}
    assert second.changes["products"] == {"unchanged": 3}

    data = registry_data()
    data["brands"][0]["aliases"].append("小米科技")
    data["products"][0]["msrp"]["amount"] = 5999
    third = load_registry(store, write_registry(path, data))
    assert third.changes["brands"]["updated"] == 1
    assert third.changes["products"]["updated"] == 1
    snapshot = registry_snapshot(store)
    assert len(snapshot.brands) == 2 and len(snapshot.products) == 3
    xiaomi = snapshot.brand("Xiaomi")
    assert xiaomi is not None and "小米科技" in xiaomi.aliases
    assert xiaomi.authorized_sellers[0].seller_id == "小米官方旗舰店"
    ultra = next(p for p in snapshot.products if p.model == "Xiaomi 14 Ultra")
    assert ultra.msrp is not None and ultra.msrp.amount == 5999


def test_registry_load_leaves_an_audit_event(store: Store, tmp_path: Path) -> None:
    load_registry(store, write_registry(tmp_path / "registry.yaml"))
    with store.session() as session:
        events = session.scalars(select(AuditEventRow)).all()
    assert [e.action for e in events] == ["registry.load"]
    assert events[0].actor.startswith("cli:")


def _assessment(listing_id: str, verdict: str, kinds: list[str]) -> dict[str, object]:
    return {
        "platform": "taobao", "listing_id": listing_id, "verdict": verdict, "risk": 0.9,
        "log_odds": 2.2, "brand": "Xiaomi", "product": None,
        "signals": [
            {"detector": "wording", "kind": k, "asset": None, "weight": 1.0,
             "evidence": "高仿", "explanation": "Wording."} for k in kinds
        ],
    }  # fmt: skip


def test_rescanning_a_listing_updates_it_and_replaces_its_signals(store: Store) -> None:
    now = datetime.now(UTC)
    listing = {"platform": "taobao", "listing_id": "A1", "title": "高仿小米", "price": 99.0}
    with store.session() as session:
        listings_repo.start_scan(session, scan_id="s1", started_at=now, inputs=["feed.jsonl"])
        listings_repo.save_assessments(
            session, scan_id="s1", scanned_at=now,
            items=[(listing, _assessment("A1", "counterfeit_suspected", ["a", "b"]))],
        )  # fmt: skip
    with store.session() as session:
        listings_repo.start_scan(session, scan_id="s2", started_at=now, inputs=["feed.jsonl"])
        listings_repo.save_assessments(
            session, scan_id="s2", scanned_at=now,
            items=[({**listing, "title": "小米 正品"}, _assessment("A1", "needs_review", ["c"]))],
        )  # fmt: skip
    with store.session() as session:
        rows = session.scalars(select(ListingRow)).all()
        kinds = session.scalars(select(SignalRow.kind)).all()
        signal_count = session.scalar(select(func.count()).select_from(SignalRow))
    assert len(rows) == 1
    assert (rows[0].title, rows[0].verdict, rows[0].scan_id) == ("小米 正品", "needs_review", "s2")
    assert kinds == ["c"] and signal_count == 1


def test_migrations_build_exactly_the_tables_the_code_declares(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from vigil.store.tables import Base

    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
