"""The review queue by keyboard, and every page read with JavaScript switched off."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Visitor


def test_the_queue_is_worked_from_the_keyboard(visitor: Visitor) -> None:
    site = visitor.site
    member = visitor.sign_in("marketplace").member_id
    assert len(site.open_flagged(member)) >= 3, "the demo marketplace needs a few flagged rows"
    page = visitor.visit("/queue")
    rows = page.get_by_test_id("queue").locator("tbody tr")
    expect(rows.first).to_be_visible()

    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))
    expect(rows.nth(0)).not_to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))

    box = rows.nth(0).get_by_role("checkbox")
    page.keyboard.press("x")
    expect(box).to_be_checked()
    page.keyboard.press("x")
    expect(box).not_to_be_checked()

    help_panel = page.get_by_test_id("shortcuts")
    page.keyboard.press("?")
    expect(help_panel).to_have_attribute("open", "")
    page.keyboard.press("?")
    expect(help_panel).not_to_have_attribute("open", "")

    # Enter opens the current row; q on the listing goes back to the queue.
    page.keyboard.press("j")
    second = rows.nth(1).get_attribute("data-listing")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/listings/{second}\?"))
    expect(page.get_by_test_id("listing-title")).to_be_visible()
    # The keys work once the page's script has run (after its stylesheets have loaded).
    page.wait_for_load_state("load")
    page.keyboard.press("q")
    expect(page).to_have_url(re.compile(r"/queue"))

    # Tick the second row with x, dismiss it with d: it leaves the open queue.
    expect(rows.first).to_be_visible()
    chosen = rows.nth(1).get_attribute("data-listing")
    assert chosen is not None
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("d")
    expect(page.get_by_test_id("flash")).to_contain_text("dismissed")
    expect(page.locator(f'tr[data-listing="{chosen}"]')).to_have_count(0)
    assert site.review_state(int(chosen), member) == "dismissed"

    # o opens the current row too.
    page.keyboard.press("j")
    first = rows.nth(0).get_attribute("data-listing")
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(rf"/listings/{first}\?"))


def test_pages_are_readable_with_javascript_off(reader_without_js: Visitor) -> None:
    visitor = reader_without_js
    site = visitor.site
    member = visitor.sign_in("brand_owner").member_id
    flagged = site.open_flagged(member)
    page = visitor.visit("/")
    expect(page.get_by_test_id("total-flagged")).to_be_visible()

    page = visitor.visit("/queue")
    table = page.get_by_test_id("queue")
    expect(table.locator("tbody tr")).not_to_have_count(0)
    # The filter bar is a plain form.
    platform = flagged[0].platform
    page.get_by_test_id("filters").get_by_label("Platform").fill(platform)
    page.get_by_test_id("filters").get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"platform={platform}"))
    expect(table.locator("tbody tr")).to_have_count(
        sum(1 for listing in flagged if listing.platform == platform)
    )
    visitor.shoot("queue-nojs")

    table.locator("tbody tr").first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/listings/\d+"))
    expect(page.get_by_test_id("listing-title")).not_to_be_empty()
    expect(page.get_by_test_id("signals").locator("tbody tr")).not_to_have_count(0)
    expect(page.get_by_test_id("verdict").first).to_be_visible()
    visitor.shoot("listing-nojs")

    # The user menu opens without a script, and signing out works.
    page.locator("details.usermenu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\?signed_out=1$"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
