"""A case's evidence over the API: list it, capture it, attach files, read one item's bytes,
check it where it is stored, and download the case's bundle.

Errors: a case you are not party to is 404, exactly like a missing one (and so is an item the
case does not have); a case you see but may not work on is 403; evidence whose stored bytes no
longer match their digest is 409 (restore them; `vigil evidence verify --case` says more);
anything else the service refuses (an empty file, a case without listings) is 400.
"""

from __future__ import annotations

import tempfile
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from vigil.domain.people import Actor, Role
from vigil.evidence.blobs import EvidenceBytesChanged, EvidenceBytesMissing
from vigil.evidence.entries import ITEM_KINDS
from vigil.evidence.signing import TreeHead
from vigil.evidence.verify import VerifyReport
from vigil.services import evidence as service
from vigil.services.cases import case_for
from vigil.services.evidence_bundle import check_case_evidence, export_case_bundle
from vigil.services.media import MEDIA_TYPES
from vigil.web.api.refusals import case_refusals
from vigil.web.deps import MediaDep, SettingsDep, StoreDep
from vigil.web.security import require

router = APIRouter()

Reader = Annotated[Actor, require(Role.VIEWER)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
SHA256_PATTERN = r"^[0-9a-f]{64}$"
RASTER_TYPES = frozenset(MEDIA_TYPES.values())
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such case, or not one you are party to."}
}


def evidence_errors() -> AbstractContextManager[None]:
    """The evidence service's refusals as the HTTP answers the module docstring lists."""
    return case_refusals(EvidenceBytesChanged, EvidenceBytesMissing)


class EvidenceItemOut(BaseModel):
    id: int
    kind: str = Field(description="listing_snapshot, signals, image or attachment")
    sha256: str = Field(description="SHA-256 of the item's bytes, hex: the item's name")
    media_type: str
    size: int
    name: str | None = Field(description="An attachment's file name, or a photo's reference")
    listing_pk: int | None
    platform: str | None
    listing_id: str | None
    captured_at: datetime
    captured_by: str
    log_index: int | None = Field(description="The item's entry in the transparency log")


class TreeHeadOut(BaseModel):
    size: int
    root: str = Field(description="Merkle root, base64")
    timestamp: str
    signature: str = Field(description="Ed25519 signature, base64")
    key_id: str


class EvidenceListOut(BaseModel):
    items: list[EvidenceItemOut]


class MissingImageOut(BaseModel):
    listing_pk: int
    platform: str
    listing_id: str
    ref: str
    sha256: str | None
    reason: str


class CaptureOut(BaseModel):
    case: str
    added: list[EvidenceItemOut]
    unchanged: int = Field(description="Items the case had already, not made again")
    missing: list[MissingImageOut] = Field(description="Photos whose bytes could not be kept")
    tree_head: TreeHeadOut | None


class AttachOut(BaseModel):
    item: EvidenceItemOut
    added: bool = Field(description="False when the case had these bytes attached already")
    tree_head: TreeHeadOut | None


class FailureOut(BaseModel):
    path: str
    problem: str


class VerificationOut(BaseModel):
    ok: bool
    case: str | None
    items: int
    tree_size: int | None
    root: str | None = Field(description="Of the latest signed tree head, hex")
    key_id: str | None
    failures: list[FailureOut]


def item_out(item: service.EvidenceItem) -> EvidenceItemOut:
    return EvidenceItemOut.model_validate(item, from_attributes=True)


def head_out(head: TreeHead | None) -> TreeHeadOut | None:
    return None if head is None else TreeHeadOut(**head.to_json())


def verification_out(report: VerifyReport) -> VerificationOut:
    return VerificationOut(
        ok=report.ok,
        case=report.case,
        items=report.items,
        tree_size=report.tree_size,
        root=report.root,
        key_id=report.key_id,
        failures=[FailureOut(path=f.path, problem=f.problem) for f in report.failures],
    )


def _case_target(case_id: int, actor: Writer, store: StoreDep) -> tuple[Actor, int]:
    """The case, when the actor may work on it; checked before the body is read, so that
    another member's case is 404 whatever the body holds."""
    with evidence_errors(), store.session() as session:
        case_for(session, actor, case_id, write=True)
    return actor, case_id


CaseTarget = Annotated[tuple[Actor, int], Depends(_case_target)]


def _case_seen(case_id: int, actor: Reader, store: StoreDep) -> Actor:
    """The reader, when the case is one it may see: checked before the query is validated,
    so that another member's case is 404 whatever the query holds."""
    with evidence_errors(), store.session() as session:
        case_for(session, actor, case_id)
    return actor


CaseSeen = Annotated[Actor, Depends(_case_seen)]


class CaptureIn(BaseModel):
    """Nothing to say yet: capture takes every listing of the case. Send `{}` or no body."""

    model_config = ConfigDict(extra="forbid")


@router.get("/cases/{case_id}/evidence", response_model=EvidenceListOut, responses=NOT_FOUND)
def list_evidence(case_id: int, actor: Reader, store: StoreDep) -> EvidenceListOut:
    """The case's evidence items in the order they were logged."""
    with evidence_errors():
        items = service.evidence_items(store, actor, case_id)
    return EvidenceListOut(items=[item_out(item) for item in items])


