"""The sample's image files: which exist, where they go, which listing shows which; drawing them.

A sample with images has two sets of files under `images/`:

- the registry's: every product's official photos (`products/`), every brand's logo (`logos/`)
  and, for some brands, photos from confirmed counterfeit cases (`counterfeit/`). They depend
  on the catalogue only, as the registry does.
- the listings' (`listings/`), pooled so that the sample stays small and quick however many
  listings it has: per product a few copies and edited variants of its photos, per brand a few
  edited case photos and scenes with its logo pasted in, a few hundred sellers' own photos and a
  few broken files. Listings pick from the pools (`album.Album` chooses); only the files some
  listing shows are drawn.

Every file is a pure function of the sample's seed and its pool key, so files can be drawn in
any process and order and the bytes stay the same. File names are digests of the keys, so a
name says nothing about what the file shows; `image_truth.jsonl` says that.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import random
import re
import sys
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from vigil.services.sample.art import draw_logo, draw_scene, paste_logo
from vigil.services.sample.catalog import Catalog
from vigil.services.sample.photos import (
    case_photo,
    edit_photo,
    jpeg,
    own_photo,
    product_photo,
    seed_of,
)

# A pooled file, (pool, a, b, c):
#   ("copy", brand, product, photo)             an official photo as it is
#   ("official_edit", brand, product, variant)  an official photo edited
#   ("counterfeit_edit", brand, variant, 0)     a counterfeit-case photo edited
#   ("logo_scene", brand, variant, 0)           a scene with the brand's logo pasted in
#   ("own", number, 0, 0)                       a seller's own photo
#   ("broken", number, 0, 0)                    a file that is not a readable image
Key = tuple[str, int, int, int]

LISTINGS_DIR = "images/listings"
OFFICIAL_EDITS = 2  # edited variants per product
CASE_EDITS = 4  # edited variants of a brand's counterfeit-case photos
SCENES = 2  # scenes per brand with its logo pasted in
OWN = 320  # sellers' own photos, shared by all sellers
BROKEN = 8  # files that are not readable images
CASE_SHARE = 0.45  # brands with photos from confirmed counterfeit cases
# How often counterfeit sellers make each edit to a photo they took.
_EDIT_WEIGHTS = {
    "resize": 16,
    "recompress": 14,
    "overlay": 16,
    "colour": 10,
    "crop": 10,
    "flip_h": 14,
    "flip_v": 4,
    "rotate90": 6,
    "rotate180": 4,
    "rotate270": 6,
}
_NOT_AN_IMAGE = b"<html><head><title>404 Not Found</title></head><body>404</body></html>\n"


@dataclass(frozen=True, slots=True)
class Shown:
    """An image a listing shows, as `image_truth.jsonl` describes it."""

    key: Key | None  # the pooled file; None for a reference to a file that does not exist
    kind: str
    asset: str | None
    brand: str | None
    edit: str | None


class Gallery:
    """The sample's image files and pools, the same in every process for the same catalogue."""

    def __init__(self, catalog: Catalog, seed: int) -> None:
        self.catalog = catalog
        self.seed = seed
        self.photo_counts: list[list[int]] = []
        self.product_paths: list[list[list[str]]] = []
        self.logo_paths: list[str] = []
        self.case_paths: list[list[str]] = []
        self._product_index: dict[tuple[int, str], int] = {}
        brand_slugs: set[str] = set()
        for b, brand in enumerate(catalog.brands):
            slug = _unique(_slug(brand.name) or f"brand{b}", brand_slugs)
            self.logo_paths.append(f"images/logos/{slug}.png")
            rng = random.Random(f"vigil-sample-cases:{brand.name}")
            cases = rng.randint(1, 3) if rng.random() < CASE_SHARE else 0
            self.case_paths.append([f"images/counterfeit/{slug}-{n + 1}.jpg" for n in range(cases)])
            model_slugs: set[str] = set()
            counts, paths = [], []
            for p, product in enumerate(brand.products):
                self._product_index[b, product.model] = p
                count = _photo_count(brand.name, product.model, invented=brand.invented)
                name = _unique(_slug(product.model) or f"product{p}", model_slugs)
                counts.append(count)
                paths.append([f"images/products/{slug}/{name}-{n + 1}.jpg" for n in range(count)])
            self.photo_counts.append(counts)
            self.product_paths.append(paths)
        self._names: dict[Key, str] = {}
        self._edits: dict[Key, str] = {}

    # -- what the registry lists ---------------------------------------------------------------

    def product_images(self, brand: int, product: int) -> list[str]:
        return self.product_paths[brand][product]

    def logos(self, brand: int) -> list[str]:
        return [self.logo_paths[brand]]

    def counterfeit_images(self, brand: int) -> list[str]:
        return self.case_paths[brand]

    def product_index(self, brand: int, model: str) -> int:
        return self._product_index[brand, model]

    # -- the listings' pools -------------------------------------------------------------------

    def ref(self, key: Key) -> str:
        """Where a pooled file goes, relative to listings.jsonl: a digest of seed and key."""
        name = self._names.get(key)
        if name is None:
            digest = hashlib.sha1(f"{self.seed}:{key}".encode(), usedforsecurity=False)
            name = self._names[key] = f"{LISTINGS_DIR}/{digest.hexdigest()[:12]}.jpg"
        return name

    def variant_rng(self, key: Key) -> random.Random:
        """The generator of a pooled file's own choices: its edit first, then the edit's details."""
        return random.Random(f"vigil-sample-variant:{self.seed}:{key}")

    def edit_of(self, key: Key) -> str:
        edit = self._edits.get(key)
        if edit is None:
            edit = self._edits[key] = _pick_edit(self.variant_rng(key))
        return edit

    def official(self, brand: int, product: int, count: int) -> list[Shown]:
        """The product's first `count` official photos, as they are."""
        name, model = self._names_of(brand, product)
        photos = min(count, self.photo_counts[brand][product])
        return [
            Shown(("copy", brand, product, n), "official", f"product:{name}/{model}", name, None)
            for n in range(photos)
        ]

    def official_edit(self, brand: int, product: int, variant: int) -> Shown:
        name, model = self._names_of(brand, product)
        key: Key = ("official_edit", brand, product, variant % OFFICIAL_EDITS)
        return Shown(key, "official_edit", f"product:{name}/{model}", name, self.edit_of(key))

    def case_edit(self, brand: int, variant: int) -> Shown:
        name = self.catalog.brands[brand].name
        key: Key = ("counterfeit_edit", brand, variant % CASE_EDITS, 0)
        return Shown(key, "counterfeit_edit", f"counterfeit:{name}", name, self.edit_of(key))

    def scene(self, brand: int, variant: int) -> Shown:
        name = self.catalog.brands[brand].name
        key: Key = ("logo_scene", brand, variant % SCENES, 0)
        return Shown(key, "logo_scene", f"logo:{name}", name, None)

    def own(self, number: int) -> Shown:
        return Shown(("own", number % OWN, 0, 0), "own", None, None, None)

    def broken(self, rng: random.Random) -> tuple[Shown, str]:
        """A broken reference and its path: a missing file, a cut-off JPEG or not an image."""
        if rng.random() < 0.5:
            ref = f"{LISTINGS_DIR}/{rng.getrandbits(48):012x}.jpg"
            return Shown(None, "broken", None, None, "missing"), ref
        key: Key = ("broken", rng.randrange(BROKEN), 0, 0)
        how = "truncated" if key[1] % 2 == 0 else "not_an_image"
        return Shown(key, "broken", None, None, how), self.ref(key)

    def _names_of(self, brand: int, product: int) -> tuple[str, str]:
        spec = self.catalog.brands[brand]
        return spec.name, spec.products[product].model

    # -- drawing the files ---------------------------------------------------------------------

    def write(self, folder: Path, used: Iterable[Key], *, workers: int | None = None) -> int:
        """Draw the registry's files and the used pooled ones into `folder`; the count written.

        `folder` stands for the sample's folder: files go to `folder/images/...`. `workers`:
        processes to draw with (by default as many as are worth it, see `image_workers`).
        """
        jobs = self._jobs(used)
        workers = image_workers(len(jobs)) if workers is None else workers
        for path in {os.path.dirname(p) for p in self._registry_paths()} | {LISTINGS_DIR}:
            (folder / path).mkdir(parents=True, exist_ok=True)
        if workers <= 1 or len(jobs) < 64:
            return sum(_draw_job(self, folder, job) for job in jobs)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            workers, context, initializer=_start_worker, initargs=(self, folder)
        ) as pool:
            return sum(pool.map(_worker_job, jobs, chunksize=4))

    def _registry_paths(self) -> Iterator[str]:
        yield from self.logo_paths
        for paths in self.case_paths:
            yield from paths
        for products in self.product_paths:
            for paths in products:
                yield from paths

    def _jobs(self, used: Iterable[Key]) -> list[_Job]:
        """Work grouped by what it draws from: a product's photos, a brand's logo and cases."""
        by_product: dict[tuple[int, int], list[Key]] = defaultdict(list)
        by_brand: dict[int, list[Key]] = defaultdict(list)
        others: list[Key] = []
        for key in sorted(set(used)):
            pool = key[0]
            if pool in ("copy", "official_edit"):
                by_product[key[1], key[2]].append(key)
            elif pool in ("counterfeit_edit", "logo_scene"):
                by_brand[key[1]].append(key)
            else:
                others.append(key)
        jobs: list[_Job] = []
        for b, brand in enumerate(self.catalog.brands):
            jobs.append(_Job("brand", b, 0, tuple(by_brand.get(b, ()))))
            for p in range(len(brand.products)):
                jobs.append(_Job("product", b, p, tuple(by_product.get((b, p), ()))))
        jobs += [_Job("pool", 0, 0, tuple(others[i : i + 8])) for i in range(0, len(others), 8)]
        return jobs


