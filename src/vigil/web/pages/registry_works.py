"""Registry pages for works of kind text: the list with the form that registers one, and a
work's page with its files (how a scan reads each: encoding, format, the start of its text),
the upload form and the remove buttons. A change posts, then redirects to a page that says
what was done; a refused upload comes back on the work's page in the visitor's language, with
the reason beside it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vigil.domain.people import Actor, Role
from vigil.services import registry_edit as edit
from vigil.services import registry_works as service
from vigil.web.api.registry import service_errors
from vigil.web.deps import StoreDep, WorkPlacesDep
from vigil.web.i18n import choose_language, gettext_for
from vigil.web.pages.registry import refusal
from vigil.web.security import require
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Actor, require(Role.VIEWER)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
PAGE_SIZE = 50
DONE = frozenset({"work_created", "work_deleted", "file_added", "file_unchanged", "file_removed"})
Done = Annotated[str | None, Query(max_length=40)]
PageCursor = Annotated[str | None, Query(max_length=1000)]


def _(message: str) -> str:
    """Marks a text for extraction; `_refused` translates it."""
    return message


# What a refused upload says, by the kind of problem (`UnusableWorkFile.problem`).
PROBLEMS = {
    "missing": _("Choose a .txt, .md or .html file to upload."),
    "suffix": _("A work's text is uploaded as a .txt, .md or .html file."),
    "too_large": _("This file is too large for a work: split the work into several files."),
    "empty": _("The file is empty: upload a file with the work's text."),
    "unreadable": _("This file cannot be read as text."),
}


def _can_write(actor: Actor) -> bool:
    return actor.role.includes(Role.ANALYST) and actor.can_write


def _refused(request: Request, problem: str, reason: str = "") -> dict[str, str]:
    gettext = gettext_for(choose_language(request))
    return {"message": gettext(PROBLEMS[problem]), "reason": reason}


def _works_page(
    request: Request,
    store: StoreDep,
    actor: Actor,
    *,
    cursor: str | None = None,
    done: str | None = None,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The list of works; a refused registration comes back with its message (`error`) and
    what was typed (`values`)."""
    with service_errors():
        page = service.list_works(store, actor, limit=PAGE_SIZE, cursor=cursor)
        total = service.count_works(store, actor)
    owners = edit.owner_choices(store, actor) if actor.is_operator else []
    context = {
        "works": page.items,
        "next_cursor": page.next_cursor,
        "total": total,
        "paged": cursor is not None,
        "can_write": _can_write(actor),
        "done": done if done in DONE else None,
        "error": error,
        "values": values or {"title": "", "owner": actor.member_id or ""},
        "owners": owners,
    }
    return render(request, "registry/works.html", context, status_code=status)


@router.get("/registry/works", name="registry_works")
def works(
    request: Request, actor: Reader, store: StoreDep, cursor: PageCursor = None, done: Done = None
) -> Response:
    """The works of kind text the visitor's member owns (all of them for the operator)."""
    return _works_page(request, store, actor, cursor=cursor, done=done)


@router.post("/registry/works", name="registry_work_create")
def create_work(
    request: Request,
    actor: Writer,
    store: StoreDep,
    title: Annotated[str, Form(max_length=2_000)] = "",
    owner: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Register a work of kind text; its page opens to upload the files."""
    try:
        record = service.create_work(store, actor=actor, title=title, owner=owner or None)
    except edit.RegistryEditError as error:
        message, status = refusal(error)
        values = {"title": title, "owner": owner}
        return _works_page(request, store, actor, error=message, values=values, status=status)
    return RedirectResponse(f"/registry/works/{record.id}?done=work_created", status_code=303)


def work_page(
    request: Request,
    store: StoreDep,
    actor: Actor,
    work_id: int,
    places: service.WorkPlaces,
    *,
    done: str | None = None,
    file_error: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with service_errors():
        record = service.get_work(store, actor, work_id, max_bytes=places.max_bytes)
    context = {
        "work": record,
        "can_write": _can_write(actor),
        "done": done if done in DONE else None,
        "file_error": file_error,
        "max_mib": f"{places.max_bytes / 2**20:g}",
    }
    return render(request, "registry/work.html", context, status_code=status)


@router.get("/registry/works/{work_id}", name="registry_work")
def work(
    request: Request,
    work_id: int,
    actor: Reader,
    store: StoreDep,
    places: WorkPlacesDep,
    done: Done = None,
) -> Response:
    """A work with its files: how a scan reads each, and the start of its text."""
    return work_page(request, store, actor, work_id, places, done=done)


@router.post("/registry/works/{work_id}/files", name="registry_work_file_add")
async def add_work_file(
    request: Request,
    work_id: int,
    actor: Writer,
    store: StoreDep,
    places: WorkPlacesDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Upload a file of the work (.txt, .md or .html), checked as a scan reads it."""
    with service_errors():
        await run_in_threadpool(service.get_work, store, actor, work_id, files=False)
    try:
        if file is None or not file.filename:
            raise service.UnusableWorkFile("missing", "")
        data = await file.read()
        stored = await run_in_threadpool(
            service.store_work_file, data, file.filename, places=places
        )
        _, added = await run_in_threadpool(
            lambda: service.add_work_file(store, work_id, actor=actor, stored=stored)
        )
    except service.UnusableWorkFile as error:
        refused = _refused(request, error.problem, error.reason)
        return await run_in_threadpool(
            lambda: work_page(
                request, store, actor, work_id, places, file_error=refused, status=400
            )
        )
    except edit.RegistryEditError as problem:
        message, status = refusal(problem)
        refused = {"message": message, "reason": ""}
        return await run_in_threadpool(
            lambda: work_page(
                request, store, actor, work_id, places, file_error=refused, status=status
            )
        )
    done = "file_added" if added else "file_unchanged"
    return RedirectResponse(f"/registry/works/{work_id}?done={done}", status_code=303)


@router.post("/registry/works/{work_id}/files/remove", name="registry_work_file_remove")
def remove_work_file(
    request: Request,
    work_id: int,
    actor: Writer,
    store: StoreDep,
    places: WorkPlacesDep,
    file: Annotated[str, Form(max_length=4_000)] = "",
) -> Response:
    """Stop listing a file among the work's files."""
    with service_errors():
        service.get_work(store, actor, work_id, files=False)
    try:
        service.remove_work_file(store, work_id, actor=actor, file=file)
    except edit.RegistryEditError as error:
        message, status = refusal(error)
        refused = {"message": message, "reason": ""}
        return work_page(request, store, actor, work_id, places, file_error=refused, status=status)
    return RedirectResponse(f"/registry/works/{work_id}?done=file_removed", status_code=303)


@router.post("/registry/works/{work_id}/delete", name="registry_work_delete")
def delete_work(work_id: int, actor: Writer, store: StoreDep) -> Response:
    """Remove the work from the registry."""
    with service_errors():
        service.delete_work(store, work_id, actor=actor)
    return RedirectResponse("/registry/works?done=work_deleted", status_code=303)
