"""A case from the queue to the marketplace's answer, in a real browser on the sample
alliance: a brand owner's analyst ticks listings in the queue, opens a case, brings the
marketplace in, confirms it, sends a notice; the marketplace's analyst records its answer; the
timeline shows every step, in order, with who did it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from tests.browser.conftest import Site, Visitor, signed_in
from vigil.store.tables import ListingAccessRow


@pytest.fixture(autouse=True)
def reviews_left_as_found(site: Site) -> Iterator[None]:
    """Deciding a case decides its listings in the queue; the other browser tests share the
    site and count its open queue, so the review states are put back afterwards."""
    columns = (
        ListingAccessRow.listing_pk,
        ListingAccessRow.member_id,
        ListingAccessRow.review,
        ListingAccessRow.reviewed_by,
        ListingAccessRow.reviewed_at,
    )
    with site.store.session() as session:
        before = {(pk, m): rest for pk, m, *rest in session.execute(select(*columns))}
    yield
    with site.store.session() as session:
        for pk, member, *now in session.execute(select(*columns)).all():
            was = before.get((pk, member))
            if was is not None and list(was) != now:
                session.execute(
                    update(ListingAccessRow)
                    .where(ListingAccessRow.listing_pk == pk, ListingAccessRow.member_id == member)
                    .values(review=was[0], reviewed_by=was[1], reviewed_at=was[2])
                )


def _tick_listings_of_one_platform(page: Page, platform: str, count: int) -> list[str]:
    """Filter the queue to `platform` and tick its first `count` rows; their listing ids."""
    filters = page.get_by_test_id("filters")
    filters.get_by_label("Platform").fill(platform)
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"platform={platform}"))
    rows = page.get_by_test_id("queue").locator("tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= count, f"the queue shows fewer than {count} listings of {platform}"
    chosen = []
    for index in range(count):
        row = rows.nth(index)
        row.get_by_role("checkbox").check()
        pk = row.get_attribute("data-listing")
        assert pk is not None
        chosen.append(pk)
    return chosen


def _timeline(page: Page) -> list[str]:
    events = page.get_by_test_id("timeline").locator("li.event")
    return [events.nth(i).get_attribute("data-kind") or "" for i in range(events.count())]


def test_a_case_from_the_queue_to_the_marketplaces_answer(
    visitor: Visitor, browser: Browser, site: Site
) -> None:
    page = visitor.page
    analyst = visitor.sign_in("brand_owner")
    market = site.users["marketplace"]
    platform = market.member_id.removesuffix("-market")

    # The queue: tick two listings of the marketplace's platform, open one case for them.
    visitor.visit("/queue")
    chosen = _tick_listings_of_one_platform(page, platform, 2)
    visitor.shoot("cases-queue-ticked")
    page.get_by_test_id("bulk-open-case").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+\?done=opened"))
    case_id = int(re.search(r"/cases/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    expect(page.get_by_test_id("flash")).to_have_text("Case opened.")
    expect(page.get_by_test_id("case-state")).to_have_text("Open")
    expect(page.get_by_test_id("timer")).to_contain_text("Decision due")
    listed = page.get_by_test_id("case-listings").locator("tbody tr")
    expect(listed).to_have_count(2)
    assert sorted(listed.nth(i).get_attribute("data-listing") or "" for i in range(2)) == sorted(
        chosen
    )
    reference = page.get_by_test_id("case-reference").inner_text()

    # Bring the platform's marketplace in, take the case, confirm it with a note.
    parties = page.get_by_test_id("party-form")
    parties.locator("select[name=member]").select_option(label=market.member_name)
    parties.locator("select[name=role]").select_option("marketplace")
    parties.get_by_role("button", name="Bring into the case").click()
    expect(page.get_by_test_id("parties")).to_contain_text(market.member_name)
    assign = page.get_by_test_id("assign-form")
    me = assign.locator("option", has_text=analyst.email).get_attribute("value")
    assert me, f"{analyst.email} is not among the people the case can be given to"
    assign.locator("select[name=user]").select_option(me)
    assign.get_by_role("button", name="Assign").click()
    expect(page.get_by_test_id("assignee-name")).to_have_text(analyst.email)
    page.get_by_test_id("move-note").fill("Test purchase: both units are fakes.")
    page.get_by_test_id("move-confirmed").click()
    expect(page.get_by_test_id("flash")).to_have_text("The case is now Confirmed.")
    expect(page.get_by_test_id("case-state")).to_have_text("Confirmed")
    expect(page.get_by_test_id("timer")).to_contain_text("Notice due")
    visitor.shoot("cases-confirmed")

    # The list counts it among the confirmed cases.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    expect(page.get_by_test_id("tab-confirmed")).to_contain_text("1")
    expect(page.get_by_test_id("cases")).to_contain_text(reference)
    visitor.shoot("cases-list")

    # Capture the listings as evidence: the notice cites the digests.
    visitor.visit(f"/cases/{case_id}")
    page.get_by_test_id("capture").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Evidence captured")
    expect(page.get_by_test_id("evidence-item")).not_to_have_count(0)

    # Send the notice: the case page links to its preview, which sends it.
    page.get_by_test_id("notices").get_by_test_id("notice-prepare").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}/notices/new"))
    expect(page.get_by_test_id("notice-type")).to_be_visible()
    page.get_by_test_id("notice-send").click()
    expect(page).to_have_url(re.compile(r"/notices/\d+\?done=sent"))
    notice = page.get_by_test_id("notice-reference").inner_text()
    visitor.visit(f"/cases/{case_id}")
    expect(page.get_by_test_id("case-state")).to_have_text("Notice sent")
    expect(page.get_by_test_id("timer")).to_contain_text("Marketplace's answer due")
    expect(page.get_by_test_id("notice-list")).to_contain_text(notice)

    # The marketplace sees the case, has no moves, and records its answer on the notice.
    with signed_in(browser, site, "marketplace") as other:
        other.visit(f"/cases/{case_id}")
        expect(other.page.get_by_test_id("case-reference")).to_have_text(reference)
        expect(other.page.get_by_test_id("moves")).to_have_count(0)
        expect(other.page.get_by_test_id("no-moves")).to_be_visible()
        expect(other.page.get_by_test_id("answer-hint")).to_be_visible()
        other.shoot("cases-marketplace-view")
        other.page.get_by_test_id("notice-link").click()
        answer = other.page.get_by_test_id("answer-form")
        answer.get_by_label("Yes, all of them").check()
        answer.get_by_role("textbox").fill("Both listings removed; the seller is warned.")
        other.page.get_by_test_id("answer-submit").click()
        expect(other.page).to_have_url(re.compile(r"\?done=answered"))

    # Back with the analyst: the case is actioned, and the timeline tells the whole story.
    visitor.visit(f"/cases/{case_id}")
    expect(page.get_by_test_id("case-state")).to_have_text("Actioned")
    expect(page.get_by_test_id("case-outcome")).to_have_text("Listings removed")
    # Everything came down: no further notice is offered.
    expect(page.get_by_test_id("notices").get_by_test_id("notice-prepare")).to_have_count(0)
    kinds = _timeline(page)
    assert kinds == [
        "opened",
        "party_added",
        "assigned",
        "moved",
        "evidence",
        "moved",
        "notice",
        "moved",
        "notice_answer",
    ], kinds
    timeline = page.get_by_test_id("timeline")
    for text in (
        "Opened the case with 2 listings.",
        f"Brought {market.member_name} in as Marketplace.",
        f"Gave it to {analyst.email}.",
        "Moved it from Open to Confirmed.",
        "Test purchase: both units are fakes.",
        "Moved it from Confirmed to Notice sent.",
        f"Notice {notice}",
        "Moved it from Notice sent to Actioned.",
        "Both listings removed; the seller is warned.",
        "Recorded the marketplace's answer:",
        market.email,
    ):
        expect(timeline).to_contain_text(text)
    visitor.shoot("cases-timeline")

    # And it may be closed now.
    page.get_by_test_id("move-closed").click()
    expect(page.get_by_test_id("case-state")).to_have_text("Closed")
    expect(page.get_by_test_id("timer")).to_have_text("No timer runs in this state.")


def test_a_case_is_worked_without_javascript_in_chinese(reader_without_js: Visitor) -> None:
    visitor = reader_without_js
    page = visitor.page
    member = visitor.sign_in("brand_owner").member_id
    listing = visitor.site.open_flagged(member)[-1]

    # From the listing's page: open a case for it, in Chinese.
    visitor.visit(f"/listings/{listing.pk}")
    page.locator(".langswitch").get_by_role("link", name="简体中文").click()
    expect(page.get_by_test_id("listing-cases")).to_contain_text("案件")
    page.get_by_test_id("open-case").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+\?done=opened"))
    expect(page.get_by_test_id("flash")).to_have_text("已立案。")
    expect(page.get_by_test_id("case-state")).to_have_text("待审核")
    expect(page.get_by_test_id("timer")).to_contain_text("决定期限")
    case_path = page.url.split("?")[0].removeprefix(visitor.site.url)

    # Start the review, then dismiss it with a note: plain forms, no script.
    page.get_by_test_id("move-under_review").click()
    expect(page.get_by_test_id("case-state")).to_have_text("审核中")
    page.get_by_test_id("move-note").fill("正品，授权经销商。")
    page.get_by_test_id("move-dismissed").click()
    expect(page.get_by_test_id("case-state")).to_have_text("已排除")
    page.get_by_test_id("comment-body").fill("已与品牌方核实。")
    page.get_by_test_id("comment").click()
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("将状态从“审核中”变更为“已排除”。")
    expect(timeline).to_contain_text("正品，授权经销商。")
    expect(timeline).to_contain_text("已与品牌方核实。")
    visitor.visit(case_path)  # (the comment's answer scrolled to the timeline)
    visitor.shoot("cases-zh-nojs")

    # The listing's page now links the case; the list counts it as dismissed.
    visitor.visit(f"/listings/{listing.pk}")
    expect(page.get_by_test_id("listing-case")).to_have_count(1)
    visitor.shoot("cases-listing-zh-nojs")
    visitor.visit("/cases")
    expect(page.get_by_test_id("tab-dismissed")).to_contain_text("1")
    visitor.shoot("cases-list-zh-nojs")
