"""Listing uploads over the API: a batch of JSON Lines, stored as listings waiting for a scan.

The batch is checked line by line with the command line's rules; bad lines come back with
their line number and reason while the rest is stored. Uploading the same batch again changes
nothing (listings are keyed by platform and listing_id).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vigil.domain.people import Actor, Role
from vigil.services.uploads import (
    MAX_LINES,
    EmptyUpload,
    UploadResult,
    UploadTooLarge,
    ingest_batch,
)
from vigil.store.db import Store
from vigil.web.deps import StoreDep
from vigil.web.errors import BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError
from vigil.web.security import require

router = APIRouter()

Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
ACCEPTED_TYPES = ("application/x-ndjson", "application/jsonl")


class LineRejection(BaseModel):
    line: int = Field(description="The line's number in the body, counting from 1.")
    reason: str = Field(description="What is wrong with it, and what to do.")


class UploadOut(BaseModel):
    accepted: int = Field(description="Valid lines, stored.")
    added: int = Field(description="Listings new to your member.")
    updated: int = Field(description="Listings you had that changed; they wait for a scan again.")
    unchanged: int = Field(description="Listings you had, sent again as they were.")
    rejected: list[LineRejection]
    ignored_fields: dict[str, int] = Field(
        description="Fields the listing contract does not know, with how many lines had them; "
        "they are ignored, as `vigil scan` does."
    )
    warnings: list[str]


def upload_out(result: UploadResult) -> UploadOut:
    return UploadOut.model_validate(result.as_json())


def _check_media_type(content_type: str | None) -> None:
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in ACCEPTED_TYPES:
        raise UnsupportedMediaTypeError(
            f"listings are sent as JSON Lines with Content-Type {' or '.join(ACCEPTED_TYPES)}, "
            f"not {media or 'a body without Content-Type'}; one listing object per line"
        )


async def ingest(store: Store, actor: Actor, body: bytes) -> UploadResult:
    """Store a batch, with the service's refusals as the web's answers (413, 400)."""
    try:
        return await run_in_threadpool(ingest_batch, store, actor, body)
    except UploadTooLarge as error:
        raise PayloadTooLargeError(str(error)) from None
    except EmptyUpload as error:
        raise BadRequestError(str(error)) from None


@router.post(
    "/listings",
    response_model=UploadOut,
    responses={
        400: {"description": "Empty, or not one line is a valid listing (the body says why)."},
        413: {"description": f"More than {MAX_LINES:,} lines, or a body above the size limit."},
        415: {"description": "Not sent as JSON Lines."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": f"Up to {MAX_LINES:,} listings, one JSON object per line "
            "(the listing contract of docs/formats.md).",
            "content": {media: {"schema": {"type": "string"}} for media in ACCEPTED_TYPES},
        }
    },
)
async def upload_listings(request: Request, actor: Writer, store: StoreDep) -> JSONResponse:
    """Upload a batch of listings. They are stored with the verdict `pending` until a scan
    assesses them; bad lines are returned with their line number and reason while the others
    are stored. Idempotent on (platform, listing_id)."""
    _check_media_type(request.headers.get("content-type"))
    result = await ingest(store, actor, await request.body())
    out = upload_out(result).model_dump(mode="json")
    if result.accepted == 0:
        first = result.rejected[0]
        detail = (
            f"no line is a valid listing ({len(result.rejected):,} rejected; line {first.line}: "
            f"{first.reason}); fix the lines listed in 'rejected' and send the batch again"
        )
        return JSONResponse({"detail": detail, **out}, status_code=400)
    return JSONResponse(out)
