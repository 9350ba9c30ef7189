"""Things drawn from shapes for the sample's photos: phones, shoes, bags, bottles, watches, ….

Each category has a drawer that puts one thing on a transparent square (`CANVAS` pixels a side),
in the colours and proportions of a `Look`: a product's look comes from its name, so all its
photos show the same product. The small colour helpers are shared with `photos`.
"""

from __future__ import annotations

import colorsys
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

CANVAS = 320  # the side of the square a thing is drawn on, before it is scaled and turned

RGB = tuple[int, int, int]
Draw = ImageDraw.ImageDraw


# -- what a product looks like ---------------------------------------------------------------

_BODY: list[RGB] = [
    (25, 25, 28),
    (238, 238, 236),
    (190, 192, 196),
    (212, 180, 130),
    (40, 70, 140),
    (30, 110, 90),
    (170, 30, 40),
    (230, 170, 180),
    (120, 80, 50),
    (225, 210, 180),
    (90, 60, 130),
    (70, 75, 80),
    (240, 120, 40),
    (100, 150, 200),
]


@dataclass(frozen=True, slots=True)
class Look:
    """A product's own colours and proportions, shared by all its photos."""

    body: RGB
    accent: RGB
    screen: tuple[RGB, RGB]
    aspect: float
    round: float
    count: int
    pattern: int

    @classmethod
    def of(cls, rng: random.Random) -> Look:
        body = jitter(rng.choice(_BODY), rng, 14)
        return cls(
            body=body,
            accent=jitter(rng.choice(_BODY), rng, 30),
            screen=(vivid(rng), vivid(rng)),
            aspect=rng.uniform(0.0, 1.0),
            round=rng.uniform(0.0, 1.0),
            count=rng.randint(2, 4),
            pattern=rng.randrange(4),
        )


def draw_subject(category: str, look: Look, rng: random.Random, *, view: int) -> Image.Image:
    """The thing itself on a transparent square, drawn by its category's drawer."""
    canvas = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    drawer = _DRAWERS.get(category, _box)
    drawer(ImageDraw.Draw(canvas), look, rng, view)
    return canvas


