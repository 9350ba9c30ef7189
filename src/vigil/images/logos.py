"""Finding registered brand logos inside listing photos, with local features and a homography.

A logo in a listing photo is small, turned, partly hidden and sits on clutter, so whole-image
hashes (PDQ) cannot see it. Local keypoints can: each logo's keypoints are matched to the
photo's, and a logo counts as found when enough of those matches agree on one plane-to-plane
mapping (a RANSAC homography) that projects the logo to a sane quadrilateral.

Choices, each settled by bench/logo_threshold.py (60 drawn brands; 300 photos with one of
them pasted at 0.25-0.6 of the shorter side, any angle, up to 30% hidden; 200 photos with no
logo or an unregistered one; all blurred, relit and saved as JPEG; numbers in
bench/results/logo_threshold.json):

- Detector: SIFT. ORB computes its features 6-8x faster, but its binary descriptors match
  many logos by chance: it needs 32 inliers to make no false hits, where its recall falls to
  0.77, while SIFT makes none from 12 inliers on with recall 0.997. SIFT's cost, 50-80 ms a
  photo on one (shared) core, is affordable for a scan.
- MIN_INLIERS = 12: among thresholds keeping precision >= 0.95, recall is flat from 4 to 16;
  12 is the lowest with no false hit, which leaves a margin for real photos.
- Descriptors are stored as uint8 (SIFT's values are whole numbers up to 255 anyway), so a
  photo's features pickle at a quarter of the float size; they become float32 only to match.
- The photo is analysed at a longer side of at most 640 pixels: larger photos cost more, and
  a logo too small to survive that is too small to judge. Points are reported in the photo's
  original pixels.
- The photo's descriptors are matched once against the union of all logos' descriptors (k=2,
  Lowe's ratio test at 0.8; 0.7 to 0.85 changed the result by a photo or two); each surviving
  match is credited to the logo that owns its neighbour, and only logos with enough matches
  go on to RANSAC. The cost per photo is one nearest-neighbour search in faiss plus a few
  homographies, however many brands are registered (find() took 6-8 ms with 60 logos and
  28-32 ms with 1,000). The ratio test across the union also drops patterns that many logos
  share (the same letter, a plain ring): they say nothing about which brand it is.
- A homography is accepted only when the projected logo is a convex, non-mirrored
  quadrilateral of plausible size and shape. RANSAC on a few chance matches tends to give
  twisted or needle-thin quads; the check halved the false hits at low thresholds and cost no
  recall.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import faiss
import numpy as np
from PIL import Image

DETECTOR = "sift"
DETECTORS = ("sift", "orb")
MIN_INLIERS = 12
RATIO = {"sift": 0.8, "orb": 0.8}
MAX_PHOTO_SIDE = 640
# Listing and registered photos smaller than this (longer side) are enlarged before keypoints
# are looked for: a 100-pixel thumbnail has too few of them to be matched otherwise.
MIN_FEATURE_SIDE = 400
PHOTO_FEATURES = {"sift": 1500, "orb": 2000}
LOGO_SIDE = (128, 512)  # logos are analysed with a longer side inside this range
LOGO_FEATURES = {"sift": 800, "orb": 600}
REPROJECTION_PX = 5.0  # RANSAC tolerance, in pixels of the analysed (downsized) photo
MAX_CANDIDATES = 8  # logos with the most matches that are tried with RANSAC
FLAT_LIMIT = 10_000  # descriptors searched exactly; above, an inverted file
PROBES = 8  # inverted lists searched per descriptor
TRAIN_PER_LIST = 64  # descriptors sampled per list to train the inverted file
_WIDTH = {"sift": 128, "orb": 32}


@dataclass(frozen=True, slots=True)
class PhotoFeatures:
    """Keypoints of one photo: computed once, small enough to pickle between processes."""

    points: np.ndarray  # (k, 2) float32, x and y in the original photo's pixels
    descriptors: np.ndarray  # (k, D) uint8: D is 128 for SIFT, 32 for ORB
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class LogoHit:
    """A registered logo seen in a photo."""

    asset: str
    brand: str
    inliers: int
    polygon: tuple[tuple[float, float], ...]  # the logo's corners TL, TR, BR, BL in photo pixels


def photo_features(
    image: Image.Image, *, detector: str = DETECTOR, min_side: int = 0
) -> PhotoFeatures:
    """Keypoints and descriptors of `image`, analysed at a longer side of at most 640 pixels;
    a photo whose longer side is under `min_side` is enlarged to it first (a thumbnail has
    too few keypoints to match otherwise). Points are in the photo's own pixels."""
    _check_detector(detector)
    longer = max(1, *image.size)
    scale = min(1.0, MAX_PHOTO_SIDE / longer)
    if longer < min_side:
        scale = min(min_side, MAX_PHOTO_SIDE) / longer
    points, descriptors = _detect(image, scale, detector, PHOTO_FEATURES[detector])
    return PhotoFeatures(points, descriptors, image.width, image.height)


