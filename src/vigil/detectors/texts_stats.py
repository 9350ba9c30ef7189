"""The texts detector's settings and its scan-wide statistics: every description's clauses
and signature, the copies pass one found, and — once pass one is over — the boilerplate
clauses and the copy-paste clusters (see vigil.detectors.texts)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import xxhash
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigil.settings import ConfigError, ScanConfig
from vigil.texts.clusters import find_clusters
from vigil.texts.containment import Match


class _CopySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_shingles: int = Field(default=12, ge=1)
    candidate_containment: float = Field(default=0.2, gt=0, le=1)
    min_copied_chars: int = Field(default=80, ge=1)
    min_containment: float = Field(default=0.5, gt=0, le=1)
    long_copy_chars: int = Field(default=100, ge=1)
    weight_min: float = 2.6
    weight_max: float = 4.6


class _ClusterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_chars: int = Field(default=80, ge=1)
    num_perm: int = Field(default=64, ge=8, le=256, multiple_of=4)
    similarity: float = Field(default=0.6, gt=0, le=1)
    min_sellers: int = Field(default=3, ge=2)
    weight_min: float = 1.2
    weight_max: float = 2.2
    many_sellers: int = Field(default=20, ge=2)


class _BoilerplateSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_descriptions: int = Field(default=20, ge=2)
    rate: float = Field(default=0.002, ge=0, le=1)
    phrases: list[str] = Field(default_factory=list)


class TextSettings(BaseModel):
    """The `texts` section of the scan configuration (vigil/data/detectors/texts.yaml)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    cjk_window: int = Field(default=5, ge=1, le=16)
    word_window: int = Field(default=3, ge=1, le=16)
    max_work_bytes: int = Field(default=16 << 20, gt=0)
    copyrighted_text: _CopySettings = Field(default_factory=_CopySettings)
    copy_paste_cluster: _ClusterSettings = Field(default_factory=_ClusterSettings)
    boilerplate: _BoilerplateSettings = Field(default_factory=_BoilerplateSettings)


def text_settings(config: ScanConfig) -> TextSettings:
    try:
        return TextSettings.model_validate(config.detectors.get("texts", {}))
    except ValidationError as error:
        raise ConfigError(f"detectors.texts in the configuration is invalid: {error}") from error


def listing_key(platform: str, listing_id: str) -> int:
    """A listing's key as one 64-bit number (the scan-wide statistics keep millions)."""
    return xxhash.xxh64_intdigest(f"{platform}\x1f{listing_id}".encode())


@dataclass(slots=True)
class TextObservation:
    """What pass one keeps of a listing's description for the scan-wide statistics."""

    key: int
    seller: str | None
    clause_hashes: bytes  # uint64 array
    clause_prose: bytes  # int32 array: each clause's prose length (vigil.texts.shingles)
    signature: bytes | None  # uint16 array, for descriptions long enough to cluster
    matches: list[Match] = field(default_factory=list)


_U64 = struct.Struct("<Q")
_I32 = struct.Struct("<i")


class _Column:
    """A column of fixed-size numbers appended as bytes, read as one numpy array: millions of
    small appends cost a bytearray extension each, not a numpy call."""

    def __init__(self, dtype: type[np.generic], width: int = 1) -> None:
        self.dtype = np.dtype(dtype)
        self.width = width
        self.data = bytearray()

    def append(self, data: bytes) -> None:
        self.data += data

    @property
    def size(self) -> int:
        return len(self.data) // (self.dtype.itemsize * self.width)

    def values(self) -> npt.NDArray[Any]:
        return np.frombuffer(bytes(self.data), dtype=self.dtype).reshape(-1, self.width)


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    key: str
    listings: int
    sellers: int
    similarity: float


