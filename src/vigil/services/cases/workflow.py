"""Working a case: opening it, moving it through its states, assigning, commenting, parties.

Every write is one transaction that records a timeline event on the case and an audit event;
the state machine of `vigil.domain.cases` is checked on every move, whoever asks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from vigil.domain.cases import (
    ACTIVE,
    REOPENABLE,
    TRANSITIONS,
    CaseState,
    Outcome,
    PartyRole,
    can_move,
    decision_of,
)
from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.services.cases.access import (
    CaseForbidden,
    CaseNotFound,
    case_for,
    may_decide,
    may_work,
)
from vigil.services.cases.config import CaseConfig
from vigil.services.tenancy import grant_access, visible_listings
from vigil.store.db import Store, audit
from vigil.store.tables import (
    BrandRow,
    CaseEventRow,
    CaseListingRow,
    CasePartyRow,
    CaseRow,
    ListingAccessRow,
    ListingRow,
    MemberRow,
    UserRow,
    as_utc,
)

MAX_TITLE = 300
MAX_COMMENT = 10_000
MAX_LISTINGS = 1_000
MAX_BULK = 500


class CaseError(VigilError):
    """A case cannot be opened or changed as asked; the message says why and what to do."""


class CaseTransitionError(CaseError):
    """A move the state machine does not allow from the case's current state."""


def now() -> datetime:
    return datetime.now(UTC)


def record_event(
    session: Session,
    case: CaseRow,
    actor: Actor,
    kind: str,
    *,
    body: str | None = None,
    details: dict[str, Any] | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
) -> None:
    """Add a line to the case's timeline (and touch the case, so lists show it as changed)."""
    session.add(
        CaseEventRow(
            case_id=case.id,
            at=now(),
            actor=actor.name,
            kind=kind,
            from_state=from_state,
            to_state=to_state,
            body=body,
            details=details or {},
        )
    )
    case.updated_at = now()


def _start_timer(case: CaseRow, state: CaseState, config: CaseConfig, at: datetime) -> None:
    timer = config.timer(state, case.platform)
    if timer is None:
        case.timer, case.due_at = None, None
    else:
        case.timer, case.due_at = timer[0], at + timedelta(hours=timer[1])


def _audit(session: Session, actor: Actor, case: CaseRow, action: str, **details: Any) -> None:
    audit(
        session,
        action=f"case.{action}",
        subject=case.reference,
        actor=actor,
        member_id=case.owner_id,
        details={"case": case.id, **details},
    )


@dataclass(frozen=True, slots=True)
class Opening:
    """What a new case is about: listings, or a seller (all its listings the actor sees)."""

    listing_pks: Sequence[int] = ()
    seller: tuple[str, str] | None = None  # (platform, seller id)
    title: str | None = None
    owner: str | None = None  # the rights holder member; by default the actor's member
    parties: Sequence[tuple[str, PartyRole]] = ()
    origin: str = "manual"
    rule_id: int | None = None
    note: str | None = None


@dataclass
class _Subject:
    listings: list[ListingRow]
    brand: str | None
    platform: str | None
    seller_id: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Group:
    """Listings that make one case, and the seller it is about (None: not a seller case)."""

    listing_pks: list[int]
    seller: tuple[str, str] | None


def group_listings(rows: Iterable[tuple[int, str, str | None]], *, per_seller: bool) -> list[Group]:
    """Listings (id, platform, seller id) as the cases they make: one per seller, or one per
    listing. A listing whose seller is unknown is a case of its own either way."""
    groups: dict[tuple[str, str | None, int | None], list[int]] = {}
    for pk, platform, seller_id in rows:
        alone = None if per_seller and seller_id else pk
        groups.setdefault((platform, seller_id, alone), []).append(pk)
    return [
        Group(pks, (platform, seller_id) if alone is None and seller_id else None)
        for (platform, seller_id, alone), pks in groups.items()
    ]


