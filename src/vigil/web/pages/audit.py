"""The audit page: who did what, when and from where."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from vigil.domain.people import Actor, Role
from vigil.services.audit_log import audit_events
from vigil.web.deps import StoreDep
from vigil.web.security import require
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/audit", name="audit")
def audit(
    request: Request,
    store: StoreDep,
    actor: Annotated[Actor, require(Role.ADMIN)],
    action: Annotated[str | None, Query(max_length=100)] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    page = audit_events(store, actor, action=action or None, before=before, limit=100)
    return render(request, "audit/audit.html", {"page": page, "action": action or ""})
