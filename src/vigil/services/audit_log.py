"""Reading the audit log: a member's admins see the events about their member's data; the
operator's admins see all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from vigil.domain.people import Actor
from vigil.store.db import Store
from vigil.store.tables import AuditEventRow

MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    member_id: str | None
    source: str | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: list[AuditEvent]
    next_before: int | None  # pass as `before` for the next (older) page


def audit_events(
    store: Store,
    actor: Actor,
    *,
    action: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> AuditPage:
    """Newest first; `action` matches a prefix such as `key.` or `registry.`."""
    limit = max(1, min(limit, MAX_LIMIT))
    query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit + 1)
    if not actor.is_operator:
        query = query.where(AuditEventRow.member_id == actor.member_id)
    if action:
        escaped = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(AuditEventRow.action.like(f"{escaped}%", escape="\\"))
    if before is not None:
        query = query.where(AuditEventRow.id < before)
    with store.session() as session:
        rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    events = [
        AuditEvent(
            id=r.id,
            at=r.at,
            actor=r.actor,
            action=r.action,
            subject=r.subject,
            member_id=r.member_id,
            source=r.source,
            details=r.details,
        )
        for r in rows
    ]
    return AuditPage(events, rows[-1].id if more and rows else None)
