"""Works of kind text over the API: listed, registered (owner and title), deleted, and their
files uploaded as their own bytes (checked as a scan reads them, kept under the home's assets)
and removed by the SHA-256 of their content. Another member's works answer 404, as missing
ones do."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vigil.domain.people import Actor, Role
from vigil.services import registry_edit as edit
from vigil.services import registry_works as service
from vigil.web.access import ActorDep
from vigil.web.api.registry import Cursor, Limit, service_errors
from vigil.web.deps import StoreDep, WorkPlacesDep
from vigil.web.errors import BadRequestError, UnsupportedMediaTypeError
from vigil.web.security import require

router = APIRouter()

Reader = Annotated[Actor, require(Role.VIEWER)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
# Bodies the upload takes: the file's own bytes.
TEXT_TYPES = (
    "text/plain",
    "text/markdown",
    "text/x-markdown",
    "text/html",
    "application/xhtml+xml",
    "application/octet-stream",
)


def _visible_work(work_id: int, actor: ActorDep, store: StoreDep) -> int:
    """The work's id when the actor may see it; checked before the body, so that another
    member's work is 404 whatever the request holds."""
    with service_errors():
        service.get_work(store, actor, work_id, files=False)
    return work_id


VisibleWork = Annotated[int, Depends(_visible_work)]


class WorkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=service.MAX_TITLE)
    owner: str | None = Field(
        default=None,
        max_length=100,
        description="The owning member. Members register works for themselves: leave it out. "
        "The operator may name any member (itself when left out).",
    )


class WorkFileOut(BaseModel):
    file: str = Field(description="As the work lists it: the path on the server, or an address.")
    name: str
    sha256: str | None = Field(description="Of the file's bytes; names it for removal.")
    size: int | None
    encoding: str | None = Field(description="The text's encoding as detected, e.g. utf-8.")
    kind: str | None = Field(description="How it is read: text, markdown or html.")
    chars: int | None = Field(description="Characters of extracted text.")
    preview: str | None = Field(description="The start of the extracted text.")
    error: str | None = Field(description="Why a scan cannot read it.")


class WorkOut(BaseModel):
    id: int
    owner: str
    title: str
    kind: str = "text"
    files: list[str]
    updated_at: datetime


class WorkDetailOut(WorkOut):
    file_details: list[WorkFileOut] = Field(description="How each file reads, in `files` order.")


class WorkPage(BaseModel):
    items: list[WorkOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class WorkFileUploadOut(BaseModel):
    file: WorkFileOut
    added: bool = Field(description="False when the work listed this file already.")
    work: WorkOut


def work_out(record: service.WorkRecord) -> WorkOut:
    return WorkOut(
        id=record.id,
        owner=record.owner,
        title=record.title,
        files=record.files,
        updated_at=record.updated_at,
    )


def _file_out(shown: service.WorkFile) -> WorkFileOut:
    return WorkFileOut.model_validate(shown, from_attributes=True)


def detail_out(record: service.WorkRecord) -> WorkDetailOut:
    return WorkDetailOut(
        **work_out(record).model_dump(), file_details=[_file_out(f) for f in record.shown]
    )


FILE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes (plain text, Markdown or HTML in any common "
        "encoding), sent as they are; `name` says which format.",
        "content": {
            "text/plain": {"schema": {"type": "string", "format": "binary"}},
            "text/markdown": {"schema": {"type": "string", "format": "binary"}},
            "text/html": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
FILE_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Empty, binary, a PDF or image, an encoding that cannot be told, or "
        "larger than a work's file may be (the detail says which)."
    },
    413: {"description": "Larger than the upload limit."},
    415: {"description": "Not sent as text (Content-Type text/plain, text/markdown, ...)."},
}


@router.get("/works", response_model=WorkPage)
def list_works(
    actor: Reader, store: StoreDep, limit: Limit = 50, cursor: Cursor = None
) -> WorkPage:
    """Your works of kind text (all of them for the operator), by title."""
    page = service.list_works(store, actor, limit=limit, cursor=cursor)
    return WorkPage(items=[work_out(w) for w in page.items], next_cursor=page.next_cursor)


@router.post("/works", response_model=WorkOut, status_code=201)
def create_work(body: WorkIn, actor: Writer, store: StoreDep) -> WorkOut:
    """Register a work of kind text; upload its files next. 409 when the owner has a work
    with this title already."""
    with service_errors():
        record = service.create_work(store, actor=actor, title=body.title, owner=body.owner)
    return work_out(record)


@router.get("/works/{work_id}", response_model=WorkDetailOut)
def get_work(
    actor: Reader, work_id: VisibleWork, store: StoreDep, places: WorkPlacesDep
) -> WorkDetailOut:
    """A work with how each of its files reads: encoding, format, a preview, or the reason a
    scan cannot read it."""
    with service_errors():
        record = service.get_work(store, actor, work_id, max_bytes=places.max_bytes)
    return detail_out(record)


@router.delete("/works/{work_id}", status_code=204)
def delete_work(actor: Writer, work_id: VisibleWork, store: StoreDep) -> Response:
    """Remove a work from the registry."""
    with service_errors():
        service.delete_work(store, work_id, actor=actor)
    return Response(status_code=204)


@router.post(
    "/works/{work_id}/files",
    response_model=WorkFileUploadOut,
    status_code=201,
    openapi_extra=FILE_BODY,
    responses=FILE_ANSWERS,
)
async def add_work_file(
    request: Request,
    actor: Writer,
    work_id: VisibleWork,
    store: StoreDep,
    places: WorkPlacesDep,
    name: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="The file's name; its suffix (.txt, .md or .html) says how to read it.",
        ),
    ],
) -> WorkFileUploadOut:
    """Upload a file of the work. It is read as a scan reads it (encoding detected, markup
    removed), kept under the home's assets and added to the work's files."""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type not in TEXT_TYPES:
        raise UnsupportedMediaTypeError(
            "a work's file is sent as its own bytes with Content-Type text/plain, "
            f"text/markdown or text/html, not {content_type or 'a body without Content-Type'}"
        )
    with service_errors():
        edit.check_writer(actor)
    data = await request.body()
    try:
        stored = await run_in_threadpool(service.store_work_file, data, name, places=places)
    except service.UnusableWorkFile as error:
        raise BadRequestError(f"the file was not stored: {error.reason}") from None
    with service_errors():
        record, added = await run_in_threadpool(
            lambda: service.add_work_file(store, work_id, actor=actor, stored=stored)
        )
    shown = service.WorkFile(
        file=str(stored.path),
        name=stored.name,
        address=None,
        sha256=stored.sha256,
        size=stored.size,
        encoding=stored.encoding,
        kind=stored.kind,
        chars=stored.chars,
        preview=stored.preview,
    )
    return WorkFileUploadOut(file=_file_out(shown), added=added, work=work_out(record))


@router.delete("/works/{work_id}/files/{sha256}", response_model=WorkOut)
def remove_work_file(actor: Writer, work_id: VisibleWork, sha256: str, store: StoreDep) -> WorkOut:
    """Stop listing a file among the work's files, named by the SHA-256 of its content (the
    `sha256` of the work's `file_details`)."""
    with service_errors():
        record = service.remove_work_file(store, work_id, actor=actor, sha256=sha256)
    return work_out(record)
