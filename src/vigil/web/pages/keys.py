"""API keys: create one (shown once), see when each was last used, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.services import accounts
from vigil.store.tables import ApiKeyRow
from vigil.web.access import VisibleKey
from vigil.web.deps import StoreDep
from vigil.web.security import require
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    store: StoreDep,
    actor: Actor,
    *,
    new_key: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    with store.session() as session:
        keys = list(
            session.scalars(
                select(ApiKeyRow)
                .where(ApiKeyRow.user_id == actor.user_id)
                .order_by(ApiKeyRow.id.desc())
            )
        )
    return render(
        request,
        "keys/keys.html",
        {"keys": keys, "new_key": new_key, "error": error, "prefix": accounts.KEY_PREFIX},
        status_code=status,
    )


@router.get("/keys", name="keys")
def keys(request: Request, store: StoreDep, actor: Annotated[Actor, require()]) -> Response:
    return _page(request, store, actor)


@router.post("/keys", name="key_create")
def create_key(
    request: Request,
    store: StoreDep,
    actor: Annotated[Actor, require(write=True)],
    name: Annotated[str, Form(max_length=200)] = "",
    scope: Annotated[str, Form(max_length=10)] = "read",
) -> Response:
    assert actor.user_id is not None
    try:
        _, whole = accounts.create_api_key(
            store, actor.user_id, name=name, scope=scope, actor=actor
        )
    except VigilError as error:
        return _page(request, store, actor, error=str(error), status=400)
    # The whole key is on this one response only; the page says to copy it now.
    response = _page(request, store, actor, new_key=whole, status=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/keys/{key_id}/revoke", name="key_revoke")
def revoke_key(
    key_id: int, store: StoreDep, actor: Annotated[Actor, require(write=True)], _key: VisibleKey
) -> Response:
    accounts.revoke_api_key(store, key_id, actor=actor)
    return RedirectResponse("/keys", status_code=303)
