"""The seller detector: registered authorized sellers, and shops that only claim to be official."""

from __future__ import annotations

import math
import pickle
from typing import ClassVar

import pytest

from tests.contracts.detector_contract import DetectorContract
from vigil.detectors.base import Findings, Matcher, Role
from vigil.detectors.seller import SellerDetector, SellerMatcher
from vigil.domain.assessment import Signal
from vigil.domain.listing import Listing, Seller
from vigil.domain.registry import Registry
from vigil.settings import ScanConfig, load_scan_config

# --- factories -------------------------------------------------------------------------------


def make_registry() -> Registry:
    return Registry.model_validate(
        {
            "brands": [
                {
                    "name": "Xiaomi",
                    "aliases": ["小米", "MI"],
                    "authorized_sellers": [
                        {"platform": "jd", "seller_id": "小米官方旗舰店"},
                        {"platform": "ebay", "seller_id": "xiaomi_global_store"},
                    ],
                },
                {
                    "name": "Huawei",
                    "aliases": ["华为"],
                    "authorized_sellers": [{"platform": "jd", "seller_id": "华为官方旗舰店"}],
                },
                {"name": "Meizu", "aliases": ["魅族"]},
            ]
        }
    )


def make_listing(seller_id: str, name: str | None = None, platform: str = "jd") -> Listing:
    return Listing(
        platform=platform,
        listing_id="1",
        title="小米6 全网通",
        seller=Seller(id=seller_id, name=name),
    )


def attributed(brand: str | None = "Xiaomi", role: Role = Role.PRODUCT) -> Findings:
    return Findings(brand=brand, product=None, role=role)


@pytest.fixture(scope="module")
def config() -> ScanConfig:
    return load_scan_config()


@pytest.fixture(scope="module")
def matcher(config: ScanConfig) -> SellerMatcher:
    return SellerDetector().compile(make_registry(), config)


def seller_signals(
    matcher: SellerMatcher, seller_id: str, name: str | None = None, platform: str = "jd", **kw: str
) -> list[Signal]:
    brand = kw.get("brand", "Xiaomi")
    return matcher.match(make_listing(seller_id, name, platform), attributed(brand))


def risk(config: ScanConfig, signals: list[Signal], others: float = 0.0) -> float:
    return 1 / (1 + math.exp(-(config.scoring.prior + others + sum(s.weight for s in signals))))


# --- the shared contract ---------------------------------------------------------------------


class TestSellerContract(DetectorContract):
    __test__ = True  # the base class hides itself from pytest; its subclasses run
    detector: ClassVar[SellerDetector] = SellerDetector()

    def registry(self) -> Registry:
        return make_registry()

    def listings(self) -> list[Listing]:
        return [
            make_listing("小米官方旗舰店"),
            make_listing("1000004123", name="小米官方旗舰店"),
            make_listing("佳沪数码官方店"),
            make_listing("小米手机官方旗舰店"),
            make_listing("某某数码"),
        ]

    def prepare(self, matchers: list[Matcher], listing: Listing) -> Findings:
        return attributed()


# --- behaviour -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "seller_id"),
    [("jd", "小米官方旗舰店"), ("JD", "小米 官方旗舰店"), ("ebay", "Xiaomi_Global_Store"),
     ("ebay", "ｘｉａｏｍｉ＿ｇｌｏｂａｌ＿ｓｔｏｒｅ")],
)  # fmt: skip
def test_an_authorized_seller_lowers_the_risk_strongly(
    matcher: SellerMatcher, config: ScanConfig, platform: str, seller_id: str
) -> None:
    [signal] = seller_signals(matcher, seller_id, platform=platform)
    assert (signal.kind, signal.asset, signal.details["matched_on"]) == (
        "authorized_seller",
        "brand:Xiaomi",
        "id",
    )
    # Even with a strong counterfeit signal elsewhere (+4.8), the listing comes out clear.
    assert risk(config, [signal], others=4.8) < config.scoring.thresholds.needs_review
    assert signal.explanation == (
        f'The seller "{seller_id}" is registered as an authorized seller of Xiaomi on {platform}.'
    )


def test_authorized_on_one_platform_is_not_authorized_on_another(matcher: SellerMatcher) -> None:
    [signal] = seller_signals(matcher, "小米官方旗舰店", platform="taobao")
    assert signal.kind == "unverified_official_claim"


