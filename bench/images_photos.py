"""Image hashing half of bench/images.py: synthetic photos, per-stage timings, throughput.

The photos are drawn here (seeded): a two-colour gradient, a few dozen filled shapes, a slight
blur and sensor-like noise, saved as JPEG quality 88, which gives files of about 130 KB at
1024x768 and PDQ quality 100 — close enough to product photos for timing purposes.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 1024, 768
JPEG_QUALITY = 88


# --- the photos -----------------------------------------------------------------------------


def draw_photo(seed: int) -> Image.Image:
    """A photographic-looking 1024x768 RGB picture, the same for the same seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = x * np.cos(angle) + y * np.sin(angle)
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    start, end = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    pixels = start * (1 - ramp[..., None]) + end * ramp[..., None]
    image = Image.fromarray(pixels.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(20, 40))):
        x0, y0 = rng.uniform(-100, WIDTH), rng.uniform(-100, HEIGHT)
        w, h = rng.uniform(20, 400, 2)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        kind = rng.integers(3)
        if kind == 0:
            draw.ellipse((x0, y0, x0 + w, y0 + h), fill=colour)
        elif kind == 1:
            draw.rectangle((x0, y0, x0 + w, y0 + h), fill=colour)
        else:
            corners = rng.uniform(0, 1, (5, 2)) * (WIDTH, HEIGHT)
            draw.polygon([(float(a), float(b)) for a, b in corners], fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.8, 2.0))))
    noisy = np.asarray(image, dtype=np.int16) + rng.integers(-8, 9, (HEIGHT, WIDTH, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def _write_photo(folder: Path, seed: int) -> None:
    path = folder / f"photo-{seed:05d}.jpg"
    if not path.exists():
        temp = path.with_suffix(".part")
        draw_photo(seed).save(temp, "JPEG", quality=JPEG_QUALITY)
        temp.replace(path)


def ensure_photos(folder: Path, count: int, workers: int = 2) -> list[Path]:
    """`count` photos in `folder`, drawing only the missing ones."""
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        list(pool.map(partial(_write_photo, folder), range(count), chunksize=16))
    return [folder / f"photo-{seed:05d}.jpg" for seed in range(count)]


# --- per-stage timings, one process ---------------------------------------------------------


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    values = np.asarray(seconds) * 1000
    return {
        "median_ms": round(float(np.median(values)), 3),
        "p99_ms": round(float(np.percentile(values, 99)), 3),
        "mean_ms": round(float(values.mean()), 3),
    }


def stage_timings(paths: Sequence[Path]) -> dict[str, Any]:
    """Time every stage on every photo, one after the other, in this process."""
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file

    from vigil.images.decode import decode_image
    from vigil.images.pdq import distance, pdq_dihedral, pdq_hash

    stages: dict[str, list[float]] = {}

    def timed(name: str, action: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = action()
        stages.setdefault(name, []).append(time.perf_counter() - start)
        return result

    def decode_full(data: bytes) -> Image.Image:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            return opened.convert("RGB") if opened.mode != "RGB" else opened.copy()

    same_as_reference = 0
    drift: list[int] = []
    qualities: list[int] = []
    for path in paths:
        data = timed("read file", path.read_bytes)
        full = timed("decode, Pillow, full size", partial(decode_full, data))
        timed("decode_image(max_side=1024) (product default)", partial(decode_image, data))
        small = timed(
            "decode_image(max_side=512) (JPEG draft + resize)",
            partial(decode_image, data, max_side=512),
        ).image
        timed(
            "resize full size to 512, Lanczos",
            partial(full.resize, small.size, Image.Resampling.LANCZOS, reducing_gap=3.0),
        )
        big_hash = timed("pdq_hash at 1024x768", partial(pdq_hash, full))
        small_hash = timed("pdq_hash at 512x384", partial(pdq_hash, small))
        timed("pdq_dihedral at 1024x768", partial(pdq_dihedral, full))
        timed("pdq_dihedral at 512x384", partial(pdq_dihedral, small))
        reference, _ = timed(
            "threatexchange pdq_from_file (end to end)", partial(pdq_from_file, path)
        )
        same_as_reference += reference == big_hash.hex()
        drift.append(distance(big_hash.bits, small_hash.bits))
        qualities.append(big_hash.quality)
    drifts = np.asarray(drift)
    return {
        "stages": {name: summary_ms(values) for name, values in stages.items()},
        "hash_equals_threatexchange": f"{same_as_reference}/{len(paths)}",
        "distance_512_vs_1024": {
            "median": float(np.median(drifts)),
            "p99": float(np.percentile(drifts, 99)),
            "max": int(drifts.max()),
        },
        "quality_median": float(np.median(qualities)),
        "file_kb_median": round(float(np.median([p.stat().st_size for p in paths])) / 1024, 1),
    }


# --- end-to-end throughput, 1 and 2 worker processes ----------------------------------------


def product_hash(path: Path, max_side: int = 1024) -> str:
    """What the product does for a listing photo: read, decode_image, pdq_hash."""
    from vigil.images.decode import decode_image
    from vigil.images.pdq import pdq_hash

    return pdq_hash(decode_image(path.read_bytes(), max_side=max_side).image).hex()


def product_dihedral(path: Path, max_side: int = 1024) -> str:
    """What the product does for a registered photo: read, decode_image, pdq_dihedral."""
    from vigil.images.decode import decode_image
    from vigil.images.pdq import pdq_dihedral

    return pdq_dihedral(decode_image(path.read_bytes(), max_side=max_side).image)[0].hex()


def reference_hash(path: Path) -> str:
    """threatexchange's own file hasher (Pillow open, numpy array, pdqhash)."""
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file

    return str(pdq_from_file(path)[0])


PIPELINES: dict[str, Callable[[Path], str]] = {
    "decode_image(1024) + pdq_hash (product)": product_hash,
    "decode_image(1024) + pdq_dihedral (product, registry)": product_dihedral,
    "decode_image(512) + pdq_hash": partial(product_hash, max_side=512),
    "threatexchange pdq_from_file (baseline)": reference_hash,
}


def throughput(paths: Sequence[Path], work: Callable[[Path], str], workers: int) -> float:
    """Images/s of `work` over all paths with `workers` processes (pools warmed up first)."""
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        list(pool.map(work, paths[: 4 * workers]))  # imports and first calls, untimed
        start = time.perf_counter()
        list(pool.map(work, paths, chunksize=8))
        return len(paths) / (time.perf_counter() - start)


def hashing_results(paths: Sequence[Path]) -> dict[str, Any]:
    print(f"timing stages on {len(paths):,} photos ...", flush=True)
    result = stage_timings(paths)
    rates: dict[str, dict[str, float]] = {}
    for name, work in PIPELINES.items():
        rates[name] = {}
        for workers in (1, 2):
            rate = throughput(paths, work, workers)
            rates[name][f"{workers}_worker"] = round(rate, 1)
            print(f"  {name}, {workers} worker(s): {rate:,.1f} images/s", flush=True)
    result["images_per_second"] = rates
    return result
