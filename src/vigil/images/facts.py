"""What the image stage learnt about one image of a listing, for the matchers to read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vigil.images.logos import PhotoFeatures
from vigil.images.pdq import PdqHash


@dataclass(frozen=True, slots=True)
class ListingImage:
    """What the image stage learnt about one image reference of a listing."""

    ref: str
    sha256: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    pdq: PdqHash | None = None
    features: PhotoFeatures | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        """The image as the assessment records it (the assessment's `image_records`)."""
        row: dict[str, Any] = {"ref": self.ref}
        if self.sha256:
            row["sha256"] = self.sha256
        if self.format:
            row.update(format=self.format, width=self.width, height=self.height)
        if self.pdq is not None:
            row.update(pdq=self.pdq.hex(), quality=self.pdq.quality)
        if self.error:
            row["error"] = self.error
        if self.notes:
            row["notes"] = list(self.notes)
        return row
