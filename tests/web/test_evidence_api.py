"""The evidence endpoints: capture, list, read an item, attach a file, check in place, download
the bundle; another member's case is 404 on every one, viewers and read keys never write, and
changed stored bytes are never served."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.case_factories import CaseWorld
from tests.web.conftest import Web, email
from vigil.evidence.verify import verify_bundle
from vigil.services.media import MediaPlaces

API = "/api/v1"
ANALYST = email("analyst", "acme")


@pytest.fixture
def case(web: Web) -> tuple[int, bytes]:
    """acme's case about one listing with one kept photo; its id and the photo."""
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (10, 120, 200)).save(buffer, "PNG")
    photo = buffer.getvalue()
    places = MediaPlaces.for_home(web.settings.home)
    assert places.blobs is not None
    digest = places.blobs.store_blob(photo)
    listing = CaseWorld(web.store).listing(
        "acme",
        images=["https://shop.example/p.png"],
        image_records=[{"ref": "https://shop.example/p.png", "sha256": digest}],
    )
    opened = web.api(ANALYST).post(f"{API}/cases", json={"listings": [listing]})
    assert opened.status_code == 201, opened.text
    return int(opened.json()["case"]["id"]), photo


def test_capture_list_read_and_download(web: Web, case: tuple[int, bytes], tmp_path: Path) -> None:
    case_id, photo = case
    client = web.api(ANALYST)
    captured = client.post(f"{API}/cases/{case_id}/evidence/capture")
    assert captured.status_code == 200, captured.text
    body = captured.json()
    assert [i["kind"] for i in body["added"]] == ["listing_snapshot", "signals", "image"]
    assert body["missing"] == [] and body["tree_head"]["size"] == 3
    listed = client.get(f"{API}/cases/{case_id}/evidence").json()["items"]
    assert [i["log_index"] for i in listed] == [0, 1, 2]
    digest = hashlib.sha256(photo).hexdigest()
    shown = client.get(f"{API}/cases/{case_id}/evidence/content", params={"sha256": digest})
    assert shown.status_code == 200 and shown.content == photo
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["content-disposition"].startswith("inline;")
    checked = client.get(f"{API}/cases/{case_id}/evidence/verification").json()
    assert checked["ok"] and checked["items"] == 3 and checked["failures"] == []
    download = client.get(f"{API}/cases/{case_id}/evidence/bundle")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert "-evidence.zip" in download.headers["content-disposition"]
    (tmp_path / "b.zip").write_bytes(download.content)
    report = verify_bundle(tmp_path / "b.zip")
    assert report.ok and report.items == 3


def test_an_attachment_is_uploaded_as_its_bytes_and_sent_back_as_a_file(
    web: Web, case: tuple[int, bytes]
) -> None:
    case_id, _ = case
    client = web.api(ANALYST)
    page = b"<html><script>alert(1)</script></html>" + b" " * (3 * 1024 * 1024)
    sent = client.post(
        f"{API}/cases/{case_id}/evidence/attachments",
        params={"name": "seller page.html"},
        content=page,
        headers={"Content-Type": "text/html"},
    )
    assert sent.status_code == 201, sent.text
    item = sent.json()["item"]
    assert (item["kind"], item["name"], item["media_type"]) == (
        "attachment",
        "seller page.html",
        "text/html",
    )
    assert item["size"] == len(page) and sent.json()["added"]
    back = client.get(
        f"{API}/cases/{case_id}/evidence/content",
        params={"sha256": item["sha256"], "kind": "attachment"},
    )
    # Never rendered as a page of this site.
    assert back.content == page and back.headers["content-type"] == "application/octet-stream"
    assert back.headers["content-disposition"].startswith("attachment;")
    empty = client.post(
        f"{API}/cases/{case_id}/evidence/attachments", params={"name": "x"}, content=b""
    )
    assert empty.status_code == 400 and "is empty" in empty.json()["detail"]


def test_another_members_case_is_404_and_viewers_never_write(
    web: Web, case: tuple[int, bytes]
) -> None:
    case_id, photo = case
    digest = hashlib.sha256(photo).hexdigest()
    web.api(ANALYST).post(f"{API}/cases/{case_id}/evidence/capture")
    base = f"{API}/cases/{case_id}/evidence"
    reads = [base, f"{base}/content?sha256={digest}", f"{base}/verification", f"{base}/bundle"]
    writes = [f"{base}/capture", f"{base}/attachments?name=a.txt"]
    stranger = web.api(email("analyst", "globex"))
    for path in reads:
        assert stranger.get(path).status_code == 404, path
    for path in writes:
        assert stranger.post(path, content=b"x").status_code == 404, path
    viewer = web.api(email("viewer", "acme"), scope="read")
    for path in reads:
        assert viewer.get(path).status_code == 200, path
    for path in writes:
        assert viewer.post(path, content=b"x").status_code == 403, path
    missing = web.api(ANALYST).get(f"{base}/content", params={"sha256": "0" * 64})
    assert missing.status_code == 404


def test_changed_stored_bytes_are_never_served(web: Web, case: tuple[int, bytes]) -> None:
    case_id, photo = case
    client = web.api(ANALYST)
    client.post(f"{API}/cases/{case_id}/evidence/capture")
    digest = hashlib.sha256(photo).hexdigest()
    path = web.settings.home / "evidence" / digest[:2] / digest
    path.write_bytes(photo[:-1] + bytes([photo[-1] ^ 1]))
    shown = client.get(f"{API}/cases/{case_id}/evidence/content", params={"sha256": digest})
    assert shown.status_code == 409 and "changed after capture" in shown.json()["detail"]
    checked = client.get(f"{API}/cases/{case_id}/evidence/verification").json()
    assert not checked["ok"] and checked["failures"][0]["path"] == str(path)
    refused = client.get(f"{API}/cases/{case_id}/evidence/bundle")
    assert refused.status_code == 400 and "no bundle was written" in refused.json()["detail"]


def test_the_bundle_is_one_zip_with_the_index(web: Web, case: tuple[int, bytes]) -> None:
    case_id, _ = case
    client = web.api(ANALYST)
    assert client.get(f"{API}/cases/{case_id}/evidence/bundle").status_code == 400
    client.post(f"{API}/cases/{case_id}/evidence/capture")
    download = client.get(f"{API}/cases/{case_id}/evidence/bundle")
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        names = set(archive.namelist())
    assert {"README.txt", "index.html", "manifest.json", "log/tree_head.json"} <= names
