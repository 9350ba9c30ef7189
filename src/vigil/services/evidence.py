"""A case's evidence: captured from its listings, attached by its parties, entered in the log.

Capturing a case makes, for each of its listings, a snapshot of the listing as assessed
(canonical JSON), its signals at that moment (canonical JSON) and a copy of each photo whose
bytes the scan kept. Each item is named by the SHA-256 of its bytes; an item the case has
already is not made again. Every new item is appended to the transparency log, whose new tree
head is signed once per capture, all in one transaction with the audit and timeline events.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.evidence.blobs import SHA256, EvidenceBlobs
from vigil.evidence.canonical import (
    JSON_MEDIA_TYPE,
    NotCanonicalizable,
    canonical_json,
    sha256_hex,
)
from vigil.evidence.entries import ITEM_KINDS, LogEntry, rfc3339
from vigil.evidence.log import TransparencyLog
from vigil.evidence.signing import LogSigner, TreeHead
from vigil.evidence.snapshots import listing_snapshot, signals_snapshot
from vigil.images.decode import sniff
from vigil.services.cases import CaseNotFound, case_for, record_event
from vigil.services.media import MAX_FILE_BYTES, MEDIA_TYPES, MediaPlaces
from vigil.settings import Settings
from vigil.store.db import Store, audit
from vigil.store.tables import (
    CaseListingRow,
    CaseRow,
    EvidenceItemRow,
    ListingRow,
    SignalRow,
    as_utc,
)

# The scan's image store holds what it fetched, up to the fetcher's own limit.
MAX_IMAGE_BYTES = MAX_FILE_BYTES * 4
MAX_NAME = 200
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class EvidenceError(VigilError):
    """Evidence cannot be captured, attached or read; the message says why and what to do."""


class EvidenceNotFound(CaseNotFound):
    """No such item in the case (reported like a case one may not see)."""


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One item of a case's evidence, as lists show it."""

    id: int
    kind: str
    sha256: str
    media_type: str
    size: int
    name: str | None
    listing_pk: int | None
    platform: str | None
    listing_id: str | None
    captured_at: datetime
    captured_by: str
    storage: str
    log_index: int | None


@dataclass(frozen=True, slots=True)
class MissingImage:
    """A photo of a listing whose bytes could not be captured, and why."""

    listing_pk: int
    platform: str
    listing_id: str
    ref: str
    sha256: str | None
    reason: str


@dataclass(frozen=True)
class CaptureResult:
    case: str  # the case's reference
    added: list[EvidenceItem]
    unchanged: int
    missing: list[MissingImage]
    tree_head: TreeHead | None  # signed for this capture, or the latest when nothing was new


@dataclass(frozen=True)
class AttachResult:
    item: EvidenceItem
    added: bool  # False when the case had these bytes as an attachment already
    tree_head: TreeHead | None


@dataclass
class _Candidate:
    """An item a capture may make. JSON items and attachments hold their bytes; a photo names
    its copy in the scan's store, read only when it is kept, one at a time."""

    kind: str
    sha256: str
    media_type: str | None  # None for a photo: known from its bytes
    name: str | None = None
    listing: ListingRow | None = None
    data: bytes | None = None
    path: Path | None = None

    @classmethod
    def of(
        cls,
        kind: str,
        data: bytes,
        media_type: str,
        name: str | None = None,
        listing: ListingRow | None = None,
    ) -> _Candidate:
        return cls(kind, sha256_hex(data), media_type, name, listing, data=data)


def item_of(row: EvidenceItemRow, listing: ListingRow | None) -> EvidenceItem:
    return EvidenceItem(
        id=row.id,
        kind=row.kind,
        sha256=row.sha256,
        media_type=row.media_type,
        size=int(row.size),
        name=row.name,
        listing_pk=row.listing_pk,
        platform=listing.platform if listing is not None else None,
        listing_id=listing.listing_id if listing is not None else None,
        captured_at=as_utc(row.captured_at),
        captured_by=row.captured_by,
        storage=row.storage,
        log_index=None if row.log_index is None else int(row.log_index),
    )


# Photos -------------------------------------------------------------------------------------


