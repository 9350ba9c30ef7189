"""The text channels and the edit-distance index behind the brand matcher."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vigil.detectors.brand.fuzzy import TypoIndex
from vigil.detectors.brand.normalize import (
    Simplifier,
    Skeleton,
    phonetic_key,
    pinyin,
    span_in_original,
)
from vigil.settings import load_scan_config

_FOLDING = load_scan_config().detectors["brand"]["folding"]
SKELETON = Skeleton(
    separators=_FOLDING["separators"],
    lookalikes=_FOLDING["lookalikes"],
    expansions=_FOLDING["expansions"],
)


def test_look_alike_spellings_share_a_skeleton() -> None:
    spellings = [
        "Xiaomi",
        "XIAOMI",
        "xiaom1",
        "ХІАОМІ",
        "ＸＩＡＯＭＩ",
        "X-i-a-o-m-i",
        "Xia\u200bomi",
    ]
    assert {SKELETON.fold(s) for s in spellings} == {SKELETON.fold("xiaomi")}


def test_the_skeleton_keeps_spaces_between_words() -> None:
    assert SKELETON.fold("to be") != SKELETON.fold("tobe")
    assert SKELETON.fold("Sam   sung") == SKELETON.fold("sam sung")


def test_traditional_characters_are_simplified_in_place() -> None:
    simplifier = Simplifier()
    assert simplifier.simplify("蘋果 華為 手機") == "苹果 华为 手机"
    plain = "already simplified 小米"
    assert simplifier.simplify(plain) is plain


def test_homophones_share_a_phonetic_key() -> None:
    assert phonetic_key("晓米") == phonetic_key("小米") != phonetic_key("华为")
    assert phonetic_key("華為") == phonetic_key("华伪") == phonetic_key("华为")
    assert phonetic_key("小米X") is None
    assert pinyin("苹果") == ["ping", "guo"]


_ALPHABET = st.sampled_from(
    list("abcdeimnorswxyz ABCMIO01|-.·_\u200b") + list("小米华为蘋果ХІАОМ") + ["Ｘ", "Ｉ", "\t"]
)


@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_every_channel_byte_maps_back_to_the_text(text: str) -> None:
    channel, starts = SKELETON.align(text)
    assert channel == SKELETON.fold(text)
    assert len(starts) == len(text) + 1 and starts[-1] == len(channel)
    assert starts == sorted(starts)
    for low in range(len(channel)):
        start, end = span_in_original(starts, low, low + 1)
        assert 0 <= start < end <= len(text)
        assert SKELETON.fold(text[start:end]) != b""


def test_typos_are_found_within_the_distance_the_length_allows() -> None:
    index = TypoIndex(
        {"samsung": 0, "panasonic": 1},
        distance_1_from=6,
        distance_2_from=9,
        ignore=["samsun"],
        exact=["samsung", "panasonic"],
    )

    def look(*words: str) -> dict[str, tuple[int, int]]:
        return {t.word: (t.alias, t.distance) for t in index.find(w.encode() for w in words)}

    assert look("samsnug", "samsong", "panasomik") == {
        "samsnug": (0, 1),
        "samsong": (0, 1),
        "panasomik": (1, 2),
    }
    assert look("samsnig", "samsun", "samsungs", "samsung", "phone") == {}
    # Remembered answers are the same answers.
    assert look("samsnug", "samsnig") == {"samsnug": (0, 1)}
