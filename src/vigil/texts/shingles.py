"""Normalising and shingling text, for containment search and near-duplicate clusters.

A text is normalised once: NFKC with case folding (ICU) and traditional Chinese folded into
simplified (OpenCC, length-preserving). It is then cut into tokens: each Han, kana or Hangul
character is a token of its own, and each run of other letters and digits (a Latin word, a
model number) is one token; punctuation and spaces are not tokens, so that changed punctuation
does not change the shingles.

A shingle is a window of tokens starting at each token: `cjk` tokens long when it starts on a
Han/kana/Hangul character, `words` tokens long otherwise — character n-grams for Chinese and
word n-grams for Latin scripts, in one pass over mixed text. The window lengths were chosen by
measurement (`bench/near_dup.py --shingles`, docs/texts.md). Each shingle is hashed to 32 bits:
a listing has a few hundred shingles and a work a few thousand, so a false collision between
them (about 1 in 4·10⁹ per pair) is noise, and 32 bits halve the index.

Texts are also cut into clauses at sentence and clause punctuation and line breaks; the
boilerplate filter works on clauses (包邮, 七天无理由退换 are whole clauses), and each shingle
belongs to the clause its first token is in. Clauses are cheap to find, shingles less so: a
scan takes the clauses of every description and shingles only those long enough to matter.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import icu
import numpy as np
import numpy.typing as npt
import xxhash

from vigil.detectors.brand.normalize import Simplifier

_NFKC_CASEFOLD = icu.Normalizer2.getNFKCCasefoldInstance()
# Where a clause ends: each of these characters, and a full stop before a space or the end.
_CLAUSE_BREAK = re.compile(r"[。！？；，、：!?;:,\n|•·…]|\.(?=[ \n]|$)")
_NOT_TOKEN = re.compile(r"[\W_]+")
_LINE_BREAKS = re.compile(r"\s*\n\s*")
_SPACES = re.compile(r"[^\S\n]+")

# Shingle windows (tokens) chosen by measurement; see the module docstring.
CJK_WINDOW = 5
WORD_WINDOW = 3

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible mod 2⁶⁴
_INVERSE = np.uint64(pow(0x9E3779B97F4A7C15, -1, 1 << 64))
_MIX = np.uint64(0xFF51AFD7ED558CCD)
_SHIFT32 = np.uint64(32)
_WORD_BIT = np.uint64(1 << 63)  # keeps every word's id apart from every character's code point

_OTHER, _WORD, _CJK = 0, 1, 2
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
               (0xAC00, 0xD7AF))  # fmt: skip
_EMPTY32 = np.zeros(0, dtype=np.int32)


@cache
def _simplifier() -> Simplifier:
    return Simplifier()


def normalize(text: str) -> str:
    """The text as compared: NFKC, case folded, simplified Chinese. (Spacing is left as it is:
    spaces are not tokens, and a scan normalises every description.)"""
    folded = _NFKC_CASEFOLD.normalize(text)
    return _simplifier().simplify(folded).strip()


def tidy(text: str) -> str:
    """Runs of spaces made one and blank lines dropped: for texts that are shown (a work's
    excerpt), once per text; the shingles do not change."""
    return _SPACES.sub(" ", _LINE_BREAKS.sub("\n", text)).strip()


@dataclass(frozen=True, slots=True)
class Clauses:
    """A text's clauses that have letters, digits or Han characters: where each begins, and
    its hash and length counting those only."""

    starts: npt.NDArray[np.intp]
    hashes: npt.NDArray[np.uint64]
    lengths: npt.NDArray[np.int32]


def clauses(norm: str) -> Clauses:
    """The clauses of a normalised text. Cheaper than shingling: a scan takes the clauses of
    every description (for the boilerplate it learns) but shingles only the long ones."""
    starts: list[int] = []
    hashes: list[int] = []
    lengths: list[int] = []
    at = 0
    for piece in _CLAUSE_BREAK.split(norm):
        content = _NOT_TOKEN.sub("", piece)
        if content:
            starts.append(at)
            hashes.append(xxhash.xxh64_intdigest(content.encode()))
            lengths.append(len(content))
        at += len(piece) + 1  # every break is one character
    return Clauses(
        np.array(starts, dtype=np.intp),
        np.array(hashes, dtype=np.uint64),
        np.array(lengths, dtype=np.int32),
    )


@cache
def _classes() -> npt.NDArray[np.uint8]:
    """Each code point's class: other, word character or CJK character.

    Built once per process (a fraction of a second); tokenising is then a table look-up over
    the text's code points instead of a Python loop over its tokens."""
    table = np.zeros(0x110000, dtype=np.uint8)
    for code in range(0x110000):
        char = chr(code)
        if char.isalnum() or unicodedata.category(char) in ("Mn", "Mc"):
            table[code] = _WORD
    for low, high in _CJK_RANGES:
        table[low : high + 1] = _CJK
    return table


