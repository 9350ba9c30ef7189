"""Members, users and API keys over the API: who is signed in, the operator admitting members,
member admins managing their people, everyone managing their own keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.services import accounts
from vigil.store.tables import ApiKeyRow, MemberRow, UserRow
from vigil.web.access import VisibleKey, VisibleMember, VisibleUser
from vigil.web.deps import StoreDep
from vigil.web.security import require

router = APIRouter()


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MemberOut(BaseModel):
    id: str
    name: str
    kind: MemberKind
    active: bool


class MemberIn(_Body):
    id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    kind: MemberKind


class MemberPatch(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    active: bool | None = None


class UserOut(BaseModel):
    id: int
    member_id: str
    email: str
    name: str
    role: Role
    active: bool
    created_at: datetime


class UserIn(_Body):
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(default="", max_length=200)
    role: Role
    password: str = Field(min_length=1, max_length=accounts.MAX_PASSWORD)


class UserPatch(_Body):
    role: Role | None = None
    active: bool | None = None


class Me(BaseModel):
    user: UserOut
    member: MemberOut
    scope: str


class PasswordChange(_Body):
    current: str = Field(min_length=1, max_length=accounts.MAX_PASSWORD)
    new: str = Field(min_length=1, max_length=accounts.MAX_PASSWORD)


class KeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    scope: Literal["read", "write"]
    user: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyIn(_Body):
    name: str = Field(min_length=1, max_length=200)
    scope: Literal["read", "write"] = "read"


class NewKey(KeyOut):
    key: str = Field(description="The whole key. It is shown this once and never again.")


def member_out(row: MemberRow) -> MemberOut:
    return MemberOut(id=row.id, name=row.name, kind=MemberKind(row.kind), active=row.active)


def user_out(row: UserRow) -> UserOut:
    return UserOut(
        id=row.id,
        member_id=row.member_id,
        email=row.email,
        name=row.name,
        role=Role(row.role),
        active=row.active,
        created_at=row.created_at,
    )


def key_out(row: ApiKeyRow, email: str) -> KeyOut:
    return KeyOut(
        id=row.id,
        name=row.name,
        prefix=f"{accounts.KEY_PREFIX}{row.prefix}",
        scope="write" if row.scope == "write" else "read",
        user=email,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


@router.get("/me", response_model=Me)
def me(actor: Annotated[Actor, require()], store: StoreDep) -> Me:
    """The signed-in user, their member and what the credential may do."""
    with store.session() as session:
        user = session.get(UserRow, actor.user_id)
        member = session.get(MemberRow, actor.member_id)
        assert user is not None and member is not None
        return Me(user=user_out(user), member=member_out(member), scope=actor.scope.value)


@router.post("/me/password", status_code=204)
def change_password(
    body: PasswordChange, actor: Annotated[Actor, require(write=True)], store: StoreDep
) -> None:
    assert actor.user_id is not None
    accounts.change_password(store, actor.user_id, current=body.current, new=body.new, actor=actor)


@router.get("/members", response_model=list[MemberOut])
def list_members(actor: Annotated[Actor, require()], store: StoreDep) -> list[MemberOut]:
    """The alliance's members. Who is a member is known within the alliance; their data is not."""
    with store.session() as session:
        rows = session.scalars(select(MemberRow).order_by(MemberRow.id))
        return [member_out(r) for r in rows if r.active or actor.is_operator]


@router.post("/members", response_model=MemberOut, status_code=201)
def create_member(
    body: MemberIn,
    actor: Annotated[Actor, require(Role.ADMIN, write=True, operator=True)],
    store: StoreDep,
) -> MemberOut:
    row = accounts.create_member(
        store, member_id=body.id, name=body.name, kind=body.kind.value, actor=actor
    )
    return member_out(row)


@router.get("/members/{member_id}", response_model=MemberOut)
def get_member(
    member_id: str, actor: Annotated[Actor, require()], member: VisibleMember
) -> MemberOut:
    return member_out(member)


@router.patch("/members/{member_id}", response_model=MemberOut)
def update_member(
    member_id: str,
    body: MemberPatch,
    actor: Annotated[Actor, require(Role.ADMIN, write=True, operator=True)],
    member: VisibleMember,
    store: StoreDep,
) -> MemberOut:
    row = accounts.update_member(store, member_id, name=body.name, active=body.active, actor=actor)
    return member_out(row)


@router.get("/members/{member_id}/users", response_model=list[UserOut])
def list_users(
    member_id: str,
    actor: Annotated[Actor, require(Role.ADMIN)],
    member: VisibleMember,
    store: StoreDep,
) -> list[UserOut]:
    with store.session() as session:
        rows = session.scalars(
            select(UserRow).where(UserRow.member_id == member_id).order_by(UserRow.email)
        )
        return [user_out(r) for r in rows]


@router.post("/members/{member_id}/users", response_model=UserOut, status_code=201)
def create_user(
    member_id: str,
    body: UserIn,
    actor: Annotated[Actor, require(Role.ADMIN, write=True)],
    member: VisibleMember,
    store: StoreDep,
) -> UserOut:
    row = accounts.create_user(
        store,
        member_id=member_id,
        email=body.email,
        name=body.name,
        role=body.role.value,
        password=body.password,
        actor=actor,
    )
    return user_out(row)


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(
    user_id: int, actor: Annotated[Actor, require(Role.ADMIN)], user: VisibleUser
) -> UserOut:
    return user_out(user)


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(
    user_id: int,
    body: UserPatch,
    actor: Annotated[Actor, require(Role.ADMIN, write=True)],
    user: VisibleUser,
    store: StoreDep,
) -> UserOut:
    row = accounts.update_user(
        store,
        user_id,
        role=body.role.value if body.role is not None else None,
        active=body.active,
        actor=actor,
    )
    return user_out(row)


@router.get("/keys", response_model=list[KeyOut])
def list_keys(actor: Annotated[Actor, require()], store: StoreDep) -> list[KeyOut]:
    """The signed-in user's API keys, revoked ones included."""
    with store.session() as session:
        rows = session.scalars(
            select(ApiKeyRow).where(ApiKeyRow.user_id == actor.user_id).order_by(ApiKeyRow.id)
        )
        return [key_out(r, actor.name) for r in rows]


@router.post("/keys", response_model=NewKey, status_code=201)
def create_key(
    body: KeyIn, actor: Annotated[Actor, require(write=True)], store: StoreDep
) -> NewKey:
    assert actor.user_id is not None
    row, whole = accounts.create_api_key(
        store, actor.user_id, name=body.name, scope=body.scope, actor=actor
    )
    return NewKey(**key_out(row, actor.name).model_dump(), key=whole)


@router.get("/keys/{key_id}", response_model=KeyOut)
def get_key(key_id: int, actor: Annotated[Actor, require()], key: VisibleKey) -> KeyOut:
    row, owner = key
    return key_out(row, owner.email)


@router.delete("/keys/{key_id}", response_model=KeyOut)
def revoke_key(
    key_id: int, actor: Annotated[Actor, require(write=True)], key: VisibleKey, store: StoreDep
) -> KeyOut:
    _, owner = key
    row = accounts.revoke_api_key(store, key_id, actor=actor)
    return key_out(row, owner.email)
