"""The case workflow: every allowed transition, every forbidden one, who may do what, party
isolation, timers, rules. On SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.case_factories import CaseWorld, actor, seed_case_world
from vigil.domain.cases import TRANSITIONS, CaseState, Outcome, PartyRole
from vigil.domain.people import Role
from vigil.services import cases
from vigil.services.cases import (
    CaseError,
    CaseFilters,
    CaseForbidden,
    CaseNotFound,
    CaseTransitionError,
    NewRule,
    Opening,
)
from vigil.services.tenancy import can_see_listing
from vigil.store.db import Store, cli_actor
from vigil.store.tables import AuditEventRow, CaseRow, ListingAccessRow

CONFIG = cases.CaseConfig()
ACME = actor("acme")


@pytest.fixture
def world(store: Store) -> CaseWorld:
    return seed_case_world(store)


def _open(world: CaseWorld, **opening: object) -> int:
    listing = world.listing("acme")
    return cases.open_case(world.store, ACME, Opening(listing_pks=[listing], **opening), CONFIG)  # type: ignore[arg-type]


def _force(world: CaseWorld, case_id: int, state: CaseState) -> None:
    with world.store.session() as session:
        session.execute(update(CaseRow).where(CaseRow.id == case_id).values(state=state.value))


def _state(world: CaseWorld, case_id: int) -> CaseState:
    return cases.case_detail(world.store, ACME, case_id).case.state


def test_opening_a_case_numbers_it_makes_the_owner_rights_holder_and_times_it(
    world: CaseWorld,
) -> None:
    case_id = _open(world)
    detail = cases.case_detail(world.store, ACME, case_id)
    year = datetime.now(UTC).year
    assert detail.case.reference == f"C-{year}-{case_id:06d}"
    assert detail.case.state is CaseState.OPEN
    assert detail.case.brand == "Brand of acme" and detail.case.listings == 1
    assert [(p.member_id, p.role) for p in detail.parties] == [("acme", PartyRole.RIGHTS_HOLDER)]
    assert detail.case.timer == "review"
    assert detail.case.due_at is not None
    hours = (detail.case.due_at - detail.case.opened_at).total_seconds() / 3600
    assert hours == pytest.approx(CONFIG.timers.review_hours)
    assert [e.kind for e in detail.timeline] == ["opened"]
    with world.store.session() as session:
        actions = session.scalars(select(AuditEventRow.action)).all()
    assert "case.open" in actions


ALLOWED = [(s, t) for s, targets in TRANSITIONS.items() for t in sorted(targets)]
FORBIDDEN = [(s, t) for s in CaseState for t in CaseState if t not in TRANSITIONS[s]]


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{s}->{t}" for s, t in ALLOWED])
def test_every_allowed_transition_moves_and_is_on_the_timeline(
    world: CaseWorld, source: CaseState, target: CaseState
) -> None:
    case_id = _open(world)
    _force(world, case_id, source)
    with world.store.session() as session:
        case = cases.case_for(session, ACME, case_id, write=True)
        outcome = Outcome.REMOVED if target is CaseState.ACTIONED else None
        cases.move_in(session, case, ACME, target, CONFIG, outcome=outcome, note="why")
    detail = cases.case_detail(world.store, ACME, case_id)
    assert detail.case.state is target
    last = detail.timeline[-1]
    assert (last.from_state, last.to_state, last.actor, last.body) == (
        source.value,
        target.value,
        ACME.name,
        "why",
    )
    if target is CaseState.CONFIRMED:
        assert detail.case.decision == "confirmed"
    if target is CaseState.DISMISSED:
        assert detail.case.decision == "dismissed"
    if target is CaseState.ACTIONED:
        assert detail.case.outcome == "removed"
    if target is CaseState.OPEN:
        assert last.kind == "reopened" and detail.case.decision is None


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{s}->{t}" for s, t in FORBIDDEN])
def test_every_forbidden_transition_is_refused_and_changes_nothing(
    world: CaseWorld, source: CaseState, target: CaseState
) -> None:
    case_id = _open(world)
    _force(world, case_id, source)
    outcome = Outcome.REMOVED if target is CaseState.ACTIONED else None
    with (
        pytest.raises(CaseTransitionError, match=f"cannot become {target.value}"),
        world.store.session() as session,
    ):
        case = cases.case_for(session, ACME, case_id, write=True)
        cases.move_in(session, case, ACME, target, CONFIG, outcome=outcome)
    assert _state(world, case_id) is source
    assert len(cases.case_detail(world.store, ACME, case_id).timeline) == 1


def test_notice_and_answer_moves_belong_to_the_notice_service(world: CaseWorld) -> None:
    case_id = _open(world)
    cases.move(world.store, ACME, case_id, CaseState.CONFIRMED, CONFIG)
    with pytest.raises(CaseTransitionError, match="by sending its notice"):
        cases.move(world.store, ACME, case_id, CaseState.NOTICE_SENT, CONFIG)
    with (
        pytest.raises(CaseTransitionError, match="needs its outcome"),
        world.store.session() as session,
    ):
        case = cases.case_for(session, ACME, case_id, write=True)
        case.state = CaseState.NOTICE_SENT.value
        cases.move_in(session, case, ACME, CaseState.ACTIONED, CONFIG)


def test_the_full_life_of_a_case_keeps_its_timers_and_dates(world: CaseWorld) -> None:
    case_id = _open(world)
    store = world.store
    cases.move(store, ACME, case_id, CaseState.UNDER_REVIEW, CONFIG)
    cases.move(store, ACME, case_id, CaseState.CONFIRMED, CONFIG)
    assert cases.case_detail(store, ACME, case_id).case.timer == "notice"
    with store.session() as session:
        case = cases.case_for(session, ACME, case_id, write=True)
        cases.move_in(session, case, ACME, CaseState.NOTICE_SENT, CONFIG)
    assert cases.case_detail(store, ACME, case_id).case.timer == "answer"
    with store.session() as session:
        case = cases.case_for(session, ACME, case_id, write=True)
        cases.move_in(
            session, case, ACME, CaseState.ACTIONED, CONFIG, outcome=Outcome.PARTIALLY_REMOVED
        )
    cases.move(store, ACME, case_id, CaseState.CLOSED, CONFIG)
    detail = cases.case_detail(store, ACME, case_id)
    assert detail.case.state is CaseState.CLOSED and detail.case.timer is None
    assert detail.case.decision == "confirmed"
    assert detail.case.outcome == "partially_removed"
    assert [e.to_state for e in detail.timeline] == [
        "open", "under_review", "confirmed", "notice_sent", "actioned", "closed",
    ]  # fmt: skip
    cases.move(store, ACME, case_id, CaseState.OPEN, CONFIG)
    assert cases.case_detail(store, ACME, case_id).case.outcome is None


def test_members_see_only_cases_they_are_party_to(world: CaseWorld) -> None:
    case_id = _open(world)
    globex = actor("globex")
    with pytest.raises(CaseNotFound):
        cases.case_detail(world.store, globex, case_id)
    with pytest.raises(CaseNotFound):
        cases.move(world.store, globex, case_id, CaseState.DISMISSED, CONFIG)
    with pytest.raises(CaseNotFound):
        cases.comment(world.store, globex, case_id, "hello")
    assert cases.list_cases(world.store, globex, CaseFilters()).total == 0
    assert cases.list_cases(world.store, ACME, CaseFilters()).total == 1
    # The operator sees every case.
    assert cases.list_cases(world.store, cli_actor(), CaseFilters()).total == 1
    # A party in any role sees it; only the rights holder decides.
    cases.add_party(world.store, ACME, case_id, "shopmart", PartyRole.MARKETPLACE)
    shopmart = actor("shopmart")
    detail = cases.case_detail(world.store, shopmart, case_id)
    assert detail.moves == [] and not detail.can_decide and detail.can_answer
    with pytest.raises(CaseForbidden, match="only the rights holder"):
        cases.move(world.store, shopmart, case_id, CaseState.DISMISSED, CONFIG)
    cases.comment(world.store, shopmart, case_id, "we are looking into it")
    assert cases.case_detail(world.store, ACME, case_id).timeline[-1].body == (
        "we are looking into it"
    )


def test_viewers_and_read_keys_may_look_but_not_work(world: CaseWorld) -> None:
    case_id = _open(world)
    for who in (actor("acme", Role.VIEWER), actor("acme", Role.ANALYST, write=False)):
        assert cases.case_detail(world.store, who, case_id).moves == []
        with pytest.raises(CaseForbidden):
            cases.move(world.store, who, case_id, CaseState.CONFIRMED, CONFIG)
        with pytest.raises(CaseForbidden):
            cases.comment(world.store, who, case_id, "x")
        with pytest.raises(CaseForbidden):
            cases.open_case(world.store, who, Opening(listing_pks=[world.listing()]), CONFIG)


def test_a_member_cannot_open_a_case_on_listings_it_cannot_see(world: CaseWorld) -> None:
    theirs = world.listing("globex")
    with pytest.raises(CaseNotFound):
        cases.open_case(world.store, ACME, Opening(listing_pks=[theirs]), CONFIG)
    with pytest.raises(CaseError, match="listings or a seller"):
        cases.open_case(world.store, ACME, Opening(), CONFIG)


def test_a_seller_case_holds_every_listing_of_that_seller_the_member_sees(world: CaseWorld) -> None:
    mine = [world.listing("acme", seller="ring-7") for _ in range(3)]
    world.listing("acme", seller="someone-else")
    world.listing("globex", seller="ring-7")
    case_id = cases.open_case(world.store, ACME, Opening(seller=("shopmart", "ring-7")), CONFIG)
    detail = cases.case_detail(world.store, ACME, case_id)
    assert sorted(row.id for row in detail.listings) == sorted(mine)
    assert detail.case.seller_id == "ring-7"
    assert detail.case.title == "Brand of acme: seller ring-7"


def test_assignment_is_to_a_party_members_person(world: CaseWorld) -> None:
    case_id = _open(world)
    mine = world.users["analyst@acme.test"]
    cases.assign(world.store, ACME, case_id, mine)
    assert cases.case_detail(world.store, ACME, case_id).case.assignee == "analyst@acme.test"
    assert cases.list_cases(world.store, ACME, CaseFilters(assignee_id=mine)).total == 1
    with pytest.raises(CaseError, match="among the case's parties"):
        cases.assign(world.store, ACME, case_id, world.users["analyst@globex.test"])
    cases.assign(world.store, ACME, case_id, None)
    assert cases.case_detail(world.store, ACME, case_id).case.assignee is None


def test_overdue_cases_are_visible_and_counted(world: CaseWorld) -> None:
    late, on_time = _open(world), _open(world)
    with world.store.session() as session:
        session.execute(
            update(CaseRow)
            .where(CaseRow.id == late)
            .values(due_at=datetime.now(UTC) - timedelta(hours=1))
        )
    page = cases.list_cases(world.store, ACME, CaseFilters())
    assert page.overdue == 1
    assert {c.id: c.overdue for c in page.items} == {late: True, on_time: False}
    assert [c.id for c in cases.list_cases(world.store, ACME, CaseFilters(overdue=True)).items] == [
        late
    ]
    # A dismissed case runs no timer, so it is never overdue.
    cases.move(world.store, ACME, late, CaseState.DISMISSED, CONFIG)
    assert cases.list_cases(world.store, ACME, CaseFilters()).overdue == 0


def test_bulk_moves_report_each_refusal_and_move_the_rest(world: CaseWorld) -> None:
    first, second = _open(world), _open(world)
    cases.move(world.store, ACME, second, CaseState.DISMISSED, CONFIG)
    result = cases.move_many(
        world.store, ACME, [first, second, 999_999], CaseState.CONFIRMED, CONFIG
    )
    assert result.moved == [first]
    assert "cannot become confirmed" in result.refused[second]
    assert "no case 999999" in result.refused[999_999]


def test_rules_open_one_case_per_seller_once(world: CaseWorld) -> None:
    ring = [world.listing("acme", seller="ring-9", risk=0.97) for _ in range(2)]
    world.listing("acme", seller="low", risk=0.5)
    world.listing("globex", seller="ring-9", risk=0.99)
    rule = cases.create_rule(world.store, ACME, NewRule(name="sure fakes", min_risk=0.9))
    run = cases.apply_rules(world.store, CONFIG)
    assert len(run.opened) == 1 and run.listings == 2
    detail = cases.case_detail(world.store, ACME, run.opened[0])
    assert sorted(row.id for row in detail.listings) == sorted(ring)
    assert detail.case.origin == "rule" and detail.timeline[0].actor == f"rule:{rule.id}"
    # Listings already held by an active case are not opened again.
    assert cases.apply_rules(world.store, CONFIG).opened == []


def test_case_configuration_overrides_from_the_home(tmp_path: Path) -> None:
    (tmp_path / "cases.yaml").write_text(
        "timers: {review_hours: 5}\nplatforms: {jd: {answer_hours: 12, marketplace: jdm}}\n"
    )
    config = cases.load_case_config(tmp_path)
    assert config.timers.review_hours == 5 and config.timers.answer_hours == 24
    assert config.answer_hours("jd") == 12 and config.answer_hours("taobao") == 24
    assert config.marketplace("jd") == "jdm"
    (tmp_path / "cases.yaml").write_text("timers: {review_hours: -1}\n")
    with pytest.raises(Exception, match="case configuration is invalid"):
        cases.load_case_config(tmp_path)


def test_deciding_a_case_decides_its_listings_in_the_owners_queue(world: CaseWorld) -> None:
    listing = world.listing("acme")
    case_id = cases.open_case(world.store, ACME, Opening(listing_pks=[listing]), CONFIG)
    cases.move(world.store, ACME, case_id, CaseState.DISMISSED, CONFIG)
    with world.store.session() as session:
        review = session.scalar(
            select(ListingAccessRow.review).where(
                ListingAccessRow.listing_pk == listing, ListingAccessRow.member_id == "acme"
            )
        )
    assert review == "dismissed"


def test_a_party_brought_in_sees_the_listings_of_the_case(world: CaseWorld) -> None:
    first = world.listing("acme")
    case_id = cases.open_case(world.store, ACME, Opening(listing_pks=[first]), CONFIG)
    shopmart = actor("shopmart")
    cases.add_party(world.store, ACME, case_id, "shopmart", PartyRole.MARKETPLACE)
    second = world.listing("acme")
    cases.add_listings(world.store, ACME, case_id, [second])
    detail = cases.case_detail(world.store, shopmart, case_id)
    assert sorted(row.id for row in detail.listings) == sorted([first, second])
    assert detail.hidden_listings == 0
    # Only the case's listings: the rights holder's others stay its own.
    other = world.listing("acme")
    with world.store.session() as session:
        assert not can_see_listing(session, shopmart, other)


def test_cases_are_named_by_reference_or_number() -> None:
    assert cases.case_number("C-2026-000042") == 42
    assert cases.case_number(" c-2026-7 ") == 7
    assert cases.case_number("42") == 42
    with pytest.raises(CaseNotFound, match=r"give its reference \(like C-2026-000042\)"):
        cases.case_number("case 42")


def test_only_the_operator_adds_a_second_rights_holder(world: CaseWorld) -> None:
    case_id = _open(world)
    with pytest.raises(CaseForbidden, match="only the operator"):
        cases.add_party(world.store, ACME, case_id, "globex", PartyRole.RIGHTS_HOLDER)
    assert cases.add_party(world.store, cli_actor(), case_id, "globex", PartyRole.RIGHTS_HOLDER)


def test_a_reference_must_be_the_cases_own(world: CaseWorld) -> None:
    case_id = _open(world)
    reference = cases.case_detail(world.store, ACME, case_id).case.reference
    assert cases.named_case_id(world.store, ACME, reference.lower()) == case_id
    assert cases.named_case_id(world.store, ACME, str(case_id)) == case_id
    with pytest.raises(CaseNotFound, match=f"no case C-1999-{case_id:06d}"):
        cases.named_case_id(world.store, ACME, f"C-1999-{case_id:06d}")
    with pytest.raises(CaseNotFound, match="names no case"):
        cases.named_case_id(world.store, ACME, "٤٢")


def test_a_rule_splits_a_seller_larger_than_a_case(
    world: CaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vigil.services.cases import rules, workflow

    monkeypatch.setattr(rules, "MAX_LISTINGS", 2)
    monkeypatch.setattr(workflow, "MAX_LISTINGS", 2)
    for _ in range(5):
        world.listing("acme", seller="big", risk=0.99)
    cases.create_rule(world.store, ACME, NewRule(name="all", min_risk=0.9))
    run = cases.apply_rules(world.store, CONFIG)
    assert run.listings == 5 and len(run.opened) == 3