def _subject(session: Session, actor: Actor, opening: Opening) -> _Subject:
    pks = list(dict.fromkeys(opening.listing_pks))
    if len(pks) > MAX_LISTINGS:
        raise CaseError(f"a case holds at most {MAX_LISTINGS:,} listings (got {len(pks):,})")
    query = select(ListingRow).where(visible_listings(actor))
    if opening.seller is not None:
        platform, seller_id = opening.seller
        query = query.where(ListingRow.platform == platform, ListingRow.seller_id == seller_id)
        if pks:
            query = query.where(ListingRow.id.in_(pks))
    elif pks:
        query = query.where(ListingRow.id.in_(pks))
    else:
        raise CaseError("a case is about listings or a seller: name at least one of them")
    listings = list(session.scalars(query.order_by(ListingRow.id).limit(MAX_LISTINGS + 1)))
    if len(listings) > MAX_LISTINGS:
        raise CaseError(f"a case holds at most {MAX_LISTINGS:,} listings; narrow it down")
    if not listings:
        what = f"seller {opening.seller[1]!r} on {opening.seller[0]}" if opening.seller else None
        raise CaseNotFound(
            f"no listing of {what} that you may see" if what else "none of these listings exist"
        )
    missing = set(pks) - {row.id for row in listings}
    if missing and opening.seller is None:
        raise CaseNotFound(f"no listing {min(missing)}")
    brands = sorted({row.brand for row in listings if row.brand})
    platforms = sorted({row.platform for row in listings})
    sellers = sorted({row.seller_id for row in listings if row.seller_id})
    return _Subject(
        listings=listings,
        brand=brands[0] if len(brands) == 1 else None,
        platform=platforms[0] if len(platforms) == 1 else None,
        seller_id=(
            opening.seller[1] if opening.seller else sellers[0] if len(sellers) == 1 else None
        ),
    )


def _owner(session: Session, actor: Actor, opening: Opening, subject: _Subject) -> str:
    """The rights holder: named (the operator may name any member; a member only itself), the
    actor's member, or, for the operator, the owner of the listings' one brand."""
    if opening.owner is not None:
        if not actor.is_operator and opening.owner != actor.member_id:
            raise CaseForbidden("a member opens cases for itself; the operator may name another")
        if session.get(MemberRow, opening.owner) is None:
            raise CaseError(f"owner: no member {opening.owner!r}")
        return opening.owner
    if actor.member_id is not None and not actor.is_operator:
        return actor.member_id
    if subject.brand is not None:
        owner = session.scalar(select(BrandRow.owner_id).where(BrandRow.name == subject.brand))
        if owner is not None:
            return owner
    if actor.member_id is not None:
        return actor.member_id
    raise CaseError(
        "cannot tell whose rights this case defends: the listings name no single registered "
        "brand with an owner; name the rights holder (--owner MEMBER)"
    )


def _title(opening: Opening, subject: _Subject) -> str:
    if opening.title is not None:
        title = " ".join(opening.title.split())
        if not title:
            raise CaseError("title: write a few words on what the case is about")
        if len(title) > MAX_TITLE:
            raise CaseError(f"title: at most {MAX_TITLE} characters")
        return title
    # What the case is about: its brand, or the few brands its listings name.
    brands = sorted({row.brand for row in subject.listings if row.brand})
    what = ", ".join(brands[:3]) + (" …" if len(brands) > 3 else "") or "Listings"
    if subject.seller_id:
        return f"{what}: seller {subject.seller_id}"[:MAX_TITLE]
    count = len(subject.listings)
    first = subject.listings[0]
    if count == 1:
        return f"{what}: {first.platform} {first.listing_id}"[:MAX_TITLE]
    return f"{what}: {count} listings"[:MAX_TITLE]


def _add_party(session: Session, case: CaseRow, member_id: str, role: PartyRole) -> bool:
    if session.get(MemberRow, member_id) is None:
        raise CaseError(f"party: no member {member_id!r}")
    key = (case.id, member_id, role.value)
    if session.get(CasePartyRow, key) is not None:
        return False
    session.add(CasePartyRow(case_id=case.id, member_id=member_id, role=role.value))
    # A party sees what the case is about: the marketplace must see the listings it is asked
    # to take down, the liaison the listings it is referred.
    session.flush()
    in_case = session.scalars(
        select(CaseListingRow.listing_pk).where(CaseListingRow.case_id == case.id)
    ).all()
    grant_access(session, in_case, member_id, "shared")
    return True


def open_case_in(session: Session, actor: Actor, opening: Opening, config: CaseConfig) -> CaseRow:
    """Open a case inside the caller's transaction (rules open many in one)."""
    if not may_work(actor):
        raise CaseForbidden("opening a case needs an analyst's or admin's role and write access")
    subject = _subject(session, actor, opening)
    owner = _owner(session, actor, opening, subject)
    at = now()
    case = CaseRow(
        reference=f"pending-{uuid.uuid4().hex}",  # numbered once the row has its id
        title=_title(opening, subject),
        state=CaseState.OPEN.value,
        owner_id=owner,
        brand=subject.brand,
        platform=subject.platform,
        seller_id=subject.seller_id,
        origin=opening.origin,
        rule_id=opening.rule_id,
        opened_by=actor.name,
        opened_at=at,
        updated_at=at,
    )
    _start_timer(case, CaseState.OPEN, config, at)
    session.add(case)
    session.flush()
    case.reference = f"C-{at.year}-{case.id:06d}"
    session.add_all(
        CaseListingRow(case_id=case.id, listing_pk=row.id, added_at=at) for row in subject.listings
    )
    _add_party(session, case, owner, PartyRole.RIGHTS_HOLDER)
    marketplace = config.marketplace(subject.platform)
    if marketplace is not None and session.get(MemberRow, marketplace) is not None:
        _add_party(session, case, marketplace, PartyRole.MARKETPLACE)
    for member_id, role in opening.parties:
        _add_party(session, case, member_id, role)
    record_event(
        session,
        case,
        actor,
        "opened",
        to_state=CaseState.OPEN.value,
        body=opening.note,
        details={"listings": [row.id for row in subject.listings], "origin": opening.origin},
    )
    _audit(session, actor, case, "open", listings=len(subject.listings), origin=opening.origin)
    return case


