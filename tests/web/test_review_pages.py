"""The review queue and the listing page: filters as a GET form, sortable headers, next page by
cursor, bulk decisions with CSRF, escaped listing text, highlighted evidence, tenancy."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.services.test_assessments import ACME, SHOPMART, XSS, expected, seed, stored_rows
from tests.web.conftest import Web
from vigil.regions import province_name
from vigil.services.assessments import parse_filters, parse_sort
from vigil.store.tables import ListingAccessRow, ListingRow, MemberRow
from vigil.web.i18n import datetime_formatter
from vigil.web.places import latin_name

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
    # Web images load lazily without a referrer; a local path is never an address the browser
    # loads. (This registry has no images, so the scan did not fetch any: no records here.)
    regular = next(r.pk for r in stored_rows(seeded.store) if r.listing_id == "u0")
    images = seeded.client("viewer@alliance.test").get(f"/listings/{regular}")
    assert re.search(r'<img src="https://img.example/a.jpg" loading="lazy" '
                     r'referrerpolicy="no-referrer"', images.text)  # fmt: skip
    assert not re.search(r'(src|href)="[^"]*photos/local\.jpg', images.text)


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


def test_stored_codes_are_shown_by_their_names(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    client = seeded.client("viewer@acme.test")
    queue = client.get("/queue")
    assert '<span class="badge verdict-counterfeit_suspected" data-testid="verdict">' \
           "Suspected counterfeit</span>" in queue.text  # fmt: skip
    assert 'data-testid="review-state">Open</span>' in queue.text
    assert ">open<" not in queue.text
    # Provinces by name, in pinyin on English pages (never the division code); urban/rural by
    # name too.
    urban = next(r for r in rows if r.province_code and r.area == "urban" and "acme" in r.access)
    shown = f"{latin_name(str(province_name(str(urban.province_code))))} · Urban"
    page = client.get("/queue", params={"q": urban.listing_id, "review": "any"})
    assert shown in page.text
    assert not re.search(r">\s*\d{6}\s*<", page.text), "a division code shows as text"
    detail = client.get(f"/listings/{urban.pk}").text
    assert shown in detail and not re.search(r">\s*\d{6}\s*<", detail)
    # Signals by their names; the raw codes only in classes and attributes.
    pk = next(r.pk for r in rows if r.listing_id == "xss")
    detail = client.get(f"/listings/{pk}").text
    signals = re.search(r'data-testid="signals">(.*?)</table>', detail, re.S)
    assert signals
    assert "Look-alike brand name" in signals.group(1) and "Counterfeit wording" in signals.group(1)
    assert ">brand_variant<" not in detail and ">brand<" not in detail
    assert 'class="swatch span-brand_variant"' in detail
    assert "Highlighted:" in detail
    client.cookies.set("vigil_lang", "zh")
    chinese = client.get(f"/listings/{pk}").text
    assert "仿冒品牌名" in chinese and "疑似假冒" in chinese and "待审核" in chinese


def test_who_sees_a_listing_is_named_by_member_name(seeded: Web) -> None:
    pk = next(r.pk for r in stored_rows(seeded.store) if r.listing_id == "xss")
    with seeded.store.session() as session:
        names = dict(session.execute(select(MemberRow.id, MemberRow.name)).all())
    table = re.compile(r'data-testid="access">(.*?)</table>', re.S)
    mine = table.search(seeded.client("viewer@acme.test").get(f"/listings/{pk}").text)
    assert mine and f"<td>{names['acme']}</td>" in mine.group(1)
    assert "its brand" in mine.group(1) and "<td>acme</td>" not in mine.group(1)
    assert names["shopmart"] not in mine.group(1), "a member sees only its own access"
    everyone = table.search(seeded.client("viewer@alliance.test").get(f"/listings/{pk}").text)
    assert everyone and f"<td>{names['acme']}</td>" in everyone.group(1)
    assert f"<td>{names['shopmart']}</td>" in everyone.group(1)
    assert "uploaded it" in everyone.group(1)


def test_the_queue_says_how_many_listings_match(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    client = seeded.client("viewer@acme.test")
    filters = parse_filters(
        {"verdict": ["counterfeit_suspected,infringement_suspected,needs_review"],
         "review": ["open"]}
    )  # fmt: skip
    want = len(expected(rows, ACME, filters, parse_sort("-risk")))
    assert want > 10
    page = client.get("/queue", params={"limit": "10"})  # more than a page: counted
    assert len(listed(page.text)) == 10
    assert f'data-testid="match-count">{want} listings match</p>' in page.text
    single = client.get("/queue", params={"q": "xss", "review": "any"})
    assert 'data-testid="match-count">1 listing matches</p>' in single.text
    client.cookies.set("vigil_lang", "zh")
    chinese = client.get("/queue", params={"limit": "10"})
    assert f"共 {want} 条商品符合条件" in chinese.text


def test_a_decision_on_the_listing_page_keeps_the_queue_and_its_filters(seeded: Web) -> None:
    client = seeded.client("analyst@globex.test")
    queue = client.get("/queue", params={"brand": "Apple", "sort": "price"})
    opened = re.search(r'<a href="(/listings/(\d+)\?from=[^"]+)" class="listing-title', queue.text)
    assert opened
    href, pk = unescape(opened.group(1)), opened.group(2)
    page = client.get(href)
    back = re.search(r'<a href="([^"]+)" data-back>', page.text)
    assert back and "brand=Apple" in unescape(back.group(1)) and "sort=price" in back.group(1)
    queue_address = unescape(back.group(1))
    assert f'<input type="hidden" name="from" value="{back.group(1)}">' in page.text
    token = form_token(client)
    done = client.post(
        f"/listings/{pk}/review",
        data={"decision": "confirmed", "from": queue_address, "csrf_token": token},
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    back = re.search(r'<a href="([^"]+)" data-back>', after.text)
    assert back and unescape(back.group(1)) == queue_address
    # Decided: the page says who decided, and offers Reopen rather than Confirm again.
    assert 'data-testid="decision">Confirmed by analyst@globex.test' in after.text
    assert 'data-testid="reopen"' in after.text
    assert 'class="btn primary" type="submit" name="decision"' not in after.text
    assert 'data-testid="dismiss"' in after.text and "Dismiss instead" in after.text
    # Only the queue's own address is carried; anything else becomes the plain queue.
    elsewhere = client.post(
        f"/listings/{pk}/review",
        data={"decision": "open", "from": "https://evil.example/queue", "csrf_token": token},
    )
    assert elsewhere.headers["location"] == f"/listings/{pk}?reviewed=open&count=1"
    reopened = client.get(elsewhere.headers["location"])
    assert 'data-testid="confirm"' in reopened.text and 'data-testid="reopen"' not in reopened.text


def test_the_observed_time_is_formatted_when_it_is_a_time(seeded: Web) -> None:
    rows = stored_rows(seeded.store)
    timed, free = rows[0].pk, rows[1].pk
    with seeded.store.session() as session:
        session.get(ListingRow, timed).observed_at = "2026-01-18T10:35:27+08:00"
        session.get(ListingRow, free).observed_at = "last spring, by the river"
    client = seeded.client("viewer@alliance.test")
    shown = datetime_formatter("en")(datetime(2026, 1, 18, 2, 35, 27, tzinfo=UTC), "short")
    page = client.get(f"/listings/{timed}").text
    assert f"<dt>Observed</dt><dd>{shown}</dd>" in page
    assert "2026-01-18T10:35:27" not in page
    assert (
        "<dt>Observed</dt><dd>last spring, by the river</dd>"
        in client.get(f"/listings/{free}").text
    )
