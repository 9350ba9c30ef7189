"""Opening cases in bulk from the queue, the cases that hold a listing, and whom a case can be
given to; on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.case_factories import CaseWorld, actor, seed_case_world
from vigil.domain.cases import PartyRole
from vigil.domain.people import Role
from vigil.services import cases
from vigil.services.cases import CaseError, CaseNotFound, Opening
from vigil.services.cases.desk import assignees, cases_holding, open_cases
from vigil.store.db import Store, cli_actor
from vigil.store.tables import CaseRow

CONFIG = cases.CaseConfig()
ACME = actor("acme")


@pytest.fixture
def world(store: Store) -> CaseWorld:
    return seed_case_world(store)


def _count(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(CaseRow)) or 0


def test_grouping_by_seller_opens_one_case_per_seller(world: CaseWorld) -> None:
    a1, a2 = world.listing(seller="a"), world.listing(seller="a")
    b1 = world.listing(seller="b")
    lone = world.listing(seller="")
    opened = open_cases(world.store, ACME, [a1, b1, a2, lone], CONFIG, group="seller")
    held = {
        frozenset(item.id for item in cases.case_detail(world.store, ACME, i).listings)
        for i in opened
    }
    assert held == {frozenset({a1, a2}), frozenset({b1}), frozenset({lone})}
    sellers = {cases.case_detail(world.store, ACME, i).case.seller_id for i in opened}
    assert sellers == {"a", "b", None}
    assert {cases.case_detail(world.store, ACME, i).case.origin for i in opened} == {"queue"}


def test_one_for_all_and_one_per_listing(world: CaseWorld) -> None:
    pks = [world.listing(seller="a"), world.listing(seller="b"), world.listing(seller="a")]
    (together,) = open_cases(world.store, ACME, pks, CONFIG, group="all", title="Ring")
    detail = cases.case_detail(world.store, ACME, together)
    assert detail.case.title == "Ring" and detail.case.listings == 3
    assert len(open_cases(world.store, ACME, pks, CONFIG, group="listing")) == 3


def test_bulk_opening_is_all_or_nothing_and_checks_its_input(world: CaseWorld) -> None:
    mine, theirs = world.listing("acme"), world.listing("globex")
    with pytest.raises(CaseNotFound, match=f"no listing {theirs}"):
        open_cases(world.store, ACME, [mine, theirs], CONFIG, group="seller")
    assert _count(world.store) == 0
    with pytest.raises(CaseError, match="at least one listing"):
        open_cases(world.store, ACME, [], CONFIG)
    with pytest.raises(CaseError, match="group: one of"):
        open_cases(world.store, ACME, [mine], CONFIG, group="brand")


def test_cases_holding_a_listing_are_those_the_actor_sees(world: CaseWorld) -> None:
    listing = world.listing("acme")
    own = cases.open_case(world.store, ACME, Opening(listing_pks=[listing]), CONFIG)
    others = cases.open_case(
        world.store, cli_actor(), Opening(listing_pks=[listing], owner="globex"), CONFIG
    )
    assert [c.id for c in cases_holding(world.store, ACME, listing)] == [own]
    assert [c.id for c in cases_holding(world.store, cli_actor(), listing)] == [others, own]
    assert cases_holding(world.store, actor("globex"), world.listing("globex")) == []


def test_a_case_goes_to_working_people_of_ones_own_member(world: CaseWorld) -> None:
    case_id = cases.open_case(
        world.store,
        ACME,
        Opening(listing_pks=[world.listing()], parties=[("shopmart", PartyRole.MARKETPLACE)]),
        CONFIG,
    )
    mine = {a.email for a in assignees(world.store, ACME, case_id)}
    assert mine == {"analyst@acme.test", "admin@acme.test"}
    market = {a.email for a in assignees(world.store, actor("shopmart"), case_id)}
    assert market == {"analyst@shopmart.test", "admin@shopmart.test"}
    operator = {a.member_id for a in assignees(world.store, actor("alliance", Role.ADMIN), case_id)}
    assert operator == {"acme", "shopmart", "alliance"}
    with pytest.raises(CaseNotFound):
        assignees(world.store, actor("globex"), case_id)
