"""The sample's images: files that exist and decode, labels that say what each image really is."""

from __future__ import annotations

import hashlib
import io
import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from PIL import Image

from vigil.domain.registry import Registry
from vigil.services.registry_file import parse_registry_file
from vigil.services.sample import SampleError, SampleSummary, write_sample
from vigil.services.sample import gallery as gallery_module
from vigil.services.sample.chunks import CHUNK, Recipe, make_chunks
from vigil.services.sample.gallery import Gallery
from vigil.services.sample.padding import build_catalog
from vigil.services.sample.photos import EDITS, TURNS, edit_photo, jpeg, product_photo
from vigil.settings import load_scan_config

pdqhash = pytest.importorskip("pdqhash", reason="PDQ checks need the images extra (pdqhash)")

KINDS = {"official", "official_edit", "counterfeit_edit", "own", "logo_scene", "broken"}
MATCH = 31  # PDQ distance within which two photos count as the same picture
SMALL = {"listings": 600, "seed": 3, "brands": 10, "products": 40}
# The files `vigil sample --listings 300 --seed 3` wrote before samples had images.
WITHOUT_IMAGES = {
    "registry.yaml": "56e5a4b65f709fc92f60483dacaffdc012097b4234f08efb09123aef0e2ac63a",
    "listings.jsonl": "6900e6b3ca416b9a75e5cc70dff127a4b77096e7ff3db728d7f84e51f0cb14e1",
    "truth.jsonl": "e7ec74138830e49382ca9508590f7a753cc3405932dbbc04818441a27216125c",
}

Row = dict[str, Any]


