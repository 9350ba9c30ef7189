"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) and the digests taken over it.

Evidence that is JSON (a listing snapshot, its signals, a log entry) is kept and hashed in its
canonical form: keys sorted by their UTF-16 code units, no insignificant whitespace, numbers
written as ECMAScript writes them. Anyone with an RFC 8785 implementation gets the same bytes,
and so the same SHA-256, from the same value.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from vigil.errors import VigilError

JSON_MEDIA_TYPE = "application/json"
_SAFE = 2**53 - 1


class NotCanonicalizable(VigilError):
    """A value that has no canonical JSON form (NaN, infinity, an integer beyond 2**53...)."""


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 bytes of `value` (dicts with string keys, lists, strings, numbers, booleans,
    None); raise NotCanonicalizable naming what is wrong."""
    try:
        try:
            return rfc8785.dumps(value)
        except rfc8785.IntegerDomainError:
            # JCS numbers are IEEE doubles: a large float such as 2.0**60 is written
            # "1152921504606847000", which a JSON reader hands back as an int beyond 2**53 that
            # rfc8785 refuses. An int that is a double, or is the way JCS writes one, is taken
            # as that double, so bytes read back come out the same; any other is refused.
            return rfc8785.dumps(_as_doubles(value))
    except rfc8785.CanonicalizationError as error:
        raise NotCanonicalizable(
            f"this value has no canonical JSON form: {error}; only JSON types (objects with "
            "string keys, arrays, strings, finite numbers, integers a double holds exactly, "
            "booleans, null) have one"
        ) from None


def _as_doubles(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) > _SAFE:
        try:
            double = float(value)
        except OverflowError:
            return value
        if int(double) == value or rfc8785.dumps(double) == str(value).encode():
            return double
        return value
    if isinstance(value, dict):
        return {key: _as_doubles(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_doubles(item) for item in value]
    return value


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of `data`, in lower-case hex: how evidence names its content."""
    return hashlib.sha256(data).hexdigest()


def canonical_digest(value: Any) -> str:
    """The SHA-256 (hex) of the canonical JSON of `value`."""
    return sha256_hex(canonical_json(value))