@dataclass(slots=True)
class Shingled:
    """A normalised text cut into shingles.

    `hashes[i]` is shingle i, starting at token `positions[i]`, `windows[i]` tokens long, in
    clause `clauses[i]` (the last tokens start no shingle of their own);
    `token_clauses[t]` is the clause of token t; `clause_hashes[c]` identifies clause c by its
    letters, digits and Han characters (so "包邮！" and "包邮" are one clause) and
    `clause_lengths[c]` is how many it has (see `clauses`). `starts`/`ends` are each token's
    characters in `text`."""

    text: str
    hashes: npt.NDArray[np.uint32]
    windows: npt.NDArray[np.int32]
    positions: npt.NDArray[np.intp]
    clauses: npt.NDArray[np.int32]
    token_clauses: npt.NDArray[np.int32]
    clause_hashes: npt.NDArray[np.uint64]
    clause_lengths: npt.NDArray[np.int32]
    starts: npt.NDArray[np.intp]
    ends: npt.NDArray[np.intp]

    def __len__(self) -> int:
        return int(self.hashes.size)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """The characters of `text` covered by shingles `first` to `last` (inclusive)."""
        end_token = int(self.positions[last]) + int(self.windows[last]) - 1
        return int(self.starts[self.positions[first]]), int(self.ends[end_token])

    def unique(self) -> npt.NDArray[np.uint32]:
        """The distinct shingle hashes, sorted."""
        return np.unique(self.hashes)


class _Powers:
    """Powers of the multiplier and of its inverse mod 2⁶⁴, grown as longer texts come.

    With them the hash of any run `[a, b)` of a sequence is `(P[b] - P[a]) · M^(b-1)`, where
    `P` is the prefix sum of `x[i] · M⁻ⁱ`: every word's hash in a few vectorised operations."""

    def __init__(self) -> None:
        self.up = np.ones(1, dtype=np.uint64)
        self.down = np.ones(1, dtype=np.uint64)

    def ensure(self, size: int) -> None:
        if self.up.size > size:
            return
        size = max(size + 1, 2 * self.up.size, 4096)
        with np.errstate(over="ignore"):
            up = np.cumprod(np.full(size - 1, _MULTIPLIER, dtype=np.uint64), dtype=np.uint64)
            down = np.cumprod(np.full(size - 1, _INVERSE, dtype=np.uint64), dtype=np.uint64)
        one = np.ones(1, dtype=np.uint64)
        self.up = np.concatenate((one, up))  # index i holds the i-th power
        self.down = np.concatenate((one, down))

    def runs(
        self,
        values: npt.NDArray[np.uint64],
        starts: npt.NDArray[np.intp],
        ends: npt.NDArray[np.intp],
    ) -> npt.NDArray[np.uint64]:
        """The polynomial hash of each run `values[starts[i]:ends[i]]`."""
        self.ensure(values.size)
        prefix = np.zeros(values.size + 1, dtype=np.uint64)
        np.cumsum(values * self.down[: values.size], dtype=np.uint64, out=prefix[1:])
        hashed: npt.NDArray[np.uint64] = (prefix[ends] - prefix[starts]) * self.up[ends - 1]
        return hashed


