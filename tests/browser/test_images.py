"""Listing photos in the browser: a flagged listing whose photo copies an official one and
whose other photo shows a registered logo, read in English and in Chinese, with and without
JavaScript; and a brand's registry page with its images. Screenshots of each are kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import Site, Visitor, acme_site, signed_in
from tests.web.images_world import World, build_world

PASSWORD = "images in the browser"
MEMBERS = {
    "acme": ("Acme Brands", "brand_owner"),
    "globex": ("Globex Goods", "marketplace"),
    "shopmart": ("Shopmart Marketplace", "marketplace"),
}


@pytest.fixture(scope="module")
def image_site(
    chromium: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Site, World]]:
    """The app over the images world (tests/web/images_world.py), with an analyst of the brand
    owner (acme, who owns Xiaomi) to sign in as."""
    home = tmp_path_factory.mktemp("images-home")
    feed = tmp_path_factory.mktemp("images-feed")
    with acme_site(home, MEMBERS, PASSWORD, lambda store: build_world(store, home, feed)) as up:
        yield up


@pytest.fixture
def analyst(browser: Browser, image_site: tuple[Site, World]) -> Iterator[Visitor]:
    with signed_in(browser, image_site[0], "brand_owner") as opened:
        yield opened


def loaded(image: Locator) -> bool:
    """The browser loaded and decoded the picture (a broken image has no natural width).
    Pictures load lazily: it is brought into view first."""
    image.scroll_into_view_if_needed()
    image.page.wait_for_function("img => img.complete", arg=image.element_handle())
    return bool(image.evaluate("img => img.naturalWidth > 0"))


def shoot(visitor: Visitor, name: str) -> None:
    """A screenshot from the top of the page (the sticky top bar would land mid-page)."""
    visitor.page.evaluate("window.scrollTo(0, 0)")
    visitor.shoot(name)


def check_the_listing(page: Page, kind_labels: tuple[str, str]) -> None:
    photos = page.get_by_test_id("photo")
    expect(photos).to_have_count(3)
    copy, scene = photos.nth(0), photos.nth(1)
    for photo in (copy, scene):
        image = photo.get_by_test_id("photo-image")
        expect(image).to_be_visible()
        assert loaded(image)
    official = copy.get_by_test_id("image-match")
    expect(official).to_have_attribute("data-kind", "official_image_reuse")
    expect(official).to_contain_text(kind_labels[0])
    assert loaded(official.get_by_test_id("match-image"))
    logo = scene.get_by_test_id("image-match")
    expect(logo).to_have_attribute("data-kind", "logo_match")
    expect(logo).to_contain_text(kind_labels[1])
    assert loaded(logo.get_by_test_id("match-image"))
    # The outline lies on the photo, around the pasted logo: inside the picture, a fair part
    # of it, not the whole of it.
    outline = scene.get_by_test_id("logo-outline").locator("polygon.line")
    expect(outline).to_be_visible()
    shape = outline.bounding_box()
    picture = scene.get_by_test_id("photo-image").bounding_box()
    assert shape is not None and picture is not None
    assert (
        picture["x"] - 1 <= shape["x"]
        and shape["x"] + shape["width"] <= picture["x"] + picture["width"] + 1
    )
    assert (
        picture["y"] - 1 <= shape["y"]
        and shape["y"] + shape["height"] <= picture["y"] + picture["height"] + 1
    )
    assert 0.1 < shape["width"] * shape["height"] / (picture["width"] * picture["height"]) < 0.8
    # The flat photo is flagged as below the PDQ quality floor.
    expect(photos.nth(2).get_by_test_id("quality")).to_be_visible()


def test_a_flagged_listings_photos_and_matches_in_both_languages(
    analyst: Visitor, image_site: tuple[Site, World]
) -> None:
    _, world = image_site
    page = analyst.visit(f"/listings/{world.pks['both']}")
    check_the_listing(page, ("Official photo reused", "Registered logo in a photo"))
    expect(page.get_by_test_id("image-match").first).to_contain_text("Mirrored left to right")
    expect(page.get_by_test_id("photo").nth(2)).to_contain_text("below 50: not matched")
    shoot(analyst, "listing-images-en")
    page.get_by_role("link", name="简体中文").click()
    expect(page.get_by_role("heading", name="图片")).to_be_visible()
    check_the_listing(page, ("官方图片被盗用", "图片中出现已登记标识"))
    expect(page.get_by_test_id("image-match").first).to_contain_text("左右镜像翻转")
    expect(page.get_by_test_id("photo").nth(2)).to_contain_text("低于 50：不参与比对")
    shoot(analyst, "listing-images-zh")


def test_unusable_photos_say_why(analyst: Visitor, image_site: tuple[Site, World]) -> None:
    _, world = image_site
    page = analyst.visit(f"/listings/{world.pks['bad']}")
    errors = page.get_by_test_id("image-error")
    expect(errors).to_have_count(2)
    expect(errors.first).to_contain_text("file not found")
    expect(page.get_by_test_id("no-picture")).to_have_count(2)
    shoot(analyst, "listing-images-unusable")


def test_the_photos_and_the_outline_need_no_javascript(
    browser: Browser, image_site: tuple[Site, World]
) -> None:
    site, world = image_site
    reader = Visitor(browser, site, javascript=False)
    try:
        reader.sign_in("brand_owner")
        page = reader.visit(f"/listings/{world.pks['both']}")
        check_the_listing(page, ("Official photo reused", "Registered logo in a photo"))
    finally:
        reader.close()


def test_the_brand_page_shows_its_images(analyst: Visitor, image_site: tuple[Site, World]) -> None:
    page = analyst.visit("/registry")
    page.get_by_role("link", name="Xiaomi", exact=True).click()
    cases = page.get_by_test_id("counterfeit-images").get_by_test_id("registry-image")
    expect(cases).to_have_count(1)
    assert loaded(cases.first)
    photos = page.get_by_test_id("product-photos").get_by_test_id("registry-image")
    expect(photos).to_have_count(1)
    assert loaded(photos.first)
    expect(page.get_by_test_id("upload-logos")).to_be_visible()
    shoot(analyst, "registry-brand-images-en")
    page.get_by_role("link", name="简体中文").click()
    expect(page.get_by_role("heading", name="假冒案件图片")).to_be_visible()
    shoot(analyst, "registry-brand-images-zh")
    page.get_by_role("link", name="English").click()
    page.get_by_test_id("product-photos").first.locator("xpath=..").get_by_role(
        "link", name="Edit"
    ).click()
    official = page.get_by_test_id("product-photos").get_by_test_id("registry-image")
    expect(official).to_have_count(1)
    assert loaded(official.first)
    shoot(analyst, "registry-product-images-en")


def test_uploading_a_logo_in_the_browser(
    analyst: Visitor, image_site: tuple[Site, World], tmp_path: Path
) -> None:
    from vigil.services.sample.art import draw_logo

    logo = tmp_path / "acme-logo.png"
    draw_logo("Xiaomi", seed=8).save(logo)
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("this is text")
    page = analyst.visit("/registry")
    page.get_by_role("link", name="Xiaomi", exact=True).click()
    form = page.get_by_test_id("upload-logos")
    form.locator("input[type=file]").set_input_files(str(not_an_image))
    form.get_by_role("button", name="Upload").click()
    expect(page.get_by_test_id("image-error")).to_contain_text("not an image the registry takes")
    form = page.get_by_test_id("upload-logos")
    form.locator("input[type=file]").set_input_files(str(logo))
    form.get_by_role("button", name="Upload").click()
    expect(page.get_by_test_id("done")).to_contain_text("The image is stored and added.")
    logos = page.get_by_test_id("logos").get_by_test_id("registry-image")
    expect(logos).to_have_count(1)
    assert loaded(logos.first)
