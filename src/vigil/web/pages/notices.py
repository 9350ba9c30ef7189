"""Notice pages: a case's notice before sending (a preview and the send form), a sent notice
(the letter as the marketplace reads it, its downloads and the answer form), and
time-to-takedown.

The letter is shown in a frame of its HTML rendering from the API, which carries its own
stylesheet; everything else is ordinary page markup, and every form works without JavaScript.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from vigil.domain.cases import NoticeAction, NoticeType
from vigil.domain.people import Actor, Role
from vigil.errors import VigilError
from vigil.notices.config import load_notice_config
from vigil.notices.document import LANGUAGES
from vigil.services import notices as service
from vigil.services.cases import (
    CaseForbidden,
    CaseNotFound,
    CaseTransitionError,
    case_for,
    may_decide,
)
from vigil.services.notices import NoticeConflict
from vigil.web.deps import SettingsDep, StoreDep
from vigil.web.errors import ForbiddenError, NotFoundError
from vigil.web.i18n import choose_language, gettext_for
from vigil.web.security import require
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Actor, require(Role.VIEWER)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
DRAFT = "/api/v1/cases/{case_id}/notices/draft"
SENT = "/api/v1/notices/{notice_id}"


def _status(problem: VigilError) -> int:
    if isinstance(problem, CaseNotFound):
        raise NotFoundError(str(problem)) from None
    if isinstance(problem, CaseForbidden):
        raise ForbiddenError(str(problem)) from None
    return 409 if isinstance(problem, NoticeConflict | CaseTransitionError) else 400


def _choice(value: str | None, allowed: list[str]) -> str | None:
    value = (value or "").strip()
    return value if value in allowed else None


def _seen_case(actor: Actor, store: StoreDep, case_id: int) -> bool:
    """Whether the actor may send the case's notice; another member's case is 404."""
    try:
        with store.session() as session:
            case = case_for(session, actor, case_id)
            return may_decide(session, actor, case)
    except CaseNotFound as problem:
        raise NotFoundError(str(problem)) from None


@router.get("/cases/{case_id}/notices/new", name="notice_new")
def notice_new(
    request: Request, case_id: int, actor: Reader, store: StoreDep, settings: SettingsDep
) -> Response:
    """The notice the case would send, to read before sending it, with the send form."""
    can_send = _seen_case(actor, store, case_id)
    types = [t.value for t in NoticeType]
    chosen_type = _choice(request.query_params.get("type"), types)
    chosen_language = _choice(request.query_params.get("language"), list(LANGUAGES))
    context: dict[str, Any] = {
        "case_id": case_id,
        "types": types,
        "languages": list(LANGUAGES),
        "chosen_type": chosen_type,
        "chosen_language": chosen_language,
        "can_send": can_send,
        "document": None,
        "error": None,
    }
    try:
        document = service.draft_notice(
            store, actor, case_id, type=chosen_type, language=chosen_language, home=settings.home
        )
    except VigilError as problem:
        context["error"] = str(problem)
        return render(request, "notices/new.html", context, status_code=_status(problem))
    query = urlencode({"type": document.type.value, "language": document.language})
    context.update(
        document=document,
        platform_name=load_notice_config(settings.home).platform_name(
            document.recipient.platform, document.language
        ),
        frame=f"{DRAFT.format(case_id=case_id)}?{query}&format=html",
        pdf=f"{DRAFT.format(case_id=case_id)}?{query}&format=pdf",
    )
    return render(request, "notices/new.html", context)


@router.post("/cases/{case_id}/notices", name="notice_send")
def notice_send(
    request: Request,
    case_id: int,
    actor: Writer,
    store: StoreDep,
    settings: SettingsDep,
    type: Annotated[str, Form(max_length=20)] = "",
    language: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Send the notice the preview showed; then its page."""
    _seen_case(actor, store, case_id)
    try:
        sent = service.send_notice(
            store, settings, actor, case_id, type=type or None, language=language or None
        )
    except VigilError as problem:
        status = _status(problem)
        return render(request, "error.html", {"status": status, "message": str(problem)}, status)
    return RedirectResponse(f"/notices/{sent.id}?done=sent", status_code=303)


@router.get("/notices/stats", name="notice_stats")
def notice_stats_page(request: Request, actor: Reader, store: StoreDep) -> Response:
    """Time-to-takedown over the visitor's cases, in all and per platform."""
    stats = service.takedown_stats(store, actor)
    return render(request, "notices/stats.html", {"stats": stats})


def _notice(store: StoreDep, actor: Actor, notice_id: int) -> tuple[Any, Any]:
    try:
        return service.notice_document(store, actor, notice_id)
    except CaseNotFound as problem:
        raise NotFoundError(str(problem)) from None


@router.get("/notices/{notice_id}", name="notice_page")
def notice_page(
    request: Request, notice_id: int, actor: Reader, store: StoreDep, settings: SettingsDep
) -> Response:
    """A sent notice: where it stands, the letter, its downloads, and the answer form."""
    return _notice_response(request, actor, store, settings, notice_id)


def _notice_response(
    request: Request,
    actor: Actor,
    store: StoreDep,
    settings: SettingsDep,
    notice_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    view, document = _notice(store, actor, notice_id)
    base = SENT.format(notice_id=notice_id)
    done = request.query_params.get("done")
    context = {
        "notice": view,
        "document": document,
        "platform_name": load_notice_config(settings.home).platform_name(
            document.recipient.platform, document.language
        ),
        "frame": f"{base}?format=html",
        "downloads": {
            "pdf": f"{base}.pdf",
            "html": f"{base}?format=html&download=true",
            "json": f"{base}?download=true",
        },
        "actions": [a.value for a in NoticeAction],
        "flash": done if done in ("sent", "answered") else None,
        "error": error,
    }
    return render(request, "notices/notice.html", context, status_code=status)


@router.post("/notices/{notice_id}/answer", name="notice_answer")
def notice_answer(
    request: Request,
    notice_id: int,
    actor: Writer,
    store: StoreDep,
    settings: SettingsDep,
    action: Annotated[str, Form(max_length=10)] = "",
    counter_notice: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=service.MAX_NOTE)] = "",
    removed: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Record the marketplace's answer; then the notice's page again."""
    _notice(store, actor, notice_id)  # another member's notice is 404, whatever the form
    if action not in {a.value for a in NoticeAction}:
        _ = gettext_for(choose_language(request))
        message = _("Say what the marketplace did: choose yes, partly or no.")
        return _notice_response(
            request, actor, store, settings, notice_id, error=message, status=400
        )
    try:
        service.record_answer(
            store,
            actor,
            notice_id,
            action=action,
            counter_notice=counter_notice in ("on", "true", "yes", "1"),
            note=note,
            removed=removed if action == NoticeAction.PARTIAL.value else None,
            settings=settings,
        )
    except VigilError as problem:
        status = _status(problem)
        return _notice_response(
            request, actor, store, settings, notice_id, error=str(problem), status=status
        )
    return RedirectResponse(f"/notices/{notice_id}?done=answered", status_code=303)
