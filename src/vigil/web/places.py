"""Place names on English pages: China's divisions by their Hanyu Pinyin spelling, the
romanisation the state uses for place names (广东省 → Guangdong), next to nothing else.

pypinyin gives the syllables; the type suffix (省, 市, 自治区…) is dropped as English usage
does. One official spelling is not plain pinyin: 陕西 is Shaanxi, so that it differs from
山西 (Shanxi).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

SUFFIXES = re.compile(
    r"(特别行政区|壮族自治区|回族自治区|维吾尔自治区|自治区|自治州|地区|省|市|区|县|盟|旗)$"
)
OFFICIAL = {"陕西": "Shaanxi"}


@lru_cache(maxsize=4096)
def latin_name(name: str) -> str:
    """The pinyin name of a Chinese place name; other text comes back as it is."""
    if not name or not re.search(r"[\u4e00-\u9fff]", name):
        return name
    from pypinyin import lazy_pinyin  # loads its dictionaries: only when an English page asks

    core = SUFFIXES.sub("", name) or name
    if core in OFFICIAL:
        return OFFICIAL[core]
    return "".join(lazy_pinyin(core)).capitalize()


def place_namer(lang: str) -> Callable[[str | None], str]:
    def place(name: str | None) -> str:
        if not name:
            return ""
        return name if lang == "zh" else latin_name(name)

    return place
