"""Images: listing photos against the registry's photos, and registered logos inside them.

The registry gives four image sets, compiled once per scan:

- official product photos (`products[].images`) — a seller the brand did not authorize showing
  them is `official_image_reuse` (moderate: resellers of genuine goods do it too, counterfeiters
  nearly always). Edited copies (cropped, mirrored, recompressed...) still match;
- photos seen in confirmed counterfeit cases (`brands[].counterfeit_images`, and later shared
  indicators) — `known_counterfeit_image`, strong;
- copyrighted images (`works` of kind image) — `copyrighted_image`, an infringement signal;
- logos (`brands[].logos`) — found inside photos by keypoint matching (`vigil.images.logos`):
  `logo_match`, weighing more when the listing's text avoids naming the brand it shows.

Photos are compared by PDQ hash within a Hamming radius (31 by default, the reference's
confident-match distance) through one exact `HammingIndex`; with `dihedral` on, the eight
rotations and flips of every registered photo are indexed, so a turned or mirrored copy matches.
Hashes of quality below `min_quality` are recorded on the assessment but never matched.

A photo or logo match also attributes a listing whose text names no brand: the official photo
of a product says which product it is, a logo which brand. Listings the text already put in the
accessory role (a case *for* a phone, showing the phone) get no image signals: showing the
product an accessory fits is nominative use, not a fake.

The matcher is pure: the image stage of the pipeline (`vigil.pipeline.images`) has fetched,
decoded, hashed and described the listing's photos before it runs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigil.detectors.base import Detector, Findings, Matcher, Role
from vigil.detectors.seller import seller_key
from vigil.domain.assessment import Signal
from vigil.domain.listing import Listing
from vigil.domain.registry import Registry, WorkKind
from vigil.images.align import keep, similarity_view
from vigil.images.decode import UnreadableImage, decode_image
from vigil.images.fetch import ImageFetcher
from vigil.images.hamming import HammingIndex
from vigil.images.logos import (
    MIN_FEATURE_SIDE,
    LogoHit,
    LogoMatcher,
    logo_features,
    photo_features,
)
from vigil.images.pdq import DIHEDRAL, MIN_QUALITY, distance, pdq_dihedral, pdq_hash
from vigil.settings import ConfigError, ScanConfig

OFFICIAL, COUNTERFEIT, WORK = "official", "counterfeit", "work"
# The transform of a photo found by keypoints and compared after alignment.
ALIGNED = -1


def _transform(number: int) -> str:
    return (
        "cropped or rescaled (compared after alignment)" if number == ALIGNED else DIHEDRAL[number]
    )


_KIND_OF_SET = {
    OFFICIAL: "official_image_reuse",
    COUNTERFEIT: "known_counterfeit_image",
    WORK: "copyrighted_image",
}


class _Weights(BaseModel):
    model_config = ConfigDict(extra="forbid")

    official_image_reuse: float = 1.5
    # An official photo that was cropped, mirrored or recoloured before reuse: someone took
    # trouble to make it look like their own, or to slip past exact-copy checks.
    official_image_edited: float = 2.0
    known_counterfeit_image: float = 4.5
    copyrighted_image: float = 4.5
    # A registered logo in the photo of a listing whose text names no brand: the seller shows
    # the brand and keeps its name away from text search and filters. On its own this puts a
    # listing past the counterfeit threshold.
    logo_hidden_brand: float = 4.5
    # ... and in the photo of a listing whose text names the same brand: it only confirms.
    logo_named_brand: float = 0.3


class _FetchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=10.0, gt=0)
    max_bytes: int = Field(default=20 << 20, gt=0)
    concurrency: int = Field(default=8, ge=1, le=64)
    max_redirects: int = Field(default=3, ge=0, le=10)
    block_private: bool = True


class ImageSettings(BaseModel):
    """The `images` section of the scan configuration (vigil/data/detectors/images.yaml)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    radius: int = Field(default=31, ge=0, le=64)
    dihedral: bool = True
    min_quality: int = Field(default=MIN_QUALITY, ge=0, le=100)
    # A PDQ distance up to this counts as the photo as published; beyond, as an edited copy.
    unedited_distance: int = Field(default=8, ge=0)
    logos: bool = True
    # Find registered photos inside listing photos by keypoints too, and compare them by PDQ
    # once aligned: this finds crops, which PDQ alone misses (vigil.images.align).
    align: bool = True
    align_min_inliers: int = Field(default=8, ge=4)
    align_ratio: float = Field(default=0.9, gt=0, le=1)
    max_pixels: int = Field(default=40_000_000, gt=0)
    max_side: int = Field(default=1024, ge=64)
    # Keep the bytes of every decoded photo in the home's content-addressed store, so that the
    # UI can show them and cases can capture them as evidence.
    keep_blobs: bool = True
    fetch: _FetchSettings = Field(default_factory=_FetchSettings)
    weights: _Weights = Field(default_factory=_Weights)


