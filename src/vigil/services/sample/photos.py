"""Photos for the sample, drawn from a seed: official shots, counterfeit-case photos, own photos.

Official photos are studio shots of a product drawn from shapes: the product's colours and
proportions come from its name, so its photos look like one product; the view, pose and
backdrop come from the photo's number. Photos seized in counterfeit cases put a cruder copy on
a cluttered table; sellers' own photos put things on a home table, off centre and grainy.

Perceptual hashes (PDQ) see a photo's coarse layout of light and dark, so every photo gets its
own low-frequency backdrop (light direction, floor line, soft props) besides its subject: two
photos of the same phone are then as far apart as two photos of different things.

The edits are those counterfeit sellers make to a photo they took from somewhere else: crop,
shrink, save at a low quality, turn, mirror, shift the colours, print their shop's name on it.
Their strengths were chosen by measuring PDQ distances on the sample's photos: an edited copy
stays within 31 bits of its source (of one of the source's 8 turned and mirrored hashes, for
turns and mirrors); tests/services/test_sample_images.py checks it. The things themselves are
drawn by `subjects`. Everything is Pillow and NumPy only, and the same arguments give the same
pixels.
"""

from __future__ import annotations

import io
import math
import random
import zlib

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from vigil.services.sample.art import draw_scene
from vigil.services.sample.subjects import (
    CANVAS,
    MISC_KINDS,
    RGB,
    Look,
    draw_subject,
    font,
    ink,
    jitter,
    mix,
    pale,
    vivid,
)

SIZE = 480
# Edits counterfeit sellers make, by name; `edit_photo` applies one.
EDITS = (
    "crop",
    "resize",
    "recompress",
    "rotate90",
    "rotate180",
    "rotate270",
    "flip_h",
    "flip_v",
    "colour",
    "overlay",
)
TURNS = frozenset({"rotate90", "rotate180", "rotate270", "flip_h", "flip_v"})
# PDQ follows a picture's layout, so it forgives little cropping. Measured on the sample's
# photos: cutting up to 10%, 5%, 2% and even 1% a side moved some hashes past 31 bits; up to
# 0.5% a side kept every one within 20. The crop is a trim of a thin frame, then.
CROP_MAX = 0.005
_LOW = 64  # backdrops are drawn this small and enlarged: soft light for nearly nothing


def seed_of(text: str) -> int:
    """A stable integer seed for a name (`hash()` changes between runs)."""
    return zlib.crc32(text.encode("utf-8"))


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    """The image as JPEG bytes, the same bytes for the same pixels and quality."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


# -- the three kinds of photo ------------------------------------------------------------------


def product_photo(brand: str, model: str, category: str, number: int) -> Image.Image:
    """Official photo `number` (0, 1, …) of a product: studio light, the product in the middle."""
    look = Look.of(random.Random(f"vigil-look:{brand}/{model}"))
    rng = random.Random(f"vigil-photo:{brand}/{model}:{number}")
    backdrop = _studio(rng)
    subject = draw_subject(category, look, rng, view=number)
    # Studio shots stand upright, but for a few turned for effect.
    turn = rng.uniform(-18, 18) if rng.random() < 0.3 else 0.0
    piece, x, y = _pose(subject, rng, (SIZE, SIZE), scale=(0.85, 1.2), turn=turn, spread=0.16)
    return _compose(backdrop, piece, x, y, (SIZE, SIZE), blur=rng.uniform(0.9, 1.4))


def case_photo(brand: str, category: str, number: int) -> Image.Image:
    """A photo from a confirmed counterfeit case: a crude copy on a cluttered table, a case tag."""
    rng = random.Random(f"vigil-case:{brand}:{number}")
    look = Look.of(rng)
    image = draw_scene(seed_of(f"case:{brand}:{number}"), (SIZE, SIZE))
    _shade(image, rng)
    subject = draw_subject(category, look, rng, view=rng.randrange(3))
    draw = ImageDraw.Draw(subject)
    # Fakes carry the brand's name printed on them, often crooked.
    size = rng.randint(22, 34)
    draw.text((rng.randint(60, 110), rng.randint(130, 190)), brand.upper(), ink(look), font(size))
    piece, x, y = _pose(
        subject, rng, image.size, scale=(0.8, 1.1), turn=rng.uniform(-35, 35), spread=0.2
    )
    image.paste(piece, (x, y), piece)
    draw = ImageDraw.Draw(image)
    x, y = rng.randint(12, 300), rng.choice((rng.randint(10, 40), rng.randint(400, 430)))
    draw.rectangle((x, y, x + 160, y + 40), fill=(245, 245, 235), outline=(60, 60, 60), width=2)
    draw.text((x + 8, y + 9), f"CASE {rng.randrange(10**5, 10**6)}", (30, 30, 30), font(18))
    return image


def own_photo(theme: str, number: int, seed: int) -> Image.Image:
    """A seller's own photo: a thing of the theme (a category, or "misc") on a home table."""
    rng = random.Random(f"vigil-own:{seed}:{theme}:{number}")
    size = rng.choice(((SIZE, SIZE), (SIZE, 360), (360, SIZE)))
    backdrop = _home(rng)
    look = Look.of(rng)
    category = rng.choice(MISC_KINDS) if theme == "misc" else theme
    subject = draw_subject(category, look, rng, view=rng.randrange(3))
    turn = rng.uniform(-40, 40) if rng.random() < 0.7 else 0.0
    piece, x, y = _pose(subject, rng, size, scale=(0.55, 0.95), turn=turn, spread=0.28)
    image = _compose(backdrop, piece, x, y, size, blur=rng.uniform(0.3, 0.6))
    _grain(image, rng, 0.05)
    return image


