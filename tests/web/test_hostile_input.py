"""Hostile and malformed input on every route, generated from the route table: SQL
metacharacters in every text filter, broken bodies, wrong content types, oversized bodies.
The answer is always a clear 4xx (or the filtered result), never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.web.conftest import Web, email
from tests.web.test_authorization_matrix import PUBLIC, ROUTES, make_objects
from vigil.store.tables import ListingRow, MemberRow, UserRow

SQL_METACHARACTERS = [
    "' OR 1=1 --",
    '" OR ""="',
    "%",
    "_",
    "\\",
    "'; DROP TABLE listings; --",
    "\x00",
    "ʼ OR 1=1",
    "1; SELECT pg_sleep(5)",
]
GETS = [(m, p, r) for m, p, r in ROUTES if m == "GET" and (m, p) not in PUBLIC]
WRITES = [
    (m, p, r)
    for m, p, r in ROUTES
    if m in ("POST", "PATCH", "PUT") and p.startswith("/api/") and (m, p) not in PUBLIC
]


def _text_filters(route: object) -> list[str]:
    dependant = route.dependant  # type: ignore[attr-defined]
    names = []
    for param in dependant.query_params:
        annotation = str(param.field_info.annotation)
        if "str" in annotation or "Literal" in annotation:
            names.append(param.alias)
    return names


def _counts(web: Web) -> tuple[int, int, int]:
    with web.store.session() as session:
        return (
            session.scalar(select(func.count()).select_from(ListingRow)) or 0,
            session.scalar(select(func.count()).select_from(MemberRow)) or 0,
            session.scalar(select(func.count()).select_from(UserRow)) or 0,
        )


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, _ in GETS], ids=[p for _, p, _ in GETS]
)
def test_sql_metacharacters_in_every_text_filter_are_harmless(
    web: Web, method: str, path: str
) -> None:
    route = next(r for m, p, r in GETS if m == method and p == path)
    filters = _text_filters(route)
    if not filters:
        pytest.skip(f"{path} takes no text filter")
    own = make_objects(web, "alliance", email("admin", "alliance"))
    client = web.client(email("admin", "alliance"))
    before = _counts(web)
    for name in filters:
        for value in SQL_METACHARACTERS:
            answer = client.get(own.fill(path), params={name: value})
            assert answer.status_code < 500, f"{path}?{name}={value!r}: {answer.status_code}"
            assert answer.status_code in (200, 303, 400, 422), (
                f"{path}?{name}={value!r}: {answer.status_code}"
            )
    assert _counts(web) == before


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, _ in WRITES], ids=[f"{m} {p}" for m, p, _ in WRITES]
)
def test_malformed_bodies_get_clear_4xx(web: Web, method: str, path: str) -> None:
    own = make_objects(web, "alliance", email("admin", "alliance"))
    client = web.api(email("admin", "alliance"))
    url = own.fill(path)
    cases = {
        "broken JSON": (b'{"name": ', "application/json"),
        "JSON of the wrong shape": (b"[1, 2, 3]", "application/json"),
        "wrong content type": (b"name=x", "text/plain"),
        "invalid UTF-8": (b'{"name": "\xff\xfe"}', "application/json"),
        "unknown fields": (b'{"zzz_unknown_field": 1}', "application/json"),
    }
    for case, (body, content_type) in cases.items():
        answer = client.request(method, url, content=body, headers={"content-type": content_type})
        assert 400 <= answer.status_code < 500, f"{case}: {answer.status_code} {answer.text[:200]}"
        detail = answer.json().get("detail")
        assert detail, f"{case}: no message"
    huge = b'{"name": "' + b"x" * (web.settings.max_upload_bytes + 10) + b'"}'
    answer = client.request(method, url, content=huge, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "MiB" in answer.json()["detail"]
