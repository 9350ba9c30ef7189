"""Scan runs over the API: start a scan of your listings, follow its progress, read its results.

A member sees the scans it started (the operator sees all); another member's scan answers 404,
as a missing one does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vigil.domain.people import Actor, Role
from vigil.services.scan_runs import (
    MAX_PAGE,
    NothingToScan,
    ScanRun,
    ScanRunner,
    get_run,
    list_runs,
    run_results,
)
from vigil.store.db import Store
from vigil.web.deps import StoreDep
from vigil.web.errors import ConflictError, NotFoundError, WebError
from vigil.web.security import require

router = APIRouter()

Reader = Annotated[Actor, require(Role.VIEWER)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
MAX_LIST = 200


class ScansUnavailable(WebError):
    status_code = 503


class ScanStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Literal["pending", "all"] = Field(
        default="pending",
        description="`pending`: the listings not scanned since they were uploaded or changed; "
        "`all`: every listing your member can see.",
    )


class ScanOut(BaseModel):
    id: str
    status: Literal["queued", "running", "finished", "failed"]
    member_id: str | None
    scope: str | None
    started_at: datetime
    finished_at: datetime | None
    total: int | None = Field(description="Listings to assess.")
    done: int = Field(description="Listings assessed so far.")
    percent: int
    by_verdict: dict[str, int] = Field(description="Counts by verdict, once finished.")
    error: str | None = Field(description="Why a failed scan failed.")
    summary: dict[str, Any]


class ScanList(BaseModel):
    items: list[ScanOut]


class SignalOut(BaseModel):
    detector: str
    kind: str
    asset: str | None
    weight: float
    evidence: str
    explanation: str


class ResultOut(BaseModel):
    listing_pk: int
    platform: str
    listing_id: str
    title: str
    url: str | None
    price: float | None
    currency: str
    seller_id: str | None
    region: str | None
    verdict: str
    risk: float
    brand: str | None
    product: str | None
    scanned_at: datetime | None
    signals: list[SignalOut]


class ResultPage(BaseModel):
    items: list[ResultOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


def scan_out(run: ScanRun) -> ScanOut:
    return ScanOut.model_validate(run.as_json())


def runner_of(request: Request) -> ScanRunner:
    runner: ScanRunner | None = request.app.state.scan_runner
    if runner is None:
        raise ScansUnavailable("this server does not run scans; ask the operator")
    return runner


def start_scan(request: Request, actor: Actor, scope: str) -> ScanRun:
    """Start a scan through the app's runner; nothing to scan is a conflict with the state."""
    try:
        return runner_of(request).start(actor, scope=scope)
    except NothingToScan as error:
        raise ConflictError(str(error)) from None


@router.post(
    "/scans",
    response_model=ScanOut,
    status_code=202,
    responses={409: {"description": "No listing to scan in this scope."}},
)
async def start(
    request: Request,
    response: Response,
    actor: Writer,
    body: ScanStart | None = None,
) -> ScanOut:
    """Start a scan of your member's listings in the background; follow it at the returned
    scan's address. Every assessed listing gets its verdict, risk, brand and signals."""
    run = await run_in_threadpool(start_scan, request, actor, (body or ScanStart()).scope)
    response.headers["Location"] = f"/api/v1/scans/{run.id}"
    return scan_out(run)


@router.get("/scans", response_model=ScanList)
def list_scans(
    actor: Reader,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST, description="Scans to return.")] = 50,
) -> ScanList:
    """Your member's scans, newest first (every scan, for the operator)."""
    return ScanList(items=[scan_out(run) for run in list_runs(store, actor, limit=limit)])


def _visible(store: Store, actor: Actor, scan_id: str) -> ScanRun:
    run = get_run(store, actor, scan_id)
    if run is None:
        raise NotFoundError(f"there is no scan {scan_id[:40]!r}")
    return run


@router.get("/scans/{scan_id}", response_model=ScanOut)
def get_scan(scan_id: str, actor: Reader, store: StoreDep) -> ScanOut:
    """A scan's status, progress (`done` of `total`) and, once finished, its summary."""
    return scan_out(_visible(store, actor, scan_id))


@router.get("/scans/{scan_id}/results", response_model=ResultPage)
def get_results(
    scan_id: str,
    actor: Reader,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Assessments per page.")] = 100,
    cursor: Annotated[
        str | None, Query(max_length=40, description="The `next_cursor` of the previous page.")
    ] = None,
) -> ResultPage:
    """The assessments this scan made that you may see, in listing order. A listing scanned
    again later is listed under its latest scan."""
    page = run_results(store, actor, scan_id, cursor=cursor, limit=limit)
    if page is None:
        raise NotFoundError(f"there is no scan {scan_id[:40]!r}")
    return ResultPage.model_validate({"items": page.items, "next_cursor": page.next_cursor})
