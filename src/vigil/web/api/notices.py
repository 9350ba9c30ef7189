"""Takedown notices over the API: send a case's notice, read it as JSON, HTML or PDF, record
the marketplace's answer, and time-to-takedown.

Errors: a notice (or case) you are not party to is 404, exactly like a missing one; one you see
but may not send or answer is 403; a case not ready for a notice, or a notice answered already,
is 409; anything else the service refuses (an unknown type, a listing the notice does not name)
is 400. Each says what to do.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.domain.cases import NoticeAction, NoticeType
from vigil.domain.people import Actor, Role
from vigil.notices.document import NoticeDocument
from vigil.services import notices as service
from vigil.services.cases import CaseTransitionError, case_for
from vigil.services.notices import NoticeConflict, NoticeView, TakedownStats
from vigil.web.api.refusals import case_refusals
from vigil.web.deps import SettingsDep, StoreDep
from vigil.web.security import require

router = APIRouter()

Reader = Annotated[Actor, require(Role.VIEWER)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
Format = Literal["json", "html", "pdf"]
MEDIA_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
# The HTML notice is a self-contained letter with its stylesheet inline: it may style itself
# and be framed by the notice page of this site, and nothing else.
NOTICE_HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
    "base-uri 'none'; form-action 'none'"
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such notice, or not one of a case you are party to."}
}


def notice_errors() -> AbstractContextManager[None]:
    """The notice service's refusals as the HTTP answers the module docstring lists."""
    return case_refusals(NoticeConflict, CaseTransitionError)


def notice_response(
    content: bytes, fmt: str, reference: str, *, download: bool = False
) -> Response:
    """A rendered notice with its media type; the PDF (or, asked, any form) as a file."""
    headers = {"Cache-Control": "private, no-store"}
    if fmt == "html":
        headers["Content-Security-Policy"] = NOTICE_HTML_POLICY
        headers["X-Frame-Options"] = "SAMEORIGIN"
    if download or fmt == "pdf":
        extension = {"json": "json", "html": "html", "pdf": "pdf"}[fmt]
        headers["Content-Disposition"] = f'attachment; filename="{reference}.{extension}"'
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=headers)


def _case_target(case_id: int, actor: Writer, store: StoreDep) -> tuple[Actor, int]:
    """The case, when the actor is party to it; checked before the body is read, so that
    another member's case is 404 whatever the body holds."""
    with notice_errors(), store.session() as session:
        case_for(session, actor, case_id)
    return actor, case_id


def _notice_target(notice_id: int, actor: Writer, store: StoreDep) -> tuple[Actor, int]:
    with notice_errors():
        service.notice_view(store, actor, notice_id)
    return actor, notice_id


CaseTarget = Annotated[tuple[Actor, int], Depends(_case_target)]
NoticeTarget = Annotated[tuple[Actor, int], Depends(_notice_target)]


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: NoticeType | None = Field(
        None, description="counterfeit, trademark or copyright; inferred from the case if absent."
    )
    language: Literal["en", "zh"] | None = Field(
        None, description="The notice's language; a Chinese marketplace's default is zh."
    )


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: NoticeAction = Field(description="Did the marketplace take the listings down?")
    counter_notice: bool = Field(False, description="The seller answered with a counter-notice.")
    note: str | None = Field(None, max_length=service.MAX_NOTE)
    removed: list[Annotated[str, Field(max_length=300)]] | None = Field(
        None, max_length=1_000, description="For a partial answer: the listing ids taken down."
    )


@router.post(
    "/cases/{case_id}/notices",
    status_code=201,
    response_model=NoticeView,
    responses={**NOT_FOUND, 409: {"description": "The case is not confirmed (or actioned)."}},
)
def send_notice(
    body: SendIn, target: CaseTarget, store: StoreDep, settings: SettingsDep
) -> NoticeView:
    """Send the case's takedown notice to its marketplace: the case becomes notice_sent and the
    marketplace's answer falls due after its answer hours (24 unless configured)."""
    actor, case_id = target
    with notice_errors():
        return service.send_notice(
            store, settings, actor, case_id, type=body.type, language=body.language
        )


