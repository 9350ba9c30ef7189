"""The images detector end to end: registry photos and logos against listing photos."""

from __future__ import annotations

import pickle
import random
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.factories import listing, read_jsonl, registry_data, write_jsonl, write_registry
from vigil.detectors.base import Findings
from vigil.detectors.images import ImageDetector
from vigil.domain.listing import Listing
from vigil.pipeline.images import ImageStage
from vigil.services.registry import load_registry, registry_snapshot
from vigil.services.sample.art import draw_logo, draw_scene, paste_logo
from vigil.services.sample.photos import case_photo, edit_photo, own_photo, product_photo
from vigil.services.scan import compile_assessor, scan
from vigil.settings import ScanConfig, load_scan_config
from vigil.store.db import Store, open_store

SELLER = {"id": "cheap-phones", "name": "便宜手机店"}


def save(image: Image.Image, path: Path, quality: int = 90) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.convert("RGB").save(path, "JPEG", quality=quality)
    return str(path)


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    """A registry with official photos, a counterfeit-case photo, a copyrighted image and a
    logo, all drawn here; and the files a feed can point at."""
    pics = tmp_path / "pics"
    official = product_photo("Xiaomi", "Xiaomi 14", "phones", 0)
    files = {
        "official": save(official, pics / "mi14.jpg"),
        "case": save(case_photo("Xiaomi", "phones", 0), pics / "case.jpg"),
        "work": save(own_photo("misc", 7, seed=99), pics / "poster.jpg"),
        "own": save(own_photo("phones", 1, seed=5), pics / "own.jpg"),
    }
    logo = draw_logo("Apple", seed=3)
    logo.save(pics / "apple.png")
    files["logo"] = str(pics / "apple.png")
    rng = random.Random(4)
    flipped, quality = edit_photo(official, "flip_h", rng)
    files["flipped"] = save(flipped, pics / "listing-flip.jpg", quality)
    scene, corners = paste_logo(draw_scene(11), logo, rng, scale=0.5, angle=20, occlusion=0.1)
    files["scene"] = save(scene, pics / "scene.jpg")
    files["corners"] = corners  # type: ignore[assignment]
    flat = Image.new("RGB", (300, 300), (200, 200, 200))
    files["flat"] = save(flat, pics / "flat.jpg")
    data = registry_data(
        works=[{"owner": "xiaomi", "title": "Spring poster", "kind": "image",
                "files": [files["work"]]}],
    )  # fmt: skip
    data["products"][1]["images"] = [files["official"]]
    data["brands"][0]["counterfeit_images"] = [files["case"]]
    data["brands"][1]["logos"] = [files["logo"]]
    store = open_store(f"sqlite:///{tmp_path / 'vigil.sqlite3'}")
    load_registry(store, write_registry(tmp_path / "registry.yaml", data))
    return {"store": store, "files": files, "tmp": tmp_path}


def run(world: dict[str, Any], feed: list[dict[str, Any]], **config: Any) -> dict[str, Any]:
    tmp: Path = world["tmp"]
    settings = load_scan_config()
    if config:
        settings.detectors["images"] = {**settings.detectors["images"], **config}
    scan(world["store"], [str(write_jsonl(tmp / "feed.jsonl", feed))], tmp / "out", config=settings)
    return {row["listing_id"]: row for row in read_jsonl(tmp / "out" / "assessments.jsonl")}


def kinds(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["kind"]: s for s in row["signals"] if s["detector"] == "images"}


def test_official_photo_reused_by_an_unauthorized_seller(world: dict[str, Any]) -> None:
    files = world["files"]
    rows = run(world, [
        listing(listing_id="copy", title="小米14 全新", seller=SELLER, images=[files["official"]]),
        listing(listing_id="flip", title="小米14 全新", seller=SELLER, images=[files["flipped"]]),
        listing(listing_id="auth", title="小米14 全新", platform="jd",
                seller={"id": "小米官方旗舰店"}, images=[files["official"]]),
    ])  # fmt: skip
    copy = kinds(rows["copy"])["official_image_reuse"]
    assert copy["asset"] == "product:Xiaomi/Xiaomi 14"
    assert copy["details"]["distance"] == 0 and copy["weight"] == 1.5
    assert copy["details"]["asset_file"] == files["official"]
    assert "not list this seller" in copy["explanation"]
    flip = kinds(rows["flip"])["official_image_reuse"]
    assert flip["details"]["transform"] == "mirrored left to right"
    assert flip["weight"] == 2.0 and "edited copy" in flip["explanation"]
    # The brand's own shop shows its own photo: nothing to say.
    assert "official_image_reuse" not in kinds(rows["auth"])


def test_counterfeit_case_photos_and_copyrighted_images(world: dict[str, Any]) -> None:
    files = world["files"]
    rows = run(world, [
        listing(listing_id="case", title="小米14 特价", seller=SELLER, images=[files["case"]]),
        listing(listing_id="poster", title="装饰画 客厅挂画", seller=SELLER, price=30,
                images=[files["work"]]),
    ])  # fmt: skip
    case = kinds(rows["case"])["known_counterfeit_image"]
    assert case["asset"] == "counterfeit:Xiaomi" and case["weight"] == 4.5
    assert rows["case"]["verdict"] == "counterfeit_suspected"
    poster = kinds(rows["poster"])["copyrighted_image"]
    assert poster["asset"] == "work:xiaomi/Spring poster"
    assert rows["poster"]["verdict"] == "infringement_suspected"
    # The text named no brand: the work's owner is who the listing is about.
    assert rows["poster"]["brand"] == "Xiaomi"


