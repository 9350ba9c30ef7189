"""Finding registered logos in photos: right brand, right place, nothing where there is none."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest
from PIL import Image

from vigil.images import logos as logos_module
from vigil.images.logos import LogoHit, LogoMatcher, PhotoFeatures, _plausible, photo_features
from vigil.services.sample.art import draw_logo, draw_scene, paste_logo

BRANDS = ["Norvexa", "Kalo Labs", "Tribu", "Senmar", "Zendo Sport", "Lumiva", "Pora", "Vetri"]
STRANGERS = ["Danbri", "Celfu Home", "Quoral", "Masten"]
SEED = 5


def logo(name: str) -> Image.Image:
    return draw_logo(name, SEED)


@pytest.fixture(scope="module")
def matcher() -> LogoMatcher:
    return LogoMatcher.build([(f"logo:{name}", name, logo(name)) for name in BRANDS])


def corner_error(hit: LogoHit, corners: tuple[tuple[float, float], ...]) -> float:
    """The largest corner error as a fraction of the pasted logo's side."""
    truth = np.array(corners)
    side = float(np.mean(np.hypot(*(np.roll(truth, -1, axis=0) - truth).T)))
    return float(np.hypot(*(np.array(hit.polygon) - truth).T).max()) / side


def find_in(matcher: LogoMatcher, image: Image.Image) -> list[LogoHit]:
    return matcher.find(photo_features(image))


@pytest.mark.parametrize("angle", [0, 45, 90, 170])
def test_rotated_and_occluded_logo_is_found_where_it_is(matcher: LogoMatcher, angle: float) -> None:
    brand = BRANDS[angle % len(BRANDS)]
    image, corners = paste_logo(
        draw_scene(angle),
        logo(brand),
        random.Random(angle),
        scale=0.45,
        angle=angle,
        occlusion=0.25,
    )
    hits = find_in(matcher, image)
    assert [h.brand for h in hits] == [brand]
    assert hits[0].asset == f"logo:{brand}"
    assert hits[0].inliers >= logos_module.MIN_INLIERS
    assert corner_error(hits[0], corners) < 0.1


@pytest.mark.parametrize("scale", [0.25, 0.6])
def test_small_and_large_logos_are_found(matcher: LogoMatcher, scale: float) -> None:
    image, corners = paste_logo(
        draw_scene(40), logo("Tribu"), random.Random(3), scale=scale, angle=300, occlusion=0.1
    )
    hits = find_in(matcher, image)
    assert [h.brand for h in hits] == ["Tribu"]
    assert corner_error(hits[0], corners) < 0.1


def test_big_photo_is_analysed_small_but_reported_in_its_own_pixels(
    matcher: LogoMatcher,
) -> None:
    image, corners = paste_logo(
        draw_scene(8, (1600, 1200)), logo("Senmar"), random.Random(8), scale=0.4, angle=20
    )
    features = photo_features(image)
    assert (features.width, features.height) == (1600, 1200)
    assert features.points[:, 0].max() > 1000  # points are not left in the 640-pixel frame
    hits = matcher.find(features)
    assert [h.brand for h in hits] == ["Senmar"]
    assert corner_error(hits[0], corners) < 0.1


def test_two_logos_in_one_photo_give_two_hits_best_first(matcher: LogoMatcher) -> None:
    rng = random.Random(4)
    image, _ = paste_logo(draw_scene(4, (900, 400)), logo("Lumiva"), rng, scale=0.8, angle=10)
    image, _ = paste_logo(image, logo("Pora"), rng, scale=0.5, angle=-30)
    hits = find_in(matcher, image)
    assert sorted(h.brand for h in hits) == ["Lumiva", "Pora"]
    assert hits[0].inliers >= hits[1].inliers


@pytest.mark.parametrize("seed", range(6))
def test_photo_without_a_logo_gives_nothing(matcher: LogoMatcher, seed: int) -> None:
    assert find_in(matcher, draw_scene(100 + seed)) == []


@pytest.mark.parametrize("stranger", STRANGERS)
def test_unregistered_logo_gives_nothing(matcher: LogoMatcher, stranger: str) -> None:
    image, _ = paste_logo(draw_scene(200), logo(stranger), random.Random(1), scale=0.5)
    assert find_in(matcher, image) == []


def test_matcher_and_features_survive_pickling() -> None:
    matcher = LogoMatcher.build([(f"logo:{name}", name, logo(name)) for name in BRANDS])
    shipped = len(pickle.dumps(matcher))
    image, _ = paste_logo(draw_scene(9), logo("Vetri"), random.Random(9), scale=0.4, angle=77)
    features = photo_features(image)
    before = matcher.find(features)
    assert [h.brand for h in before] == ["Vetri"]
    # The search index made by find() stays in this process: workers get the arrays only.
    assert len(pickle.dumps(matcher)) == shipped
    copy = pickle.loads(pickle.dumps(matcher))
    features_copy = pickle.loads(pickle.dumps(features))
    assert np.array_equal(features_copy.points, features.points)
    assert np.array_equal(features_copy.descriptors, features.descriptors)
    assert copy.find(features_copy) == before


