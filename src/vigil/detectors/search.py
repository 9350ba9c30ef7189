"""Multi-pattern search over text with character offsets, on UTF-8 bytes.

ahocorasick-rs searches a `str` by re-encoding it and mapping every offset back, which costs
more than the search itself on Chinese text. Searching the UTF-8 bytes is equivalent (a pattern
can only match at a character boundary, UTF-8 being self-synchronising) and only the few hits
need their offsets converted to characters.
"""

from __future__ import annotations

from ahocorasick_rs import BytesAhoCorasick, MatchKind


class TextAutomaton:
    """Aho-Corasick over `patterns` whose hits are (pattern index, start, end) in characters."""

    def __init__(self, patterns: list[str], *, matchkind: MatchKind = MatchKind.Standard) -> None:
        self._automaton = BytesAhoCorasick(
            [p.encode("utf-8") for p in patterns], matchkind=matchkind
        )

    def find(self, text: str, *, overlapping: bool = False) -> list[tuple[int, int, int]]:
        data = text.encode("utf-8")
        hits: list[tuple[int, int, int]] = self._automaton.find_matches_as_indexes(
            data, overlapping=overlapping
        )
        if not hits or len(data) == len(text):  # ASCII: bytes are characters
            return hits
        return [(p, _chars(data, s), _chars(data, e)) for p, s, e in hits]


def _chars(data: bytes, offset: int) -> int:
    return len(data[:offset].decode("utf-8"))