# -- edits ------------------------------------------------------------------------------------


def edit_photo(image: Image.Image, edit: str, rng: random.Random) -> tuple[Image.Image, int]:
    """`image` edited as counterfeit sellers do, and the JPEG quality they save it with."""
    quality = rng.randint(82, 92)
    width, height = image.size
    if edit == "crop":
        left, top, right, bottom = (rng.uniform(0.001, CROP_MAX) for _ in range(4))
        box = (
            round(width * left),
            round(height * top),
            round(width * (1 - right)),
            round(height * (1 - bottom)),
        )
        return image.crop(box), quality
    if edit == "resize":
        factor = rng.uniform(0.5, 0.8)
        size = (round(width * factor), round(height * factor))
        return image.resize(size, Image.Resampling.BILINEAR), quality
    if edit == "recompress":
        return image.copy(), rng.randint(50, 75)
    if edit in _TRANSPOSE:
        # Turning is lossless; a good save keeps the hash as close as PDQ's turned hashes allow.
        return image.transpose(_TRANSPOSE[edit]), rng.randint(88, 95)
    if edit == "colour":
        return _colour_shift(image, rng), quality
    if edit == "overlay":
        return _overlay(image, rng), quality
    raise ValueError(f"unknown edit {edit!r}; expected one of {', '.join(EDITS)}")


_TRANSPOSE = {
    "rotate90": Image.Transpose.ROTATE_90,
    "rotate180": Image.Transpose.ROTATE_180,
    "rotate270": Image.Transpose.ROTATE_270,
    "flip_h": Image.Transpose.FLIP_LEFT_RIGHT,
    "flip_v": Image.Transpose.FLIP_TOP_BOTTOM,
}


def _colour_shift(image: Image.Image, rng: random.Random) -> Image.Image:
    """A warmer or cooler cast and a brighter or darker picture, as a filter app would make.

    One lookup table per channel: a tenth of the cost of a turn through HSV, for a hue
    shift of the same size.
    """
    warm = rng.choice((-1, 1)) * rng.uniform(0.03, 0.08)
    light = rng.uniform(0.93, 1.07)
    gains = (light * (1 + warm), light, light * (1 - warm))
    table = [min(255, round(i * gain)) for gain in gains for i in range(256)]
    return image.convert("RGB").point(table)


def _overlay(image: Image.Image, rng: random.Random) -> Image.Image:
    """The seller's shop name or handle, small, in a corner, on a translucent plate."""
    text = rng.choice(
        (
            f"@shop{rng.randrange(100, 99999)}",
            f"{rng.choice(_SHOP_WORDS)} {rng.choice(_SHOP_WORDS)} store",
            f"wx: {rng.choice(_SHOP_WORDS).lower()}{rng.randrange(10, 9999)}",
        )
    )
    width, height = image.size
    face = font(max(10, round(min(width, height) * rng.uniform(0.035, 0.05))))
    out = image.convert("RGBA")
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
    pad = 4
    x = pad if rng.random() < 0.5 else width - (right - left) - 3 * pad
    y = pad if rng.random() < 0.3 else height - (bottom - top) - 3 * pad
    plate = (x, y, x + right - left + 2 * pad, y + bottom - top + 2 * pad)
    draw.rectangle(plate, fill=(0, 0, 0, rng.randint(60, 120)))
    draw.text((x + pad - left, y + pad - top), text, (255, 255, 255, 220), font=face)
    return Image.alpha_composite(out, layer).convert("RGB")


_SHOP_WORDS = ("Lucky", "Star", "Best", "Golden", "Happy", "Top", "Fast", "Good", "Smart", "Joy")


# -- backdrops and placing ---------------------------------------------------------------------


