"""Copied text in the browser: a listing that copies a passage of a registered manual shows the
passage beside the manual's excerpt, and its copy-paste cluster link leads to the cluster's page;
the manual's own page shows how its file reads, and a file uploaded in the browser is read or
refused with the reason. Screenshots of each are kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Site, Visitor, acme_site, signed_in
from tests.web.texts_world import AFTER, BEFORE, KEY, PASSAGE, WORK, TextsWorld, build_texts_world

PASSWORD = "copied text in the browser"
MEMBERS = {
    "alliance": ("The Alliance", "operator"),
    "acme": ("Acme Brands", "brand_owner"),
    "globex": ("Globex Goods", "brand_owner"),
    "shopmart": ("Shopmart Marketplace", "marketplace"),
}


@pytest.fixture(scope="module")
def text_site(
    chromium: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Site, TextsWorld]]:
    """The app over the texts world (tests/web/texts_world.py), with an analyst of acme, who
    owns the manual, to sign in as."""
    home = tmp_path_factory.mktemp("texts-home")
    with acme_site(home, MEMBERS, PASSWORD, lambda store: build_texts_world(store, home)) as up:
        yield up


@pytest.fixture
def analyst(browser: Browser, text_site: tuple[Site, TextsWorld]) -> Iterator[Visitor]:
    with signed_in(browser, text_site[0], "brand_owner") as opened:
        yield opened


def shoot(visitor: Visitor, name: str) -> None:
    visitor.page.evaluate("window.scrollTo(0, 0)")
    visitor.shoot(name)


def test_the_copied_passage_and_the_cluster_it_belongs_to(
    analyst: Visitor, text_site: tuple[Site, TextsWorld]
) -> None:
    _, world = text_site
    page = analyst.visit(f"/listings/{world.pks['copier']}")
    passage = page.get_by_test_id("copied-passage")
    expect(passage).to_have_count(1)
    expect(passage.get_by_test_id("work-title")).to_have_text(WORK)
    expect(passage).to_contain_text("owned by Acme Brands")
    expect(passage.get_by_test_id("containment")).to_have_text("83%")
    expect(passage).to_contain_text(f"{len(PASSAGE)} characters copied")
    expect(passage.get_by_test_id("listing-passage")).to_have_text(PASSAGE)
    excerpt = passage.get_by_test_id("work-excerpt")
    expect(excerpt).to_have_text(f"…{BEFORE}{PASSAGE}{AFTER}…")
    expect(excerpt.locator("mark")).to_have_text(PASSAGE)
    # Side by side on a wide screen: the two texts start at the same height.
    left = passage.get_by_test_id("listing-passage").bounding_box()
    right = excerpt.bounding_box()
    assert left is not None and right is not None
    assert abs(left["y"] - right["y"]) < 2 and left["x"] + left["width"] <= right["x"]
    shoot(analyst, "listing-copied-text-en")

    page.get_by_test_id("cluster-link").get_by_role("link", name="6 listings by 3 sellers").click()
    page.wait_for_url(f"**/clusters/{KEY}")
    expect(page.get_by_test_id("cluster-size")).to_have_text("6 listings by 3 sellers")
    expect(page.get_by_test_id("cluster-visible")).to_contain_text(
        "2 of 6 listings; sellers among them: 1"
    )
    rows = page.get_by_test_id("cluster-listings").locator("tbody tr")
    expect(rows).to_have_count(2)
    shoot(analyst, "cluster-en")
    page.get_by_role("link", name="简体中文").click()
    expect(page.get_by_test_id("cluster-size")).to_have_text("3 个卖家的 6 条商品")
    shoot(analyst, "cluster-zh")
    page.get_by_role("link", name="English").click()
    # Back to the listing through the cluster's own list.
    rows.first.get_by_role("link").click()
    expect(page.get_by_test_id("copied-text")).to_be_visible()


def test_the_work_page_reads_its_file_and_refuses_a_bad_one(
    analyst: Visitor, text_site: tuple[Site, TextsWorld], tmp_path: Path
) -> None:
    _, world = text_site
    page = analyst.visit("/registry")
    page.get_by_test_id("works-link").click()
    page.get_by_role("link", name=WORK).click()
    page.wait_for_url(f"**/registry/works/{world.work_id}")
    file = page.get_by_test_id("work-file")
    expect(file).to_have_count(1)
    expect(file.get_by_test_id("file-kind")).to_have_text("Markdown")
    expect(file.get_by_test_id("file-encoding")).to_have_text("utf-8")
    expect(file.get_by_test_id("file-preview")).to_contain_text("高强度铝合金机身")

    pdf = tmp_path / "manual.txt"
    pdf.write_bytes(b"%PDF-1.7\n%binary")
    form = page.get_by_test_id("upload-work-file")
    form.locator("input[type=file]").set_input_files(str(pdf))
    form.get_by_role("button", name="Upload").click()
    expect(page.get_by_test_id("file-error")).to_contain_text("cannot be read as text")
    expect(page.get_by_test_id("file-error")).to_contain_text("is a PDF document, not text")

    notes = tmp_path / "notes.txt"
    notes.write_text("Care: wipe the X1 with a dry cloth.", encoding="utf-8")
    form = page.get_by_test_id("upload-work-file")
    form.locator("input[type=file]").set_input_files(str(notes))
    form.get_by_role("button", name="Upload").click()
    expect(page.get_by_test_id("done")).to_contain_text("The file is stored and added")
    expect(page.get_by_test_id("work-file")).to_have_count(2)
    shoot(analyst, "registry-work-en")
