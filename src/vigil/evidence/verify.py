"""Checking an evidence bundle offline, with nothing but the file (and, optionally, the key the
log's operator publishes).

Every check that fails is reported with the file it concerns and why, and the checks go on: a
report lists every problem, not the first. See `vigil.evidence.bundle` for the chain checked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vigil.evidence.bundle import (
    INDEX,
    MANIFEST,
    README,
    SIGNATURE,
    SIGNED_MESSAGE,
    BundleError,
    Manifest,
    ManifestItem,
    Unreadable,
    open_bundle,
    parse_manifest,
    path_sides,
    signed_message,
)
from vigil.evidence.canonical import sha256_hex
from vigil.evidence.entries import EntryError, LogEntry, decode_entry
from vigil.evidence.merkle import HASH_SIZE, ProofError, leaf_hash, verify_inclusion
from vigil.evidence.signing import TreeHead, key_id_of, verify_tree_head


@dataclass(frozen=True, slots=True)
class Failure:
    """One check that failed: the file (or thing) it concerns, and what is wrong."""

    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


@dataclass
class VerifyReport:
    """What a verification found."""

    source: str
    failures: list[Failure] = field(default_factory=list)
    case: str | None = None
    items: int = 0
    tree_size: int | None = None
    root: str | None = None
    key_id: str | None = None
    key_checked: bool = False  # the key was compared with one the verifier trusts

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, path: str, problem: str) -> None:
        self.failures.append(Failure(path, problem))

    def summary(self) -> str:
        if not self.ok:
            return f"{self.source}: {len(self.failures)} check(s) failed"
        key = (
            "the log's key is the one given"
            if self.key_checked
            else "the bundled key was not compared with a published one (pass --key)"
        )
        return (
            f"{self.source}: case {self.case}, {self.items} item(s) verified against the tree "
            f"head of size {self.tree_size} (root {self.root}); {key}"
        )


def load_public_key(pem: bytes | str, what: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; ValueError naming `what` when it is not one."""
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise ValueError(f"{what} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{what} is not an Ed25519 public key")
    return key


def verify_bundle(path: Path, *, expected_key_pem: bytes | None = None) -> VerifyReport:
    """Check the bundle at `path`; with `expected_key_pem`, also that its key is that one.
    Raises BundleError only when the file is not a ZIP archive at all."""
    archive, files = open_bundle(path)
    with archive:
        report = VerifyReport(source=str(path))
        for name in sorted(files.duplicates):
            report.fail(name, "appears more than once in the archive: a file was added")
        verify_files(files, report, expected_key_pem=expected_key_pem)
        return report


def verify_files(
    files: Mapping[str, bytes], report: VerifyReport, *, expected_key_pem: bytes | None = None
) -> VerifyReport:
    """Check a bundle's files (name → bytes) into `report`."""
    manifest_bytes = _read(files, MANIFEST, report)
    if manifest_bytes is None:
        return report
    try:
        manifest = parse_manifest(manifest_bytes)
    except BundleError as error:
        report.fail(MANIFEST, str(error).removeprefix(f"{MANIFEST}: "))
        return report
    report.case = manifest.case.reference
    report.items = len(manifest.items)
    _check_names(files, manifest, report)
    key_pem = _read(files, manifest.log.public_key, report)
    key_id = _check_key(key_pem, manifest, report, expected_key_pem)
    head = _check_head(files, manifest, report, key_pem)
    report.key_id = key_id
    for item in manifest.items:
        _check_item(files, manifest, item, head, report)
    return report


def _read(files: Mapping[str, bytes], name: str, report: VerifyReport) -> bytes | None:
    try:
        return files[name]
    except KeyError:
        report.fail(name, "is missing from the bundle")
    except Unreadable as error:
        report.fail(
            name, f"cannot be read from the archive ({error}): it was damaged or changed in place"
        )
    return None


def _check_names(files: Mapping[str, bytes], manifest: Manifest, report: VerifyReport) -> None:
    expected = {
        MANIFEST,
        manifest.log.tree_head,
        manifest.log.public_key,
        SIGNED_MESSAGE,
        SIGNATURE,
        *manifest.index,
    }
    folders: dict[str, int] = {}
    indexes: dict[int, str] = {}
    for item in manifest.items:
        expected.update((item.content, item.entry, item.proof))
        if item.folder in folders or item.log_index in indexes:
            report.fail(
                MANIFEST,
                f"lists log entry {item.log_index} ({item.folder}) more than once",
            )
        folders[item.folder] = item.log_index
        indexes[item.log_index] = item.folder
    for name in sorted(set(files) - expected):
        report.fail(name, "is not part of the bundle as exported (the manifest does not list it)")
    for name in (README, INDEX):
        if name not in manifest.index:
            report.fail(MANIFEST, f"does not list {name}")


