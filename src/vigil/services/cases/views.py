"""Reading cases: the list an actor may see (with counts by state and overdue), and one case
with its parties, listings and timeline."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from vigil.domain.cases import ACTIVE, TRANSITIONS, CaseState, PartyRole
from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.services.cases.access import case_for, may_answer, may_decide, may_work, visible_cases
from vigil.services.cases.workflow import SERVICE_MOVES, is_overdue, now
from vigil.services.tenancy import visible_listings
from vigil.store.db import Store
from vigil.store.tables import (
    CaseEventRow,
    CaseListingRow,
    CasePartyRow,
    CaseRow,
    ListingRow,
    MemberRow,
    UserRow,
    as_utc,
)

MAX_PAGE = 200


class Party(BaseModel):
    member_id: str
    name: str
    role: PartyRole


class CaseSummary(BaseModel):
    id: int
    reference: str = Field(description="What people quote, e.g. C-2026-000042.")
    title: str
    state: CaseState
    decision: str | None = Field(description="confirmed or dismissed, once decided.")
    outcome: str | None = Field(description="What the marketplace did, once actioned.")
    owner_id: str = Field(description="The rights holder member.")
    brand: str | None
    platform: str | None
    seller_id: str | None
    origin: str = Field(description="manual, queue or rule.")
    assignee: str | None = Field(description="The assigned person's e-mail.")
    assignee_id: int | None
    opened_by: str
    opened_at: datetime
    updated_at: datetime
    timer: str | None = Field(
        description="The service-level timer running: review, notice, answer."
    )
    due_at: datetime | None
    overdue: bool
    listings: int


class CaseListing(BaseModel):
    id: int
    platform: str
    listing_id: str
    title: str
    url: str | None
    price: float | None
    currency: str
    seller_id: str | None
    seller_name: str | None
    verdict: str
    risk: float
    brand: str | None


class TimelineEvent(BaseModel):
    at: datetime
    actor: str
    kind: str
    from_state: str | None
    to_state: str | None
    body: str | None
    details: dict[str, Any]


class CaseDetail(BaseModel):
    case: CaseSummary
    parties: list[Party]
    listings: list[CaseListing]
    hidden_listings: int = Field(description="Listings of the case you may not see.")
    timeline: list[TimelineEvent]
    moves: list[CaseState] = Field(description="The states you may move the case to now.")
    can_work: bool = Field(description="Whether you may comment and attach.")
    can_decide: bool
    can_answer: bool


@dataclass(frozen=True, slots=True)
class CaseFilters:
    states: tuple[CaseState, ...] = ()
    overdue: bool = False
    assignee_id: int | None = None
    brand: str | None = None
    text: str | None = None


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    by_state: dict[str, int]
    overdue: int
    offset: int
    limit: int


def _summaries(session: Session, rows: list[CaseRow]) -> list[CaseSummary]:
    ids = [row.id for row in rows]
    counts: dict[int, int] = {}
    emails: dict[int, str] = {}
    if ids:
        counts = dict(
            session.execute(
                select(CaseListingRow.case_id, func.count())
                .where(CaseListingRow.case_id.in_(ids))
                .group_by(CaseListingRow.case_id)
            ).all()
        )
        assignees = {row.assignee_id for row in rows if row.assignee_id is not None}
        if assignees:
            emails = dict(
                session.execute(
                    select(UserRow.id, UserRow.email).where(UserRow.id.in_(assignees))
                ).all()
            )
    at = now()
    return [
        CaseSummary(
            id=row.id,
            reference=row.reference,
            title=row.title,
            state=CaseState(row.state),
            decision=row.decision,
            outcome=row.outcome,
            owner_id=row.owner_id,
            brand=row.brand,
            platform=row.platform,
            seller_id=row.seller_id,
            origin=row.origin,
            assignee=emails.get(row.assignee_id) if row.assignee_id is not None else None,
            assignee_id=row.assignee_id,
            opened_by=row.opened_by,
            opened_at=as_utc(row.opened_at) or at,
            updated_at=as_utc(row.updated_at) or at,
            timer=row.timer,
            due_at=as_utc(row.due_at),
            overdue=is_overdue(row, at),
            listings=counts.get(row.id, 0),
        )
        for row in rows
    ]


def summary(session: Session, row: CaseRow) -> CaseSummary:
    return _summaries(session, [row])[0]


def _filtered(actor: Actor, filters: CaseFilters) -> Select[CaseRow]:
    query = select(CaseRow).where(visible_cases(actor))
    if filters.states:
        query = query.where(CaseRow.state.in_([s.value for s in filters.states]))
    if filters.overdue:
        query = query.where(CaseRow.due_at < now(), CaseRow.state.in_([s.value for s in ACTIVE]))
    if filters.assignee_id is not None:
        query = query.where(CaseRow.assignee_id == filters.assignee_id)
    if filters.brand:
        query = query.where(CaseRow.brand == filters.brand)
    if filters.text:
        escaped = filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                CaseRow.title.like(pattern, escape="\\"),
                CaseRow.reference.like(pattern, escape="\\"),
                CaseRow.seller_id.like(pattern, escape="\\"),
            )
        )
    return query


def list_cases(
    store: Store, actor: Actor, filters: CaseFilters, *, offset: int = 0, limit: int = 50
) -> CasePage:
    """The cases the actor may see, newest change first, with counts by state and overdue."""
    if limit < 1 or limit > MAX_PAGE:
        raise VigilError(f"limit: between 1 and {MAX_PAGE}")
    if offset < 0:
        raise VigilError("offset: 0 or more")
    query = _filtered(actor, filters)
    with store.session() as session:
        rows = list(
            session.scalars(
                query.order_by(CaseRow.updated_at.desc(), CaseRow.id.desc())
                .offset(offset)
                .limit(limit)
            )
        )
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        everything = _filtered(actor, CaseFilters())
        states = Counter(
            dict(
                session.execute(
                    select(CaseRow.state, func.count())
                    .where(CaseRow.id.in_(everything.with_only_columns(CaseRow.id)))
                    .group_by(CaseRow.state)
                ).all()
            )
        )
        overdue = (
            session.scalar(
                select(func.count()).select_from(
                    _filtered(actor, CaseFilters(overdue=True)).subquery()
                )
            )
            or 0
        )
        items = _summaries(session, rows)
    return CasePage(
        items=items,
        total=total,
        by_state={s.value: states.get(s.value, 0) for s in CaseState},
        overdue=overdue,
        offset=offset,
        limit=limit,
    )


def _moves(session: Session, actor: Actor, case: CaseRow) -> list[CaseState]:
    if not may_decide(session, actor, case):
        return []
    targets = TRANSITIONS[CaseState(case.state)] - SERVICE_MOVES
    return sorted(targets, key=list(CaseState).index)


def case_detail(store: Store, actor: Actor, case_id: int) -> CaseDetail:
    """One case as the actor may see it; CaseNotFound when it is not a party to it."""
    with store.session() as session:
        case = case_for(session, actor, case_id)
        parties = session.execute(
            select(CasePartyRow.member_id, MemberRow.name, CasePartyRow.role)
            .join(MemberRow, MemberRow.id == CasePartyRow.member_id)
            .where(CasePartyRow.case_id == case.id)
            .order_by(CasePartyRow.role, MemberRow.name)
        ).all()
        in_case = select(CaseListingRow.listing_pk).where(CaseListingRow.case_id == case.id)
        listings = list(
            session.scalars(
                select(ListingRow)
                .where(ListingRow.id.in_(in_case), visible_listings(actor))
                .order_by(ListingRow.risk.desc(), ListingRow.id)
            )
        )
        total = session.scalar(select(func.count()).select_from(in_case.subquery())) or 0
        events = session.scalars(
            select(CaseEventRow).where(CaseEventRow.case_id == case.id).order_by(CaseEventRow.id)
        )
        timeline = [
            TimelineEvent(
                at=as_utc(e.at) or now(),
                actor=e.actor,
                kind=e.kind,
                from_state=e.from_state,
                to_state=e.to_state,
                body=e.body,
                details=e.details,
            )
            for e in events
        ]
        return CaseDetail(
            case=summary(session, case),
            parties=[Party(member_id=m, name=n, role=PartyRole(r)) for m, n, r in parties],
            listings=[
                CaseListing(
                    id=row.id,
                    platform=row.platform,
                    listing_id=row.listing_id,
                    title=row.title,
                    url=row.url,
                    price=row.price,
                    currency=row.currency,
                    seller_id=row.seller_id,
                    seller_name=row.seller_name,
                    verdict=row.verdict,
                    risk=row.risk,
                    brand=row.brand,
                )
                for row in listings
            ],
            hidden_listings=max(total - len(listings), 0),
            timeline=timeline,
            moves=_moves(session, actor, case),
            can_work=may_work(actor),
            can_decide=may_decide(session, actor, case),
            can_answer=may_answer(session, actor, case),
        )
