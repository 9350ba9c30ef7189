"""Rendering pages: one Jinja2 environment, and what every template may use."""

from __future__ import annotations

from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from vigil.web.i18n import (
    LANGUAGES,
    choose_language,
    datetime_formatter,
    markup_gettext,
    number_formatter,
)
from vigil.web.labels import labeller
from vigil.web.places import place_namer
from vigil.web.security import CSRF_FIELD


def plain(value: Any) -> str:
    """A stored JSON value as a person reads it: `a: 1, b: 2` rather than a Python repr."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "—" if value is None else str(value)


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("vigil.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["plain"] = plain
    return environment


def _context(request: Request) -> dict[str, Any]:
    lang = getattr(request.state, "lang", None) or choose_language(request)
    request.state.lang = lang
    token = getattr(request.state, "csrf", None) or getattr(request.state, "login_csrf", None)

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, escape(token or "")
        )

    gettext = markup_gettext(lang)
    return {
        "actor": getattr(request.state, "actor", None),
        "lang": lang,
        "languages": LANGUAGES,
        "csrf_token": token or "",
        "csrf_field": csrf_field,
        "_": gettext,
        "label": labeller(gettext),
        "place": place_namer(lang),
        "format_number": number_formatter(lang),
        "format_datetime": datetime_formatter(lang),
        "path": request.url.path,
    }


templates = Jinja2Templates(env=_environment(), context_processors=[_context])


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context or {}, status_code=status_code)
    assert isinstance(response, HTMLResponse)
    return response
