"""Time-to-takedown: how long marketplaces take to remove what notices ask them to.

A case's time-to-takedown runs from its first notice's sending to the first answer that took
listings down (yes or partial). Over the cases the actor may see: how many were taken down,
the median, 90th percentile and mean hours, the share of notices answered by their deadline
(of those answered or already past it), and the notices overdue now, in all and per platform.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from pydantic import BaseModel, Field
from sqlalchemy import select

from vigil.domain.cases import NoticeAction
from vigil.domain.people import Actor
from vigil.services.cases import visible_cases
from vigil.store.db import Store
from vigil.store.tables import CaseRow, NoticeRow, as_utc

TAKEN_DOWN = frozenset({NoticeAction.YES.value, NoticeAction.PARTIAL.value})


class TakedownTime(BaseModel):
    case_id: int
    case_reference: str
    platform: str
    first_sent_at: datetime
    taken_down_at: datetime
    hours: float
    action: NoticeAction = Field(description="yes or partial: the answer that took it down.")


class PlatformStats(BaseModel):
    platform: str | None = Field(description="None for the figures over every platform.")
    notices: int
    answered: int
    overdue: int = Field(description="Unanswered notices past their deadline now.")
    answered_in_time: float | None = Field(
        description="Share of notices answered by their deadline, of those answered or past it."
    )
    takedowns: int = Field(description="Cases whose listings were taken down.")
    median_hours: float | None
    p90_hours: float | None
    mean_hours: float | None


class TakedownStats(BaseModel):
    overall: PlatformStats
    platforms: list[PlatformStats]
    cases: list[TakedownTime] = Field(description="Each case taken down, quickest first.")


@dataclass(frozen=True)
class _Notice:
    case_id: int
    case_reference: str
    platform: str
    sent_at: datetime
    due_at: datetime | None
    answered_at: datetime | None
    action: str | None


def _times(notices: Iterable[_Notice]) -> list[TakedownTime]:
    by_case: dict[int, list[_Notice]] = defaultdict(list)
    for notice in notices:
        by_case[notice.case_id].append(notice)
    found = []
    for sent in by_case.values():
        first = min(sent, key=lambda n: n.sent_at)
        downs = [n for n in sent if n.action in TAKEN_DOWN and n.answered_at is not None]
        if not downs:
            continue
        down = min(downs, key=lambda n: n.answered_at or n.sent_at)
        assert down.answered_at is not None and down.action is not None
        found.append(
            TakedownTime(
                case_id=first.case_id,
                case_reference=first.case_reference,
                platform=first.platform,
                first_sent_at=first.sent_at,
                taken_down_at=down.answered_at,
                hours=(down.answered_at - first.sent_at).total_seconds() / 3600,
                action=NoticeAction(down.action),
            )
        )
    return sorted(found, key=lambda t: (t.hours, t.case_id))


def _figures(
    platform: str | None, notices: list[_Notice], times: list[TakedownTime], at: datetime
) -> PlatformStats:
    answered = [n for n in notices if n.answered_at is not None]
    overdue = [n for n in notices if n.answered_at is None and n.due_at and n.due_at < at]
    timed = [n for n in answered if n.due_at is not None]
    in_time = [
        n for n in timed if n.answered_at is not None and n.due_at and n.answered_at <= n.due_at
    ]
    judged = len(timed) + len(overdue)
    hours = np.array([t.hours for t in times], dtype=float)
    return PlatformStats(
        platform=platform,
        notices=len(notices),
        answered=len(answered),
        overdue=len(overdue),
        answered_in_time=len(in_time) / judged if judged else None,
        takedowns=len(times),
        median_hours=float(np.median(hours)) if len(hours) else None,
        p90_hours=float(np.percentile(hours, 90)) if len(hours) else None,
        mean_hours=float(hours.mean()) if len(hours) else None,
    )


def takedown_stats(
    store: Store,
    actor: Actor,
    *,
    platform: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    at: datetime | None = None,
) -> TakedownStats:
    """Time-to-takedown over the cases the actor may see whose first notice went out in
    [since, until), optionally on one platform; `at` is "now" for what is overdue."""
    moment = at or datetime.now(UTC)
    with store.session() as session:
        query = (
            select(NoticeRow, CaseRow.reference)
            .join(CaseRow, CaseRow.id == NoticeRow.case_id)
            .where(visible_cases(actor))
            .order_by(NoticeRow.id)
        )
        if platform:
            query = query.where(NoticeRow.platform == platform)
        notices = [
            _Notice(
                case_id=row.case_id,
                case_reference=reference,
                platform=row.platform,
                sent_at=as_utc(row.sent_at) or moment,
                due_at=as_utc(row.due_at),
                answered_at=as_utc(row.answered_at),
                action=row.action,
            )
            for row, reference in session.execute(query)
        ]
    first_sent: dict[int, datetime] = {}
    for notice in notices:
        first_sent[notice.case_id] = min(
            first_sent.get(notice.case_id, notice.sent_at), notice.sent_at
        )
    kept = {
        case_id
        for case_id, sent in first_sent.items()
        if (since is None or sent >= since) and (until is None or sent < until)
    }
    notices = [n for n in notices if n.case_id in kept]
    times = _times(notices)
    platforms = sorted({n.platform for n in notices})
    return TakedownStats(
        overall=_figures(None, notices, times, moment),
        platforms=[
            _figures(
                name,
                [n for n in notices if n.platform == name],
                [t for t in times if t.platform == name],
                moment,
            )
            for name in platforms
        ],
        cases=times,
    )