def _check_key(
    key_pem: bytes | None, manifest: Manifest, report: VerifyReport, expected: bytes | None
) -> str | None:
    if key_pem is None:
        return None
    try:
        key_id = key_id_of(load_public_key(key_pem, "the bundled key"))
    except ValueError as error:
        report.fail(manifest.log.public_key, str(error))
        return None
    if key_id != manifest.log.key_id:
        report.fail(
            MANIFEST,
            f"names log key {manifest.log.key_id}, but {manifest.log.public_key} is key {key_id}",
        )
    if expected is not None:
        try:
            wanted = key_id_of(load_public_key(expected, "the key given with --key"))
        except ValueError as error:
            report.fail("--key", str(error))
            return key_id
        if wanted != key_id:
            report.fail(
                manifest.log.public_key,
                f"is key {key_id}, not the expected key {wanted} given with --key: the bundle "
                "comes from another log, or its key and tree head were replaced",
            )
        else:
            report.key_checked = True
    return key_id


def _check_head(
    files: Mapping[str, bytes], manifest: Manifest, report: VerifyReport, key_pem: bytes | None
) -> TreeHead | None:
    where = manifest.log.tree_head
    data = _read(files, where, report)
    if data is None:
        return None
    try:
        head = TreeHead.from_json(json.loads(data))
    except (ValueError, ProofError) as error:
        report.fail(where, f"not a signed tree head: {error}")
        return None
    report.tree_size, report.root = head.size, head.root.hex()
    if key_pem is not None:
        try:
            verify_tree_head(head, key_pem.decode("ascii", "replace"))
        except ProofError as error:
            report.fail(where, str(error))
    for name, wanted in ((SIGNED_MESSAGE, signed_message(head)), (SIGNATURE, head.signature)):
        found = _read(files, name, report)
        if found is not None and found != wanted:
            report.fail(name, f"does not match {where} (it is there for checking by hand)")
    if (head.size, head.root.hex(), head.key_id) != (
        manifest.log.tree_size,
        manifest.log.root,
        manifest.log.key_id,
    ):
        report.fail(
            MANIFEST,
            f"describes the tree head as size {manifest.log.tree_size}, root "
            f"{manifest.log.root}, key {manifest.log.key_id}; {where} has size {head.size}, "
            f"root {head.root.hex()}, key {head.key_id}",
        )
    return head


@dataclass
class _Proof:
    log_index: int
    tree_size: int
    leaf_hash: bytes
    nodes: list[bytes]
    sides: list[str]
    root: bytes


def _parse_proof(data: bytes) -> _Proof:
    value: Any = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError("a proof is a JSON object")
    path = value.get("audit_path")
    if not isinstance(path, list) or not all(isinstance(step, dict) for step in path):
        raise ValueError("its audit_path must be a list of {hash, side} steps")
    for name in ("log_index", "tree_size"):
        if not isinstance(value.get(name), int) or isinstance(value.get(name), bool):
            raise ValueError(f"its {name} must be a whole number")
    return _Proof(
        log_index=value["log_index"],
        tree_size=value["tree_size"],
        leaf_hash=_hex(value.get("leaf_hash"), "leaf_hash"),
        nodes=[_hex(step.get("hash"), f"audit_path[{n}].hash") for n, step in enumerate(path)],
        sides=[str(step.get("side")) for step in path],
        root=_hex(value.get("root"), "root"),
    )


def _hex(value: object, name: str) -> bytes:
    try:
        found = bytes.fromhex(str(value))
    except ValueError:
        raise ValueError(f"its {name} is not hex: {value!r}") from None
    if len(found) != HASH_SIZE:
        raise ValueError(f"its {name} is {len(found)} bytes, a SHA-256 hash is {HASH_SIZE}")
    return found


