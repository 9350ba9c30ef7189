"""Turning pydantic's validation errors into one line a person can act on."""

from __future__ import annotations

from pydantic import ValidationError

_SHOWN = 40


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 3]}..."


def describe_validation_error(error: ValidationError) -> str:
    """'field.sub: message (got value)' for each problem, joined by '; '."""
    parts = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(p) for p in problem["loc"]) or "record"
        kind = problem["type"]
        message = problem["msg"]
        if kind == "extra_forbidden":
            parts.append(f"{where}: unknown field (check its spelling against docs/formats.md)")
        elif kind == "missing":
            parts.append(f"{where}: required field is missing")
        elif kind in ("string_too_long", "too_long"):
            size = len(problem["input"]) if hasattr(problem["input"], "__len__") else "?"
            parts.append(f"{where}: {message} (got {size:,})")
        else:
            parts.append(f"{where}: {message} (got {_shown(problem['input'])})")
    return "; ".join(parts)
