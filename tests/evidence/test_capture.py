"""Capturing a case's evidence and attaching files: the items made, where their bytes go, the
log entries that bind them, what is not duplicated, what is refused, who may do it. On SQLite
and, when configured, PostgreSQL; bytes under the home and in the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.case_factories import actor
from tests.evidence.world import ACME, GLOBEX, EvidenceWorld, evidence_world, sha
from vigil.domain.people import Role
from vigil.evidence.blobs import Storage
from vigil.evidence.canonical import canonical_json
from vigil.evidence.entries import decode_entry
from vigil.evidence.log import TransparencyLog
from vigil.evidence.signing import LogSigner, verify_tree_head
from vigil.services import cases
from vigil.services.cases import CaseForbidden, CaseNotFound
from vigil.services.evidence import (
    EvidenceError,
    EvidenceNotFound,
    attach,
    capture,
    clean_filename,
    clean_media_type,
    evidence_content,
    evidence_items,
)
from vigil.store.db import Store
from vigil.store.tables import (
    AuditEventRow,
    EvidenceBlobRow,
    EvidenceItemRow,
    EvidenceLogEntryRow,
    EvidenceTreeHeadRow,
    ListingRow,
    SignalRow,
)


@pytest.fixture(params=["home", "database"])
def world(request: pytest.FixtureRequest, store: Store, tmp_path: Path) -> EvidenceWorld:
    storage: Storage = request.param
    return evidence_world(store, tmp_path / "home", storage=storage)


def _count(store: Store, table: type) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _timeline(world: EvidenceWorld) -> list[cases.TimelineEvent]:
    detail = cases.case_detail(world.store, ACME, world.case_id)
    return [event for event in detail.timeline if event.kind == "evidence"]


def test_capture_makes_a_snapshot_signals_and_photos_for_each_listing(
    world: EvidenceWorld,
) -> None:
    result = capture(world.store, world.settings, ACME, world.case_id)
    first, second = world.listings
    made = [(item.kind, item.listing_pk) for item in result.added]
    assert made == [
        ("listing_snapshot", first),
        ("signals", first),
        ("image", first),
        ("image", first),
        ("listing_snapshot", second),
        ("signals", second),
    ]
    assert [item.log_index for item in result.added] == list(range(6))
    photos = [item for item in result.added if item.kind == "image"]
    assert [(p.sha256, p.media_type) for p in photos] == [
        (sha(world.photos[0]), "image/png"),
        (sha(world.photos[1]), "image/jpeg"),
    ]
    # The photos that could not be captured are named with the reason, not dropped.
    assert [(m.ref, m.reason) for m in result.missing] == [
        ("https://shop.example/later.jpg", "no scan has fetched it yet; scan the listing, then capture"),
        ("https://shop.example/gone.jpg", "the scan could not read it: HTTP 404 Not Found"),
    ]  # fmt: skip
    head = result.tree_head
    assert head is not None and head.size == 6
    verify_tree_head(head, LogSigner.for_settings(world.settings).public_key_pem)
    assert evidence_items(world.store, ACME, world.case_id) == result.added


def test_the_snapshot_is_the_listing_as_the_contract_names_it_in_canonical_json(
    world: EvidenceWorld,
) -> None:
    result = capture(world.store, world.settings, ACME, world.case_id)
    snapshot, signals = result.added[0], result.added[1]
    item, data = evidence_content(world.store, world.settings, ACME, world.case_id, snapshot.sha256)
    assert item == snapshot and sha(data) == snapshot.sha256
    value = json.loads(data)
    assert canonical_json(value) == data
    listing = value["listing"]
    assert (listing["platform"], listing["listing_id"]) == ("shopmart", snapshot.listing_id)
    assert listing["price"] == 199 and listing["currency"] == "CNY"
    assert listing["seller"] == {"id": "shop-1", "name": "Seller shop-1"}
    assert "高仿" in listing["title"] and listing["images"][-1] == "https://shop.example/later.jpg"
    assert value["assessment"]["verdict"] == "counterfeit_suspected"
    assert value["assessment"]["risk"] == 0.95
    _, data = evidence_content(world.store, world.settings, ACME, world.case_id, signals.sha256)
    shown = json.loads(data)["signals"]
    assert [(s["detector"], s["kind"], s["weight"]) for s in shown] == [
        ("price", "price_below_msrp", 1.25),
        ("wording", "counterfeit_wording", 2.5),
    ]
    assert shown[0]["details"] == {"ratio": 0.08}


def test_each_item_is_kept_by_its_digest_where_the_setting_says(world: EvidenceWorld) -> None:
    result = capture(world.store, world.settings, ACME, world.case_id)
    digests = {item.sha256 for item in result.added}
    files = {p.name for p in (world.home / "evidence").rglob("*") if p.is_file()}
    if world.settings.evidence_storage == "home":
        assert files == digests and _count(world.store, EvidenceBlobRow) == 0
        for digest in digests:
            path = world.home / "evidence" / digest[:2] / digest
            assert sha(path.read_bytes()) == digest
    else:
        assert files == set() and _count(world.store, EvidenceBlobRow) == len(digests)
    assert {item.storage for item in result.added} == {world.settings.evidence_storage}


def test_each_item_has_a_log_entry_binding_its_digest_to_the_case(world: EvidenceWorld) -> None:
    result = capture(world.store, world.settings, ACME, world.case_id)
    log = TransparencyLog()
    with world.store.session() as session:
        rows = session.scalars(select(EvidenceItemRow).order_by(EvidenceItemRow.log_index))
        for row, item in zip(rows, result.added, strict=True):
            assert row.log_index is not None and row.log_entry is not None
            assert log.entry(session, row.log_index) == row.log_entry
            entry = decode_entry(row.log_entry)
            assert (entry.case, entry.sha256, entry.kind, entry.size) == (
                world.reference,
                item.sha256,
                item.kind,
                item.size,
            )
            assert (entry.platform, entry.listing_id) == (item.platform, item.listing_id)
            assert entry.media_type == item.media_type and entry.captured_at.endswith("Z")


def test_capturing_again_duplicates_nothing_and_a_changed_listing_adds_its_new_snapshot(
    world: EvidenceWorld,
) -> None:
    capture(world.store, world.settings, ACME, world.case_id)
    again = capture(world.store, world.settings, ACME, world.case_id)
    assert again.added == [] and again.unchanged == 6
    assert _count(world.store, EvidenceTreeHeadRow) == 1
    assert len(_timeline(world)) == 1
    with world.store.session() as session:
        session.execute(
            update(ListingRow).where(ListingRow.id == world.listings[1]).values(price=9.5)
        )
    changed = capture(world.store, world.settings, ACME, world.case_id)
    assert [(i.kind, i.listing_pk, i.log_index) for i in changed.added] == [
        ("listing_snapshot", world.listings[1], 6)
    ]
    assert changed.tree_head is not None and changed.tree_head.size == 7
    assert _count(world.store, EvidenceItemRow) == 7


def test_a_capture_leaves_one_timeline_line_and_one_audit_event(world: EvidenceWorld) -> None:
    capture(world.store, world.settings, ACME, world.case_id)
    (event,) = _timeline(world)
    assert event.actor == ACME.name
    assert event.body == (
        "Evidence captured: 2 image, 2 listing snapshot, 2 signals. "
        "2 photo(s) could not be captured."
    )
    assert event.details["log_indexes"] == list(range(6))
    with world.store.session() as session:
        found = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "evidence.capture")
        ).all()
    assert [(a.actor, a.subject, a.member_id, a.details["added"]) for a in found] == [
        (ACME.name, world.reference, "acme", 6)
    ]


def test_a_capture_that_fails_writes_nothing(world: EvidenceWorld) -> None:
    with world.store.session() as session:
        session.add(
            SignalRow(
                listing_pk=world.listings[1], detector="price", kind="price_below_msrp",
                weight=1.0, evidence="x", explanation="x", details={"n": 2**70 + 1},
            )
        )  # fmt: skip
    with pytest.raises(EvidenceError, match="no canonical JSON form"):
        capture(world.store, world.settings, ACME, world.case_id)
    for table in (EvidenceItemRow, EvidenceLogEntryRow, EvidenceTreeHeadRow):
        assert _count(world.store, table) == 0
    assert _timeline(world) == []


def test_only_the_cases_parties_capture_and_read_its_evidence(world: EvidenceWorld) -> None:
    capture(world.store, world.settings, ACME, world.case_id)
    digest = evidence_items(world.store, ACME, world.case_id)[0].sha256
    for call in (
        lambda: capture(world.store, world.settings, GLOBEX, world.case_id),
        lambda: evidence_items(world.store, GLOBEX, world.case_id),
        lambda: evidence_content(world.store, world.settings, GLOBEX, world.case_id, digest),
        lambda: attach(
            world.store, world.settings, GLOBEX, world.case_id,
            filename="x.txt", data=b"x", media_type="text/plain",
        ),
    ):  # fmt: skip
        with pytest.raises(CaseNotFound, match=f"no case {world.case_id}"):
            call()
    viewer = actor("acme", Role.VIEWER)
    assert len(evidence_items(world.store, viewer, world.case_id)) == 6
    with pytest.raises(CaseForbidden):
        capture(world.store, world.settings, viewer, world.case_id)
    with pytest.raises(EvidenceNotFound, match="has no evidence"):
        evidence_content(world.store, world.settings, ACME, world.case_id, "0" * 64)


def test_an_attachment_is_kept_logged_and_not_duplicated(world: EvidenceWorld) -> None:
    data = b"%PDF-1.7\n% a test purchase receipt\n"
    first = attach(
        world.store, world.settings, ACME, world.case_id,
        filename="../../receipts/\x07order 42.pdf", data=data, media_type="Application/PDF; x=1",
    )  # fmt: skip
    item = first.item
    assert first.added and (item.kind, item.name, item.media_type) == (
        "attachment",
        "order 42.pdf",
        "application/pdf",
    )
    assert item.log_index == 0 and first.tree_head is not None and first.tree_head.size == 1
    assert (
        evidence_content(world.store, world.settings, ACME, world.case_id, item.sha256)[1] == data
    )
    again = attach(
        world.store, world.settings, ACME, world.case_id,
        filename="copy.pdf", data=data, media_type="application/pdf",
    )  # fmt: skip
    assert not again.added and again.item == item
    assert [e.body for e in _timeline(world)] == ["Attached order 42.pdf."]


def test_attachments_that_cannot_be_kept_are_refused_saying_why(world: EvidenceWorld) -> None:
    small = world.settings.model_copy(update={"max_upload_bytes": 10})
    with pytest.raises(EvidenceError, match="is empty"):
        attach(world.store, small, ACME, world.case_id, filename="a", data=b"", media_type=None)
    with pytest.raises(EvidenceError, match="11 bytes, more than an attachment may be"):
        attach(
            world.store, small, ACME, world.case_id, filename="a", data=b"x" * 11, media_type=None
        )
    assert _count(world.store, EvidenceItemRow) == 0


def test_a_case_without_listings_has_nothing_to_capture(store: Store, tmp_path: Path) -> None:
    world = evidence_world(store, tmp_path / "home")
    from vigil.store.tables import CaseListingRow

    with store.session() as session:
        session.query(CaseListingRow).filter(CaseListingRow.case_id == world.case_id).delete()
    with pytest.raises(EvidenceError, match="has no listings to capture"):
        capture(store, world.settings, ACME, world.case_id)


def test_names_and_media_types_are_cleaned() -> None:
    assert clean_filename("C:\\Users\\me\\photo.jpg") == "photo.jpg"
    assert clean_filename("\x00\x1f") == "attachment"
    long = clean_filename("a" * 300 + ".jpeg")
    assert len(long) == 200 and long.endswith(".jpeg")
    assert clean_media_type("text/html; charset=utf-8") == "text/html"
    assert clean_media_type("not a type") == "application/octet-stream"
    assert clean_media_type(None) == "application/octet-stream"


def test_a_photo_changed_in_the_scans_store_is_reported_not_captured(world: EvidenceWorld) -> None:
    assert world.places.blobs is not None
    digest = sha(world.photos[0])
    path = world.places.blobs.blob_path(digest)
    assert path is not None
    path.write_bytes(b"not the photo the scan saw")
    result = capture(world.store, world.settings, ACME, world.case_id)
    assert digest not in {item.sha256 for item in result.added}
    assert [m.reason for m in result.missing if m.sha256 == digest] == [
        f"the stored copy was changed: it hashes to {sha(b'not the photo the scan saw')}"
    ]
    assert len(result.added) == 5 and result.unchanged == 0
