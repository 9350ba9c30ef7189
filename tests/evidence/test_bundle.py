"""Exporting a case's evidence as a bundle, and checking a clean one: its layout, the hand
checks its README describes, the key check, and the refusals when there is nothing to prove."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete

from tests.case_factories import actor
from tests.evidence.world import ACME, GLOBEX, EvidenceWorld, capture_world, evidence_world
from vigil.domain.people import Role
from vigil.evidence.bundle import path_sides
from vigil.evidence.merkle import node_hash
from vigil.evidence.signing import LogSigner
from vigil.evidence.verify import load_public_key, verify_bundle
from vigil.services.cases import CaseNotFound
from vigil.services.evidence import EvidenceError, attach, evidence_items
from vigil.services.evidence_bundle import export_case_bundle
from vigil.store.db import Store
from vigil.store.tables import EvidenceTreeHeadRow


@pytest.fixture
def world(store: Store, tmp_path: Path) -> EvidenceWorld:
    world = capture_world(store, tmp_path / "home")
    attach(
        store, world.settings, ACME, world.case_id,
        filename="receipt.pdf", data=b"%PDF-1.7 receipt", media_type="application/pdf",
    )  # fmt: skip
    return world


def _export(world: EvidenceWorld, out: Path) -> Path:
    export_case_bundle(world.store, world.settings, ACME, world.case_id, out=out)
    return out


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_clean_bundle_verifies_with_nothing_but_the_file(
    world: EvidenceWorld, tmp_path: Path
) -> None:
    out = _export(world, tmp_path / "out" / "bundle.zip")
    assert [p.name for p in out.parent.iterdir()] == ["bundle.zip"]  # no temporary left
    report = verify_bundle(out)
    assert report.ok, report.failures
    assert (report.case, report.items, report.tree_size) == (world.reference, 7, 7)
    assert not report.key_checked and "pass --key" in report.summary()
    pem = LogSigner.for_settings(world.settings).public_key_pem.encode()
    checked = verify_bundle(out, expected_key_pem=pem)
    assert checked.ok and checked.key_checked


def test_the_bundle_holds_every_item_with_its_entry_and_proof(
    world: EvidenceWorld, tmp_path: Path
) -> None:
    files = _files(_export(world, tmp_path / "bundle.zip"))
    manifest = json.loads(files["manifest.json"])
    items = evidence_items(world.store, ACME, world.case_id)
    assert [(m["kind"], m["sha256"], m["log_index"]) for m in manifest["items"]] == [
        (i.kind, i.sha256, i.log_index) for i in items
    ]
    assert manifest["items"][2]["content"] == "items/000002-image/content.png"
    assert manifest["items"][-1]["name"] == "receipt.pdf"
    assert files["items/000006-attachment/content.pdf"] == b"%PDF-1.7 receipt"
    assert set(files) == {
        "README.txt", "index.html", "manifest.json", "log/tree_head.json",
        "log/public_key.pem", "log/tree_head.message.bin", "log/tree_head.signature.bin",
        *(f"{m['folder']}/{name}" for m in manifest["items"] for name in ("entry.json", "proof.json")),
        *(m["content"] for m in manifest["items"]),
    }  # fmt: skip
    readme = files["README.txt"].decode()
    assert world.reference in readme and "sha256sum" in readme and "0x01 || " in readme
    index = files["index.html"].decode()
    assert "receipt.pdf" in index and 'href="items/000006-attachment/content.pdf"' in index


def test_the_hand_check_the_readme_describes_holds(world: EvidenceWorld, tmp_path: Path) -> None:
    files = _files(_export(world, tmp_path / "bundle.zip"))
    head = json.loads(files["log/tree_head.json"])
    key = load_public_key(files["log/public_key.pem"], "the bundled key")
    for item in json.loads(files["manifest.json"])["items"]:
        entry = files[item["entry"]]
        proof = json.loads(files[item["proof"]])
        # 1. the content is what the entry names; 2. the leaf hash
        assert hashlib.sha256(files[item["content"]]).hexdigest() == json.loads(entry)["sha256"]
        running = hashlib.sha256(b"\x00" + entry).digest()
        assert running.hex() == proof["leaf_hash"]
        # 3. the audit path, by the side each step names
        for step in proof["audit_path"]:
            node = bytes.fromhex(step["hash"])
            running = (
                node_hash(node, running) if step["side"] == "left" else node_hash(running, node)
            )
        assert running.hex() == proof["root"] == base64.b64decode(head["root"]).hex()
    # 4. the signature over the 50-byte message
    message = files["log/tree_head.message.bin"]
    assert len(message) == 50 and message[:2] == b"\x00\x01"
    assert int.from_bytes(message[10:18], "big") == head["size"]
    key.verify(files["log/tree_head.signature.bin"], message)
    # 5. the key id is the SHA-256 of the raw key
    raw = key.public_bytes_raw()
    assert hashlib.sha256(raw).hexdigest() == head["key_id"]


@pytest.mark.parametrize("size", range(1, 18))
def test_the_sides_of_an_audit_path_rebuild_the_root(size: int) -> None:
    from vigil.evidence.merkle import inclusion_proof, leaf_hash, root_of

    leaves = [leaf_hash(str(n).encode()) for n in range(size)]

    def subtree(start: int, end: int) -> bytes:
        return root_of(leaves[start:end])

    for index in range(size):
        path = inclusion_proof(index, size, subtree)
        running = leaves[index]
        for node, side in zip(path, path_sides(index, size, len(path)), strict=True):
            running = node_hash(node, running) if side == "left" else node_hash(running, node)
        assert running == root_of(leaves)


def test_a_bundle_signed_by_another_log_fails_the_key_check(
    world: EvidenceWorld, tmp_path: Path
) -> None:
    out = _export(world, tmp_path / "bundle.zip")
    other = Ed25519PrivateKey.generate().public_key()
    from cryptography.hazmat.primitives import serialization

    pem = other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    report = verify_bundle(out, expected_key_pem=pem)
    assert [f.path for f in report.failures] == ["log/public_key.pem"]
    assert "not the expected key" in report.failures[0].problem
    garbage = verify_bundle(out, expected_key_pem=b"not a key")
    assert [str(f) for f in garbage.failures] == [
        "--key: the key given with --key is not a PEM public key"
    ]


def test_parties_export_and_others_cannot(world: EvidenceWorld, tmp_path: Path) -> None:
    viewer = actor("acme", Role.VIEWER)
    export_case_bundle(world.store, world.settings, viewer, world.case_id, out=tmp_path / "v.zip")
    assert verify_bundle(tmp_path / "v.zip").ok
    with pytest.raises(CaseNotFound):
        export_case_bundle(
            world.store, world.settings, GLOBEX, world.case_id, out=tmp_path / "g.zip"
        )
    assert not (tmp_path / "g.zip").exists()


def test_export_refuses_a_case_without_evidence(store: Store, tmp_path: Path) -> None:
    world = evidence_world(store, tmp_path / "home")
    with pytest.raises(EvidenceError, match="has no evidence to export; capture it first"):
        export_case_bundle(store, world.settings, ACME, world.case_id, out=tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists()


def test_export_refuses_when_the_log_has_no_signed_head(
    world: EvidenceWorld, tmp_path: Path
) -> None:
    with world.store.session() as session:
        session.execute(delete(EvidenceTreeHeadRow))
    with pytest.raises(EvidenceError, match="the evidence log has no signed tree head"):
        export_case_bundle(world.store, world.settings, ACME, world.case_id, out=tmp_path / "b.zip")
    assert list(tmp_path.glob("*.zip")) == []
