"""Real listings: 240 JD.com phone listings (2017) through a small adapter and a full scan."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT, real_data
from tests.factories import read_jsonl, write_jsonl
from vigil.services.registry import load_registry
from vigil.services.scan import scan
from vigil.settings import load_scan_config
from vigil.store.db import open_store

DATA = PROJECT / "tests" / "data"


def jd_listing(row: dict[str, Any], images: Path) -> dict[str, Any]:
    """The adapter: one scraped JD row in the listing contract."""
    record: dict[str, Any] = {
        "platform": "jd",
        "listing_id": row["p_id"],
        "title": row["p_name"],
        "price": float(row["p_price"]),
        "currency": "CNY",
        "category": "phones",
        "url": f"https:{row['p_link']}",
    }
    if row["p_shop"]:
        record["seller"] = {"id": row["p_shop"], "name": row["p_shop"]}
    url = row.get("p_image_url") or ""
    photo = images / f"{hashlib.sha1(url.encode()).hexdigest()}.jpg"
    if url.startswith("http") and photo.exists():
        record["images"] = [str(photo)]
    return record


def is_brand_store(shop: str) -> bool:
    """The data's own rule: …官方旗舰店 and …自营… stores are the brands' or JD's own."""
    return "官方旗舰店" in shop or "自营" in shop


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = real_data("jd-phones")
    rows = [json.loads(line) for line in (folder / "data.json").read_text().splitlines() if line]
    work = tmp_path_factory.mktemp("jd")
    feed = write_jsonl(work / "jd.jsonl", [jd_listing(r, folder / "images") for r in rows])
    store = open_store(f"sqlite:///{work / 'vigil.sqlite3'}")
    report = load_registry(store, DATA / "jd_phones_registry.yaml")
    assert report.ok, report.problems
    summary = scan(store, [str(feed)], work / "out", config=load_scan_config())
    store.close()
    assessments = {a["listing_id"]: a for a in read_jsonl(work / "out" / "assessments.jsonl")}
    return {"rows": rows, "assessments": assessments, "summary": summary}


def test_every_listing_is_read(scanned: dict[str, Any]) -> None:
    assert scanned["summary"].scanned == 240 and scanned["summary"].rejected == 0


def test_at_least_95_percent_are_attributed_to_the_right_brand(scanned: dict[str, Any]) -> None:
    expected = json.loads((DATA / "jd_phones_brands.json").read_text(encoding="utf-8"))
    wrong = {
        pid: (scanned["assessments"][pid]["brand"], brands)
        for pid, brands in expected.items()
        if scanned["assessments"][pid]["brand"] not in brands
    }
    assert len(wrong) <= 0.05 * len(expected), wrong


def test_no_listing_from_an_authorized_store_is_flagged(scanned: dict[str, Any]) -> None:
    flagged = [
        (r["p_shop"], r["p_name"], scanned["assessments"][r["p_id"]]["verdict"])
        for r in scanned["rows"]
        if is_brand_store(r["p_shop"]) and scanned["assessments"][r["p_id"]]["verdict"] != "clear"
    ]
    assert flagged == []


def test_at_most_2_percent_of_resellers_listings_look_counterfeit(scanned: dict[str, Any]) -> None:
    resellers = [r for r in scanned["rows"] if not is_brand_store(r["p_shop"])]
    suspected = [
        (r["p_name"], scanned["assessments"][r["p_id"]]["signals"])
        for r in resellers
        if scanned["assessments"][r["p_id"]]["verdict"] == "counterfeit_suspected"
    ]
    assert len(resellers) > 100
    assert len(suspected) <= 0.02 * len(resellers), suspected