def _image_candidates(
    listing: ListingRow, places: MediaPlaces
) -> tuple[list[_Candidate], list[MissingImage]]:
    """A candidate for each photo whose bytes the scan keeps; the others, with the reason."""
    found: list[_Candidate] = []
    missing: list[MissingImage] = []

    def lost(ref: str, sha256: str | None, reason: str) -> None:
        missing.append(
            MissingImage(listing.id, listing.platform, listing.listing_id, ref, sha256, reason)
        )

    records = [r for r in listing.image_records or [] if isinstance(r, dict)]
    recorded = {str(r.get("ref")) for r in records}
    for ref in listing.images or []:
        if str(ref) not in recorded:
            lost(str(ref), None, "no scan has fetched it yet; scan the listing, then capture")
    for record in records:
        ref, sha256 = str(record.get("ref", "")), record.get("sha256")
        if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
            error = record.get("error")
            lost(ref, None, f"the scan could not read it: {error}" if error else "never read")
            continue
        path = places.blobs.blob_path(sha256) if places.blobs is not None else None
        if path is None:
            lost(ref, sha256, "its bytes are not kept in the scan's image store")
            continue
        found.append(_Candidate("image", sha256, None, ref[:500], listing, path=path))
    return found, missing


def _photo(candidate: _Candidate, missing: list[MissingImage]) -> bytes | None:
    """A photo's bytes as the scan kept them, checked against their digest; None (and the
    reason, in `missing`) when they cannot be captured."""
    assert candidate.path is not None and candidate.listing is not None
    listing, ref = candidate.listing, candidate.name or ""

    def lost(reason: str) -> None:
        missing.append(
            MissingImage(
                listing.id, listing.platform, listing.listing_id, ref, candidate.sha256, reason
            )
        )

    try:
        with candidate.path.open("rb") as handle:
            data = handle.read(MAX_IMAGE_BYTES + 1)
    except OSError as error:
        lost(f"its stored copy cannot be read: {error.strerror or error}")
        return None
    if len(data) > MAX_IMAGE_BYTES:
        lost(f"its stored copy is larger than {MAX_IMAGE_BYTES:,} bytes")
        return None
    actual = sha256_hex(data)
    if actual != candidate.sha256:
        lost(f"the stored copy was changed: it hashes to {actual}")
        return None
    return data


def _image_type(data: bytes) -> str:
    kind = sniff(data)
    return MEDIA_TYPES[kind] if kind is not None else "application/octet-stream"


def _signals_by_listing(session: Session, pks: Sequence[int]) -> dict[int, list[SignalRow]]:
    found: dict[int, list[SignalRow]] = {pk: [] for pk in pks}
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        for signal in session.scalars(select(SignalRow).where(SignalRow.listing_pk.in_(chunk))):
            found[signal.listing_pk].append(signal)
    return found


# Writing ------------------------------------------------------------------------------------


def _log(settings: Settings) -> TransparencyLog:
    return TransparencyLog(LogSigner.for_settings(settings))


def _enter(
    session: Session,
    *,
    case: CaseRow,
    actor: Actor,
    candidates: Sequence[_Candidate],
    blobs: EvidenceBlobs,
    log: TransparencyLog,
    missing: list[MissingImage],
) -> list[EvidenceItemRow]:
    """Keep the candidates' bytes, append their log entries and record the items; a photo
    whose bytes cannot be read goes to `missing` instead."""
    captured_at = datetime.now(UTC)
    stamp = rfc3339(captured_at)
    rows: list[EvidenceItemRow] = []
    for candidate in candidates:
        data = candidate.data if candidate.data is not None else _photo(candidate, missing)
        if data is None:
            continue
        blobs.put(session, data)
        listing = candidate.listing
        entry = LogEntry(
            case=case.reference,
            sha256=candidate.sha256,
            kind=candidate.kind,
            media_type=candidate.media_type or _image_type(data),
            size=len(data),
            captured_at=stamp,
            platform=listing.platform if listing else None,
            listing_id=listing.listing_id if listing else None,
        )
        rows.append(
            EvidenceItemRow(
                case_id=case.id,
                kind=entry.kind,
                sha256=entry.sha256,
                media_type=entry.media_type,
                size=entry.size,
                name=candidate.name,
                listing_pk=listing.id if listing else None,
                captured_at=captured_at,
                captured_by=actor.name,
                storage=blobs.storage,
                log_entry=entry.encode(),
            )
        )
    indexes = log.append(session, [row.log_entry for row in rows if row.log_entry is not None])
    for row, index in zip(rows, indexes, strict=True):
        row.log_index = index
    session.add_all(rows)
    try:
        session.flush()
    except IntegrityError:
        raise EvidenceError(
            f"someone else added evidence to case {case.reference} at the same moment; "
            "nothing was written: run the capture again"
        ) from None
    return rows


