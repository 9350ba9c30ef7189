"""Scan runs over the API: start, progress, results, brand access, and who may see or start."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import listing, registry_data, write_registry
from tests.web.conftest import Web
from vigil.services.registry import load_registry
from vigil.services.scan_runs import ScanRunner
from vigil.store.tables import ListingAccessRow, ListingRow

NDJSON = {"Content-Type": "application/x-ndjson"}
ANALYST = "analyst@shopmart.test"
FEED = [
    listing(listing_id="c1", title="高仿小米14 Ultra 一比一 顶级版", price=6299),
    listing(listing_id="g1", title="小米14 Ultra 16+512G 官方正品", price=6299),
    listing(listing_id="t1", title="纯棉男士短袖T恤 夏季", price=59, category="clothing"),
]  # fmt: skip
WAIT = 60.0


@pytest.fixture(autouse=True)
def acme_owns_xiaomi(web: Web, tmp_path: Path) -> None:
    """The registry: acme owns Xiaomi, globex owns Apple (loaded as `vigil registry load`)."""
    data = registry_data(members=[])
    data["brands"][0]["owner"] = "acme"
    data["brands"][1]["owner"] = "globex"
    report = load_registry(web.store, write_registry(tmp_path / "registry.yaml", data))
    assert report.ok, report.problems


def upload(client: TestClient, records: list[dict[str, Any]]) -> None:
    body = b"".join(orjson.dumps(r) + b"\n" for r in records)
    answer = client.post("/api/v1/listings", content=body, headers=NDJSON)
    assert answer.status_code == 200, answer.text


def wait_until_ended(client: TestClient, scan_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        scan = client.get(f"/api/v1/scans/{scan_id}").json()
        if scan["status"] in ("finished", "failed"):
            return dict(scan)
        time.sleep(0.05)
    raise AssertionError(f"scan {scan_id} did not end within {WAIT} s")


def runner(web: Web) -> ScanRunner:
    found: ScanRunner = web.app.state.scan_runner
    return found


def test_start_follow_and_read_the_results_of_a_scan(web: Web) -> None:
    client = web.api(ANALYST)
    upload(client, FEED)
    started = client.post("/api/v1/scans", json={"scope": "pending"})
    assert started.status_code == 202, started.text
    scan = started.json()
    assert started.headers["Location"] == f"/api/v1/scans/{scan['id']}"
    assert (scan["status"], scan["total"], scan["done"], scan["scope"]) == (
        "queued", 3, 0, "pending",
    )  # fmt: skip
    ended = wait_until_ended(client, scan["id"])
    assert ended["status"] == "finished" and ended["error"] is None
    assert (ended["done"], ended["total"], ended["percent"]) == (3, 3, 100)
    assert sum(ended["by_verdict"].values()) == 3 and ended["by_verdict"]["counterfeit_suspected"]
    results = client.get(f"/api/v1/scans/{scan['id']}/results").json()
    assert results["next_cursor"] is None
    by_id = {r["listing_id"]: r for r in results["items"]}
    assert sorted(by_id) == ["c1", "g1", "t1"]
    assert by_id["c1"]["verdict"] == "counterfeit_suspected" and by_id["c1"]["brand"] == "Xiaomi"
    assert any(s["kind"] == "counterfeit_wording" for s in by_id["c1"]["signals"])
    assert by_id["t1"]["verdict"] == "clear"  # clear ones are stored too
    listed = client.get("/api/v1/scans").json()["items"]
    assert [s["id"] for s in listed] == [scan["id"]]


def test_progress_is_visible_while_the_scan_waits_and_runs(web: Web) -> None:
    client = web.api(ANALYST)
    upload(client, [listing(listing_id=f"p{i}", title=f"纯棉T恤 {i}") for i in range(2500)])
    gate = threading.Event()
    runner(web)._executor.submit(gate.wait, WAIT)  # the worker is busy with another scan
    scan_id = client.post("/api/v1/scans").json()["id"]
    waiting = client.get(f"/api/v1/scans/{scan_id}").json()
    assert (waiting["status"], waiting["done"], waiting["total"], waiting["percent"]) == (
        "queued", 0, 2500, 0,
    )  # fmt: skip
    gate.set()
    seen = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        scan = client.get(f"/api/v1/scans/{scan_id}").json()
        seen.append((scan["status"], scan["done"]))
        if scan["status"] not in ("queued", "running"):
            break
        time.sleep(0.01)
    assert seen[-1] == ("finished", 2500)
    dones = [done for _, done in seen]
    assert dones == sorted(dones)  # progress only moves forward
    # It moves in steps of a thousand listings, each of which takes the detectors a while.
    assert any(status == "running" and 0 < done < 2500 for status, done in seen), seen


def test_the_brand_owner_gets_access_but_not_the_scan(web: Web) -> None:
    client = web.api(ANALYST)
    upload(client, FEED)
    scan_id = client.post("/api/v1/scans").json()["id"]
    wait_until_ended(client, scan_id)
    with web.store.session() as session:
        grants = session.execute(
            select(ListingRow.listing_id, ListingAccessRow.member_id, ListingAccessRow.reason)
            .join(ListingRow, ListingRow.id == ListingAccessRow.listing_pk)
            .where(ListingAccessRow.reason == "brand")
        ).all()
    assert ("c1", "acme", "brand") in grants
    assert {member for _, member, _ in grants} == {"acme"}  # Xiaomi's owner, no one else
    acme = web.api("analyst@acme.test")
    for path in (f"/api/v1/scans/{scan_id}", f"/api/v1/scans/{scan_id}/results"):
        assert acme.get(path).status_code == 404
    assert acme.get("/api/v1/scans").json()["items"] == []


def test_another_members_scan_is_a_404_like_a_missing_one(web: Web) -> None:
    client = web.api(ANALYST)
    upload(client, FEED)
    scan_id = client.post("/api/v1/scans").json()["id"]
    wait_until_ended(client, scan_id)
    globex = web.api("admin@globex.test")
    other = globex.get(f"/api/v1/scans/{scan_id}")
    missing = globex.get("/api/v1/scans/does-not-exist")
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"].replace(scan_id, "X") == missing.json()["detail"].replace(
        "does-not-exist", "X"
    )
    assert globex.get(f"/api/v1/scans/{scan_id}/results").status_code == 404
    operator = web.api("viewer@alliance.test")
    assert operator.get(f"/api/v1/scans/{scan_id}").status_code == 200
    assert [s["id"] for s in operator.get("/api/v1/scans").json()["items"]] == [scan_id]
    results = operator.get(f"/api/v1/scans/{scan_id}/results").json()["items"]
    assert len(results) == 3


def test_viewers_and_read_only_keys_cannot_start_a_scan(web: Web) -> None:
    upload(web.api(ANALYST), FEED)
    viewer = web.api("viewer@shopmart.test")
    assert viewer.post("/api/v1/scans").status_code == 403
    assert viewer.get("/api/v1/scans").status_code == 200
    read_only = web.api(ANALYST, scope="read")
    refused = read_only.post("/api/v1/scans")
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    assert web.anonymous().post("/api/v1/scans").status_code == 401
    assert web.api(ANALYST).get("/api/v1/scans").json()["items"] == []


def test_bad_requests_get_clear_answers(web: Web) -> None:
    client = web.api(ANALYST)
    nothing = client.post("/api/v1/scans")
    assert nothing.status_code == 409 and "upload listings first" in nothing.json()["detail"]
    upload(client, FEED)
    bad_scope = client.post("/api/v1/scans", json={"scope": "everything"})
    assert bad_scope.status_code == 422 and "scope" in bad_scope.json()["detail"]
    unknown = client.post("/api/v1/scans", json={"scope": "all", "priority": 9})
    assert unknown.status_code == 422
    scan_id = client.post("/api/v1/scans", json={"scope": "all"}).json()["id"]
    wait_until_ended(client, scan_id)
    cursor = client.get(f"/api/v1/scans/{scan_id}/results", params={"cursor": "1 OR 1=1"})
    assert cursor.status_code == 400 and "next_cursor" in cursor.json()["detail"]
    limit = client.get(f"/api/v1/scans/{scan_id}/results", params={"limit": 10_000})
    assert limit.status_code == 422
    paged = client.get(f"/api/v1/scans/{scan_id}/results", params={"limit": 2}).json()
    rest = client.get(
        f"/api/v1/scans/{scan_id}/results", params={"limit": 2, "cursor": paged["next_cursor"]}
    ).json()
    assert len(paged["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
