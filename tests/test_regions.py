"""Free-text regions resolved to China's administrative divisions (vigil.regions)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.regions import Region, area_of, province_name, region_index, resolve_region
from vigil.services.sample.texts import load_data

SAMPLE_CHINA: list[list[Any]] = load_data("texts.yaml")["regions"]["china"]
SAMPLE_ABROAD: list[list[Any]] = load_data("texts.yaml")["regions"]["abroad"]


def codes(text: str | None) -> tuple[str | None, str | None, str | None]:
    region = resolve_region(text)
    return region.province_code, region.city_code, region.county_code


def test_a_county_code_resolves_to_its_whole_chain() -> None:
    assert resolve_region("440304") == Region(
        text="440304",
        province_code="440000",
        city_code="440300",
        county_code="440304",
        province="广东省",
        city="深圳市",
        county="福田区",
        area="urban",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("440000", ("440000", None, None)),
        ("440300", ("440000", "440300", None)),
        ("４４０３０４", ("440000", "440300", "440304")),  # full-width digits
        ("440301", ("440000", "440300", None)),  # 市辖区, a bookkeeping entry: its city
        ("110100", ("110000", "110100", None)),  # Beijing's city-level code
        ("440122", ("440000", "440100", "440117")),  # 从化县, now 从化区
        ("110103", ("110000", "110100", None)),  # 崇文区, merged away: its parent
    ],
)
def test_codes_resolve_by_their_level(
    text: str, expected: tuple[str | None, str | None, str | None]
) -> None:
    assert codes(text) == expected


@pytest.mark.parametrize("text", ["123456", "518000", "4403041", "44030", "000000"])
def test_numbers_that_are_no_division_code_resolve_to_nothing(text: str) -> None:
    assert not resolve_region(text).resolved


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("广东省深圳市", "440300"),
        ("广东深圳", "440300"),
        ("深圳", "440300"),
        ("深圳市", "440300"),
        ("广东 深圳", "440300"),
        ("广东·深圳", "440300"),
        ("广东，深圳", "440300"),
        ("深圳, 广东", "440300"),
        ("广东省汕头市潮南区", "440514"),
        ("广东汕头潮南", "440514"),
        ("潮南区", "440514"),  # unique nationwide
        ("浙江 杭州", "330100"),
        ("广西壮族自治区南宁市", "450100"),
        ("广西南宁", "450100"),
        ("新疆阿克苏", "652900"),
        ("内蒙古赤峰敖汉旗", "150430"),
        ("延边", "222400"),  # 延边朝鲜族自治州, by the leading part of its name
        ("恩施州", "422800"),
        ("青海海南", "632500"),  # 海南藏族自治州 once the province says Qinghai
        ("海南", "460000"),  # else the province
        ("青岛市南区", "370202"),  # 青岛 + 市南区
        ("上海浦东", "310115"),
        ("廣東深圳", "440300"),  # traditional characters
        ("宝安县", "440306"),  # abolished, its successor is obvious
        ("发货地：广东省深圳市福田区华强北", "440304"),
        ("Shop深圳", "440300"),
        ("𠀀深圳", "440300"),  # a rarer Han character does not swallow what follows
    ],
)
def test_chinese_names_with_or_without_suffixes(text: str, code: str) -> None:
    assert resolve_region(text).code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Shenzhen, Guangdong", "440300"),
        ("guangdong shenzhen", "440300"),
        ("Shenzhen, Guangdong, China", "440300"),
        ("GUANGZHOU", "440100"),
        ("Beijing", "110000"),
        ("Xi'an", "610100"),
        ("Shaanxi", "610000"),  # 陕西, the official spelling
        ("Shanxi", "140000"),  # 山西
        ("Jiangsu Suzhou", "320500"),
        ("Lüliang", "141100"),
        ("Hong Kong", "810000"),
        ("Macao", "820000"),
        ("Taiwan", "710000"),
        ("广东 Shenzhen", "440300"),
    ],
)
def test_pinyin_and_english_names(text: str, code: str) -> None:
    assert resolve_region(text).code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("朝阳区", None),  # Beijing's and Changchun's
        ("鼓楼区", None),
        ("江苏鼓楼区", "320000"),  # Nanjing's and Xuzhou's: only the province is sure
        ("北京朝阳区", "110105"),
        ("吉林朝阳区", "220104"),
        ("北京朝阳", "110105"),
        ("Suzhou", None),  # 苏州 and 宿州
        ("Fuzhou", None),  # 福州 and 抚州
        ("广州 北京", None),  # names that contradict each other
    ],
)
def test_ambiguous_names_resolve_only_as_far_as_they_agree(text: str, code: str | None) -> None:
    assert resolve_region(text).code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("吉林", "220000"),  # the province, not 吉林市
        ("西安", "610100"),  # the city, not the 西安区 of Liaoyuan or Mudanjiang
        ("抚顺", "210400"),  # 抚顺市, not the 抚顺县 inside it
    ],
)
def test_a_higher_level_wins_over_the_same_name_lower_down(text: str, code: str) -> None:
    assert resolve_region(text).code == code


@pytest.mark.parametrize(
    ("text", "code", "name"),
    [
        ("香港", "810000", "香港特别行政区"),
        ("香港特别行政区", "810000", "香港特别行政区"),
        ("澳門", "820000", "澳门特别行政区"),
        ("台湾", "710000", "台湾省"),
    ],
)
def test_hong_kong_macao_and_taiwan_are_province_level(text: str, code: str, name: str) -> None:
    region = resolve_region(text)
    assert (region.province_code, region.province, region.city_code) == (code, name, None)


@pytest.mark.parametrize(
    "text",
    [
        "海外",
        "Japan",
        "日本",
        "美国加州",
        "Mainland China",
        "中国",
        "???",
        "吉隆坡",
        "新北市",
        "  ",
    ],
)
def test_abroad_unknown_and_garbage_are_unresolved_and_keep_their_text(text: str) -> None:
    region = resolve_region(text)
    assert region == Region(text=text.strip())
    assert not region.resolved
    assert region.code is None


def test_no_text_is_an_unresolved_region_without_text() -> None:
    assert resolve_region(None) == Region(text=None)
    assert resolve_region("") == Region(text="")
    assert resolve_region("  深圳 \n").text == "深圳"


def test_the_sample_abroad_regions_stay_abroad_except_those_in_china() -> None:
    resolved = {name: resolve_region(name).code for name, _ in SAMPLE_ABROAD}
    assert resolved.pop("Shenzhen, Guangdong, China") == "440300"
    assert resolved.pop("Hong Kong") == "810000"
    assert resolved and set(resolved.values()) == {None}


@pytest.mark.parametrize(("name", "code"), [(name, code) for name, code, _ in SAMPLE_CHINA])
def test_every_sample_region_resolves_to_its_code_and_back_to_its_name(
    name: str, code: str
) -> None:
    by_name, by_code = resolve_region(name), resolve_region(code)
    assert by_name.code == code
    assert by_code == dataclasses.replace(by_name, text=code)
    # a municipality's city carries the municipality's name: 北京市朝阳区, not 北京市北京市朝阳区
    names = dict.fromkeys(n for n in (by_code.province, by_code.city, by_code.county) if n)
    assert "".join(names) == name


def test_the_sample_has_some_rural_regions() -> None:
    weights = {code: weight for _, code, weight in SAMPLE_CHINA}
    rural = sum(w for code, w in weights.items() if area_of(code) == "rural")
    assert 0.10 <= rural / sum(weights.values()) <= 0.15


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("广东省深圳市福田区", "urban"),  # a district
        ("山西省长治市沁县", "rural"),  # a county
        ("内蒙古自治区赤峰市敖汉旗", "rural"),  # a banner
        ("湖北省宜昌市长阳土家族自治县", "rural"),  # an autonomous county
        ("贵州六枝特区", "rural"),  # a special area
        ("浙江省金华市义乌市", "urban"),  # a county-level city
        ("北京市密云区", "urban"),  # a district, however rural (a documented limit)
        ("广东省深圳市", None),  # only the city is known
        ("北京", None),
        ("广东", None),
        ("香港", None),
    ],
)
def test_urban_or_rural(text: str, area: str | None) -> None:
    assert resolve_region(text).area == area


def test_area_of_and_province_name_take_codes() -> None:
    assert area_of("440304") == "urban"
    assert area_of("140430") == "rural"
    assert area_of("440300") is None
    assert area_of("999999") is None
    assert area_of("深圳") is None
    assert province_name("440304") == "广东省"
    assert province_name("810000") == "香港特别行政区"
    assert province_name("990000") is None
    assert province_name("44") is None


def test_resolved_and_code_follow_what_is_known() -> None:
    assert resolve_region("广东").resolved
    assert resolve_region("广东").code == "440000"
    assert resolve_region("广东深圳").code == "440300"
    assert not resolve_region("Japan").resolved


def test_every_current_county_resolves_by_its_full_chain_of_names() -> None:
    index = region_index()
    failures = []
    for division in index.divisions.values():
        region = index.region(division.code, None)
        full = "".join(dict.fromkeys(n for n in (region.province, region.city, region.county) if n))
        if resolve_region(full).code != division.code:
            failures.append((full, division.code, resolve_region(full).code))
    # By design a municipality's name is its province-level code (北京市 is 110000, not its
    # city-level 110100); the data lists 神农架林区 twice (422921, 429021) and keeps a
    # county-level 随州市 (429001) beside the prefecture 随州市 (421300).
    unreachable = {"110100", "120100", "310100", "500100", "500200", "422921", "429021", "429001"}
    assert {code for _, code, _ in failures} == unreachable


def test_long_texts_are_handled_quickly() -> None:
    texts = ["广东深圳" + "x" * 10_000, "深" * 10_000, "shen zhen " * 1_000, "4403041" * 1_500]
    start = time.perf_counter()
    results = [resolve_region(text) for text in texts]
    assert time.perf_counter() - start < 0.5
    assert results[0].code == "440300"
    assert [r.text for r in results] == [text.strip() for text in texts]


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_text_resolves_without_raising(text: str) -> None:
    region = resolve_region(text)
    assert region.text == text.strip()
    if region.resolved:
        assert region.code is not None
        assert resolve_region(region.code).code == region.code


@given(st.lists(st.sampled_from([name for name, _, _ in SAMPLE_CHINA]), min_size=1, max_size=3))
def test_a_region_repeated_or_combined_never_leaves_its_province(names: list[str]) -> None:
    provinces = {resolve_region(name).province_code for name in names}
    combined = resolve_region(" ".join(names))
    if len(provinces) == 1:
        assert combined.province_code in provinces
    else:
        assert combined.province_code is None or combined.province_code in provinces