def image_settings(config: ScanConfig) -> ImageSettings:
    try:
        return ImageSettings.model_validate(config.detectors.get("images", {}))
    except ValidationError as error:
        raise ConfigError(f"detectors.images in the configuration is invalid: {error}") from error


def make_fetcher(config: ScanConfig, settings: ImageSettings) -> ImageFetcher:
    cache = Path(config.cache_dir) / "images" if config.cache_dir else None
    fetch = settings.fetch
    return ImageFetcher(
        cache,
        connect_timeout=fetch.connect_timeout,
        read_timeout=fetch.read_timeout,
        max_bytes=fetch.max_bytes,
        concurrency=fetch.concurrency,
        max_redirects=fetch.max_redirects,
        block_private=fetch.block_private,
    )


@dataclass(frozen=True, slots=True)
class Asset:
    """One registered image: what set it belongs to and whose it is."""

    set: str  # OFFICIAL, COUNTERFEIT or WORK
    asset: str  # the asset id signals name: product:<Brand>/<Model>, counterfeit:<Brand>...
    brand: str | None
    product: str | None
    file: str
    sha256: str


class ImageMatcher(Matcher):
    detector: ClassVar[str] = "images"

    def __init__(
        self,
        *,
        settings: ImageSettings,
        assets: list[Asset],
        index: HammingIndex,
        entries: np.ndarray,
        logos: LogoMatcher | None,
        logo_files: dict[str, tuple[str, str]],
        photos: LogoMatcher | None,
        kept: list[np.ndarray],
        kept_width: list[int],
        authorized: dict[tuple[str, str], frozenset[str]],
        name_platforms: frozenset[str],
        warnings: list[str],
    ) -> None:
        self.settings = settings
        self.assets = assets
        self.index = index
        # For each indexed hash: (asset number, dihedral transform number).
        self.entries = entries
        self.logos = logos
        self.logo_files = logo_files  # logo asset id -> (file, sha256)
        # Registered photos for alignment: their keypoints (asset ids are asset numbers) and
        # the grey copies that are warped into a listing photo's frame.
        self.photos = photos
        self.kept = kept
        self.kept_width = kept_width  # the width of each registered photo as matched
        self.authorized = authorized
        self.name_platforms = name_platforms
        self.warnings = warnings

    @property
    def has_assets(self) -> bool:
        """Whether the registry gave anything to look for (photos or logos)."""
        return bool(self.assets) or self.logos is not None

    def match(self, listing: Listing, findings: Findings) -> list[Signal]:
        images = findings.images
        if not images or findings.role is Role.ACCESSORY:
            return []
        photo_hits = self._photo_hits(images)
        self._aligned_hits(images, photo_hits)
        logo_hits = self._logo_hits(images)
        named = findings.brand
        if findings.brand is None:
            self._attribute(findings, photo_hits, logo_hits)
        signals = []
        counted: set[str] = set()
        for image, (gap, number, transform) in sorted(
            photo_hits.items(), key=lambda item: (item[1][0], item[0])
        ):
            asset = self.assets[number]
            if asset.set == OFFICIAL and self._authorized(listing, asset.brand):
                continue
            # Every matching photo is shown, but an asset weighs once however many copies.
            again = asset.asset in counted
            counted.add(asset.asset)
            signals.append(self._photo_signal(asset, images[image], gap, transform, again=again))
        for hit, image in logo_hits:
            signals.append(self._logo_signal(hit, images[image], named=named))
        return signals

    # -- finding ----------------------------------------------------------------------------

    def _photo_hits(self, images: list[Any]) -> dict[int, tuple[int, int, int]]:
        """Per listing photo that matched: (distance, asset number, transform) of its
        closest registered photo."""
        queries = [
            (i, image.pdq.bits)
            for i, image in enumerate(images)
            if image.pdq is not None and image.pdq.quality >= self.settings.min_quality
        ]
        if not queries or not len(self.index):
            return {}
        hashes = np.frombuffer(b"".join(q for _, q in queries), np.uint8).reshape(-1, 32)
        found = self.index.search_batch(hashes)
        best: dict[int, tuple[int, int, int]] = {}
        for (image, _), hits in zip(queries, found, strict=True):
            for position, gap in hits:
                number, transform = (int(v) for v in self.entries[position])
                if image not in best or gap < best[image][0]:
                    best[image] = (gap, number, transform)
        return best

    def _aligned_hits(self, images: list[Any], best: dict[int, tuple[int, int, int]]) -> None:
        """Registered photos found by keypoints in photos that matched nothing by hash, kept
        when their aligned view is within the radius (`ALIGNED` as the transform)."""
        if self.photos is None:
            return
        for i, image in enumerate(images):
            if i in best or image.features is None or image.pdq is None:
                continue
            if image.pdq.quality < self.settings.min_quality:
                continue
            size = (image.features.width, image.features.height)
            for number, registered, seen in self.photos.candidates(image.features, limit=3):
                kept = self.kept[number]
                scale = kept.shape[1] / self.kept_width[number]
                view = similarity_view(
                    kept, scale, registered, seen, size, self.settings.align_min_inliers
                )
                if view is None:
                    continue
                found = distance(pdq_hash(view[0]).bits, image.pdq.bits)
                if found <= self.settings.radius and (i not in best or found < best[i][0]):
                    best[i] = (found, number, ALIGNED)

    def _logo_hits(self, images: list[Any]) -> list[tuple[LogoHit, int]]:
        """The best hit of each brand's logos over the listing's photos."""
        if self.logos is None:
            return []
        best: dict[str, tuple[LogoHit, int]] = {}
        for i, image in enumerate(images):
            if image.features is None:
                continue
            for hit in self.logos.find(image.features):
                if hit.brand not in best or hit.inliers > best[hit.brand][0].inliers:
                    best[hit.brand] = (hit, i)
        return sorted(best.values(), key=lambda item: -item[0].inliers)

    def _attribute(
        self,
        findings: Findings,
        photo_hits: dict[int, tuple[int, int, int]],
        logo_hits: list[tuple[LogoHit, int]],
    ) -> None:
        """Say which brand (and product) an unattributed listing is about, from its photos."""
        attributed = sorted(
            (gap, number) for gap, number, _ in photo_hits.values() if self.assets[number].brand
        )
        if attributed:
            asset = self.assets[attributed[0][1]]
            findings.brand, findings.product = asset.brand, asset.product
            findings.notes["attributed_by"] = f"photo:{asset.asset}"
        elif logo_hits:
            findings.brand = logo_hits[0][0].brand
            findings.notes["attributed_by"] = f"logo:{logo_hits[0][0].asset}"
        else:
            return
        findings.role = Role.PRODUCT

    def _authorized(self, listing: Listing, brand: str | None) -> bool:
        seller = listing.seller
        if brand is None or seller is None:
            return False
        platform = seller_key(listing.platform)
        if brand in self.authorized.get((platform, seller_key(seller.id)), frozenset()):
            return True
        return bool(
            seller.name
            and platform in self.name_platforms
            and brand in self.authorized.get((platform, seller_key(seller.name)), frozenset())
        )

    # -- explaining -------------------------------------------------------------------------

    def _photo_signal(
        self, asset: Asset, image: Any, distance: int, transform: int, *, again: bool
    ) -> Signal:
        weights = self.settings.weights
        turned = transform != 0
        edited = turned or distance > self.settings.unedited_distance
        how = f"PDQ distance {distance}" + (f", {_transform(transform)}" if turned else "")
        label = Path(asset.file).name
        if asset.set == OFFICIAL:
            weight = weights.official_image_edited if edited else weights.official_image_reuse
            copy = "an edited copy of" if edited else "a copy of"
            explanation = (
                f"The photo {image.ref} is {copy} the official photo {label} of "
                f"{asset.product or asset.brand} ({how}), and the registry does not list "
                f"this seller among {asset.brand}'s authorized sellers."
            )
        elif asset.set == COUNTERFEIT:
            weight = weights.known_counterfeit_image
            explanation = (
                f"The photo {image.ref} matches {label}, a photo from a confirmed counterfeit "
                f"case of {asset.brand} ({how})."
            )
        else:
            weight = weights.copyrighted_image
            explanation = (
                f"The photo {image.ref} matches {label} of the registered work "
                f"{asset.asset.removeprefix('work:')} ({how})."
            )
        if again:
            weight = 0.0
            explanation += " Another photo of this listing already counted for the same asset."
        return Signal(
            detector=self.detector,
            kind=_KIND_OF_SET[asset.set],
            weight=weight,
            evidence=f"{image.ref} ≈ {label}, distance {distance}",
            explanation=explanation,
            asset=asset.asset,
            details={
                "image": image.ref,
                "image_sha256": image.sha256,
                "asset_file": asset.file,
                "asset_sha256": asset.sha256,
                "distance": distance,
                "transform": _transform(transform),
                "radius": self.settings.radius,
                "quality": image.pdq.quality,
            },
        )

    def _logo_signal(self, hit: LogoHit, image: Any, *, named: str | None) -> Signal:
        weights = self.settings.weights
        file, sha256 = self.logo_files.get(hit.asset, ("", ""))
        hidden = named is None
        seen = f"The photo {image.ref} shows the registered logo of {hit.brand} ({hit.inliers} "
        if hidden:
            explanation = seen + "matching keypoints), while the listing's text names no brand."
        elif named == hit.brand:
            explanation = seen + "matching keypoints), as the text says."
        else:
            explanation = seen + f"matching keypoints), while the text is about {named}."
        return Signal(
            detector=self.detector,
            kind="logo_match",
            weight=weights.logo_hidden_brand if hidden else weights.logo_named_brand,
            evidence=f"{hit.brand} logo in {image.ref}",
            explanation=explanation,
            asset=f"logo:{hit.brand}",
            details={
                "image": image.ref,
                "image_sha256": image.sha256,
                "asset_file": file,
                "asset_sha256": sha256,
                "inliers": hit.inliers,
                "polygon": json.dumps([[round(x, 1), round(y, 1)] for x, y in hit.polygon]),
                "image_width": image.width,
                "image_height": image.height,
                "hidden_brand": hidden,
            },
        )


