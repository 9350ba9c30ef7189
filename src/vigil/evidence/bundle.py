"""The evidence bundle: one ZIP file that proves a case's evidence offline, with nothing else.

Layout (every name is fixed, so a person can find their way with a file manager):

    README.txt, index.html       what is in the bundle and how to check it by hand
    manifest.json                the machine-readable table of contents
    log/tree_head.json           the signed tree head the proofs lead to
    log/public_key.pem           the log's Ed25519 public key
    log/tree_head.message.bin    the 50 bytes the tree head's signature covers
    log/tree_head.signature.bin  the signature itself (64 bytes)
    items/<log index>-<kind>/    one folder per evidence item:
        content.<ext>              the item's bytes
        entry.json                 its log entry (canonical JSON, byte for byte as logged)
        proof.json                 its inclusion proof against the tree head

The chain a verifier follows: content → SHA-256 named by the entry → leaf hash of the entry
→ audit path → the tree head's root → the signature over the head → the public key (and, when
the verifier has the log's published key, that it is this one). The manifest and the index are
only a table of contents: they are checked against that chain, never trusted.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from vigil.errors import VigilError
from vigil.evidence.bundle_index import index_html, readme_text
from vigil.evidence.entries import rfc3339
from vigil.evidence.merkle import leaf_hash
from vigil.evidence.signing import TreeHead, tree_head_message

FORMAT = "vigil-evidence-bundle"
BUNDLE_VERSION = 1
MANIFEST = "manifest.json"
README = "README.txt"
INDEX = "index.html"
TREE_HEAD = "log/tree_head.json"
PUBLIC_KEY = "log/public_key.pem"
# The exact bytes the tree head's signature covers, and the signature, for checking by hand.
SIGNED_MESSAGE = "log/tree_head.message.bin"
SIGNATURE = "log/tree_head.signature.bin"
Side = Literal["left", "right"]
# No evidence item comes near this (attachments and photos are capped far below); a file that
# claims more is not read, so a hostile archive cannot fill the verifier's memory.
MAX_FILE_BYTES = 1 << 30
EXTENSIONS = {
    "application/json": "json",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/bmp": "bmp",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/html": "html",
    "text/csv": "csv",
}


class BundleError(VigilError):
    """A bundle cannot be written or opened at all; the message says why."""


@dataclass(frozen=True, slots=True)
class BundleItem:
    """One evidence item as the bundle carries it."""

    kind: str
    sha256: str
    media_type: str
    size: int
    name: str | None
    platform: str | None
    listing_id: str | None
    captured_at: datetime
    log_index: int
    content: bytes
    entry: bytes
    audit_path: list[bytes]

    @property
    def folder(self) -> str:
        return f"items/{self.log_index:06d}-{self.kind}"

    @property
    def content_path(self) -> str:
        return f"{self.folder}/content.{EXTENSIONS.get(self.media_type, 'bin')}"


@dataclass(frozen=True)
class Bundle:
    """Everything one bundle holds, before it is written."""

    case: str  # the case's reference
    title: str
    exported_at: datetime
    exported_by: str
    items: list[BundleItem]
    head: TreeHead
    public_key_pem: str


# The manifest, as written and as read back ----------------------------------------------------


class ManifestListing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str
    listing_id: str


class ManifestItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    folder: str
    content: str
    entry: str
    proof: str
    kind: str
    sha256: str
    media_type: str
    size: int
    name: str | None
    listing: ManifestListing | None
    captured_at: str
    log_index: int


class ManifestCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str
    title: str


class ManifestLog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tree_head: str
    public_key: str
    key_id: str
    tree_size: int
    root: str


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["vigil-evidence-bundle"]
    version: int
    case: ManifestCase
    exported_at: str
    exported_by: str
    hashes: dict[str, str]
    log: ManifestLog
    items: list[ManifestItem]
    index: list[str]


HASH_RULES = {
    "content": "sha256 = SHA-256(content bytes), hex",
    "leaf": "leaf = SHA-256(0x00 || entry.json bytes)",
    "node": "node = SHA-256(0x01 || left || right)",
    "tree_head": "Ed25519 over 0x00 0x01 || timestamp ms (8 bytes, big-endian) || size (8 "
    "bytes, big-endian) || root (32 bytes); RFC 6962 section 3.5",
    "key_id": "SHA-256 of the raw 32-byte Ed25519 public key, hex",
}


def path_sides(index: int, size: int, length: int) -> list[Side]:
    """Which side each of the `length` nodes of the audit path of leaf `index` (in a tree of
    `size` leaves) is on, from the leaf up, as RFC 9162 section 2.1.3.2 walks it: "left" means
    running = SHA-256(0x01 || node || running), "right" means SHA-256(0x01 || running || node)."""
    sides: list[Side] = []
    position, last = index, size - 1
    for _ in range(length):
        if position & 1 or position == last:
            sides.append("left")
            # A last node without a right sibling goes up unchanged until it is a right child.
            while not position & 1 and position:
                position >>= 1
                last >>= 1
        else:
            sides.append("right")
        position >>= 1
        last >>= 1
    return sides


def manifest_of(bundle: Bundle) -> Manifest:
    return Manifest(
        format=FORMAT,
        version=BUNDLE_VERSION,
        case=ManifestCase(reference=bundle.case, title=bundle.title),
        exported_at=rfc3339(bundle.exported_at),
        exported_by=bundle.exported_by,
        hashes=HASH_RULES,
        log=ManifestLog(
            tree_head=TREE_HEAD,
            public_key=PUBLIC_KEY,
            key_id=bundle.head.key_id,
            tree_size=bundle.head.size,
            root=bundle.head.root.hex(),
        ),
        items=[
            ManifestItem(
                folder=item.folder,
                content=item.content_path,
                entry=f"{item.folder}/entry.json",
                proof=f"{item.folder}/proof.json",
                kind=item.kind,
                sha256=item.sha256,
                media_type=item.media_type,
                size=item.size,
                name=item.name,
                listing=(
                    ManifestListing(platform=item.platform, listing_id=item.listing_id)
                    if item.platform is not None and item.listing_id is not None
                    else None
                ),
                captured_at=rfc3339(item.captured_at),
                log_index=item.log_index,
            )
            for item in bundle.items
        ],
        index=[README, INDEX],
    )


def proof_document(item: BundleItem, head: TreeHead) -> dict[str, object]:
    """proof.json: the audit path with the side of each node, so it can be followed by hand."""
    sides = path_sides(item.log_index, head.size, len(item.audit_path))
    return {
        "log_index": item.log_index,
        "tree_size": head.size,
        "leaf_hash": leaf_hash(item.entry).hex(),
        "audit_path": [
            {"hash": node.hex(), "side": side}
            for node, side in zip(item.audit_path, sides, strict=True)
        ],
        "root": head.root.hex(),
    }


def signed_message(head: TreeHead) -> bytes:
    return tree_head_message(head.size, head.root, head.timestamp)


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def bundle_files(bundle: Bundle) -> dict[str, bytes]:
    """Every file of the bundle by its name in the archive."""
    manifest = manifest_of(bundle)
    files: dict[str, bytes] = {
        README: readme_text(manifest).encode("utf-8"),
        INDEX: index_html(manifest).encode("utf-8"),
        MANIFEST: _json(manifest.model_dump(mode="json")),
        TREE_HEAD: _json(bundle.head.to_json()),
        PUBLIC_KEY: bundle.public_key_pem.encode("ascii"),
        SIGNED_MESSAGE: signed_message(bundle.head),
        SIGNATURE: bundle.head.signature,
    }
    for item, shown in zip(bundle.items, manifest.items, strict=True):
        files[shown.content] = item.content
        files[shown.entry] = item.entry
        files[shown.proof] = _json(proof_document(item, bundle.head))
    return files


def write_archive(out: Path, files: Mapping[str, bytes], moment: datetime) -> Path:
    """Write `files` as a ZIP archive at `out`, whole or not at all; every file is dated
    `moment`, so the same bundle written twice is the same archive."""
    stamp = moment.utctimetuple()[:6]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=".partial-", suffix=".zip")
    except OSError as error:
        raise BundleError(
            f"cannot write the bundle to {out}: {error.strerror or error}; check that the folder "
            "is writable"
        ) from None
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for name, data in files.items():
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        os.replace(temporary, out)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise BundleError(
            f"cannot write the bundle to {out}: {error.strerror or error}; check the disk has room"
        ) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return out


# Reading a bundle back --------------------------------------------------------------------


class Unreadable(Exception):
    """A file of the archive that cannot be read (damaged, or changed in place)."""


class BundleFiles(Mapping[str, bytes]):
    """The files of an open bundle, read when asked for (a bundle may hold large images)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.infos: dict[str, zipfile.ZipInfo] = {}
        self.duplicates: set[str] = set()
        for info in archive.infolist():
            if info.is_dir():
                continue
            if info.filename in self.infos:
                self.duplicates.add(info.filename)
            self.infos[info.filename] = info

    def __getitem__(self, name: str) -> bytes:
        info = self.infos[name]
        if info.file_size > MAX_FILE_BYTES:
            raise Unreadable(
                f"it unpacks to {info.file_size:,} bytes, more than a bundle's file may be "
                f"({MAX_FILE_BYTES:,}); Vigil never writes one that large"
            )
        try:
            return self.archive.read(info)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            raise Unreadable(str(error)) from None
        except Exception as error:  # zlib.error and friends from a damaged stream
            raise Unreadable(f"{type(error).__name__}: {error}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.infos)

    def __len__(self) -> int:
        return len(self.infos)


def open_bundle(path: Path) -> tuple[zipfile.ZipFile, BundleFiles]:
    """The archive at `path` and its files; BundleError when it is not a ZIP file at all."""
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BundleError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise BundleError(
            f"{path}: not a ZIP archive ({error}); an evidence bundle is the .zip file "
            "`vigil evidence export` writes"
        ) from None
    return archive, BundleFiles(archive)


def parse_manifest(data: bytes) -> Manifest:
    """The manifest, or BundleError saying what is wrong with it."""
    try:
        return Manifest.model_validate_json(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the top"
        raise BundleError(
            f"{MANIFEST}: not the manifest of a Vigil evidence bundle version "
            f"{BUNDLE_VERSION} ({where}: {first['msg']}; {error.error_count()} problem(s))"
        ) from None
