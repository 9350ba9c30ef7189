"""Scans pages: the member's recent scans, uploading a file of listings, starting a scan, and a
scan's progress and results. The progress refreshes itself with a small script of our own and
with a plain page refresh when JavaScript is off."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from vigil.domain.people import Actor, Role
from vigil.services.scan_runs import (
    VERDICT_ORDER,
    NothingToScan,
    get_run,
    list_runs,
    run_results,
    waiting,
)
from vigil.services.tenancy import visible_listings
from vigil.services.uploads import (
    MAX_LINES,
    EmptyUpload,
    UploadResult,
    UploadTooLarge,
    ingest_batch,
)
from vigil.store.db import Store
from vigil.store.tables import ListingRow
from vigil.web.deps import StoreDep
from vigil.web.errors import NotFoundError
from vigil.web.security import require
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Actor, require(Role.VIEWER)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
RECENT = 30
RESULTS_PAGE = 50
# Per-line problems shown on the page; the rest are counted (the API returns them all).
SHOWN_PROBLEMS = 200
LISTING_FILES = (".jsonl", ".ndjson", ".json", ".txt")


def _can_write(actor: Actor) -> bool:
    return actor.role.includes(Role.ANALYST) and actor.can_write


def _visible_listings(store: Store, actor: Actor) -> int:
    """How many listings a scan of scope "all" would assess for the actor."""
    with store.session() as session:
        count = session.scalar(
            select(func.count()).select_from(ListingRow).where(visible_listings(actor))
        )
        return count or 0


def _scans_page(
    request: Request,
    store: Store,
    actor: Actor,
    *,
    upload: UploadResult | None = None,
    error: str | None = None,
    filename: str | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "runs": list_runs(store, actor, limit=RECENT),
        "waiting": waiting(store, actor),
        "visible": _visible_listings(store, actor),
        "can_write": _can_write(actor),
        "upload": upload,
        "problems": upload.rejected[:SHOWN_PROBLEMS] if upload else [],
        "error": error,
        "filename": filename,
        "max_lines": MAX_LINES,
        "verdict_order": VERDICT_ORDER,
    }
    return render(request, "scans/scans.html", context, status_code=status_code)


@router.get("/scans", name="scans")
def scans(request: Request, actor: Reader, store: StoreDep) -> Response:
    return _scans_page(request, store, actor)


@router.post("/scans/upload", name="scans_upload")
async def upload(
    request: Request,
    actor: Writer,
    store: StoreDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """A file of JSON Lines, stored through the same service as the API's uploads."""
    if file is None or not file.filename:
        return _scans_page(request, store, actor, error="no_file", status_code=400)
    name = PurePath(file.filename).name
    suffix = PurePath(name).suffix.lower()
    if suffix and suffix not in LISTING_FILES:
        return _scans_page(request, store, actor, error="not_jsonl", filename=name, status_code=415)
    content = await file.read()
    try:
        result = await run_in_threadpool(ingest_batch, store, actor, content)
    except UploadTooLarge:
        return _scans_page(request, store, actor, error="too_many", filename=name, status_code=413)
    except EmptyUpload:
        return _scans_page(request, store, actor, error="empty", filename=name, status_code=400)
    status = 400 if result.accepted == 0 else 200
    return _scans_page(request, store, actor, upload=result, filename=name, status_code=status)


@router.post("/scans/start", name="scans_start")
def start(
    request: Request,
    actor: Writer,
    store: StoreDep,
    scope: Annotated[str, Form(max_length=20)] = "pending",
) -> Response:
    runner = request.app.state.scan_runner
    if runner is None:
        return _scans_page(request, store, actor, error="unavailable", status_code=503)
    if scope not in ("pending", "all"):
        return _scans_page(request, store, actor, error="bad_scope", status_code=400)
    try:
        run = runner.start(actor, scope=scope)
    except NothingToScan:
        return _scans_page(request, store, actor, error="nothing_to_scan", status_code=409)
    return RedirectResponse(f"/scans/{run.id}", status_code=303)


@router.get("/scans/{scan_id}", name="scan")
def scan(
    request: Request,
    scan_id: str,
    actor: Reader,
    store: StoreDep,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    run = get_run(store, actor, scan_id)
    if run is None:
        raise NotFoundError("there is no such scan")
    page = run_results(store, actor, scan_id, cursor=cursor, limit=RESULTS_PAGE, order="risk")
    assert page is not None  # the scan is visible, so are its results
    context = {
        "run": run,
        "results": page.items,
        "next_cursor": page.next_cursor,
        "paged": bool(cursor),
    }
    return render(request, "scans/scan.html", context)
