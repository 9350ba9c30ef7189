"""Sending a notice and recording the marketplace's answer: what is stored, how the case
moves, and what is refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.case_factories import actor
from tests.notices.factories import insert_notice
from tests.notices.world import ACME, notice_world
from vigil.domain.cases import CaseState, NoticeAction
from vigil.domain.people import Role
from vigil.notices.document import NoticeDocument
from vigil.services import cases
from vigil.services.cases import CaseForbidden, CaseNotFound, CaseTransitionError
from vigil.services.notices import (
    NoticeConflict,
    NoticeError,
    NoticeNotFound,
    case_notices,
    notice_document,
    record_answer,
    send_notice,
)
from vigil.store.db import Store
from vigil.store.tables import AuditEventRow, CaseEventRow, CaseRow, NoticeRow

SHOPMART = actor("shopmart")


def _events(store: Store, case_id: int) -> list[str]:
    with store.session() as session:
        return list(
            session.scalars(
                select(CaseEventRow.kind)
                .where(CaseEventRow.case_id == case_id)
                .order_by(CaseEventRow.id)
            )
        )


def test_sending_stores_the_document_and_moves_the_case(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    sent = send_notice(store, world.settings, ACME, world.case_id)
    with store.session() as session:
        row = session.get(NoticeRow, sent.id)
        case = session.get(CaseRow, world.case_id)
        assert row is not None and case is not None
        document = NoticeDocument.model_validate(row.document)
        audit = session.scalars(
            select(AuditEventRow.action).where(AuditEventRow.subject == row.reference)
        ).all()
        assert case.state == CaseState.NOTICE_SENT.value
    # The stored digest is that of the document's canonical JSON, which the API serves.
    assert row.sha256 == hashlib.sha256(document.canonical_json()).hexdigest() == sent.sha256
    assert sent.type == "counterfeit" and sent.platform == "shopmart"
    assert sent.marketplace_id == "shopmart" and sent.listings == 3
    assert sent.due_at is not None and (sent.due_at - sent.sent_at).total_seconds() == 36 * 3600
    assert sent.may_answer and not sent.overdue
    assert list(audit) == ["notice.send"]
    assert _events(store, world.case_id)[-2:] == ["moved", "notice"]
    view, stored = notice_document(store, SHOPMART, sent.id)
    assert stored == document and view.reference == sent.reference


def test_a_case_waiting_for_an_answer_gets_no_second_notice(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    send_notice(store, world.settings, ACME, world.case_id)
    with pytest.raises(NoticeConflict, match="is notice_sent"):
        send_notice(store, world.settings, ACME, world.case_id)
    assert len(case_notices(store, ACME, world.case_id)) == 1


def test_only_the_rights_holder_sends(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    with pytest.raises(CaseForbidden, match="rights holder"):
        send_notice(store, world.settings, SHOPMART, world.case_id)
    with pytest.raises(CaseForbidden):
        send_notice(store, world.settings, actor("acme", Role.VIEWER), world.case_id)
    with pytest.raises(CaseNotFound):
        send_notice(store, world.settings, actor("globex"), world.case_id)
    assert case_notices(store, ACME, world.case_id) == []


def test_a_yes_takes_everything_down(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    sent = send_notice(store, world.settings, ACME, world.case_id)
    answer = record_answer(
        store, SHOPMART, sent.id, action="yes", note="Removed within the hour.",
        settings=world.settings,
    )  # fmt: skip
    assert answer.action is NoticeAction.YES and answer.answered_by == SHOPMART.name
    assert answer.removed == world.listing_ids() and not answer.may_answer
    detail = cases.case_detail(store, ACME, world.case_id)
    assert detail.case.state is CaseState.ACTIONED
    assert detail.case.outcome == "removed"
    assert _events(store, world.case_id)[-2:] == ["moved", "notice_answer"]


def test_a_partial_answer_names_what_was_removed(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    sent = send_notice(store, world.settings, ACME, world.case_id)
    ids = world.listing_ids()
    with pytest.raises(NoticeError, match="not among the notice's listings"):
        record_answer(store, SHOPMART, sent.id, action="partial", removed=["nope"])
    answer = record_answer(store, ACME, sent.id, action="partial", removed=[ids[0]])
    assert answer.removed == [ids[0]] and answer.answered_by == ACME.name
    assert cases.case_detail(store, ACME, world.case_id).case.outcome == "partially_removed"


def test_a_refusal_allows_a_follow_up_notice(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    first = send_notice(store, world.settings, ACME, world.case_id)
    record_answer(
        store, SHOPMART, first.id, action="no", counter_notice=True, note="Seller says genuine."
    )
    assert cases.case_detail(store, ACME, world.case_id).case.outcome == "refused"
    second = send_notice(store, world.settings, ACME, world.case_id, type="trademark")
    assert second.reference.endswith("-2") and second.type == "trademark"
    assert [n.reference for n in case_notices(store, ACME, world.case_id)] == [
        first.reference, second.reference,
    ]  # fmt: skip
    assert case_notices(store, ACME, world.case_id)[0].counter_notice


def test_a_notice_is_answered_once(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    sent = send_notice(store, world.settings, ACME, world.case_id)
    record_answer(store, SHOPMART, sent.id, action="yes")
    with pytest.raises(NoticeConflict, match="answered already"):
        record_answer(store, SHOPMART, sent.id, action="no")
    assert cases.case_detail(store, ACME, world.case_id).case.outcome == "removed"


def test_who_may_answer(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    sent = send_notice(store, world.settings, ACME, world.case_id)
    with pytest.raises(NoticeNotFound):
        record_answer(store, actor("globex"), sent.id, action="yes")
    with pytest.raises(CaseForbidden):
        record_answer(store, actor("shopmart", Role.VIEWER), sent.id, action="yes")
    with pytest.raises(NoticeNotFound):
        record_answer(store, SHOPMART, sent.id + 1000, action="yes")
    with pytest.raises(NoticeError, match="yes, no or partial"):
        record_answer(store, SHOPMART, sent.id, action="maybe")
    assert cases.case_detail(store, ACME, world.case_id).case.state is CaseState.NOTICE_SENT


def test_an_answer_to_a_case_moved_on_is_refused(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    sent = send_notice(store, world.settings, ACME, world.case_id)
    with store.session() as session:  # the case was closed by hand in the meantime
        case = session.get(CaseRow, world.case_id)
        assert case is not None
        case.state = CaseState.CLOSED.value
    with pytest.raises(CaseTransitionError):
        record_answer(store, SHOPMART, sent.id, action="yes")
    with store.session() as session:
        row = session.get(NoticeRow, sent.id)
        assert row is not None and row.answered_at is None  # nothing half-written


def test_a_notice_sent_at_the_same_moment_wins_and_the_other_is_told(
    store: Store, tmp_path: Path
) -> None:
    world = notice_world(store, tmp_path / "home")
    with store.session() as session:  # another sender's notice took the reference first
        case = session.get(CaseRow, world.case_id)
        assert case is not None
        other = CaseRow(
            reference="C-2026-999999", title="other", state="notice_sent", owner_id="acme",
            origin="manual", opened_by="test",
        )  # fmt: skip
        session.add(other)
        session.flush()
        taken = session.get(NoticeRow, insert_notice(session, other))
        assert taken is not None
        taken.reference = "N-" + case.reference.removeprefix("C-") + "-1"
    with pytest.raises(NoticeConflict, match="sent at the same moment"):
        send_notice(store, world.settings, ACME, world.case_id)
    assert cases.case_detail(store, ACME, world.case_id).case.state is CaseState.CONFIRMED
