"""Takedown notices: sent to a case's marketplace, rendered for people, answered.

Sending stores the notice's JSON document (drafted by `notice_drafts`) with the SHA-256 of its
canonical JSON, moves the case to `notice_sent` and starts the marketplace's answer timer. The
marketplace's answer (did it take the listings down: yes, no, partial; a counter-notice) moves
the case to `actioned` with the outcome the answer implies. Each step is one transaction with
its timeline and audit events. Time-to-takedown is in `notice_stats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.domain.cases import OUTCOME_OF_ACTION, CaseState, NoticeAction, NoticeType
from vigil.domain.people import Actor
from vigil.notices.document import NoticeDocument
from vigil.notices.render import render_html, render_pdf, template_for
from vigil.services.cases import (
    CaseForbidden,
    CaseNotFound,
    case_for,
    may_answer,
    may_decide,
    move_in,
    record_event,
)
from vigil.services.notice_drafts import (
    MAX_NOTE,
    NoticeConflict,
    NoticeError,
    NoticeNotFound,
    NoticeSetup,
    draft_in,
    draft_notice,
    infer_type,
    notice_setup,
)
from vigil.services.notice_stats import PlatformStats, TakedownStats, TakedownTime, takedown_stats
from vigil.settings import Settings
from vigil.store.db import Store, audit
from vigil.store.tables import CaseRow, NoticeRow, as_utc

__all__ = [
    "MAX_NOTE",
    "NoticeConflict",
    "NoticeError",
    "NoticeNotFound",
    "NoticeView",
    "PlatformStats",
    "TakedownStats",
    "TakedownTime",
    "case_notices",
    "draft_notice",
    "infer_type",
    "notice_document",
    "notice_view",
    "record_answer",
    "render_notice",
    "send_notice",
    "takedown_stats",
]


class NoticeView(BaseModel):
    """A sent notice and where it stands; its document is served apart."""

    id: int
    reference: str = Field(description="What the marketplace quotes, e.g. N-2026-000042-1.")
    case_id: int
    case_reference: str
    type: NoticeType
    platform: str
    marketplace_id: str | None
    template: str = Field(description="The template its HTML and PDF are rendered with.")
    language: str
    sha256: str = Field(description="SHA-256 of the document's canonical JSON (RFC 8785).")
    listings: int = Field(description="How many listings it asks to remove.")
    sent_at: datetime
    sent_by: str
    due_at: datetime | None = Field(description="When the marketplace's answer falls due.")
    answered_at: datetime | None
    answered_by: str | None
    action: NoticeAction | None = Field(description="yes, no or partial, once answered.")
    counter_notice: bool
    answer_note: str | None
    removed: list[str] | None = Field(description="Listing ids the marketplace took down.")
    overdue: bool = Field(description="Unanswered and past its answer deadline.")
    may_answer: bool = Field(False, description="Whether the asker may record the answer.")


def _view(
    row: NoticeRow, case: CaseRow, *, at: datetime | None = None, answerable: bool = False
) -> NoticeView:
    due = as_utc(row.due_at)
    moment = at or datetime.now(UTC)
    listings = row.document.get("listings") if isinstance(row.document, dict) else None
    return NoticeView(
        id=row.id,
        reference=row.reference,
        case_id=case.id,
        case_reference=case.reference,
        type=NoticeType(row.type),
        platform=row.platform,
        marketplace_id=row.marketplace_id,
        template=row.template,
        language=row.language,
        sha256=row.sha256,
        listings=len(listings) if isinstance(listings, list) else 0,
        sent_at=as_utc(row.sent_at) or moment,
        sent_by=row.sent_by,
        due_at=due,
        answered_at=as_utc(row.answered_at),
        answered_by=row.answered_by,
        action=NoticeAction(row.action) if row.action else None,
        counter_notice=row.counter_notice,
        answer_note=row.answer_note,
        removed=[str(x) for x in row.removed] if row.removed is not None else None,
        overdue=row.answered_at is None and due is not None and due < moment,
        may_answer=answerable and row.answered_at is None,
    )


def send_notice(
    store: Store,
    settings: Settings,
    actor: Actor,
    case_id: int,
    *,
    type: NoticeType | str | None = None,
    language: str | None = None,
) -> NoticeView:
    """Send the case's notice: store its document and digest, move the case to notice_sent
    and start the answer timer. The rights holder's analysts (or the operator's) send."""
    setup = notice_setup(settings.home)
    at = datetime.now(UTC)
    try:
        return _send(store, settings, actor, case_id, setup, type=type, language=language, at=at)
    except IntegrityError:
        # Two senders drafted the same reference at once; the first one's notice stands.
        raise NoticeConflict(
            "another notice of this case was sent at the same moment; reload the case to see it"
        ) from None


def _send(
    store: Store,
    settings: Settings,
    actor: Actor,
    case_id: int,
    setup: NoticeSetup,
    *,
    type: NoticeType | str | None,
    language: str | None,
    at: datetime,
) -> NoticeView:
    with store.session() as session:
        case = case_for(session, actor, case_id, write=True)
        if not may_decide(session, actor, case):
            raise CaseForbidden(
                f"only the rights holder of case {case.reference} (or the operator) sends its "
                "notices"
            )
        document = draft_in(session, actor, case, setup, type=type, language=language, at=at)
        template = template_for(document.recipient.platform, settings.home)
        digest = document.sha256()
        # Rendered once now so that a broken template is found before anything is stored.
        render_html(document, template=template, home=settings.home, digest=digest)
        row = NoticeRow(
            case_id=case.id,
            reference=document.reference,
            type=document.type.value,
            platform=document.recipient.platform,
            marketplace_id=document.recipient.marketplace_id,
            template=template,
            language=document.language,
            document=document.json_form(),
            sha256=digest,
            sent_at=at,
            sent_by=actor.name,
            due_at=document.answer_due,
        )
        session.add(row)
        session.flush()
        details = {
            "notice": row.id,
            "reference": row.reference,
            "type": row.type,
            "platform": row.platform,
            "sha256": digest,
            "listings": len(document.listings),
            "evidence": len(document.evidence),
        }
        move_in(session, case, actor, CaseState.NOTICE_SENT, setup.cases, details=details)
        record_event(
            session,
            case,
            actor,
            "notice",
            body=f"Notice {row.reference} ({row.type}) sent to {document.recipient.name}.",
            details={**details, "due_at": row.due_at.isoformat() if row.due_at else None},
        )
        audit(
            session,
            action="notice.send",
            subject=row.reference,
            details={"case": case.id, **details},
            actor=actor,
            member_id=case.owner_id,
        )
        return _view(row, case, at=at, answerable=may_answer(session, actor, case))


def _removed(
    action: NoticeAction, removed: Sequence[str] | None, listed: list[str]
) -> list[str] | None:
    """The listings taken down: all for yes, none for no, those named for partial."""
    if action is NoticeAction.YES:
        return listed
    if action is NoticeAction.NO:
        if removed:
            raise NoticeError("removed: an answer of 'no' took no listing down; leave it empty")
        return []
    if not removed:
        return None  # partial, without saying which
    named = list(dict.fromkeys(str(x).strip() for x in removed if str(x).strip()))
    unknown = [x for x in named if x not in listed]
    if unknown:
        raise NoticeError(
            f"removed: {', '.join(unknown[:5])} not among the notice's listings "
            f"({', '.join(listed[:10])})"
        )
    return named


def _notice_in(
    session: Session, actor: Actor, notice_id: int, *, write: bool = False
) -> tuple[NoticeRow, CaseRow]:
    row = session.get(NoticeRow, notice_id)
    if row is None:
        raise NoticeNotFound(f"no notice {notice_id}")
    try:
        case = case_for(session, actor, row.case_id, write=write)
    except CaseNotFound:
        raise NoticeNotFound(f"no notice {notice_id}") from None
    return row, case


def record_answer(
    store: Store,
    actor: Actor,
    notice_id: int,
    *,
    action: NoticeAction | str,
    counter_notice: bool = False,
    note: str | None = None,
    removed: Sequence[str] | None = None,
    settings: Settings | None = None,
) -> NoticeView:
    """Record the marketplace's answer and move the case to actioned with the outcome it
    implies. The marketplace's analysts record it, or the rights holder's (who were told)."""
    try:
        answer = NoticeAction(str(action).strip().lower())
    except ValueError:
        raise NoticeError(f"action: answer yes, no or partial, not {action!r}") from None
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise NoticeError(f"note: at most {MAX_NOTE:,} characters")
    setup = notice_setup(settings.home if settings else None)
    at = datetime.now(UTC)
    with store.session() as session:
        row, case = _notice_in(session, actor, notice_id, write=True)
        if not may_answer(session, actor, case):
            raise CaseForbidden(
                "the answer to a notice is recorded by the marketplace or by the rights "
                "holder's analysts"
            )
        if row.answered_at is not None:
            when = as_utc(row.answered_at)
            raise NoticeConflict(
                f"notice {row.reference} was answered already ({row.action}, by "
                f"{row.answered_by}, {when:%Y-%m-%d %H:%M} UTC); a new answer needs a "
                "follow-up notice"
            )
        listed = [str(item.get("listing_id")) for item in row.document.get("listings") or []]
        taken_down = _removed(answer, removed, listed)
        # Only one answer wins, even when two arrive at once.
        claimed = session.execute(
            update(NoticeRow)
            .where(NoticeRow.id == row.id, NoticeRow.answered_at.is_(None))
            .values(
                answered_at=at,
                answered_by=actor.name,
                action=answer.value,
                counter_notice=bool(counter_notice),
                answer_note=note,
                removed=taken_down,
            )
            .execution_options(synchronize_session="fetch")
        )
        if getattr(claimed, "rowcount", 1) != 1:
            raise NoticeConflict(f"notice {row.reference} was answered already")
        details = {
            "notice": row.id,
            "reference": row.reference,
            "action": answer.value,
            "counter_notice": bool(counter_notice),
            "removed": taken_down,
        }
        move_in(
            session,
            case,
            actor,
            CaseState.ACTIONED,
            setup.cases,
            outcome=OUTCOME_OF_ACTION[answer],
            note=note,
            details=details,
        )
        record_event(
            session,
            case,
            actor,
            "notice_answer",
            body=f"Answer to notice {row.reference}: {answer.value}"
            + (" (counter-notice)" if counter_notice else "")
            + ".",
            details=details,
        )
        audit(
            session,
            action="notice.answer",
            subject=row.reference,
            details={"case": case.id, **details},
            actor=actor,
            member_id=case.owner_id,
        )
        session.refresh(row)
        return _view(row, case, at=at)


def notice_view(store: Store, actor: Actor, notice_id: int) -> NoticeView:
    """A notice of a case the actor is party to; NoticeNotFound otherwise."""
    with store.session() as session:
        row, case = _notice_in(session, actor, notice_id)
        return _view(row, case, answerable=may_answer(session, actor, case))


def notice_document(
    store: Store, actor: Actor, notice_id: int
) -> tuple[NoticeView, NoticeDocument]:
    """A notice with its document, as sent."""
    with store.session() as session:
        row, case = _notice_in(session, actor, notice_id)
        view = _view(row, case, answerable=may_answer(session, actor, case))
        return view, NoticeDocument.model_validate(row.document)


def case_notices(store: Store, actor: Actor, case_id: int) -> list[NoticeView]:
    """The case's notices, oldest first."""
    with store.session() as session:
        case = case_for(session, actor, case_id)
        answerable = may_answer(session, actor, case)
        rows = session.scalars(
            select(NoticeRow).where(NoticeRow.case_id == case.id).order_by(NoticeRow.id)
        )
        return [_view(row, case, answerable=answerable) for row in rows]


def render_notice(
    document: NoticeDocument,
    fmt: str,
    *,
    template: str | None = None,
    digest: str | None = None,
    home: Path | None = None,
) -> bytes:
    """A notice as `json` (its canonical bytes, which its digest is of), `html` or `pdf`; a
    sent one with the template it was sent with, a draft with its marketplace's."""
    if fmt == "json":
        return document.canonical_json()
    html = render_html(document, template=template, home=home, digest=digest)
    if fmt == "html":
        return html.encode("utf-8")
    if fmt == "pdf":
        return render_pdf(html)
    raise NoticeError(f"format: a notice is served as json, html or pdf, not {fmt!r}")
