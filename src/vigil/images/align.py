"""PDQ after alignment: comparing a listing photo with a registered photo it was cropped from.

PDQ shrugs off recompression, resizing and colour changes, but not framing: on full-frame
product photos a crop of 2–3 % per side already moves the hash past the match radius (see
docs/images.md). Counterfeit sellers crop official photos all the time (to cut a watermark or
a shop badge), so whole-image hashing alone misses them.

Keypoints do survive a crop. When the keypoint matcher (`vigil.images.logos.LogoMatcher`, here
fed with registered photos instead of logos) finds where a registered photo sits in a listing
photo, this module warps the registered photo into the listing photo's frame — the same crop,
scale and turn — and hashes the result. If the listing photo really is that photo, the two
PDQ hashes are then as close as for an uncropped copy; if the keypoints agreed by chance, or
the photos merely share a product, the hashes stay far apart. So the keypoints propose and PDQ,
at its usual radius, decides.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from vigil.images.pdq import PdqHash, distance, pdq_hash

# Registered photos are kept for warping at this longer side: PDQ looks at a 64x64 reduction,
# so more pixels add nothing but memory (a 384 px grey copy is ~110 kB).
KEEP_SIDE = 384
# The warped view is made at this longer side.
VIEW_SIDE = 256


def keep(image: Image.Image) -> np.ndarray:
    """The grey copy of a registered photo that alignment warps (uint8, longer side 384)."""
    scale = min(1.0, KEEP_SIDE / max(1, *image.size))
    grey = image.convert("L")
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        grey = grey.resize(size, Image.Resampling.BOX)
    return np.ascontiguousarray(np.asarray(grey, dtype=np.uint8))


def aligned_view(
    kept: np.ndarray,
    polygon: Sequence[tuple[float, float]],
    photo_size: tuple[int, int],
) -> Image.Image:
    """The registered photo as it would look framed like the listing photo.

    `polygon` is where the registered photo's corners (TL, TR, BR, BL) fall in the listing
    photo's pixels, whose size is `photo_size`; parts of the frame the registered photo does
    not cover stay black."""
    height, width = kept.shape
    source = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    photo_w, photo_h = photo_size
    scale = min(1.0, VIEW_SIDE / max(1, photo_w, photo_h))
    target = np.asarray(polygon, dtype=np.float32).reshape(4, 2) * scale
    out = (max(1, round(photo_w * scale)), max(1, round(photo_h * scale)))
    matrix = cv2.getPerspectiveTransform(source, target)
    view = cv2.warpPerspective(kept, matrix, out, flags=cv2.INTER_AREA)
    return Image.fromarray(view).convert("RGB")


def similarity_view(
    kept: np.ndarray,
    kept_scale: float,
    registered: np.ndarray,
    photo: np.ndarray,
    photo_size: tuple[int, int],
    min_inliers: int,
) -> tuple[Image.Image, int] | None:
    """The registered photo framed like the listing photo, from matched points: registered
    points (in the registered photo's pixels; `kept` is that photo scaled by `kept_scale`)
    and the listing photo's points, pair by pair. The model is a similarity — scale, turn
    and shift, the edits a crop and a resize make — fitted with RANSAC: four parameters are
    far better determined by a few dozen matches than a homography's eight. None when fewer
    than `min_inliers` matches agree; else the view and the number that did."""
    if len(registered) < max(3, min_inliers):
        return None
    photo_w, photo_h = photo_size
    scale = min(1.0, VIEW_SIDE / max(1, photo_w, photo_h))
    matrix, mask = cv2.estimateAffinePartial2D(
        (registered * kept_scale).astype(np.float32),
        (photo * scale).astype(np.float32),
        method=cv2.RANSAC,
        ransacReprojThreshold=3.0,
        maxIters=2000,
        confidence=0.995,
    )
    if matrix is None or mask is None or int(mask.sum()) < min_inliers:
        return None
    zoom = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    if not 0.05 <= zoom <= 20:  # a registered photo a twentieth or twenty times its size
        return None
    out = (max(1, round(photo_w * scale)), max(1, round(photo_h * scale)))
    view = cv2.warpAffine(kept, matrix, out, flags=cv2.INTER_AREA)
    return Image.fromarray(view).convert("RGB"), int(mask.sum())


def aligned_distance(
    kept: np.ndarray,
    polygon: Sequence[tuple[float, float]],
    photo_size: tuple[int, int],
    photo_hash: PdqHash,
) -> int:
    """The PDQ distance between the listing photo and the registered photo framed like it."""
    return distance(pdq_hash(aligned_view(kept, polygon, photo_size)).bits, photo_hash.bits)
