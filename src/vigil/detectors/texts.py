"""Copied text: listing descriptions found in registered works, and copy-paste clusters.

- `copyrighted_text` (an infringement kind): the description is largely contained in a work of
  kind `text` (vigil.texts.containment); the evidence is the longest copied passage, with the
  place it comes from in the work. Sellers authorized for a brand of the work's owner are not
  reported: official shops use their own descriptions.
- `copy_paste_cluster`: the description is near-identical to those of listings from at least
  `min_sellers` other sellers in the same scan (vigil.texts.clusters) — a ring pasting one
  template. Clusters are stored for the seller-network work.

Both need the whole scan (`ScanWide`), for two reasons: clusters are found among all
descriptions, and boilerplate (包邮, 七天无理由退换, size charts, "free shipping") is learned
from how many different descriptions share a clause. Pass one shingles each description,
confirms candidate works exactly and keeps, per clause, how much of it is in each work; pass
two drops the boilerplate clauses, decides, and explains.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import xxhash
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigil.detectors.base import Detector, Findings, ListingFacts, Matcher, ScanStats
from vigil.detectors.seller import seller_key
from vigil.domain.assessment import Signal
from vigil.domain.listing import Listing
from vigil.domain.registry import Registry, WorkKind
from vigil.settings import ConfigError, ScanConfig
from vigil.texts.clusters import Sketcher, find_clusters
from vigil.texts.containment import IndexedWork, Match, WorkIndex
from vigil.texts.shingles import Shingler, clauses, normalize
from vigil.texts.works import WorkError, read_work_file


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
    clause_lengths: bytes  # int32 array: prose length (vigil.texts.shingles.Clauses)
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
        self.clause_lengths = _Column(np.int32)
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
        self.clause_lengths.append(obs.clause_lengths)
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
            weights=self.clause_lengths.values().ravel() * ~is_bp,
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


class TextMatcher(Matcher):
    """Pure and picklable: the works' index and the settings; no I/O while matching."""

    detector: ClassVar[str] = "texts"

    def __init__(
        self,
        settings: TextSettings,
        index: WorkIndex,
        authorized: dict[tuple[str, str], frozenset[str]],
        seeds: frozenset[int],
        warnings: list[str],
    ) -> None:
        self.settings = settings
        self.index = index
        self.shingler = index.shingler
        self.sketcher = Sketcher(settings.copy_paste_cluster.num_perm)
        self.authorized = authorized
        self.seeds = seeds
        self._seed_array = np.array(sorted(seeds), dtype=np.uint64)
        self.warnings = warnings
        # Shorter descriptions can neither show a reportable copy nor join a cluster.
        self.shortest = min(
            settings.copyrighted_text.min_copied_chars, settings.copy_paste_cluster.min_chars
        )

    # -- pass one --------------------------------------------------------------------------

    def match(self, listing: Listing, findings: Findings) -> list[Signal]:
        description = listing.description
        if not self.settings.enabled or not description:
            return []
        text = normalize(description)
        seller = listing.seller.id if listing.seller else None
        key = listing_key(listing.platform, listing.listing_id)
        if len(text) < self.shortest:
            # Too short to copy a work or to cluster: only its clauses count, for boilerplate.
            cut = clauses(text)
            findings.notes["texts"] = TextObservation(
                key, seller, cut.hashes.tobytes(), cut.prose.tobytes(), None
            )
            return []
        shingled = self.shingler(text, normalized=True)
        matches: list[Match] = []
        copy = self.settings.copyrighted_text
        if len(shingled) >= copy.min_shingles and len(self.index):
            owned = (
                self.authorized.get((seller_key(listing.platform), seller_key(seller)), frozenset())
                if seller
                else frozenset()
            )
            for work, _, _ in self.index.candidates(shingled.unique())[:3]:
                if self.index.works[work].owner in owned:
                    continue
                matches.append(self.index.match(shingled, work))
        signature = None
        if int(shingled.clause_prose.sum()) >= self.settings.copy_paste_cluster.min_chars:
            kept = ~np.isin(shingled.clause_hashes[shingled.clauses], self._seed_array)
            kept &= shingled.clause_prose[shingled.clauses] > 0
            if kept.any():
                signature = self.sketcher(np.unique(shingled.hashes[kept])).tobytes()
        findings.notes["texts"] = TextObservation(
            key,
            seller,
            shingled.clause_hashes.tobytes(),
            shingled.clause_prose.tobytes(),
            signature,
            matches,
        )
        return []

    def observe(self, listing: Listing, findings: Findings) -> TextObservation | None:
        observation: TextObservation | None = findings.notes.get("texts")
        return observation

    def new_stats(self) -> TextStats:
        return TextStats(self.settings, self.seeds)

    # -- pass two --------------------------------------------------------------------------

    def match_scan(self, facts: ListingFacts, stats: ScanStats) -> list[Signal]:
        assert isinstance(stats, TextStats)
        key = listing_key(facts.platform, facts.listing_id)
        matches = stats.pending.get(key)
        if matches is None and not stats.signature_owner.size:
            return []
        boilerplate, clusters = stats.final()
        signals: list[Signal] = []
        if matches:
            copied = self._copied(matches, boilerplate)
            if copied is not None:
                signals.append(copied)
        cluster_of = clusters.get(key)
        if cluster_of is not None:
            signals.append(self._cluster_signal(cluster_of))
        return signals

    def _copied(self, matches: list[Match], boilerplate: frozenset[int]) -> Signal | None:
        copy = self.settings.copyrighted_text
        best: tuple[int, float, Match] | None = None
        for match in matches:
            shingles = matched = chars = 0
            for h, total, hit, covered in zip(
                match.clause_hashes, match.clause_shingles, match.clause_matched,
                match.clause_copied, strict=True,
            ):  # fmt: skip
                if h in boilerplate:
                    continue
                shingles += total
                matched += hit
                chars += covered
            if not shingles or chars < copy.min_copied_chars:
                continue
            containment = matched / shingles
            if containment < copy.min_containment and chars < copy.long_copy_chars:
                continue
            if best is None or (chars, containment) > best[:2]:
                best = (chars, containment, match)
        if best is None:
            return None
        chars, containment, match = best
        work = self.index.works[match.work]
        span = max(copy.long_copy_chars - copy.min_copied_chars, 1)
        share = min(max((chars - copy.min_copied_chars) / span, 0.0), 1.0)
        weight = copy.weight_min + (copy.weight_max - copy.weight_min) * share
        passage = match.passage if len(match.passage) <= 300 else match.passage[:299] + "…"
        return Signal(
            detector=self.detector,
            kind="copyrighted_text",
            asset=f"work:{work.key}",
            weight=round(weight, 3),
            evidence=passage,
            explanation=(
                f"The description copies the registered work “{work.title}” of {work.owner}: "
                f"{containment:.0%} of it ({chars} characters) is in the work."
            ),
            details={
                "work": work.title,
                "owner": work.owner,
                "containment": round(containment, 3),
                "copied_chars": chars,
                "passage": match.passage,
                "work_excerpt": match.excerpt,
                "work_offset": match.work_offset,
                "brand": work.brand,
            },
        )

    def _cluster_signal(self, cluster: ClusterInfo) -> Signal:
        settings = self.settings.copy_paste_cluster
        span = max(settings.many_sellers - settings.min_sellers, 1)
        share = min(max((cluster.sellers - settings.min_sellers) / span, 0.0), 1.0)
        weight = settings.weight_min + (settings.weight_max - settings.weight_min) * share
        return Signal(
            detector=self.detector,
            kind="copy_paste_cluster",
            asset=f"cluster:{cluster.key}",
            weight=round(weight, 3),
            evidence=f"{cluster.listings} listings by {cluster.sellers} sellers",
            explanation=(
                f"The description is near-identical to those of {cluster.listings - 1} other "
                f"listings from {cluster.sellers} sellers in this scan: one template pasted "
                "across shops."
            ),
            details={
                "cluster": cluster.key,
                "listings": cluster.listings,
                "sellers": cluster.sellers,
                "similarity": cluster.similarity,
            },
        )


