"""The scan use case: read feeds, assess every listing, write the outputs, store what is flagged.

Outputs in the scan folder appear whole or not at all: each is written under a temporary name
and renamed when the scan ends. In the store, flagged listings are committed in batches; a scan
killed part-way keeps what it committed, and a rerun updates those rows instead of duplicating
them.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from vigil.detectors.images import ImageMatcher, image_settings, make_fetcher
from vigil.detectors.manifest import load_detectors
from vigil.domain.registry import Registry
from vigil.pipeline.assess import Assessor, FirstPass, stored_listing
from vigil.pipeline.images import ImageStage, single_threaded
from vigil.pipeline.local import LocalEngine
from vigil.pipeline.readers import Format, RawRecord, Rejection, check_inputs, read_records
from vigil.pipeline.scoring import Scorer
from vigil.services.cases.config import CaseConfig, load_case_config
from vigil.services.cases.rules import apply_rules
from vigil.services.registry import registry_snapshot
from vigil.settings import ScanConfig
from vigil.store import clusters_repo, listings_repo
from vigil.store.db import Store, audit

STORE_BATCH = 1_000
# Large write buffers: one system call per megabyte instead of per line.
WRITE_BUFFER = 1 << 20
Progress = Callable[[int, int], None]  # (listings read, rejected)
Stored = Callable[[int], None]  # (listings stored so far)


@dataclass
class ScanSummary:
    scan_id: str
    inputs: list[str]
    out: str
    scanned: int = 0
    rejected: int = 0
    by_verdict: dict[str, int] = field(default_factory=dict)
    top_brands: list[tuple[str, int]] = field(default_factory=list)
    stored: int = 0
    ignored_fields: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    listings_per_second: float = 0.0
    workers: int = 1
    warnings: list[str] = field(default_factory=list)
    clusters: int = 0  # copy-paste clusters found and stored
    cases_opened: int = 0  # by members' case rules over the listings this scan stored
    started_at: str = ""
    finished_at: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def compile_assessor(
    registry: Registry, config: ScanConfig, *, local_images: bool = True
) -> Assessor:
    """The scan's matchers, scorer and, when the images detector is on, its image stage."""
    single_threaded()
    matchers = [detector.compile(registry, config) for detector in load_detectors()]
    stage = None
    settings = image_settings(config)
    images = next((m for m in matchers if isinstance(m, ImageMatcher)), None)
    # Nothing registered to look for: the photos are not fetched at all.
    if settings.enabled and images is not None and images.has_assets:
        # "pdq512": hashes of the picture brought to 512 pixels (vigil.images.pdq).
        cache = Path(config.cache_dir) / "pdq512" if config.cache_dir else None
        stage = ImageStage(
            make_fetcher(config, settings),
            max_pixels=settings.max_pixels,
            max_side=settings.max_side,
            # Keypoints serve logo search and alignment; without either they are not computed.
            features=images.logos is not None or images.photos is not None,
            keep_blobs=settings.keep_blobs,
            hash_cache=cache,
            known=images.index,
        )
    return Assessor(matchers, Scorer(config.scoring), images=stage, local_images=local_images)


def compile_warnings(assessor: Assessor) -> list[str]:
    """What the matchers could not compile (an unreadable registry photo...), for the summary."""
    return [w for m in assessor.matchers for w in getattr(m, "warnings", [])]


def _records(
    inputs: list[tuple[str, Format]], warnings: list[str]
) -> Iterator[RawRecord | Rejection]:
    for name, fmt in inputs:
        count = 0
        for record in read_records(name, fmt):
            count += 1
            yield record
        if count == 0:
            warnings.append(f"{name}: no listings in this input (is the file empty?)")


def _now() -> datetime:
    return datetime.now(UTC)


class _Outputs:
    """The scan folder's files, written under temporary names until `commit`."""

    NAMES = ("assessments.jsonl", "rejected.jsonl")

    def __init__(self, out: Path, scan_id: str) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.spill_path = out / f".pass1-{scan_id}.jsonl"
        self.temp = {name: out / f".{name}.{scan_id}.part" for name in self.NAMES}
        self.files: dict[str, IO[bytes]] = {
            n: open(p, "wb", buffering=WRITE_BUFFER)  # noqa: SIM115 (closed in commit/discard)
            for n, p in self.temp.items()
        }

    def write(self, name: str, row: dict[str, Any]) -> None:
        self.files[name].write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))

    def commit(self, summary: dict[str, Any]) -> None:
        for name, handle in self.files.items():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(self.temp[name], self.out / name)
        temp = self.out / f".summary.json.{summary['scan_id']}.part"
        temp.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
        os.replace(temp, self.out / "summary.json")

    def discard(self) -> None:
        for name, handle in self.files.items():
            handle.close()
            self.temp[name].unlink(missing_ok=True)
        self.spill_path.unlink(missing_ok=True)


