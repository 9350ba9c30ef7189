"""A case ready for its notice: acme's brand with registered marks, three flagged listings on a
marketplace with the signals that flagged them, captured as evidence into the log, and the case
confirmed. Built on any store; `platform` picks the marketplace (shopmart is a member)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.case_factories import CaseWorld, actor, seed_case_world
from vigil.domain.cases import CaseState
from vigil.services import cases, evidence
from vigil.settings import Settings
from vigil.store.db import Store
from vigil.store.tables import BrandRow

ACME = actor("acme")
BRAND = "Brand of acme"
MARKS = [
    {"number": "8228888", "jurisdiction": "CN", "classes": [9]},
    {"number": "UK00003412345", "jurisdiction": "GB", "classes": [9, 35]},
]
COUNTERFEIT = [
    {"detector": "wording", "kind": "counterfeit_wording", "weight": 2.5, "evidence": "高仿",
     "explanation": "The title uses the counterfeit term 高仿 (high imitation)."},
    {"detector": "price", "kind": "price_below_msrp", "weight": 1.25, "evidence": "0.12",
     "explanation": "The price is 12% of the brand's recommended retail price."},
    {"detector": "brand", "kind": "brand_mention", "weight": 0.4, "evidence": "Acme",
     "explanation": "The title names the brand."},
    {"detector": "seller", "kind": "authorized_seller", "weight": -1.0, "evidence": "shop",
     "explanation": "Not relevant: a negative signal is never quoted."},
]  # fmt: skip
COPIED = [
    {"detector": "texts", "kind": "copyrighted_text", "weight": 3.0,
     "asset": "work:acme/Acme phone manual", "evidence": "Hold the power key for three seconds",
     "explanation": "The description copies the registered work “Acme phone manual” of acme."},
]  # fmt: skip
CASE_CONFIG = """
platforms:
  shopmart: {marketplace: shopmart, answer_hours: 36}
  jd: {marketplace: shopmart}
"""


@dataclass
class NoticeWorld:
    store: Store
    settings: Settings
    cases: CaseWorld
    case_id: int
    reference: str
    listings: list[int] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.settings.home

    def listing_ids(self) -> list[str]:
        detail = cases.case_detail(self.store, ACME, self.case_id)
        return sorted(item.listing_id for item in detail.listings)


def notice_world(
    store: Store,
    home: Path,
    *,
    platform: str = "shopmart",
    signals: list[dict[str, Any]] | None = None,
    verdict: str = "counterfeit_suspected",
    marks: list[dict[str, Any]] | None = None,
    confirm: bool = True,
    capture: bool = True,
) -> NoticeWorld:
    home.mkdir(parents=True, exist_ok=True)
    (home / "cases.yaml").write_text(CASE_CONFIG, encoding="utf-8")
    settings = Settings(home=home)
    world = seed_case_world(store)
    with store.session() as session:
        brand = session.scalar(select(BrandRow).where(BrandRow.name == BRAND))
        assert brand is not None
        brand.entry = {**brand.entry, "marks": MARKS if marks is None else marks}
    titles = ["Acme X1 高仿 一比一 16+512G", "Acme X1 原单 尾货 全网通", "Acme X1 精仿 顺丰包邮"]
    pks = [
        world.listing(
            "acme",
            brand=BRAND,
            platform=platform,
            seller=f"shop-{n}",
            title=title,
            price=650.0 + 100 * n,
            verdict=verdict,
            signals=COUNTERFEIT if signals is None else signals,
        )
        for n, title in enumerate(titles, 1)
    ]
    config = cases.load_case_config(home)
    case_id = cases.open_case(store, ACME, cases.Opening(listing_pks=pks), config)
    if capture:
        evidence.capture(store, settings, ACME, case_id)
    if confirm:
        cases.move(store, ACME, case_id, CaseState.CONFIRMED, config)
    reference = cases.case_detail(store, ACME, case_id).case.reference
    return NoticeWorld(store, settings, world, case_id, reference, pks)