def _shared_by_owners(works: list[tuple[IndexedWork, str]]) -> frozenset[int]:
    """Clauses found in the works of at least two owners: the shipping and returns lines, the
    size charts and the safety notices that official texts share are not what one owner's
    copyright protects, and are boilerplate in any scan."""
    owners: dict[int, set[str]] = {}
    for work, text in works:
        for clause in clauses(normalize(text)).hashes.tolist():
            owners.setdefault(int(clause), set()).add(work.owner)
    return frozenset(clause for clause, who in owners.items() if len(who) > 1)


class TextDetector(Detector):
    name: ClassVar[str] = "texts"
    stage: ClassVar[int] = 20
    description: ClassVar[str] = (
        "Descriptions copied from registered works (containment search), and copy-paste "
        "clusters of near-identical descriptions posted by many sellers."
    )

    def compile(self, registry: Registry, config: ScanConfig) -> TextMatcher:
        settings = text_settings(config)
        shingler = Shingler(settings.cjk_window, settings.word_window)
        index = WorkIndex(
            shingler, candidate_containment=settings.copyrighted_text.candidate_containment
        )
        warnings: list[str] = []
        owned: dict[str, list[str]] = {}
        for brand in registry.brands:
            if brand.owner:
                owned.setdefault(brand.owner, []).append(brand.name)
        works: list[tuple[IndexedWork, str]] = []
        if settings.enabled:
            for work in registry.works:
                if work.kind is not WorkKind.TEXT:
                    continue
                texts = []
                for file in work.files:
                    try:
                        read = read_work_file(Path(file), max_bytes=settings.max_work_bytes)
                    except WorkError as error:
                        warnings.append(f"work “{work.title}” of {work.owner}: {error}")
                        continue
                    if read.encoding not in ("utf-8", "utf-8-sig", "utf-16", "utf-32"):
                        warnings.append(
                            f"work “{work.title}” of {work.owner}: {file} was read as "
                            f"{read.encoding}; save it as UTF-8 to be sure it reads right"
                        )
                    texts.append(read.text)
                if not texts:
                    if work.files:
                        continue
                    warnings.append(
                        f"work “{work.title}” of {work.owner} has no files; upload its text"
                    )
                    continue
                brands = owned.get(work.owner, [])
                entry = IndexedWork(
                    key=f"{work.owner}/{work.title}",
                    owner=work.owner,
                    title=work.title,
                    brand=brands[0] if len(brands) == 1 else None,
                )
                works.append((entry, "\n".join(texts)))
        index.build(works)
        authorized: dict[tuple[str, str], set[str]] = {}
        for brand in registry.brands:
            for entry_ in brand.authorized_sellers:
                if brand.owner:
                    key = (seller_key(entry_.platform), seller_key(entry_.seller_id))
                    authorized.setdefault(key, set()).add(brand.owner)
        seeds = frozenset(
            int(h)
            for phrase in settings.boilerplate.phrases
            for h in shingler(phrase).clause_hashes.tolist()
        ) | _shared_by_owners(works)
        return TextMatcher(
            settings,
            index,
            {k: frozenset(v) for k, v in authorized.items()},
            seeds,
            warnings,
        )
