"""The web platform's fixtures, and a confirmed case of acme's on shopmart for the notice
pages and API."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.case_factories import CaseWorld, actor
from tests.notices.world import BRAND, CASE_CONFIG, COUNTERFEIT, MARKS
from tests.web.conftest import Web, cheap_password_hashing, seeded_database, web
from vigil.domain.cases import CaseState
from vigil.services import cases, evidence
from vigil.store.tables import BrandRow

__all__ = ["cheap_password_hashing", "seeded_database", "web"]


@dataclass
class NoticeSite:
    web: Web
    case_id: int
    listing_ids: list[str]


@pytest.fixture
def site(web: Web) -> NoticeSite:
    (web.settings.home / "cases.yaml").write_text(CASE_CONFIG, encoding="utf-8")
    acme = actor("acme")
    with web.store.session() as session:
        session.add(
            BrandRow(
                name=BRAND, owner_id="acme",
                entry={"name": BRAND, "owner": "acme", "aliases": [], "marks": MARKS},
            )
        )  # fmt: skip
    world = CaseWorld(web.store)
    pks = [world.listing("acme", brand=BRAND, seller=f"s{n}", signals=COUNTERFEIT) for n in (1, 2)]
    config = cases.load_case_config(web.settings.home)
    case_id = cases.open_case(web.store, acme, cases.Opening(listing_pks=pks), config)
    evidence.capture(web.store, web.settings, acme, case_id)
    cases.move(web.store, acme, case_id, CaseState.CONFIRMED, config)
    with web.store.session() as session:
        from vigil.store.tables import ListingRow

        ids = sorted(session.scalars(select(ListingRow.listing_id).where(ListingRow.id.in_(pks))))
    return NoticeSite(web, case_id, ids)