def test_an_authorized_seller_of_another_brand_gets_nothing(matcher: SellerMatcher) -> None:
    assert seller_signals(matcher, "华为官方旗舰店") == []
    assert seller_signals(matcher, "华为官方旗舰店", brand="Huawei")[0].weight < 0


def test_a_shop_name_counts_where_the_platform_vouches_for_names(matcher: SellerMatcher) -> None:
    [by_name] = seller_signals(matcher, "1000004123", name="小米官方旗舰店")
    [by_id] = seller_signals(matcher, "小米官方旗舰店")
    assert by_name.kind == "authorized_seller"
    assert by_name.details["matched_on"] == "name"
    assert by_id.weight < by_name.weight < 0  # a name is weaker proof than an id


def test_a_display_name_elsewhere_never_authorizes(matcher: SellerMatcher) -> None:
    # On eBay anyone can call themselves anything: the id is what the brand registered.
    found = seller_signals(matcher, "cheap_deals_88", name="xiaomi_global_store", platform="ebay")
    assert all(s.weight >= 0 for s in found)


def test_a_shop_merely_calling_itself_official_does_not_lower_risk(
    matcher: SellerMatcher, config: ScanConfig
) -> None:
    [generic] = seller_signals(matcher, "佳沪数码官方店")
    assert generic.kind == "unverified_official_claim"
    assert generic.weight > 0
    assert risk(config, [generic]) < config.scoring.thresholds.needs_review
    assert generic.details["claim"] == "官方店"
    assert "not back" in generic.explanation


def test_a_store_type_is_a_claim_only_next_to_the_brands_name(matcher: SellerMatcher) -> None:
    # On JD every reseller runs the 旗舰店 (flagship) or 专营店 of its own name.
    assert seller_signals(matcher, "佳沪数码手机旗舰店") == []
    assert seller_signals(matcher, "易道手机专营店") == []
    [signal] = seller_signals(matcher, "小米旗舰店")
    assert (signal.kind, signal.details["claim"]) == ("unverified_official_claim", "旗舰店")


def test_a_shop_posing_as_the_brands_own_store_weighs_more(matcher: SellerMatcher) -> None:
    [generic] = seller_signals(matcher, "佳沪数码官方店")
    [posing] = seller_signals(matcher, "小米手机官方旗舰店")
    assert posing.weight > generic.weight
    assert posing.details["names_brand"] is True
    assert "authorized sellers on jd" in posing.explanation
    # Meizu registered no sellers: the registry cannot say the shop is not Meizu's.
    [unknown] = seller_signals(matcher, "魅族官方旗舰店", brand="Meizu")
    assert unknown.weight == generic.weight


@pytest.mark.parametrize(
    "name",
    ["Xiaomi Official Store", "小米授权专卖店", "小米官方旗艦店", "MI authorized dealer"],
)
def test_official_claims_in_both_languages(matcher: SellerMatcher, name: str) -> None:
    [signal] = seller_signals(matcher, "12345", name=name, platform="shopee")
    assert signal.kind == "unverified_official_claim"


@pytest.mark.parametrize(
    "name", ["非官方小店", "unofficial fan shop", "数码小铺", "新松联手机旗舰店"]
)
def test_shops_that_claim_nothing_get_nothing(matcher: SellerMatcher, name: str) -> None:
    assert seller_signals(matcher, name) == []


def test_nothing_without_a_brand_or_a_seller(matcher: SellerMatcher) -> None:
    assert matcher.match(make_listing("小米官方旗舰店"), attributed(None, Role.NONE)) == []
    no_seller = Listing(platform="jd", listing_id="2", title="小米6")
    assert matcher.match(no_seller, attributed()) == []
    # A passing mention of the brand is no reason to judge the shop's name.
    mention = matcher.match(make_listing("小米手机官方旗舰店"), attributed(role=Role.MENTION))
    assert mention == []


def test_answers_do_not_leak_between_brands_or_pickles(matcher: SellerMatcher) -> None:
    listing = make_listing("华为官方旗舰店")
    for _ in range(2):  # the second round is answered from the memo
        assert matcher.match(listing, attributed("Xiaomi")) == []
        assert matcher.match(listing, attributed("Huawei"))[0].kind == "authorized_seller"
    clone = pickle.loads(pickle.dumps(matcher))
    assert clone.match(listing, attributed("Huawei")) == matcher.match(
        listing, attributed("Huawei")
    )
