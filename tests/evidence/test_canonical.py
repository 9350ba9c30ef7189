"""Canonical JSON (RFC 8785): the same value gives the same bytes whatever order its keys come
in, reading the bytes back gives them again, and values JSON cannot hold are refused."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.evidence.canonical import (
    NotCanonicalizable,
    canonical_digest,
    canonical_json,
    sha256_hex,
)
from vigil.evidence.entries import EntryError, LogEntry, decode_entry

SAFE = 2**53 - 1
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE, max_value=SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(values)
def test_reading_canonical_bytes_back_gives_the_same_bytes(value: Any) -> None:
    once = canonical_json(value)
    assert canonical_json(json.loads(once)) == once


@given(st.dictionaries(st.text(), values, max_size=8), st.randoms())
def test_key_order_does_not_change_the_bytes(value: dict[str, Any], rng: Any) -> None:
    keys = list(value)
    rng.shuffle(keys)
    assert canonical_json({key: value[key] for key in keys}) == canonical_json(value)


def test_the_rfc_rules_as_a_reader_checks_them() -> None:
    # Keys sorted by UTF-16 code units (so "\U0001f600" sorts before "\uffff"), no spaces,
    # numbers as ECMAScript prints them, non-ASCII kept as UTF-8.
    value = {"b": [1.0, 1e21, 0.1, -0.0], "a": "小米", "\uffff": 1, "\U0001f600": 2}
    assert canonical_json(value) == (
        '{"a":"小米","b":[1,1e+21,0.1,0],"\U0001f600":2,"\uffff":1}'.encode()
    )
    assert canonical_digest(value) == hashlib.sha256(canonical_json(value)).hexdigest()
    # A large number is a double, whether it came as an int or a float.
    written = b"[1152921504606847000,1152921504606847000,1152921504606847000]"
    assert canonical_json([2**60, float(2**60), 1152921504606847000]) == written
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ({"risk": float("nan")}, "finite numbers"),
        ({"n": 2**60 + 1}, "integers a double holds exactly"),
        ({"data": b"bytes"}, "only JSON types"),
        ({1: "not a string key"}, "only JSON types"),
    ],
    ids=["nan", "big-int", "bytes", "int-key"],
)
def test_values_json_cannot_hold_are_refused_with_the_reason(value: Any, says: str) -> None:
    with pytest.raises(NotCanonicalizable, match=says):
        canonical_json(value)


ENTRY = LogEntry(
    case="C-2026-000001",
    sha256="ab" * 32,
    kind="image",
    media_type="image/png",
    size=1234,
    captured_at="2026-12-08T01:00:00.000Z",
    platform="jd",
    listing_id="4957824",
)


def test_a_log_entry_reads_back_as_written() -> None:
    data = ENTRY.encode()
    assert decode_entry(data) == ENTRY
    assert json.loads(data)["listing"] == {"platform": "jd", "listing_id": "4957824"}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d.replace(b'"size":1234', b'"size": 1234'), "not in canonical form"),
        (lambda d: d.replace(b'"version":1', b'"version":2'), "version 2"),
        (lambda d: d.replace(b'"size":1234', b'"size":"1234"'), "size is missing or not a int"),
        (lambda d: d[:-1] + b',"extra":1}', "not in canonical form"),
        (lambda d: d[:-3], "not JSON"),
    ],
    ids=["spaced", "version", "size-type", "extra-field", "cut"],
)
def test_changed_entry_bytes_are_not_read_as_an_entry(change: Any, says: str) -> None:
    with pytest.raises(EntryError, match=says):
        decode_entry(change(ENTRY.encode()))
