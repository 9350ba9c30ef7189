"""Tampering end to end: change one stored evidence byte, one log row, or one file of an
exported bundle, and `vigil evidence verify` (run as a user runs it) fails naming what changed.

Stored evidence is checked in place with `vigil evidence verify --case`, on SQLite and, when
configured, PostgreSQL, with the bytes under the home and in the database; bundles are checked
with `vigil evidence verify FILE`, offline."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text, update
from typer.testing import CliRunner

from tests.evidence.world import ACME, EvidenceWorld, capture_world, sha
from vigil.cli.main import app
from vigil.evidence.blobs import EvidenceBytesChanged
from vigil.evidence.signing import LogSigner, TreeHead
from vigil.services.evidence import evidence_content, evidence_items
from vigil.services.evidence_bundle import export_case_bundle
from vigil.store.db import Store, open_store
from vigil.store.tables import EvidenceBlobRow, EvidenceTreeHeadRow

runner = CliRunner()
Files = dict[str, bytes]


def vigil(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# Stored evidence ----------------------------------------------------------------------------


@pytest.fixture(params=["home", "database"])
def world(
    request: pytest.FixtureRequest, store: Store, store_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> EvidenceWorld:  # fmt: skip
    monkeypatch.setenv("VIGIL_DATABASE_URL", store_url)
    monkeypatch.setenv("VIGIL_EVIDENCE_STORAGE", request.param)
    return capture_world(store, tmp_path / "home", storage=request.param)


def _verify_case(world: EvidenceWorld) -> tuple[int, str, str]:
    return vigil("evidence", "verify", "--case", world.reference, "--home", str(world.home))


def test_untouched_stored_evidence_verifies(world: EvidenceWorld) -> None:
    code, out, err = _verify_case(world)
    assert code == 0, err
    assert f"verified: case {world.reference} as stored: case {world.reference}, 6 item(s)" in out


def _photo(world: EvidenceWorld) -> str:
    return next(
        i.sha256 for i in evidence_items(world.store, ACME, world.case_id) if i.kind == "image"
    )


def test_one_changed_stored_byte_is_named(world: EvidenceWorld, tmp_path: Path) -> None:
    digest = _photo(world)
    if world.settings.evidence_storage == "home":
        path = world.home / "evidence" / digest[:2] / digest
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        where = str(path)
    else:
        with world.store.session() as session:
            row = session.get(EvidenceBlobRow, digest)
            assert row is not None
            data = bytearray(row.data)
            data[len(data) // 2] ^= 0x01
            row.data = bytes(data)
        where = f"the evidence_blobs row {digest}"
    code, _, err = _verify_case(world)
    assert code == 1
    assert f"failed: {where}: SHA-256 is {sha(bytes(data))}, the item's digest is {digest}" in err
    assert "1 check(s) failed" in err
    # Nothing serves or exports the changed bytes.
    with pytest.raises(EvidenceBytesChanged, match="changed after capture"):
        evidence_content(world.store, world.settings, ACME, world.case_id, digest)
    code, _, err = vigil(
        "evidence", "export", world.reference, "--out", str(tmp_path / "b.zip"),
        "--home", str(world.home),
    )  # fmt: skip
    assert code == 1 and "no bundle was written" in err and where in err
    assert not (tmp_path / "b.zip").exists()


def test_one_changed_log_entry_row_is_named(world: EvidenceWorld) -> None:
    with world.store.session() as session:
        entry = session.execute(text("SELECT entry FROM evidence_log_entries WHERE idx = 2"))
        changed = bytes(entry.scalar_one()).replace(b'"kind":"image"', b'"kind":"other"')
        session.execute(
            text("UPDATE evidence_log_entries SET entry = :entry WHERE idx = 2"),
            {"entry": changed},
        )
    code, _, err = _verify_case(world)
    assert code == 1
    assert "failed: evidence log: entry 2: differs from the entry recorded with item 2" in err
    assert "evidence log: entry 2: its bytes hash to leaf" in err  # the whole log's audit


def test_one_changed_log_node_row_is_named(world: EvidenceWorld) -> None:
    with world.store.session() as session:
        session.execute(
            text("UPDATE evidence_log_nodes SET hash = :hash WHERE level = 1 AND idx = 0"),
            {"hash": b"\x00" * 32},
        )
    code, _, err = _verify_case(world)
    assert code == 1
    # Entries 2 and 3 prove through that node (the hash of entries 0 and 1); the others do not,
    # and the whole log's audit names the node itself.
    for index in (2, 3):
        assert f"failed: evidence log: entry {index}: is not proven in the signed tree head" in err
    for index in (0, 1, 4, 5):
        assert f"entry {index}: is not proven" not in err
    assert "subtree at level 1, index 0 (entries 0 to 1): stored hash 0000" in err


def test_one_changed_tree_head_row_is_named(world: EvidenceWorld) -> None:
    with world.store.session() as session:
        session.execute(update(EvidenceTreeHeadRow).values(size=5))
    code, _, err = _verify_case(world)
    assert code == 1
    assert "failed: evidence log: tree head of size 5: the signature of the tree head" in err
    assert "entry 5: is not covered by the latest signed tree head (size 5)" in err


# Bundles ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, bytes]]:
    """One exported bundle (on SQLite), and the log's public key."""
    folder = tmp_path_factory.mktemp("bundle")
    store = open_store(f"sqlite:///{folder / 'vigil.sqlite3'}")
    try:
        world = capture_world(store, folder / "home")
        out = folder / "bundle.zip"
        export_case_bundle(store, world.settings, ACME, world.case_id, out=out)
        yield out, LogSigner.for_settings(world.settings).public_key_pem.encode()
    finally:
        store.close()