class ImageDetector(Detector):
    name: ClassVar[str] = "images"
    # After the text names the brand (stage 0), before price and sellers read the attribution.
    stage: ClassVar[int] = 1
    description: ClassVar[str] = (
        "Listing photos against official, counterfeit-case and copyrighted photos (PDQ), and "
        "registered logos found inside photos (keypoints)."
    )

    def compile(self, registry: Registry, config: ScanConfig) -> ImageMatcher:
        settings = image_settings(config)
        fetcher = make_fetcher(config, settings)
        cache = Path(config.cache_dir) / "features" if config.cache_dir else None
        loader = _AssetLoader(fetcher, settings, cache)
        if settings.enabled:
            for product in registry.products:
                for file in product.images:
                    loader.photo(
                        file, OFFICIAL, f"product:{product.brand}/{product.model}",
                        product.brand, product.model,
                    )  # fmt: skip
            for brand in registry.brands:
                for file in brand.counterfeit_images:
                    loader.photo(file, COUNTERFEIT, f"counterfeit:{brand.name}", brand.name, None)
                if settings.logos:
                    for number, file in enumerate(brand.logos):
                        loader.logo(file, f"logo:{brand.name}#{number}", brand.name)
            # A work belongs to a member; its brand, when the member owns exactly one, is what
            # a listing copying the work is about.
            owned: dict[str | None, list[str]] = {}
            for brand in registry.brands:
                owned.setdefault(brand.owner, []).append(brand.name)
            for work in registry.works:
                if work.kind is WorkKind.IMAGE:
                    brands = owned.get(work.owner, [])
                    for file in work.files:
                        loader.photo(
                            file, WORK, f"work:{work.owner}/{work.title}",
                            brands[0] if len(brands) == 1 else None, None,
                        )  # fmt: skip
        authorized: dict[tuple[str, str], set[str]] = {}
        for brand in registry.brands:
            for entry in brand.authorized_sellers:
                key = (seller_key(entry.platform), seller_key(entry.seller_id))
                authorized.setdefault(key, set()).add(brand.name)
        names = config.detectors.get("seller", {}).get("name_match_platforms", [])
        return ImageMatcher(
            settings=settings,
            assets=loader.assets,
            index=loader.index.build(),
            entries=np.asarray(loader.entries, dtype=np.int32).reshape(-1, 2),
            logos=(
                LogoMatcher.build(loader.logos, described=loader.logo_described)
                if loader.logos
                else None
            ),
            logo_files=loader.logo_files,
            photos=(
                LogoMatcher.build(
                    loader.aligned,
                    min_inliers=settings.align_min_inliers,
                    described=loader.aligned_described,
                    ratio=settings.align_ratio,
                )
                if loader.aligned
                else None
            ),
            kept=loader.kept,
            kept_width=loader.kept_width,
            authorized={key: frozenset(brands) for key, brands in authorized.items()},
            name_platforms=frozenset(seller_key(p) for p in names),
            warnings=loader.warnings,
        )


