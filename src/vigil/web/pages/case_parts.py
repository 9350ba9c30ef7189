"""The parts of a case's page that other services own: its evidence (vigil.services.evidence)
and its notices (vigil.services.notices). The case page asks here for what to show and sends
its evidence forms here; the notice forms post to the notices pages themselves."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from vigil.domain.cases import CaseState, Outcome
from vigil.domain.people import Actor
from vigil.services import evidence, notices
from vigil.services.cases import CaseDetail
from vigil.store.db import Store
from vigil.web.deps import get_media, get_settings

# Where a case's evidence bundle is downloaded (the evidence API, signed in by the session).
BUNDLE = "/api/v1/cases/{case_id}/evidence/bundle"


def parts(request: Request, actor: Actor, store: Store, detail: CaseDetail) -> dict[str, Any]:
    """What the evidence and notices sections of the case page show."""
    case_id = detail.case.id
    return {
        "evidence": evidence.evidence_items(store, actor, case_id),
        "bundle_href": BUNDLE.format(case_id=case_id),
        **_notices(actor, store, detail),
    }


def _notices(actor: Actor, store: Store, detail: CaseDetail) -> dict[str, Any]:
    """The case's notices, whether the actor may prepare one now (a confirmed case, or an
    actioned one whose takedown fell short), and whether any waits for an answer the actor may
    record (on the notice's own page)."""
    listed = notices.case_notices(store, actor, detail.case.id)
    state, outcome = detail.case.state, detail.case.outcome
    again = state is CaseState.ACTIONED and outcome != Outcome.REMOVED.value
    return {
        "notices": listed,
        "can_send": detail.can_decide and (state is CaseState.CONFIRMED or again),
        "answerable": any(notice.may_answer for notice in listed),
    }


def capture(request: Request, actor: Actor, store: Store, case_id: int) -> int:
    """Capture the case's listings; how many items were new."""
    result = evidence.capture(
        store, get_settings(request), actor, case_id, places=get_media(request)
    )
    return len(result.added)


def attach(
    request: Request,
    actor: Actor,
    store: Store,
    case_id: int,
    filename: str,
    data: bytes,
    media_type: str | None,
) -> None:
    """Add an uploaded file to the case's evidence."""
    evidence.attach(
        store, get_settings(request), actor, case_id, filename=filename, data=data,
        media_type=media_type,
    )  # fmt: skip