def _read(path: Path) -> Files:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(files: Files, path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def _flip(data: bytes, at: int | None = None) -> bytes:
    changed = bytearray(data)
    changed[len(data) // 2 if at is None else at] ^= 0x01
    return bytes(changed)


def _manifest(files: Files) -> dict[str, object]:
    value: dict[str, object] = json.loads(files["manifest.json"])
    return value


def _set_manifest(files: Files, change: Callable[[dict[str, object]], None]) -> None:
    manifest = _manifest(files)
    change(manifest)
    files["manifest.json"] = json.dumps(manifest).encode()


def _item(files: Files, kind: str) -> dict[str, object]:
    items = _manifest(files)["items"]
    assert isinstance(items, list)
    return next(item for item in items if item["kind"] == kind)


def content_byte(files: Files) -> tuple[str, str]:
    item = _item(files, "image")
    files[str(item["content"])] = _flip(files[str(item["content"])])
    actual = sha(files[str(item["content"])])
    return str(item["content"]), f"SHA-256 is {actual}, the manifest says {item['sha256']}"


def content_and_manifest(files: Files) -> tuple[str, str]:
    item = _item(files, "listing_snapshot")
    changed = files[str(item["content"])].replace(b'"price":199', b'"price":1999')
    files[str(item["content"])] = changed

    def edit(manifest: dict[str, object]) -> None:
        for entry in manifest["items"]:  # type: ignore[attr-defined]
            if entry["folder"] == item["folder"]:
                entry["sha256"], entry["size"] = sha(changed), len(changed)

    _set_manifest(files, edit)
    return str(item["content"]), "as the manifest says, but its log entry names"


def entry_time(files: Files) -> tuple[str, str]:
    item = _item(files, "signals")
    entry = json.loads(files[str(item["entry"])])
    entry["captured_at"] = "2020-01-01T00:00:00.000Z"
    from vigil.evidence.canonical import canonical_json

    files[str(item["entry"])] = canonical_json(entry)
    return str(item["entry"]), "the entry was changed after it was logged"


def proof_node(files: Files) -> tuple[str, str]:
    item = _item(files, "image")
    proof = json.loads(files[str(item["proof"])])
    proof["audit_path"][0]["hash"] = "00" * 32
    files[str(item["proof"])] = json.dumps(proof).encode()
    return str(item["proof"]), "does not lead from the entry to the signed root"


def proof_side(files: Files) -> tuple[str, str]:
    item = _item(files, "image")
    proof = json.loads(files[str(item["proof"])])
    step = proof["audit_path"][0]
    step["side"] = "left" if step["side"] == "right" else "right"
    files[str(item["proof"])] = json.dumps(proof).encode()
    return str(item["proof"]), "audit_path[0] says side"


def head_root(files: Files) -> tuple[str, str]:
    head = json.loads(files["log/tree_head.json"])
    head["root"] = "A" * 43 + "="
    files["log/tree_head.json"] = json.dumps(head).encode()
    return "log/tree_head.json", "does not verify: the size, root, time or signature was changed"


def head_signature(files: Files) -> tuple[str, str]:
    head = json.loads(files["log/tree_head.json"])
    head["signature"] = "B" * 86 + "=="
    files["log/tree_head.json"] = json.dumps(head).encode()
    return "log/tree_head.json", "does not verify"


def public_key(files: Files) -> tuple[str, str]:
    other = Ed25519PrivateKey.generate().public_key()
    files["log/public_key.pem"] = other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "manifest.json", "names log key"


def manifest_kind(files: Files) -> tuple[str, str]:
    def edit(manifest: dict[str, object]) -> None:
        manifest["items"][0]["kind"] = "attachment"  # type: ignore[index]

    _set_manifest(files, edit)
    return "manifest.json", "has kind 'attachment'; its logged entry says 'listing_snapshot'"


def extra_file(files: Files) -> tuple[str, str]:
    files["items/000002-image/also.png"] = b"another picture"
    return "items/000002-image/also.png", "is not part of the bundle as exported"


def removed_file(files: Files) -> tuple[str, str]:
    name = str(_item(files, "signals")["entry"])
    del files[name]
    return name, "is missing from the bundle"


def signed_bytes(files: Files) -> tuple[str, str]:
    files["log/tree_head.message.bin"] = _flip(files["log/tree_head.message.bin"], 20)
    return "log/tree_head.message.bin", "does not match log/tree_head.json"


CHANGES = [
    content_byte, content_and_manifest, entry_time, proof_node, proof_side, head_root,
    head_signature, public_key, manifest_kind, extra_file, removed_file, signed_bytes,
]  # fmt: skip


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
def test_one_changed_file_in_a_bundle_is_named(
    bundle: tuple[Path, bytes], tmp_path: Path, change: Callable[[Files], tuple[str, str]]
) -> None:
    files = _read(bundle[0])
    name, says = change(files)
    code, _, err = vigil("evidence", "verify", str(_rezip(files, tmp_path / "changed.zip")))
    assert code == 1
    assert f"failed: {name}: " in err and says in err, err
    assert "Traceback" not in err


def test_a_clean_bundle_verifies_and_says_so(bundle: tuple[Path, bytes], tmp_path: Path) -> None:
    key = tmp_path / "published.pem"
    key.write_bytes(bundle[1])
    code, out, _ = vigil("evidence", "verify", str(bundle[0]), "--key", str(key))
    assert code == 0 and "verified:" in out and "the log's key is the one given" in out
    # Re-zipping the same files changes nothing that matters.
    code, out, _ = vigil("evidence", "verify", str(_rezip(_read(bundle[0]), tmp_path / "same.zip")))
    assert code == 0 and "pass --key" in out


def test_a_replaced_key_and_head_pass_alone_but_not_against_the_published_key(
    bundle: tuple[Path, bytes], tmp_path: Path
) -> None:
    files = _read(bundle[0])
    forger = LogSigner(Ed25519PrivateKey.generate())
    head = json.loads(files["log/tree_head.json"])
    real = TreeHead.from_json(head)
    forged = forger.sign(real.size, real.root, real.timestamp)
    files["log/tree_head.json"] = json.dumps(forged.to_json()).encode()
    files["log/public_key.pem"] = forger.public_key_pem.encode()
    files["log/tree_head.signature.bin"] = forged.signature
    _set_manifest(files, lambda m: m["log"].update(key_id=forger.key_id))  # type: ignore[attr-defined]
    forged_zip = _rezip(files, tmp_path / "forged.zip")
    code, out, _ = vigil("evidence", "verify", str(forged_zip))
    assert code == 0 and "pass --key" in out  # only the published key can tell
    key = tmp_path / "published.pem"
    key.write_bytes(bundle[1])
    code, _, err = vigil("evidence", "verify", str(forged_zip), "--key", str(key))
    assert code == 1 and "failed: log/public_key.pem: is key" in err
    assert "not the expected key" in err


def test_an_archive_changed_in_place_is_named(bundle: tuple[Path, bytes], tmp_path: Path) -> None:
    data = bundle[0].read_bytes()
    with zipfile.ZipFile(bundle[0]) as archive:
        info = archive.getinfo("items/000002-image/content.png")
    # A byte of that file's stored (compressed) data, after its local header.
    at = info.header_offset + 30 + len(info.filename) + 10
    changed = tmp_path / "in-place.zip"
    changed.write_bytes(_flip(data, at))
    code, _, err = vigil("evidence", "verify", str(changed))
    assert code == 1
    assert "failed: items/000002-image/content.png: cannot be read from the archive" in err


def test_what_is_not_a_bundle_is_one_clear_line(tmp_path: Path) -> None:
    fake = tmp_path / "bundle.zip"
    fake.write_text("hello")
    code, _, err = vigil("evidence", "verify", str(fake))
    assert code == 1 and "not a ZIP archive" in err and "Traceback" not in err
    empty = _rezip({"README.txt": b"hi"}, tmp_path / "empty.zip")
    code, _, err = vigil("evidence", "verify", str(empty))
    assert code == 1 and "failed: manifest.json: is missing from the bundle" in err
