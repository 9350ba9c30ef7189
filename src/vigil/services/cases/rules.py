"""Rules that open cases by themselves: after a scan, each active rule of a member opens a case
for the listings it matches (risk at least x, verdict among these, brand y) that the member may
see and that no active case of that member already holds, one case per seller or per listing."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field
from sqlalchemy import select

from vigil.domain.assessment import Verdict
from vigil.domain.cases import ACTIVE
from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.services.cases.access import CaseForbidden, may_work
from vigil.services.cases.config import CaseConfig
from vigil.services.cases.workflow import (
    MAX_LISTINGS,
    CaseError,
    Opening,
    group_listings,
    open_case_in,
)
from vigil.store.db import Store, audit
from vigil.store.tables import (
    CaseListingRow,
    CaseRow,
    CaseRuleRow,
    ListingAccessRow,
    ListingRow,
    MemberRow,
)

GROUPS = ("seller", "listing")
FLAGGED = [Verdict.COUNTERFEIT_SUSPECTED.value, Verdict.INFRINGEMENT_SUSPECTED.value]


class CaseRule(BaseModel):
    id: int
    owner_id: str
    name: str
    brand: str | None
    min_risk: float = Field(ge=0, le=1)
    verdicts: list[Verdict]
    group_by: str
    active: bool


class NewRule(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    brand: str | None = Field(None, max_length=300)
    min_risk: float = Field(0.9, ge=0, le=1)
    verdicts: list[Verdict] = Field(default_factory=lambda: [Verdict(v) for v in FLAGGED])
    group_by: str = Field("seller", pattern="^(seller|listing)$")
    owner: str | None = Field(None, description="The operator may make rules for a member.")


def _view(row: CaseRuleRow) -> CaseRule:
    return CaseRule(
        id=row.id,
        owner_id=row.owner_id,
        name=row.name,
        brand=row.brand,
        min_risk=row.min_risk,
        verdicts=[Verdict(v) for v in row.verdicts],
        group_by=row.group_by,
        active=row.active,
    )


def create_rule(store: Store, actor: Actor, rule: NewRule) -> CaseRule:
    if not may_work(actor):
        raise CaseForbidden("making a case rule needs an analyst's or admin's role")
    owner = rule.owner or actor.member_id
    if owner is None:
        raise CaseError("name the member the rule works for (--owner MEMBER)")
    if not actor.is_operator and owner != actor.member_id:
        raise CaseForbidden("a member makes rules for itself")
    if not rule.verdicts:
        raise CaseError("verdicts: name at least one verdict the rule opens cases for")
    with store.session() as session:
        if session.get(MemberRow, owner) is None:
            raise CaseError(f"owner: no member {owner!r}")
        row = CaseRuleRow(
            owner_id=owner,
            name=rule.name.strip(),
            brand=rule.brand.strip() if rule.brand else None,
            min_risk=rule.min_risk,
            verdicts=[v.value for v in rule.verdicts],
            group_by=rule.group_by,
            created_by=actor.name,
        )
        session.add(row)
        session.flush()
        audit(
            session,
            action="case.rule",
            subject=row.name,
            actor=actor,
            member_id=owner,
            details={"rule": row.id, "min_risk": row.min_risk, "brand": row.brand},
        )
        return _view(row)


def list_rules(store: Store, actor: Actor) -> list[CaseRule]:
    query = select(CaseRuleRow).order_by(CaseRuleRow.id)
    if not actor.is_operator:
        query = query.where(CaseRuleRow.owner_id == actor.member_id)
    with store.session() as session:
        return [_view(row) for row in session.scalars(query)]


@dataclass
class RulesRun:
    opened: list[int]
    listings: int


def _rule_actor(rule: CaseRuleRow, kind: str) -> Actor:
    return Actor(
        name=f"rule:{rule.id}",
        member_id=rule.owner_id,
        member_kind=MemberKind(kind),
        role=Role.ANALYST,
        source="rule",
    )


def apply_rules(store: Store, config: CaseConfig, *, scan_id: str | None = None) -> RulesRun:
    """Run every active rule over the listings of a scan (or all stored listings)."""
    run = RulesRun(opened=[], listings=0)
    with store.session() as session:
        rules = list(session.scalars(select(CaseRuleRow).where(CaseRuleRow.active.is_(True))))
        for rule in rules:
            kind = session.scalar(select(MemberRow.kind).where(MemberRow.id == rule.owner_id))
            actor = _rule_actor(rule, kind or MemberKind.BRAND_OWNER.value)
            held = (
                select(CaseListingRow.listing_pk)
                .join(CaseRow, CaseRow.id == CaseListingRow.case_id)
                .where(
                    CaseRow.owner_id == rule.owner_id,
                    CaseRow.state.in_([s.value for s in ACTIVE]),
                )
            )
            query = (
                select(ListingRow.id, ListingRow.platform, ListingRow.seller_id)
                .join(ListingAccessRow, ListingAccessRow.listing_pk == ListingRow.id)
                .where(
                    ListingAccessRow.member_id == rule.owner_id,
                    ListingRow.risk >= rule.min_risk,
                    ListingRow.verdict.in_(rule.verdicts),
                    ListingRow.id.not_in(held),
                )
                .order_by(ListingRow.id)
            )
            if rule.brand:
                query = query.where(ListingRow.brand == rule.brand)
            if scan_id is not None:
                query = query.where(ListingRow.scan_id == scan_id)
            per_seller = rule.group_by == "seller"
            groups = group_listings(session.execute(query).all(), per_seller=per_seller)
            # A case holds at most MAX_LISTINGS: a larger seller becomes several cases.
            for group, pks in (
                (g, g.listing_pks[i : i + MAX_LISTINGS])
                for g in groups
                for i in range(0, len(g.listing_pks), MAX_LISTINGS)
            ):
                opening = Opening(
                    listing_pks=pks,
                    seller=group.seller,
                    origin="rule",
                    rule_id=rule.id,
                    note=f"opened by rule {rule.name!r}",
                )
                case = open_case_in(session, actor, opening, config)
                run.opened.append(case.id)
                run.listings += len(pks)
    return run
