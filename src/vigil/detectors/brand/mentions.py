"""What the matcher found in one listing: its text channels and the names it mentions."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.detectors.brand.catalog import Alias
from vigil.detectors.brand.config import Variant
from vigil.detectors.brand.context import Cue
from vigil.detectors.brand.normalize import char_starts, span_in_original


@dataclass(slots=True)
class Mention:
    """A registered name, or a look-alike of one, at `text[start:end]` of the listing text."""

    start: int
    end: int
    alias: Alias
    variant: Variant | None
    distance: int = 0
    product: int | None = None
    product_end: int = 0  # where the model ends, when it was read after a look-alike brand
    cue: Cue | None = None  # the nominative cue that makes this name say what an item fits
    alias_id: int = -1  # the alias's index in the catalog, where known


@dataclass(slots=True)
class Channels:
    """A listing's text and the channels derived from it, for one `match` call."""

    original: str
    simple: str  # simplified Chinese; same length as `original`
    plain: str  # `simple` case-folded
    skeleton: bytes

    def plain_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of `original` that a span of `plain` comes from."""
        if len(self.plain) == len(self.original):
            return start, end
        # Case folding lengthened a character (ß → ss): map through each character's piece.
        starts = char_starts(len(c.casefold()) for c in self.simple)
        return span_in_original(starts, start, end)
