"""Drawn pictures for samples and benchmarks: brand logos, busy backdrops, logos pasted into them.

Everything here is drawn with Pillow from a seed, so a sample can ship logos and photos without
carrying image files, and the same arguments always give the same pixels (no `effect_noise`,
whose generator we cannot seed; noise comes from `random.Random.randbytes` instead).

The logos are meant for a keypoint matcher, so they are drawn to be like real marks in the ways
that matter to one: many corners and edges (polygons, rings cut by stripes, a monogram and the
name in text), no rotational symmetry (the text breaks it, so a rotated logo has one right
answer), and every visible choice (shapes, counts, angles, colours) drawn from the brand's own
generator, so two brands' logos share few local patterns.
"""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

Corners = tuple[tuple[float, float], ...]

_INK = [
    (200, 30, 45),
    (20, 70, 160),
    (10, 120, 70),
    (230, 120, 0),
    (110, 30, 140),
    (20, 20, 20),
    (0, 130, 150),
    (160, 90, 20),
]


def draw_logo(name: str, seed: int, size: int = 256) -> Image.Image:
    """A square RGB logo for the brand `name`, the same for the same name, seed and size."""
    if size < 32:
        raise ValueError(f"a logo needs at least 32 pixels a side to carry detail, not {size}")
    rng = random.Random(f"logo:{name}:{seed}")
    # Drawn at twice the size and shrunk, so edges are antialiased like a real printed mark.
    big = size * 2
    ground = (255, 255, 255) if rng.random() < 0.6 else _pastel(rng)
    image = Image.new("RGB", (big, big), ground)
    draw = ImageDraw.Draw(image)
    ink = rng.sample(_INK, 3)
    centre = big / 2
    radius = big * rng.uniform(0.40, 0.46)

    # Outer ring, cut by radial gaps so its edge has corners, not only a smooth circle.
    width = int(big * rng.uniform(0.03, 0.06))
    draw.ellipse(_box(centre, centre, radius), outline=ink[0], width=width)
    for _ in range(rng.randint(3, 7)):
        start = rng.uniform(0, 360)
        draw.arc(_box(centre, centre, radius), start, start + rng.uniform(6, 18), ground, width + 2)

    # A star or polygon inside, with a random number of points and inner radius.
    points = rng.randint(3, 9)
    inner = rng.uniform(0.35, 0.8)
    turn = rng.uniform(0, 2 * math.pi)
    outline = []
    for k in range(points * 2):
        r = radius * 0.78 * (1.0 if k % 2 == 0 else inner)
        a = turn + math.pi * k / points
        outline.append((centre + r * math.cos(a), centre + r * math.sin(a)))
    draw.polygon(outline, fill=ink[1])

    # Stripes across the star, in the ground colour, at the brand's own angle and spacing.
    angle = rng.uniform(0, math.pi)
    step = big * rng.uniform(0.05, 0.09)
    dx, dy = math.cos(angle), math.sin(angle)
    for k in range(-12, 13, rng.randint(2, 3)):
        ox, oy = centre - dy * k * step, centre + dx * k * step
        draw.line(
            [(ox - dx * big, oy - dy * big), (ox + dx * big, oy + dy * big)],
            fill=ground,
            width=max(2, int(step * 0.3)),
        )

    # Dots and small squares around the ring: more corners, placed off any symmetry.
    for _ in range(rng.randint(5, 11)):
        a = rng.uniform(0, 2 * math.pi)
        r = radius * rng.uniform(0.85, 1.05)
        x, y = centre + r * math.cos(a), centre + r * math.sin(a)
        s = big * rng.uniform(0.015, 0.035)
        if rng.random() < 0.5:
            draw.ellipse(_box(x, y, s), fill=ink[2])
        else:
            draw.rectangle(_box(x, y, s), fill=ink[2])

    # The monogram in a plate, and the name underneath: text is what makes logos differ most.
    monogram = _monogram(name)
    font = ImageFont.load_default(size=int(big * rng.uniform(0.20, 0.26)))
    left, top, right, bottom = draw.textbbox((0, 0), monogram, font=font)
    tx = centre - (right - left) / 2 - left + rng.uniform(-0.05, 0.05) * big
    ty = centre - (bottom - top) / 2 - top - big * 0.05
    pad = big * 0.03
    plate = (tx + left - pad, ty + top - pad, tx + right + pad, ty + bottom + pad)
    draw.rectangle(plate, fill=ground, outline=ink[0], width=max(2, int(big * 0.01)))
    draw.text((tx, ty), monogram, fill=ink[2], font=font)
    label = name.upper()[:14] or "?"
    small = ImageFont.load_default(size=int(big * 0.075))
    left, top, right, bottom = draw.textbbox((0, 0), label, font=small)
    scale = min(1.0, big * 0.8 / max(1, right - left))
    if scale < 1.0:
        small = ImageFont.load_default(size=max(8, int(big * 0.075 * scale)))
        left, top, right, bottom = draw.textbbox((0, 0), label, font=small)
    lx = centre - (right - left) / 2 - left
    ly = big * 0.86 - top
    draw.rectangle(
        (lx + left - pad / 2, ly + top - pad / 2, lx + right + pad / 2, ly + bottom + pad / 2),
        fill=ground,
    )
    draw.text((lx, ly), label, fill=ink[0], font=small)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_scene(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """A busy RGB backdrop, like a cluttered product photo, the same for the same seed and size."""
    width, height = size
    if width < 8 or height < 8:
        raise ValueError(f"a scene needs at least 8×8 pixels, not {width}×{height}")
    rng = random.Random(f"scene:{seed}")
    top, bottom = _pastel(rng), _muted(rng)
    # A vertical gradient, as from a lamp above a table.
    column = Image.new("RGB", (1, height))
    for row in range(height):
        t = row / max(1, height - 1)
        column.putpixel(
            (0, row), tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    image = column.resize((width, height))
    draw = ImageDraw.Draw(image)
    side = min(width, height)
    for _ in range(rng.randint(35, 60)):
        colour = _muted(rng) if rng.random() < 0.7 else _pastel(rng)
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        r = side * rng.uniform(0.03, 0.25)
        kind = rng.random()
        if kind < 0.3:
            draw.ellipse(_box(x, y, r), fill=colour)
        elif kind < 0.55:
            draw.rectangle((x, y, x + r * rng.uniform(0.5, 2), y + r * rng.uniform(0.5, 2)), colour)
        elif kind < 0.8:
            n = rng.randint(3, 6)
            draw.polygon(
                [
                    (x + r * math.cos(a), y + r * math.sin(a))
                    for a in sorted(rng.uniform(0, 2 * math.pi) for _ in range(n))
                ],
                fill=colour,
            )
        else:
            end = (x + rng.uniform(-1, 1) * side / 2, y + rng.uniform(-1, 1) * side / 2)
            draw.line([(x, y), end], fill=colour, width=rng.randint(1, 6))
    # A few words of random letters, as on packaging and price tags in real photos.
    for _ in range(rng.randint(1, 4)):
        word = "".join(
            rng.choice("ABCDEFGHKMNPRSTWXYZ0123456789") for _ in range(rng.randint(3, 8))
        )
        font = ImageFont.load_default(size=max(8, int(side * rng.uniform(0.04, 0.1))))
        draw.text(
            (rng.uniform(0, width * 0.8), rng.uniform(0, height * 0.9)), word, _muted(rng), font
        )
    # Soften the shapes a little (a lens is never perfect), then add grain.
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
    grain = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    grain = grain.filter(ImageFilter.GaussianBlur(0.6)).convert("RGB")
    return Image.blend(image, grain, rng.uniform(0.06, 0.14))


def paste_logo(
    scene: Image.Image,
    logo: Image.Image,
    rng: random.Random,
    *,
    scale: float | None = None,
    angle: float | None = None,
    occlusion: float | None = None,
) -> tuple[Image.Image, Corners]:
    """`scene` with `logo` pasted in, and the logo's four corners in scene pixels.

    scale: the logo's longer side as a fraction of the scene's shorter side (0.25–0.6 when None);
    angle: degrees counter-clockwise (any when None); occlusion: the fraction of the logo's area
    hidden behind a patch (0–0.3 when None). The corners are the logo's own top-left, top-right,
    bottom-right and bottom-left, wherever rotation takes them.
    """
    scale = rng.uniform(0.25, 0.6) if scale is None else scale
    angle = rng.uniform(0.0, 360.0) if angle is None else angle
    occlusion = rng.uniform(0.0, 0.3) if occlusion is None else occlusion
    if not 0 < scale <= 1:
        raise ValueError(f"scale is a fraction of the scene's shorter side in (0, 1], not {scale}")
    if not 0 <= occlusion < 1:
        raise ValueError(f"occlusion is a fraction of the logo's area in [0, 1), not {occlusion}")
    scene = scene.convert("RGB")
    target = scale * min(scene.size)
    # Shrink further when the rotated logo would not fit inside the scene.
    rad = math.radians(angle)
    cos, sin = abs(math.cos(rad)), abs(math.sin(rad))
    lw, lh = logo.size
    factor = target / max(lw, lh)
    spread = max((lw * cos + lh * sin) / scene.width, (lw * sin + lh * cos) / scene.height)
    factor = min(factor, 0.98 / spread)
    w, h = max(1, round(lw * factor)), max(1, round(lh * factor))
    piece = logo.convert("RGB").resize((w, h), Image.Resampling.LANCZOS)
    if occlusion > 0:
        _occlude(piece, occlusion, rng)
    rgba = piece.convert("RGBA")
    turned = rgba.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    x0 = rng.uniform(0, max(0.0, scene.width - turned.width))
    y0 = rng.uniform(0, max(0.0, scene.height - turned.height))
    ox, oy = round(x0), round(y0)
    out = scene.copy()
    out.paste(turned, (ox, oy), turned)
    # Pillow rotates counter-clockwise about the centre; image y points down, hence the signs.
    cx, cy = ox + turned.width / 2, oy + turned.height / 2
    corners = []
    for px, py in ((0.0, 0.0), (w, 0.0), (w, h), (0.0, h)):
        dx, dy = px - w / 2, py - h / 2
        corners.append(
            (
                cx + dx * math.cos(rad) + dy * math.sin(rad),
                cy - dx * math.sin(rad) + dy * math.cos(rad),
            )
        )
    return out, tuple(corners)


def _occlude(piece: Image.Image, fraction: float, rng: random.Random) -> None:
    """Cover `fraction` of `piece` with a patch: a strip from one side or a block in a corner."""
    w, h = piece.size
    draw = ImageDraw.Draw(piece)
    colour = _muted(rng)
    if rng.random() < 0.5:
        side = rng.randrange(4)
        if side == 0:
            box = (0.0, 0.0, w * fraction, float(h))
        elif side == 1:
            box = (w * (1 - fraction), 0.0, float(w), float(h))
        elif side == 2:
            box = (0.0, 0.0, float(w), h * fraction)
        else:
            box = (0.0, h * (1 - fraction), float(w), float(h))
    else:
        k = math.sqrt(fraction)
        x = 0.0 if rng.random() < 0.5 else w * (1 - k)
        y = 0.0 if rng.random() < 0.5 else h * (1 - k)
        box = (x, y, x + w * k, y + h * k)
    draw.rectangle(box, fill=colour)
    # A few lines across the patch, so it looks like an object and not a hole.
    for _ in range(3):
        draw.line(
            [
                (rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])),
                (rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])),
            ],
            fill=_muted(rng),
            width=2,
        )


def _monogram(name: str) -> str:
    """Up to three initials of the name's words, or its first two characters."""
    words = [w for w in name.replace("-", " ").split() if w]
    if len(words) >= 2:
        return "".join(w[0] for w in words[:3]).upper()
    return (name.strip()[:2] or "?").upper()


def _box(x: float, y: float, r: float) -> tuple[float, float, float, float]:
    return (x - r, y - r, x + r, y + r)


def _pastel(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randint(200, 250), rng.randint(200, 250), rng.randint(200, 250))


def _muted(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randint(40, 200), rng.randint(40, 200), rng.randint(40, 200))
