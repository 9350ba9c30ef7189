"""Who may see and work on a case: its parties, and the operator.

A member sees the cases it is a party to, in any role; a case it is not party to is reported
exactly as a missing one. Among the parties, the rights holder decides (confirms, dismisses,
sends notices); every party's analysts may comment and attach; the marketplace answers notices.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.orm import Session

from vigil.domain.cases import PartyRole
from vigil.domain.people import Actor, Role
from vigil.errors import VigilError
from vigil.store.db import Store
from vigil.store.tables import CasePartyRow, CaseRow


class CaseNotFound(VigilError):
    """No such case, or not one the actor is party to: the two look the same."""


class CaseForbidden(VigilError):
    """The actor sees the case but its role there does not allow this."""


def visible_cases(actor: Actor) -> ColumnElement[bool]:
    """A filter on `CaseRow` that keeps the cases `actor` may see."""
    if actor.is_operator:
        return true()
    return exists().where(
        CasePartyRow.case_id == CaseRow.id, CasePartyRow.member_id == actor.member_id
    )


def party_roles(session: Session, actor: Actor, case_id: int) -> set[PartyRole]:
    """The roles the actor's member holds in the case (none for the operator unless it took
    part itself)."""
    if actor.member_id is None:
        return set()
    rows = session.scalars(
        select(CasePartyRow.role).where(
            CasePartyRow.case_id == case_id, CasePartyRow.member_id == actor.member_id
        )
    )
    return {PartyRole(role) for role in rows}


def case_for(session: Session, actor: Actor, case_id: int, *, write: bool = False) -> CaseRow:
    """The case, if the actor may see it (and, with `write`, work on it: an analyst or admin
    with a write key); CaseNotFound otherwise, whatever the reason."""
    row = session.scalar(select(CaseRow).where(CaseRow.id == case_id, visible_cases(actor)))
    if row is None:
        raise CaseNotFound(f"no case {case_id}")
    if write and not may_work(actor):
        raise CaseForbidden(
            "working on a case needs an analyst's or admin's role and a key that may write"
        )
    return row


def may_work(actor: Actor) -> bool:
    return actor.role.includes(Role.ANALYST) and actor.can_write


def may_decide(session: Session, actor: Actor, case: CaseRow) -> bool:
    """Deciding a case (review, confirm, dismiss, notice, close, reopen) is the rights holder's,
    or the operator's."""
    if not may_work(actor):
        return False
    return actor.is_operator or PartyRole.RIGHTS_HOLDER in party_roles(session, actor, case.id)


def may_answer(session: Session, actor: Actor, case: CaseRow) -> bool:
    """Recording a marketplace's answer: the marketplace itself, the rights holder (who was told
    the answer) or the operator."""
    if not may_work(actor):
        return False
    if actor.is_operator:
        return True
    roles = party_roles(session, actor, case.id)
    return bool(roles & {PartyRole.MARKETPLACE, PartyRole.RIGHTS_HOLDER})


REFERENCE = re.compile(r"C-[0-9]{4}-([0-9]{1,12})", re.IGNORECASE)
NUMBER = re.compile(r"[0-9]{1,12}")


def case_number(text: str) -> int:
    """The number of the case a person names: by its reference (C-2026-000042, whose last
    part is its number) or by its number (42). `resolve_case` also checks the reference."""
    named = text.strip()
    found = REFERENCE.fullmatch(named)
    if found is not None:
        return int(found.group(1))
    if NUMBER.fullmatch(named):
        return int(named)
    raise CaseNotFound(
        f"{named[:60]!r} names no case: give its reference (like C-2026-000042) or its number"
    )


def resolve_case(session: Session, actor: Actor, text: str, *, write: bool = False) -> CaseRow:
    """The case `text` names, if the actor may see it; a reference must be the case's own
    (C-1999-000042 is not case 42 of 2026)."""
    named = text.strip()
    number = case_number(named)
    try:
        case = case_for(session, actor, number, write=write)
    except CaseNotFound:
        raise CaseNotFound(f"no case {named[:60]}") from None
    if REFERENCE.fullmatch(named) and case.reference != named.upper():
        raise CaseNotFound(f"no case {named[:60]}")
    return case


def named_case_id(store: Store, actor: Actor, text: str) -> int:
    """The id of the case `text` names (see `resolve_case`), for commands that take one."""
    with store.session() as session:
        return resolve_case(session, actor, text).id
