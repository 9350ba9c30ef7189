"""The demo's cases: a few of the brand owner's, at different stages, so that the case pages,
the evidence log and the notices have something real to show.

The demo's busiest marketplace joins the cases about its platform (written to
`<home>/cases.yaml` unless the home has one of its own, which is then used as it is). The brand
owner opens seller cases on its three sellers with the most suspected fakes on that platform:
the first is captured, confirmed and noticed (it waits for the marketplace's answer), the
second is under review, the third is open. A home that has cases already is left as it is, so
that running the demo again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import yaml
from sqlalchemy import func, select

from vigil.domain.assessment import Verdict
from vigil.domain.cases import CaseState
from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.files import write_atomic
from vigil.services import cases, evidence, notices
from vigil.settings import Settings
from vigil.store.db import Store
from vigil.store.tables import CaseRow, ListingAccessRow, ListingRow

SELLERS = 3


def _write_platforms(settings: Settings, markets: Iterable[tuple[str, str]]) -> None:
    path = settings.home / "cases.yaml"
    if path.exists():
        return
    platforms = {platform: {"marketplace": member} for platform, member in sorted(markets)}
    text = "# Written by the demo: each marketplace joins the cases about its platform.\n"
    text += yaml.safe_dump({"platforms": platforms}, allow_unicode=True, sort_keys=True)
    write_atomic(path, text.encode(), what="the demo's case configuration")


def _top_sellers(store: Store, owner_id: str, platform: str) -> list[str]:
    with store.session() as session:
        rows = session.execute(
            select(ListingRow.seller_id)
            .join(ListingAccessRow, ListingAccessRow.listing_pk == ListingRow.id)
            .where(
                ListingAccessRow.member_id == owner_id,
                ListingRow.platform == platform,
                ListingRow.verdict == Verdict.COUNTERFEIT_SUSPECTED.value,
                ListingRow.seller_id.is_not(None),
            )
            .group_by(ListingRow.seller_id)
            .order_by(func.count().desc(), ListingRow.seller_id)
            .limit(SELLERS)
        )
        return [seller for (seller,) in rows if seller]


def seed_cases(
    store: Store, settings: Settings, *, owner_id: str, owner_email: str, market: tuple[str, str]
) -> list[str]:
    """Open the demo's cases (see the module docstring); their references, or none when the
    home has cases already. `market` is (platform, marketplace member id)."""
    with store.session() as session:
        if session.scalar(select(func.count()).select_from(CaseRow)):
            return []
    platform, _ = market
    _write_platforms(settings, [market])
    config = cases.load_case_config(settings.home)
    analyst = Actor(
        name=owner_email,
        member_id=owner_id,
        member_kind=MemberKind.BRAND_OWNER,
        role=Role.ANALYST,
        source="cli",
    )
    opened = []
    for seller in _top_sellers(store, owner_id, platform):
        opening = cases.Opening(seller=(platform, seller), note="opened by the demo")
        opened.append(cases.open_case(store, analyst, opening, config))
    stages = [CaseState.CONFIRMED, CaseState.UNDER_REVIEW]
    for case_id, stage in zip(opened, stages, strict=False):
        if stage is CaseState.CONFIRMED:
            evidence.capture(store, settings, analyst, case_id)
        cases.move(store, analyst, case_id, stage, config, note="seen by the demo's analyst")
        if stage is CaseState.CONFIRMED:
            notices.send_notice(store, settings, analyst, case_id)
    references = []
    for case_id in opened:
        detail = cases.case_detail(store, analyst, case_id)
        references.append(detail.case.reference)
    return references
