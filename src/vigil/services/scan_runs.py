"""Scan runs started through the web: a member's listings assessed in the background.

A run is a `ScanRow` that belongs to the member who started it, with the number of listings to
assess (`total`) and how many are assessed so far (`done`); its status goes queued → running →
finished or failed. The run exports the listings from the store to a JSON Lines file under the
home and hands it to the very scan the command line runs (same detectors, same scoring), which
stores every assessment, clear ones included, one transaction per batch.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.services.cases.config import load_case_config
from vigil.services.scan import ScanSummary, scan
from vigil.services.tenancy import visible_listings, visible_scans
from vigil.settings import Settings, load_scan_config
from vigil.store.db import Store, audit
from vigil.store.listings_repo import LISTING_COLUMNS
from vigil.store.tables import ListingRow, ScanRow, SignalRow

log = logging.getLogger("vigil.scan_runs")

SCOPES = ("pending", "all")
QUEUED, RUNNING, FINISHED, FAILED = "queued", "running", "finished", "failed"
ACTIVE = (QUEUED, RUNNING)
VERDICT_ORDER = ("counterfeit_suspected", "infringement_suspected", "needs_review", "clear")
EXPORT_CHUNK = 2_000
MAX_PAGE = 500
FINISH_DETAILS = ("scope", "scanned", "rejected", "stored", "by_verdict")


class ScanRunError(VigilError):
    """A scan run cannot be started, or a request about one is malformed."""


class NothingToScan(ScanRunError):
    """No listing in the asked scope waits for a scan."""


class ScanInterrupted(Exception):
    """The server is stopping; the run ends at the next batch boundary."""


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive times; the store writes UTC.
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ScanRun:
    """What a member sees of a scan: its state, progress and summary."""

    id: str
    status: str
    member_id: str | None
    started_at: datetime
    finished_at: datetime | None
    total: int | None
    done: int
    summary: dict[str, Any]

    @classmethod
    def of(cls, row: ScanRow) -> ScanRun:
        started = _utc(row.started_at)
        assert started is not None
        return cls(
            id=row.id,
            status=_status(row.status),
            member_id=row.member_id,
            started_at=started,
            finished_at=_utc(row.finished_at),
            total=row.total,
            done=row.done or 0,
            summary=dict(row.summary or {}),
        )

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def percent(self) -> int:
        """How far the run is, 0-100 (100 once it ended, whatever the counts)."""
        if not self.active:
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.done / self.total))

    @property
    def scope(self) -> str | None:
        scope = self.summary.get("scope")
        return scope if isinstance(scope, str) else None

    @property
    def by_verdict(self) -> dict[str, int]:
        counts = self.summary.get("by_verdict")
        if not isinstance(counts, dict):
            return {}
        return {v: int(counts.get(v, 0)) for v in VERDICT_ORDER}

    @property
    def error(self) -> str | None:
        error = self.summary.get("error")
        return error if isinstance(error, str) else None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "member_id": self.member_id,
            "scope": self.scope,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "total": self.total,
            "done": self.done,
            "percent": self.percent,
            "by_verdict": self.by_verdict,
            "error": self.error,
            "summary": self.summary,
        }


def _status(stored: str) -> str:
    # Command-line scans record success as "done"; runs say "finished". One word for pages.
    return FINISHED if stored == "done" else stored


def get_run(store: Store, actor: Actor, scan_id: str) -> ScanRun | None:
    """The scan, or None when it does not exist or is not the actor's to see."""
    with store.session() as session:
        row = session.scalar(select(ScanRow).where(ScanRow.id == scan_id, visible_scans(actor)))
        return ScanRun.of(row) if row is not None else None


def list_runs(store: Store, actor: Actor, *, limit: int = 50) -> list[ScanRun]:
    """The actor's member's scans, newest first (every scan, for the operator)."""
    with store.session() as session:
        rows = session.scalars(
            select(ScanRow)
            .where(visible_scans(actor))
            .order_by(ScanRow.started_at.desc(), ScanRow.id)
            .limit(limit)
        )
        return [ScanRun.of(row) for row in rows]


def waiting(store: Store, actor: Actor) -> int:
    """How many listings the actor's member can see are waiting for a scan."""
    with store.session() as session:
        count = session.scalar(
            select(func.count()).select_from(ListingRow).where(_to_scan(actor, "pending"))
        )
        return count or 0


@dataclass(frozen=True, slots=True)
class ResultsPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


RESULT_ORDERS = ("listing", "risk")