def _known(session: Session, case_id: int) -> set[tuple[str, str]]:
    rows = session.execute(
        select(EvidenceItemRow.kind, EvidenceItemRow.sha256).where(
            EvidenceItemRow.case_id == case_id
        )
    )
    return {(kind, sha256) for kind, sha256 in rows}


def capture(
    store: Store,
    settings: Settings,
    actor: Actor,
    case_id: int,
    *,
    places: MediaPlaces | None = None,
) -> CaptureResult:
    """Capture the case's listings as evidence (see the module docstring); raises CaseNotFound
    for a case the actor is not party to and CaseForbidden when it may not work on it."""
    places = places if places is not None else MediaPlaces.for_home(settings.home)
    blobs = EvidenceBlobs.for_settings(settings)
    log = _log(settings)
    with store.session() as session:
        case = case_for(session, actor, case_id, write=True)
        listings = list(
            session.scalars(
                select(ListingRow)
                .join(CaseListingRow, CaseListingRow.listing_pk == ListingRow.id)
                .where(CaseListingRow.case_id == case.id)
                .order_by(ListingRow.id)
            )
        )
        if not listings:
            raise EvidenceError(
                f"case {case.reference} has no listings to capture; add listings to it, or "
                "attach evidence files instead"
            )
        signals = _signals_by_listing(session, [row.id for row in listings])
        candidates: list[_Candidate] = []
        missing: list[MissingImage] = []
        for listing in listings:
            try:
                snapshot = canonical_json(listing_snapshot(listing))
                found = canonical_json(signals_snapshot(listing, signals[listing.id]))
            except NotCanonicalizable as error:
                raise EvidenceError(
                    f"{listing.platform} listing {listing.listing_id} cannot be captured: "
                    f"{error}; nothing was captured"
                ) from None
            candidates.append(
                _Candidate.of("listing_snapshot", snapshot, JSON_MEDIA_TYPE, None, listing)
            )
            candidates.append(_Candidate.of("signals", found, JSON_MEDIA_TYPE, None, listing))
            images, lost = _image_candidates(listing, places)
            candidates.extend(images)
            missing.extend(lost)
        known = _known(session, case.id)
        new: list[_Candidate] = []
        for candidate in candidates:
            key = (candidate.kind, candidate.sha256)
            if key not in known:
                known.add(key)
                new.append(candidate)
        unchanged = len(candidates) - len(new)
        rows = _enter(
            session,
            case=case,
            actor=actor,
            candidates=new,
            blobs=blobs,
            log=log,
            missing=missing,
        )
        by_pk = {row.id: row for row in listings}
        added = [item_of(row, by_pk.get(row.listing_pk or -1)) for row in rows]
        head = log.sign_head(session) if rows else log.latest_head(session)
        if rows:
            details: dict[str, Any] = {
                "added": len(rows),
                "unchanged": unchanged,
                "missing_images": len(missing),
                "log_indexes": [row.log_index for row in rows],
                "tree_size": head.size if head else None,
            }
            record_event(
                session,
                case,
                actor,
                "evidence",
                body=_capture_line(added, missing),
                details=details,
            )
            audit(
                session,
                action="evidence.capture",
                subject=case.reference,
                details={"case": case.id, **details},
                actor=actor,
                member_id=case.owner_id,
            )
        return CaptureResult(
            case=case.reference,
            added=added,
            unchanged=unchanged,
            missing=missing,
            tree_head=head,
        )


def _capture_line(added: Sequence[EvidenceItem], missing: Sequence[MissingImage]) -> str:
    counts: dict[str, int] = {}
    for item in added:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    parts = [f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(counts.items())]
    line = f"Evidence captured: {', '.join(parts)}."
    if missing:
        line += f" {len(missing)} photo(s) could not be captured."
    return line