_POWERS = _Powers()


class Shingler:
    """Cuts normalised text into hashed shingles (see the module docstring).

    Tokenising is vectorised over the text's code points (a class table, run boundaries and
    prefix hashes in numpy): a regular expression with a Python loop over the tokens costs four
    times as much, and a scan shingles every listing's description."""

    def __init__(self, cjk: int = CJK_WINDOW, words: int = WORD_WINDOW) -> None:
        if cjk < 1 or words < 1:
            raise ValueError(f"shingle windows must be at least 1 token, got {cjk} and {words}")
        self.cjk = cjk
        self.words = words

    def __call__(self, text: str, *, normalized: bool = False) -> Shingled:
        norm = text if normalized else normalize(text)
        codes = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32)
        classes = _classes()[codes]
        cjk = classes == _CJK
        word = classes == _WORD
        starts = np.flatnonzero(cjk | (word & ~np.concatenate(([False], word[:-1]))))
        count = starts.size
        if count == 0:
            empty: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)
            cut = clauses(norm)
            return Shingled(
                norm, np.zeros(0, dtype=np.uint32), _EMPTY32, empty, _EMPTY32, _EMPTY32,
                cut.hashes, cut.lengths, empty, empty,
            )  # fmt: skip
        ends = starts + 1
        token_cjk = cjk[starts]
        is_word = ~token_cjk
        ids = codes[starts].astype(np.uint64)
        if is_word.any():
            ends[is_word] = np.flatnonzero(word & ~np.concatenate((word[1:], [False]))) + 1
            hashed = _POWERS.runs(codes.astype(np.uint64), starts[is_word], ends[is_word])
            ids[is_word] = hashed | _WORD_BIT
        cut = clauses(norm)
        # A token belongs to the last clause starting at or before it.
        token_clauses = np.searchsorted(cut.starts, starts, side="right").astype(np.int32) - 1
        by_cjk, by_words = _windowed(ids, self.cjk, self.words)
        hashes = np.where(token_cjk, by_cjk, by_words)
        windows = np.where(token_cjk, self.cjk, self.words)
        # Only whole windows are shingles (a window cut short by the end of a copy would not
        # be in the work); a text shorter than every window is one shingle of all its tokens.
        whole = np.arange(count) + windows <= count
        if not whole.any():
            whole[0] = True
            windows[0] = count
        return Shingled(
            norm,
            _fold32(hashes[whole]),
            windows[whole].astype(np.int32),
            np.flatnonzero(whole),
            token_clauses[whole],
            token_clauses,
            cut.hashes,
            cut.lengths,
            starts,
            ends,
        )


def _windowed(tokens: npt.NDArray[np.uint64], *windows: int) -> list[npt.NDArray[np.uint64]]:
    """A polynomial hash of each window of each length in `windows` (shorter at the end),
    mod 2⁶⁴; the shorter windows are steps on the way to the longer ones. (Integer arrays wrap
    around silently in numpy, which is the arithmetic wanted here.)"""
    count = tokens.size
    hashes = tokens.copy()
    found: dict[int, npt.NDArray[np.uint64]] = {}
    for length in range(1, max(windows) + 1):
        if length > 1 and length <= count:
            offset = length - 1
            hashes[: count - offset] = hashes[: count - offset] * _MULTIPLIER + tokens[offset:]
        if length in windows:
            found[length] = hashes.copy()
    return [found[w] for w in windows]


def _fold32(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    """Window hashes cut to 32 bits: the upper half of one more multiplication, which mixes
    every token of the window into them (multiplicative hashing)."""
    return ((hashes * _MIX) >> _SHIFT32).astype(np.uint32)
