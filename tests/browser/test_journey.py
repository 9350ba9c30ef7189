"""A brand owner's analyst through the day's work, in a real browser: sign in, read the
dashboard, filter the queue, open a flagged listing with its evidence highlighted, confirm
it, switch to Chinese, sign out."""

from __future__ import annotations

import re
from collections import Counter

from playwright.sync_api import Page, expect

from tests.browser.conftest import Flagged, Site, Visitor

CJK = re.compile(r"[\u4e00-\u9fff]")


def _with_title_evidence(site: Site, listings: list[Flagged]) -> Flagged:
    """A flagged listing whose title holds one of its signals' evidence, so that the title
    must show a highlight; the riskiest of them."""
    for listing in listings:
        if any(e and e in listing.title for e in site.evidence(listing.pk)):
            return listing
    raise AssertionError("no open flagged listing quotes its evidence in its title")


def _queue_rows(page: Page) -> list[tuple[str, str]]:
    """(full title, 'platform · id' line) of every row of the queue table."""
    rows = page.get_by_test_id("queue").locator("tbody tr")
    found = []
    for index in range(rows.count()):
        link = rows.nth(index).get_by_role("link").first
        found.append((link.get_attribute("title") or "", rows.nth(index).inner_text()))
    return found


def test_a_brand_analyst_reviews_a_flagged_listing(visitor: Visitor) -> None:
    site = visitor.site
    page = visitor.page
    visitor.visit("/login")
    visitor.shoot("login")
    analyst = visitor.sign_in("brand_owner")
    member = analyst.member_id
    queue = site.open_flagged(member)
    assert queue, f"the demo gave {member} nothing to review"

    # The dashboard: where signing in lands, counting the member's flagged listings.
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.get_by_test_id("total-flagged")).to_have_text(str(len(queue)))
    expect(page.get_by_test_id("total-open")).to_have_text(str(len(queue)))
    visitor.shoot("dashboard")

    # The queue opens on the member's open flagged listings, and nothing else.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    table = page.get_by_test_id("queue")
    expect(table.locator("tbody tr")).to_have_count(min(len(queue), 50))
    shown = {title for title, _ in _queue_rows(page)}
    everything = {listing.title for listing in queue}
    assert shown == everything if len(queue) <= 50 else shown <= everything
    visitor.shoot("queue")

    # Filtered by the platform of the listing to review: only that platform's rows remain.
    chosen = _with_title_evidence(site, queue)
    on_platform = [listing for listing in queue if listing.platform == chosen.platform]
    filters = page.get_by_test_id("filters")
    filters.get_by_label("Platform").fill(chosen.platform)
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"platform={chosen.platform}"))
    expect(table.locator("tbody tr")).to_have_count(len(on_platform))
    for title, text in _queue_rows(page):
        assert f"{chosen.platform} · " in text, f"{title!r} is not on {chosen.platform}"
    assert Counter(t for t, _ in _queue_rows(page)) == Counter(x.title for x in on_platform)
    visitor.shoot("queue-filtered")

    # The listing: its title with the evidence highlighted, its signals, its verdict.
    table.locator(f'tr[data-listing="{chosen.pk}"]').get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/listings/{chosen.pk}\b"))
    title = page.get_by_test_id("listing-title")
    expect(title).to_have_text(chosen.title)
    marks = title.locator("mark")
    expect(marks.first).to_be_visible()
    evidence = site.evidence(chosen.pk)
    marked = [text for text in marks.all_inner_texts() if text.strip()]
    assert marked and all(m in chosen.title for m in marked), marked
    assert any(m in e or e in m for m in marked for e in evidence), (marked, evidence)
    description = page.get_by_test_id("listing-description")
    if description.count():
        expect(description).to_be_visible()
    signals = page.get_by_test_id("signals").locator("tbody tr")
    expect(signals).to_have_count(len(evidence))
    for item in evidence:
        expect(page.get_by_test_id("signals")).to_contain_text(item)
    head = page.locator("section.listing-head")
    expect(head.get_by_test_id("verdict")).to_have_class(re.compile(rf"verdict-{chosen.verdict}"))
    expect(head.get_by_test_id("review-state")).to_have_class(re.compile(r"review-open"))
    visitor.shoot("listing")

    # Confirmed: the page says so, the store says so, and the open queue no longer lists it.
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_test_id("flash")).to_have_text("Confirmed for your member.")
    expect(head.get_by_test_id("review-state")).to_have_class(re.compile(r"review-confirmed"))
    assert site.review_state(chosen.pk, member) == "confirmed"
    visitor.shoot("listing-confirmed")
    # Back to the queue as it was filtered: the platform's open listings, less the confirmed one.
    page.get_by_role("main").get_by_role("link", name="Review queue").click()
    expect(page).to_have_url(re.compile(r"platform="))
    expect(table.locator("tbody tr")).to_have_count(min(len(on_platform) - 1, 50))
    expect(table.locator(f'tr[data-listing="{chosen.pk}"]')).to_have_count(0)
    assert chosen.pk not in {listing.pk for listing in site.open_flagged(member)}

    # Chinese, chosen once and remembered.
    page.get_by_role("banner").get_by_role("link", name="简体中文").click()
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="审核队列")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.get_by_role("banner").get_by_role("link", name="Vigil").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("h1")).to_have_text(CJK)
    visitor.shoot("dashboard-zh")
    page.reload()
    expect(nav.get_by_role("link", name="审核队列")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")

    # Signing out from the user menu ends the session.
    page.locator("details.usermenu summary").click()
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/login\?signed_out=1$"))
    expect(page.get_by_role("status")).to_have_text("你已退出登录。")
    expect(page.locator("h1")).to_have_text(CJK)
    expect(page.locator("input[type=password]")).to_be_visible()
    visitor.shoot("logged-out-zh")
    page.goto("/queue")
    expect(page).to_have_url(re.compile(r"/login\?next="))