def scan(
    store: Store,
    inputs: list[str],
    out: Path,
    *,
    config: ScanConfig,
    workers: int = 1,
    fmt: Format | None = None,
    progress: Progress | None = None,
    scan_id: str | None = None,
    store_all: bool = False,
    stored: Stored | None = None,
    local_images: bool = True,
    case_config: CaseConfig | None = None,
) -> ScanSummary:
    """Assess every listing of `inputs`; write `out/assessments.jsonl`, `rejected.jsonl`,
    `summary.json`; store flagged listings and their signals.

    With `scan_id`, the caller has recorded the scan's row and records its end (the web's scan
    runs do); `store_all` stores every assessment, clear ones included; `stored` is told how
    many listings are stored so far after each batch. `local_images` False reads listing images
    from http(s) URLs only, never from paths on this machine (the web's scans of uploads).
    Afterwards members' case rules open cases over the stored listings (timed by
    `case_config`, the shipped case configuration by default)."""
    checked = check_inputs(inputs, fmt)
    assessor = compile_assessor(registry_snapshot(store), config, local_images=local_images)
    recorded_here = scan_id is None
    scan_id = scan_id or uuid.uuid4().hex
    started = _now()
    clock = time.perf_counter()
    summary = ScanSummary(
        scan_id=scan_id, inputs=inputs, out=str(out), workers=workers,
        started_at=started.isoformat(),
    )  # fmt: skip
    summary.warnings.extend(compile_warnings(assessor))
    if recorded_here:
        with store.session() as session:
            listings_repo.start_scan(session, scan_id=scan_id, started_at=started, inputs=inputs)
    outputs = _Outputs(out, scan_id)
    try:
        stats = _first_pass(assessor, checked, outputs, summary, workers, progress)
        _second_pass(store, assessor, stats, outputs, summary, started, store_all, stored)
        opened = apply_rules(store, case_config or load_case_config(), scan_id=scan_id)
        summary.cases_opened = len(opened.opened)
        summary.duration_s = round(time.perf_counter() - clock, 3)
        summary.listings_per_second = round(summary.scanned / max(summary.duration_s, 1e-9), 1)
        summary.finished_at = _now().isoformat()
        outputs.spill_path.unlink(missing_ok=True)
        outputs.commit(summary.as_json())
    except BaseException:
        outputs.discard()
        if not recorded_here:
            raise
        with store.session() as session:
            listings_repo.finish_scan(
                session, scan_id=scan_id, status="failed", finished_at=_now(),
                summary=summary.as_json(),
            )  # fmt: skip
        raise
    store.analyze()
    if not recorded_here:
        return summary
    with store.session() as session:
        listings_repo.finish_scan(
            session, scan_id=scan_id, status="done", finished_at=_now(), summary=summary.as_json()
        )
        audit(session, action="scan.run", subject=scan_id, details=summary.as_json())
    return summary


def _first_pass(
    assessor: Assessor,
    inputs: list[tuple[str, Format]],
    outputs: _Outputs,
    summary: ScanSummary,
    workers: int,
    progress: Progress | None,
) -> dict[int, Any]:
    stats = assessor.new_stats()
    ignored: Counter[str] = Counter()
    engine = LocalEngine(assessor, workers=workers)
    seen = 0
    with open(outputs.spill_path, "wb", buffering=WRITE_BUFFER) as spill:
        for result in engine.first_pass(_records(inputs, summary.warnings)):
            seen += 1
            if isinstance(result, FirstPass):
                spill.write(result.spill)
                for index, observation in result.observations:
                    stats[index].add(observation)
                ignored.update(result.ignored_fields)
                summary.scanned += 1
            else:
                summary.rejected += 1
                outputs.write("rejected.jsonl", asdict(result))
            if progress is not None and seen % 1000 == 0:
                progress(summary.scanned, summary.rejected)
    if progress is not None:
        progress(summary.scanned, summary.rejected)
    summary.ignored_fields = dict(ignored.most_common())
    return stats


