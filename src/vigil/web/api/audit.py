"""The audit log over the API."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from vigil.domain.people import Actor, Role
from vigil.services.audit_log import MAX_LIMIT, audit_events
from vigil.web.deps import StoreDep
from vigil.web.security import require

router = APIRouter()


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    member_id: str | None
    source: str | None
    details: dict[str, Any]


class AuditPageOut(BaseModel):
    events: list[AuditEventOut]
    next_before: int | None


@router.get("/audit", response_model=AuditPageOut)
def list_audit_events(
    actor: Annotated[Actor, require(Role.ADMIN)],
    store: StoreDep,
    action: Annotated[str | None, Query(max_length=100, description="Action prefix")] = None,
    before: Annotated[int | None, Query(ge=1, description="Events older than this id")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> AuditPageOut:
    """Who did what, when and from where: the member's own events (all for the operator)."""
    page = audit_events(store, actor, action=action, before=before, limit=limit)
    return AuditPageOut(
        events=[AuditEventOut(**asdict(e)) for e in page.events], next_before=page.next_before
    )