@router.post("/cases/{case_id}/evidence/capture", response_model=CaptureOut, responses=NOT_FOUND)
def capture_evidence(
    target: CaseTarget,
    store: StoreDep,
    settings: SettingsDep,
    places: MediaDep,
    body: CaptureIn | None = None,
) -> CaptureOut:
    """Capture the case's listings as evidence: a snapshot of each listing as assessed, its
    signals, and its photos whose bytes the scan kept (the others are listed in `missing`
    with the reason). Items the case has already are not made again; each new one is entered
    in the transparency log, whose new tree head is signed."""
    actor, case_id = target
    with evidence_errors():
        result = service.capture(store, settings, actor, case_id, places=places)
    return CaptureOut(
        case=result.case,
        added=[item_out(item) for item in result.added],
        unchanged=result.unchanged,
        missing=[MissingImageOut.model_validate(m, from_attributes=True) for m in result.missing],
        tree_head=head_out(result.tree_head),
    )


@router.post(
    "/cases/{case_id}/evidence/attachments",
    response_model=AttachOut,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The file's own bytes; Content-Type says what it is.",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
    responses={**NOT_FOUND, 413: {"description": "Larger than the upload limit."}},
)
async def attach_evidence(
    request: Request,
    target: CaseTarget,
    store: StoreDep,
    settings: SettingsDep,
    name: Annotated[
        str, Query(min_length=1, max_length=500, description="The file's name, as shown.")
    ],
) -> AttachOut:
    """Attach a file (a test purchase's receipt, a screenshot, a letter) to the case's
    evidence, entered in the transparency log like captured items. The same bytes attached
    again are the same item (`added` false)."""
    actor, case_id = target
    data = await request.body()
    media_type = request.headers.get("content-type")
    with evidence_errors():
        result = await run_in_threadpool(
            lambda: service.attach(
                store, settings, actor, case_id, filename=name, data=data, media_type=media_type
            )
        )
    return AttachOut(
        item=item_out(result.item), added=result.added, tree_head=head_out(result.tree_head)
    )


@router.get(
    "/cases/{case_id}/evidence/content",
    response_class=Response,
    responses={
        **NOT_FOUND,
        200: {"description": "The item's bytes", "content": {"application/octet-stream": {}}},
        409: {"description": "The stored copy no longer matches its digest."},
    },
)
def evidence_content(
    case_id: int,
    actor: CaseSeen,
    store: StoreDep,
    settings: SettingsDep,
    sha256: Annotated[str, Query(pattern=SHA256_PATTERN, description="The item's SHA-256, hex")],
    kind: Annotated[
        str | None,
        Query(description=f"One of {', '.join(ITEM_KINDS)}, when the same bytes are two kinds"),
    ] = None,
) -> Response:
    """One item's bytes, checked against its digest before they are sent. Photos are shown;
    everything else is sent as a file to save, never rendered by the browser."""
    with evidence_errors():
        item, data = service.evidence_content(store, settings, actor, case_id, sha256, kind=kind)
    # Only pictures whose format the bytes were checked against are shown (an attached SVG is
    # a document with scripts, not a picture); everything else is a file to save.
    picture = item.media_type in RASTER_TYPES
    shown = picture or item.media_type == "application/json"
    media_type = item.media_type if shown else "application/octet-stream"
    disposition = "inline" if picture else "attachment"
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{item.sha256[:16]}-{item.kind}"',
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "sandbox",
        },
    )


@router.get(
    "/cases/{case_id}/evidence/verification", response_model=VerificationOut, responses=NOT_FOUND
)
def verify_evidence(
    case_id: int, actor: Reader, store: StoreDep, settings: SettingsDep
) -> VerificationOut:
    """Check the case's stored evidence: every item's bytes against its digest, its entry
    against the log's, its inclusion in the latest signed tree head, and that head's
    signature. Each failure names the stored copy or log row that changed."""
    with evidence_errors():
        report = check_case_evidence(store, settings, actor, case_id, whole_log=False)
    return verification_out(report)


@router.get(
    "/cases/{case_id}/evidence/bundle",
    response_class=FileResponse,
    responses={
        **NOT_FOUND,
        200: {"description": "The bundle (ZIP)", "content": {"application/zip": {}}},
        400: {"description": "No evidence, no signed tree head, or evidence that fails checks."},
    },
)
def evidence_bundle(
    case_id: int, actor: Reader, store: StoreDep, settings: SettingsDep
) -> FileResponse:
    """The case's evidence bundle: one ZIP file holding every item's bytes, log entry and
    inclusion proof, the signed tree head and the log's public key, which
    `vigil evidence verify FILE` checks offline (README.txt inside says how to by hand)."""
    folder = Path(tempfile.mkdtemp(prefix="vigil-bundle-"))
    out = folder / "bundle.zip"
    try:
        with evidence_errors():
            result = export_case_bundle(store, settings, actor, case_id, out=out)
    except BaseException:
        _remove(folder)
        raise
    return FileResponse(
        out,
        media_type="application/zip",
        filename=f"{result.case}-evidence.zip",
        headers={"Cache-Control": "private, no-store"},
        background=BackgroundTask(_remove, folder),
    )


def _remove(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink(missing_ok=True)
    folder.rmdir()