class _AssetLoader:
    """Reads, decodes and hashes the registry's images; a bad one is a warning, not a failure."""

    def __init__(
        self, fetcher: ImageFetcher, settings: ImageSettings, feature_cache: Path | None
    ) -> None:
        self.fetcher = fetcher
        self.settings = settings
        # Keypoints of registered images, kept by content digest: finding them is most of
        # the cost of compiling, and the registry changes far less often than it is scanned.
        self.feature_cache = feature_cache
        self.assets: list[Asset] = []
        self.entries: list[tuple[int, int]] = []
        self.index = HammingIndex(radius=settings.radius)
        self.logos: list[tuple[str, str, Image.Image]] = []
        self.logo_files: dict[str, tuple[str, str]] = {}
        self.aligned: list[tuple[str, str, Image.Image]] = []
        self.logo_described: list[tuple[np.ndarray, np.ndarray]] = []
        self.aligned_described: list[tuple[np.ndarray, np.ndarray]] = []
        self.kept: list[np.ndarray] = []
        self.kept_width: list[int] = []
        self.warnings: list[str] = []

    def _load(self, file: str, what: str) -> tuple[Image.Image, str] | None:
        fetched = self.fetcher.fetch(file)
        if fetched.data is None or fetched.sha256 is None:
            self.warnings.append(f"{what} {file} is not matched: {fetched.error}")
            return None
        try:
            decoded = decode_image(
                fetched.data, max_pixels=self.settings.max_pixels, max_side=self.settings.max_side
            )
        except UnreadableImage as error:
            self.warnings.append(f"{what} {file} is not matched: {error}")
            return None
        if self.settings.keep_blobs and self.fetcher.cache_dir is not None:
            self.fetcher.store_blob(fetched.data)
        return decoded.image, fetched.sha256

    def photo(
        self, file: str, kind: str, asset_id: str, brand: str | None, product: str | None
    ) -> None:
        loaded = self._load(file, f"registry photo ({asset_id})")
        if loaded is None:
            return
        image, sha256 = loaded
        hashes = pdq_dihedral(image)
        if hashes[0].quality < self.settings.min_quality:
            self.warnings.append(
                f"registry photo ({asset_id}) {file} is not matched: its PDQ quality "
                f"{hashes[0].quality} is below {self.settings.min_quality} (too flat or too small "
                "to match reliably); register a sharper, larger photo"
            )
            return
        number = len(self.assets)
        self.assets.append(Asset(kind, asset_id, brand, product, file, sha256))
        used = hashes if self.settings.dihedral else hashes[:1]
        self.index.add(np.frombuffer(b"".join(h.bits for h in used), np.uint8).reshape(-1, 32))
        self.entries.extend((number, transform) for transform in range(len(used)))
        self.kept.append(keep(image) if self.settings.align else np.zeros((0, 0), np.uint8))
        self.kept_width.append(image.width)
        if self.settings.align:
            self.aligned.append((str(number), brand or "", image))
            self.aligned_described.append(self._described(image, sha256, photo=True))

    def logo(self, file: str, asset_id: str, brand: str) -> None:
        loaded = self._load(file, f"registry logo of {brand}")
        if loaded is None:
            return
        image, sha256 = loaded
        self.logos.append((asset_id, brand, image))
        self.logo_described.append(self._described(image, sha256))
        self.logo_files[asset_id] = (file, sha256)

    def _described(
        self, image: Image.Image, sha256: str, *, photo: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints of a registered image — as a logo, or as a photo for alignment (found
        the way a listing photo's are) — from the feature cache when it has them."""
        path = None
        if self.feature_cache is not None:
            kind = "photo" if photo else "logo"
            path = self.feature_cache / sha256[:2] / f"{sha256}.{kind}.npz"
            try:
                with np.load(path, allow_pickle=False) as data:
                    return data["points"], data["descriptors"]
            except (OSError, KeyError, ValueError):
                pass  # absent or damaged: computed again below
        if photo:
            found = photo_features(image, min_side=MIN_FEATURE_SIDE)
            points, descriptors = found.points, found.descriptors
        else:
            points, descriptors = logo_features(image)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                temp = path.with_name(f".{path.stem}.{os.getpid()}.npz")
                np.savez(temp, points=points, descriptors=descriptors)
                os.replace(temp, path)
            except OSError:
                pass  # the cache is an optimisation; a full disk must not fail the scan
        return points, descriptors
