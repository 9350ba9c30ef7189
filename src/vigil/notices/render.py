"""A notice for people: HTML from per-marketplace Jinja2 templates, PDF from that HTML.

Templates are data files: `vigil/data/notices/default.html.j2`, and `<platform>.html.j2` for a
marketplace with intake details of its own (they extend the default). A template of the same
name under `<home>/notices/` takes precedence, and so does `<home>/notices/notice.css` for the
print stylesheet. Every word of the letter comes from the notice's language (`texts.yaml`) or
from the document itself; the document is the record, the HTML and PDF are its renderings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_currency
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape
from PIL import ImageFile

from vigil.errors import VigilError
from vigil.notices.config import NoticeConfig, load_notice_config, load_texts
from vigil.notices.document import NoticeDocument

DEFAULT_TEMPLATE = "default"
_TEMPLATE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,60}$")
_LOCALES = {"en": "en", "zh": "zh_Hans_CN"}
_DATE = {"en": "d MMMM y", "zh": "y年M月d日"}
_DATETIME = {"en": "d MMMM y, HH:mm 'UTC'xxx", "zh": "y年M月d日 HH:mm（'UTC'xxx）"}


class NoticeRenderError(VigilError):
    """A notice template or its stylesheet cannot be rendered."""


@cache
def _environment(home: str | None) -> SandboxedEnvironment:
    loaders: list[Any] = []
    if home is not None:
        loaders.append(FileSystemLoader(str(Path(home) / "notices")))
    loaders.append(PackageLoader("vigil.data", "notices"))
    environment = SandboxedEnvironment(
        loader=ChoiceLoader(loaders), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    environment.filters["css_string"] = css_string
    return environment


def css_string(value: str) -> Markup:
    """A CSS string literal of `value`, safe inside a <style> element (which is not unescaped)."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return Markup('"{}"'.format(text.replace("<", "\\3c ")))


def template_for(platform: str, home: Path | None = None) -> str:
    """The template a notice to `platform` uses: the platform's own when there is one (under
    the home first), else the default."""
    if _TEMPLATE_NAME.match(platform):
        try:
            _environment(str(home) if home else None).get_template(f"{platform}.html.j2")
            return platform
        except TemplateNotFound:
            pass
    return DEFAULT_TEMPLATE


def _say(words: dict[str, Any]) -> Callable[..., Markup]:
    def say(key: str, **values: Any) -> Markup:
        found: Any = words
        for part in key.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        if not isinstance(found, str):
            return Markup(escape(key))
        return Markup(escape(found)) % {k: escape(v) for k, v in values.items()}

    return say


def format_moment(value: datetime, language: str, zone: tzinfo) -> str:
    """A time as a notice in `language` writes it, in the marketplace's zone with its offset."""
    return str(
        babel_datetime(value.astimezone(zone), _DATETIME[language], locale=_LOCALES[language])
    )


def _formatters(language: str, zone: tzinfo) -> dict[str, Callable[..., str]]:
    locale = _LOCALES[language]

    def date(value: datetime | None) -> str:
        if value is None:
            return "—"
        return str(format_date(value.astimezone(zone), _DATE[language], locale=locale))

    def moment(value: datetime | None) -> str:
        return "—" if value is None else format_moment(value, language, zone)

    def money(amount: float | None, currency: str | None) -> str:
        if amount is None:
            return "—"
        return str(format_currency(amount, currency or "CNY", locale=locale))

    return {"date": date, "moment": moment, "money": money}


def notice_context(
    document: NoticeDocument,
    *,
    home: Path | None = None,
    config: NoticeConfig | None = None,
    digest: str | None = None,
) -> dict[str, Any]:
    """What a template sees: the document `doc`, its words `t` and `say(...)`, formatters."""
    config = config or load_notice_config(home)
    words = load_texts(home)[document.language]
    platform = document.recipient.platform
    return {
        "doc": document,
        "t": words,
        "say": _say(words),
        "platform_name": config.platform_name(platform, document.language),
        "digest": digest or document.sha256(),
        "listing_number": {item.listing_id: n for n, item in enumerate(document.listings, 1)},
        "quoted": set(config.quoted_kinds),
        **_formatters(document.language, config.zone(platform)),
    }


def render_html(
    document: NoticeDocument,
    *,
    template: str | None = None,
    home: Path | None = None,
    digest: str | None = None,
) -> str:
    """The notice as a complete HTML document (its stylesheet inline), in its language."""
    name = template or template_for(document.recipient.platform, home)
    if not _TEMPLATE_NAME.match(name):
        raise NoticeRenderError(f"{name!r} is not a notice template name")
    environment = _environment(str(home) if home else None)
    try:
        page = environment.get_template(f"{name}.html.j2")
    except TemplateNotFound:
        page = environment.get_template(f"{DEFAULT_TEMPLATE}.html.j2")
    try:
        return page.render(notice_context(document, home=home, digest=digest))
    except Exception as error:  # a home template's mistake, reported with its cause
        raise NoticeRenderError(
            f"the notice template {name!r} failed: {error}; fix it under "
            "<home>/notices/ or remove it to use the shipped one"
        ) from error


def _weasyprint() -> Any:
    """WeasyPrint, imported without the side effect its import has on Pillow: it makes every
    truncated image in the process decode as a partial picture, where Vigil's decoder must
    record a cut-off listing photo as broken (`images/decode.py`)."""
    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        import weasyprint
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated
    return weasyprint


def render_pdf(html: str) -> bytes:
    """The notice's HTML as a PDF, laid out by its print stylesheet."""
    weasyprint = _weasyprint()
    HTML, URLFetcher = weasyprint.HTML, weasyprint.URLFetcher

    # A notice names listing URLs; rendering must never fetch them (nor anything but data:).
    fetcher = URLFetcher(allowed_protocols=["data"])
    pdf: bytes | None = HTML(string=html, url_fetcher=fetcher).write_pdf()
    if pdf is None:  # only without a target file does WeasyPrint return the bytes
        raise NoticeRenderError("WeasyPrint produced no PDF")
    return pdf
