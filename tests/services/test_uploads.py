"""Listing uploads on the store: idempotent upserts, per-line errors, limits, access, audit.

Every test runs on SQLite and, when VIGIL_TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import func, select

from tests.factories import listing
from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.pipeline.readers import MAX_RECORD_BYTES
from vigil.services.accounts import create_member
from vigil.services.uploads import MAX_LINES, EmptyUpload, UploadTooLarge, ingest_batch
from vigil.store import listings_repo
from vigil.store.db import Store, cli_actor
from vigil.store.tables import AuditEventRow, ListingAccessRow, ListingRow, SignalRow


def member(store: Store, member_id: str, kind: MemberKind) -> Actor:
    create_member(store, member_id=member_id, name=member_id.title(), kind=kind, actor=cli_actor())
    return Actor(
        name=f"analyst@{member_id}.test",
        member_id=member_id,
        member_kind=kind,
        role=Role.ANALYST,
        source="127.0.0.1",
    )


@pytest.fixture
def shopmart(store: Store) -> Actor:
    return member(store, "shopmart", MemberKind.MARKETPLACE)


def jsonl(*records: dict[str, object]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def listings(store: Store) -> dict[str, ListingRow]:
    with store.session() as session:
        return {row.listing_id: row for row in session.scalars(select(ListingRow))}


def access(store: Store) -> list[tuple[str, str, str]]:
    with store.session() as session:
        rows = session.execute(
            select(ListingRow.listing_id, ListingAccessRow.member_id, ListingAccessRow.reason)
            .join(ListingRow, ListingRow.id == ListingAccessRow.listing_pk)
            .order_by(ListingRow.listing_id, ListingAccessRow.member_id)
        )
        return [(listing_id, member_id, reason) for listing_id, member_id, reason in rows]


def audit_actions(store: Store) -> list[AuditEventRow]:
    with store.session() as session:
        return list(
            session.scalars(select(AuditEventRow).where(AuditEventRow.action == "listings.upload"))
        )


def test_an_upload_stores_pending_listings_grants_access_and_audits_once(
    store: Store, shopmart: Actor
) -> None:
    batch = jsonl(
        listing(listing_id="u1", region="广东省深圳市"),
        listing(listing_id="u2", title="高仿小米14 一比一", price=399),
        listing(listing_id="u3", seller={"id": "s-9", "name": None, "phone": "138"}),
    )
    result = ingest_batch(store, shopmart, batch)
    assert (result.accepted, result.added, result.updated, result.unchanged) == (3, 3, 0, 0)
    assert result.rejected == []
    rows = listings(store)
    assert sorted(rows) == ["u1", "u2", "u3"]
    assert {r.verdict for r in rows.values()} == {"pending"}
    assert {r.scan_id for r in rows.values()} == {None}
    assert rows["u2"].title == "高仿小米14 一比一" and rows["u2"].price == 399
    assert rows["u3"].seller == {"id": "s-9", "phone": "138"} and rows["u3"].seller_id == "s-9"
    # The region is resolved to its administrative divisions as it is stored.
    assert (rows["u1"].province_code, rows["u1"].city_code) == ("440000", "440300")
    assert rows["u1"].area is None and rows["u2"].province_code is None
    assert access(store) == [(i, "shopmart", "uploaded") for i in ("u1", "u2", "u3")]
    events = audit_actions(store)
    assert len(events) == 1
    assert events[0].actor == "analyst@shopmart.test" and events[0].member_id == "shopmart"
    assert events[0].details["added"] == 3 and events[0].source == "127.0.0.1"


def test_uploading_the_same_batch_again_changes_and_duplicates_nothing(
    store: Store, shopmart: Actor
) -> None:
    batch = jsonl(*(listing(listing_id=f"r{i}", region="北京市朝阳区") for i in range(50)))
    ingest_batch(store, shopmart, batch)
    before = {k: (r.id, r.title, r.scanned_at) for k, r in listings(store).items()}
    again = ingest_batch(store, shopmart, batch)
    assert (again.accepted, again.added, again.updated, again.unchanged) == (50, 0, 0, 50)
    after = {k: (r.id, r.title, r.scanned_at) for k, r in listings(store).items()}
    assert after == before
    assert len(access(store)) == 50
    assert len(audit_actions(store)) == 2  # one per batch, whatever it changed


def test_a_changed_record_is_updated_and_waits_for_a_scan_again(
    store: Store, shopmart: Actor
) -> None:
    original = listing(listing_id="c1", title="高仿小米14", price=399)
    ingest_batch(store, shopmart, jsonl(original))
    # A scan assessed it in the meantime.
    now = datetime.now(UTC)
    assessment = {
        "platform": "taobao", "listing_id": "c1", "verdict": "counterfeit_suspected",
        "risk": 0.97, "log_odds": 3.4, "brand": "Xiaomi", "product": None,
        "signals": [{"detector": "wording", "kind": "counterfeit_wording", "asset": None,
                     "weight": 2.0, "evidence": "高仿", "explanation": "Says it is a copy."}],
    }  # fmt: skip
    with store.session() as session:
        listings_repo.start_scan(session, scan_id="s1", started_at=now, inputs=["x"])
        stored = {k: v for k, v in original.items()}
        listings_repo.save_assessments(
            session, scan_id="s1", scanned_at=now, items=[(stored, assessment)]
        )
    # The same record again: the assessment stays.
    same = ingest_batch(store, shopmart, jsonl(original))
    assert same.unchanged == 1 and listings(store)["c1"].verdict == "counterfeit_suspected"
    # A changed record: updated, pending again, its old signals gone.
    changed = ingest_batch(store, shopmart, jsonl({**original, "price": 6499}))
    assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 0)
    row = listings(store)["c1"]
    assert (row.verdict, row.risk, row.brand, row.scan_id, row.price) == (
        "pending", 0.0, None, None, 6499
    )  # fmt: skip
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(SignalRow)) == 0
    assert len(listings(store)) == 1


def test_bad_lines_are_reported_by_number_and_the_rest_is_stored(
    store: Store, shopmart: Actor
) -> None:
    body = b"\n".join(
        [
            orjson.dumps(listing(listing_id="ok1")),
            b"",  # blank lines are skipped but still counted
            b'{"platform": "taobao", "listing_id": "x", "title": ',
            orjson.dumps(listing(listing_id="no-title", title=None)),
            b'["not", "an", "object"]',
            b'{"platform": "taobao", "listing_id": "bad-utf8", "title": "\xff\xfe"}',
            orjson.dumps(listing(listing_id="neg", price=-5)),
            orjson.dumps(listing(listing_id="cur", currency="XYZ")),
            orjson.dumps(listing(listing_id="ok2")),
        ]
    )
    result = ingest_batch(store, shopmart, body)
    assert result.accepted == 2 and sorted(listings(store)) == ["ok1", "ok2"]
    reasons = {p.line: p.reason for p in result.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    assert reasons[3].startswith("not valid JSON")
    assert reasons[4] == "title: required field is missing"
    assert reasons[5] == "expected a JSON object, found list"
    assert "not valid UTF-8" in reasons[6] and "re-export the feed as UTF-8" in reasons[6]
    assert reasons[7].startswith("price: ")
    assert "ISO 4217" in reasons[8]


def test_unknown_fields_are_ignored_and_counted_as_the_command_line_does(
    store: Store, shopmart: Actor
) -> None:
    batch = jsonl(
        listing(listing_id="f1", colour="red", stock=3),
        listing(listing_id="f2", colour="blue"),
    )
    result = ingest_batch(store, shopmart, batch)
    assert result.accepted == 2
    assert result.ignored_fields == {"colour": 2, "stock": 1}
    assert result.warnings == [
        "ignored fields the listing contract does not know: colour (2), stock (1)"
    ]


def test_a_batch_above_the_line_limit_is_refused_whole(store: Store, shopmart: Actor) -> None:
    line = orjson.dumps(listing(listing_id="same")) + b"\n"
    with pytest.raises(UploadTooLarge, match="at most 10,000 listings"):
        ingest_batch(store, shopmart, line * (MAX_LINES + 1))
    assert listings(store) == {} and audit_actions(store) == []
    # Exactly at the limit is fine (the repeated key is stored once, the last line winning).
    result = ingest_batch(store, shopmart, line * MAX_LINES)
    assert result.accepted == MAX_LINES and result.added == 1 and len(listings(store)) == 1


def test_an_oversized_line_is_rejected_by_size_without_parsing(
    store: Store, shopmart: Actor
) -> None:
    huge = orjson.dumps(listing(listing_id="big", description="好" * (MAX_RECORD_BYTES // 3 + 1)))
    result = ingest_batch(store, shopmart, jsonl(listing(listing_id="small")) + huge)
    assert result.accepted == 1
    [problem] = result.rejected
    assert problem.line == 2 and f"at most {MAX_RECORD_BYTES:,} are accepted" in problem.reason


def test_an_empty_upload_says_what_to_send(store: Store, shopmart: Actor) -> None:
    for body in (b"", b"\n\n  \n"):
        with pytest.raises(EmptyUpload, match="one JSON object per line"):
            ingest_batch(store, shopmart, body)


def test_a_batch_of_bad_lines_only_writes_nothing(store: Store, shopmart: Actor) -> None:
    result = ingest_batch(store, shopmart, b"nope\n{}\n")
    assert result.accepted == 0 and [p.line for p in result.rejected] == [1, 2]
    assert listings(store) == {} and audit_actions(store) == []


def test_a_file_with_a_byte_order_mark_and_crlf_lines_reads_as_a_file(
    store: Store, shopmart: Actor
) -> None:
    body = b"\xef\xbb\xbf" + jsonl(listing(listing_id="b1"), listing(listing_id="b2"))
    result = ingest_batch(store, shopmart, io.BytesIO(body.replace(b"\n", b"\r\n")))
    assert result.accepted == 2 and result.rejected == []


def test_a_listing_another_member_uploaded_is_new_to_this_one(
    store: Store, shopmart: Actor
) -> None:
    other = member(store, "bazaar", MemberKind.MARKETPLACE)
    record = listing(listing_id="shared-1")
    ingest_batch(store, shopmart, jsonl(record))
    # For bazaar the listing is new: its counts do not reveal what other members uploaded.
    theirs = ingest_batch(store, other, jsonl(record))
    assert (theirs.added, theirs.unchanged) == (1, 0)
    assert access(store) == [
        ("shared-1", "bazaar", "uploaded"), ("shared-1", "shopmart", "uploaded"),
    ]  # fmt: skip
    assert len(listings(store)) == 1
    mine = ingest_batch(store, shopmart, jsonl(record))
    assert mine.unchanged == 1