def _check_item(
    files: Mapping[str, bytes],
    manifest: Manifest,
    item: ManifestItem,
    head: TreeHead | None,
    report: VerifyReport,
) -> None:
    content = _read(files, item.content, report)
    entry_bytes = _read(files, item.entry, report)
    proof_bytes = _read(files, item.proof, report)
    entry: LogEntry | None = None
    if entry_bytes is not None:
        try:
            entry = decode_entry(entry_bytes)
        except EntryError as error:
            report.fail(item.entry, f"not a log entry Vigil wrote: {error}")
    proven = False
    if entry_bytes is not None and proof_bytes is not None and head is not None:
        proven = _check_proof(entry_bytes, proof_bytes, item, head, report)
    if content is not None:
        actual = sha256_hex(content)
        if actual != item.sha256:
            report.fail(item.content, f"SHA-256 is {actual}, the manifest says {item.sha256}")
        elif entry is not None and actual != entry.sha256:
            report.fail(
                item.content,
                f"SHA-256 is {actual}, as the manifest says, but its log entry names "
                f"{entry.sha256}: the content and the manifest were both changed",
            )
        if len(content) != item.size:
            report.fail(item.content, f"is {len(content):,} bytes, the manifest says {item.size:,}")
    if entry is not None:
        _compare_entry(entry, manifest, item, proven, report)


def _check_proof(
    entry_bytes: bytes, proof_bytes: bytes, item: ManifestItem, head: TreeHead, report: VerifyReport
) -> bool:
    """Whether the entry is proven to be in the signed tree; failures go to the report."""
    try:
        proof = _parse_proof(proof_bytes)
    except ValueError as error:
        report.fail(item.proof, f"not an inclusion proof: {error}")
        return False
    if proof.log_index != item.log_index:
        report.fail(
            item.proof,
            f"is the proof of log entry {proof.log_index}, the manifest says {item.log_index}",
        )
    if proof.tree_size != head.size:
        report.fail(
            item.proof,
            f"is a proof in the tree of {proof.tree_size} entries, the tree head has {head.size}",
        )
    if proof.root != head.root:
        report.fail(
            item.proof,
            f"names root {proof.root.hex()}, the tree head's root is {head.root.hex()}",
        )
    leaf = leaf_hash(entry_bytes)
    try:
        verify_inclusion(leaf, proof.log_index, head.size, proof.nodes, head.root)
    except ProofError as error:
        if proof.leaf_hash != leaf:
            report.fail(
                item.entry,
                f"its leaf hash SHA-256(0x00 || entry) is {leaf.hex()}, but the proof was made "
                f"for leaf {proof.leaf_hash.hex()}: the entry was changed after it was logged",
            )
        else:
            report.fail(item.proof, f"does not lead from the entry to the signed root: {error}")
        return False
    if proof.leaf_hash != leaf:
        report.fail(
            item.proof,
            f"names leaf hash {proof.leaf_hash.hex()}, the entry's is {leaf.hex()} (the audit "
            "path itself checks out)",
        )
    expected = path_sides(proof.log_index, head.size, len(proof.nodes))
    for step, (given, wanted) in enumerate(zip(proof.sides, expected, strict=True)):
        if given != wanted:
            report.fail(
                item.proof,
                f"audit_path[{step}] says side {given!r}; for entry {proof.log_index} of a tree "
                f"of {head.size} it is {wanted!r}",
            )
    return True


def _compare_entry(
    entry: LogEntry, manifest: Manifest, item: ManifestItem, proven: bool, report: VerifyReport
) -> None:
    """The manifest's description of the item against its logged entry: when the entry is
    proven, a difference means the manifest was changed; when not, the entry may have been."""
    listing = item.listing
    pairs = {
        "sha256": (entry.sha256, item.sha256),
        "kind": (entry.kind, item.kind),
        "media_type": (entry.media_type, item.media_type),
        "size": (entry.size, item.size),
        "captured_at": (entry.captured_at, item.captured_at),
        "listing": (
            (entry.platform, entry.listing_id),
            (listing.platform, listing.listing_id) if listing else (None, None),
        ),
    }
    for name, (logged, described) in pairs.items():
        if logged == described:
            continue
        if proven:
            report.fail(
                MANIFEST,
                f"says {item.folder} has {name} {described!r}; its logged entry says {logged!r}",
            )
        else:
            report.fail(item.entry, f"names {name} {logged!r}, the manifest says {described!r}")
    if entry.case != manifest.case.reference:
        report.fail(
            item.entry,
            f"is evidence of case {entry.case}, not of this bundle's case "
            f"{manifest.case.reference}",
        )
