"""Evidence bytes, kept by the SHA-256 of their content.

Under the home (`<home>/evidence/<first two hex digits>/<sha256>`, written whole or not at all)
or in the `evidence_blobs` table, as the setting `evidence_storage` says; each item records
where its bytes went, so changing the setting later does not lose the old ones. Reading hashes
the bytes again and refuses any whose digest is not the one asked for: that is how a stored
byte changed behind Vigil's back is found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.errors import VigilError
from vigil.evidence.canonical import sha256_hex
from vigil.files import write_atomic
from vigil.settings import Settings
from vigil.store.tables import EvidenceBlobRow

Storage = Literal["home", "database"]
STORAGES: tuple[Storage, ...] = ("home", "database")
SHA256 = re.compile(r"[0-9a-f]{64}")


class EvidenceBytesMissing(VigilError):
    """The bytes of an evidence item are not where its record says they are."""


class EvidenceBytesChanged(VigilError):
    """Stored evidence bytes no longer hash to the digest that names them."""

    def __init__(self, sha256: str, actual: str, where: str) -> None:
        super().__init__(
            f"the stored bytes of evidence {sha256} ({where}) hash to {actual}: they were "
            "changed after capture; restore them from a backup or an exported bundle"
        )
        self.sha256 = sha256
        self.actual = actual
        self.where = where


@dataclass(frozen=True)
class EvidenceBlobs:
    """One installation's evidence bytes; `storage` is where new bytes go."""

    home: Path
    storage: Storage = "home"

    @classmethod
    def for_settings(cls, settings: Settings) -> EvidenceBlobs:
        return cls(home=settings.home.resolve(), storage=settings.evidence_storage)

    @property
    def folder(self) -> Path:
        return self.home / "evidence"

    def path_of(self, sha256: str) -> Path:
        """Where the home keeps the bytes with this digest (whether or not they are there)."""
        if not SHA256.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
        return self.folder / sha256[:2] / sha256

    def put(self, session: Session, data: bytes) -> str:
        """Keep `data` where `storage` says (in the caller's transaction for the database) and
        return its SHA-256. Bytes kept already are not written again, unless the copy kept was
        damaged: then the right bytes replace it."""
        sha256 = sha256_hex(data)
        if self.storage == "home":
            path = self.path_of(sha256)
            if self._raw_file(path) != data:
                write_atomic(path, data, what="the evidence store")
            return sha256
        stored = session.get(EvidenceBlobRow, sha256)
        if stored is None:
            # Another capture may keep the same bytes at the same moment: the first one wins,
            # and the bytes are the same either way.
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            session.execute(
                insert(EvidenceBlobRow)
                .values(sha256=sha256, data=data)
                .on_conflict_do_nothing(index_elements=["sha256"])
            )
        elif bytes(stored.data) != data:
            stored.data = data
        return sha256

    def raw(self, session: Session, sha256: str, storage: str) -> bytes | None:
        """The bytes stored under `sha256` as they are, unchecked; None when there are none.
        For reports that say what the stored bytes hash to; everything else uses `read`."""
        if storage == "home":
            return self._raw_file(self.path_of(sha256))
        if storage == "database":
            found = session.scalar(
                select(EvidenceBlobRow.data).where(EvidenceBlobRow.sha256 == sha256)
            )
            return None if found is None else bytes(found)
        raise EvidenceBytesMissing(
            f"evidence {sha256} is recorded as kept in {storage!r}, which this version of "
            f"Vigil does not know (it knows {', '.join(STORAGES)})"
        )

    def read(self, session: Session, sha256: str, storage: str) -> bytes:
        """The bytes of evidence `sha256`, kept in `storage` (the item's record says where);
        raise EvidenceBytesMissing or EvidenceBytesChanged when they are gone or altered."""
        data = self.raw(session, sha256, storage)
        where = self.where(sha256, storage)
        if data is None:
            raise EvidenceBytesMissing(
                f"the bytes of evidence {sha256} are missing from {where}; restore them from a "
                "backup or an exported bundle"
            )
        actual = sha256_hex(data)
        if actual != sha256:
            raise EvidenceBytesChanged(sha256, actual, where)
        return data

    def where(self, sha256: str, storage: str) -> str:
        """Where the bytes live, in words a person can go and look at."""
        if storage == "home":
            return str(self.path_of(sha256))
        return f"the evidence_blobs row {sha256}"

    @staticmethod
    def _raw_file(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise EvidenceBytesMissing(
                f"cannot read evidence file {path}: {error.strerror or error}; check its "
                "permissions"
            ) from None
