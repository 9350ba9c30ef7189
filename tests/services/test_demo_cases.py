"""The demo's cases: on a small sample alliance set up as `make demo` does, the brand owner has
a noticed case awaiting the marketplace, one under review and one open; a second run keeps
them."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from vigil.domain.cases import CaseState, PartyRole
from vigil.services import accounts, cases, evidence, notices
from vigil.services.demo import demo_cases
from vigil.services.demo_platform import seed_platform
from vigil.services.registry import load_registry
from vigil.services.sample import write_sample
from vigil.settings import Settings
from vigil.store.db import cli_actor, open_store


def test_the_demo_opens_cases_at_three_stages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )
    settings = Settings(home=tmp_path / "home")
    sample = write_sample(tmp_path / "sample", listings=400, seed=3, images=False, works=False)
    store = open_store(settings.resolved_database_url())
    try:
        assert not load_registry(store, sample.registry).problems
        users = seed_platform(store, settings, sample.listings_path)
        references = demo_cases(store, settings, users)
        assert len(references) == 3
        operator = cli_actor()
        page = cases.list_cases(store, operator, cases.CaseFilters())
        by_state = {item.reference: item.state for item in page.items}
        assert sorted(by_state.values()) == sorted(
            [CaseState.NOTICE_SENT, CaseState.UNDER_REVIEW, CaseState.OPEN]
        )
        noticed = next(i for i in page.items if i.state is CaseState.NOTICE_SENT)
        assert noticed.timer == "answer" and noticed.seller_id
        detail = cases.case_detail(store, operator, noticed.id)
        roles = {party.role for party in detail.parties}
        assert roles == {PartyRole.RIGHTS_HOLDER, PartyRole.MARKETPLACE}
        assert evidence.evidence_items(store, operator, noticed.id)
        assert len(notices.case_notices(store, operator, noticed.id)) == 1
        assert (settings.home / "cases.yaml").exists()
        # Run again: nothing new.
        assert demo_cases(store, settings, users) == []
        assert cases.list_cases(store, operator, cases.CaseFilters()).total == 3
    finally:
        store.close()
