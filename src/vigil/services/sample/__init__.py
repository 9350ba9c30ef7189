"""The sample alliance: a registry, a marketplace feed and its truth labels, all generated.

`write_sample` writes `registry.yaml` (real-world-like brands and products, padded with invented
ones on request), `listings.jsonl` (listings in Chinese and English from seven platforms) and
`truth.jsonl` (what each listing really is). With images (the default) it also draws the
registry's photos and logos and the listings' photos under `images/`, and writes
`image_truth.jsonl` (what each listing image really is). With works (the default) the registry
also lists texts the brands own, written under `works/`, some listings copy them or paste a
ring's description, and `text_truth.jsonl` says which. The same arguments give the same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vigil.errors import VigilError
from vigil.services.sample.chunks import Recipe, default_workers, make_chunks
from vigil.services.sample.gallery import Gallery, Key
from vigil.services.sample.library import Shelf
from vigil.services.sample.padding import build_catalog
from vigil.services.sample.works import write_works
from vigil.settings import shipped_data

__all__ = ["SampleError", "SampleSummary", "write_sample"]

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# Block style for brands, their aliases, marks and sellers in flow style inside.
_BLOCK: dict[str, Any] = {
    "allow_unicode": True,
    "sort_keys": False,
    "width": 100,
    "default_flow_style": None,
}
_BUFFER = 1 << 20


class SampleError(VigilError):
    """The sample cannot be written as asked."""


@dataclass
class SampleSummary:
    """What `write_sample` wrote."""

    registry: Path
    listings_path: Path
    truth: Path
    listings: int
    labels: dict[str, int] = field(default_factory=dict)
    brands: int = 0
    products: int = 0
    seconds: float = 0.0
    image_truth: Path | None = None  # None when the sample has no images
    images: int = 0  # image files written
    text_truth: Path | None = None  # None when the sample has no works
    works: int = 0  # works registered (and their files written)

    @property
    def listings_per_second(self) -> float:
        return self.listings / self.seconds if self.seconds > 0 else 0.0


def write_sample(
    out: Path,
    *,
    listings: int = 10_000,
    seed: int = 0,
    brands: int | None = None,
    products: int | None = None,
    images: bool = True,
    works: bool = True,
) -> SampleSummary:
    """Write a sample registry, listings and truth labels into `out` (created if missing).

    With `images`, also the image files under `out/images/` (replacing those of an earlier
    sample) and `image_truth.jsonl`; without, the files are those of a sample without images.
    With `works`, also the works' files under `out/works/` (replacing those of an earlier sample)
    and `text_truth.jsonl`; without, the files are those of a sample without works.
    Each file is written under a temporary name and renamed when complete, so a crash leaves
    no half-written file behind. Memory stays flat however many listings are asked for.
    """
    if listings < 0:
        raise SampleError(
            f"the number of listings cannot be negative ({listings}); ask for 0 or more"
        )
    for name, count in (("brands", brands), ("products", products)):
        if count is not None and count < 1:
            raise SampleError(f"a sample needs at least one of its {name}, not {count}")
    started = time.perf_counter()
    catalog = build_catalog(brands=brands, products=products)
    gallery = Gallery(catalog, seed) if images else None
    shelf = Shelf.build(catalog) if works else None
    recipe = Recipe(
        catalog=catalog,
        seed=seed,
        pool_size=min(400, max(12, listings // 250)),
        rates=_currency_rates(),
        gallery=gallery,
        shelf=shelf,
    )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SampleError(
            f"cannot create the folder {out}: {error.strerror or error}; choose another --out"
        ) from error
    if images:
        _check_images_folder(out / "images")
    if shelf is not None:
        _check_works_folder(out / "works", shelf)
    names = ["registry.yaml", "listings.jsonl", "truth.jsonl"]
    names += ["image_truth.jsonl"] if images else []
    names += ["text_truth.jsonl"] if shelf is not None else []
    final = {name: out / name for name in names}
    partial = {name: out / f".{name}.partial" for name in final}
    drawn = out / ".images.partial"
    staged = out / ".works.partial"
    labels: Counter[str] = Counter()
    pooled: set[Key] = set()
    written = 0
    try:
        header = (
            f"# A sample alliance registry written by `vigil sample`: {len(catalog.brands)} "
            f"brands, {catalog.product_count} products.\n"
            "# Trademark numbers, prices and shop names are illustrative, not real records.\n"
        )
        entries = None
        if shelf is not None:
            header += (
                f"# {len(shelf.works)} works: texts written for this sample, not the brands' own.\n"
            )
            entries = shelf.registry_entries()
        text = _registry_yaml(catalog.registry_data(gallery, entries))
        partial["registry.yaml"].write_text(header + text, encoding="utf-8")
        with ExitStack() as stack:
            files = {
                name: stack.enter_context(partial[name].open("wb", buffering=_BUFFER))
                for name in names[1:]
            }
            for chunk in make_chunks(recipe, listings, workers=default_workers(listings)):
                files["listings.jsonl"].write(chunk.listings)
                files["truth.jsonl"].write(chunk.truth)
                labels.update(chunk.labels)
                if gallery is not None:
                    files["image_truth.jsonl"].write(chunk.images)
                    pooled |= chunk.pooled
                if shelf is not None:
                    files["text_truth.jsonl"].write(chunk.texts)
        if gallery is not None:
            shutil.rmtree(drawn, ignore_errors=True)
            written = gallery.write(drawn, pooled)
        if shelf is not None:
            shutil.rmtree(staged, ignore_errors=True)
            write_works(shelf.works, staged / "works")
        for name, path in final.items():
            os.replace(partial[name], path)
        if gallery is not None:
            _replace_folder(drawn / "images", out / "images")
        if shelf is not None:
            _replace_folder(staged / "works", out / "works")
    except OSError as error:
        raise SampleError(
            f"cannot write the sample into {out}: {error.strerror or error}; "
            "check the free space and permissions, or choose another --out"
        ) from error
    finally:
        for path in partial.values():
            path.unlink(missing_ok=True)
        shutil.rmtree(drawn, ignore_errors=True)
        shutil.rmtree(staged, ignore_errors=True)
    return SampleSummary(
        registry=final["registry.yaml"],
        listings_path=final["listings.jsonl"],
        truth=final["truth.jsonl"],
        listings=listings,
        labels=dict(sorted(labels.items())),
        brands=len(catalog.brands),
        products=catalog.product_count,
        seconds=time.perf_counter() - started,
        image_truth=final.get("image_truth.jsonl"),
        images=written,
        text_truth=final.get("text_truth.jsonl"),
        works=len(shelf.works) if shelf is not None else 0,
    )


# The folders a sample's images/ holds; another images/ folder is not the sample's to replace.
_IMAGE_FOLDERS = {"listings", "products", "logos", "counterfeit"}


def _check_images_folder(folder: Path) -> None:
    """Refuse to replace an images/ folder that an earlier sample did not write."""
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or not folder.is_dir():
        raise SampleError(
            f"{folder} exists and is not a folder of sample images; "
            "move it away or choose another --out"
        )
    strangers = sorted(p.name for p in folder.iterdir() if p.name not in _IMAGE_FOLDERS)
    if strangers:
        raise SampleError(
            f"{folder} holds files that `vigil sample` did not write ({', '.join(strangers[:3])}); "
            "move them away or choose another --out (the sample replaces its images/ folder)"
        )


def _check_works_folder(folder: Path, shelf: Shelf) -> None:
    """Refuse to replace a works/ folder holding files that no sample writes."""
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or not folder.is_dir():
        raise SampleError(
            f"{folder} exists and is not a folder of sample works; "
            "move it away or choose another --out"
        )
    strangers = sorted(
        p.name
        for p in folder.iterdir()
        if not (p.is_file() and shelf.file_pattern.fullmatch(p.name))
    )
    if strangers:
        raise SampleError(
            f"{folder} holds files that `vigil sample` did not write ({', '.join(strangers[:3])}); "
            "move them away or choose another --out (the sample replaces its works/ folder)"
        )


def _replace_folder(new: Path, old: Path) -> None:
    """Put `new` where `old` is, removing the earlier folder only once `new` is in place."""
    stale = old.with_name(f".{old.name}.stale")
    shutil.rmtree(stale, ignore_errors=True)
    if old.exists():
        os.replace(old, stale)
    os.replace(new, old)
    shutil.rmtree(stale, ignore_errors=True)


def _registry_yaml(data: dict[str, Any]) -> str:
    """The registry as YAML: brands in block style, each member and product on one line.

    One line per product, as DESIGN.md writes them, also keeps a 10,000-product registry
    quick to write.
    """
    text = [f"members:\n{_flow_lines(data['members'])}"]
    text.append(yaml.dump({"brands": data["brands"]}, Dumper=_DUMPER, **_BLOCK))
    text.append(f"products:\n{_flow_lines(data['products'])}")
    if "works" in data:
        text.append(f"works:\n{_flow_lines(data['works'])}")
    return "".join(text)


def _flow_lines(entries: list[dict[str, Any]]) -> str:
    return "".join(f"  - {_flow(entry)}\n" for entry in entries)


def _flow(value: Any) -> str:
    """A flow-style YAML value; strings in JSON's double quotes, which YAML reads alike."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _currency_rates() -> dict[str, float]:
    """The shipped rates (units of CNY per unit), so that sample prices and scans agree."""
    config: dict[str, Any] = yaml.safe_load(shipped_data("config.yaml"))
    return {str(code): float(rate) for code, rate in config["currency"]["rates"].items()}
