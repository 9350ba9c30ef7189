"""Signed tree heads: the log's Ed25519 key, the bytes it signs, and checking a signature.

The signed message follows the layout of RFC 6962's TreeHeadSignature (section 3.5), 50 bytes:
version 0 (1 byte), signature type 1 = tree_hash (1 byte), the timestamp in milliseconds since
the Unix epoch (8 bytes, big-endian), the tree size (8 bytes, big-endian) and the root (32 bytes).
The key signs nothing else, so these bytes cannot be mistaken for another message of ours.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import struct
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vigil.errors import VigilError
from vigil.evidence.merkle import HASH_SIZE, ProofError
from vigil.settings import Settings

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_VERSION_V1 = 0
_TREE_HASH = 1
KEY_FILE = Path("keys") / "evidence-log.key"


class SigningKeyError(VigilError):
    """The log's signing key is missing, malformed or unsafe to use."""


def to_milliseconds(moment: datetime) -> int:
    """Milliseconds since the Unix epoch of an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MILLISECOND


def utc_milliseconds(moment: datetime) -> datetime:
    """`moment` in UTC, cut to whole milliseconds: the precision a tree head is signed at."""
    return _EPOCH + to_milliseconds(moment) * _MILLISECOND


def tree_head_message(size: int, root: bytes, timestamp: datetime) -> bytes:
    """The exact bytes a tree head's signature covers (see the module docstring)."""
    if len(root) != HASH_SIZE:
        raise ProofError(f"a tree head's root is {HASH_SIZE} bytes, this one is {len(root)}")
    if not 0 <= size < 2**64:
        raise ProofError(f"a tree head's size must fit in 64 bits, not {size}")
    return struct.pack(">BBQQ", _VERSION_V1, _TREE_HASH, to_milliseconds(timestamp), size) + root


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """Hex SHA-256 of the raw 32-byte public key: how a tree head names the key that signed."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class TreeHead:
    """The log had `size` entries with Merkle root `root` at `timestamp`, signed by `key_id`."""

    size: int
    root: bytes
    timestamp: datetime
    signature: bytes
    key_id: str

    def to_json(self) -> dict[str, Any]:
        """Bytes in standard base64, the time in RFC 3339 UTC with milliseconds."""
        stamp = utc_milliseconds(self.timestamp)
        return {
            "size": self.size,
            "root": base64.b64encode(self.root).decode("ascii"),
            "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "signature": base64.b64encode(self.signature).decode("ascii"),
            "key_id": self.key_id,
        }

    @classmethod
    def from_json(cls, data: Any) -> TreeHead:
        """Read what `to_json` wrote; raise ProofError naming the field that is wrong."""
        if not isinstance(data, dict):
            raise ProofError(f"a tree head is a JSON object, not {type(data).__name__}")
        missing = [k for k in ("size", "root", "timestamp", "signature", "key_id") if k not in data]
        if missing:
            raise ProofError(f"the tree head lacks {', '.join(missing)}")
        size = data["size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ProofError(f"the tree head's size must be a whole number >= 0, not {size!r}")
        stamp = data["timestamp"]
        try:
            timestamp = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        except ValueError:
            raise ProofError(
                f"the tree head's timestamp {stamp!r} is not an RFC 3339 time"
            ) from None
        if timestamp.tzinfo is None:
            raise ProofError(f"the tree head's timestamp {stamp!r} has no time zone")
        key_id = data["key_id"]
        if not isinstance(key_id, str) or len(key_id) != 64:
            raise ProofError(f"the tree head's key_id must be 64 hex digits, not {key_id!r}")
        return cls(
            size=size,
            root=_base64_field(data, "root"),
            timestamp=timestamp.astimezone(UTC),
            signature=_base64_field(data, "signature"),
            key_id=key_id,
        )


def _base64_field(data: dict[str, Any], name: str) -> bytes:
    value = data[name]
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ProofError(f"the tree head's {name} is not base64: {value!r}") from None


def verify_tree_head(head: TreeHead, public_key_pem: str) -> None:
    """Check a tree head's signature with the log's public key; raise ProofError naming what
    failed (the key, the key id, or the signature over size, root and time)."""
    try:
        public_key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ProofError("the log's public key is not a PEM public key") from None
    if not isinstance(public_key, Ed25519PublicKey):
        raise ProofError("the log's public key is not an Ed25519 key")
    expected_id = key_id_of(public_key)
    if head.key_id != expected_id:
        raise ProofError(
            f"the tree head names key {head.key_id}, but the public key given is {expected_id}; "
            "use the public key of the log that signed it"
        )
    try:
        public_key.verify(head.signature, tree_head_message(head.size, head.root, head.timestamp))
    except InvalidSignature:
        raise ProofError(
            f"the signature of the tree head (size {head.size}, root {head.root.hex()}, "
            f"time {head.to_json()['timestamp']}) does not verify: the size, root, time or "
            "signature was changed"
        ) from None


class LogSigner:
    """The log's Ed25519 signing key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        public_key = private_key.public_key()
        self.key_id: str = key_id_of(public_key)
        self.public_key_pem: str = public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    @classmethod
    def for_settings(cls, settings: Settings) -> LogSigner:
        """The key in `VIGIL_LOG_SIGNING_KEY` when set, else `<home>/keys/evidence-log.key`,
        generated there on first use."""
        if settings.log_signing_key is not None:
            return cls(_decode_key(settings.log_signing_key.get_secret_value(), None))
        return cls(_load_or_create(settings.home / KEY_FILE))

    def sign(self, size: int, root: bytes, timestamp: datetime) -> TreeHead:
        """A tree head for `size` and `root` at `timestamp` (cut to milliseconds, in UTC)."""
        stamp = utc_milliseconds(timestamp)
        signature = self._key.sign(tree_head_message(size, root, stamp))
        return TreeHead(
            size=size, root=root, timestamp=stamp, signature=signature, key_id=self.key_id
        )


def encode_private_key(private_key: Ed25519PrivateKey) -> str:
    """The raw 32-byte private key in base64: the form of the setting and of the key file."""
    raw = private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode("ascii")


def _decode_key(text: str, origin: str | None) -> Ed25519PrivateKey:
    """The key from its base64 text; `origin` is the key file, None for the setting."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        what = "is not a base64 raw 32-byte Ed25519 private key"
        if origin is None:
            raise SigningKeyError(
                f"VIGIL_LOG_SIGNING_KEY {what}; set it to one, or unset it to use the key file "
                "under the Vigil home"
            )
        raise SigningKeyError(
            f"the evidence log's key file {origin} {what}; restore it from your backup (a new "
            "key cannot sign for the old one)"
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        _create(path)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise SigningKeyError(
            f"cannot read the evidence log's signing key {path}: {error}; check its permissions"
        ) from None
    if mode & 0o077:
        raise SigningKeyError(
            f"the evidence log's signing key {path} can be read by other users; run "
            f"`chmod 600 {path}` (and consider the key exposed if they did read it)"
        )
    return _decode_key(text, str(path))


def _create(path: Path) -> None:
    """Write a new key whole under a temporary name, then link it into place: if another process
    created the key meanwhile, its key wins and ours is discarded, so both sign with one key."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            # mkstemp creates the file readable by its owner only (0600).
            with os.fdopen(handle, "w", encoding="ascii") as out:
                out.write(encode_private_key(Ed25519PrivateKey.generate()) + "\n")
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)
    except OSError as error:
        raise SigningKeyError(
            f"cannot create the evidence log's signing key at {path}: "
            f"{error.strerror or error}; check that the Vigil home is writable, or set "
            "VIGIL_LOG_SIGNING_KEY"
        ) from None