@dataclass(frozen=True, slots=True)
class _Job:
    source: str  # "brand", "product" or "pool"
    brand: int
    product: int
    keys: tuple[Key, ...]


def _draw_job(gallery: Gallery, folder: Path, job: _Job) -> int:
    if job.source == "product":
        return _draw_product(gallery, folder, job)
    if job.source == "brand":
        return _draw_brand(gallery, folder, job)
    for key in job.keys:
        _save(folder / gallery.ref(key), _pooled(gallery, key))
    return len(job.keys)


def _draw_product(gallery: Gallery, folder: Path, job: _Job) -> int:
    brand = gallery.catalog.brands[job.brand]
    product = brand.products[job.product]
    photos = [
        jpeg(product_photo(brand.name, product.model, product.category, n), 90)
        for n in range(gallery.photo_counts[job.brand][job.product])
    ]
    for path, data in zip(gallery.product_paths[job.brand][job.product], photos, strict=True):
        _save(folder / path, data)
    for key in job.keys:
        if key[0] == "copy":
            data = photos[key[3]]
        else:
            data = _edited(gallery, key, photos[key[3] % len(photos)])
        _save(folder / gallery.ref(key), data)
    return len(photos) + len(job.keys)


def _draw_brand(gallery: Gallery, folder: Path, job: _Job) -> int:
    brand = gallery.catalog.brands[job.brand]
    logo = draw_logo(brand.name, logo_seed(brand.name))
    buffer = io.BytesIO()
    logo.save(buffer, "PNG")
    _save(folder / gallery.logo_paths[job.brand], buffer.getvalue())
    category = brand.categories[0] if brand.categories else "misc"
    cases = [
        jpeg(case_photo(brand.name, category, n), 88)
        for n in range(len(gallery.case_paths[job.brand]))
    ]
    for path, data in zip(gallery.case_paths[job.brand], cases, strict=True):
        _save(folder / path, data)
    for key in job.keys:
        if key[0] == "counterfeit_edit":
            data = _edited(gallery, key, cases[key[2] % len(cases)])
        else:
            rng = gallery.variant_rng(key)
            scene = draw_scene(seed_of(f"{gallery.seed}:{key}"), (480, 360))
            turn = rng.uniform(-30, 30) if rng.random() < 0.7 else None
            image, _ = paste_logo(
                scene,
                logo,
                rng,
                scale=rng.uniform(0.3, 0.55),
                angle=turn,
                occlusion=rng.uniform(0.0, 0.15),
            )
            data = jpeg(image, rng.randint(80, 92))
        _save(folder / gallery.ref(key), data)
    return 1 + len(cases) + len(job.keys)


