"""The text channels the brand matcher searches, and the tables behind them.

A listing is searched in a few channels, each a normalized copy of its text:

- plain: simplified Chinese (OpenCC t2s, only when the text has traditional characters), case
  folded. It keeps the length of the text, so a match in it is a span of the original.
- skeleton (bytes): NFKC and case folded, confusable characters replaced by their Unicode TR39
  skeleton, look-alikes that survive the skeleton (1 l I i, 0 O, rn m) folded together,
  separators and invisible characters deleted, runs of spaces made one. "Xiaom1",
  "X-i-a-o-m-i", "ＸＩＡＯＭＩ", "ХІАОМІ" and "Xiaomi" read the same here; names split by a
  space ("Sam sung", "小 米") are looked for as spellings of their own.
- phonetic: every Han character replaced by one character standing for its toneless pinyin
  syllable, every other character by a filler, so 晓米, 小米 and 小蜜 read the same; one
  character per character.

The tables are computed once per process (a few tenths of a second) and shared by all matchers.
Per listing, the channels are built with C-speed string operations only (`str.casefold`, ICU
normalization, `bytes.translate`, `str.translate` with a list); characters are looped over in
Python only to map a match in the skeleton channel back to the original text, which happens on
the few listings where a look-alike may have been written.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from functools import cache
from itertools import accumulate

import icu
import opencc
from pypinyin import Style, lazy_pinyin

_NFKC_CASEFOLD = icu.Normalizer2.getNFKCCasefoldInstance()

# Characters that are neither seen nor typed but slip between letters. NFKC_Casefold drops most
# of them already; these are removed whatever the normalizer version does.
INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"

# Spaces that separate words; a line break (between title and description) is not one of them.
_SOFT_SPACES = " \t\r\x0b\x0c"
_SPACE_RUNS = re.compile(rb" {2,}")
_HAN_BMP = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
# The phonetic channel gives every character below this code point a syllable or a filler.
_PHONETIC_SPAN = 0x10000
_FILLER = " "
# Syllables are written as characters from U+0100 on (two bytes in UTF-8, which keeps the
# channel short for the automaton); every other character of the text becomes the filler, so
# the text's own characters there cannot be mistaken for syllables.
_SYLLABLE_BASE = 0x100


def is_han(char: str) -> bool:
    """A Chinese character (unified ideographs, extension A and B+, compatibility forms)."""
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
    )


def char_class(char: str) -> int:
    """1 for a letter, 2 for a digit of an alphabetic script (full-width forms included), else
    0. A Latin name must not touch a character of the class of its own first or last one."""
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII
        char = chr(code - 0xFEE0)
    elif code >= 0x2E80:  # CJK and beyond: no word boundaries there
        return 0
    if char.isdigit():
        return 2
    return 1 if char.isalpha() else 0


def at_word_boundaries(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` is not glued to letters (digits) on a side where it begins
    (ends) with a letter (digit): "MI" is not in "mini", "P40" is not in "P400". A change of
    case is a boundary too, as sellers glue names to models: "NIKEairmax", "PRADAGalleria",
    "MonclerCyclone" (but "Miami" and "MIAMI" hold no "MI")."""
    if start > 0:
        first = char_class(text[start])
        glued = first and char_class(text[start - 1]) == first
        if glued and (
            first != 1 or not (_case_break(text, start) or _capitals_before(text, start, end))
        ):
            return False
    if end < len(text):
        last = char_class(text[end - 1])
        glued = last and char_class(text[end]) == last
        if glued and (last != 1 or not (_case_break(text, end) or _capitals_end(text, start, end))):
            return False
    return True


def _unwide(char: str) -> str:
    code = ord(char)
    return chr(code - 0xFEE0) if 0xFF01 <= code <= 0xFF5E else char


def _case_break(text: str, at: int) -> bool:
    """A lower-case letter before an upper-case one: "newBalance", "MonclerCyclone"."""
    return _unwide(text[at - 1]).islower() and _unwide(text[at]).isupper()


def _capitals_before(text: str, start: int, end: int) -> bool:
    """A capitalized name right after a word in capitals: "COACHTabby"."""
    return (
        end - start >= 2
        and _unwide(text[start - 1]).isupper()
        and _unwide(text[start]).isupper()
        and _unwide(text[start + 1]).islower()
    )


def _capitals_end(text: str, start: int, end: int) -> bool:
    """A name in capitals ending where a word in lower case ("NIKEairmax") or a capitalized
    word ("PRADAGalleria") begins."""
    name = text[start:end]
    if len(name) < 2 or not all(_unwide(c).isupper() for c in name if c.isalpha()):
        return False
    after = _unwide(text[end])
    if after.islower():
        return True
    return after.isupper() and end + 1 < len(text) and _unwide(text[end + 1]).islower()


