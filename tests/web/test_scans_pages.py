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
    assert 'data-testid="verdict-counts"' in text and "Suspected counterfeit" in text
    assert "高仿小米14 Ultra" in text and "noscript" not in text
    # Titles and seller names from feeds are shown as text, never run as markup.
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text
    assert "<b>shop</b>" not in text and "&lt;b&gt;shop&lt;/b&gt;" in text
    listing_page = client.get("/scans")
    assert address in listing_page.text and "Finished" in listing_page.text
    # The page's script is served and talks to the JSON route of the scan.
    script = client.get("/static/scans.js")
    assert script.status_code == 200 and "/api/v1/scans/" in script.text


def start_form(html: str) -> str:
    match = re.search(r'data-testid="start-form">(.*?)</form>', html, re.S)
    assert match is not None
    return match.group(1)


def radio(form: str, scope: str) -> str:
    match = re.search(rf'<input type="radio" name="scope" value="{scope}"[^>]*>', form)
    assert match is not None
    return match.group(0)


def finished_scan(client: TestClient, body: bytes | None = None) -> str:
    """Upload `body` (if any), scan what waits, and return the scan's page once it ended."""
    if body is not None:
        upload_file(client, "feed.jsonl", body)
    address = str(client.post("/scans/start", data={"scope": "pending"}).headers["location"])
    deadline = time.monotonic() + WAIT
    while 'data-active="true"' in client.get(address).text and time.monotonic() < deadline:
        time.sleep(0.05)
    return address


def test_the_start_form_chooses_what_there_is_to_scan(web: Web) -> None:
    client = web.client(ANALYST)
    # Nothing stored: nothing to choose, and the button says so by being off.
    empty = start_form(client.get("/scans").text)
    assert "<fieldset disabled>" in empty and 'data-testid="start-scan" disabled' in empty
    assert "nothing to scan yet" in empty
    # Uploads waiting: they are the choice.
    upload_file(client, "feed.jsonl", jsonl(*FEED))
    waiting = start_form(client.get("/scans").text)
    assert "checked" in radio(waiting, "pending") and "checked" not in radio(waiting, "all")
    assert "New uploads waiting for a scan (2)" in waiting
    assert "disabled" not in waiting and "start-note" not in waiting
    # All scanned: the waiting ones cannot be chosen, scanning them all again is chosen.
    finished_scan(client)
    done = start_form(client.get("/scans").text)
    assert "disabled" in radio(done, "pending") and "checked" not in radio(done, "pending")
    assert "checked" in radio(done, "all") and "All listings you can see, again (2)" in done
    assert 'data-testid="start-note"' in done and 'data-testid="start-scan" disabled' not in done


def test_the_scans_table_names_its_columns_in_one_line_each(web: Web) -> None:
    client = web.client(ANALYST)
    finished_scan(client, jsonl(*FEED))
    html = client.get("/scans").text
    table = html[html.index('data-testid="scans"') : html.index("</table>")]
    assert "<th>Listings scanned</th>" in table and "<td>New uploads</td>" in table
    heads = re.findall(r'<abbr class="badge verdict-(\w+)" title="([^"]+)">([^<]+)</abbr>', table)
    assert heads == [
        ("counterfeit_suspected", "Suspected counterfeit", "Counterfeit"),
        ("infringement_suspected", "Suspected infringement", "Infringement"),
        ("needs_review", "Needs review", "Needs review"),
        ("clear", "Nothing suspicious", "Clean"),
    ]
    client.cookies.set("vigil_lang", "zh")
    zh = client.get("/scans").text
    assert "<th>扫描范围</th>" in zh and 'title="疑似假冒">疑似假冒</abbr>' in zh


def test_a_scans_results_come_highest_risk_first(web: Web) -> None:
    client = web.client(ANALYST)
    feed = [
        listing(listing_id="t1", title="纯棉男士短袖T恤 夏季", price=59),
        listing(listing_id="c1", title="高仿小米14 Ultra 一比一 顶级版", price=1299),
        listing(listing_id="t2", title="纯棉女士短袖T恤", price=49),
        listing(listing_id="c2", title="小米14 Ultra 复刻版 一比一", price=999),
    ]
    address = finished_scan(client, jsonl(*feed))
    html = client.get(address).text
    table = html[html.index('data-testid="results"') : html.index("</table>")]
    risks = [float(r) for r in re.findall(r'<span class="risk-value">([\d.]+)</span>', table)]
    assert len(risks) == 4 and risks == sorted(risks, reverse=True) and risks[0] > risks[-1]
    assert all(0 <= r <= 1 for r in risks) and "%</td>" not in table
    assert "Highest risk first" in html
    bad = client.get(address, params={"cursor": "nonsense"})
    assert bad.status_code == 400 and "next_cursor" in bad.text


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
