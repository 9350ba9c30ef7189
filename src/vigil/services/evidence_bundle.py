"""A case's evidence checked where it is stored, and exported as a self-contained bundle.

`check_case_evidence` follows, for every item, the chain a bundle's verifier follows, from the
stored copies: the bytes against their digest, the item's entry against the log's, the entry's
inclusion in the latest signed tree head, the head's signature; then it recomputes the whole
log. `export_case_bundle` refuses to write a bundle from evidence that does not check out, and
checks the bundle it made before it writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.evidence.blobs import EvidenceBlobs
from vigil.evidence.bundle import Bundle, BundleItem, bundle_files, write_archive
from vigil.evidence.canonical import sha256_hex
from vigil.evidence.entries import EntryError, decode_entry
from vigil.evidence.log import TransparencyLog
from vigil.evidence.merkle import ProofError, leaf_hash, verify_inclusion
from vigil.evidence.signing import LogSigner, TreeHead, verify_tree_head
from vigil.evidence.verify import VerifyReport, verify_files
from vigil.services.cases import case_for
from vigil.services.evidence import EvidenceError, items_in
from vigil.settings import Settings
from vigil.store.db import Store, audit
from vigil.store.tables import CaseRow, EvidenceItemRow, ListingRow

LOG = "evidence log"


class BundleRefused(EvidenceError):
    """The case's evidence does not check out, so no bundle was written."""

    def __init__(self, case: str, report: VerifyReport) -> None:
        lines = "\n".join(f"  {failure}" for failure in report.failures)
        super().__init__(
            f"case {case}: its stored evidence does not verify, so no bundle was written:\n"
            f"{lines}\nRestore the changed data from a backup or an earlier bundle; "
            f"`vigil evidence verify --case {case}` repeats these checks"
        )
        self.report = report


@dataclass(frozen=True)
class ExportResult:
    path: Path
    case: str
    items: int
    tree_head: TreeHead
    size: int  # of the bundle file, bytes


def _item_name(row: EvidenceItemRow) -> str:
    return f"item {row.log_index} ({row.kind}, {row.sha256})"


def _check_items(
    session: Session,
    case: CaseRow,
    rows: list[tuple[EvidenceItemRow, ListingRow | None]],
    *,
    blobs: EvidenceBlobs,
    log: TransparencyLog,
    signer: LogSigner,
    report: VerifyReport,
) -> TreeHead | None:
    head = log.latest_head(session)
    report.case, report.items = case.reference, len(rows)
    if head is None:
        report.fail(LOG, "has no signed tree head; capture evidence, which signs one")
    else:
        report.tree_size, report.root, report.key_id = head.size, head.root.hex(), head.key_id
        where = f"{LOG}: tree head of size {head.size}"
        try:
            verify_tree_head(head, signer.public_key_pem)
            report.key_checked = True
        except ProofError as error:
            report.fail(where, str(error))
    for row, _ in rows:
        _check_bytes(session, row, blobs, report)
        _check_entry(session, case, row, head, log, report)
    return head


def _check_bytes(
    session: Session, row: EvidenceItemRow, blobs: EvidenceBlobs, report: VerifyReport
) -> None:
    where = blobs.where(row.sha256, row.storage)
    try:
        data = blobs.raw(session, row.sha256, row.storage)
    except VigilError as error:
        report.fail(where, str(error))
        return
    if data is None:
        report.fail(where, f"is missing: the bytes of {_item_name(row)}")
        return
    actual = sha256_hex(data)
    if actual != row.sha256:
        report.fail(
            where,
            f"SHA-256 is {actual}, the item's digest is {row.sha256}: the stored bytes of "
            f"{_item_name(row)} were changed",
        )


def _check_entry(
    session: Session,
    case: CaseRow,
    row: EvidenceItemRow,
    head: TreeHead | None,
    log: TransparencyLog,
    report: VerifyReport,
) -> None:
    if row.log_index is None or row.log_entry is None:
        report.fail(_item_name(row), "was never entered in the evidence log")
        return
    index = int(row.log_index)
    where = f"{LOG}: entry {index}"
    try:
        logged = log.entry(session, index)
    except ProofError as error:
        report.fail(where, str(error))
        return
    if logged != bytes(row.log_entry):
        report.fail(
            where,
            f"differs from the entry recorded with {_item_name(row)} when it was captured: "
            "the log row was changed",
        )
    try:
        entry = decode_entry(logged)
    except EntryError as error:
        report.fail(where, f"not a log entry Vigil wrote: {error}")
    else:
        if (entry.sha256, entry.kind, entry.case) != (row.sha256, row.kind, case.reference):
            report.fail(
                where,
                f"names {entry.kind} {entry.sha256} of case {entry.case}, but it is recorded "
                f"as {_item_name(row)} of case {case.reference}",
            )
    if head is None:
        return
    if index >= head.size:
        report.fail(where, f"is not covered by the latest signed tree head (size {head.size})")
        return
    try:
        proof = log.inclusion_proof(session, index, head.size)
        verify_inclusion(leaf_hash(logged), index, head.size, proof, head.root)
    except ProofError as error:
        report.fail(where, f"is not proven in the signed tree head: {error}")


