"""The rest of the site in the browser: signing in, the operator's members admin and audit
log, the brand owner's registry and API keys, the marketplace analyst's scans, and every page
in Chinese."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Visitor


def test_the_login_page_asks_for_an_email_and_a_password(visitor: Visitor) -> None:
    page = visitor.visit("/login")
    expect(page.get_by_role("heading", name="Sign in to Vigil")).to_be_visible()
    expect(page.get_by_label("E-mail")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()

    page.get_by_label("E-mail").fill(visitor.site.users["brand_owner"].email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("The e-mail or password is wrong")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_label("E-mail")).to_have_value(visitor.site.users["brand_owner"].email)
    visitor.shoot("login-error")


def test_an_anonymous_visitor_signs_in_and_lands_where_they_were_going(
    visitor: Visitor,
) -> None:
    page = visitor.page
    page.goto("/queue")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)queue$"))
    expect(page.get_by_role("heading", name="Sign in to Vigil")).to_be_visible()
    user = visitor.site.users["brand_owner"]
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()


def test_the_operator_admits_members_on_the_members_page(visitor: Visitor) -> None:
    operator = visitor.sign_in("operator")
    page = visitor.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page).to_have_url(re.compile(r"/admin/members$"))
    expect(page.get_by_role("heading", name="Members of the alliance")).to_be_visible()
    members = page.get_by_role("table")
    brand_owner = visitor.site.users["brand_owner"]
    for member in (operator, brand_owner, visitor.site.users["marketplace"]):
        expect(members.get_by_role("link", name=member.member_name, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Admit a member")).to_be_visible()
    visitor.shoot("members-admin")

    page.get_by_role("link", name=brand_owner.member_name, exact=True).click()
    expect(page.get_by_role("main")).to_contain_text(brand_owner.email)
    visitor.shoot("member-detail")

    # Admitting a member through the form (a POST carrying its CSRF token).
    visitor.visit("/admin/members")
    form = page.locator("form").filter(has=page.get_by_role("button", name="Admit"))
    form.get_by_label("Member id").fill("browser-guild")
    form.get_by_label("Name").fill("Browser Test Guild")
    form.get_by_label("Kind").select_option("association")
    form.get_by_role("button", name="Admit").click()
    expect(page).to_have_url(re.compile(r"/admin/members/browser-guild$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Browser Test Guild")
    visitor.visit("/admin/members")
    expect(page.get_by_role("link", name="Browser Test Guild", exact=True)).to_be_visible()


def test_the_registry_lists_the_brand_owners_brands(visitor: Visitor) -> None:
    owner = visitor.sign_in("brand_owner")
    page = visitor.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Registry").click()
    expect(page.get_by_role("heading", name="Registry", exact=True)).to_be_visible()
    brands = visitor.site.brand_names(owner.member_id)
    assert brands, f"the sample registers no brand for {owner.member_id}"
    table = page.get_by_role("table")
    expect(table.locator("tbody tr")).to_have_count(len(brands))
    for name in brands:
        expect(table.get_by_role("link", name=name, exact=True)).to_be_visible()
    visitor.shoot("registry")


def test_the_marketplace_analyst_follows_its_scans(visitor: Visitor) -> None:
    visitor.sign_in("marketplace")
    page = visitor.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scans").click()
    expect(page).to_have_url(re.compile(r"/scans$"))
    expect(page.get_by_role("heading", name="Scans", exact=True)).to_be_visible()
    scans = page.get_by_test_id("scans")
    expect(scans.get_by_role("row")).to_have_count(2)  # the header and the demo's one scan
    expect(scans).to_contain_text(re.compile("finished|done|complete", re.I))
    expect(page.get_by_role("button", name="Upload")).to_be_visible()
    visitor.shoot("scans")

    scans.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/scans/[^/]+$"))
    expect(page.get_by_role("table").first).to_be_visible()
    visitor.shoot("scan-detail")


def test_api_keys_are_shown_once_and_listed(visitor: Visitor) -> None:
    visitor.sign_in("brand_owner")
    page = visitor.page
    page.locator("summary").filter(has_text=visitor.site.users["brand_owner"].member_id).click()
    page.get_by_role("link", name="API keys").click()
    expect(page).to_have_url(re.compile(r"/keys$"))
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    page.get_by_label("Name").fill("browser test key")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_test_id("new-key")
    expect(secret).to_be_visible()
    assert len(secret.inner_text().strip()) >= 20
    expect(
        page.get_by_role("table").get_by_role("row", name=re.compile("browser test key"))
    ).to_have_count(1)
    visitor.shoot("api-keys")


def test_the_operator_reads_the_audit_log(visitor: Visitor) -> None:
    visitor.sign_in("operator")
    page = visitor.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(page).to_have_url(re.compile(r"/audit$"))
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    events = page.get_by_role("table")
    # The demo's seeding wrote these: members admitted, listings uploaded.
    expect(events).to_contain_text("member.create")
    expect(events.get_by_role("row")).not_to_have_count(1)
    visitor.shoot("audit")


CJK = re.compile(r"[\u4e00-\u9fff]")
CHINESE_PAGES = {
    "dashboard": "/",
    "queue": "/queue",
    "registry": "/registry",
    "scans": "/scans",
    "members-admin": "/admin/members",
    "api-keys": "/keys",
    "audit": "/audit",
    "account": "/account",
}


def test_every_page_speaks_chinese_once_chosen(visitor: Visitor) -> None:
    visitor.sign_in("operator")
    page = visitor.page
    page.get_by_role("banner").get_by_role("link", name="简体中文").click()
    for name, path in CHINESE_PAGES.items():
        visitor.visit(path)
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        expect(page.locator("h1").first).to_have_text(CJK)
        nav = page.get_by_role("navigation").first.inner_text()
        assert not re.search(r"[A-Za-z]", nav), f"{path}: untranslated navigation {nav!r}"
        visitor.shoot(f"zh-{name}")

    listing = visitor.site.open_flagged(visitor.site.users["brand_owner"].member_id)[0]
    visitor.visit(f"/listings/{listing.pk}")
    expect(page.get_by_role("heading", level=2).first).to_have_text(CJK)
    expect(page.get_by_test_id("signals").locator("thead")).to_have_text(CJK)
    visitor.shoot("zh-listing")
