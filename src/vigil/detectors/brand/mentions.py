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
    alias_id: int  # the alias's index in the catalog
    variant: Variant | None
    distance: int = 0
    product: int | None = None
    product_end: int = 0  # where the model ends, when it was read after a look-alike brand
    cue: Cue | None = None  # the nominative cue that makes this name say what an item fits


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


# Where spans overlap, the longest wins, then the least altered spelling.
_RANK: dict[Variant | None, int] = {
    None: 0,
    Variant.TRADITIONAL: 1,
    Variant.FULLWIDTH: 2,
    Variant.SEPARATORS: 3,
    Variant.HOMOGLYPH: 4,
    Variant.TYPO: 5,
    Variant.PINYIN: 6,
    Variant.HOMOPHONE: 7,
    Variant.REORDERED: 8,
}


def more_than(hits: list[tuple[int, int, int]], alias_of: list[int], seen: dict[int, int]) -> bool:
    """Whether some alias occurs in `hits` more often than `seen` counts it."""
    counts: dict[int, int] = {}
    for pattern, _, _ in hits:
        alias_id = alias_of[pattern]
        counts[alias_id] = count = counts.get(alias_id, 0) + 1
        if count > seen.get(alias_id, 0):
            return True
    return False


def without_overlaps(mentions: list[Mention]) -> list[Mention]:
    """The longest, then least altered mentions that do not overlap, in text order."""
    if len(mentions) < 2:
        return mentions
    mentions.sort(key=lambda m: (m.start - m.end, _RANK[m.variant], m.start))
    chosen: list[Mention] = []
    for mention in mentions:
        if all(mention.end <= c.start or mention.start >= c.end for c in chosen):
            chosen.append(mention)
    chosen.sort(key=lambda m: m.start)
    return chosen