def check_case_evidence(
    store: Store, settings: Settings, actor: Actor, case_id: int, *, whole_log: bool = True
) -> VerifyReport:
    """Check a case's stored evidence (and, with `whole_log`, every row of the log)."""
    blobs = EvidenceBlobs.for_settings(settings)
    signer = LogSigner.for_settings(settings)
    log = TransparencyLog(signer)
    with store.session() as session:
        case = case_for(session, actor, case_id)
        report = VerifyReport(source=f"case {case.reference} as stored")
        rows = items_in(session, case.id)
        if not rows:
            report.fail(case.reference, "has no evidence; capture it first")
        _check_items(session, case, rows, blobs=blobs, log=log, signer=signer, report=report)
        if whole_log:
            for problem in log.verify_stored(session):
                report.fail(LOG, problem)
        return report


def _bundle_of(
    session: Session,
    case: CaseRow,
    actor: Actor,
    rows: list[tuple[EvidenceItemRow, ListingRow | None]],
    *,
    head: TreeHead,
    blobs: EvidenceBlobs,
    log: TransparencyLog,
    signer: LogSigner,
) -> Bundle:
    items = []
    for row, listing in rows:
        index = int(row.log_index or 0)
        items.append(
            BundleItem(
                kind=row.kind,
                sha256=row.sha256,
                media_type=row.media_type,
                size=int(row.size),
                name=row.name,
                platform=listing.platform if listing else None,
                listing_id=listing.listing_id if listing else None,
                captured_at=row.captured_at,
                log_index=index,
                content=blobs.read(session, row.sha256, row.storage),
                entry=log.entry(session, index),
                audit_path=log.inclusion_proof(session, index, head.size),
            )
        )
    return Bundle(
        case=case.reference,
        title=case.title,
        exported_at=datetime.now(UTC),
        exported_by=actor.name,
        items=items,
        head=head,
        public_key_pem=signer.public_key_pem,
    )


def export_case_bundle(
    store: Store, settings: Settings, actor: Actor, case_id: int, *, out: Path
) -> ExportResult:
    """Write the case's evidence bundle to `out` (see vigil.evidence.bundle); refuses when the
    case has no evidence, the log has no signed tree head, or the evidence does not verify."""
    blobs = EvidenceBlobs.for_settings(settings)
    signer = LogSigner.for_settings(settings)
    log = TransparencyLog(signer)
    with store.session() as session:
        case = case_for(session, actor, case_id)
        rows = items_in(session, case.id)
        if not rows:
            raise EvidenceError(
                f"case {case.reference} has no evidence to export; capture it first "
                f"(`vigil evidence capture {case.reference}`)"
            )
        head = log.latest_head(session)
        if head is None:
            raise EvidenceError(
                "the evidence log has no signed tree head, so there is nothing to prove the "
                f"evidence against; capture evidence (`vigil evidence capture {case.reference}`),"
                " which signs one"
            )
        if head.key_id != signer.key_id:
            raise EvidenceError(
                f"the latest tree head was signed by key {head.key_id}, not by this "
                f"installation's key {signer.key_id}; capture evidence again to sign a head "
                "with the current key"
            )
        report = VerifyReport(source=f"case {case.reference} as stored")
        _check_items(session, case, rows, blobs=blobs, log=log, signer=signer, report=report)
        if not report.ok:
            raise BundleRefused(case.reference, report)
        bundle = _bundle_of(
            session, case, actor, rows, head=head, blobs=blobs, log=log, signer=signer
        )
        files = bundle_files(bundle)
        # The bundle is checked as a recipient will check it before anyone can receive it.
        made = verify_files(files, VerifyReport(source=str(out)), expected_key_pem=None)
        if not made.ok:
            raise BundleRefused(case.reference, made)
        write_archive(out, files, bundle.exported_at)
        audit(
            session,
            action="evidence.export",
            subject=case.reference,
            details={
                "case": case.id,
                "items": len(rows),
                "tree_size": head.size,
                "root": head.root.hex(),
            },
            actor=actor,
            member_id=case.owner_id,
        )
    return ExportResult(
        path=out, case=case.reference, items=len(rows), tree_head=head, size=out.stat().st_size
    )