def run_results(
    store: Store,
    actor: Actor,
    scan_id: str,
    *,
    cursor: str | None = None,
    limit: int = 100,
    order: str = "listing",
) -> ResultsPage | None:
    """One page of the assessments this scan made that the actor may see; None when the scan
    is not the actor's to see. A listing scanned again later belongs to its latest scan.

    `order` is "listing" (the order listings were stored) or "risk" (highest risk first, ties
    in listing order); a cursor only continues the order that gave it out."""
    if not 1 <= limit <= MAX_PAGE:
        raise ScanRunError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    if order not in RESULT_ORDERS:
        raise ScanRunError(f"order must be 'listing' or 'risk', got {order[:40]!r}")
    with store.session() as session:
        visible = select(ScanRow.id).where(ScanRow.id == scan_id, visible_scans(actor))
        if session.scalar(visible) is None:
            return None
        query = select(ListingRow).where(ListingRow.scan_id == scan_id, visible_listings(actor))
        if order == "risk":
            query = query.order_by(ListingRow.risk.desc(), ListingRow.id)
            after_risk = _decode_risk_cursor(cursor)
            if after_risk is not None:
                risk, pk = after_risk
                query = query.where(
                    or_(
                        ListingRow.risk < risk,
                        and_(ListingRow.risk == risk, ListingRow.id > pk),
                    )
                )
        else:
            query = query.where(ListingRow.id > _decode_cursor(cursor)).order_by(ListingRow.id)
        rows = session.scalars(query.limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        signals = _signals(session, [row.id for row in rows])
    items = [_result(row, signals.get(row.id, [])) for row in rows]
    if not more:
        return ResultsPage(items, None)
    last = rows[-1]
    return ResultsPage(items, f"{last.risk!r}_{last.id}" if order == "risk" else str(last.id))


def _bad_cursor(cursor: str) -> ScanRunError:
    return ScanRunError(
        f"cursor {cursor[:40]!r} is not one this API gave out; pass the next_cursor of the "
        "previous page, or none for the first page"
    )


def _decode_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise _bad_cursor(cursor)
    return int(cursor)


def _decode_risk_cursor(cursor: str | None) -> tuple[float, int] | None:
    """A risk-order cursor, `<risk>_<listing pk>` of the page's last result; None to start."""
    if cursor is None or cursor == "":
        return None
    risk_text, _, pk_text = cursor.partition("_")
    try:
        risk = float(risk_text)
    except ValueError:
        raise _bad_cursor(cursor) from None
    if not math.isfinite(risk) or not pk_text.isdigit() or len(pk_text) > 18:
        raise _bad_cursor(cursor)
    return risk, int(pk_text)


def _signals(session: Session, pks: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if not pks:
        return found
    rows = session.scalars(
        select(SignalRow).where(SignalRow.listing_pk.in_(pks)).order_by(SignalRow.id)
    )
    for signal in rows:
        found.setdefault(signal.listing_pk, []).append(
            {
                "detector": signal.detector,
                "kind": signal.kind,
                "asset": signal.asset,
                "weight": signal.weight,
                "evidence": signal.evidence,
                "explanation": signal.explanation,
            }
        )
    return found


def _result(row: ListingRow, signals: list[dict[str, Any]]) -> dict[str, Any]:
    scanned = _utc(row.scanned_at)
    return {
        "listing_pk": row.id,
        "platform": row.platform,
        "listing_id": row.listing_id,
        "title": row.title,
        "url": row.url,
        "price": row.price,
        "currency": row.currency,
        "seller_id": row.seller_id,
        "region": row.region,
        "verdict": row.verdict,
        "risk": row.risk,
        "brand": row.brand,
        "product": row.product,
        "scanned_at": scanned.isoformat() if scanned else None,
        "signals": signals,
    }


def _to_scan(actor: Actor, scope: str) -> ColumnElement[bool]:
    condition = visible_listings(actor)
    if scope == "pending":
        condition = condition & (ListingRow.verdict == "pending")
    return condition


def _export(store: Store, actor: Actor, scope: str, path: Path) -> int:
    """Write the listings a run assesses to `path` as JSON Lines (the listing contract), a
    chunk at a time so that memory stays flat; returns how many."""
    columns = [ListingRow.id, ListingRow.platform, ListingRow.listing_id, ListingRow.seller]
    columns += [getattr(ListingRow, c) for c in LISTING_COLUMNS]
    count, after = 0, 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        while True:
            with store.session() as session:
                rows = session.execute(
                    select(*columns)
                    .where(_to_scan(actor, scope), ListingRow.id > after)
                    .order_by(ListingRow.id)
                    .limit(EXPORT_CHUNK)
                ).all()
            if not rows:
                return count
            for row in rows:
                record = {k: v for k, v in row._asdict().items() if v not in (None, [])}
                del record["id"]
                out.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
            count += len(rows)
            after = rows[-1].id


class ScanRunner:
    """Runs scans one after another in a background thread of the server process.

    The app creates one (`app.state.scan_runner = ScanRunner(store, settings)`) and calls
    `shutdown()` when it stops: a running scan then ends at its next batch and is marked
    failed, with what it stored so far kept; queued ones are marked failed too."""

    def __init__(
        self, store: Store, settings: Settings, *, workers: int = 1, local_images: bool = False
    ) -> None:
        self.store = store
        self.settings = settings
        self.workers = workers
        # Uploaded listings name their photos by URL; reading paths on this machine is for
        # feeds the operator vouches for (the demo's), never for members' uploads.
        self.local_images = local_images
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigil-scan")
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._futures: dict[str, Future[None]] = {}
        self._queued: set[str] = set()

    def start(self, actor: Actor, *, scope: str = "pending") -> ScanRun:
        """Queue a scan of the listings the actor's member can see (`pending`: those not yet
        scanned; `all`: every one) and return it at once."""
        if scope not in SCOPES:
            raise ScanRunError(f"scope must be 'pending' or 'all', got {scope[:40]!r}")
        if self._stopping.is_set():
            raise ScanRunError("the server is shutting down; start the scan again in a minute")
        scan_id = uuid.uuid4().hex
        with self.store.session() as session:
            total = session.scalar(
                select(func.count()).select_from(ListingRow).where(_to_scan(actor, scope))
            )
            if not total:
                raise NothingToScan(
                    "there is nothing to scan: no listing is waiting for a scan; upload "
                    "listings first, or scan them all again with scope 'all'"
                    if scope == "pending"
                    else "there is nothing to scan: upload listings first"
                )
            row = ScanRow(
                id=scan_id, started_at=datetime.now(UTC), status=QUEUED,
                inputs=[f"listings:{scope}"], summary={"scope": scope},
                member_id=actor.member_id, total=total, done=0,
            )  # fmt: skip
            session.add(row)
            audit(
                session,
                action="scan.start",
                subject=scan_id,
                details={"scope": scope, "total": total},
                actor=actor,
            )
            session.flush()
            run = ScanRun.of(row)
        with self._lock:
            self._queued.add(scan_id)
            self._futures[scan_id] = self._executor.submit(self._run, scan_id, actor, scope)
        return run

    def wait(self, scan_id: str, timeout: float | None = None) -> None:
        """Block until the run ends (for tests and the command line)."""
        future = self._futures.get(scan_id)
        if future is not None:
            future.result(timeout=timeout)

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop taking scans, interrupt the running one, and mark what never ran as failed."""
        self._stopping.set()
        self._executor.shutdown(wait=wait, cancel_futures=True)
        with self._lock:
            never_ran = list(self._queued)
            self._queued.clear()
        for scan_id in never_ran:
            self._fail(scan_id, "the server stopped before this scan began; start it again")

    def _run(self, scan_id: str, actor: Actor, scope: str) -> None:
        with self._lock:
            self._queued.discard(scan_id)
        folder = self.settings.home / "scans" / scan_id
        export = folder / "listings.jsonl"
        try:
            self._check_stopping()
            self._update(scan_id, status=RUNNING, started_at=datetime.now(UTC))
            total = _export(self.store, actor, scope, export)
            self._update(scan_id, total=total)
            summary: dict[str, Any] = {"scanned": 0, "rejected": 0, "stored": 0}
            if total:
                summary = self._scan(scan_id, scope, export, folder).as_json()
            summary = {**summary, "scope": scope}
            with self.store.session() as session:
                self._set(
                    session, scan_id, status=FINISHED, finished_at=datetime.now(UTC), done=total,
                    summary=summary,
                )  # fmt: skip
                audit(
                    session,
                    action="scan.finish",
                    subject=scan_id,
                    details={k: summary.get(k) for k in FINISH_DETAILS},
                    actor=actor,
                )
        except ScanInterrupted:
            self._fail(
                scan_id,
                "the server stopped while this scan ran; the listings stored so far keep their "
                "new assessment and the others are still pending: start the scan again",
                scope,
            )
        except Exception as error:  # the run must end marked failed, whatever went wrong
            log.exception("scan %s failed", scan_id)
            reason = str(error) if isinstance(error, VigilError) else repr(error)
            self._fail(scan_id, reason, scope)
        finally:
            export.unlink(missing_ok=True)

    def _scan(self, scan_id: str, scope: str, export: Path, folder: Path) -> ScanSummary:
        def progress(read: int, rejected: int) -> None:
            self._check_stopping()
            self._update(scan_id, done=read + rejected)

        def stored(count: int) -> None:
            self._check_stopping()
            self._update(scan_id, summary={"scope": scope, "phase": "storing", "stored": count})

        return scan(
            self.store,
            [str(export)],
            folder,
            config=load_scan_config(self.settings.home),
            workers=self.workers,
            fmt="jsonl",
            progress=progress,
            scan_id=scan_id,
            store_all=True,
            stored=stored,
            local_images=self.local_images,
            case_config=load_case_config(self.settings.home),
        )

    def _check_stopping(self) -> None:
        if self._stopping.is_set():
            raise ScanInterrupted

    def _fail(self, scan_id: str, reason: str, scope: str | None = None) -> None:
        summary = {"error": reason, **({"scope": scope} if scope else {})}
        try:
            with self.store.session() as session:
                row = session.get(ScanRow, scan_id)
                if row is None:
                    return
                merged = {**(row.summary or {}), **summary}
                self._set(
                    session, scan_id, status=FAILED, finished_at=datetime.now(UTC), summary=merged
                )
        except Exception:  # the store itself is failing; the log is all that is left
            log.exception("cannot mark scan %s failed", scan_id)

    def _update(self, scan_id: str, **values: Any) -> None:
        with self.store.session() as session:
            self._set(session, scan_id, **values)

    @staticmethod
    def _set(session: Session, scan_id: str, **values: Any) -> None:
        session.execute(update(ScanRow).where(ScanRow.id == scan_id).values(**values))