def clean_filename(filename: str) -> str:
    """The file's own name without any folder, control characters or excess length."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    name = _CONTROL.sub("", name).strip()
    if len(name) > MAX_NAME:
        _, dot, suffix = name.rpartition(".")
        keep = suffix if dot and len(suffix) <= 10 else ""
        name = name[: MAX_NAME - len(keep) - 1].rstrip() + (f".{keep}" if keep else "")
    return name or "attachment"


def clean_media_type(media_type: str | None) -> str:
    """The `type/subtype` of a Content-Type; application/octet-stream for anything else."""
    found = (media_type or "").split(";", 1)[0].strip().lower()
    return (
        found if _MEDIA_TYPE.fullmatch(found) and len(found) <= 100 else "application/octet-stream"
    )


def attach(
    store: Store,
    settings: Settings,
    actor: Actor,
    case_id: int,
    *,
    filename: str,
    data: bytes,
    media_type: str | None,
) -> AttachResult:
    """Add a file to the case's evidence (kind `attachment`), entered in the log like captured
    items; the same bytes attached twice are one item."""
    limit = settings.max_upload_bytes
    if not data:
        raise EvidenceError(f"{filename!r} is empty (0 bytes); choose the file to attach")
    if len(data) > limit:
        raise EvidenceError(
            f"{filename!r} is {len(data):,} bytes, more than an attachment may be "
            f"({limit:,} bytes, the setting max_upload_bytes)"
        )
    candidate = _Candidate.of(
        "attachment", data, clean_media_type(media_type), clean_filename(filename)
    )
    blobs = EvidenceBlobs.for_settings(settings)
    log = _log(settings)
    with store.session() as session:
        case = case_for(session, actor, case_id, write=True)
        existing = session.scalar(
            select(EvidenceItemRow).where(
                EvidenceItemRow.case_id == case.id,
                EvidenceItemRow.kind == "attachment",
                EvidenceItemRow.sha256 == candidate.sha256,
            )
        )
        if existing is not None:
            return AttachResult(item_of(existing, None), False, log.latest_head(session))
        (row,) = _enter(
            session,
            case=case,
            actor=actor,
            candidates=[candidate],
            blobs=blobs,
            log=log,
            missing=[],
        )
        head = log.sign_head(session)
        details = {
            "sha256": row.sha256,
            "name": row.name,
            "size": row.size,
            "media_type": row.media_type,
            "log_index": row.log_index,
        }
        record_event(
            session, case, actor, "evidence", body=f"Attached {row.name}.", details=details
        )
        audit(
            session,
            action="evidence.attach",
            subject=case.reference,
            details={"case": case.id, **details},
            actor=actor,
            member_id=case.owner_id,
        )
        return AttachResult(item_of(row, None), True, head)


# Reading ------------------------------------------------------------------------------------


def items_in(session: Session, case_id: int) -> list[tuple[EvidenceItemRow, ListingRow | None]]:
    """The case's items in log order, each with its listing (None for attachments)."""
    rows = session.execute(
        select(EvidenceItemRow, ListingRow)
        .outerjoin(ListingRow, ListingRow.id == EvidenceItemRow.listing_pk)
        .where(EvidenceItemRow.case_id == case_id)
        .order_by(EvidenceItemRow.log_index, EvidenceItemRow.id)
    )
    return [(item, listing) for item, listing in rows]


def evidence_items(store: Store, actor: Actor, case_id: int) -> list[EvidenceItem]:
    """The case's evidence, in the order it was logged."""
    with store.session() as session:
        case = case_for(session, actor, case_id)
        return [item_of(row, listing) for row, listing in items_in(session, case.id)]


def evidence_content(
    store: Store,
    settings: Settings,
    actor: Actor,
    case_id: int,
    sha256: str,
    *,
    kind: str | None = None,
) -> tuple[EvidenceItem, bytes]:
    """An item of the case by its digest (and kind, when the same bytes are two kinds), with
    its bytes as checked against that digest."""
    if not SHA256.fullmatch(sha256):
        raise EvidenceNotFound("an evidence item is named by the 64 hex digits of its SHA-256")
    if kind is not None and kind not in ITEM_KINDS:
        raise EvidenceNotFound(f"kind {kind!r} is not one of {', '.join(ITEM_KINDS)}")
    blobs = EvidenceBlobs.for_settings(settings)
    with store.session() as session:
        case = case_for(session, actor, case_id)
        query = select(EvidenceItemRow).where(
            EvidenceItemRow.case_id == case.id, EvidenceItemRow.sha256 == sha256
        )
        if kind is not None:
            query = query.where(EvidenceItemRow.kind == kind)
        row = session.scalars(query.order_by(EvidenceItemRow.id).limit(1)).first()
        if row is None:
            raise EvidenceNotFound(f"case {case.reference} has no evidence {sha256}")
        listing = session.get(ListingRow, row.listing_pk) if row.listing_pk else None
        return item_of(row, listing), blobs.read(session, row.sha256, row.storage)
