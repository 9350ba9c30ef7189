"""Signing in and out, the account page (password change) and the language switch."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.services import accounts
from vigil.web.deps import SettingsDep, StoreDep
from vigil.web.i18n import LANG_COOKIE, LANGUAGES, choose_language, gettext_for
from vigil.web.ratelimit import FailureLimiter
from vigil.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_address,
    new_token,
    public,
    require,
)
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)
YEAR = 365 * 24 * 3600


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _secure(request: Request, settings: SettingsDep) -> bool:
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return request.url.scheme == "https"


def _login_page(
    request: Request,
    settings: SettingsDep,
    *,
    error: str | None,
    email: str,
    next_url: str,
    signed_out: bool = False,
) -> Response:
    token = new_token()
    request.state.login_csrf = token
    response = render(
        request,
        "auth/login.html",
        {"error": error, "email": email, "next": next_url, "signed_out": signed_out},
        status_code=401 if error else 200,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
        max_age=3600,
    )
    return response


@router.get("/login", name="login")
def login_form(
    request: Request,
    settings: SettingsDep,
    actor: Annotated[Actor | None, public()],
    next: str | None = None,
    signed_out: bool = False,
) -> Response:
    # Shown even to someone signed in: signing in again replaces their session.
    return _login_page(
        request, settings, error=None, email="", next_url=safe_next(next), signed_out=signed_out
    )


@router.post("/login", name="login_submit")
async def login(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    _actor: Annotated[Actor | None, public()],
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=accounts.MAX_PASSWORD)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    _ = gettext_for(choose_language(request))
    limiter: FailureLimiter = request.app.state.login_failures
    keys = (f"ip:{client_address(request)}", f"email:{email.strip().lower()}")
    wait = limiter.retry_after(*keys)
    if wait:
        response = _login_page(
            request,
            settings,
            error=_("Too many failed sign-ins: try again in %(minutes)s minutes.")
            % {"minutes": max(1, round(wait / 60))},
            email=email,
            next_url=safe_next(next),
        )
        response.status_code = 429
        response.headers["Retry-After"] = str(wait)
        return response
    user = await run_in_threadpool(accounts.authenticate, store, email, password)
    if user is None:
        limiter.failed(*keys)
        return _login_page(
            request,
            settings,
            error=_("The e-mail or password is wrong, or the account is suspended."),
            email=email,
            next_url=safe_next(next),
        )
    limiter.succeeded(keys[1])
    token, _csrf = await run_in_threadpool(
        accounts.start_session,
        store,
        user,
        ip=client_address(request),
        replaces=request.cookies.get(SESSION_COOKIE),
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
        max_age=int(accounts.SESSION_TTL.total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", name="logout")
def logout(
    request: Request, store: StoreDep, _actor: Annotated[Actor, require(write=True)]
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.end_session(store, token)
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/language", name="language")
def language(
    request: Request,
    settings: SettingsDep,
    _actor: Annotated[Actor | None, public()],
    lang: str = "en",
    next: str | None = None,
) -> Response:
    """Switch the language and remember it (a cookie); back to the page the switch was on."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=YEAR, samesite="lax", secure=_secure(request, settings)
        )
    return response


@router.get("/account", name="account")
def account(request: Request, actor: Annotated[Actor, require()]) -> Response:
    return render(request, "auth/account.html", {"message": None, "error": None})


@router.post("/account/password", name="account_password")
def account_password(
    request: Request,
    store: StoreDep,
    actor: Annotated[Actor, require(write=True)],
    current: Annotated[str, Form(max_length=accounts.MAX_PASSWORD)] = "",
    new: Annotated[str, Form(max_length=accounts.MAX_PASSWORD)] = "",
    repeat: Annotated[str, Form(max_length=accounts.MAX_PASSWORD)] = "",
) -> Response:
    _ = gettext_for(choose_language(request))
    assert actor.user_id is not None
    if new != repeat:
        error: str | None = _("The two new passwords differ.")
    else:
        try:
            accounts.change_password(store, actor.user_id, current=current, new=new, actor=actor)
            error = None
        except VigilError as problem:
            error = str(problem)
    return render(
        request,
        "auth/account.html",
        {"message": None if error else _("Your password was changed."), "error": error},
        status_code=400 if error else 200,
    )
