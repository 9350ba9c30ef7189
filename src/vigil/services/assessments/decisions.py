"""Review decisions on listings and sharing them with other members, each audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from vigil.domain.people import Actor
from vigil.services.assessments.errors import ListingNotFound, MemberNotFound, ReviewError
from vigil.services.assessments.params import MAX_NOTE, MAX_REVIEW, REVIEW_STATES
from vigil.services.tenancy import can_see_listing, grant_access, visible_listings
from vigil.store.db import Store, audit
from vigil.store.tables import ListingAccessRow, ListingRow, MemberRow


@dataclass
class ReviewResult:
    decision: str
    updated: list[int]
    not_found: list[int]


def _listing_pks(listing_pks: Iterable[int]) -> list[int]:
    pks = list(dict.fromkeys(listing_pks))
    if not pks:
        raise ReviewError("name at least one listing to review")
    if len(pks) > MAX_REVIEW:
        raise ReviewError(
            f"at most {MAX_REVIEW:,} listings per request (got {len(pks):,}); send the rest in "
            "another request"
        )
    if not all(isinstance(pk, int) and not isinstance(pk, bool) for pk in pks):
        raise ReviewError("listings are named by their numeric ids")
    return pks


def review(
    store: Store,
    actor: Actor,
    listing_pks: Iterable[int],
    decision: str,
    note: str | None = None,
) -> ReviewResult:
    """Record the actor's member's decision on these listings (one audit event for all).
    Listings the actor may not see are reported as not found and left alone."""
    if decision not in REVIEW_STATES:
        raise ReviewError(f"decision: expected one of {', '.join(REVIEW_STATES)}")
    if note is not None and len(note) > MAX_NOTE:
        raise ReviewError(f"note: at most {MAX_NOTE:,} characters")
    pks = _listing_pks(listing_pks)
    member = actor.member_id
    if member is None:
        raise ReviewError("a review is a member's decision; sign in as one of its users")
    with store.session() as session:
        visible = set(
            session.scalars(
                select(ListingRow.id).where(ListingRow.id.in_(pks), visible_listings(actor))
            )
        )
        updated = [pk for pk in pks if pk in visible]
        if updated and actor.is_operator:
            # The operator sees every listing without a grant; its row holds its decisions.
            grant_access(session, updated, member, "reviewed")
        if updated:
            session.query(ListingAccessRow).where(
                ListingAccessRow.member_id == member, ListingAccessRow.listing_pk.in_(updated)
            ).update(
                {
                    ListingAccessRow.review: decision,
                    ListingAccessRow.reviewed_by: actor.name,
                    ListingAccessRow.reviewed_at: datetime.now(UTC),
                },
                synchronize_session=False,
            )
        not_found = [pk for pk in pks if pk not in visible]
        audit(
            session,
            action="listings.review",
            subject=f"{decision}: {len(updated)} listings",
            actor=actor,
            details={
                "decision": decision,
                "listings": updated,
                "not_found": not_found,
                "note": note,
            },
        )
    return ReviewResult(decision=decision, updated=updated, not_found=not_found)


@dataclass
class ShareResult:
    listing_pk: int
    member_id: str
    added: bool  # False: the member could already see it


def share(store: Store, actor: Actor, listing_pk: int, member_id: str) -> ShareResult:
    """Let another member see a listing the actor sees (audited)."""
    with store.session() as session:
        if not can_see_listing(session, actor, listing_pk):
            raise ListingNotFound(f"no listing {listing_pk}")
        member = session.get(MemberRow, member_id)
        if member is None or not member.active:
            raise MemberNotFound(f"no member {member_id!r}; share with an active member's id")
        if member_id == actor.member_id:
            raise ReviewError("your own member sees this listing already; pick another member")
        had = session.get(ListingAccessRow, (listing_pk, member_id)) is not None
        if not had:
            grant_access(session, [listing_pk], member_id, "shared")
        audit(
            session,
            action="listings.share",
            subject=f"listing {listing_pk} shared with {member_id}",
            actor=actor,
            details={"listing": listing_pk, "member": member_id, "added": not had},
        )
    return ShareResult(listing_pk=listing_pk, member_id=member_id, added=not had)
