"""The app factory: one FastAPI app serving the JSON API, the pages and their static files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil import __version__
from vigil.errors import VigilError
from vigil.services import accounts
from vigil.settings import Settings
from vigil.store.db import Store, open_store
from vigil.web.errors import WebError
from vigil.web.middleware import BodyLimit, SecurityHeaders, ServerTiming
from vigil.web.ratelimit import FailureLimiter
from vigil.web.routes import api_router, pages_router
from vigil.web.templating import render

log = logging.getLogger("vigil.web")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _describe(errors: Any) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return "; ".join(parts) or "the request is not valid"


def _error(request: Request, status: int, message: str) -> Response:
    if _is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return render(request, "error.html", {"status": status, "message": message}, status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WebError)
    async def web_error(request: Request, error: WebError) -> Response:
        return _error(request, error.status_code, error.message)

    @app.exception_handler(accounts.NotFound)
    async def not_found(request: Request, error: accounts.NotFound) -> Response:
        return _error(request, 404, str(error))

    @app.exception_handler(accounts.Conflict)
    async def conflict(request: Request, error: accounts.Conflict) -> Response:
        return _error(request, 409, str(error))

    @app.exception_handler(VigilError)
    async def vigil_error(request: Request, error: VigilError) -> Response:
        return _error(request, 400, str(error))

    @app.exception_handler(OverflowError)
    async def beyond_any_id(request: Request, error: OverflowError) -> Response:
        # An id past what the database can hold (SQLite refuses to bind it): nothing has it.
        return _error(request, 404, "there is nothing at this address")

    @app.exception_handler(DataError)
    async def out_of_range(request: Request, error: DataError) -> Response:
        # PostgreSQL's answer to the same: a value outside its column's range.
        return _error(request, 400, "a number in the request is out of range")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        message = _describe(error.errors())
        if _is_api(request):
            return JSONResponse(
                {"detail": message, "errors": _plain(error.errors())}, status_code=422
            )
        return _error(request, 400, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        # Starlette's own answers (no such route, wrong method) in the site's words.
        messages = {404: "there is nothing at this address", 405: "this method is not allowed"}
        message = messages.get(error.status_code) or str(error.detail) or "the request failed"
        return _error(request, error.status_code, message)


def _plain(errors: Any) -> list[dict[str, Any]]:
    return [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg")), "type": e.get("type")}
        for e in errors
    ]


def create_app(settings: Settings, *, store: Store | None = None) -> FastAPI:
    """The app for one installation. Pass `store` to share an open store (tests do)."""
    owns_store = store is None
    the_store = store if store is not None else open_store(settings.resolved_database_url())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        runner = app.state.scan_runner
        if runner is not None:
            runner.shutdown()
        if owns_store:
            the_store.close()

    app = FastAPI(
        title="Vigil",
        version=__version__,
        summary="The alliance's platform against counterfeiting and IP infringement",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI would load its code from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = the_store
    app.state.scan_runner = _scan_runner(settings, the_store)
    app.state.login_failures = FailureLimiter(
        limit=settings.login_attempts, window_s=settings.login_window_s
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(ServerTiming)
    _install_error_handlers(app)
    app.mount("/static", StaticFiles(packages=[("vigil.web", "static")]), name="static")
    app.include_router(api_router)
    app.include_router(pages_router)
    return app


def _scan_runner(settings: Settings, store: Store) -> Any:
    try:
        from vigil.services.scan_runs import ScanRunner
    except ImportError:  # the scan-run service is not part of this build
        return None
    return ScanRunner(store, settings)
