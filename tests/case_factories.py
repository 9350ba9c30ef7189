"""A small world for case tests: members in every kind that takes part in cases, their people
as actors, a registered brand with a mark, and flagged listings each member may see.

Built on any store (the `store` fixture gives SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import insert

from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.services import accounts
from vigil.services.tenancy import grant_access
from vigil.store.db import Store, cli_actor
from vigil.store.tables import BrandRow, ListingRow, SignalRow

MEMBERS = {
    "alliance": ("The Alliance", MemberKind.OPERATOR),
    "acme": ("Acme Brands", MemberKind.BRAND_OWNER),
    "globex": ("Globex Goods", MemberKind.BRAND_OWNER),
    "shopmart": ("Shopmart Marketplace", MemberKind.MARKETPLACE),
    "police": ("Enforcement Liaison", MemberKind.ENFORCEMENT),
}
_numbers = itertools.count(1)


def actor(member: str, role: Role = Role.ANALYST, *, write: bool = True) -> Actor:
    """An actor of `member` in `role` (a user of that e-mail exists in the seeded world)."""
    from vigil.domain.people import Scope

    return Actor(
        name=f"{role.value}@{member}.test",
        member_id=member,
        member_kind=MEMBERS[member][1],
        role=role,
        scope=Scope.WRITE if write else Scope.READ,
        source="test",
    )


@dataclass
class CaseWorld:
    store: Store
    users: dict[str, int] = field(default_factory=dict)  # e-mail -> user id

    def listing(
        self,
        owner: str = "acme",
        *,
        brand: str | None = None,
        seller: str = "shop-1",
        platform: str = "shopmart",
        verdict: str = "counterfeit_suspected",
        risk: float = 0.95,
        signals: list[dict[str, Any]] | None = None,
        **columns: Any,
    ) -> int:
        """A stored, flagged listing that `owner` may see (by its brand); its id."""
        n = next(_numbers)
        brand = brand or f"Brand of {owner}"
        values = {
            "platform": platform,
            "listing_id": f"L{n}",
            "title": f"{brand} phone 高仿 {n}",
            "description": "一比一 复刻",
            "url": f"https://{platform}.example/item/{n}",
            "price": 199.0,
            "currency": "CNY",
            "condition": "new",
            "seller_id": seller,
            "seller": {"id": seller, "name": f"Seller {seller}"},
            "seller_name": f"Seller {seller}",
            "images": [],
            "verdict": verdict,
            "risk": risk,
            "log_odds": 3.0,
            "brand": brand,
            "scanned_at": datetime.now(UTC),
            **columns,
        }
        with self.store.session() as session:
            pk = session.execute(insert(ListingRow).values(**values).returning(ListingRow.id))
            listing_pk = int(pk.scalar_one())
            for signal in signals or [
                {"detector": "wording", "kind": "counterfeit_wording", "weight": 2.5}
            ]:
                session.add(
                    SignalRow(
                        listing_pk=listing_pk,
                        detector=signal["detector"],
                        kind=signal["kind"],
                        asset=signal.get("asset"),
                        weight=signal["weight"],
                        evidence=signal.get("evidence", "高仿"),
                        explanation=signal.get("explanation", "counterfeit wording"),
                        details=signal.get("details", {}),
                    )
                )
            grant_access(session, [listing_pk], owner, "brand")
        return listing_pk


def seed_case_world(store: Store) -> CaseWorld:
    """Members, a user per role of each, and each brand owner's brand (with a mark)."""
    world = CaseWorld(store)
    cli = cli_actor()
    with pytest.MonkeyPatch.context() as patch:
        # Real argon2 at its lowest cost: fifteen people per test would take seconds otherwise.
        patch.setattr(
            accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
        )
        _people(store, world, cli)
    with store.session() as session:
        for member_id, (_, kind) in MEMBERS.items():
            if kind is MemberKind.BRAND_OWNER:
                name = f"Brand of {member_id}"
                session.add(
                    BrandRow(
                        name=name,
                        owner_id=member_id,
                        entry={
                            "name": name,
                            "owner": member_id,
                            "aliases": [],
                            "marks": [{"number": "8228888", "jurisdiction": "CN", "classes": [9]}],
                        },
                    )
                )
    return world


def _people(store: Store, world: CaseWorld, cli: Actor) -> None:
    for member_id, (name, kind) in MEMBERS.items():
        accounts.create_member(store, member_id=member_id, name=name, kind=kind.value, actor=cli)
        for role in Role:
            user = accounts.create_user(
                store,
                member_id=member_id,
                email=f"{role.value}@{member_id}.test",
                name=f"{role.value.title()} of {name}",
                role=role.value,
                password="correct horse battery",
                actor=cli,
            )
            world.users[user.email] = user.id