def char_starts(lengths: Iterable[int]) -> list[int]:
    """Where each character's piece begins in a channel built piece by piece (plus the end)."""
    return list(accumulate(lengths, initial=0))


def span_in_original(starts: list[int], start: int, end: int) -> tuple[int, int]:
    """The characters of the original text that produced channel span `[start, end)`."""
    return bisect_right(starts, start) - 1, bisect_left(starts, end)


# --- Traditional to simplified Chinese ---------------------------------------------------------


@cache
def _traditional_chars() -> dict[int, str]:
    """Every BMP Han character OpenCC t2s changes, with its simplified form (one to one)."""
    converter = opencc.OpenCC("t2s")
    chars = [chr(code) for low, high in _HAN_BMP for code in range(low, high + 1)]
    converted = converter.convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # never seen; then convert one by one
        converted = [converter.convert(char) for char in chars]
    return {ord(a): b for a, b in zip(chars, converted, strict=True) if a != b and len(b) == 1}


class Simplifier:
    """Traditional to simplified Chinese, keeping the text's length."""

    def __init__(self) -> None:
        self._table = _traditional_chars()
        self._traditional = re.compile(_char_class(chr(code) for code in self._table))
        self._converter = opencc.OpenCC("t2s")  # reads its dictionaries now, not while matching

    def simplify(self, text: str) -> str:
        """`text` in simplified characters; itself when it has no traditional character."""
        if text.isascii() or self._traditional.search(text) is None:
            return text
        simplified: str = self._converter.convert(text)
        if len(simplified) != len(text):
            # OpenCC converted a phrase into one of another length; fall back to characters
            # so that positions still point into the original text.
            simplified = text.translate(self._table)
        return simplified


# --- The skeleton channel ----------------------------------------------------------------------


