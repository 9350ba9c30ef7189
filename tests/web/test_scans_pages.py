"""The scans pages: recent scans, uploading a file with per-line errors, starting a scan and
following it, in English and Chinese, readable without JavaScript."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.factories import listing, registry_data, write_registry
from tests.web.conftest import Web
from vigil.services.registry import load_registry
from vigil.services.uploads import MAX_LINES

ANALYST = "analyst@shopmart.test"
FEED = [
    listing(listing_id="c1", title="高仿小米14 Ultra 一比一 顶级版", price=6299),
    listing(listing_id="x1", title="<script>alert('t')</script> 纯棉T恤", price=59,
            seller={"id": "<b>shop</b>"}),
]  # fmt: skip
WAIT = 60.0


@pytest.fixture(autouse=True)
def acme_owns_xiaomi(web: Web, tmp_path: Path) -> None:
    data = registry_data(members=[])
    data["brands"][0]["owner"] = "acme"
    data["brands"][1]["owner"] = "globex"
    assert load_registry(web.store, write_registry(tmp_path / "registry.yaml", data)).ok


def jsonl(*records: dict[str, object]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def upload_file(client: TestClient, name: str, body: bytes) -> Any:
    return client.post("/scans/upload", files={"file": (name, body, "application/x-ndjson")})


def test_the_scans_page_offers_upload_and_start_to_analysts_only(web: Web) -> None:
    page = web.client(ANALYST).get("/scans")
    assert page.status_code == 200
    assert 'data-testid="upload-form"' in page.text and 'data-testid="start-form"' in page.text
    assert "No scans yet." in page.text
    viewer = web.client("viewer@shopmart.test").get("/scans")
    assert viewer.status_code == 200
    assert "upload-form" not in viewer.text and "start-form" not in viewer.text
    anonymous = web.anonymous().get("/scans")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_an_uploaded_file_shows_its_counts_and_its_bad_lines(web: Web) -> None:
    client = web.client(ANALYST)
    body = jsonl(*FEED) + b"{broken\n" + jsonl(listing(listing_id="n", title=""))
    page = upload_file(client, "feed.jsonl", body)
    assert page.status_code == 200
    text = page.text
    assert "feed.jsonl: 2 listings accepted" in text
    problems = re.search(r'data-testid="problems">(.*?)</table>', text, re.S)
    assert problems is not None
    assert '<td class="num">3</td><td>not valid JSON' in problems.group(1)
    assert '<td class="num">4</td><td>title: ' in problems.group(1)
    assert re.search(r'data-testid="waiting">[^<]*2<', text)
    # The same file again: nothing new, nothing duplicated.
    again = upload_file(client, "feed.jsonl", jsonl(*FEED)).text
    assert re.search(r'data-testid="unchanged">2<', again)
    assert re.search(r'data-testid="added">0<', again)


def test_refused_uploads_say_why(web: Web) -> None:
    client = web.client(ANALYST)
    csv = upload_file(client, "feed.csv", b"platform,listing_id,title\njd,1,x\n")
    assert csv.status_code == 415
    assert "feed.csv is not a JSON Lines file" in csv.text
    empty = upload_file(client, "empty.jsonl", b"\n")
    assert empty.status_code == 400
    assert "empty.jsonl holds no listings" in empty.text
    line = orjson.dumps(listing(listing_id="same", title="T")) + b"\n"
    big = upload_file(client, "big.jsonl", line * (MAX_LINES + 1))
    assert big.status_code == 413
    assert "big.jsonl has more than 10,000 listings" in big.text
    bad = upload_file(client, "bad.jsonl", b"nope\n")
    assert bad.status_code == 400
    assert "nothing was stored" in bad.text
    missing = client.post("/scans/upload", data={})
    assert missing.status_code == 400 and "Choose a file of listings" in missing.text


def test_forms_need_their_security_token(web: Web) -> None:
    client = web.client(ANALYST)
    del client.headers["X-CSRF-Token"]
    refused = client.post(
        "/scans/upload", files={"file": ("f.jsonl", jsonl(*FEED), "application/x-ndjson")}
    )
    assert refused.status_code == 403
    assert client.post("/scans/start", data={"scope": "all"}).status_code == 403
    viewer = web.client("viewer@shopmart.test")
    assert viewer.post("/scans/start", data={"scope": "all"}).status_code == 403


def test_start_a_scan_and_read_it_on_its_page(web: Web) -> None:
    client = web.client(ANALYST)
    upload_file(client, "feed.jsonl", jsonl(*FEED))
    started = client.post("/scans/start", data={"scope": "pending"})
    assert started.status_code == 303
    address = started.headers["location"]
    assert re.fullmatch(r"/scans/[0-9a-f]{32}", address)
    deadline = time.monotonic() + WAIT
    page = client.get(address)
    while 'data-active="true"' in page.text and time.monotonic() < deadline:
        # Without JavaScript the page refreshes itself while the scan runs.
        assert '<noscript><meta http-equiv="refresh"' in page.text
        time.sleep(0.1)
        page = client.get(address)
    text = page.text
    assert page.status_code == 200 and 'data-testid="scan-status">Finished<' in text
    assert "2 of 2 listings assessed" in re.sub(r"<[^>]+>", "", text)
    assert 'data-testid="verdict-counts"' in text and "Counterfeit suspected" in text
    assert "高仿小米14 Ultra" in text and "noscript" not in text
    # Titles and seller names from feeds are shown as text, never run as markup.
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text
    assert "<b>shop</b>" not in text and "&lt;b&gt;shop&lt;/b&gt;" in text
    listing_page = client.get("/scans")
    assert address in listing_page.text and "Finished" in listing_page.text
    # The page's script is served and talks to the JSON route of the scan.
    script = client.get("/static/scans.js")
    assert script.status_code == 200 and "/api/v1/scans/" in script.text


def test_nothing_to_scan_is_said_on_the_page(web: Web) -> None:
    page = web.client(ANALYST).post("/scans/start", data={"scope": "pending"})
    assert page.status_code == 409
    assert "No listing is waiting for a scan" in page.text


def test_another_members_scan_page_is_not_found(web: Web) -> None:
    client = web.client(ANALYST)
    upload_file(client, "feed.jsonl", jsonl(*FEED))
    address = client.post("/scans/start", data={"scope": "pending"}).headers["location"]
    assert web.client("admin@globex.test").get(address).status_code == 404
    assert web.client("admin@alliance.test").get(address).status_code == 200


def test_the_pages_speak_chinese(web: Web) -> None:
    client = web.client(ANALYST)
    client.cookies.set("vigil_lang", "zh")
    upload_file(client, "feed.jsonl", jsonl(*FEED))
    page = client.get("/scans")
    assert page.status_code == 200
    assert "上传商品" in page.text and "开始扫描" in page.text
    address = client.post("/scans/start", data={"scope": "pending"}).headers["location"]
    detail = client.get(address)
    assert "扫描" in detail.text and "结果" in detail.text
