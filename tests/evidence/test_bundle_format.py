"""The bundle format kept stable: a version 1 bundle made from fixed inputs (a fixed key, fixed
times) is kept in tests/data. Today's code must write every file of it, but the two pages for
people, byte for byte, and today's verifier must accept it. A change of the format fails here
until it is made a new, documented version (regenerate with VIGIL_REGENERATE_FIXTURES=1 only
then)."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vigil.evidence.bundle import INDEX, README, Bundle, BundleItem, bundle_files, write_archive
from vigil.evidence.canonical import canonical_json, sha256_hex
from vigil.evidence.entries import LogEntry, rfc3339
from vigil.evidence.merkle import inclusion_proof, leaf_hash, root_of
from vigil.evidence.signing import LogSigner
from vigil.evidence.verify import verify_bundle

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "evidence-bundle-v1.zip"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
CAPTURED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
EXPORTED = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
CASE = "C-2026-000001"


def sample_bundle() -> Bundle:
    """Three items of one case at log indexes 1, 3 and 4 of a log of six entries."""
    snapshot = canonical_json({"kind": "listing_snapshot", "listing": {"title": "晓米6 一比一"}})
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    receipt = b"%PDF-1.7\n% receipt\n"
    contents = [
        ("listing_snapshot", snapshot, "application/json", None, ("jd", "4957824")),
        ("image", photo, "image/png", "https://shop.example/1.png", ("jd", "4957824")),
        ("attachment", receipt, "application/pdf", "receipt.pdf", None),
    ]
    entries = [
        LogEntry(
            case=CASE, sha256=sha256_hex(data), kind=kind, media_type=media, size=len(data),
            captured_at=rfc3339(CAPTURED), platform=listing[0] if listing else None,
            listing_id=listing[1] if listing else None,
        ).encode()
        for kind, data, media, _, listing in contents
    ]  # fmt: skip
    others = [canonical_json({"other case": n}) for n in range(3)]
    log = [others[0], entries[0], others[1], entries[1], entries[2], others[2]]
    leaves = [leaf_hash(entry) for entry in log]
    head = LogSigner(KEY).sign(len(log), root_of(leaves), CAPTURED)

    def subtree(start: int, end: int) -> bytes:
        return root_of(leaves[start:end])

    items = [
        BundleItem(
            kind=kind, sha256=sha256_hex(data), media_type=media, size=len(data), name=name,
            platform=listing[0] if listing else None,
            listing_id=listing[1] if listing else None, captured_at=CAPTURED, log_index=index,
            content=data, entry=entry, audit_path=inclusion_proof(index, len(log), subtree),
        )
        for (kind, data, media, name, listing), entry, index in zip(
            contents, entries, (1, 3, 4), strict=True
        )
    ]  # fmt: skip
    return Bundle(
        case=CASE,
        title="Fake Xiaomi 6 on JD",
        exported_at=EXPORTED,
        exported_by="analyst@acme.test",
        items=items,
        head=head,
        public_key_pem=LogSigner(KEY).public_key_pem,
    )


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_todays_code_writes_the_version_1_bundle_unchanged(tmp_path: Path) -> None:
    made = bundle_files(sample_bundle())
    if os.environ.get("VIGIL_REGENERATE_FIXTURES") == "1":
        write_archive(FIXTURE, made, EXPORTED)
    assert FIXTURE.is_file(), f"{FIXTURE} is missing; see this module's docstring"
    kept = _files(FIXTURE)
    assert sorted(made) == sorted(kept)
    # The pages for people may be reworded; every other file is the format.
    for name in sorted(set(made) - {README, INDEX}):
        assert made[name] == kept[name], f"{name} is no longer written as version 1 wrote it"


def test_a_version_1_bundle_still_verifies() -> None:
    report = verify_bundle(FIXTURE, expected_key_pem=LogSigner(KEY).public_key_pem.encode())
    assert report.ok, report.failures
    assert (report.case, report.items, report.tree_size, report.key_checked) == (CASE, 3, 6, True)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_readmes_openssl_command_verifies_the_signature(tmp_path: Path) -> None:
    with zipfile.ZipFile(FIXTURE) as archive:
        archive.extractall(tmp_path)
    readme = (tmp_path / README).read_text(encoding="utf-8").replace("\\\n", " ")
    (command,) = [line.strip() for line in readme.splitlines() if "openssl pkeyutl" in line]
    done = subprocess.run(
        command.split(), cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done.stderr
