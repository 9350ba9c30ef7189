"""A small alliance whose listings carry photos, scanned for real: an official product photo
(Xiaomi, owned by acme), a counterfeit-case photo (Xiaomi) and a logo (Apple, owned by globex),
all drawn here, and a feed shopmart uploads with copies, edits, a logo in a scene and broken
files (`copy`: a mirrored official photo; `logo`: Apple's logo in a scene, the text naming no
brand; `bad`: missing, truncated, flat and counterfeit-case photos; `both`: a mirrored official
photo and the logo scene). The scan runs with the home's configuration, so the photos' bytes are kept in the
home's content-addressed store as they are in production."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select

from tests.factories import listing, registry_data, write_jsonl, write_registry
from tests.services.test_assessments import SHOPMART
from vigil.services.registry import load_registry
from vigil.services.sample.art import draw_logo, draw_scene, paste_logo
from vigil.services.sample.photos import case_photo, edit_photo, own_photo, product_photo
from vigil.services.scan import scan
from vigil.services.uploads import ingest_batch
from vigil.settings import load_scan_config
from vigil.store.db import Store
from vigil.store.tables import ListingRow, SignalRow

SELLER = {"id": "cheap-phones", "name": "便宜手机店"}
OWNERS = {"Xiaomi": "acme", "Apple": "globex"}


@dataclass
class World:
    """The stored listings by listing id, and the drawn files by name."""

    pks: dict[str, int]
    files: dict[str, Path]
    corners: tuple[tuple[float, float], ...]

    def signals(self, store: Store, listing_id: str) -> list[SignalRow]:
        with store.session() as session:
            return list(
                session.scalars(
                    select(SignalRow).where(
                        SignalRow.listing_pk == self.pks[listing_id],
                        SignalRow.detector == "images",
                    )
                )
            )

    def records(self, store: Store, listing_id: str) -> list[dict[str, Any]]:
        with store.session() as session:
            row = session.get(ListingRow, self.pks[listing_id])
            assert row is not None and row.image_records is not None
            return list(row.image_records)


def _jpeg(image: Image.Image, path: Path, quality: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.convert("RGB").save(path, "JPEG", quality=quality)
    return path


def build_world(store: Store, home: Path, folder: Path) -> World:
    """Load the registry, upload the feed as shopmart and scan it (see the module's doc)."""
    pics = folder / "pics"
    official = product_photo("Xiaomi", "Xiaomi 14", "phones", 0)
    files = {
        "official": _jpeg(official, pics / "mi14.jpg"),
        "case": _jpeg(case_photo("Xiaomi", "phones", 0), pics / "case.jpg"),
        "own": _jpeg(own_photo("phones", 1, seed=5), pics / "own.jpg"),
        "flat": _jpeg(Image.new("RGB", (300, 300), (200, 200, 200)), pics / "flat.jpg"),
    }
    logo = draw_logo("Apple", seed=3)
    files["logo"] = pics / "apple.png"
    logo.save(files["logo"])
    rng = random.Random(4)
    flipped, quality = edit_photo(official, "flip_h", rng)
    files["flipped"] = _jpeg(flipped, pics / "listing-flip.jpg", quality)
    scene, corners = paste_logo(draw_scene(11), logo, rng, scale=0.5, angle=20, occlusion=0.1)
    files["scene"] = _jpeg(scene, pics / "scene.jpg")
    files["broken"] = pics / "broken.jpg"
    files["broken"].write_bytes(files["official"].read_bytes()[:300])

    data = registry_data(members=[])
    for brand in data["brands"]:
        brand["owner"] = OWNERS[brand["name"]]
    data["products"][1]["images"] = [str(files["official"])]
    data["brands"][0]["counterfeit_images"] = [str(files["case"])]
    data["brands"][1]["logos"] = [str(files["logo"])]
    report = load_registry(store, write_registry(folder / "registry.yaml", data))
    assert report.ok, report.problems

    feed = [
        listing(listing_id="copy", title="小米14 全新 现货", seller=SELLER, price=1999,
                images=["pics/listing-flip.jpg"]),
        listing(listing_id="logo", title="旗舰手机 高配 全网通 特价", seller=SELLER, price=900,
                images=["pics/own.jpg", "pics/scene.jpg"]),
        listing(listing_id="bad", title="高仿小米14 一比一", seller=SELLER, price=800,
                images=["pics/missing.jpg", "pics/broken.jpg", "pics/flat.jpg", "pics/case.jpg"]),
        listing(listing_id="both", title="小米14 全新 国行 正品保证", seller=SELLER, price=1899,
                images=["pics/listing-flip.jpg", "pics/scene.jpg", "pics/flat.jpg"]),
    ]  # fmt: skip
    path = write_jsonl(folder / "feed.jsonl", feed)
    ingest_batch(store, SHOPMART, path.read_bytes())
    scan(store, [str(path)], folder / "out", config=load_scan_config(home))
    with store.session() as session:
        pks = {
            listing_id: pk
            for pk, listing_id in session.execute(select(ListingRow.id, ListingRow.listing_id))
        }
    return World(pks=pks, files=files, corners=tuple(corners))


def polygon(signal: SignalRow) -> list[list[float]]:
    points: list[list[float]] = json.loads(signal.details["polygon"])
    return points
