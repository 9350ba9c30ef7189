"""Addresses the pages send people back to after a form."""

from __future__ import annotations

from urllib.parse import urlencode


def with_query(target: str, **values: str | int) -> str:
    """`target` with these query parameters added to the ones it has."""
    separator = "&" if "?" in target else "?"
    return f"{target}{separator}{urlencode(values)}"