def read_jsonl(path: Path) -> list[Row]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def pixels(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def pdq(image: Image.Image) -> np.ndarray:
    bits, _quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return np.asarray(bits, dtype=bool)


def pdq_turned(image: Image.Image) -> list[np.ndarray]:
    hashes, _quality = pdqhash.compute_dihedral(np.asarray(image.convert("RGB")))
    return [np.asarray(bits, dtype=bool) for bits in hashes]


def distance(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.count_nonzero(a != b))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return write_sample(tmp_path_factory.mktemp("images"), **SMALL)


@pytest.fixture(scope="module")
def registry(sample: SampleSummary) -> Registry:
    parsed = parse_registry_file(sample.registry)
    assert not parsed.problems and not parsed.warnings, (parsed.problems, parsed.warnings)
    return parsed.registry


@pytest.fixture(scope="module")
def listings(sample: SampleSummary) -> list[tuple[Row, Row, list[Row]]]:
    """Each listing with its truth row and its image_truth rows."""
    assert sample.image_truth is not None
    shown: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in read_jsonl(sample.image_truth):
        shown[row["platform"], row["listing_id"]].append(row)
    records, truths = read_jsonl(sample.listings_path), read_jsonl(sample.truth)
    return [
        (record, truth, shown.pop((record["platform"], record["listing_id"]), []))
        for record, truth in zip(records, truths, strict=True)
    ] + [({}, {}, rows) for rows in shown.values()]  # rows of no listing fail the tests below


def rows_of(listings: list[tuple[Row, Row, list[Row]]], kind: str) -> list[Row]:
    return [row for _, _, rows in listings for row in rows if row["kind"] == kind]


def test_the_same_arguments_draw_the_same_bytes(tmp_path: Path, sample: SampleSummary) -> None:
    again = write_sample(tmp_path / "again", **SMALL)
    first = digests(sample.registry.parent)
    assert digests(again.registry.parent) == first
    assert len([name for name in first if name.startswith("images/listings/")]) > 50
    # Another seed draws other listing photos over the same registry photos.
    other = digests(
        write_sample(tmp_path / "other", **{**SMALL, "seed": 4, "listings": 100}).registry.parent
    )

    def registered(files: dict[str, str]) -> dict[str, str]:
        return {
            name: digest
            for name, digest in files.items()
            if name.startswith("images/") and not name.startswith("images/listings/")
        }

    assert registered(other) == registered(first)
    assert other["listings.jsonl"] != first["listings.jsonl"]


def test_without_images_the_sample_is_the_one_written_before_images(tmp_path: Path) -> None:
    # Without works too: the sample's works came after its images.
    summary = write_sample(tmp_path, listings=300, seed=3, images=False, works=False)
    written = {path.name for path in tmp_path.iterdir()}
    assert written == set(WITHOUT_IMAGES)
    assert digests(tmp_path) == WITHOUT_IMAGES
    assert summary.image_truth is None and summary.images == 0


def test_images_change_no_words_but_those_of_counterfeits_that_hide_their_brand(
    tmp_path: Path, listings: list[tuple[Row, Row, list[Row]]]
) -> None:
    # (Works are the same with and without images, so they change nothing here.)
    plain = read_jsonl(write_sample(tmp_path, **SMALL, images=False).listings_path)
    hidden = 0
    for (record, truth, rows), before in zip(listings, plain, strict=True):
        text = {k: v for k, v in record.items() if k != "images"}
        if "hidden_brand" in truth.get("tricks", ()):
            hidden += 1
            assert text["title"] != before["title"]
            # A scene with the logo, unless that reference came out broken.
            assert [row["kind"] for row in rows] in (["logo_scene"], ["broken"])
        else:
            assert text == before
            assert all(row["kind"] != "logo_scene" for row in rows)
    assert hidden > 0


def test_every_registry_image_exists_and_decodes(sample: SampleSummary, registry: Registry) -> None:
    assert all(product.images for product in registry.products)
    assert all(len(brand.logos) == 1 for brand in registry.brands)
    assert any(brand.counterfeit_images for brand in registry.brands)
    paths = [Path(p) for product in registry.products for p in product.images]
    paths += [Path(p) for brand in registry.brands for p in brand.logos + brand.counterfeit_images]
    for path in paths:
        assert path.is_relative_to(sample.registry.parent.resolve())
        image = pixels(path)
        assert min(image.size) >= 256, path
    # The registry file names them relative to itself, as DESIGN.md's examples do.
    text = sample.registry.read_text(encoding="utf-8")
    assert "images/products/" in text and str(sample.registry.parent) not in text


def test_image_truth_rows_are_the_listings_images_one_to_one(
    listings: list[tuple[Row, Row, list[Row]]], registry: Registry
) -> None:
    authorized = {
        (brand.name, seller.platform, seller.seller_id)
        for brand in registry.brands
        for seller in brand.authorized_sellers
    }
    for record, truth, rows in listings:
        assert record, f"image_truth rows of no listing: {rows[:1]}"
        assert [row["image"] for row in rows] == record.get("images", [])
        for row in rows:
            assert row["kind"] in KINDS
            kind, asset, brand = row["kind"], row["asset"], row["brand"]
            assert row["image"].startswith("images/listings/")
            if kind in ("official", "official_edit"):
                assert asset == f"product:{truth['brand']}/{truth['product']}"
            elif kind == "counterfeit_edit":
                assert asset == f"counterfeit:{truth['brand']}"
            elif kind == "logo_scene":
                assert asset == f"logo:{truth['brand']}"
            else:
                assert asset is None and brand is None
            if asset is not None:
                assert brand == truth["brand"]
            if kind in ("official_edit", "counterfeit_edit"):
                assert row["edit"] in EDITS
            elif kind == "broken":  # how it is broken
                assert row["edit"] in ("missing", "truncated", "not_an_image")
            else:
                assert row["edit"] is None
            if kind in ("official_edit", "counterfeit_edit", "logo_scene"):
                assert truth["label"] == "counterfeit"
            if kind == "official" and truth["label"] == "genuine":
                # Only the brand's own shops and dealers show its photos on genuine offers.
                seller = (truth["brand"], record["platform"], record["seller"]["id"])
                assert seller in authorized
    seen = {row["kind"] for _, _, rows in listings for row in rows}
    assert seen == KINDS


def test_counterfeits_that_hide_their_brand_name_neither_brand_nor_alias(
    listings: list[tuple[Row, Row, list[Row]]], registry: Registry
) -> None:
    hidden = [(r, t) for r, t, _ in listings if "hidden_brand" in t.get("tricks", ())]
    assert len(hidden) >= 5
    for record, truth in hidden:
        brand = registry.brand(truth["brand"])
        assert brand is not None and truth["label"] == "counterfeit"
        assert "variant_name" not in truth["tricks"]
        assert "variant" not in truth
        text = f"{record['title']}\n{record.get('description') or ''}".lower()
        named = [name for name in brand.names if name.lower() in text]
        assert not named, (named, record["title"], record.get("description"))
        assert not any(name.lower() in record["seller"]["name"].lower() for name in brand.names)


def test_the_logo_in_a_scene_is_found_as_its_brands_registered_logo(
    sample: SampleSummary, listings: list[tuple[Row, Row, list[Row]]], registry: Registry
) -> None:
    pytest.importorskip("cv2", reason="logo matching needs the images extra (opencv)")
    from vigil.images.logos import LogoMatcher, photo_features

    matcher = LogoMatcher.build(
        [(f"logo:{b.name}", b.name, pixels(Path(b.logos[0]))) for b in registry.brands]
    )
    scenes = {row["image"]: row for row in rows_of(listings, "logo_scene")}
    assert scenes
    for image, row in sorted(scenes.items())[:6]:
        scene = pixels(sample.listings_path.parent / image)
        assert scene.size == (480, 360)
        hits = matcher.find(photo_features(scene))
        assert hits and hits[0].brand == row["brand"], (row, hits[:2])


def test_official_photos_are_the_registered_bytes_and_edits_stay_within_pdq_reach(
    sample: SampleSummary, listings: list[tuple[Row, Row, list[Row]]], registry: Registry
) -> None:
    folder = sample.listings_path.parent
    products = {f"product:{p.brand}/{p.model}": p.images for p in registry.products}
    cases = {f"counterfeit:{b.name}": b.counterfeit_images for b in registry.brands}
    for row in rows_of(listings, "official")[:40]:
        data = (folder / row["image"]).read_bytes()
        assert any(Path(p).read_bytes() == data for p in products[row["asset"]])
    edited = rows_of(listings, "official_edit") + rows_of(listings, "counterfeit_edit")
    unique = list({row["image"]: row for row in edited}.values())
    checked: dict[str, int] = defaultdict(int)
    for row in random.Random(0).sample(unique, min(len(unique), 120)):
        sources = products.get(row["asset"]) or cases[row["asset"]]
        copy = pdq(pixels(folder / row["image"]))
        if row["edit"] in TURNS:
            best = min(distance(copy, h) for p in sources for h in pdq_turned(pixels(Path(p))))
        else:
            best = min(distance(copy, pdq(pixels(Path(p)))) for p in sources)
        assert best <= MATCH, row
        checked[row["edit"]] += 1
    assert len(checked) >= 6  # most kinds of edit were checked


def test_own_photos_are_far_from_every_official_photo(
    sample: SampleSummary, listings: list[tuple[Row, Row, list[Row]]], registry: Registry
) -> None:
    folder = sample.listings_path.parent
    official = np.array([pdq(pixels(Path(p))) for q in registry.products for p in q.images])
    own = sorted({row["image"] for row in rows_of(listings, "own")})
    assert len(own) > 50
    hashes = np.array([pdq(pixels(folder / image)) for image in own])
    across = (hashes[:, None, :] != official[None, :, :]).sum(axis=2)
    assert across.min() > MATCH
    among = (hashes[:, None, :] != hashes[None, :, :]).sum(axis=2)
    np.fill_diagonal(among, 256)
    assert among.min() > MATCH


def test_broken_references_are_broken(
    sample: SampleSummary, listings: list[tuple[Row, Row, list[Row]]]
) -> None:
    broken = rows_of(listings, "broken")
    assert broken
    for row in broken:
        path = sample.listings_path.parent / row["image"]
        if row["edit"] == "missing":
            assert not path.exists()
            continue
        assert path.exists()
        with pytest.raises(OSError):  # Pillow's UnidentifiedImageError is an OSError too
            pixels(path)


@pytest.mark.parametrize("edit", EDITS)
def test_each_edit_keeps_a_photo_within_pdq_reach(edit: str) -> None:
    rng = random.Random(edit)
    for number in range(4):
        photo = product_photo("Norvexa", f"Test {number}", "phones", number)
        source = Image.open(io.BytesIO(jpeg(photo))).convert("RGB")
        image, quality = edit_photo(source, edit, rng)
        copy = pdq(Image.open(io.BytesIO(jpeg(image, quality))))
        hashes = pdq_turned(source) if edit in TURNS else [pdq(source)]
        assert min(distance(copy, h) for h in hashes) <= MATCH, (edit, number)


def test_distinct_photos_are_far_apart() -> None:
    photos = [product_photo("Norvexa", f"Model {n % 3}", "shoes", n // 3) for n in range(9)]
    hashes = [pdq(photo) for photo in photos]
    for i, first in enumerate(hashes):
        for second in hashes[i + 1 :]:
            assert distance(first, second) > 2 * MATCH


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_worker_processes_choose_the_same_images_as_one_process() -> None:
    catalog = build_catalog(brands=6, products=20)
    rates = load_scan_config().currency.rates
    recipe = Recipe(catalog, seed=5, pool_size=12, rates=rates, gallery=Gallery(catalog, 5))
    count = 2 * CHUNK + 123
    alone = list(make_chunks(recipe, count, workers=1))
    together = list(make_chunks(recipe, count, workers=2))
    assert [c.listings for c in alone] == [c.listings for c in together]
    assert [c.images for c in alone] == [c.images for c in together]
    assert [c.pooled for c in alone] == [c.pooled for c in together]
    assert all(c.images and c.pooled for c in together)


def test_nothing_is_left_half_written_when_drawing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = 0
    original = gallery_module.product_photo

    def failing(*args: Any) -> Image.Image:
        nonlocal drawn
        drawn += 1
        if drawn > 5:
            raise RuntimeError("out of ink")
        return original(*args)

    monkeypatch.setattr(gallery_module, "product_photo", failing)
    monkeypatch.setattr(gallery_module, "image_workers", lambda jobs: 1)
    with pytest.raises(RuntimeError):
        write_sample(tmp_path, listings=50, seed=1, brands=3, products=6)
    assert list(tmp_path.iterdir()) == []


def test_a_new_sample_replaces_the_images_of_the_last(tmp_path: Path) -> None:
    small = {"listings": 80, "brands": 3, "products": 6}
    write_sample(tmp_path, seed=1, **small)
    write_sample(tmp_path, seed=2, **small)
    shown = {row["image"] for row in read_jsonl(tmp_path / "image_truth.jsonl")}
    files = {str(p.relative_to(tmp_path)) for p in (tmp_path / "images/listings").iterdir()}
    assert files <= shown  # no photo of the first sample is left behind
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_an_images_folder_the_sample_did_not_write_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "holiday.jpg").write_bytes(b"mine")
    with pytest.raises(SampleError, match="did not write"):
        write_sample(tmp_path, listings=10, brands=2, products=3)
    assert (tmp_path / "images" / "holiday.jpg").read_bytes() == b"mine"