def open_case(store: Store, actor: Actor, opening: Opening, config: CaseConfig) -> int:
    """Open a case; its id."""
    with store.session() as session:
        return open_case_in(session, actor, opening, config).id


def move_in(
    session: Session,
    case: CaseRow,
    actor: Actor,
    target: CaseState,
    config: CaseConfig,
    *,
    outcome: Outcome | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Move the case to `target` inside the caller's transaction, or refuse saying why."""
    source = CaseState(case.state)
    if not can_move(source, target):
        allowed = ", ".join(sorted(t.value for t in TRANSITIONS[source])) or "nothing"
        raise CaseTransitionError(
            f"case {case.reference} is {source.value}: it cannot become {target.value} "
            f"(from {source.value} it may become {allowed})"
        )
    if target is CaseState.ACTIONED and outcome is None:
        raise CaseTransitionError("an actioned case needs its outcome: what the marketplace did")
    if target is not CaseState.ACTIONED and outcome is not None:
        raise CaseTransitionError("an outcome is recorded only when the case is actioned")
    if note is not None and len(note) > MAX_COMMENT:
        raise CaseError(f"note: at most {MAX_COMMENT:,} characters")
    at = now()
    decision = decision_of(target)
    if decision is not None:
        case.decision = decision.value
        _review_listings(session, case, actor, decision.value, at)
    if target is CaseState.NOTICE_SENT:
        case.notice_sent_at = case.notice_sent_at or at
    if target is CaseState.ACTIONED:
        case.outcome = outcome.value if outcome else None
        case.actioned_at = at
    if target is CaseState.CLOSED:
        case.closed_at = at
    if source in REOPENABLE and target is CaseState.OPEN:
        # Reopened: the case is decided again; its history stays in the timeline.
        case.decision, case.outcome, case.closed_at = None, None, None
    case.state = target.value
    _start_timer(case, target, config, at)
    kind = "reopened" if target is CaseState.OPEN else "moved"
    record_event(
        session,
        case,
        actor,
        kind,
        from_state=source.value,
        to_state=target.value,
        body=note,
        details={**(details or {}), **({"outcome": outcome.value} if outcome else {})},
    )
    _audit(session, actor, case, "move", source=source.value, target=target.value)


def _review_listings(
    session: Session, case: CaseRow, actor: Actor, decision: str, at: datetime
) -> None:
    """A decided case decides its listings in the rights holder's review queue too, so that
    the queue does not offer again what a case has settled."""
    in_case = select(CaseListingRow.listing_pk).where(CaseListingRow.case_id == case.id)
    session.execute(
        update(ListingAccessRow)
        .where(
            ListingAccessRow.member_id == case.owner_id, ListingAccessRow.listing_pk.in_(in_case)
        )
        .values(review=decision, reviewed_by=actor.name, reviewed_at=at)
    )


# Moves that another service makes as part of its own work (a notice sends, an answer actions).
SERVICE_MOVES = frozenset({CaseState.NOTICE_SENT, CaseState.ACTIONED})


def move(
    store: Store,
    actor: Actor,
    case_id: int,
    target: CaseState,
    config: CaseConfig,
    *,
    note: str | None = None,
) -> CaseState:
    """Move one case as the actor asks; the new state."""
    if target in SERVICE_MOVES:
        raise CaseTransitionError(
            f"a case becomes {target.value} by "
            + ("sending its notice" if target is CaseState.NOTICE_SENT else "recording the "
               "marketplace's answer to its notice")
        )  # fmt: skip
    with store.session() as session:
        case = case_for(session, actor, case_id, write=True)
        if not may_decide(session, actor, case):
            raise CaseForbidden(
                f"only the rights holder of case {case.reference} (or the operator) decides it"
            )
        move_in(session, case, actor, target, config, note=note)
        return CaseState(case.state)


@dataclass
class BulkResult:
    target: str
    moved: list[int]
    refused: dict[int, str]


def move_many(
    store: Store, actor: Actor, case_ids: Iterable[int], target: CaseState, config: CaseConfig
) -> BulkResult:
    """Move several cases; each that cannot move is reported with its reason, the rest move."""
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        raise CaseError("select at least one case")
    if len(ids) > MAX_BULK:
        raise CaseError(f"at most {MAX_BULK} cases at once (got {len(ids)})")
    result = BulkResult(target=target.value, moved=[], refused={})
    for case_id in ids:
        try:
            move(store, actor, case_id, target, config)
        except VigilError as problem:
            result.refused[case_id] = str(problem)
        else:
            result.moved.append(case_id)
    return result


def assign(store: Store, actor: Actor, case_id: int, user_id: int | None) -> None:
    """Give the case to a person of a party member (or the operator); None unassigns."""
    with store.session() as session:
        case = case_for(session, actor, case_id, write=True)
        name = None
        if user_id is not None:
            user = session.get(UserRow, user_id)
            party = user is not None and (
                session.scalar(
                    select(func.count())
                    .select_from(CasePartyRow)
                    .where(
                        CasePartyRow.case_id == case.id, CasePartyRow.member_id == user.member_id
                    )
                )
                or _is_operator_member(session, user.member_id)
            )
            if user is None or not user.active or not party:
                raise CaseError(
                    f"assignee: no active user {user_id} among the case's parties' people"
                )
            if not actor.is_operator and user.member_id != actor.member_id:
                raise CaseForbidden("a member assigns a case to its own people")
            name = user.email
        case.assignee_id = user_id
        record_event(session, case, actor, "assigned", details={"user": user_id, "email": name})
        _audit(session, actor, case, "assign", user=user_id)


def _is_operator_member(session: Session, member_id: str) -> bool:
    kind = session.scalar(select(MemberRow.kind).where(MemberRow.id == member_id))
    return kind == "operator"


def comment(store: Store, actor: Actor, case_id: int, body: str) -> None:
    """A party's comment on the case's timeline."""
    text = body.strip()
    if not text:
        raise CaseError("comment: write something first")
    if len(text) > MAX_COMMENT:
        raise CaseError(f"comment: at most {MAX_COMMENT:,} characters")
    with store.session() as session:
        case = case_for(session, actor, case_id, write=True)
        record_event(session, case, actor, "comment", body=text)
        _audit(session, actor, case, "comment", length=len(text))


def add_party(store: Store, actor: Actor, case_id: int, member_id: str, role: PartyRole) -> bool:
    """Bring a member into the case in a role (the rights holder or operator does); False when
    it already was."""
    with store.session() as session:
        case = case_for(session, actor, case_id, write=True)
        if not may_decide(session, actor, case):
            raise CaseForbidden("only the rights holder (or the operator) adds parties")
        if role is PartyRole.RIGHTS_HOLDER and not actor.is_operator:
            # A second rights holder decides the case too: the operator grants that.
            raise CaseForbidden("only the operator makes another member a rights holder")
        added = _add_party(session, case, member_id, role)
        if added:
            record_event(
                session, case, actor, "party_added", details={"member": member_id, "role": role}
            )
            _audit(session, actor, case, "party", member=member_id, role=role.value)
        return added


def add_listings(store: Store, actor: Actor, case_id: int, listing_pks: Sequence[int]) -> int:
    """Add listings the actor may see to an active case; how many were new to it."""
    with store.session() as session:
        case = case_for(session, actor, case_id, write=True)
        if not may_decide(session, actor, case):
            raise CaseForbidden("only the rights holder (or the operator) adds listings")
        if CaseState(case.state) not in ACTIVE:
            raise CaseError(f"case {case.reference} is {case.state}; reopen it to add listings")
        subject = _subject(session, actor, Opening(listing_pks=listing_pks))
        have = set(
            session.scalars(
                select(CaseListingRow.listing_pk).where(CaseListingRow.case_id == case.id)
            )
        )
        new = [row.id for row in subject.listings if row.id not in have]
        session.add_all(
            CaseListingRow(case_id=case.id, listing_pk=pk, added_at=now()) for pk in new
        )
        parties = session.scalars(
            select(CasePartyRow.member_id).where(CasePartyRow.case_id == case.id).distinct()
        ).all()
        for member_id in parties:
            grant_access(session, new, member_id, "shared")
        if new:
            record_event(session, case, actor, "listings_added", details={"listings": new})
            _audit(session, actor, case, "listings", added=len(new))
        return len(new)


def is_overdue(case: CaseRow, at: datetime | None = None) -> bool:
    return (
        case.due_at is not None
        and CaseState(case.state) in ACTIVE
        and as_utc(case.due_at) < (at or now())
    )
