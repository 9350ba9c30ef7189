"""Works of kind text in the registry, on the pages and over the API: registered by owner and
title, their files uploaded (checked as a scan reads them, kept under the home's assets by
content) and removed, every change audited; bad files refused with the reason; another
member's works answer 404."""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import Web, email
from vigil.services.registry import registry_snapshot
from vigil.services.registry_works import WorkPlaces
from vigil.store.tables import AuditEventRow
from vigil.texts.works import read_work_file

MANUAL_MD = (
    "# X1 用户手册\n\n"
    "本产品采用**高强度铝合金**机身，配备六点七英寸高刷新率显示屏。首次使用前，请将电池充满电。\n\n"
    "- 请勿在高温环境中使用\n- 请勿自行拆卸\n"
).encode()
ARTICLE_HTML = (
    b"<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
    b"<h1>How the X1 was made</h1><p>Our engineers spent three years on the frame.</p>"
    b"</body></html>"
)
SPEC_GB18030 = (
    "本产品采用高强度铝合金机身，配备六点七英寸高刷新率显示屏。首次使用前，请将电池充满电，"
    "并阅读本说明书中的安全注意事项。请勿在高温、潮湿或有腐蚀性气体的环境中使用本产品。"
).encode("gb18030")
_RNG = random.Random(0)
# Bytes no decoding reads as language: no encoding can be told.
UNKNOWN_ENCODING = bytes(_RNG.randrange(0x80, 0x100) for _ in range(600))
WORK_ID = re.compile(r"/registry/works/(\d+)\?done=work_created")


def register(client: TestClient, title: str, **form: str) -> int:
    """Register a work through the form; its id."""
    answer = client.post("/registry/works", data={"title": title, **form})
    assert answer.status_code == 303, answer.text
    found = WORK_ID.search(answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


def upload(client: TestClient, work_id: int, name: str, data: bytes) -> TestClient:
    return client.post(f"/registry/works/{work_id}/files", files={"file": (name, data)})


def audit_actions(web: Web) -> list[tuple[str, str | None]]:
    with web.store.session() as session:
        rows = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.action.like("work.%"))
            .order_by(AuditEventRow.id)
        )
        return [(row.action, row.member_id) for row in rows]


def assets(web: Web) -> list[Path]:
    return sorted(p for p in (web.settings.home / "assets").rglob("*") if p.is_file())


def test_register_upload_and_remove_a_work_through_the_pages(web: Web) -> None:
    client = web.client(email("analyst", "acme"))
    work_id = register(client, "  X1 用户手册 ")
    page = client.get(f"/registry/works/{work_id}?done=work_created")
    assert "The work is registered" in page.text and "No files yet" in page.text
    assert '<h1 data-testid="work-title">X1 用户手册</h1>' in page.text

    for name, data in (
        ("manual.md", MANUAL_MD),
        ("spec.txt", SPEC_GB18030),
        ("a.html", ARTICLE_HTML),
    ):
        answer = upload(client, work_id, name, data)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == f"/registry/works/{work_id}?done=file_added"
    page = client.get(f"/registry/works/{work_id}")
    files = re.findall(r'<li data-testid="work-file">(.*?)</li>', page.text, re.S)
    assert len(files) == 3
    manual, spec, article = files
    assert "manual.md" in manual and ">Markdown<" in manual and ">utf-8<" in manual
    assert "高强度铝合金机身" in manual and "**" not in manual and "# X1" not in manual
    assert ">gb18030<" in spec and ">Plain text<" in spec and "六点七英寸" in spec
    assert ">HTML<" in article and "Our engineers spent three years" in article
    assert "alert(1)" not in article and "color:red" not in article

    again = upload(client, work_id, "manual.md", MANUAL_MD)
    assert again.headers["location"].endswith("done=file_unchanged")
    # Kept by content, under the home's assets, with the uploader's name.
    kept = assets(web)
    assert sorted(p.name for p in kept) == ["a.html", "manual.md", "spec.txt"]
    for p in kept:
        sha256 = hashlib.sha256(p.read_bytes()).hexdigest()
        assert p.parent == web.settings.home / "assets" / sha256[:2] / sha256
    assert {p.read_bytes() for p in kept} == {MANUAL_MD, SPEC_GB18030, ARTICLE_HTML}

    path = next(p for p in kept if p.name == "manual.md")
    removed = client.post(f"/registry/works/{work_id}/files/remove", data={"file": str(path)})
    assert removed.headers["location"].endswith("done=file_removed")
    assert "manual.md" not in client.get(f"/registry/works/{work_id}").text
    assert path.exists(), "removing a file from a work leaves the kept file"

    deleted = client.post(f"/registry/works/{work_id}/delete")
    assert deleted.headers["location"] == "/registry/works?done=work_deleted"
    assert client.get(f"/registry/works/{work_id}").status_code == 404
    assert audit_actions(web) == [
        ("work.create", "acme"),
        ("work.file.add", "acme"),
        ("work.file.add", "acme"),
        ("work.file.add", "acme"),
        ("work.file.remove", "acme"),
        ("work.delete", "acme"),
    ]


