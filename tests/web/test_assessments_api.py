"""The assessments API: filtered, cursor-paged lists and their exports, listing detail, bulk
review and sharing, over HTTP with sessions and API keys."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from tests.services.test_assessments import (
    ACME,
    GLOBEX,
    OPERATOR,
    SHOPMART,
    expected,
    seed,
    stored_rows,
)
from tests.web.conftest import Web
from vigil.services.assessments import CSV_COLUMNS, Sort, parse_filters, parse_sort
from vigil.store.tables import AuditEventRow, ListingAccessRow

API = "/api/v1/assessments"


@pytest.fixture
def seeded(web: Web, tmp_path: Path) -> Web:
    seed(web.store, tmp_path)
    return web


def every_page(client: object, params: dict[str, object]) -> list[int]:
    found: list[int] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = client.get(API, params=query)  # type: ignore[attr-defined]
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return found


def test_the_list_pages_by_cursor_through_the_filtered_set(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    client = seeded.api("viewer@acme.test", scope="read")
    params = {"verdict": "counterfeit_suspected,needs_review", "sort": "-scanned_at", "limit": 4}
    want = expected(rows, ACME, parse_filters({"verdict": [str(params["verdict"])]}),
                    parse_sort("-scanned_at"))  # fmt: skip
    assert len(want) > 8
    assert every_page(client, params) == want
    first = client.get(API, params={"limit": 2}).json()
    item = first["items"][0]
    assert {"id", "platform", "listing_id", "verdict", "risk", "brand", "signals", "review",
            "title", "seller", "scanned_at"} <= set(item)  # fmt: skip
    assert first["sort"] == "-risk" and first["limit"] == 2
    assert all(s["explanation"] for s in item["signals"])


def test_filters_in_the_query_string_work_like_the_service(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    client = seeded.client("analyst@shopmart.test")
    query = [("brand", "Xiaomi"), ("platform", "jd"), ("platform", "taobao"), ("risk_min", "0.5"),
             ("from", "2026-03-02"), ("to", "2026-03-05"), ("sort", "price")]  # fmt: skip
    answer = client.get(API, params=[*query, ("limit", "500")])
    assert answer.status_code == 200, answer.text
    filters = parse_filters({"brand": ["Xiaomi"], "platform": ["jd", "taobao"],
                             "risk_min": ["0.5"], "from": ["2026-03-02"], "to": ["2026-03-05"]})  # fmt: skip
    want = expected(rows, SHOPMART, filters, parse_sort("price"))
    assert want and [i["id"] for i in answer.json()["items"]] == want


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({"verdicts": "clear"}, 400, "unknown query parameter 'verdicts'"),
        ({"verdict": "fake"}, 400, "verdict: unknown 'fake'"),
        ({"risk_min": "0.9", "risk_max": "0.2"}, 400, "risk_min is above risk_max"),
        ({"risk_min": "2"}, 422, "risk_min"),
        ({"from": "last week"}, 422, "from"),
        ({"limit": "501"}, 422, "limit"),
        ({"sort": "title"}, 400, "sort: expected one of"),
        ({"cursor": "abc.def"}, 400, "the cursor is not valid"),
        ({"province": "Guangdong"}, 400, "province code"),
    ],
)
def test_bad_queries_get_a_clear_4xx(
    seeded: Web, query: dict[str, str], status: int, message: str
) -> None:
    answer = seeded.api("viewer@acme.test", scope="read").get(API, params=query)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["detail"]


def test_a_changed_cursor_is_400_and_a_cursor_of_other_filters_too(seeded: Web) -> None:
    client = seeded.api("viewer@globex.test", scope="read")
    cursor = client.get(API, params={"limit": 2}).json()["next_cursor"]
    assert cursor
    changed = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    for query in ({"cursor": changed}, {"cursor": cursor, "brand": "Apple"}):
        answer = client.get(API, params={"limit": 2, **query})
        assert answer.status_code == 400
        assert "cursor" in answer.json()["detail"]


def test_members_list_only_what_they_may_see(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    for who, actor in (("viewer@acme.test", ACME), ("viewer@globex.test", GLOBEX),
                       ("viewer@shopmart.test", SHOPMART), ("viewer@alliance.test", OPERATOR)):  # fmt: skip
        got = every_page(seeded.api(who, scope="read"), {"limit": 500})
        assert got == expected(rows, actor, parse_filters({}), Sort()), who


def test_export_streams_the_whole_set_as_csv_and_json_lines(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    client = seeded.api("viewer@alliance.test", scope="read")
    want = expected(rows, OPERATOR, parse_filters({}), Sort())
    assert len(want) > 50, "more than one page"
    answer = client.get(f"{API}/export", params={"format": "jsonl"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    assert 'attachment; filename="assessments-' in answer.headers["content-disposition"]
    records = [orjson.loads(line) for line in answer.content.splitlines()]
    assert [r["id"] for r in records] == want
    answer = client.get(f"{API}/export", params={"format": "csv", "brand": "Apple"})
    assert answer.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert table[0] == list(CSV_COLUMNS)
    apple = expected(rows, OPERATOR, parse_filters({"brand": ["Apple"]}), Sort())
    assert [int(r[0]) for r in table[1:]] == apple
    bad = client.get(f"{API}/export", params={"format": "xlsx"})
    assert bad.status_code == 422
    bad = client.get(f"{API}/export", params={"limit": "5"})
    assert bad.status_code == 400 and "unknown query parameter 'limit'" in bad.json()["detail"]


def test_listing_detail_and_another_members_listing_is_404(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    xss = next(r.pk for r in rows if r.listing_id == "xss")
    apple_only = next(r.pk for r in rows if r.brand == "Apple" and "shopmart" not in r.access)
    client = seeded.api("viewer@acme.test", scope="read")
    answer = client.get(f"/api/v1/listings/{xss}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["listing"]["title"].startswith("<script>")
    assert body["price"]["msrp"] == 3999.0
    assert {s["field"] for s in body["spans"]} == {"title", "description"}
    hidden = client.get(f"/api/v1/listings/{apple_only}")
    missing = client.get("/api/v1/listings/999999")
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json()["detail"] == f"no listing {apple_only}"
    assert missing.json()["detail"] == "no listing 999999"


def test_bulk_review_needs_an_analyst_with_write_rights_and_csrf(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    mine = [r.pk for r in rows if "acme" in r.access][:3]
    theirs = next(r.pk for r in rows if "acme" not in r.access)
    body = {"listings": [*mine, theirs], "decision": "confirmed", "note": "obvious fakes"}
    assert seeded.api("viewer@acme.test").post("/api/v1/reviews", json=body).status_code == 403
    reader = seeded.api("analyst@acme.test", scope="read")
    assert reader.post("/api/v1/reviews", json=body).status_code == 403
    session = seeded.client("analyst@acme.test")
    del session.headers["X-CSRF-Token"]
    assert session.post("/api/v1/reviews", json=body).status_code == 403
    with seeded.store.session() as s:
        assert not s.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "listings.review")
        ).all()
    session = seeded.client("analyst@acme.test")
    answer = session.post("/api/v1/reviews", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"decision": "confirmed", "updated": mine, "not_found": [theirs]}
    with seeded.store.session() as s:
        states = {
            g.listing_pk: g.review
            for g in s.scalars(select(ListingAccessRow).where(ListingAccessRow.member_id == "acme"))
        }
        event = s.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "listings.review")
        ).one()
    assert all(states[pk] == "confirmed" for pk in mine)
    assert event.actor == "analyst@acme.test" and event.details["listings"] == mine
    reviewed = session.get(API, params={"review": "confirmed", "limit": 50}).json()["items"]
    assert sorted(i["id"] for i in reviewed) == sorted(mine)


@pytest.mark.parametrize(
    "body",
    [
        {"listings": list(range(1, 1_002)), "decision": "confirmed"},
        {"listings": [], "decision": "confirmed"},
        {"listings": [1], "decision": "maybe"},
        {"listings": ["one"], "decision": "confirmed"},
        {"listings": [1], "decision": "confirmed", "extra": True},
    ],
)
def test_bad_review_bodies_are_422(seeded: Web, body: dict[str, object]) -> None:
    answer = seeded.api("analyst@acme.test").post("/api/v1/reviews", json=body)
    assert answer.status_code == 422, answer.text


def test_sharing_a_listing_with_another_member(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    pk = next(r.pk for r in rows if r.brand == "Apple" and "shopmart" not in r.access)
    owner = seeded.api("analyst@globex.test")
    shop = seeded.api("viewer@shopmart.test", scope="read")
    assert shop.get(f"/api/v1/listings/{pk}").status_code == 404
    answer = owner.post(f"/api/v1/listings/{pk}/share", json={"member": "shopmart"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"listing": pk, "member": "shopmart", "added": True}
    assert shop.get(f"/api/v1/listings/{pk}").status_code == 200
    unknown = owner.post(f"/api/v1/listings/{pk}/share", json={"member": "nobody"})
    assert unknown.status_code == 404 and "no member 'nobody'" in unknown.json()["detail"]
    # Another member's listing is 404 whatever the body says, even an empty one.
    other = next(r.pk for r in rows if r.brand == "Xiaomi" and "globex" not in r.access)
    for body in ({"member": "shopmart"}, {}):
        answer = owner.post(f"/api/v1/listings/{other}/share", json=body)
        assert answer.status_code == 404, body
    assert owner.post(f"/api/v1/listings/{pk}/share", json={}).status_code == 422
    viewer = seeded.api("viewer@globex.test")
    assert viewer.post(f"/api/v1/listings/{pk}/share", json={"member": "acme"}).status_code == 403


def test_the_openapi_document_describes_the_routes(web: Web) -> None:
    document = web.anonymous().get("/api/v1/openapi.json").json()
    paths = document["paths"]
    assert {"/api/v1/assessments", "/api/v1/assessments/export", "/api/v1/listings/{listing_pk}",
            "/api/v1/reviews", "/api/v1/listings/{listing_pk}/share"} <= set(paths)  # fmt: skip
    names = {p["name"] for p in paths["/api/v1/assessments"]["get"]["parameters"]}
    assert {"verdict", "brand", "platform", "province", "area", "risk_min", "risk_max", "from",
            "to", "review", "q", "sort", "limit", "cursor"} <= names  # fmt: skip
