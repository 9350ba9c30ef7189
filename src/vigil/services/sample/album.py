"""What each listing shows: the choice of its images, and words for fakes that hide their brand.

The album has a generator of its own, not the listings', so that a sample's words are the same
with images and without, but for the counterfeits whose words hide their brand while a photo
shows its logo (the album decides which, and writes their words: `brandless_words`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import orjson

from vigil.services.sample.gallery import (
    CASE_EDITS,
    OFFICIAL_EDITS,
    SCENES,
    Gallery,
    Key,
    Shown,
)
from vigil.services.sample.photos import seed_of
from vigil.services.sample.texts import Draw, TextBank, pick
from vigil.services.sample.titles import BrandText, ProductText

HIDDEN_SHARE = 0.08  # counterfeits whose words hide the brand while a photo shows its logo
BROKEN_SHARE = 0.01  # listings with one broken image reference


@dataclass
class Album:
    """Chooses the images of one process's listings and keeps their `image_truth.jsonl` rows."""

    gallery: Gallery
    seed: int
    rng: random.Random = field(default_factory=random.Random)
    rows: list[bytes] = field(default_factory=list)
    used: set[Key] = field(default_factory=set)

    def restart(self, chunk: int) -> None:
        """Start chunk `chunk`: images depend on the seed and the chunk's number alone."""
        self.rng.seed(f"vigil-sample-images:{self.seed}:{chunk}")
        self.rows.clear()
        self.used.clear()

    def drain(self) -> tuple[bytes, frozenset[Key]]:
        """The rows and the pooled files of the listings made since the last call."""
        rows, used = b"".join(self.rows), frozenset(self.used)
        self.rows.clear()
        self.used.clear()
        return rows, used

    def draw(self) -> float:
        return self.rng.random()

    def hides_brand(self) -> bool:
        return self.rng.random() < HIDDEN_SHARE

    def official(self, brand: int, product: int) -> list[Shown]:
        """An authorized seller's photos: the official ones, as they are."""
        return self.gallery.official(brand, product, self._count())

    def own(self, seller: dict[str, str], platform: str) -> list[Shown]:
        """A seller's own photos; each seller keeps to a few of the pool's."""
        first = seed_of(f"{platform}:{seller['id']}")
        return [self.gallery.own(first + 7 * k) for k in range(self._count())]

    def counterfeit(self, brand: int, product: int, *, hidden: bool) -> list[Shown]:
        """A fake's photos; none when the seller shows its own (the caller knows the seller).

        Official photos edited or as they are, edited case photos, or, when the words hide the
        brand, a scene with its logo.
        """
        rng, gallery = self.rng, self.gallery
        if hidden:
            return [gallery.scene(brand, rng.randrange(SCENES))]
        roll = rng.random()
        has_cases = bool(gallery.case_paths[brand])
        if roll < 0.45 or (0.6 <= roll < 0.8 and not has_cases):
            first = rng.randrange(OFFICIAL_EDITS)
            count = min(self._count(), OFFICIAL_EDITS)
            return [gallery.official_edit(brand, product, first + k) for k in range(count)]
        if roll < 0.6:
            return gallery.official(brand, product, self._count())
        if roll < 0.8:
            first = rng.randrange(CASE_EDITS)
            return [gallery.case_edit(brand, first + 3 * k) for k in range(min(self._count(), 2))]
        return []

    def show(self, record: dict[str, Any], shown: list[Shown]) -> None:
        """Put the images into the listing, one broken now and then, and keep their rows."""
        rng = self.rng
        refs: list[str] = []
        kept: list[Shown] = []
        for item in shown:
            assert item.key is not None
            ref = self.gallery.ref(item.key)
            if ref not in refs:
                refs.append(ref)
                kept.append(item)
        if not kept:
            return
        if rng.random() < BROKEN_SHARE:
            at = rng.randrange(len(kept))
            kept[at], refs[at] = self.gallery.broken(rng)
        record["images"] = refs
        platform, listing_id = record["platform"], record["listing_id"]
        for item, ref in zip(kept, refs, strict=True):
            if item.key is not None:
                self.used.add(item.key)
            row = {
                "platform": platform,
                "listing_id": listing_id,
                "image": ref,
                "kind": item.kind,
                "asset": item.asset,
                "brand": item.brand,
                "edit": item.edit,
            }
            self.rows.append(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))

    def _count(self) -> int:
        """How many photos a listing shows: mostly one or two."""
        roll = self.rng.random()
        return 1 if roll < 0.55 else 2 if roll < 0.88 else 3


def brandless_words(
    bank: TextBank,
    brand: BrandText,
    product: ProductText,
    zh: bool,
    wording: str | None,
    in_title: bool,
    draw: Draw,
) -> tuple[str, str | None]:
    """A counterfeit's title and description that name neither its brand nor its model.

    Every candidate word or sentence that contains one of the brand's registered names, in any
    case, is left out, so that "mirror quality" never stands in for Xiaomi's "MI". The fake's
    wording (高仿, replica …) stays when it has that trick, in the title or the description as
    `in_title` says.
    """
    words = product.words
    names = [name.lower() for name in brand.brand.names]

    def clean(items: list[str]) -> list[str]:
        return [item for item in items if not any(name in item.lower() for name in names)]

    if wording is not None and not clean([wording]):
        wording = pick(clean(bank.wording_zh if zh else bank.wording_en), draw)
    parts: list[str] = []
    promos = clean(bank.promos_zh if zh else bank.promos_en)
    if promos and draw() < 0.35:
        parts.append(pick(promos, draw))
    keywords = clean(words.keywords_zh if zh else words.keywords_en)
    for _ in range(2 + int(draw() * 2)):
        if keywords:
            parts.append(pick(keywords, draw))
    for slot in words.specs_zh if zh else words.specs_en:
        specs = clean(slot)
        if specs and draw() < 0.6:
            parts.append(pick(specs, draw))
    if wording is not None and in_title:
        parts.insert(1 + int(draw() * len(parts)), wording)
    title = (" " if not zh or draw() < 0.7 else "").join(dict.fromkeys(parts))
    lang = "zh" if zh else "en"
    sentences = clean(bank.descriptions[f"counterfeit_{lang}"])
    chosen = [pick(sentences, draw) for _ in range(int(draw() * 3))] if sentences else []
    if wording is not None and not in_title:
        said = clean(bank.descriptions[f"counterfeit_wording_{lang}"])
        chosen.append(pick(said, draw).replace("{w}", wording))
    description = ("" if zh else " ").join(dict.fromkeys(chosen))
    fallback = clean(words.labels_zh if zh else words.labels_en) or ["全新" if zh else "New"]
    return title or pick(fallback, draw), description or None