@cache
def _tr39_skeletons() -> dict[str, str]:
    """Non-ASCII, non-Han characters whose TR39 skeleton says more than NFKC_Casefold does,
    each with that skeleton (case folded, combining marks stripped). The skeleton is taken of
    the character as written: capital eta Η looks like H, its lower case η like n."""
    # The BMP only: NFKC already folds the mathematical and enclosed letters beyond it, and a
    # character class of BMP characters compiles to a bitmap, which searches much faster.
    checker = icu.SpoofChecker()
    found: dict[str, str] = {}
    for code in range(0x80, 0x10000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF or is_han(char):
            continue
        skeleton = unicodedata.normalize("NFD", checker.getSkeleton(0, char))
        bare = "".join(c for c in skeleton if unicodedata.category(c) != "Mn")
        folded = _NFKC_CASEFOLD.normalize(bare)
        if folded != _NFKC_CASEFOLD.normalize(char):
            found[char] = folded
    return found


def _char_class(chars: Iterable[str]) -> str:
    """A regular-expression character class of `chars`, as ranges."""
    codes = sorted({ord(c) for c in chars})
    parts: list[str] = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        low, high = re.escape(chr(codes[i])), re.escape(chr(codes[j]))
        parts.append(low if i == j else f"{low}-{high}")
        i = j + 1
    return "[" + "".join(parts) + "]" if parts else "[^\\s\\S]"


class Skeleton:
    """Folds text into the skeleton channel (bytes, UTF-8).

    Separators are deleted, but spaces are kept (one for a run): "S.A.M.S.U.N.G" closes up
    into "samsung", while "Sam sung" and "小 米" are looked for as spellings of their own, so
    that two ordinary words are not read as one name ("to be" is not "Tobe").
    """

    def __init__(
        self, *, separators: str, lookalikes: Mapping[str, str], expansions: Mapping[str, str]
    ) -> None:
        ascii_separators = "".join(c for c in separators if c.isascii() and not c.isspace())
        other_separators = {
            c for c in separators + INVISIBLE if not c.isascii() and not c.isspace()
        }
        table = bytearray(range(256))
        for space in _SOFT_SPACES:
            table[ord(space)] = ord(" ")
        for source, target in lookalikes.items():
            if len(target) == 1:
                table[ord(source)] = ord(target)
        self._ascii = bytes(table)
        self._delete = ascii_separators.encode("ascii")
        # Longer look-alike targets go with the expansions: both grow one character into more.
        self._expansions = [
            (k.encode("ascii"), v.encode("ascii")) for k, v in lookalikes.items() if len(v) > 1
        ] + [(k.encode("ascii"), v.encode("ascii")) for k, v in expansions.items()]
        # How many bytes each ASCII character becomes: maps ASCII text without a loop.
        self._lengths = bytes(len(self._finish(bytes([b]))) for b in range(256))
        # Only confusables that can make or break a name are kept (those that fold into
        # letters, digits, Han characters or nothing): fewer characters trigger the table.
        self._table: dict[int, str] = {}
        for char, folded in _tr39_skeletons().items():
            if char in other_separators:
                continue
            result = self._finish(folded.encode("utf-8")).decode("utf-8")
            if not all((c.isascii() and c.isalnum()) or is_han(c) for c in result):
                continue
            if not result and unicodedata.category(char)[0] in "PSZ":
                continue  # punctuation that reads as nothing ("“" is '') stays punctuation
            self._table[ord(char)] = folded
        for char in other_separators:
            self._table[ord(char)] = ""
        # Symbols slipped between letters (耐❤克, Nike®) are separators too; not those that
        # are letters in a circle or a square (Ⓧ, ㎏).
        for code in range(0x80, 0x10000):
            char = chr(code)
            if unicodedata.category(char) == "So" and not any(
                c.isalnum() for c in _NFKC_CASEFOLD.normalize(char)
            ):
                self._table.setdefault(code, "")
        self._runs = re.compile(_char_class(chr(code) for code in self._table) + "+")
        self._pieces: dict[str, bytes] = {}

    def _finish(self, data: bytes) -> bytes:
        data = data.translate(self._ascii, self._delete)
        for old, new in self._expansions:
            data = data.replace(old, new)
        return data

    def _replace_run(self, run: re.Match[str]) -> str:
        # Only runs of characters in the table get here: translate never misses a key (a
        # missing key costs an exception inside str.translate).
        return run.group().translate(self._table)

    def fold(self, text: str) -> bytes:
        """The skeleton channel of `text`."""
        if text.isascii():
            data = self._finish(text.lower().encode("ascii"))
        else:
            if self._runs.search(text) is not None:
                text = self._runs.sub(self._replace_run, text)
            folded: str = _NFKC_CASEFOLD.normalize(text)
            data = self._finish(folded.encode("utf-8"))
        return _SPACE_RUNS.sub(b" ", data) if b"  " in data else data

    def align(self, text: str) -> tuple[bytes, list[int]]:
        """The channel of `text` built character by character, and where each character's
        bytes begin in it (plus its end), to map a match back to the text. The channel is
        `fold(text)` but for rare normalizations across characters (then positions follow
        this one)."""
        if text.isascii():
            channel = self.fold(text)
            lengths = text.lower().encode("ascii").translate(self._lengths)
            if sum(lengths) == len(channel):  # no run of spaces was closed up
                return channel, char_starts(lengths)
        pieces = self._piece_list(text)
        if b"  " in b"".join(pieces):
            after_space = False
            for i, piece in enumerate(pieces):
                if piece == b" " and after_space:
                    pieces[i] = b""
                elif piece:
                    after_space = piece.endswith(b" ")
        return b"".join(pieces), char_starts(map(len, pieces))

    def _piece_list(self, text: str) -> list[bytes]:
        memo = self._pieces
        try:
            return [memo[c] for c in text]
        except KeyError:
            for char in set(text).difference(memo):
                memo[char] = self.fold(char)
            return [memo[c] for c in text]

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_pieces": {}}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)


def compact(text: str, separators: str) -> str:
    """`text` without separators, invisible characters and symbols (❤, ®)."""
    closed = text.translate(_deletion_table(separators + INVISIBLE))
    if closed.isascii():
        return closed
    return "".join(c for c in closed if unicodedata.category(c) != "So")


@cache
def _deletion_table(chars: str) -> dict[int, None]:
    return dict.fromkeys(map(ord, chars))


def nfkc_casefold(text: str) -> str:
    folded: str = _NFKC_CASEFOLD.normalize(text)
    return folded


# --- The phonetic channel ----------------------------------------------------------------------


@cache
def phonetic_table() -> list[str]:
    """For every BMP character, its syllable character if it is a Han character with a pinyin
    reading (toneless, the most common reading), else a filler. `str.translate` with a list is
    the fastest per-character mapping CPython offers for non-ASCII text."""
    chars = [chr(code) for low, high in _HAN_BMP for code in range(low, high + 1)]
    readings = lazy_pinyin(chars, style=Style.NORMAL)
    if len(readings) != len(chars):  # defensive: pypinyin gives one reading per item
        readings = [lazy_pinyin(char, style=Style.NORMAL)[0] for char in chars]
    syllables = sorted({r for r in readings if r.isascii() and r.isalpha()})
    code_of = {s: chr(_SYLLABLE_BASE + i) for i, s in enumerate(syllables)}
    table = [_FILLER] * _PHONETIC_SPAN
    for char, reading in zip(chars, readings, strict=True):
        if reading in code_of:
            table[ord(char)] = code_of[reading]
    return table


def phonetic_key(han: str) -> str | None:
    """The phonetic channel of a Han name, or None when a character has no reading."""
    key = han.translate(phonetic_table())
    return None if _FILLER in key or len(key) != len(han) else key


def pinyin(han: str) -> list[str]:
    """The toneless pinyin syllables of a Han name (苹果 → ping, guo), read as a phrase."""
    syllables: list[str] = lazy_pinyin(han, style=Style.NORMAL)
    return syllables
