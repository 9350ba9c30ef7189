"""POST /api/v1/listings: JSON Lines batches, idempotent, with per-line errors and clear 4xx."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import listing
from tests.web.conftest import Web
from vigil.services.uploads import MAX_LINES
from vigil.settings import Settings
from vigil.store.tables import AuditEventRow, ListingAccessRow, ListingRow
from vigil.web.app import create_app

NDJSON = {"Content-Type": "application/x-ndjson"}
ANALYST = "analyst@shopmart.test"


def jsonl(*records: dict[str, object]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def count(web: Web, table: type[ListingRow] | type[ListingAccessRow]) -> int:
    with web.store.session() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_an_upload_stores_the_batch_and_the_same_batch_again_changes_nothing(web: Web) -> None:
    client = web.api(ANALYST)
    batch = jsonl(*(listing(listing_id=f"a{i}", region="广东省深圳市") for i in range(20)))
    first = client.post("/api/v1/listings", content=batch, headers=NDJSON)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "accepted": 20, "added": 20, "updated": 0, "unchanged": 0, "rejected": [],
        "ignored_fields": {}, "warnings": [],
    }  # fmt: skip
    again = client.post("/api/v1/listings", content=batch, headers=NDJSON)
    assert again.status_code == 200
    assert (again.json()["added"], again.json()["unchanged"]) == (0, 20)
    assert count(web, ListingRow) == 20 and count(web, ListingAccessRow) == 20
    changed = jsonl(listing(listing_id="a3", region="广东省深圳市", price=1.5))
    assert client.post("/api/v1/listings", content=changed, headers=NDJSON).json()["updated"] == 1
    with web.store.session() as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "listings.upload")
        ).all()
        row = session.scalar(select(ListingRow).where(ListingRow.listing_id == "a0"))
    assert [e.actor for e in events] == [ANALYST] * 3
    assert events[0].details["added"] == 20 and events[0].source
    assert row is not None and row.verdict == "pending" and row.city_code == "440300"


def test_bad_lines_come_back_with_their_number_and_the_rest_is_stored(web: Web) -> None:
    body = b"".join(
        [
            jsonl(listing(listing_id="ok1")),
            b'{"platform": "jd", "listing_id": "x", "title": \n',
            jsonl(listing(listing_id="nt", title="")),
            b'{"platform": "jd", "listing_id": "u", "title": "\xc3\x28"}\n',
            jsonl(listing(listing_id="ok2", colour="red")),
        ]
    )
    answer = web.api(ANALYST).post(
        "/api/v1/listings", content=body, headers={"Content-Type": "application/jsonl"}
    )
    assert answer.status_code == 200
    found = answer.json()
    assert found["accepted"] == 2 and found["added"] == 2
    lines = {r["line"]: r["reason"] for r in found["rejected"]}
    assert sorted(lines) == [2, 3, 4]
    assert lines[2].startswith("not valid JSON")
    assert lines[3].startswith("title: ")
    assert "not valid UTF-8" in lines[4]
    # Unknown fields are ignored and counted, as `vigil scan` does.
    assert found["ignored_fields"] == {"colour": 1}
    assert found["warnings"] and "colour" in found["warnings"][0]
    assert count(web, ListingRow) == 2


def test_a_batch_without_one_valid_line_is_a_400_that_lists_the_lines(web: Web) -> None:
    answer = web.api(ANALYST).post("/api/v1/listings", content=b"{}\nnot json\n", headers=NDJSON)
    assert answer.status_code == 400
    found = answer.json()
    assert "no line is a valid listing" in found["detail"]
    assert [r["line"] for r in found["rejected"]] == [1, 2]
    assert count(web, ListingRow) == 0


def test_an_empty_body_says_what_to_send(web: Web) -> None:
    for body in (b"", b"\n \n"):
        answer = web.api(ANALYST).post("/api/v1/listings", content=body, headers=NDJSON)
        assert answer.status_code == 400
        assert "one JSON object per line" in answer.json()["detail"]


def test_more_lines_than_the_limit_is_a_413_naming_the_limit(web: Web) -> None:
    line = orjson.dumps(listing(listing_id="same", title="T")) + b"\n"
    answer = web.api(ANALYST).post(
        "/api/v1/listings", content=line * (MAX_LINES + 1), headers=NDJSON
    )
    assert answer.status_code == 413
    detail = answer.json()["detail"]
    assert "10,000" in detail and "split" in detail
    assert count(web, ListingRow) == 0


def test_a_body_above_the_size_limit_is_a_413_announced_or_not(web: Web) -> None:
    small = Settings(home=web.settings.home, max_upload_bytes=64 * 1024)
    app = create_app(small, store=web.store)
    body = jsonl(*(listing(listing_id=f"b{i}", description="长" * 200) for i in range(200)))
    assert len(body) > 64 * 1024
    key = web.key(ANALYST)
    headers = {**NDJSON, "Authorization": f"Bearer {key}"}

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    with TestClient(app) as client:
        announced = client.post("/api/v1/listings", content=body, headers=headers)
        streamed = client.post("/api/v1/listings", content=chunks(), headers=headers)
    for answer in (announced, streamed):
        assert answer.status_code == 413
        assert "split it into smaller requests" in answer.json()["detail"]
    assert count(web, ListingRow) == 0


def test_other_content_types_are_a_415_naming_the_accepted_ones(web: Web) -> None:
    client = web.api(ANALYST)
    body = jsonl(listing())
    for content_type in ("application/json", "text/csv", "multipart/form-data; boundary=x"):
        answer = client.post(
            "/api/v1/listings", content=body, headers={"Content-Type": content_type}
        )
        assert answer.status_code == 415, content_type
        detail = answer.json()["detail"]
        assert "application/x-ndjson" in detail and "application/jsonl" in detail
    bare = client.post("/api/v1/listings", content=body)
    assert bare.status_code == 415
    charset = client.post(
        "/api/v1/listings",
        content=body,
        headers={"Content-Type": "application/x-ndjson; charset=utf-8"},
    )
    assert charset.status_code == 200
    assert count(web, ListingRow) == 1


def test_who_may_upload(web: Web) -> None:
    body = jsonl(listing(listing_id="w1"))
    assert web.anonymous().post("/api/v1/listings", content=body, headers=NDJSON).status_code == 401
    viewer = web.api("viewer@shopmart.test").post("/api/v1/listings", content=body, headers=NDJSON)
    assert viewer.status_code == 403
    read_only = web.api(ANALYST, scope="read").post(
        "/api/v1/listings", content=body, headers=NDJSON
    )
    assert read_only.status_code == 403 and "read-only" in read_only.json()["detail"]
    session = web.client(ANALYST)
    without_token = web.client(ANALYST)
    del without_token.headers["X-CSRF-Token"]
    refused = without_token.post("/api/v1/listings", content=body, headers=NDJSON)
    assert refused.status_code == 403
    assert count(web, ListingRow) == 0
    assert session.post("/api/v1/listings", content=body, headers=NDJSON).status_code == 200


def test_a_listing_another_member_uploaded_counts_as_added_for_this_one(web: Web) -> None:
    body = jsonl(listing(listing_id="shared"))
    web.api(ANALYST).post("/api/v1/listings", content=body, headers=NDJSON)
    theirs = web.api("analyst@acme.test").post("/api/v1/listings", content=body, headers=NDJSON)
    # Nothing in the answer tells acme that shopmart had sent the same listing.
    assert (theirs.json()["added"], theirs.json()["unchanged"]) == (1, 0)
    assert count(web, ListingRow) == 1 and count(web, ListingAccessRow) == 2