def test_a_logo_in_the_photo_names_the_brand_the_text_hides(world: dict[str, Any]) -> None:
    files = world["files"]
    rows = run(world, [
        listing(listing_id="hidden", title="旗舰手机 高配 全网通 特价", seller=SELLER, price=900,
                images=[files["own"], files["scene"]]),
        listing(listing_id="named", title="苹果 iPhone 15 全新", seller=SELLER, price=5999,
                images=[files["scene"]]),
        listing(listing_id="plain", title="旗舰手机 高配 全网通 特价", seller=SELLER, price=900,
                images=[files["own"]]),
    ])  # fmt: skip
    hidden = kinds(rows["hidden"])["logo_match"]
    assert rows["hidden"]["brand"] == "Apple" and hidden["details"]["hidden_brand"] is True
    assert rows["hidden"]["verdict"] == "counterfeit_suspected"
    assert hidden["weight"] == 4.5 and hidden["details"]["image"] == files["scene"]
    assert hidden["details"]["inliers"] >= 8
    assert kinds(rows["named"])["logo_match"]["weight"] == 0.3
    assert rows["plain"]["brand"] is None and not kinds(rows["plain"])


def test_bad_images_are_recorded_and_the_listing_still_scanned(world: dict[str, Any]) -> None:
    files, tmp = world["files"], world["tmp"]
    broken = tmp / "pics" / "broken.jpg"
    broken.write_bytes(Path(files["official"]).read_bytes()[:300])
    rows = run(world, [
        listing(listing_id="bad", title="高仿小米14 一比一", seller=SELLER, images=[
            "pics/missing.jpg", str(broken), files["flat"], files["official"]]),
    ])  # fmt: skip
    row = rows["bad"]
    missing, truncated, flat, good = row["image_records"]
    assert "missing.jpg" in missing["error"] and "sha256" not in missing
    assert truncated["error"].startswith("truncated or corrupt JPEG")
    assert flat["quality"] < 50 and "error" not in flat
    assert good["pdq"] and good["quality"] >= 50 and good["width"] == 480
    assert row["verdict"] == "counterfeit_suspected"
    # Only the usable photo matched.
    assert [s["details"]["image"] for s in row["signals"] if s["detector"] == "images"] == [
        files["official"]
    ]


def test_relative_paths_resolve_against_the_listing_file(world: dict[str, Any]) -> None:
    rows = run(world, [listing(listing_id="rel", title="小米14", seller=SELLER,
                               images=["pics/mi14.jpg"])])  # fmt: skip
    assert "official_image_reuse" in kinds(rows["rel"])


def test_dihedral_matching_can_be_switched_off(world: dict[str, Any]) -> None:
    files = world["files"]
    feed = [listing(listing_id="flip", title="小米14", seller=SELLER, images=[files["flipped"]])]
    assert "official_image_reuse" in kinds(run(world, feed)["flip"])
    assert not kinds(run(world, feed, dihedral=False)["flip"])


def test_a_bad_registry_image_is_a_warning_not_a_failure(world: dict[str, Any]) -> None:
    store: Store = world["store"]
    registry = registry_snapshot(store)
    products = [
        p.model_copy(update={"images": ["/nowhere/x.jpg"]}) if p.images else p
        for p in registry.products
    ]
    registry = registry.model_copy(update={"products": products})
    matcher = ImageDetector().compile(registry, load_scan_config())
    assert any("/nowhere/x.jpg" in w and "not matched" in w for w in matcher.warnings)
    assert [a.set for a in matcher.assets] == ["counterfeit", "work"]


def test_web_scans_read_urls_only(world: dict[str, Any]) -> None:
    config: ScanConfig = load_scan_config()
    assessor = compile_assessor(registry_snapshot(world["store"]), config, local_images=False)
    assert isinstance(assessor.images, ImageStage)
    images = assessor.images.analyse([world["files"]["official"]], None, urls_only=True)
    assert images[0].error is not None and "http(s) URL only" in images[0].error


def test_the_matcher_pickles_and_answers_the_same(world: dict[str, Any]) -> None:
    config = load_scan_config()
    assessor = compile_assessor(registry_snapshot(world["store"]), config)
    assert assessor.images is not None
    stage = pickle.loads(pickle.dumps(assessor.images))
    matcher = next(m for m in assessor.matchers if m.detector == "images")
    clone = pickle.loads(pickle.dumps(matcher))
    record = listing(title="旗舰手机", seller=SELLER, images=[world["files"]["scene"]])
    item = Listing.model_validate(record)
    answers = []
    for which in (matcher, clone):
        findings = Findings(images=stage.analyse(item.images, None))
        answers.append([(s.kind, s.asset, s.weight) for s in which.match(item, findings)])
    assert answers[0] == answers[1] == [("logo_match", "logo:Apple", 4.5)]
