"""Another member's data never shows through any read: every GET route of the app (pages, API,
exports), called by each role of one member, must not mention what only another member holds."""

from __future__ import annotations

import pytest

from tests.web.conftest import Web, email
from tests.web.test_authorization_matrix import PUBLIC, ROUTES, make_objects

READS = [(m, p) for m, p, _ in ROUTES if m == "GET" and (m, p) not in PUBLIC]
# What `make_objects` puts in another member's brand, listing, scan and work.
MARKERS = ("Brand globex", "secret listing of globex", "scan-globex-", "Work globex")


@pytest.mark.parametrize("role", ["admin", "analyst", "viewer"])
def test_no_read_shows_another_members_data(web: Web, role: str) -> None:
    make_objects(web, "globex", email("admin", "globex"))
    own = make_objects(web, "acme", email(role, "acme"))
    client = web.client(email(role, "acme"))
    checked = 0
    leaks = []
    extra = {"/api/v1/assessments/export": [{"format": "csv"}, {"format": "jsonl"}]}
    for method, path in READS:
        for params in extra.get(path, [{}]):
            answer = client.request(method, own.fill(path), params=params)
            if answer.status_code >= 500:
                leaks.append(f"{path}: {answer.status_code}")
            checked += 1
            leaks += [f"{path} {params} shows {m!r}" for m in MARKERS if m in answer.text]
    assert checked > 20
    assert not leaks, "\n".join(leaks)


def test_the_operator_does_see_them(web: Web) -> None:
    """The check above can fail: the operator's reads do show the other member's data."""
    make_objects(web, "globex", email("admin", "globex"))
    client = web.client(email("admin", "alliance"))
    shown = client.get("/api/v1/assessments", params={"limit": 500}).text
    shown += client.get("/api/v1/brands").text
    shown += client.get("/api/v1/scans").text
    shown += client.get("/api/v1/works").text
    assert all(m in shown for m in MARKERS)