def logo_features(image: Image.Image, *, detector: str = DETECTOR) -> tuple[np.ndarray, np.ndarray]:
    """The keypoints (in the logo's own pixels) and descriptors a matcher keeps of a logo."""
    _check_detector(detector)
    longer = max(1, *image.size)
    scale = min(max(1.0, LOGO_SIDE[0] / longer), LOGO_SIDE[1] / longer)
    return _detect(image, scale, detector, LOGO_FEATURES[detector])


class LogoMatcher:
    """Registered logos' keypoints, searched in a photo's features.

    Pure and picklable: the state is numpy arrays and plain values; the faiss index is made on
    first use in each process and left out of the pickle.
    """

    def __init__(
        self,
        *,
        assets: Sequence[str],
        brands: Sequence[str],
        sizes: np.ndarray,
        points: np.ndarray,
        descriptors: np.ndarray,
        owners: np.ndarray,
        detector: str = DETECTOR,
        min_inliers: int = MIN_INLIERS,
        ratio: float | None = None,
    ) -> None:
        _check_detector(detector)
        if min_inliers < 4:
            raise ValueError(f"a homography needs at least 4 inliers, not {min_inliers}")
        self.assets = tuple(assets)
        self.brands = tuple(brands)
        self.sizes = sizes  # (L, 2) float64 width, height of each logo as given
        self.points = points  # (N, 2) float32, in the logo's own pixels
        self.descriptors = descriptors  # (N, D) uint8
        self.owners = owners  # (N,) int32 index of the logo each descriptor belongs to
        self.detector = detector
        self.min_inliers = min_inliers
        # Lowe's ratio; None is the detector's default. A registry of near-duplicates (many
        # shops' photos of one phone) wants it looser, since the second-nearest neighbour is
        # then often the same point in a near-identical photo.
        self.ratio = ratio
        self._index: Any = None

    @classmethod
    def build(
        cls,
        logos: Sequence[tuple[str, str, Image.Image]],
        *,
        detector: str = DETECTOR,
        min_inliers: int = MIN_INLIERS,
        described: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
        ratio: float | None = None,
    ) -> LogoMatcher:
        """A matcher for (asset id, brand, logo image) triples; `described` may give each
        logo's `logo_features` computed earlier (a cache), in the same order."""
        _check_detector(detector)
        if described is not None and len(described) != len(logos):
            raise ValueError(f"{len(described)} described logos for {len(logos)} logos")
        points, descriptors, owners, sizes = [], [], [], []
        for index, (_asset, _brand, image) in enumerate(logos):
            if described is not None:
                found, features = described[index]
            else:
                found, features = logo_features(image, detector=detector)
            points.append(found)
            descriptors.append(features)
            owners.append(np.full(len(found), index, dtype=np.int32))
            sizes.append((float(image.width), float(image.height)))
        width = _WIDTH[detector]
        return cls(
            assets=[a for a, _, _ in logos],
            brands=[b for _, b, _ in logos],
            sizes=np.array(sizes, dtype=np.float64).reshape(-1, 2),
            points=np.concatenate(points) if points else np.zeros((0, 2), np.float32),
            descriptors=np.concatenate(descriptors) if points else np.zeros((0, width), np.uint8),
            owners=np.concatenate(owners) if owners else np.zeros(0, np.int32),
            detector=detector,
            min_inliers=min_inliers,
            ratio=ratio,
        )

    def unmatchable(self) -> list[str]:
        """Assets whose logo has too few keypoints to ever be found (blank or tiny images)."""
        counts = np.bincount(self.owners, minlength=len(self.assets))
        return [a for a, n in zip(self.assets, counts, strict=True) if n < self.min_inliers]

    def find(self, features: PhotoFeatures) -> list[LogoHit]:
        """Logos seen in the photo, most inliers first, at most one hit per logo."""
        # RANSAC's tolerance is set in analysed pixels; points are in original pixels.
        shrink = min(1.0, MAX_PHOTO_SIDE / max(1, features.width, features.height))
        tolerance = REPROJECTION_PX / shrink
        hits = []
        for logo, source, target in self.candidates(features):
            hit = self._verify(logo, source, target, tolerance, features)
            if hit is not None:
                hits.append(hit)
        hits.sort(key=lambda h: -h.inliers)
        return hits

    def candidates(
        self, features: PhotoFeatures, limit: int = MAX_CANDIDATES
    ) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """The registered images with the most ratio-test matches in the photo, before any
        geometry: (image number, its matched points, the photo's matched points), most
        matches first, those with at least `min_inliers` matches only. For callers that
        verify with a model of their own (vigil.images.align)."""
        self._check(features)
        if len(features.descriptors) < 2 or len(self.descriptors) < 2:
            return []
        query, train = self._good_matches(features.descriptors)
        if len(query) == 0:
            return []
        owner = self.owners[train]
        counts = np.bincount(owner, minlength=len(self.assets))
        chosen = np.flatnonzero(counts >= self.min_inliers)
        chosen = chosen[np.argsort(-counts[chosen], kind="stable")][:limit]
        return [
            (int(n), self.points[train[owner == n]], features.points[query[owner == n]])
            for n in chosen
        ]

    def _check(self, features: PhotoFeatures) -> None:
        width = _WIDTH[self.detector]
        descriptors, points = features.descriptors, features.points
        if descriptors.ndim != 2 or descriptors.shape[1] != width or descriptors.dtype != np.uint8:
            raise ValueError(
                f"these photo features have {descriptors.dtype} descriptors of shape "
                f"{descriptors.shape}, but the matcher holds {self.detector.upper()} uint8 "
                f"descriptors of width {width}: compute them with "
                f"photo_features(image, detector={self.detector!r})"
            )
        if points.shape != (len(descriptors), 2):
            raise ValueError(
                f"these photo features have {len(descriptors)} descriptors but points of shape "
                f"{points.shape}: compute them with photo_features(image)"
            )

    def _good_matches(self, photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(photo index, logo descriptor index) of matches that pass the ratio test, one per
        logo descriptor (the closest), so one logo point cannot vote many times."""
        distances, neighbours = self._get_index().search(_for_matching(photo, self.detector), 2)
        distances = distances.astype(np.float64)
        # IndexFlatL2 gives squared distances, so the ratio is squared for SIFT.
        ratio = (self.ratio or RATIO[self.detector]) ** (2 if self.detector == "sift" else 1)
        good = (neighbours[:, 1] >= 0) & (distances[:, 0] < ratio * distances[:, 1])
        query = np.flatnonzero(good)
        if len(query) == 0:
            return query, query
        train = neighbours[query, 0]
        order = np.argsort(distances[query, 0], kind="stable")
        _, first = np.unique(train[order], return_index=True)
        keep = order[first]
        return query[keep], train[keep].astype(np.int64)

    def _verify(
        self,
        logo: int,
        source: np.ndarray,
        target: np.ndarray,
        tolerance: float,
        features: PhotoFeatures,
    ) -> LogoHit | None:
        """The hit for one logo when its matches agree on a sane homography, else None."""
        homography, mask = cv2.findHomography(
            source, target, cv2.RANSAC, tolerance, maxIters=2000, confidence=0.995
        )
        if homography is None or mask is None:
            return None
        inliers = int(mask.sum())
        if inliers < self.min_inliers:
            return None
        w, h = self.sizes[logo]
        corners = np.array([[[0, 0]], [[w, 0]], [[w, h]], [[0, h]]], dtype=np.float64)
        quad = cv2.perspectiveTransform(corners, homography).reshape(4, 2)
        if not _plausible(quad, (w, h), (features.width, features.height)):
            return None
        return LogoHit(
            asset=self.assets[logo],
            brand=self.brands[logo],
            inliers=inliers,
            polygon=tuple((float(x), float(y)) for x, y in quad),
        )

    def _get_index(self) -> Any:
        """The nearest-neighbour index over all logos' descriptors, made on first use.

        faiss rather than OpenCV's brute-force matcher: its exact search runs as a matrix
        product and was 4-10x faster here, it returns arrays instead of one Python object per
        match, and OpenCV's matcher refuses a train set above 2**18 rows. Up to FLAT_LIMIT
        descriptors the search is exact; beyond, an inverted file (trained with faiss's fixed
        seed, so every process builds the same one) keeps the time per photo from growing with
        the registry, at the price of missing a few neighbours.
        """
        if self._index is not None:
            return self._index
        data = _for_matching(self.descriptors, self.detector)
        count, width = len(data), _WIDTH[self.detector]
        index: Any
        if count <= FLAT_LIMIT:
            sift = self.detector == "sift"
            index = faiss.IndexFlatL2(width) if sift else faiss.IndexBinaryFlat(8 * width)
        else:
            lists = int(2 * np.sqrt(count))
            # Train on a fixed sample (faiss wants at least 39 points a list): k-means over
            # every descriptor of a large registry would take seconds in every process.
            sample = np.random.default_rng(0).permutation(count)[: lists * TRAIN_PER_LIST]
            if self.detector == "sift":
                index = faiss.IndexIVFFlat(faiss.IndexFlatL2(width), width, lists)
            else:
                index = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(8 * width), 8 * width, lists)
            index.train(data[np.sort(sample)])
            index.nprobe = PROBES
        index.add(data)
        self._index = index
        return index

    def __getstate__(self) -> dict[str, Any]:
        state = {name: value for name, value in self.__dict__.items() if name != "_index"}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._index = None

    def __len__(self) -> int:
        return len(self.assets)


def _detect(
    image: Image.Image, scale: float, detector: str, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (in the image's own pixels) and uint8 descriptors of `image` seen at `scale`."""
    _check_detector(detector)
    width = _WIDTH[detector]
    empty = np.zeros((0, 2), np.float32), np.zeros((0, width), np.uint8)
    gray = image.convert("L")
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if size != gray.size:
        gray = gray.resize(size, Image.Resampling.LANCZOS)
    if min(size) < 16:  # smaller than a descriptor's patch: nothing can be described
        return empty
    if detector == "sift":
        finder: Any = cv2.SIFT.create(limit)
    else:
        # A smaller border than the default lets ORB find points on logos near the edge.
        finder = cv2.ORB.create(limit, 1.2, 8, 15, 0, 2, cv2.ORB_HARRIS_SCORE, 15, 12)
    keypoints, descriptors = finder.detectAndCompute(np.asarray(gray), None)
    if descriptors is None or not keypoints:
        return empty
    points = np.array([k.pt for k in keypoints], dtype=np.float32)
    # Map pixel centres back to the original: x + 0.5 = (x_analysed + 0.5) / scale, per axis.
    ratio = np.array([image.width / size[0], image.height / size[1]], dtype=np.float32)
    points = (points + 0.5) * ratio - 0.5
    return points, np.clip(np.rint(descriptors), 0, 255).astype(np.uint8)


def _for_matching(descriptors: np.ndarray, detector: str) -> np.ndarray:
    return descriptors.astype(np.float32) if detector == "sift" else descriptors


def _plausible(quad: np.ndarray, logo: tuple[float, float], photo: tuple[int, int]) -> bool:
    """Whether the projected logo could be a real view of it: a convex, non-mirrored
    quadrilateral, neither a speck nor far larger than the photo, and not wildly stretched."""
    if not np.all(np.isfinite(quad)):
        return False
    edges = np.roll(quad, -1, axis=0) - quad
    turns = (
        edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1]
        - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    )
    # Image y points down, so the logo's TL→TR→BR→BL order turns clockwise on screen,
    # which is a positive cross product; any sign change is a fold or a mirror.
    if not np.all(turns > 0):
        return False
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    photo_side = max(photo)
    if lengths.min() < 0.03 * photo_side or lengths.max() > 3.0 * photo_side:
        return False
    # Opposite sides of a plausible view differ by at most 3x (strong perspective at most);
    # the ratio of adjacent sides stays within 3x of the logo's own aspect ratio.
    if max(lengths[0], lengths[2]) > 3 * min(lengths[0], lengths[2]):
        return False
    if max(lengths[1], lengths[3]) > 3 * min(lengths[1], lengths[3]):
        return False
    aspect = ((lengths[0] + lengths[2]) / (lengths[1] + lengths[3])) / (logo[0] / logo[1])
    return bool(1 / 3 <= aspect <= 3)


def _check_detector(detector: str) -> None:
    if detector not in DETECTORS:
        raise ValueError(f"unknown keypoint detector {detector!r}: use one of {DETECTORS}")
