"""What the case pages and endpoints need beyond the workflow: opening several cases at once
from listings ticked in the review queue, the cases that hold a listing, and the people a case
can be given to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from vigil.domain.people import Actor, Role
from vigil.services.cases.access import CaseNotFound, case_for, visible_cases
from vigil.services.cases.config import CaseConfig
from vigil.services.cases.views import CaseSummary, _summaries
from vigil.services.cases.workflow import (
    MAX_BULK,
    MAX_LISTINGS,
    CaseError,
    Opening,
    group_listings,
    open_case_in,
)
from vigil.services.tenancy import visible_listings
from vigil.store.db import Store
from vigil.store.tables import CaseListingRow, CasePartyRow, CaseRow, ListingRow, MemberRow, UserRow

# How ticked listings become cases: one case for all of them, one per seller, one per listing.
GROUPS = ("all", "seller", "listing")


def open_cases(
    store: Store,
    actor: Actor,
    listing_pks: Sequence[int],
    config: CaseConfig,
    *,
    group: str = "all",
    title: str | None = None,
    owner: str | None = None,
    origin: str = "queue",
    note: str | None = None,
) -> list[int]:
    """Open cases for the listings, grouped as `group` says, all in one transaction (if one
    cannot be opened, none is); the new cases' ids. A listing without a seller gets a case of
    its own when grouping by seller."""
    pks = list(dict.fromkeys(listing_pks))
    if not pks:
        raise CaseError("select at least one listing to open a case for")
    if group not in GROUPS:
        raise CaseError(f"group: one of {', '.join(GROUPS)} (got {group!r})")
    if len(pks) > MAX_LISTINGS:
        raise CaseError(f"at most {MAX_LISTINGS:,} listings at once (got {len(pks):,})")
    with store.session() as session:
        if group == "all":
            opening = Opening(listing_pks=pks, title=title, owner=owner, origin=origin, note=note)
            return [open_case_in(session, actor, opening, config).id]
        rows = session.execute(
            select(ListingRow.id, ListingRow.platform, ListingRow.seller_id)
            .where(ListingRow.id.in_(pks), visible_listings(actor))
            .order_by(ListingRow.id)
        ).all()
        missing = set(pks) - {row.id for row in rows}
        if missing:
            raise CaseNotFound(f"no listing {min(missing)}")
        groups = group_listings(rows, per_seller=group == "seller")
        if len(groups) > MAX_BULK:
            raise CaseError(f"at most {MAX_BULK} cases at once ({len(groups)} asked for)")
        opened = []
        for found in groups:
            opening = Opening(
                listing_pks=found.listing_pks,
                seller=found.seller,
                title=title,
                owner=owner,
                origin=origin,
                note=note,
            )
            opened.append(open_case_in(session, actor, opening, config).id)
        return opened


def cases_holding(store: Store, actor: Actor, listing_pk: int) -> list[CaseSummary]:
    """The cases the actor may see that hold the listing, newest first."""
    with store.session() as session:
        rows = list(
            session.scalars(
                select(CaseRow)
                .join(CaseListingRow, CaseListingRow.case_id == CaseRow.id)
                .where(CaseListingRow.listing_pk == listing_pk, visible_cases(actor))
                .order_by(CaseRow.id.desc())
            )
        )
        return _summaries(session, rows)


@dataclass(frozen=True, slots=True)
class Assignee:
    """A person a case can be given to."""

    id: int
    email: str
    name: str
    member_id: str


def assignees(store: Store, actor: Actor, case_id: int) -> list[Assignee]:
    """Whom the actor may give the case to: its own member's active people; for the operator,
    the people of every party and of the operator."""
    with store.session() as session:
        case = case_for(session, actor, case_id)
        # Viewers only read; a case goes to someone who may work on it.
        query = select(UserRow).where(
            UserRow.active.is_(True), UserRow.role.in_([Role.ANALYST.value, Role.ADMIN.value])
        )
        if actor.is_operator:
            parties = select(CasePartyRow.member_id).where(CasePartyRow.case_id == case.id)
            operators = select(MemberRow.id).where(MemberRow.kind == "operator")
            query = query.where(UserRow.member_id.in_(parties) | UserRow.member_id.in_(operators))
        else:
            query = query.where(UserRow.member_id == actor.member_id)
        return [
            Assignee(id=u.id, email=u.email, name=u.name, member_id=u.member_id)
            for u in session.scalars(query.order_by(UserRow.member_id, UserRow.email))
        ]