def _edited(gallery: Gallery, key: Key, source: bytes) -> bytes:
    """A variant: the source JPEG as a seller would download it, edited and saved again."""
    rng = gallery.variant_rng(key)
    edit = _pick_edit(rng)
    with Image.open(io.BytesIO(source)) as opened:
        image = opened.convert("RGB")
    edited, quality = edit_photo(image, edit, rng)
    return jpeg(edited, quality)


def _pooled(gallery: Gallery, key: Key) -> bytes:
    if key[0] == "own":
        rng = gallery.variant_rng(key)
        image = own_photo(_THEMES[key[1] % len(_THEMES)], key[1], gallery.seed)
        return jpeg(image, rng.randint(78, 92))
    if key[0] == "broken":
        if key[1] % 2:
            return _NOT_AN_IMAGE if key[1] % 4 == 1 else b""
        whole = jpeg(own_photo("misc", 1000 + key[1], gallery.seed), 85)
        return whole[: len(whole) * (35 + 5 * key[1]) // 100]
    raise ValueError(f"no drawer for the pooled file {key}")


_THEMES = (
    "misc",
    "phones",
    "misc",
    "shoes",
    "bags",
    "misc",
    "cosmetics",
    "audio",
    "apparel",
    "misc",
    "watches",
    "toys",
    "laptops",
    "appliances",
)


def _save(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _pick_edit(rng: random.Random) -> str:
    return rng.choices(list(_EDIT_WEIGHTS), weights=list(_EDIT_WEIGHTS.values()))[0]


def logo_seed(brand: str) -> int:
    """The seed of a brand's registered logo: from its name, so every sample draws the same."""
    return seed_of(f"logo:{brand}")


def image_workers(jobs: int) -> int:
    """Worker processes worth starting to draw images; 1 means this process alone.

    Workers are forked, as for listings (see `chunks.default_workers`): only on Linux, and only
    from a process without other threads.
    """
    if jobs < 64 or not sys.platform.startswith("linux"):
        return 1
    if threading.active_count() > 1 or multiprocessing.current_process().daemon:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


_worker: tuple[Gallery, Path] | None = None  # a worker process's gallery and folder


def _start_worker(gallery: Gallery, folder: Path) -> None:
    global _worker
    _worker = (gallery, folder)


def _worker_job(job: _Job) -> int:
    assert _worker is not None, "the worker was started without its gallery"
    return _draw_job(_worker[0], _worker[1], job)


# -- names -------------------------------------------------------------------------------------


def _photo_count(brand: str, model: str, *, invented: bool) -> int:
    """A product's official photos: one or two, a few have three; invented products one."""
    if invented:
        return 1
    roll = random.Random(f"vigil-sample-photos:{brand}/{model}").random()
    return 1 if roll < 0.6 else 2 if roll < 0.95 else 3


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:48]


def _unique(slug: str, taken: set[str]) -> str:
    name, number = slug, 2
    while name in taken:
        name, number = f"{slug}-{number}", number + 1
    taken.add(name)
    return name
