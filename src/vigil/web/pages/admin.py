"""Members and users admin: the operator admits members; a member's admins manage its people."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.errors import VigilError
from vigil.services import accounts
from vigil.store.tables import MemberRow, UserRow
from vigil.web.access import VisibleMember, VisibleUser, member_for
from vigil.web.deps import StoreDep
from vigil.web.security import require
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)


def _members_page(
    request: Request, store: StoreDep, actor: Actor, *, error: str | None = None, status: int = 200
) -> Response:
    with store.session() as session:
        counts: dict[str, int] = {
            member_id: count
            for member_id, count in session.execute(
                select(UserRow.member_id, func.count()).group_by(UserRow.member_id)
            )
        }
        members = list(session.scalars(select(MemberRow).order_by(MemberRow.kind, MemberRow.id)))
    return render(
        request,
        "admin/members.html",
        {"members": members, "counts": counts, "kinds": list(MemberKind), "error": error},
        status_code=status,
    )


@router.get("/admin/members", name="admin_members")
def members(
    request: Request,
    store: StoreDep,
    actor: Annotated[Actor, require(Role.ADMIN)],
) -> Response:
    if not actor.is_operator:
        return RedirectResponse(f"/admin/members/{actor.member_id}", status_code=303)
    return _members_page(request, store, actor)


@router.post("/admin/members", name="admin_member_create")
def create_member(
    request: Request,
    store: StoreDep,
    actor: Annotated[Actor, require(Role.ADMIN, write=True, operator=True)],
    member_id: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=300)] = "",
    kind: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    try:
        accounts.create_member(
            store, member_id=member_id.strip(), name=name, kind=kind, actor=actor
        )
    except VigilError as error:
        return _members_page(request, store, actor, error=str(error), status=400)
    return RedirectResponse(f"/admin/members/{member_id.strip()}", status_code=303)


def _member_page(
    request: Request,
    store: StoreDep,
    actor: Actor,
    member_id: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    with store.session() as session:
        member = member_for(session, actor, member_id)
        users = list(
            session.scalars(
                select(UserRow).where(UserRow.member_id == member_id).order_by(UserRow.email)
            )
        )
    return render(
        request,
        "admin/member.html",
        {"member": member, "users": users, "roles": list(Role), "error": error},
        status_code=status,
    )


@router.get("/admin/members/{member_id}", name="admin_member")
def member(
    request: Request,
    member_id: str,
    store: StoreDep,
    actor: Annotated[Actor, require(Role.ADMIN)],
    _member: VisibleMember,
) -> Response:
    return _member_page(request, store, actor, member_id)


@router.post("/admin/members/{member_id}/active", name="admin_member_active")
def member_active(
    member_id: str,
    store: StoreDep,
    actor: Annotated[Actor, require(Role.ADMIN, write=True, operator=True)],
    _member: VisibleMember,
    active: Annotated[bool, Form()] = True,
) -> Response:
    accounts.update_member(store, member_id, name=None, active=active, actor=actor)
    return RedirectResponse(f"/admin/members/{member_id}", status_code=303)


@router.post("/admin/members/{member_id}/users", name="admin_user_create")
def create_user(
    request: Request,
    member_id: str,
    store: StoreDep,
    actor: Annotated[Actor, require(Role.ADMIN, write=True)],
    _member: VisibleMember,
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "viewer",
    password: Annotated[str, Form(max_length=accounts.MAX_PASSWORD)] = "",
) -> Response:
    try:
        accounts.create_user(
            store,
            member_id=member_id,
            email=email,
            name=name,
            role=role,
            password=password,
            actor=actor,
        )
    except VigilError as error:
        return _member_page(request, store, actor, member_id, error=str(error), status=400)
    return RedirectResponse(f"/admin/members/{member_id}", status_code=303)


@router.post("/admin/users/{user_id}", name="admin_user_update")
def update_user(
    user_id: int,
    store: StoreDep,
    actor: Annotated[Actor, require(Role.ADMIN, write=True)],
    user: VisibleUser,
    role: Annotated[str | None, Form(max_length=20)] = None,
    active: Annotated[bool | None, Form()] = None,
) -> Response:
    member_id = user.member_id
    accounts.update_user(store, user_id, role=role, active=active, actor=actor)
    return RedirectResponse(f"/admin/members/{member_id}", status_code=303)