def test_a_registered_work_is_what_the_scan_reads(web: Web) -> None:
    client = web.client(email("analyst", "acme"))
    work_id = register(client, "X1 用户手册")
    upload(client, work_id, "manual.md", MANUAL_MD)
    snapshot = registry_snapshot(web.store)
    (work,) = snapshot.works
    assert (work.owner, work.title, work.kind.value) == ("acme", "X1 用户手册", "text")
    (file,) = work.files
    read = read_work_file(Path(file))
    assert read.kind == "markdown" and "高强度铝合金" in read.text


BAD_FILES = [
    ("empty.txt", b"", "The file is empty", "empty"),
    ("blank.md", b"  \n\t\n", "The file is empty", "empty"),
    ("binary.txt", b"\x00\x01\x02text\x00" * 50, "cannot be read as text", "NUL bytes"),
    ("report.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "cannot be read as text", "a PDF"),
    ("scan.html", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "cannot be read as text", "a PNG"),
    ("old.txt", UNKNOWN_ENCODING, "cannot be read as text", "cannot tell the text's encoding"),
    ("report.pdf", b"%PDF-1.7", "uploaded as a .txt, .md or .html", "not a .txt, .md or .html"),
    ("manual.docx", b"PK\x03\x04", "uploaded as a .txt, .md or .html", "manual.docx"),
]


@pytest.mark.parametrize(
    ("name", "data", "message", "reason"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
def test_a_bad_file_is_refused_on_the_page_with_the_reason(
    web: Web, name: str, data: bytes, message: str, reason: str
) -> None:
    client = web.client(email("analyst", "acme"))
    work_id = register(client, "Manual")
    answer = upload(client, work_id, name, data)
    assert answer.status_code == 400
    error = re.search(r'data-testid="file-error">(.*?)</div>\s*</div>', answer.text, re.S)
    assert error, answer.text
    assert message in error.group(1)
    assert reason in error.group(1).replace("&#39;", "'")
    assert "No files yet" in answer.text
    assert assets(web) == [] and audit_actions(web) == [("work.create", "acme")]


def test_no_file_and_an_oversized_file_are_refused(web: Web) -> None:
    client = web.client(email("analyst", "acme"))
    work_id = register(client, "Manual")
    missing = client.post(f"/registry/works/{work_id}/files", data={})
    assert missing.status_code == 400 and "Choose a .txt, .md or .html file" in missing.text
    web.app.state.work_places = WorkPlaces(assets=web.settings.home / "assets", max_bytes=1024)
    large = upload(client, work_id, "long.txt", "长文本".encode() * 400)
    assert large.status_code == 400
    assert "too large for a work" in large.text and "MiB limit for a work&#39;s file" in large.text
    assert assets(web) == []


def test_a_50_mb_work_is_refused_over_the_api(web: Web) -> None:
    api = web.api(email("analyst", "acme"))
    work = api.post("/api/v1/works", json={"title": "The whole catalogue"}).json()
    answer = api.post(
        f"/api/v1/works/{work['id']}/files",
        params={"name": "catalogue.txt"},
        content=b"a" * 50_000_000,
        headers={"content-type": "text/plain"},
    )
    assert answer.status_code == 400
    assert "47.7 MiB, over the 16 MiB limit for a work's file" in answer.json()["detail"]
    assert assets(web) == []


def test_the_api_registers_uploads_reads_and_removes(web: Web) -> None:
    api = web.api(email("analyst", "acme"))
    created = api.post("/api/v1/works", json={"title": "X1 用户手册"})
    assert created.status_code == 201, created.text
    work = created.json()
    assert (work["owner"], work["kind"], work["files"]) == ("acme", "text", [])
    assert api.post("/api/v1/works", json={"title": "x1 用户手册"}).status_code == 409

    url = f"/api/v1/works/{work['id']}/files"
    sent = api.post(
        url,
        params={"name": "spec.txt"},
        content=SPEC_GB18030,
        headers={"content-type": "text/plain"},
    )
    assert sent.status_code == 201, sent.text
    stored = sent.json()
    assert stored["added"] is True
    assert (stored["file"]["encoding"], stored["file"]["kind"]) == ("gb18030", "text")
    assert stored["file"]["preview"].startswith("本产品采用高强度铝合金机身")
    wrong_type = api.post(
        url, params={"name": "a.txt"}, content=b"x", headers={"content-type": "image/png"}
    )
    assert wrong_type.status_code == 415 and "text/plain" in wrong_type.json()["detail"]
    binary = api.post(
        url,
        params={"name": "a.txt"},
        content=b"\x00\x01" * 20,
        headers={"content-type": "text/plain"},
    )
    assert binary.status_code == 400 and "NUL bytes" in binary.json()["detail"]

    detail = api.get(f"/api/v1/works/{work['id']}").json()
    assert [f["sha256"] for f in detail["file_details"]] == [stored["file"]["sha256"]]
    listed = api.get("/api/v1/works").json()
    assert [w["title"] for w in listed["items"]] == ["X1 用户手册"]

    gone = api.delete(f"{url}/{stored['file']['sha256']}")
    assert gone.status_code == 200 and gone.json()["files"] == []
    assert api.delete(f"{url}/{stored['file']['sha256']}").status_code == 404
    assert api.delete(f"/api/v1/works/{work['id']}").status_code == 204
    assert api.get(f"/api/v1/works/{work['id']}").status_code == 404


def test_works_are_listed_by_title_a_page_at_a_time(web: Web) -> None:
    api = web.api(email("analyst", "acme"))
    titles = [f"Manual {n:02d}" for n in range(7)]
    for title in reversed(titles):
        api.post("/api/v1/works", json={"title": title})
    seen, cursor = [], None
    while True:
        page = api.get(
            "/api/v1/works", params={"limit": 3, **({"cursor": cursor} if cursor else {})}
        )
        body = page.json()
        seen += [w["title"] for w in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == titles
    assert api.get("/api/v1/works", params={"cursor": "forged"}).status_code == 400


def test_members_see_only_their_own_works_and_the_operator_all(web: Web) -> None:
    acme = web.client(email("analyst", "acme"))
    globex = web.client(email("analyst", "globex"))
    acme_work = register(acme, "Acme manual")
    register(globex, "Globex article")
    assert "Globex article" not in acme.get("/registry/works").text
    assert globex.get(f"/registry/works/{acme_work}").status_code == 404
    assert upload(globex, acme_work, "x.txt", b"hello there").status_code == 404
    assert globex.post(f"/registry/works/{acme_work}/delete").status_code == 404
    api = web.api(email("analyst", "globex"))
    assert api.get(f"/api/v1/works/{acme_work}").status_code == 404
    # A member registers works for itself only.
    refused = acme.post("/registry/works", data={"title": "Not ours", "owner": "globex"})
    assert refused.status_code == 400 and "registers works for itself only" in refused.text

    operator = web.client(email("admin", "alliance"))
    listing = operator.get("/registry/works").text
    assert "Acme manual" in listing and "Globex article" in listing
    assert '<option value="acme"' in listing, "the operator chooses the owner"
    made = register(operator, "Shared guide", owner="globex")
    assert "Shared guide" in globex.get("/registry/works").text
    assert globex.get(f"/registry/works/{made}").status_code == 200
    assert ("work.create", "globex") in audit_actions(web)


def test_registering_needs_a_title_and_the_pages_speak_chinese(web: Web) -> None:
    client = web.client(email("analyst", "acme"))
    blank = client.post("/registry/works", data={"title": "   "})
    assert blank.status_code == 400 and "title: give the work&#39;s title" in blank.text
    twice = [client.post("/registry/works", data={"title": "Manual"}) for _ in range(2)]
    assert twice[1].status_code == 409 and "already has a work titled" in twice[1].text
    client.cookies.set("vigil_lang", "zh")
    work_id = int(WORK_ID.search(twice[0].headers["location"]).group(1))  # type: ignore[union-attr]
    page = client.get(f"/registry/works/{work_id}")
    assert "还没有文件" in page.text and "添加文件" in page.text
    refused = upload(client, work_id, "empty.txt", b"")
    assert "文件为空" in refused.text
    assert "作品" in client.get("/registry").text, "the registry page links the works"


def test_a_registry_file_upload_keeps_the_files_of_a_work(web: Web) -> None:
    api = web.api(email("analyst", "acme"))
    work = api.post("/api/v1/works", json={"title": "X1 用户手册"}).json()
    sent = api.post(
        f"/api/v1/works/{work['id']}/files",
        params={"name": "spec.txt"},
        content=SPEC_GB18030,
        headers={"content-type": "text/plain"},
    )
    assert sent.status_code == 201, sent.text
    # The same work in a registry file, without files: what was uploaded stays.
    file = "works:\n  - {owner: acme, title: X1 用户手册, kind: text}\n"
    loaded = api.post(
        "/api/v1/registry/upload",
        content=file.encode(),
        headers={"content-type": "application/yaml"},
    )
    assert loaded.status_code == 200, loaded.text
    files = api.get(f"/api/v1/works/{work['id']}").json()["files"]
    assert files == [sent.json()["file"]["file"]]