def test_features_are_compact(matcher: LogoMatcher) -> None:
    features = photo_features(draw_scene(1))
    assert features.descriptors.dtype == np.uint8
    assert features.points.dtype == np.float32
    assert len(features.points) == len(features.descriptors) > 100


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGB", (1, 1)),
        Image.new("RGB", (12, 9), (30, 30, 30)),
        Image.new("RGB", (640, 480), (255, 255, 255)),
        Image.new("L", (300, 2000), 128),
        Image.new("RGBA", (200, 200), (0, 0, 0, 0)),
    ],
    ids=["1x1", "tiny", "white", "grey-strip", "transparent"],
)
def test_images_without_keypoints_give_no_hits(matcher: LogoMatcher, image: Image.Image) -> None:
    features = photo_features(image)
    assert len(features.points) == 0
    assert features.descriptors.shape == (0, 128)
    assert matcher.find(features) == []


def test_blank_logos_are_reported_unmatchable_and_harmless() -> None:
    blank = LogoMatcher.build(
        [
            ("logo:White", "White", Image.new("RGB", (256, 256), "white")),
            ("logo:Tribu", "Tribu", logo("Tribu")),
        ]
    )
    assert blank.unmatchable() == ["logo:White"]
    image, _ = paste_logo(draw_scene(5), logo("Tribu"), random.Random(5), scale=0.5)
    assert [h.asset for h in blank.find(photo_features(image))] == ["logo:Tribu"]
    empty = LogoMatcher.build([])
    assert len(empty) == 0
    assert empty.find(photo_features(image)) == []


def test_large_registry_is_searched_through_an_inverted_file() -> None:
    crowd = [f"Brand {i}" for i in range(45)] + ["Zendo Sport"]
    big = LogoMatcher.build([(f"logo:{n}", n, logo(n)) for n in crowd])
    assert len(big.descriptors) > logos_module.FLAT_LIMIT  # the approximate path is taken
    image, corners = paste_logo(draw_scene(6), logo("Zendo Sport"), random.Random(6), angle=135)
    hits = find_in(big, image)
    assert [h.brand for h in hits] == ["Zendo Sport"]
    assert corner_error(hits[0], corners) < 0.1
    assert find_in(big, draw_scene(7)) == []


def test_orb_matcher_finds_a_logo_too() -> None:
    orb = LogoMatcher.build([(f"logo:{n}", n, logo(n)) for n in BRANDS], detector="orb")
    image, corners = paste_logo(draw_scene(2), logo("Pora"), random.Random(2), scale=0.5, angle=45)
    hits = orb.find(photo_features(image, detector="orb"))
    assert [h.brand for h in hits] == ["Pora"]
    assert corner_error(hits[0], corners) < 0.1


def test_features_of_another_detector_are_refused_with_a_reason(matcher: LogoMatcher) -> None:
    orb_features = photo_features(draw_scene(1), detector="orb")
    with pytest.raises(ValueError, match=r"photo_features\(image, detector='sift'\)"):
        matcher.find(orb_features)


def test_unknown_detector_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown keypoint detector 'surf'"):
        photo_features(draw_scene(1), detector="surf")
    with pytest.raises(ValueError, match="at least 4 inliers"):
        LogoMatcher.build([], min_inliers=3)


def test_features_are_plain_data() -> None:
    features = PhotoFeatures(np.zeros((0, 2), np.float32), np.zeros((0, 128), np.uint8), 10, 10)
    assert LogoMatcher.build([("logo:Pora", "Pora", logo("Pora"))]).find(features) == []


def test_features_with_mismatched_points_are_refused(matcher: LogoMatcher) -> None:
    good = photo_features(draw_scene(1))
    broken = PhotoFeatures(good.points[:-1], good.descriptors, good.width, good.height)
    with pytest.raises(ValueError, match="points of shape"):
        matcher.find(broken)


def square(cx: float, cy: float, side: float, angle: float) -> np.ndarray:
    """The corners TL, TR, BR, BL of a square turned counter-clockwise on screen."""
    rad = np.radians(angle)
    offsets = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * side / 2
    turn = np.array([[np.cos(rad), np.sin(rad)], [-np.sin(rad), np.cos(rad)]])
    return offsets @ turn.T + (cx, cy)


@pytest.mark.parametrize("angle", [0, 45, 90, 170, 300])
def test_a_turned_logo_is_a_plausible_view(angle: float) -> None:
    assert _plausible(square(300, 200, 150, angle), (256, 256), (640, 480))


@pytest.mark.parametrize(
    ("name", "quad"),
    [
        ("mirrored", square(300, 200, 150, 0)[[1, 0, 3, 2]]),
        ("bow-tie", square(300, 200, 150, 0)[[0, 1, 3, 2]]),
        ("concave", np.array([[0, 0], [200, 0], [60, 60], [0, 200]], dtype=float)),
        ("speck", square(300, 200, 8, 30)),
        ("far larger than the photo", square(300, 200, 5000, 10)),
        ("needle", np.array([[0, 0], [400, 0], [400, 40], [0, 40]], dtype=float)),
        ("strong taper", np.array([[0, 0], [300, 0], [180, 200], [120, 200]], dtype=float)),
        ("not finite", np.array([[0, 0], [np.inf, 0], [100, 100], [0, 100]], dtype=float)),
    ],
)
def test_degenerate_projections_are_rejected(name: str, quad: np.ndarray) -> None:
    assert not _plausible(quad, (256, 256), (640, 480)), name
