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
_LINE_BREAKS = re.compile(r"\s*\n\s*")
_SPACES = re.compile(r"[^\S\n]+")
# Han (with extension A and the compatibility forms), kana and Hangul: a character is a token.
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
               (0xAC00, 0xD7AF))  # fmt: skip
_CJK_CLASS = "".join(f"{chr(low)}-{chr(high)}" for low, high in _CJK_RANGES)
_TOKEN = re.compile(f"[{_CJK_CLASS}]|[^\\W_{_CJK_CLASS}]+")
_CJK_CHARS = frozenset(chr(c) for low, high in _CJK_RANGES for c in range(low, high + 1))

# Shingle windows (tokens) chosen by measurement; see the module docstring.
CJK_WINDOW = 5
WORD_WINDOW = 3

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it loses nothing mod 2⁶⁴
_MIX = np.uint64(0xFF51AFD7ED558CCD)
_SHIFT32 = np.uint64(32)
_WORD_BIT = 1 << 63  # keeps every word's id apart from every character's code point
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
    """A text's clauses that have letters, digits or Han characters: where each begins, its
    hash and length counting those only, and its *prose* length: the same when the clause
    reads as prose, 0 when it does not (see `prose_length`)."""

    starts: npt.NDArray[np.intp]
    hashes: npt.NDArray[np.uint64]
    lengths: npt.NDArray[np.int32]
    prose: npt.NDArray[np.int32]


# A clause reads as prose with at least this many Han characters, or words that are not numbers.
PROSE_HAN = 4
PROSE_WORDS = 3


def prose_length(tokens: list[str]) -> int:
    """The clause's length when it reads as prose, else 0.

    A row of a size chart (S码, 身高155-165, 胸围100) or of a spec table (6gb运存, 5.15英寸)
    is cut into clauses of a few characters and numbers: data, which many shops print alike
    and which is not the expression a copyright protects. Such clauses count neither as
    copied text nor as content that makes two descriptions alike."""
    han = words = 0
    for token in tokens:
        if token in _CJK_CHARS:
            han += 1
        elif not token.isdigit():
            words += 1
    return sum(map(len, tokens)) if han >= PROSE_HAN or words >= PROSE_WORDS else 0


def clauses(norm: str) -> Clauses:
    """The clauses of a normalised text. Cheaper than shingling: a scan takes the clauses of
    every description (for the boilerplate it learns) but shingles only the long ones."""
    starts: list[int] = []
    hashes: list[int] = []
    lengths: list[int] = []
    prose: list[int] = []
    at = 0
    for piece in _CLAUSE_BREAK.split(norm):
        tokens = _TOKEN.findall(piece)
        if tokens:
            content = "".join(tokens)
            starts.append(at)
            hashes.append(xxhash.xxh64_intdigest(content.encode()))
            lengths.append(len(content))
            prose.append(prose_length(tokens))
        at += len(piece) + 1  # every break is one character
    return Clauses(
        np.array(starts, dtype=np.intp),
        np.array(hashes, dtype=np.uint64),
        np.array(lengths, dtype=np.int32),
        np.array(prose, dtype=np.int32),
    )


@dataclass(slots=True)
class Shingled:
    """A normalised text cut into shingles.

    `hashes[i]` is shingle i, starting at token `positions[i]`, `windows[i]` tokens long, in
    clause `clauses[i]` (the last tokens start no shingle of their own). Per token:
    `token_clauses[t]` is its clause and `token_lengths[t]` its length. `clause_hashes[c]`
    identifies clause c by its letters, digits and Han characters (so "包邮！" and "包邮" are
    one clause), `clause_lengths[c]` is how many it has and `clause_prose[c]` the same, or 0
    when the clause does not read as prose (see `clauses`)."""

    text: str
    hashes: npt.NDArray[np.uint32]
    windows: npt.NDArray[np.int32]
    positions: npt.NDArray[np.intp]
    clauses: npt.NDArray[np.int32]
    token_clauses: npt.NDArray[np.int32]
    token_lengths: npt.NDArray[np.int32]
    clause_hashes: npt.NDArray[np.uint64]
    clause_lengths: npt.NDArray[np.int32]
    clause_prose: npt.NDArray[np.int32]
    _bounds: tuple[list[int], list[int]] | None = None

    def __len__(self) -> int:
        return int(self.hashes.size)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """The characters of `text` covered by shingles `first` to `last` (inclusive)."""
        if self._bounds is None:  # found only when asked: few texts are ever shown
            found = list(_TOKEN.finditer(self.text))
            self._bounds = ([m.start() for m in found], [m.end() for m in found])
        starts, ends = self._bounds
        end_token = int(self.positions[last]) + int(self.windows[last]) - 1
        return starts[int(self.positions[first])], ends[end_token]

    def unique(self) -> npt.NDArray[np.uint32]:
        """The distinct shingle hashes, sorted."""
        return np.unique(self.hashes)