def _slab(d: Draw, look: Look, rng: random.Random, view: int) -> None:
    """A phone or tablet: the screen from the front, the camera block from the back."""
    w = 110 + 90 * look.aspect
    h = 230 + 40 * rng.random()
    x0, y0 = (CANVAS - w) / 2, (CANVAS - h) / 2
    radius = 10 + 22 * look.round
    d.rounded_rectangle((x0, y0, x0 + w, y0 + h), radius, fill=look.body, outline=dark(look.body))
    if view % 2 == 0:
        m = 7
        d.rounded_rectangle(
            (x0 + m, y0 + m, x0 + w - m, y0 + h - m), radius * 0.7, fill=look.screen[0]
        )
        for k in range(5):  # a wallpaper: bands of the screen's second colour
            top = y0 + m + (h - 2 * m) * rng.uniform(0.1, 0.9)
            d.ellipse(
                (x0 + m + k * 8, top, x0 + w - m - k * 5, top + rng.uniform(12, 50)),
                fill=mix(look.screen[0], look.screen[1], rng.uniform(0.4, 1.0)),
            )
        d.ellipse((x0 + w / 2 - 5, y0 + 14, x0 + w / 2 + 5, y0 + 24), fill=(10, 10, 10))
        for k in range(rng.randint(3, 6)):  # icons
            ix, iy = x0 + 18 + (k % 4) * (w - 36) / 4, y0 + h - 50 - (k // 4) * 30
            d.rounded_rectangle((ix, iy, ix + 18, iy + 18), 5, fill=vivid(rng))
    else:
        block = (x0 + 12, y0 + 12, x0 + 12 + w * 0.5, y0 + 12 + h * 0.3)
        d.rounded_rectangle(block, 12, fill=dark(look.body), outline=look.accent, width=2)
        for k in range(look.count):
            cx = block[0] + 22 + (k % 2) * (block[2] - block[0] - 44)
            cy = block[1] + 22 + (k // 2) * (block[3] - block[1] - 44)
            _lens(d, cx, cy, 16, look)
        d.text((x0 + w / 2 - 20, y0 + h * 0.7), "5G", ink(look), font(22))
    d.rectangle((x0 + w, y0 + h * 0.25, x0 + w + 4, y0 + h * 0.38), fill=dark(look.body))


def _laptop(d: Draw, look: Look, rng: random.Random, view: int) -> None:
    """A laptop or console open at an angle: screen above, keyboard below."""
    w = 250 + 40 * look.aspect
    x0 = (CANVAS - w) / 2
    top = 40 + 20 * rng.random()
    screen = (x0 + 15, top, x0 + w - 15, top + 150)
    d.rounded_rectangle(screen, 8, fill=look.body, outline=dark(look.body), width=3)
    inner = (screen[0] + 8, screen[1] + 8, screen[2] - 8, screen[3] - 8)
    d.rectangle(inner, fill=look.screen[0])
    d.polygon(
        [(inner[0], inner[3]), (inner[2], inner[1] + 30), (inner[2], inner[3])],
        fill=look.screen[1],
    )
    base = [(x0, top + 160), (x0 + w, top + 160), (x0 + w + 20, top + 230), (x0 - 20, top + 230)]
    d.polygon(base, fill=mix(look.body, (255, 255, 255), 0.15), outline=dark(look.body))
    for row in range(4):
        for col in range(12):
            kx = x0 + 10 + col * (w - 20) / 12 - row * 3
            ky = top + 166 + row * 12
            d.rectangle((kx, ky, kx + (w - 40) / 13, ky + 8), fill=dark(look.body))
    d.rectangle((x0 + w * 0.4, top + 216, x0 + w * 0.6, top + 226), fill=dark(look.body))


def _audio(d: Draw, look: Look, rng: random.Random, view: int) -> None:
    """Headphones (a band and two cups) or an earbud case, by the product's proportions."""
    if look.aspect < 0.5:
        d.arc((50, 30, 270, 250), 180, 360, fill=look.body, width=22)
        for cx in (62, 258):
            d.rounded_rectangle((cx - 38, 120, cx + 38, 240), 30, fill=look.body)
            d.ellipse((cx - 26, 140, cx + 26, 220), fill=look.accent)
    else:
        d.rounded_rectangle((70, 110, 250, 250), 50, fill=look.body, outline=dark(look.body))
        d.line((75, 160, 245, 160), fill=dark(look.body), width=3)
        d.ellipse((150, 195, 170, 205), fill=look.accent)
        for cx in (110, 210):
            d.ellipse((cx - 26, 50, cx + 26, 110), fill=mix(look.body, (255, 255, 255), 0.3))
            d.rectangle((cx - 8, 100, cx + 8, 150), fill=mix(look.body, (255, 255, 255), 0.3))


def _camera(d: Draw, look: Look, rng: random.Random, view: int) -> None:
    """A camera body with a big lens, or a drone's cross of arms and rotors."""
    if look.pattern == 0:
        for angle in (45, 135, 225, 315):
            a = math.radians(angle + 10 * rng.random())
            x, y = 160 + 110 * math.cos(a), 160 + 110 * math.sin(a)
            d.line((160, 160, x, y), fill=look.body, width=16)
            d.ellipse((x - 40, y - 40, x + 40, y + 40), outline=look.accent, width=6)
        d.rounded_rectangle((115, 125, 205, 195), 20, fill=look.body)
        _lens(d, 160, 200, 14, look)
        return
    d.rounded_rectangle((40, 90, 280, 250), 18, fill=look.body, outline=dark(look.body))
    d.rectangle((70, 70, 140, 92), fill=dark(look.body))
    d.rectangle((220, 78, 260, 92), fill=look.accent)
    _lens(d, 170 + 20 * (view % 2), 170, 62, look)


def _shoe(d: Draw, look: Look, rng: random.Random, view: int) -> None:
    """A trainer from the side: sole, upper, laces and a swoosh-like stripe of the brand's own."""
    toe = 40 + 30 * look.aspect
    sole = [(20, 220), (300, 220), (305, 245), (25, 255)]
    d.polygon(sole, fill=mix(look.accent, (255, 255, 255), 0.6))
    upper = [(30, 220), (40, 120), (110, 100), (160, 140), (250, 160 - toe / 3), (300, 200)]
    upper += [(300, 222)]
    d.polygon(upper, fill=look.body, outline=dark(look.body))
    for k in range(5):
        x = 110 + k * 18
        d.line((x, 120 + k * 6, x + 16, 140 + k * 6), fill=(245, 245, 245), width=4)
    stripe = [(60, 200), (150, 170 - 20 * look.round), (260, 150), (170, 190)]
    d.polygon(stripe, fill=look.accent)
    d.ellipse((45, 115, 75, 145), fill=dark(look.body))


def _bag(d: Draw, look: Look, rng: random.Random, view: int) -> None:
    """A handbag: a trapezoid body, a handle, a flap with a clasp, and a printed pattern."""
    slope = 20 + 30 * look.aspect
    body = [(60 - slope, 270), (260 + slope, 270), (260, 120), (60, 120)]
    d.polygon(body, fill=look.body, outline=dark(look.body))
    d.arc((90, 30, 230, 190), 180, 360, fill=dark(look.body), width=12)
    if look.pattern < 2:
        for row in range(5):
            for col in range(7):
                x, y = 55 + col * 32 + (row % 2) * 16, 135 + row * 27
                d.ellipse((x, y, x + 8, y + 8), fill=look.accent)
    d.polygon([(60, 120), (260, 120), (240, 190), (80, 190)], fill=dark(look.body))
    d.rounded_rectangle((145, 175, 175, 205), 6, fill=(215, 180, 90))


def _bottle(d: Draw, look: Look, rng: random.Random, view: int) -> None:
    """A bottle or jar with a cap and a label carrying lines of text."""
    w = 90 + 80 * look.aspect
    x0 = (CANVAS - w) / 2
    neck = 30 + 30 * look.round
    d.rectangle((160 - neck / 2, 20, 160 + neck / 2, 80), fill=look.accent)
    d.rounded_rectangle((x0, 70, x0 + w, 300), 20 + 20 * look.round, fill=look.body)
    label = (x0 + 10, 140, x0 + w - 10, 250)
    d.rectangle(label, fill=mix(look.body, (250, 245, 230), 0.8), outline=look.accent, width=3)
    for k in range(3):
        d.line(
            (label[0] + 12, 170 + 25 * k, label[2] - 12 - 15 * k, 170 + 25 * k),
            fill=dark(look.accent),
            width=4,
        )


def _watch(d: Draw, look: Look, rng: random.Random, view: int) -> None:
    """A watch face on its strap, with hour marks and hands."""
    d.rectangle((125, 0, 195, 320), fill=dark(look.accent))
    radius = 80 + 20 * look.aspect
    d.ellipse((160 - radius, 160 - radius, 160 + radius, 160 + radius), fill=look.body)
    face = radius - 14
    d.ellipse((160 - face, 160 - face, 160 + face, 160 + face), fill=look.screen[0])
    for hour in range(12):
        a = math.radians(hour * 30)
        inner = face - (16 if hour % 3 == 0 else 8)
        d.line(
            (
                160 + inner * math.sin(a),
                160 - inner * math.cos(a),
                160 + face * math.sin(a),
                160 - face * math.cos(a),
            ),
            fill=ink(look),
            width=4,
        )
    for length, angle in ((face * 0.5, rng.uniform(0, 360)), (face * 0.8, rng.uniform(0, 360))):
        a = math.radians(angle)
        d.line((160, 160, 160 + length * math.sin(a), 160 - length * math.cos(a)), ink(look), 5)


def _garment(d: Draw, look: Look, rng: random.Random, view: int) -> None:
    """A T-shirt or jacket laid flat, with a zip or stripes."""
    shape = [(90, 40), (130, 30), (160, 50), (190, 30), (230, 40), (300, 110), (260, 140)]
    shape += [(240, 120), (240, 300), (80, 300), (80, 120), (60, 140), (20, 110)]
    d.polygon(shape, fill=look.body, outline=dark(look.body))
    if look.pattern % 2:
        d.line((160, 50, 160, 300), fill=look.accent, width=5)
    else:
        for k in range(3):
            d.rectangle((80, 180 + 22 * k, 240, 190 + 22 * k), fill=look.accent)


def _box(d: Draw, look: Look, rng: random.Random, view: int) -> None:
    """An appliance, a toy or a lighter: a box with buttons, bricks or a hinged lid."""
    if look.pattern == 0:  # bricks with studs
        for row in range(3):
            x = 50 + row * 25
            d.rectangle((x, 240 - row * 60, x + 160, 290 - row * 60), fill=vivid(rng))
            for k in range(4):
                d.ellipse(
                    (x + 10 + k * 38, 228 - row * 60, x + 34 + k * 38, 242 - row * 60),
                    fill=dark(look.body),
                )
        return
    w = 120 + 100 * look.aspect
    x0 = (CANVAS - w) / 2
    d.rounded_rectangle((x0, 40, x0 + w, 290), 10 + 40 * look.round, fill=look.body)
    d.rounded_rectangle((x0 + 15, 60, x0 + w - 15, 120), 8, fill=dark(look.body))
    for k in range(look.count):
        cx = x0 + 30 + k * (w - 60) / max(1, look.count - 1)
        d.ellipse((cx - 10, 140, cx + 10, 160), fill=look.accent)
    d.rectangle((x0 + 20, 200, x0 + w - 20, 206), fill=dark(look.body))


_DRAWERS: dict[str, Callable[[Draw, Look, random.Random, int], None]] = {
    "phones": _slab,
    "tablets": _slab,
    "laptops": _laptop,
    "consoles": _laptop,
    "audio": _audio,
    "cameras": _camera,
    "drones": _camera,
    "shoes": _shoe,
    "bags": _bag,
    "cosmetics": _bottle,
    "liquor": _bottle,
    "spirits": _bottle,
    "watches": _watch,
    "wearables": _watch,
    "apparel": _garment,
    "appliances": _box,
    "toys": _box,
    "lighters": _box,
}
MISC_KINDS = ("bags", "cosmetics", "appliances", "toys", "apparel", "liquor", "audio")


def _lens(d: Draw, x: float, y: float, r: float, look: Look) -> None:
    d.ellipse((x - r, y - r, x + r, y + r), fill=(20, 20, 24), outline=look.accent, width=3)
    d.ellipse((x - r * 0.55, y - r * 0.55, x + r * 0.55, y + r * 0.55), fill=(40, 50, 70))
    d.ellipse((x - r * 0.35, y - r * 0.45, x - r * 0.1, y - r * 0.2), fill=(200, 210, 230))


# -- colours -----------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def jitter(colour: RGB, rng: random.Random, amount: int) -> RGB:
    r, g, b = (min(255, max(0, c + rng.randint(-amount, amount))) for c in colour)
    return (r, g, b)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    r, g, c = (round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return (r, g, c)


def dark(colour: RGB) -> RGB:
    return mix(colour, (0, 0, 0), 0.45)


def ink(look: Look) -> RGB:
    """Dark ink on a light body, light ink on a dark one."""
    light = sum(look.body) > 380
    return (25, 25, 25) if light else (240, 240, 240)


def vivid(rng: random.Random) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.5, 0.9), rng.uniform(0.5, 0.95))
    return (round(r * 255), round(g * 255), round(b * 255))


def pale(rng: random.Random) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.25), rng.uniform(0.75, 1.0))
    return (round(r * 255), round(g * 255), round(b * 255))
