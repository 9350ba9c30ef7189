"""The dashboard page: the figures of `vigil.services.dashboard` drawn as inline SVG charts.

The charts are SVG written by the templates' own macros (`dashboard/_charts.html`), readable with
JavaScript off; this module only adds what the macros cannot easily work out: a rounded scale
for the per-day chart and dates written in the visitor's language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from babel.dates import format_interval, format_skeleton
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.services.dashboard import MAX_DAYS, PERIODS, dashboard
from vigil.web.deps import StoreDep
from vigil.web.i18n import BABEL_LOCALE, choose_language
from vigil.web.security import require
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Actor, require(Role.VIEWER)]
# About this many labels under the per-day chart, whatever the period.
DAY_LABELS = 8


@dataclass(frozen=True)
class Scale:
    """A value axis from 0 to `top` with gridlines at `ticks`."""

    top: int
    ticks: list[int]


def scale_for(largest: int, steps: int = 4) -> Scale:
    """A scale whose top is a round number at or above `largest`, in about `steps` steps."""
    if largest <= 0:
        return Scale(top=steps, ticks=list(range(steps + 1)))
    rough = largest / steps
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    step = max(int(step), 1)
    top = step * math.ceil(largest / step)
    return Scale(top=top, ticks=list(range(0, top + 1, step)))


def labelled_days(count: int) -> set[int]:
    """Indexes of the days labelled under the chart: evenly spaced, always the last one."""
    every = max(1, math.ceil(count / DAY_LABELS))
    return {i for i in range(count) if (count - 1 - i) % every == 0}


@router.get("/", name="dashboard")
def dashboard_page(
    request: Request,
    actor: Reader,
    store: StoreDep,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
) -> Response:
    board = dashboard(store, actor, days=days)
    locale = BABEL_LOCALE[getattr(request.state, "lang", None) or choose_language(request)]

    def short_day(day: date) -> str:
        return str(format_skeleton("MMMd", day, locale=locale))

    context = {
        "board": board,
        "periods": PERIODS,
        "scale": scale_for(max((d.flagged for d in board.per_day), default=0)),
        "day_names": [short_day(d.day) for d in board.per_day],
        "labelled": labelled_days(len(board.per_day)),
        "period_text": str(format_interval(board.start, board.end, "yMMMd", locale=locale)),
        "largest_province": max((p.flagged for p in board.by_province), default=0),
        # Without scans of its own, a member that owns brands, or already has flagged listings,
        # learns where they come from; the others learn how to run one.
        "scans_by_others": not board.recent_scans
        and not actor.is_operator
        and (actor.member_kind is MemberKind.BRAND_OWNER or board.totals.flagged > 0),
        "can_scan": actor.role.includes(Role.ANALYST) and actor.can_write,
    }
    return render(request, "dashboard/dashboard.html", context)