class Shingler:
    """Cuts normalised text into hashed shingles (see the module docstring).

    Tokens come from one regular expression per clause and are hashed in a Python loop (a
    character's code point, or xxHash of a word); the windows are then hashed in numpy. A
    version vectorised over the text's code points measured twice as slow on descriptions of
    100–300 characters, its many small numpy calls costing more than the loop."""

    def __init__(self, cjk: int = CJK_WINDOW, words: int = WORD_WINDOW) -> None:
        if cjk < 1 or words < 1:
            raise ValueError(f"shingle windows must be at least 1 token, got {cjk} and {words}")
        self.cjk = cjk
        self.words = words

    def __call__(self, text: str, *, normalized: bool = False) -> Shingled:
        norm = text if normalized else normalize(text)
        tokens: list[str] = []
        clause_of: list[int] = []
        hashes: list[int] = []
        lengths: list[int] = []
        prose: list[int] = []
        for piece in _CLAUSE_BREAK.split(norm):
            found = _TOKEN.findall(piece)
            if not found:
                continue
            clause_of.extend([len(hashes)] * len(found))
            tokens.extend(found)
            content = "".join(found)
            hashes.append(xxhash.xxh64_intdigest(content.encode()))
            lengths.append(len(content))
            prose.append(prose_length(found))
        count = len(tokens)
        clause_hashes = np.array(hashes, dtype=np.uint64)
        clause_lengths = np.array(lengths, dtype=np.int32)
        clause_prose = np.array(prose, dtype=np.int32)
        if count == 0:
            empty: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)
            return Shingled(
                norm, np.zeros(0, dtype=np.uint32), _EMPTY32, empty, _EMPTY32, _EMPTY32,
                _EMPTY32, clause_hashes, clause_lengths, clause_prose,
            )  # fmt: skip
        cjk = [t in _CJK_CHARS for t in tokens]
        ids = np.array(
            [
                ord(t) if is_cjk else _WORD_BIT | xxhash.xxh64_intdigest(t.encode()) >> 1
                for t, is_cjk in zip(tokens, cjk, strict=True)
            ],
            dtype=np.uint64,
        )
        token_cjk = np.array(cjk, dtype=bool)
        if token_cjk.all() or not token_cjk.any():
            window = self.cjk if token_cjk[0] else self.words
            (hashed,) = _windowed(ids, window)
            windows = np.full(count, window, dtype=np.int32)
        else:
            by_cjk, by_words = _windowed(ids, self.cjk, self.words)
            hashed = np.where(token_cjk, by_cjk, by_words)
            windows = np.where(token_cjk, self.cjk, self.words).astype(np.int32)
        # Only whole windows are shingles (a window cut short by the end of a copy would not
        # be in the work); a text shorter than every window is one shingle of all its tokens.
        whole = np.arange(count) + windows <= count
        if not whole.any():
            whole[0] = True
            windows[0] = count
        token_clauses = np.array(clause_of, dtype=np.int32)
        return Shingled(
            norm,
            _fold32(hashed[whole]),
            windows[whole],
            np.flatnonzero(whole),
            token_clauses[whole],
            token_clauses,
            np.array([len(t) for t in tokens], dtype=np.int32),
            clause_hashes,
            clause_lengths,
            clause_prose,
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
