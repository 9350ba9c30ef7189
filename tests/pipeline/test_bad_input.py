"""Bad input: each bad record is rejected with a precise reason, and nothing else is lost."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest

from tests.factories import listing, read_jsonl, write_jsonl, write_registry
from vigil.pipeline.readers import InputError
from vigil.services.registry import load_registry
from vigil.services.scan import ScanSummary, scan
from vigil.settings import load_scan_config
from vigil.store.db import Store, open_store


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    store = open_store(f"sqlite:///{tmp_path / 'vigil.sqlite3'}")
    load_registry(store, write_registry(tmp_path / "registry.yaml"))
    return store


def run(store: Store, tmp_path: Path, *inputs: Path) -> ScanSummary:
    return scan(store, [str(i) for i in inputs], tmp_path / "out", config=load_scan_config())


def rejected(tmp_path: Path) -> list[dict[str, object]]:
    return read_jsonl(tmp_path / "out" / "rejected.jsonl")


def assessed_ids(tmp_path: Path) -> list[str]:
    return [str(a["listing_id"]) for a in read_jsonl(tmp_path / "out" / "assessments.jsonl")]


def feed_with(tmp_path: Path, bad: bytes) -> Path:
    """good, bad, good: the bad line is line 2."""
    path = tmp_path / "feed.jsonl"
    good = [orjson.dumps(listing(listing_id=i)) for i in ("good-1", "good-2")]
    path.write_bytes(good[0] + b"\n" + bad + b"\n" + good[1] + b"\n")
    return path


BAD_LINES = {
    "truncated JSON": ('{"platform": "jd", "listing_id": "x", "title": "小米'.encode(), "not valid JSON"),
    "wrong type": (
        orjson.dumps(listing(listing_id="x", title=12345)), "title: Input should be a valid string"
    ),
    "price not a number": (
        orjson.dumps(listing(listing_id="x", price="cheap")), "price: Input should be a valid number"
    ),
    "missing required": (
        orjson.dumps({"platform": "jd", "listing_id": "x"}), "title: required field is missing"
    ),
    "missing seller id": (
        orjson.dumps(listing(listing_id="x", seller={"name": "店"})),
        "seller.id: required field is missing",
    ),
    "negative price": (
        orjson.dumps(listing(listing_id="x", price=-5)), "price: Input should be greater than or equal to 0"
    ),
    "NaN price": (
        b'{"platform": "jd", "listing_id": "x", "title": "t", "price": NaN}',
        "price: Input should be a finite number",
    ),
    "unknown currency": (
        orjson.dumps(listing(listing_id="x", currency="XYZ")),
        "currency: Value error, 'XYZ' is not an ISO 4217 currency code",
    ),
    "1 MB title": (
        orjson.dumps(listing(listing_id="x", title="仿" * (1 << 20))),
        "title: String should have at most 2000 characters (got 1,048,576)",
    ),
    "invalid UTF-8": (
        b'{"platform": "jd", "listing_id": "x", "title": "\xff\xfe bad"}',
        "not valid UTF-8 at byte offset 48 of the line",
    ),
    "not an object": (b'["jd", "x"]', "expected a JSON object, found list"),
    "bad time": (
        orjson.dumps(listing(listing_id="x", observed_at="yesterday")), "observed_at: Input should be"
    ),
    "bad condition": (
        orjson.dumps(listing(listing_id="x", condition="mint")), "condition: Input should be 'new'"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_bad_jsonl_record_is_rejected_with_its_reason(
    case: str, sqlite_store: Store, tmp_path: Path
) -> None:
    line, reason = BAD_LINES[case]
    summary = run(sqlite_store, tmp_path, feed_with(tmp_path, line))
    [rejection] = rejected(tmp_path)
    assert rejection["line"] == 2 and str(rejection["source"]).endswith("feed.jsonl")
    assert reason in str(rejection["reason"]), rejection["reason"]
    assert assessed_ids(tmp_path) == ["good-1", "good-2"]
    assert (summary.scanned, summary.rejected) == (2, 1)


def test_an_empty_file_scans_nothing_and_says_so(sqlite_store: Store, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    summary = run(sqlite_store, tmp_path, empty)
    assert (summary.scanned, summary.rejected) == (0, 0)
    assert summary.warnings == [f"{empty}: no listings in this input (is the file empty?)"]
    assert (tmp_path / "out" / "assessments.jsonl").read_bytes() == b""
    assert orjson.loads((tmp_path / "out" / "summary.json").read_bytes())["scanned"] == 0


def test_csv_rows_with_extra_or_missing_cells_are_rejected(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "feed.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["platform", "listing_id", "title", "price", "seller_id", "images"])
        writer.writerow(["jd", "c1", "小米14 手机", "3999", "s1", "a.jpg|b.jpg"])
        writer.writerow(["jd", "c2", "小米14 手机", "3999", "s1", "", "surplus"])
        writer.writerow(["jd", "c3", "小米14 手机"])
        writer.writerow(["jd", "c4", "", "3999", "s1", ""])
        writer.writerow(["jd", "c5", "华为 Mate 60", "nan", "s2", ""])
        writer.writerow(["jd", "c6", "Apple iPhone 15", "799", "s3", ""])
    summary = run(sqlite_store, tmp_path, path)
    reasons = {r["line"]: str(r["reason"]) for r in rejected(tmp_path)}
    assert (
        reasons[3]
        == "row has 7 cells but the header has 6 columns; quote cells that contain commas"
    )
    assert reasons[4].startswith("row has 3 cells but the header has 6 columns")
    assert reasons[5] == "title: required field is missing"
    assert "price: Input should be a finite number" in reasons[6]
    assert assessed_ids(tmp_path) == ["c1", "c6"]
    assert summary.rejected == 4


def test_csv_invalid_utf8_rejects_the_row_only(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_bytes(
        b"platform,listing_id,title\njd,u1,ok title\njd,u2,bad \xff title\njd,u3,fine\n"
    )
    run(sqlite_store, tmp_path, path)
    [rejection] = rejected(tmp_path)
    assert rejection["line"] == 3 and "title: not valid UTF-8" in str(rejection["reason"])
    assert assessed_ids(tmp_path) == ["u1", "u3"]


def test_unknown_fields_are_ignored_and_reported(sqlite_store: Store, tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "feed.jsonl", [listing(sales="1.5k"), listing(sales="3k")])
    summary = run(sqlite_store, tmp_path, feed)
    assert summary.ignored_fields == {"sales": 2} and summary.rejected == 0


def test_a_missing_input_fails_before_any_output(sqlite_store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no-such\.jsonl: no such file"):
        run(sqlite_store, tmp_path, tmp_path / "no-such.jsonl")
    with pytest.raises(InputError, match=r"cannot tell the format from the extension '\.txt'"):
        run(sqlite_store, tmp_path, write_jsonl(tmp_path / "feed.txt", [listing()]))
    assert not (tmp_path / "out").exists()