class TextStats:
    """Every description's clauses and signature, the copies found in pass one, and — once
    the first pass is over — the boilerplate clauses and the copy-paste clusters."""

    def __init__(self, settings: TextSettings, seeds: frozenset[int]) -> None:
        self.settings = settings
        self.seeds = seeds
        self.keys = _Column(np.uint64)
        self.sellers = _Column(np.int32)
        self.clause_hashes = _Column(np.uint64)
        self.clause_prose = _Column(np.int32)
        self.clause_counts = _Column(np.int32)  # clauses per description
        self.signatures = _Column(np.uint16, settings.copy_paste_cluster.num_perm)
        self.signature_owner = _Column(np.int32)
        self.pending: dict[int, list[Match]] = {}
        self.count = 0
        self._seller_ids: dict[str | None, int] = {}
        self._final: tuple[frozenset[int], dict[int, ClusterInfo]] | None = None

    def add(self, observation: Any) -> None:
        obs: TextObservation = observation
        number = self.count
        self.count += 1
        self.keys.append(_U64.pack(obs.key))
        seller = self._seller_ids.setdefault(obs.seller, len(self._seller_ids))
        self.sellers.append(_I32.pack(seller))
        self.clause_hashes.append(obs.clause_hashes)
        self.clause_prose.append(obs.clause_prose)
        self.clause_counts.append(_I32.pack(len(obs.clause_hashes) // 8))
        if obs.signature is not None:
            self.signatures.append(obs.signature)
            self.signature_owner.append(_I32.pack(number))
        if obs.matches:
            self.pending[obs.key] = obs.matches

    def final(self) -> tuple[frozenset[int], dict[int, ClusterInfo]]:
        """The boilerplate clauses and each clustered listing's cluster (computed once)."""
        if self._final is None:
            self._final = self._finish()
        return self._final

    def _finish(self) -> tuple[frozenset[int], dict[int, ClusterInfo]]:
        cluster = self.settings.copy_paste_cluster
        count = self.count
        clause_owner = np.repeat(
            np.arange(count, dtype=np.int64), self.clause_counts.values().ravel()
        )
        owners = self.signature_owner.values().ravel()
        labels, _ = find_clusters(self.signatures.values(), cluster.similarity)
        # Each description's group: its cluster when it has one, else itself; boilerplate is
        # counted over groups, so that a ring's template does not become boilerplate.
        group = np.arange(count, dtype=np.int64)
        sizes = np.bincount(labels) if labels.size else np.zeros(0, dtype=np.int64)
        clustered = sizes[labels] > 1 if labels.size else np.zeros(0, dtype=bool)
        group[owners[clustered]] = count + labels[clustered]
        boilerplate = self._boilerplate(group, clause_owner)
        hashes = self.clause_hashes.values().ravel()
        is_bp = np.isin(hashes, np.fromiter(boilerplate, dtype=np.uint64, count=len(boilerplate)))
        content = np.bincount(
            clause_owner,
            weights=self.clause_prose.values().ravel() * ~is_bp,
            minlength=count,
        )
        members = np.flatnonzero(clustered & (content[owners] >= cluster.min_chars))
        found: dict[int, ClusterInfo] = {}
        keys = self.keys.values().ravel()
        sellers = self.sellers.values().ravel()
        signatures = self.signatures.values()
        order = members[np.argsort(labels[members], kind="stable")]
        for run in np.split(order, np.flatnonzero(np.diff(labels[order])) + 1):
            if run.size < 2:
                continue
            listings = owners[run]
            distinct = int(np.unique(sellers[listings]).size)
            if distinct < cluster.min_sellers:
                continue
            # Named after, and measured against, the member with the smallest key: the same
            # whatever order the listings came in.
            first = int(np.argmin(keys[listings]))
            agree = (signatures[run] == signatures[run[first]]).mean(axis=1)
            info = ClusterInfo(
                key=f"{int(keys[listings[first]]):016x}",
                listings=int(run.size),
                sellers=distinct,
                similarity=round(float(np.delete(agree, first).mean()), 3),
            )
            for listing in listings.tolist():
                found[int(keys[listing])] = info
        return boilerplate, found

    def _boilerplate(
        self, group: npt.NDArray[np.int64], owners: npt.NDArray[np.int64]
    ) -> frozenset[int]:
        settings = self.settings.boilerplate
        hashes = self.clause_hashes.values().ravel()
        if hashes.size == 0:
            return self.seeds
        # Distinct (clause, group) pairs, then how many groups each clause is in.
        pairs = np.unique(np.stack([hashes, group[owners].astype(np.uint64)], axis=1), axis=0)
        clause, counts = np.unique(pairs[:, 0], return_counts=True)
        groups = int(np.unique(group).size)
        needed = max(settings.min_descriptions, math.ceil(settings.rate * groups))
        learned = clause[counts >= needed]
        return self.seeds | frozenset(int(h) for h in learned)
