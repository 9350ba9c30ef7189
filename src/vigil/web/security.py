"""Who is asking, and may they: sessions, API keys, roles, write scope and CSRF.

Every route declares exactly one requirement (`require(...)` or `public()`); the generated
authorization test reads these from the route table, so a route without one fails the tests.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from vigil.domain.people import Actor, Role
from vigil.services.accounts import SignedIn, resolve_api_key, resolve_session
from vigil.store.db import Store
from vigil.web.errors import ForbiddenError, NotSignedInError

SESSION_COOKIE = "vigil_session"
LOGIN_CSRF_COOKIE = "vigil_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def signed_in(request: Request) -> SignedIn | None:
    """The session or API key the request carries, resolved once per request."""
    if hasattr(request.state, "signed_in"):
        found: SignedIn | None = request.state.signed_in
        return found
    store: Store = request.app.state.store
    found = None
    authorization = request.headers.get("authorization", "")
    scheme, _, credential = authorization.partition(" ")
    if authorization:
        if scheme.lower() != "bearer" or not credential.strip():
            raise NotSignedInError(
                "the Authorization header must be 'Bearer <API key>'; create a key on the "
                "API keys page"
            )
        found = await run_in_threadpool(resolve_api_key, store, credential.strip())
        if found is None:
            raise NotSignedInError("this API key is not valid or was revoked")
    else:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            found = await run_in_threadpool(resolve_session, store, token)
    request.state.signed_in = found
    if found is not None:
        request.state.actor = found.actor(client_address(request))
        request.state.csrf = found.csrf
    return found


async def _check_csrf(request: Request, expected: str) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ForbiddenError(
            "the form's security token is missing or wrong; reload the page and try again"
        )


@dataclass(frozen=True)
class Requirement:
    """What a route needs: a signed-in user of at least `role`; for `write`, a key with write
    scope or a session with its CSRF token; for `operator`, a user of the operator."""

    role: Role = Role.VIEWER
    write: bool = False
    operator: bool = False

    async def __call__(self, request: Request) -> Actor:
        found = await signed_in(request)
        if found is None:
            raise NotSignedInError("sign in first, or send an API key as 'Bearer <key>'")
        actor: Actor = request.state.actor
        if self.operator and not actor.is_operator:
            raise ForbiddenError("only the alliance operator may do this")
        if not actor.role.includes(self.role):
            raise ForbiddenError(f"this needs the {self.role.value} role or higher")
        unsafe = request.method not in SAFE_METHODS
        if (self.write or unsafe) and found.key is not None and not actor.can_write:
            raise ForbiddenError("this API key is read-only; use a key with write scope")
        # A page that only shows a form is a safe request: the token guards the form's POST.
        if unsafe and found.key is None:
            await _check_csrf(request, found.csrf or "")
        return actor


@dataclass(frozen=True)
class Public:
    """Anyone may call the route; unsafe methods of signed-out forms check the login token."""

    async def __call__(self, request: Request) -> Actor | None:
        found = await signed_in(request)
        if request.method not in SAFE_METHODS:
            if found is not None and found.key is None:
                await _check_csrf(request, found.csrf or "")
            elif found is None:
                await _check_csrf(request, request.cookies.get(LOGIN_CSRF_COOKIE) or "\0")
        return request.state.actor if found is not None else None


def require(role: Role = Role.VIEWER, *, write: bool = False, operator: bool = False) -> Any:
    return Depends(Requirement(role=role, write=write, operator=operator))


def public() -> Any:
    return Depends(Public())


def new_token() -> str:
    return secrets.token_urlsafe(32)