def _second_pass(
    store: Store,
    assessor: Assessor,
    stats: dict[int, Any],
    outputs: _Outputs,
    summary: ScanSummary,
    scanned_at: datetime,
    store_all: bool = False,
    stored: Stored | None = None,
) -> None:
    verdicts: Counter[str] = Counter()
    brands: Counter[str] = Counter()
    stamp = scanned_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    flagged: list[tuple[dict[str, Any], dict[str, Any]]] = []
    cleared: list[tuple[dict[str, Any], dict[str, Any]]] = []
    clusters = _Clusters()
    with open(outputs.spill_path, "rb", buffering=WRITE_BUFFER) as spill:
        for line in spill:
            spilled = orjson.loads(line)
            assessment = assessor.second_pass(spilled, stats)
            assessment["scanned_at"] = stamp
            outputs.write("assessments.jsonl", assessment)
            clusters.add(spilled["listing"], assessment)
            verdicts[assessment["verdict"]] += 1
            is_flagged = assessment["verdict"] != "clear"
            if is_flagged and assessment["brand"]:
                brands[assessment["brand"]] += 1
            if is_flagged or store_all:
                flagged.append((stored_listing(spilled["listing"]), assessment))
            else:
                cleared.append((spilled["listing"], assessment))
            if len(flagged) + len(cleared) >= STORE_BATCH:
                summary.stored += _store_batch(store, summary.scan_id, scanned_at, flagged, cleared)
                flagged, cleared = [], []
                if stored is not None:
                    stored(summary.stored)
    summary.stored += _store_batch(store, summary.scan_id, scanned_at, flagged, cleared)
    if stored is not None:
        stored(summary.stored)
    if clusters.records:
        with store.session() as session:
            clusters_repo.save_clusters(session, summary.scan_id, clusters.finish())
    summary.clusters = len(clusters.records)
    summary.by_verdict = {v: verdicts.get(v, 0) for v in _VERDICT_ORDER}
    summary.top_brands = brands.most_common(10)


class _Clusters:
    """The copy-paste clusters of a scan, gathered from its assessments' signals, to be stored
    for the seller-network work (every member, whatever its verdict)."""

    SAMPLE_CHARS = 2000

    def __init__(self) -> None:
        self.records: dict[str, clusters_repo.ClusterRecord] = {}
        self.members: dict[str, list[tuple[str, str, str | None]]] = {}

    def add(self, listing: dict[str, Any], assessment: dict[str, Any]) -> None:
        for signal in assessment["signals"]:
            if signal["kind"] != "copy_paste_cluster":
                continue
            details = signal.get("details", {})
            key = details["cluster"]
            if key not in self.records:
                self.records[key] = clusters_repo.ClusterRecord(
                    key=key,
                    listings=int(details["listings"]),
                    sellers=int(details["sellers"]),
                    similarity=float(details["similarity"]),
                    sample=(listing.get("description") or "")[: self.SAMPLE_CHARS],
                )
            seller = listing.get("seller") or {}
            self.members.setdefault(key, []).append(
                (listing["platform"], listing["listing_id"], seller.get("id"))
            )

    def finish(self) -> list[clusters_repo.ClusterRecord]:
        return [replace(record, members=self.members[key]) for key, record in self.records.items()]


_VERDICT_ORDER = ("counterfeit_suspected", "infringement_suspected", "needs_review", "clear")


def _store_batch(
    store: Store,
    scan_id: str,
    scanned_at: datetime,
    flagged: list[tuple[dict[str, Any], dict[str, Any]]],
    cleared: list[tuple[dict[str, Any], dict[str, Any]]],
) -> int:
    """Store flagged listings, and refresh stored ones that this scan now finds clear."""
    if not flagged and not cleared:
        return 0
    with store.session() as session:
        keys = [(lst["platform"], lst["listing_id"]) for lst, _ in cleared]
        known = listings_repo.existing_keys(session, keys)
        refresh = [
            (stored_listing(listing), assessment)
            for listing, assessment in cleared
            if (listing["platform"], listing["listing_id"]) in known
        ]
        listings_repo.save_assessments(
            session, scan_id=scan_id, scanned_at=scanned_at, items=flagged + refresh
        )
    return len(flagged)
