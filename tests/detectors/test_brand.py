"""The brand detector: registered names, their look-alikes, and the lawful uses that look alike."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts.detector_contract import DetectorContract
from vigil.detectors.base import Findings, Role
from vigil.detectors.brand import BrandDetector, BrandMatcher
from vigil.domain.assessment import Signal
from vigil.domain.listing import Listing
from vigil.domain.registry import Registry
from vigil.settings import ConfigError, ScanConfig, load_scan_config


def make_registry(
    *, brands: list[dict[str, Any]] | None = None, products: list[dict[str, Any]] | None = None
) -> Registry:
    """A small alliance: two brands whose names are everyday words, a few that are not."""
    default_brands: list[dict[str, Any]] = [
        {
            "name": "Xiaomi",
            "aliases": ["小米", "MI"],
            "categories": ["phones"],
            "common_word": True,
        },
        {
            "name": "Apple",
            "aliases": ["苹果"],
            "categories": ["phones", "laptops"],
            "common_word": True,
        },
        {"name": "Huawei", "aliases": ["华为"], "categories": ["phones"]},
        {"name": "Samsung", "aliases": ["三星"], "categories": ["phones"]},
        {"name": "Panasonic", "aliases": ["松下"], "categories": ["electronics"]},
        {"name": "Louis Vuitton", "aliases": ["LV", "路易威登"], "categories": ["bags"]},
    ]
    default_products: list[dict[str, Any]] = [
        {
            "brand": "Xiaomi",
            "model": "Xiaomi 13 Ultra",
            "aliases": ["小米13 Ultra"],
            "category": "phones",
        },
        {"brand": "Apple", "model": "iPhone 15", "category": "phones"},
        {"brand": "Apple", "model": "iPhone 15 Pro Max", "category": "phones"},
        {"brand": "Huawei", "model": "Mate 40 Pro", "category": "phones"},
        {"brand": "Huawei", "model": "P40", "category": "phones"},
    ]
    return Registry.model_validate(
        {
            "brands": default_brands if brands is None else brands,
            "products": default_products if products is None else products,
        }
    )


def make_listing(title: str, description: str | None = None, **fields: Any) -> Listing:
    return Listing(
        platform="taobao", listing_id="1", title=title, description=description, **fields
    )


@pytest.fixture(scope="module")
def matcher() -> BrandMatcher:
    return BrandDetector().compile(make_registry(), load_scan_config())


def run(matcher: BrandMatcher, listing: Listing) -> tuple[list[Signal], Findings]:
    findings = Findings()
    return matcher.match(listing, findings), findings


def one(signals: list[Signal], kind: str) -> Signal:
    found = [s for s in signals if s.kind == kind]
    assert len(found) == 1, signals
    return found[0]


class TestBrandContract(DetectorContract):
    __test__ = True
    detector = BrandDetector()

    def registry(self) -> Registry:
        return make_registry()

    def listings(self) -> list[Listing]:
        return [
            make_listing("Xiaomi 13 Ultra 5G 手机 全新"),
            make_listing("晓米13 Ultra 全网通"),
            make_listing("Case for iPhone 15", "Soft silicone, fits iPhone 15 Pro Max too."),
            make_listing("新鲜苹果 红富士 5斤装"),
            make_listing("Plain cotton T-shirt"),
        ]


# --- real names --------------------------------------------------------------------------------


def test_the_real_name_is_a_small_mention_and_attributes_the_listing(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("华为 旗舰手机 全新正品"))
    mention = one(signals, "brand_mention")
    assert mention.evidence == "华为"
    assert mention.asset == "brand:Huawei"
    assert 0 < mention.weight < 1
    assert (findings.brand, findings.role, findings.variant) == ("Huawei", Role.PRODUCT, None)


def test_a_listing_without_registered_names_gives_nothing(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("Plain cotton T-shirt", "Soft, breathable."))
    assert signals == []
    assert (findings.brand, findings.role) == (None, Role.NONE)


def test_a_model_alone_attributes_its_brand(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("iPhone 15 256GB 国行"))
    product = one(signals, "product_model")
    assert product.evidence == "iPhone 15"
    assert product.weight == 0
    assert (findings.brand, findings.product) == ("Apple", "iPhone 15")


def test_the_longest_model_wins(matcher: BrandMatcher) -> None:
    _, findings = run(matcher, make_listing("iPhone 15 Pro Max 512GB"))
    assert findings.product == "iPhone 15 Pro Max"


@pytest.mark.parametrize("written", ["Mate 40 Pro", "mate40pro", "MATE40 PRO", "Mate40 Pro"])
def test_a_model_is_found_however_it_is_spaced(matcher: BrandMatcher, written: str) -> None:
    signals, findings = run(matcher, make_listing(f"华为 {written} 8+256G"))
    assert findings.product == "Mate 40 Pro"
    assert one(signals, "product_model").evidence == written
    assert not [s for s in signals if s.kind == "brand_variant"]


# --- word boundaries ---------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["Mini speaker from Miami", "Premium MIDI cable", "P400 printer"])
def test_names_inside_other_words_are_not_found(matcher: BrandMatcher, title: str) -> None:
    signals, findings = run(matcher, make_listing(title))
    assert signals == []
    assert findings.brand is None


@pytest.mark.parametrize("title", ["MI 11 手机", "Xiaomi13 手机 国行", "Huawei P40 128G"])
def test_names_next_to_digits_or_chinese_are_found(matcher: BrandMatcher, title: str) -> None:
    _, findings = run(matcher, make_listing(title))
    assert findings.brand in {"Xiaomi", "Huawei"}


def test_a_short_model_is_a_whole_token(matcher: BrandMatcher) -> None:
    _, found = run(matcher, make_listing("Huawei P40 128G"))
    _, not_found = run(matcher, make_listing("Huawei P400 128G"))
    assert found.product == "P40"
    assert not_found.product is None


# --- look-alike names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "evidence", "variant"),
    [
        ("Xiaom1 手机 全新", "Xiaom1", "homoglyph"),  # digit one for i
        ("ХІАОМІ 手机 全新", "ХІАОМІ", "homoglyph"),  # Cyrillic capitals
        ("Sarnsung phone unlocked", "Sarnsung", "homoglyph"),  # rn for m
        ("Ηuаwеі phone unlocked", "Ηuаwеі", "homoglyph"),  # Greek eta, Cyrillic a and e
        ("ＸＩＡＯＭＩ 手机 全新", "ＸＩＡＯＭＩ", "fullwidth"),
        ("X-i-a-o-m-i 手机 全新", "X-i-a-o-m-i", "separators"),
        ("S.A.M.S.U.N.G phone unlocked", "S.A.M.S.U.N.G", "separators"),
        ("Sam sung phone unlocked", "Sam sung", "separators"),
        ("Xia\u200bomi 手机 全新", "Xia\u200bomi", "separators"),  # zero-width space
        ("小 米 手机 全新", "小 米", "separators"),
        ("Samsnug phone unlocked", "Samsnug", "typo"),  # a transposition is one edit
        ("Huaewi phone unlocked", "Huaewi", "typo"),
        ("晓米 手机 全新", "晓米", "homophone"),
        ("华伪 手机 全新", "华伪", "homophone"),
        ("pingguo shouji 5G 国行", "pingguo", "pinyin"),
        ("Vuitton Louis handbag", "Vuitton Louis", "reordered"),
    ],
)
def test_look_alike_names_are_caught_and_named(
    matcher: BrandMatcher, title: str, evidence: str, variant: str
) -> None:
    signals, findings = run(matcher, make_listing(title))
    signal = one(signals, "brand_variant")
    assert signal.evidence == evidence
    assert signal.details["variant"] == variant
    assert findings.variant == variant
    assert signal.weight > 0
    assert evidence in signal.explanation or "⟨U+200B⟩" in signal.explanation


def test_edit_distance_grows_with_the_length_of_the_name(matcher: BrandMatcher) -> None:
    two_edits_long = one(run(matcher, make_listing("Panasomik TV 55寸"))[0], "brand_variant")
    assert (two_edits_long.details["variant"], two_edits_long.details["distance"]) == ("typo", 2)
    two_edits_short, findings = run(matcher, make_listing("Samsnig phone unlocked"))
    assert two_edits_short == []
    assert findings.brand is None


def test_everyday_words_near_a_brand_name_are_not_typos(matcher: BrandMatcher) -> None:
    registry = make_registry(brands=[{"name": "Chanel", "categories": ["bags"]}], products=[])
    chanel = BrandDetector().compile(registry, load_scan_config())
    signals, _ = run(chanel, make_listing("HDMI cable, 4 channel audio"))
    assert signals == []


def test_a_look_alike_next_to_a_model_weighs_more_than_alone(matcher: BrandMatcher) -> None:
    alone = one(run(matcher, make_listing("Huawel"))[0], "brand_variant")
    with_model = one(run(matcher, make_listing("Huawel Mate 40 Pro"))[0], "brand_variant")
    assert with_model.details["corroborated"] is True
    assert alone.details["corroborated"] is False
    assert with_model.weight > alone.weight > 0


def test_a_model_after_a_disguised_brand_is_read(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("晓米13 Ultra 全新未拆封"))
    assert (findings.brand, findings.product, findings.variant) == (
        "Xiaomi",
        "Xiaomi 13 Ultra",
        "homophone",
    )
    assert one(signals, "product_model").evidence == "晓米13 Ultra"
    assert one(signals, "brand_variant").details["corroborated"] is True


def test_a_homoglyph_inside_a_model_name_is_a_variant(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("iPh0ne 15 Pro Max 256G"))
    variant = one(signals, "brand_variant")
    assert (variant.evidence, variant.details["variant"]) == ("iPh0ne 15 Pro Max", "homoglyph")
    assert (findings.brand, findings.product) == ("Apple", "iPhone 15 Pro Max")


def test_the_explanation_names_what_was_written_and_what_it_imitates(
    matcher: BrandMatcher,
) -> None:
    signal = one(run(matcher, make_listing("晓米 手机"))[0], "brand_variant")
    assert signal.explanation == (
        "The title writes 晓米, a homophone of the registered brand 小米 (Xiaomi)."
    )


def test_real_names_win_over_look_alikes_that_overlap_them(matcher: BrandMatcher) -> None:
    # 为华 (华为 reversed) overlaps the real name in 为华为.
    signals, findings = run(matcher, make_listing("专为华为手机设计"))
    assert findings.variant is None
    assert one(signals, "brand_mention").evidence == "华为"


def test_homophones_of_ordinary_words_do_not_attribute(matcher: BrandMatcher) -> None:
    # 化为 ("turn into") sounds like 华为, with nothing around it about phones.
    signals, findings = run(matcher, make_listing("冰块化为水 夏日冷饮杯"))
    assert signals == []
    assert findings.brand is None


# --- traditional Chinese -----------------------------------------------------------------------


def test_traditional_characters_are_read_as_the_simplified_name(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("蘋果 iPhone 15 台灣公司貨"))
    variant = one(signals, "brand_variant")
    assert (variant.evidence, variant.details["variant"]) == ("蘋果", "traditional")
    assert (findings.brand, findings.product) == ("Apple", "iPhone 15")
    # How Taiwan and Hong Kong write weighs less than a disguise in the same listing would.
    disguised = one(run(matcher, make_listing("Αpple iPhone 15 台灣公司貨"))[0], "brand_variant")
    assert disguised.details["variant"] == "homoglyph"
    assert 0 < variant.weight < disguised.weight


def test_a_traditional_brand_name_alone_attributes(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("華為 Mate 40 Pro 港版"))
    assert one(signals, "brand_variant").evidence == "華為"
    assert (findings.brand, findings.product) == ("Huawei", "Mate 40 Pro")


# --- nominative use ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "brand"),
    [
        ("Case for iPhone 15", "Apple"),
        ("Tempered glass compatible with Samsung phones", "Samsung"),
        ("Leather strap, fits all Huawei watches", "Huawei"),
        ("iPhone 15 Pro Max case, matte black", "Apple"),
        ("适用于华为Mate40Pro手机壳", "Huawei"),
        ("华为手机壳 磨砂", "Huawei"),
        ("苹果15手机壳 透明", "Apple"),
        ("小米充电器 67W", "Xiaomi"),
    ],
)
def test_naming_what_an_accessory_fits_is_weighed_down(
    matcher: BrandMatcher, title: str, brand: str
) -> None:
    signals, findings = run(matcher, make_listing(title))
    nominative = one(signals, "nominative_use")
    assert nominative.weight < 0
    assert sum(s.weight for s in signals) < 0
    assert (findings.brand, findings.role) == (brand, Role.ACCESSORY)


def test_the_nominative_evidence_spans_the_cue_and_the_name(matcher: BrandMatcher) -> None:
    nominative = one(run(matcher, make_listing("Case for iPhone 15"))[0], "nominative_use")
    assert nominative.evidence == "for iPhone 15"


def test_a_phone_that_comes_with_a_case_is_still_the_phone(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("iPhone 15 Pro Max 256GB 送手机壳 钢化膜"))
    assert findings.role == Role.PRODUCT
    assert not [s for s in signals if s.kind == "nominative_use"]


def test_an_accessory_category_makes_an_accessory(matcher: BrandMatcher) -> None:
    _, findings = run(matcher, make_listing("Samsung Galaxy 透明软壳", category="手机配件"))
    assert findings.role == Role.ACCESSORY


def test_for_inside_a_word_is_no_cue(matcher: BrandMatcher) -> None:
    _, findings = run(matcher, make_listing("Comfort edition Samsung phone"))
    assert findings.role == Role.PRODUCT


# --- everyday words that are brands ------------------------------------------------------------


def test_apple_the_fruit_is_noted_but_not_weighed(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("新鲜苹果 红富士 脆甜多汁 5斤装"))
    mention = one(signals, "brand_mention")
    assert mention.weight == 0
    assert mention.details["attributed"] is False
    assert (findings.brand, findings.role) == (None, Role.MENTION)


def test_apple_the_phone_maker_is_attributed(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("苹果 iPhone 15 全新国行"))
    assert (findings.brand, findings.role) == ("Apple", Role.PRODUCT)
    assert one(signals, "brand_mention").weight > 0


def test_millet_porridge_is_not_xiaomi(matcher: BrandMatcher) -> None:
    _, findings = run(matcher, make_listing("东北小米粥 黄小米 5斤"))
    assert (findings.brand, findings.role) == (None, Role.MENTION)


def test_a_xiaomi_phone_is_xiaomi(matcher: BrandMatcher) -> None:
    _, findings = run(matcher, make_listing("小米手机 全新 官方正品"))
    assert (findings.brand, findings.role) == ("Xiaomi", Role.PRODUCT)


def test_the_listing_category_gives_an_everyday_word_its_brand(matcher: BrandMatcher) -> None:
    _, without = run(matcher, make_listing("小米 全新 官方正品"))
    _, with_category = run(matcher, make_listing("小米 全新 官方正品", category="Phones"))
    assert without.brand is None
    assert with_category.brand == "Xiaomi"


# --- evidence ----------------------------------------------------------------------------------


def test_evidence_is_the_span_the_seller_wrote(matcher: BrandMatcher) -> None:
    listing = make_listing("正品 ＸＩＡＯＭＩ 手机", "官方 X-i-a-o-m-i 旗舰店 发货")
    signal = one(run(matcher, listing)[0], "brand_variant")
    field = listing.title if signal.details["field"] == "title" else listing.description
    assert field is not None
    start, end = signal.details["start"], signal.details["end"]
    assert isinstance(start, int) and isinstance(end, int)
    assert field[start:end] == signal.evidence
    assert signal.evidence in {"ＸＩＡＯＭＩ", "X-i-a-o-m-i"}


def test_evidence_in_the_description_points_into_the_description(matcher: BrandMatcher) -> None:
    listing = make_listing("全新手机 现货", "品牌：S a m s u n g，国行正品")
    signal = one(run(matcher, listing)[0], "brand_variant")
    start, end = signal.details["start"], signal.details["end"]
    assert signal.details["field"] == "description"
    assert listing.description is not None and isinstance(start, int) and isinstance(end, int)
    assert listing.description[start:end] == signal.evidence == "S a m s u n g"


def test_evidence_survives_text_whose_case_folding_changes_length(matcher: BrandMatcher) -> None:
    # ß case-folds to "ss": positions after it shift in the folded text.
    listing = make_listing("Straße Größe XL Huawei Mate 40 Pro")
    signals, findings = run(matcher, listing)
    assert findings.product == "Mate 40 Pro"
    assert one(signals, "product_model").evidence == "Mate 40 Pro"


# --- configuration -----------------------------------------------------------------------------


def _config_with(brand: dict[str, Any]) -> ScanConfig:
    config = load_scan_config()
    detectors = dict(config.detectors)
    detectors["brand"] = {**detectors["brand"], **brand}
    return config.model_copy(update={"detectors": detectors})


def test_weights_come_from_the_configuration() -> None:
    shipped = load_scan_config().detectors["brand"]
    weights = {**shipped["weights"], "nominative_use": -0.5}
    matcher = BrandDetector().compile(make_registry(), _config_with({"weights": weights}))
    nominative = one(run(matcher, make_listing("Case for iPhone 15"))[0], "nominative_use")
    assert nominative.weight == -0.5


def test_invalid_settings_say_what_to_fix() -> None:
    with pytest.raises(ConfigError, match=r"detectors\.brand"):
        BrandDetector().compile(make_registry(), _config_with({"weights": {"brand_mention": 1}}))


def test_a_product_of_an_unregistered_brand_still_attributes() -> None:
    registry = make_registry(brands=[], products=[{"brand": "Oppo", "model": "Find X7"}])
    matcher = BrandDetector().compile(registry, load_scan_config())
    _, findings = run(matcher, make_listing("Find X7 Ultra 16+512"))
    assert (findings.brand, findings.product) == ("Oppo", "Find X7")


def test_an_empty_registry_compiles_and_finds_nothing() -> None:
    matcher = BrandDetector().compile(Registry(), load_scan_config())
    assert run(matcher, make_listing("Xiaomi 13 Ultra"))[0] == []


def test_a_latin_name_glued_to_chinese_is_a_whole_word(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("小米xiaomi手机 正品"))
    assert findings.brand == "Xiaomi"
    assert findings.variant is None
    assert [s.evidence for s in signals if s.kind == "brand_mention"] == ["小米"]


def test_pinyin_alone_does_not_attribute(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("pingguo", "a poem about orchards"))
    assert [s.weight for s in signals] == [0]
    assert (findings.brand, findings.role) == (None, Role.MENTION)


def test_ordinary_words_are_not_read_as_pinyin() -> None:
    registry = make_registry(brands=[{"name": "Li-Ning", "aliases": ["李宁"]}], products=[])
    matcher = BrandDetector().compile(registry, load_scan_config())
    assert run(matcher, make_listing("Winter jacket with fleece lining"))[0] == []
    assert one(run(matcher, make_listing("李宁 运动鞋"))[0], "brand_mention").evidence == "李宁"


def test_a_registered_name_is_never_another_brands_derived_spelling() -> None:
    registry = make_registry(
        brands=[{"name": "Samsung", "aliases": ["三星"]}, {"name": "Sanxing"}], products=[]
    )
    matcher = BrandDetector().compile(registry, load_scan_config())
    signals, findings = run(matcher, make_listing("Sanxing tea set"))
    assert (findings.brand, findings.variant) == ("Sanxing", None)
    assert one(signals, "brand_mention").asset == "brand:Sanxing"


@pytest.mark.parametrize("written", ["Xiaomí", "Xiaomi\u0301", "𝐗𝐢𝐚𝐨𝐦𝐢", "Ⓧⓘⓐⓞⓜⓘ"])
def test_accents_and_letter_like_symbols_are_look_alikes(
    matcher: BrandMatcher, written: str
) -> None:
    signals, findings = run(matcher, make_listing(f"{written} 手机 全新"))
    assert one(signals, "brand_variant").evidence == written
    assert findings.brand == "Xiaomi"
    assert findings.variant in {"homoglyph", "fullwidth"}


# --- names glued to models, models after names, descriptions -------------------------------


@pytest.mark.parametrize(
    ("title", "brand"),
    [("HUAWEIMate 40 Pro 全新", "Huawei"), ("SamsungGalaxy phone unlocked", "Samsung")],
)
def test_a_name_glued_to_a_capitalized_word_is_found(
    matcher: BrandMatcher, title: str, brand: str
) -> None:
    _, findings = run(matcher, make_listing(title))
    assert findings.brand == brand


def test_a_model_written_after_a_short_brand_name_is_read(matcher: BrandMatcher) -> None:
    signals, findings = run(matcher, make_listing("MI 13 Ultra 16+512G 国行"))
    assert (findings.brand, findings.product) == ("Xiaomi", "Xiaomi 13 Ultra")
    assert one(signals, "product_model").evidence == "MI 13 Ultra"


def test_a_longer_name_of_an_everyday_brand_needs_no_context(matcher: BrandMatcher) -> None:
    registry = make_registry(
        brands=[{"name": "Xiaomi", "aliases": ["小米", "小米科技"], "common_word": True}],
        products=[],
    )
    xiaomi = BrandDetector().compile(registry, load_scan_config())
    assert run(xiaomi, make_listing("小米科技 全新 正品"))[1].brand == "Xiaomi"
    assert run(xiaomi, make_listing("小米 全新 正品"))[1].brand is None


def test_a_descriptive_model_spelling_needs_its_brand_or_an_accessory() -> None:
    registry = make_registry(
        brands=[{"name": "Gucci", "aliases": ["古驰"]}],
        products=[{"brand": "Gucci", "model": "Ace Sneaker", "aliases": ["小白鞋"]}],
    )
    gucci = BrandDetector().compile(registry, load_scan_config())
    assert run(gucci, make_listing("百搭 小白鞋 女款 学生"))[0] == []
    assert run(gucci, make_listing("古驰 小白鞋 女款"))[1].product == "Ace Sneaker"
    _, findings = run(gucci, make_listing("适用于小白鞋 鞋带 替换"))
    assert (findings.brand, findings.role) == ("Gucci", Role.ACCESSORY)


def test_phrases_that_only_hold_a_name_are_not_mentions() -> None:
    registry = make_registry(
        brands=[{"name": "Moutai", "aliases": ["茅台"]}, {"name": "Samsung", "aliases": ["三星"]}],
        products=[],
    )
    matcher = BrandDetector().compile(registry, load_scan_config())
    assert run(matcher, make_listing("茅台镇 酱香型白酒 53度"))[0] == []
    assert run(matcher, make_listing("三星堆 文创 冰箱贴"))[0] == []
    assert run(matcher, make_listing("贵州 茅台 53度 飞天"))[1].brand == "Moutai"


@pytest.mark.parametrize("written", ["华❤为", "小丶米"])
def test_symbols_between_characters_are_separators(matcher: BrandMatcher, written: str) -> None:
    signals, _ = run(matcher, make_listing(f"{written} 手机 全新"))
    variant = one(signals, "brand_variant")
    assert (variant.evidence, variant.details["variant"]) == (written, "separators")


def test_a_misspelt_two_word_name_keeps_its_first_word(matcher: BrandMatcher) -> None:
    signal = one(run(matcher, make_listing("Louis Vuiton handbag"))[0], "brand_variant")
    assert (signal.evidence, signal.details["variant"]) == ("Louis Vuiton", "typo")
    assert run(matcher, make_listing("Lewis Vuitton handbag"))[0] == []


def test_an_accessory_category_of_the_marketplace_counts(matcher: BrandMatcher) -> None:
    _, findings = run(matcher, make_listing("华为 Mate 40 Pro 磨砂", category="手机壳/保护套"))
    assert findings.role == Role.ACCESSORY


def test_pinyin_split_into_syllables_is_pinyin(matcher: BrandMatcher) -> None:
    signal = one(run(matcher, make_listing("ping guo shouji 5G 国行"))[0], "brand_variant")
    assert (signal.evidence, signal.details["variant"]) == ("ping guo", "pinyin")


def test_a_short_name_inside_an_english_word_is_not_a_name() -> None:
    registry = make_registry(brands=[{"name": "Aila", "aliases": ["爱拉"]}], products=[])
    matcher = BrandDetector().compile(registry, load_scan_config())
    assert run(matcher, make_listing("Bulk discounts available, 5G phone"))[0] == []
