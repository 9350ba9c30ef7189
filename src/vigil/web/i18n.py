"""Simplified Chinese and English: Babel catalogues, the visitor's language, formatting.

The catalogues are gettext .po files under `translations/<lang>/LC_MESSAGES/`, one per part of
the site; all files of a language are merged when the app starts. English is the source text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from gettext import NullTranslations
from importlib import resources
from io import BytesIO
from typing import Any

from babel import Locale, negotiate_locale
from babel.dates import format_datetime as babel_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from markupsafe import Markup, escape
from starlette.requests import Request

LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT = "en"
LANG_COOKIE = "vigil_lang"
# Babel's locales behind our two language codes.
BABEL_LOCALE = {"en": Locale.parse("en"), "zh": Locale.parse("zh_Hans_CN")}


@cache
def translations(lang: str) -> NullTranslations:
    """The merged catalogue of `lang` (English needs none: its text is the source)."""
    if lang == DEFAULT:
        return NullTranslations()
    folder = resources.files("vigil.web").joinpath("translations", lang, "LC_MESSAGES")
    merged: Translations | None = None
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = Translations(buffer)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged if merged is not None else NullTranslations()


def choose_language(request: Request) -> str:
    """The language asked for: the visitor's choice (cookie), else the browser's, else English."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    header = request.headers.get("accept-language", "")
    preferred = []
    for part in header.split(","):
        tag = part.split(";")[0].strip().replace("-", "_")
        if tag:
            preferred.append(tag)
    found = negotiate_locale(
        preferred, ["en", "zh"], aliases={"zh_CN": "zh", "zh_Hans": "zh", "zh_SG": "zh"}
    )
    if found is None and any(tag.lower().startswith("zh") for tag in preferred):
        found = "zh"
    return found if found in LANGUAGES else DEFAULT


def gettext_for(lang: str) -> Callable[..., str]:
    """New-style gettext: `_("%(n)s listings", n=3)`; in templates the arguments are escaped."""
    catalogue = translations(lang)

    def gettext(message: str, **values: Any) -> str:
        text = catalogue.gettext(message)
        if values:
            return text % values
        return text

    return gettext


def markup_gettext(lang: str) -> Callable[..., Markup]:
    catalogue = translations(lang)

    def gettext(message: str, **values: Any) -> Markup:
        # Translations are text, not markup: "<key>" in a message shows as "<key>".
        text = escape(catalogue.gettext(message))
        if values:
            return text % {k: escape(v) for k, v in values.items()}
        return text

    return gettext


def number_formatter(lang: str) -> Callable[[float | int | None], str]:
    locale = BABEL_LOCALE[lang]

    def format_number(value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return str(format_decimal(value, format=pattern, locale=locale))

    return format_number


def datetime_formatter(lang: str) -> Callable[[datetime | None], str]:
    locale = BABEL_LOCALE[lang]

    def format_datetime(value: datetime | None, format: str = "medium") -> str:
        if value is None:
            return "—"
        return str(babel_datetime(value, format=format, locale=locale))

    return format_datetime
