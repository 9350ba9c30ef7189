"""Loading what a path names, for this actor only: another member's object is 404, exactly as a
missing one, so that a response never tells whether it exists."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.domain.people import Actor, Role
from vigil.services.tenancy import visible_listings, visible_scans
from vigil.store.tables import (
    ApiKeyRow,
    BrandRow,
    ListingRow,
    MemberRow,
    ProductRow,
    ScanRow,
    UserRow,
)
from vigil.web.deps import StoreDep
from vigil.web.errors import NotFoundError, NotSignedInError
from vigil.web.security import signed_in


def member_for(session: Session, actor: Actor, member_id: str) -> MemberRow:
    row = session.get(MemberRow, member_id)
    if row is None or not (actor.is_operator or row.id == actor.member_id):
        raise NotFoundError(f"no member {member_id!r}")
    return row


def user_for(session: Session, actor: Actor, user_id: int) -> UserRow:
    """A user the actor may see: themselves, their member's users (for its admins), anyone (for
    the operator's admins)."""
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFoundError(f"no user {user_id}")
    admin = actor.role is Role.ADMIN
    if not (
        row.id == actor.user_id
        or (admin and row.member_id == actor.member_id)
        or (admin and actor.is_operator)
    ):
        raise NotFoundError(f"no user {user_id}")
    return row


def key_for(session: Session, actor: Actor, key_id: int) -> tuple[ApiKeyRow, UserRow]:
    """A key the actor may see: their own, their member's users' (for its admins), any (for the
    operator's admins)."""
    row = session.get(ApiKeyRow, key_id)
    owner = session.get(UserRow, row.user_id) if row is not None else None
    if row is None or owner is None:
        raise NotFoundError(f"no API key {key_id}")
    own = owner.id == actor.user_id
    member_admin = owner.member_id == actor.member_id and actor.role is Role.ADMIN
    operator_admin = actor.is_operator and actor.role is Role.ADMIN
    if not (own or member_admin or operator_admin):
        raise NotFoundError(f"no API key {key_id}")
    return row, owner


# Loaders as dependencies: they run before the request body is validated, so that a request
# naming another member's object gets 404 whatever its body, exactly as a missing object does.
# Declare the route's requirement first, then the loader: the role is checked before the object.


async def current_actor(request: Request) -> Actor:
    if await signed_in(request) is None:
        raise NotSignedInError("sign in first, or send an API key as 'Bearer <key>'")
    actor: Actor = request.state.actor
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]


def _visible_member(member_id: str, actor: ActorDep, store: StoreDep) -> MemberRow:
    with store.session() as session:
        return member_for(session, actor, member_id)


def _visible_user(user_id: int, actor: ActorDep, store: StoreDep) -> UserRow:
    with store.session() as session:
        return user_for(session, actor, user_id)


def _visible_key(key_id: int, actor: ActorDep, store: StoreDep) -> tuple[ApiKeyRow, UserRow]:
    with store.session() as session:
        return key_for(session, actor, key_id)


VisibleMember = Annotated[MemberRow, Depends(_visible_member)]
VisibleUser = Annotated[UserRow, Depends(_visible_user)]
VisibleKey = Annotated[tuple[ApiKeyRow, UserRow], Depends(_visible_key)]


def _visible_brand(brand_id: int, actor: ActorDep, store: StoreDep) -> BrandRow:
    with store.session() as session:
        row = session.get(BrandRow, brand_id)
        if row is None or not (actor.is_operator or row.owner_id == actor.member_id):
            raise NotFoundError(f"no brand {brand_id}")
        return row


def _visible_product(product_id: int, actor: ActorDep, store: StoreDep) -> ProductRow:
    with store.session() as session:
        row = session.get(ProductRow, product_id)
        brand = session.get(BrandRow, row.brand_id) if row is not None else None
        if row is None or brand is None:
            raise NotFoundError(f"no product {product_id}")
        if not (actor.is_operator or brand.owner_id == actor.member_id):
            raise NotFoundError(f"no product {product_id}")
        return row


def _visible_listing(listing_pk: int, actor: ActorDep, store: StoreDep) -> ListingRow:
    with store.session() as session:
        row = session.scalar(
            select(ListingRow).where(ListingRow.id == listing_pk, visible_listings(actor))
        )
        if row is None:
            raise NotFoundError(f"no listing {listing_pk}")
        return row


def _visible_scan(scan_id: str, actor: ActorDep, store: StoreDep) -> ScanRow:
    with store.session() as session:
        row = session.scalar(select(ScanRow).where(ScanRow.id == scan_id, visible_scans(actor)))
        if row is None:
            raise NotFoundError(f"no scan {scan_id!r}")
        return row


VisibleBrand = Annotated[BrandRow, Depends(_visible_brand)]
VisibleProduct = Annotated[ProductRow, Depends(_visible_product)]
VisibleListing = Annotated[ListingRow, Depends(_visible_listing)]
VisibleScan = Annotated[ScanRow, Depends(_visible_scan)]
