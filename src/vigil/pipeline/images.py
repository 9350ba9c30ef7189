"""The image stage of pass one: fetch a listing's photos, decode them, hash them, describe them.

This is the I/O half of image matching. It runs before the matchers, in the same process
(worker or executor), and leaves on the listing's `Findings` one `ListingImage` per reference:
its content digest, its PDQ hash and quality, its keypoint features for logo search, or the
reason it could not be used. The `images` matcher then works on those facts alone, so it stays
pure like every matcher.

A photo that many listings reuse is fetched, decoded and hashed once per process: results are
kept by content digest (`_Memo`), and PDQ hashes also on disk under the cache folder, so a
rescan of the same feed does not decode again what it has already seen.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import faiss
import orjson

from vigil.images.decode import UnreadableImage, decode_image
from vigil.images.facts import ListingImage
from vigil.images.fetch import Fetched, ImageFetcher
from vigil.images.hamming import HammingIndex
from vigil.images.logos import MIN_FEATURE_SIDE, PhotoFeatures, photo_features
from vigil.images.pdq import PdqHash, pdq_hash

# At most this many photos of one listing are looked at; the rest are noted, not fetched.
MAX_IMAGES_PER_LISTING = 12
_LOCAL_REFUSED = (
    "not read: listings uploaded through the web may name images by http(s) URL only, "
    "not by a path on the server"
)


@dataclass(frozen=True, slots=True)
class _Analysis:
    format: str
    width: int
    height: int
    pdq: PdqHash
    features: PhotoFeatures | None
    notes: tuple[str, ...]


class _Memo:
    """A bounded least-recently-used map from content digest to analysis (per process)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, _Analysis | str] = OrderedDict()

    def get(self, key: str) -> _Analysis | str | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: str, value: _Analysis | str) -> None:
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)


def single_threaded() -> None:
    """One thread each for OpenCV and faiss: scans parallelise over processes, and their own
    thread pools on a busy machine made a search many times slower, not faster."""
    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)


class ImageStage:
    """Fetches and analyses listing photos. Picklable; each process keeps its own memo."""

    def __init__(
        self,
        fetcher: ImageFetcher,
        *,
        max_pixels: int,
        max_side: int,
        features: bool,
        keep_blobs: bool,
        hash_cache: Path | None,
        known: HammingIndex | None = None,
        memo_size: int = 256,
    ) -> None:
        self.fetcher = fetcher
        self.max_pixels = max_pixels
        self.max_side = max_side
        self.features = features
        self.keep_blobs = keep_blobs and fetcher.cache_dir is not None
        self.hash_cache = hash_cache
        # The registry's photo hashes: a photo that is one of them (or a copy within the
        # radius) needs no keypoints — it matched already, and keypoint search is the most
        # expensive step of all.
        self.known = known
        self.memo_size = memo_size
        self._memo = _Memo(memo_size)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_memo"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._memo = _Memo(self.memo_size)
        single_threaded()

    def analyse(
        self, refs: list[str], base: Path | None, *, urls_only: bool = False
    ) -> list[ListingImage]:
        """One `ListingImage` per reference, in order; never raises for a bad image.

        `base` resolves relative paths; `urls_only` refuses every reference but http(s) URLs."""
        wanted = refs[:MAX_IMAGES_PER_LISTING]
        if urls_only:
            refused = {ref for ref in wanted if not ref.lower().startswith(("http://", "https://"))}
            wanted = [ref for ref in wanted if ref not in refused]
        fetched = {item.ref: item for item in self.fetcher.fetch_many([(r, base) for r in wanted])}
        images = [
            self._analyse_one(fetched[ref])
            if ref in fetched
            else ListingImage(ref, error=_LOCAL_REFUSED)
            for ref in refs[:MAX_IMAGES_PER_LISTING]
        ]
        images.extend(
            ListingImage(
                ref,
                error=f"not looked at: a listing's first {MAX_IMAGES_PER_LISTING} images are",
            )
            for ref in refs[MAX_IMAGES_PER_LISTING:]
        )
        return images

    def _analyse_one(self, item: Fetched) -> ListingImage:
        if item.data is None or item.sha256 is None:
            return ListingImage(item.ref, error=item.error or "could not be fetched")
        found = self._memo.get(item.sha256)
        if found is None:
            found = self._analysis(item.data, item.sha256)
            self._memo.put(item.sha256, found)
        if isinstance(found, str):
            return ListingImage(item.ref, sha256=item.sha256, error=found)
        return ListingImage(
            item.ref,
            sha256=item.sha256,
            format=found.format,
            width=found.width,
            height=found.height,
            pdq=found.pdq,
            features=found.features,
            notes=found.notes,
        )

    def _analysis(self, data: bytes, sha256: str) -> _Analysis | str:
        cached = self._cached_hash(sha256)
        if cached is not None and not self._wants_features(cached.pdq):
            return cached
        try:
            decoded = decode_image(data, max_pixels=self.max_pixels, max_side=self.max_side)
        except UnreadableImage as error:
            return str(error)
        if self.keep_blobs:
            self.fetcher.store_blob(data)
        pdq = cached.pdq if cached is not None else pdq_hash(decoded.image)
        analysis = _Analysis(
            format=decoded.format,
            width=decoded.width,
            height=decoded.height,
            pdq=pdq,
            features=(
                photo_features(decoded.image, min_side=MIN_FEATURE_SIDE)
                if self._wants_features(pdq)
                else None
            ),
            notes=decoded.notes,
        )
        if cached is None:
            self._save_hash(sha256, analysis)
        return analysis

    def _wants_features(self, pdq: PdqHash) -> bool:
        if not self.features:
            return False
        return self.known is None or not self.known.search(pdq.bits)

    # -- the on-disk PDQ cache: <hash_cache>/<sha[:2]>/<sha>.json ---------------------------

    def _hash_path(self, sha256: str) -> Path | None:
        return None if self.hash_cache is None else self.hash_cache / sha256[:2] / f"{sha256}.json"

    def _cached_hash(self, sha256: str) -> _Analysis | None:
        path = self._hash_path(sha256)
        if path is None or not path.is_file():
            return None
        try:
            row = orjson.loads(path.read_bytes())
            return _Analysis(
                format=row["format"],
                width=row["width"],
                height=row["height"],
                pdq=PdqHash.from_hex(row["pdq"], row["quality"]),
                features=None,
                notes=tuple(row.get("notes", ())),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged cache entry is recomputed, never trusted

    def _save_hash(self, sha256: str, analysis: _Analysis) -> None:
        path = self._hash_path(sha256)
        if path is None:
            return
        row = {
            "format": analysis.format,
            "width": analysis.width,
            "height": analysis.height,
            "pdq": analysis.pdq.hex(),
            "quality": analysis.pdq.quality,
            "notes": list(analysis.notes),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".{path.name}.{os.getpid()}.part")
            temp.write_bytes(orjson.dumps(row))
            os.replace(temp, path)
        except OSError:
            pass  # the cache is an optimisation: a full disk must not fail the scan