def _studio(rng: random.Random) -> Image.Image:
    """A small studio backdrop: light from a side, a floor line, soft shapes out of focus."""
    light, deep = pale(rng), mix(pale(rng), vivid(rng), rng.uniform(0.2, 0.7))
    array = _gradient(rng, light, deep)
    floor = rng.uniform(0.55, 0.85)
    rows = np.arange(_LOW)[:, None, None] >= floor * _LOW
    array = np.where(rows, array * rng.uniform(0.7, 0.95), array)
    low = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), "RGB")
    _blobs(low, rng, rng.randint(10, 16), (10, 250))
    return low


def _home(rng: random.Random) -> Image.Image:
    """A small backdrop of a home table against a wall, in one photo's daylight."""
    wall, table = pale(rng), jitter((150, 110, 70), rng, 50)
    array = _gradient(rng, wall, mix(wall, (60, 60, 60), rng.uniform(0.2, 0.6)))
    edge = int(rng.uniform(0.3, 0.6) * _LOW)
    for row in range(edge, _LOW):
        array[row, :, :] = np.asarray(mix(table, (40, 30, 20), rng.uniform(0.0, 0.35)))
    low = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), "RGB")
    _blobs(low, rng, rng.randint(10, 16), (20, 230))
    return low


def _shade(image: Image.Image, rng: random.Random) -> None:
    """Uneven light over a busy scene, so that its hash depends on more than the clutter."""
    low = Image.new("L", (8, 8))
    low.putdata([rng.randint(80, 255) for _ in range(64)])
    mask = low.resize(image.size, Image.Resampling.BICUBIC)
    image.paste(Image.composite(image, Image.new("RGB", image.size, (20, 20, 20)), mask))


def _gradient(rng: random.Random, a: RGB, b: RGB) -> np.ndarray:
    """A `_LOW`-sized linear blend from colour a to colour b in a random direction."""
    angle = rng.uniform(0, 2 * math.pi)
    ys, xs = np.mgrid[0:_LOW, 0:_LOW] / (_LOW - 1) - 0.5
    t = np.clip(0.5 + (xs * math.cos(angle) + ys * math.sin(angle)) * rng.uniform(0.8, 1.6), 0, 1)
    first, second = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    blend: np.ndarray = first + (second - first) * t[..., None]
    return blend


def _blobs(low: Image.Image, rng: random.Random, count: int, lum: tuple[int, int]) -> None:
    draw = ImageDraw.Draw(low)
    for _ in range(count):
        x, y, r = rng.uniform(0, _LOW), rng.uniform(0, _LOW), rng.uniform(3, _LOW / 3)
        grey = rng.randint(*lum)
        colour = mix((grey, grey, grey), vivid(rng), 0.3)
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.rectangle((x - r, y - r / 2, x + r, y + r), fill=colour)


def _pose(
    subject: Image.Image,
    rng: random.Random,
    size: tuple[int, int],
    *,
    scale: tuple[float, float],
    turn: float,
    spread: float,
) -> tuple[Image.Image, int, int]:
    """The subject scaled, maybe mirrored and turned, and where it goes, off centre."""
    side = round(CANVAS * rng.uniform(*scale))
    piece = subject.resize((side, side), Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        piece = piece.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if turn:
        piece = piece.rotate(turn, Image.Resampling.BILINEAR, expand=True)
    width, height = size
    x = round((width - piece.width) / 2 + rng.uniform(-spread, spread) * width)
    y = round((height - piece.height) / 2 + rng.uniform(-spread, spread) * height)
    return piece, x, y


def _compose(
    backdrop: Image.Image, piece: Image.Image, x: int, y: int, size: tuple[int, int], *, blur: float
) -> Image.Image:
    """The small backdrop with the piece's shadow, blurred and enlarged, the piece pasted on.

    Shadow and blur are made at the backdrop's size, where they cost next to nothing.
    """
    width, height = size
    shadow = Image.new("L", backdrop.size, 0)
    fx, fy = backdrop.width / width, backdrop.height / height
    sx, sy = (x + piece.width / 2) * fx, (y + piece.height * 0.9) * fy
    sr = piece.width * fx / 2.4
    ImageDraw.Draw(shadow).ellipse((sx - sr, sy - sr / 3, sx + sr, sy + sr / 3), fill=110)
    backdrop.paste((30, 30, 30), (0, 0), shadow)
    soft = backdrop.filter(ImageFilter.GaussianBlur(blur))
    image = soft.resize(size, Image.Resampling.BILINEAR)
    image.paste(piece, (x, y), piece)
    return image


def _grain(image: Image.Image, rng: random.Random, amount: float) -> None:
    noise = Image.frombytes("L", (SIZE // 2, SIZE // 2), rng.randbytes((SIZE // 2) ** 2))
    noise = noise.resize(image.size, Image.Resampling.NEAREST).convert("RGB")
    image.paste(Image.blend(image, noise, amount))