@router.get("/cases/{case_id}/notices", response_model=list[NoticeView], responses=NOT_FOUND)
def list_case_notices(case_id: int, actor: Reader, store: StoreDep) -> list[NoticeView]:
    """The case's notices, oldest first."""
    with notice_errors():
        return service.case_notices(store, actor, case_id)


@router.get("/cases/{case_id}/notices/draft", responses=NOT_FOUND)
def draft_case_notice(
    case_id: int,
    actor: Reader,
    store: StoreDep,
    settings: SettingsDep,
    type: NoticeType | None = None,
    language: Annotated[Literal["en", "zh"] | None, Query()] = None,
    format: Format = "json",
) -> Response:
    """The notice the case would send now, unsent and unstored: to read before sending."""
    with notice_errors():
        document = service.draft_notice(
            store, actor, case_id, type=type, language=language, home=settings.home
        )
        content = service.render_notice(document, format, home=settings.home)
    return notice_response(content, format, document.reference)


@router.get("/notices/stats", response_model=TakedownStats)
def notice_stats(
    actor: Reader,
    store: StoreDep,
    platform: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[datetime | None, Query(description="First notices sent from")] = None,
    until: Annotated[datetime | None, Query(description="... and before")] = None,
) -> TakedownStats:
    """Time-to-takedown over the cases you are party to: per case, from its first notice to
    the answer that took listings down; median, 90th percentile and mean hours; the share of
    notices answered by their deadline; the notices overdue now; in all and per platform."""
    with notice_errors():
        return service.takedown_stats(store, actor, platform=platform, since=since, until=until)


@router.get(
    "/notices/{notice_id}.pdf",
    response_class=Response,
    responses={**NOT_FOUND, 200: {"content": {"application/pdf": {}}}},
)
def notice_pdf(notice_id: int, actor: Reader, store: StoreDep, settings: SettingsDep) -> Response:
    """The notice as a PDF, as sent."""
    return _rendered(notice_id, actor, store, settings, "pdf", download=True)


@router.get(
    "/notices/{notice_id}",
    responses={
        **NOT_FOUND,
        200: {"model": NoticeDocument, "content": {"text/html": {}, "application/pdf": {}}},
    },
)
def get_notice(
    notice_id: int,
    actor: Reader,
    store: StoreDep,
    settings: SettingsDep,
    format: Format = "json",
    download: bool = False,
) -> Response:
    """The notice as sent: its JSON document (the exact bytes its `sha256` is of), or as HTML
    or PDF with `format`."""
    return _rendered(notice_id, actor, store, settings, format, download=download)


def _rendered(
    notice_id: int, actor: Actor, store: StoreDep, settings: SettingsDep, fmt: str, *,
    download: bool,
) -> Response:  # fmt: skip
    with notice_errors():
        view, document = service.notice_document(store, actor, notice_id)
        content = service.render_notice(
            document, fmt, template=view.template, digest=view.sha256, home=settings.home
        )
    return notice_response(content, fmt, view.reference, download=download)


@router.get("/notices/{notice_id}/status", response_model=NoticeView, responses=NOT_FOUND)
def notice_status(notice_id: int, actor: Reader, store: StoreDep) -> NoticeView:
    """Where the notice stands: sent when and by whom, due when, answered how."""
    with notice_errors():
        return service.notice_view(store, actor, notice_id)


@router.post(
    "/notices/{notice_id}/answer",
    response_model=NoticeView,
    responses={**NOT_FOUND, 409: {"description": "The notice was answered already."}},
)
def answer_notice(
    body: AnswerIn, target: NoticeTarget, store: StoreDep, settings: SettingsDep
) -> NoticeView:
    """Record the marketplace's answer: the case becomes actioned, its outcome removed
    (yes), partially_removed (partial) or refused (no). A notice is answered once."""
    actor, notice_id = target
    with notice_errors():
        return service.record_answer(
            store,
            actor,
            notice_id,
            action=body.action,
            counter_notice=body.counter_notice,
            note=body.note,
            removed=body.removed,
            settings=settings,
        )
