"""The review queue and the listing page: filters as a GET form, sortable headers, next page by
cursor, bulk decisions with CSRF, escaped listing text, highlighted evidence, tenancy."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.services.test_assessments import ACME, SHOPMART, XSS, expected, seed, stored_rows
from tests.web.conftest import Web
from vigil.services.assessments import parse_filters, parse_sort
from vigil.store.tables import ListingAccessRow

ROW = re.compile(r'<tr data-listing="(\d+)"')
ESCAPED_XSS = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def seeded(web: Web, tmp_path: Path) -> Web:
    seed(web.store, tmp_path)
    return web


def listed(html: str) -> list[int]:
    return [int(pk) for pk in ROW.findall(html)]


def form_token(client: TestClient) -> str:
    """The CSRF token as a form carries it, and the client without the header."""
    token = str(client.headers.pop("X-CSRF-Token"))
    return token


def review_states(web: Web, member: str) -> dict[int, str]:
    with web.store.session() as session:
        grants = session.scalars(
            select(ListingAccessRow).where(ListingAccessRow.member_id == member)
        )
        return {g.listing_pk: g.review for g in grants}


def test_the_queue_opens_on_open_suspicious_listings_by_risk(seeded: Web) -> None:
    client = seeded.client("viewer@acme.test")
    page = client.get("/queue")
    assert page.status_code == 200, page.text
    filters = parse_filters(
        {"verdict": ["counterfeit_suspected,infringement_suspected,needs_review"],
         "review": ["open"]}
    )  # fmt: skip
    want = expected(stored_rows(seeded.store), ACME, filters, parse_sort("-risk"))
    assert want and listed(page.text) == want[:50]
    assert 'data-testid="filters"' in page.text and 'method="get"' in page.text
    assert 'data-testid="shortcuts"' in page.text and "<kbd>j</kbd>" in page.text
    # A viewer sees the queue but gets no decision buttons.
    assert 'data-testid="bulk-confirm"' not in page.text


def test_filters_sorting_and_the_next_page_work_as_plain_links(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    client = seeded.client("analyst@shopmart.test")
    query = {"verdict": ["counterfeit_suspected", "needs_review"], "review": "any",
             "sort": "price", "from": "2026-03-01", "to": "2026-03-06", "limit": "10"}  # fmt: skip
    page = client.get("/queue", params=query)
    assert page.status_code == 200, page.text
    filters = parse_filters({"verdict": ["counterfeit_suspected", "needs_review"],
                             "from": ["2026-03-01"], "to": ["2026-03-06"]})  # fmt: skip
    want = expected(rows, SHOPMART, filters, parse_sort("price"))
    assert len(want) > 20, "the seed fills more than two pages"
    assert listed(page.text) == want[:10]
    following = re.search(r'<a class="btn" rel="next" href="([^"]+)"', page.text)
    assert following
    second = client.get(unescape(following.group(1)))
    assert second.status_code == 200
    assert listed(second.text) == want[10:20]
    assert 'data-testid="first-page"' in second.text
    # The header of the sorted column sorts the other way; the others keep the filters.
    header = re.search(r'<a href="([^"]+)" data-testid="sort-price">', page.text)
    assert header and "sort=-price" in unescape(header.group(1))
    assert "from=2026-03-01" in unescape(header.group(1))
    flipped = client.get(unescape(header.group(1)))
    assert listed(flipped.text) == expected(rows, SHOPMART, filters, parse_sort("-price"))[:10]
    # The export links carry the same filters and give every page at once.
    export = re.search(r'href="([^"]+)" data-testid="export-jsonl"', page.text)
    assert export
    lines = client.get(unescape(export.group(1))).content.splitlines()
    assert len(lines) == len(want)


def test_a_search_with_sql_metacharacters_finds_the_listing_that_holds_them(seeded: Web) -> None:
    client = seeded.client("viewer@shopmart.test")
    rows = {r.listing_id: r.pk for r in stored_rows(seeded.store)}
    for needle, key in (("%", "pct"), ("_", "und"), ("\\", "bsl"), ("' OR 1=1 --", "sql")):
        page = client.get("/queue", params={"q": needle, "review": "any"})
        assert page.status_code == 200
        assert listed(page.text) == [rows[key]], needle


def test_bad_filters_show_the_problem_and_the_default_queue(seeded: Web) -> None:
    client = seeded.client("viewer@acme.test")
    page = client.get("/queue", params={"risk_min": "lots"})
    assert page.status_code == 400
    assert "risk_min: expected a number from 0 to 1" in page.text
    assert listed(page.text), "the default queue is still shown"
    assert client.get("/queue", params={"cursor": "forged"}).status_code == 400


def test_bulk_confirm_with_the_form_token_and_403_without(seeded: Web) -> None:
    client = seeded.client("analyst@acme.test")
    page = client.get("/queue")
    chosen = listed(page.text)[:3]
    assert 'data-testid="bulk-confirm"' in page.text
    token = form_token(client)
    form = {"listing": [str(pk) for pk in chosen], "decision": "confirmed", "next": "/queue"}
    refused = client.post("/queue/review", data=form)
    assert refused.status_code == 403
    assert all(review_states(seeded, "acme")[pk] == "open" for pk in chosen)
    wrong = client.post("/queue/review", data={**form, "csrf_token": token[::-1]})
    assert wrong.status_code == 403
    done = client.post("/queue/review", data={**form, "csrf_token": token})
    assert done.status_code == 303
    assert done.headers["location"].startswith("/queue?reviewed=confirmed&count=3")
    assert all(review_states(seeded, "acme")[pk] == "confirmed" for pk in chosen)
    after = client.get(done.headers["location"])
    assert 'data-testid="flash"' in after.text
    assert not set(chosen) & set(listed(after.text)), "confirmed listings leave the open queue"
    # Nothing ticked: a clear message, nothing changed.
    empty = client.post("/queue/review", data={"decision": "dismissed", "csrf_token": token})
    assert empty.status_code == 400 and "No listing was selected" in empty.text


def test_bulk_review_cannot_touch_another_members_listing(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    theirs = next(r.pk for r in rows if "acme" not in r.access)
    client = seeded.client("analyst@acme.test")
    token = form_token(client)
    done = client.post(
        "/queue/review",
        data={"listing": [str(theirs)], "decision": "dismissed", "csrf_token": token,
              "next": "https://evil.example/"},
    )  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == "/queue?reviewed=dismissed&count=0&skipped=1"
    with seeded.store.session() as session:
        assert session.get(ListingAccessRow, (theirs, "acme")) is None


def test_listing_text_and_seller_names_are_escaped_everywhere(seeded: Web) -> None:
    pk = next(r.pk for r in stored_rows(seeded.store) if r.listing_id == "xss")
    client = seeded.client("analyst@shopmart.test")
    queue = client.get("/queue", params={"q": "evil-shop", "review": "any"})
    assert listed(queue.text) == [pk]
    detail = client.get(f"/listings/{pk}")
    for page in (queue, detail):
        assert XSS not in page.text
        assert ESCAPED_XSS in page.text
    assert f'data-testid="seller-name">{ESCAPED_XSS}<' in detail.text


def test_the_listing_page_highlights_the_evidence(seeded: Web) -> None:
    pk = next(r.pk for r in stored_rows(seeded.store) if r.listing_id == "xss")
    page = seeded.client("viewer@acme.test").get(f"/listings/{pk}")
    assert page.status_code == 200, page.text
    marks = re.findall(r'<mark class="span-([a-z0-9_-]+)" title="([^"]*)"[^>]*>([^<]*)</mark>',
                       page.text)  # fmt: skip
    marked = {(kind, text) for kind, _, text in marks}
    assert ("counterfeit_wording", "高仿") in marked
    assert ("brand_variant", "晓米") in marked
    assert all(title for _, title, _ in marks), "each mark explains itself"
    title = re.search(r'data-testid="listing-title">(.*?)</h1>', page.text, re.S)
    assert title and unescape(re.sub(r"<[^>]+>", "", title.group(1))).startswith(XSS)
    assert 'data-testid="signals"' in page.text and "price_below_msrp" in page.text
    assert 'data-testid="msrp"' in page.text and "3,999.00" in page.text
    # Web images load lazily without a referrer; local paths are never served.
    regular = next(r.pk for r in stored_rows(seeded.store) if r.listing_id == "u0")
    images = seeded.client("viewer@alliance.test").get(f"/listings/{regular}")
    assert re.search(r'<img src="https://img.example/a.jpg" loading="lazy" '
                     r'referrerpolicy="no-referrer"', images.text)  # fmt: skip
    assert "photos/local.jpg" not in images.text


def test_another_members_listing_is_404_like_a_missing_one(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    theirs = next(r.pk for r in rows if r.brand == "Apple")
    client = seeded.client("analyst@acme.test")
    hidden, missing = client.get(f"/listings/{theirs}"), client.get("/listings/999999")
    assert (hidden.status_code, missing.status_code) == (404, 404)
    token = client.headers["X-CSRF-Token"]
    for path, form in ((f"/listings/{theirs}/review", {"decision": "confirmed"}),
                       (f"/listings/{theirs}/share", {"member": "shopmart"})):  # fmt: skip
        assert client.post(path, data={**form, "csrf_token": token}).status_code == 404


def test_confirm_and_share_from_the_listing_page(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    pk = next(r.pk for r in rows if r.brand == "Apple" and "shopmart" not in r.access)
    client = seeded.client("analyst@globex.test")
    page = client.get(f"/listings/{pk}")
    assert 'data-testid="confirm"' in page.text and 'data-testid="share-form"' in page.text
    token = form_token(client)
    assert client.post(f"/listings/{pk}/review", data={"decision": "confirmed"}).status_code == 403
    done = client.post(
        f"/listings/{pk}/review", data={"decision": "confirmed", "csrf_token": token}
    )
    assert done.status_code == 303
    assert review_states(seeded, "globex")[pk] == "confirmed"
    shown = client.get(done.headers["location"])
    assert 'data-testid="flash"' in shown.text and "badge review-confirmed" in shown.text
    shared = client.post(f"/listings/{pk}/share", data={"member": "shopmart", "csrf_token": token})
    assert shared.status_code == 303
    assert seeded.client("viewer@shopmart.test").get(f"/listings/{pk}").status_code == 200
    nobody = client.post(f"/listings/{pk}/share", data={"member": "nobody", "csrf_token": token})
    assert nobody.status_code == 404


def test_the_queue_speaks_chinese(seeded: Web) -> None:
    client = seeded.client("viewer@acme.test")
    client.cookies.set("vigil_lang", "zh")
    page = client.get("/queue")
    assert page.status_code == 200
    assert "审核队列" in page.text and "快捷键" in page.text and "导出 CSV" in page.text


def test_sql_metacharacters_in_every_queue_parameter_are_harmless(seeded: Web) -> None:
    """The queue reads its parameters itself, so the generated hostile-input test cannot see
    them: each one gets every metacharacter here."""
    client = seeded.client("viewer@alliance.test")
    before = len(stored_rows(seeded.store))
    names = ["verdict", "brand", "platform", "province", "area", "risk_min", "risk_max", "from",
             "to", "review", "q", "sort", "cursor", "limit"]  # fmt: skip
    for name in names:
        for value in ("' OR 1=1 --", "%", "_", "\\", '" OR ""="', "'; DROP TABLE listings; --",
                      "\x00"):  # fmt: skip
            page = client.get("/queue", params={name: value})
            assert page.status_code in (200, 400), (name, value, page.status_code)
    assert len(stored_rows(seeded.store)) == before
