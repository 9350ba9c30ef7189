"""Place names on English pages are spelled in pinyin; Chinese pages keep the characters."""

from __future__ import annotations

import pytest

from vigil.web.places import latin_name, place_namer


@pytest.mark.parametrize(
    ("name", "latin"),
    [
        ("广东省", "Guangdong"),
        ("陕西省", "Shaanxi"),  # the official spelling, apart from 山西
        ("山西省", "Shanxi"),
        ("广西壮族自治区", "Guangxi"),
        ("重庆市", "Chongqing"),  # 重 read chóng here, not zhòng
        ("London, United Kingdom", "London, United Kingdom"),
        ("", ""),
    ],
)
def test_latin_names(name: str, latin: str) -> None:
    assert latin_name(name) == latin


def test_each_language_gets_its_own_spelling() -> None:
    assert place_namer("en")("河北省") == "Hebei"
    assert place_namer("zh")("河北省") == "河北省"
    assert place_namer("en")(None) == ""
