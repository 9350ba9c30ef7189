"""The dashboard's figures as JSON: what the dashboard page draws, for your own charts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vigil.domain.people import Actor, Role
from vigil.services.dashboard import MAX_DAYS, Dashboard, dashboard
from vigil.web.deps import StoreDep
from vigil.web.security import require

router = APIRouter()

Reader = Annotated[Actor, require(Role.VIEWER)]


@router.get("/dashboard", response_model=Dashboard)
def get_dashboard(
    actor: Reader,
    store: StoreDep,
    days: Annotated[
        int,
        Query(ge=1, le=MAX_DAYS, description="The period: this many UTC days, ending today."),
    ] = 30,
) -> Dashboard:
    """Counts of the listings you may see that were scanned in the period: totals, flagged per
    day, by platform, brand, category and province (with the urban/rural split), the top
    sellers, and your latest scans."""
    return dashboard(store, actor, days=days)
