"""Scanning end to end on the embedded store: formats, workers, reruns and failures."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from tests.factories import listing, read_jsonl, write_jsonl, write_registry
from vigil.domain.assessment import Assessment
from vigil.services.registry import load_registry
from vigil.services.scan import scan
from vigil.settings import load_scan_config
from vigil.store.db import Store, open_store
from vigil.store.tables import ListingRow, ScanRow, SignalRow

FEED = [
    listing(listing_id="g1", title="小米14 Ultra 16+512G 官方正品", price=6299),
    listing(listing_id="c1", title="高仿小米14 Ultra 一比一 顶级版", price=6299),
    listing(listing_id="c2", title="Xiaomi 14 Ultra brand new sealed", price=999,
            seller={"id": "cheap-deals", "phone": "13800138000"}),
    listing(listing_id="u1", title="东北黄小米 5斤装 新米", price=39, category="food"),
    listing(listing_id="a1", title="适用于小米14手机壳 磨砂防摔", price=19),
]  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(f"sqlite:///{tmp_path / 'vigil.sqlite3'}")
    load_registry(opened, write_registry(tmp_path / "registry.yaml"))
    return opened


def run(store: Store, out: Path, *inputs: str, **options: Any) -> list[dict[str, Any]]:
    scan(store, list(inputs), out, config=load_scan_config(), **options)
    return read_jsonl(out / "assessments.jsonl")


def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "scanned_at"} for row in rows]


def test_assessments_follow_the_contract_and_explain_themselves(
    store: Store, tmp_path: Path
) -> None:
    rows = run(store, tmp_path / "out", str(write_jsonl(tmp_path / "f.jsonl", FEED)))
    by_id = {row["listing_id"]: Assessment.model_validate(row) for row in rows}
    assert list(by_id) == ["g1", "c1", "c2", "u1", "a1"]
    assert by_id["c1"].verdict == "counterfeit_suspected" and by_id["c1"].brand == "Xiaomi"
    assert by_id["g1"].verdict == "clear" and by_id["u1"].verdict == "clear"
    assert by_id["a1"].verdict == "clear"
    for assessment in by_id.values():
        assert assessment.log_odds == pytest.approx(
            load_scan_config().scoring.prior + sum(s.weight for s in assessment.signals), abs=1e-3
        )


def test_two_workers_give_the_same_assessments_as_one(store: Store, tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "f.jsonl", FEED * 300)  # repeated keys are fine here
    one = run(store, tmp_path / "one", str(feed), workers=1)
    two = run(store, tmp_path / "two", str(feed), workers=2)
    assert len(one) == 1500 and comparable(one) == comparable(two)


def test_csv_parquet_and_stdin_read_the_same_listings(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jsonl = run(store, tmp_path / "j", str(write_jsonl(tmp_path / "f.jsonl", FEED)))
    flat = [
        {**{k: v for k, v in r.items() if k != "seller"},
         **{f"seller_{k}": v for k, v in r.get("seller", {}).items()}}
        for r in FEED
    ]  # fmt: skip
    columns = sorted({key for row in flat for key in row})
    with (tmp_path / "f.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(flat)
    pq.write_table(pa.Table.from_pylist(FEED), tmp_path / "f.parquet")
    from_csv = run(store, tmp_path / "c", str(tmp_path / "f.csv"))
    from_parquet = run(store, tmp_path / "p", str(tmp_path / "f.parquet"))
    stdin = io.TextIOWrapper(io.BytesIO((tmp_path / "f.jsonl").read_bytes()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    from_stdin = run(store, tmp_path / "s", "-")
    assert comparable(from_csv) == comparable(jsonl)
    assert comparable(from_parquet) == comparable(jsonl)
    assert comparable(from_stdin) == comparable(jsonl)


def test_rescanning_updates_stored_listings_and_never_duplicates(
    store: Store, tmp_path: Path
) -> None:
    feed = write_jsonl(tmp_path / "f.jsonl", FEED)
    run(store, tmp_path / "first", str(feed))
    with store.session() as session:
        first = session.scalars(select(ListingRow.listing_id).order_by(ListingRow.listing_id)).all()
        signals = session.scalar(select(func.count()).select_from(SignalRow))
    assert "c1" in first and "g1" not in first  # flagged ones only
    changed = [{**FEED[1], "title": "小米14 Ultra 官方正品 全新"}, *FEED[2:]]
    run(store, tmp_path / "second", str(feed))
    run(store, tmp_path / "third", str(write_jsonl(tmp_path / "g.jsonl", changed)))
    with store.session() as session:
        rows = {r.listing_id: r for r in session.scalars(select(ListingRow))}
        scans = session.scalars(select(ScanRow.status)).all()
        again = session.scalar(select(func.count()).select_from(SignalRow))
    assert sorted(rows) == first
    assert rows["c1"].verdict == "clear" and rows["c1"].title == "小米14 Ultra 官方正品 全新"
    assert scans == ["done", "done", "done"]
    assert again is not None and signals is not None and again <= signals


def test_a_failing_scan_leaves_no_half_written_output(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vigil.pipeline import scoring

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(scoring.Scorer, "score", explode)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="disk on fire"):
        run(store, out, str(write_jsonl(tmp_path / "f.jsonl", FEED)))
    assert list(out.iterdir()) == []
    with store.session() as session:
        assert session.scalars(select(ScanRow.status)).all() == ["failed"]
