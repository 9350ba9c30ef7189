"""The drawn logos, scenes and pastes that samples and benchmarks are built from."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from vigil.services.sample.art import draw_logo, draw_scene, paste_logo


def test_logo_is_the_same_for_the_same_name_and_seed() -> None:
    first = draw_logo("Norvexa", 7)
    again = draw_logo("Norvexa", 7)
    assert first.mode == "RGB"
    assert first.size == (256, 256)
    assert first.tobytes() == again.tobytes()


def test_logos_differ_by_name_and_by_seed() -> None:
    base = draw_logo("Norvexa", 7).tobytes()
    assert draw_logo("Norvexb", 7).tobytes() != base
    assert draw_logo("Norvexa", 8).tobytes() != base


def test_logo_size_is_honoured_and_too_small_is_refused() -> None:
    assert draw_logo("Kalo", 1, size=96).size == (96, 96)
    with pytest.raises(ValueError, match="at least 32 pixels"):
        draw_logo("Kalo", 1, size=16)


def test_logo_is_mostly_not_blank() -> None:
    image = draw_logo("Kalo Labs", 3).convert("L")
    histogram = image.histogram()
    # No single grey level covers 80% of the logo: it has ink, not just a background.
    assert max(histogram) < 0.8 * image.width * image.height


def test_scene_is_the_same_for_the_same_seed_and_busy() -> None:
    first = draw_scene(11)
    assert first.size == (480, 360)
    assert first.mode == "RGB"
    assert first.tobytes() == draw_scene(11).tobytes()
    assert first.tobytes() != draw_scene(12).tobytes()
    assert draw_scene(11, (300, 500)).size == (300, 500)
    # Many distinct colours: gradients, shapes and grain, not a flat backdrop.
    pixels = np.asarray(first).reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 1000


def test_scene_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 8×8"):
        draw_scene(1, (4, 100))


def test_paste_is_the_same_for_the_same_generator_state() -> None:
    scene, logo = draw_scene(3), draw_logo("Vemi", 2)
    one, corners_one = paste_logo(scene, logo, random.Random(5))
    two, corners_two = paste_logo(scene, logo, random.Random(5))
    assert one.tobytes() == two.tobytes()
    assert corners_one == corners_two
    _, corners_three = paste_logo(scene, logo, random.Random(6))
    assert corners_three != corners_one


def test_unrotated_paste_has_the_requested_size() -> None:
    scene = draw_scene(3, (400, 300))
    _, corners = paste_logo(scene, draw_logo("Vemi", 2), random.Random(1), scale=0.5, angle=0)
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = corners
    assert x1 - x0 == pytest.approx(150, abs=1)
    assert y3 - y0 == pytest.approx(150, abs=1)
    assert (y0, x2, y2, x3) == pytest.approx((y1, x1, y3, x0))
    assert all(0 <= x <= 400 and 0 <= y <= 300 for x, y in corners)


@pytest.mark.parametrize("angle", [0, 90, 135, 200])
def test_corners_follow_the_logo_when_rotated(angle: float) -> None:
    # A logo whose top-left quarter is red and the rest blue: the pixel just inside the
    # reported top-left corner must be red whatever the angle.
    logo = Image.new("RGB", (200, 200), (0, 0, 255))
    logo.paste((255, 0, 0), (0, 0, 100, 100))
    scene = Image.new("RGB", (500, 400), (0, 255, 0))
    image, corners = paste_logo(scene, logo, random.Random(2), scale=0.5, angle=angle, occlusion=0)
    (tlx, tly), _, (brx, bry), _ = corners
    # A quarter of the way from the top-left corner to the centre, inside the red quarter.
    cx, cy = sum(x for x, _ in corners) / 4, sum(y for _, y in corners) / 4
    red = image.getpixel((round(tlx + (cx - tlx) * 0.5), round(tly + (cy - tly) * 0.5)))
    blue = image.getpixel((round(brx + (cx - brx) * 0.5), round(bry + (cy - bry) * 0.5)))
    assert red[0] > 200 and red[2] < 50
    assert blue[2] > 200 and blue[0] < 50


def test_occlusion_hides_about_the_requested_share() -> None:
    logo = Image.new("RGB", (200, 200), (255, 0, 255))
    scene = Image.new("RGB", (400, 400), (0, 0, 0))
    image, corners = paste_logo(scene, logo, random.Random(9), scale=0.5, angle=0, occlusion=0.25)
    (x0, y0), _, (x2, y2), _ = corners
    inside = image.crop((round(x0) + 1, round(y0) + 1, round(x2) - 1, round(y2) - 1))
    magenta = np.all(np.asarray(inside) == (255, 0, 255), axis=2)
    hidden = 1 - magenta.mean()
    assert 0.2 <= hidden <= 0.3


def test_paste_refuses_bad_scale_and_occlusion() -> None:
    scene, logo = draw_scene(1), draw_logo("Vemi", 1)
    with pytest.raises(ValueError, match="scale"):
        paste_logo(scene, logo, random.Random(1), scale=1.5)
    with pytest.raises(ValueError, match="occlusion"):
        paste_logo(scene, logo, random.Random(1), occlusion=1.0)
