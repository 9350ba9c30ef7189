"""How counterfeit listings spell a brand they dare not name outright.

Look-alike letters (Cyrillic, Greek, digits), full-width forms, separators inside the name,
small misspellings; for Chinese names also homophones, traditional characters and pinyin.
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any

from pypinyin import lazy_pinyin

from vigil.services.sample.catalog import BrandSpec

HOMOGLYPHS: dict[str, tuple[str, ...]] = {
    "a": ("а",),
    "c": ("с",),
    "d": ("ԁ",),
    "e": ("е",),
    "g": ("q",),
    "h": ("һ",),
    "i": ("і", "1", "l"),
    "j": ("ј",),
    "k": ("κ",),
    "l": ("1", "I", "ӏ"),
    "m": ("rn",),
    "o": ("о", "0", "ο"),
    "p": ("р",),
    "s": ("ѕ", "5"),
    "u": ("υ",),
    "v": ("ν",),
    "w": ("vv",),
    "x": ("х",),
    "y": ("у",),
    "A": ("А", "Α"),
    "B": ("В", "Β", "8"),
    "C": ("С", "Ϲ"),
    "E": ("Е", "Ε"),
    "H": ("Н", "Η"),
    "I": ("І", "l", "1"),
    "J": ("Ј",),
    "K": ("К", "Κ"),
    "M": ("М", "Μ"),
    "N": ("Ν",),
    "O": ("О", "0", "Ο"),
    "P": ("Р", "Ρ"),
    "S": ("Ѕ", "5"),
    "T": ("Т", "Τ"),
    "X": ("Х", "Χ"),
    "Y": ("Υ", "У"),
    "Z": ("Ζ", "2"),
}
_SEPARATORS = ("-", ".", " ", "_", "*", "·")
_SEPARATORS_ZH = (" ", "-", "·", "丶", "/", "❤", "_", "  ")
_VOWELS = "aeiou"

# Kinds of variant for titles in Latin script, and those that need a Chinese name.
LATIN_KINDS = ("homoglyph", "fullwidth", "separator", "misspelling")
CHINESE_KINDS = ("homophone", "traditional", "separator_zh", "pinyin")


@cache
def _to_traditional() -> Any:
    import opencc  # loaded once, on first use: building the converter takes a moment

    return opencc.OpenCC("s2tw")


def brand_variants(brand: BrandSpec, rng: random.Random) -> dict[str, tuple[str, ...]]:
    """Variants of the brand's names by kind; a kind the brand lacks material for is absent."""
    registered = {name.lower() for name in brand.names}
    bases = [n for n in (brand.name, *brand.aliases) if _is_latin(n) and _letters(n) >= 3]
    found: dict[str, list[str]] = {}
    for base in bases[:3]:
        found.setdefault("homoglyph", []).extend(_homoglyph(base, rng) for _ in range(3))
        found.setdefault("separator", []).extend(_separated(base, rng) for _ in range(2))
    if bases:
        found["fullwidth"] = [_fullwidth(bases[0]), _fullwidth(bases[0].upper())]
        found["misspelling"] = [
            *brand.misspellings,
            *(_misspelled(bases[0], rng) for _ in range(3)),
        ]
    if brand.zh:
        zh = brand.zh
        found["homophone"] = list(brand.homophones)
        found["traditional"] = [str(_to_traditional().convert(zh))]
        found["separator_zh"] = [
            sep.join(zh) for sep in rng.sample(_SEPARATORS_ZH, 3) if len(zh) > 1
        ]
        syllables = lazy_pinyin(zh)
        found["pinyin"] = [
            "".join(syllables),
            "".join(s.capitalize() for s in syllables),
            "".join(syllables).upper(),
        ]
    # A "variant" that still spells a registered name ("Nikee" holds "Nike") hides nothing.
    spelled = [name for name in registered if len(name) >= 3]
    variants: dict[str, tuple[str, ...]] = {}
    for kind, values in found.items():
        kept = [
            v
            for v in dict.fromkeys(values)
            if v and not any(name in v.lower() for name in spelled) and v.lower() not in registered
        ]
        if kept:
            variants[kind] = tuple(kept)
    return variants


def _is_latin(name: str) -> bool:
    return all(ord(c) < 0x250 for c in name)


def _letters(name: str) -> int:
    return sum(c.isalpha() for c in name)


def _homoglyph(name: str, rng: random.Random) -> str:
    positions = [i for i, c in enumerate(name) if c in HOMOGLYPHS]
    if not positions:
        return ""
    chosen = rng.sample(positions, 2 if len(positions) > 3 and rng.random() < 0.25 else 1)
    chars = list(name)
    for i in chosen:
        chars[i] = rng.choice(HOMOGLYPHS[name[i]])
    return "".join(chars)


def _fullwidth(name: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)


def _separated(name: str, rng: random.Random) -> str:
    separator = rng.choice(_SEPARATORS)
    if " " not in name and len(name) <= 6:
        return separator.join(name)
    inside = [i for i in range(1, len(name)) if name[i - 1].isalpha() and name[i].isalpha()]
    if not inside:
        return ""
    at = rng.choice(inside)
    return name[:at] + separator + name[at:]


def _misspelled(name: str, rng: random.Random) -> str:
    """One small edit inside the name: a letter dropped, doubled, swapped or a vowel changed."""
    inside = [i for i in range(1, len(name) - 1) if name[i].isalpha()]
    if len(inside) < 2:
        return ""
    i = rng.choice(inside)
    edit = rng.randrange(4)
    if edit == 0:
        return name[:i] + name[i + 1 :]
    if edit == 1:
        return name[:i] + name[i] + name[i:]
    if edit == 2 and name[i + 1].isalpha() and name[i] != name[i + 1]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if name[i].lower() in _VOWELS:
        other = rng.choice([v for v in _VOWELS if v != name[i].lower()])
        return name[:i] + (other.upper() if name[i].isupper() else other) + name[i + 1 :]
    return name[:i] + name[i + 1 :]
