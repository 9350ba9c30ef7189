"""Time-to-takedown on hand-made timings: each case from its first notice to the answer that
took listings down, and the aggregates over the cases one may see."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from tests.case_factories import actor
from vigil.services import accounts
from vigil.services.notices import takedown_stats
from vigil.store.db import Store, cli_actor
from vigil.store.tables import CasePartyRow, CaseRow, NoticeRow

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=48)
_numbers = itertools.count(1)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def _case(store: Store, owner: str, platform: str, notices: list[dict[str, object]]) -> int:
    n = next(_numbers)
    with store.session() as session:
        case = CaseRow(
            reference=f"C-2026-{n:06d}", title=f"case {n}", state="actioned", owner_id=owner,
            platform=platform, origin="manual", opened_by="test",
        )  # fmt: skip
        session.add(case)
        session.flush()
        session.add(CasePartyRow(case_id=case.id, member_id=owner, role="rights_holder"))
        for k, notice in enumerate(notices, 1):
            sent = notice["sent"]
            assert isinstance(sent, int | float)
            answered = notice.get("answered")
            session.add(
                NoticeRow(
                    case_id=case.id, reference=f"N-2026-{n:06d}-{k}", type="counterfeit",
                    platform=platform, template="default", language="en", document={},
                    sha256="0" * 64, sent_at=hours(sent), sent_by="test",
                    due_at=hours(sent + 24),
                    answered_at=hours(answered) if isinstance(answered, int | float) else None,
                    action=notice.get("action"),
                )
            )  # fmt: skip
        return case.id


@pytest.fixture
def timed(store: Store) -> Store:
    for member in ("acme", "globex"):
        accounts.create_member(store, member_id=member, name=member, kind="brand_owner",
                               actor=cli_actor())  # fmt: skip
    _case(store, "acme", "jd", [{"sent": 0, "answered": 6, "action": "yes"}])
    _case(store, "acme", "jd", [
        {"sent": 0, "answered": 30, "action": "no"},  # late, and a refusal
        {"sent": 40, "answered": 50, "action": "partial"},  # the follow-up takes it down
    ])  # fmt: skip
    _case(store, "acme", "taobao", [{"sent": 0, "answered": 12, "action": "yes"}])
    _case(store, "acme", "taobao", [{"sent": 0}])  # overdue since hour 24
    _case(store, "acme", "taobao", [{"sent": 47}])  # due at hour 71: not yet
    _case(store, "globex", "jd", [{"sent": 0, "answered": 1, "action": "yes"}])
    return store


def test_time_to_takedown_per_case_and_overall(timed: Store) -> None:
    stats = takedown_stats(timed, actor("acme"), at=NOW)
    assert [(t.hours, t.action.value) for t in stats.cases] == [
        (6.0, "yes"), (12.0, "yes"), (50.0, "partial"),
    ]  # fmt: skip
    overall = stats.overall
    assert overall.takedowns == 3
    assert overall.median_hours == 12.0
    assert overall.mean_hours == pytest.approx(68 / 3)
    assert overall.p90_hours == pytest.approx(12 + 0.8 * 38)  # linear between 12 and 50
    assert (overall.notices, overall.answered, overall.overdue) == (6, 4, 1)
    # Answered by the deadline: 3 of the 4 answered, and the overdue one counts as missed.
    assert overall.answered_in_time == pytest.approx(3 / 5)


def test_per_platform(timed: Store) -> None:
    stats = takedown_stats(timed, actor("acme"), at=NOW)
    jd, taobao = stats.platforms
    assert (jd.platform, jd.notices, jd.takedowns, jd.overdue) == ("jd", 3, 2, 0)
    assert jd.median_hours == 28.0 and jd.p90_hours == pytest.approx(6 + 0.9 * 44)
    assert jd.answered_in_time == pytest.approx(2 / 3)
    assert (taobao.platform, taobao.notices, taobao.answered, taobao.overdue) == (
        "taobao", 3, 1, 1,
    )  # fmt: skip
    assert taobao.median_hours == taobao.p90_hours == taobao.mean_hours == 12.0
    assert taobao.answered_in_time == pytest.approx(1 / 2)
    only = takedown_stats(timed, actor("acme"), platform="taobao", at=NOW)
    assert only.overall == taobao.model_copy(update={"platform": None})


def test_members_count_only_their_cases(timed: Store) -> None:
    assert takedown_stats(timed, actor("globex"), at=NOW).overall.median_hours == 1.0
    everything = takedown_stats(timed, cli_actor(), at=NOW)
    assert everything.overall.takedowns == 4 and everything.overall.notices == 7


def test_a_period_keeps_the_cases_whose_first_notice_fell_in_it(timed: Store) -> None:
    late = takedown_stats(timed, actor("acme"), since=hours(1), at=NOW)
    assert (late.overall.notices, late.overall.takedowns, late.overall.overdue) == (1, 0, 0)
    assert late.overall.median_hours is None and late.overall.answered_in_time is None
    early = takedown_stats(timed, actor("acme"), until=hours(1), at=NOW)
    # The follow-up notice at hour 40 belongs to a case whose first notice was at hour 0.
    assert early.overall.notices == 5 and early.overall.takedowns == 3
