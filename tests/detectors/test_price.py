"""The price detector: MSRP bands by condition, currencies, and the scan's market median."""

from __future__ import annotations

import math
import pickle
import random
from typing import Any, ClassVar

import pytest

from tests.contracts.detector_contract import DetectorContract
from vigil.detectors.base import Findings, ListingFacts, Matcher, Role
from vigil.detectors.price import PriceDetector, PriceMatcher, PriceObservation, PriceStats
from vigil.domain.assessment import Signal
from vigil.domain.listing import Condition, Listing
from vigil.domain.registry import Registry
from vigil.settings import ScanConfig, load_scan_config

MI6 = ("Xiaomi", "Xiaomi 6")  # MSRP ¥2,499
NOTE = ("Xiaomi", "Redmi Note 4")  # no MSRP registered
IPHONE = ("Apple", "iPhone 15")  # MSRP US$799

# --- factories -------------------------------------------------------------------------------


def make_registry() -> Registry:
    return Registry.model_validate(
        {
            "brands": [{"name": "Xiaomi", "aliases": ["小米"]}, {"name": "Apple"}],
            "products": [
                {"brand": "Xiaomi", "model": "Xiaomi 6", "msrp": {"amount": 2499}},
                {"brand": "Xiaomi", "model": "Redmi Note 4"},
                {
                    "brand": "Apple",
                    "model": "iPhone 15",
                    "msrp": {"amount": 799, "currency": "USD"},
                },
            ],
        }
    )


def make_listing(price: float | None, title: str = "小米6 全网通 64GB", **fields: Any) -> Listing:
    fields.setdefault("listing_id", "1")
    return Listing(platform="jd", title=title, price=price, **fields)


def findings_for(product: tuple[str, str] = MI6, role: Role = Role.PRODUCT) -> Findings:
    return Findings(brand=product[0], product=product[1], role=role)


def facts_for(
    price: float, product: tuple[str, str] = NOTE, condition: str = "unknown", currency: str = "CNY"
) -> ListingFacts:
    return ListingFacts("jd", "x", product[0], product[1], "product", condition, price, currency)


@pytest.fixture(scope="module")
def config() -> ScanConfig:
    return load_scan_config()


@pytest.fixture(scope="module")
def matcher(config: ScanConfig) -> PriceMatcher:
    return PriceDetector().compile(make_registry(), config)


def priced(matcher: PriceMatcher, listing: Listing, findings: Findings | None = None) -> Signal:
    [signal] = matcher.match(listing, findings or findings_for())
    return signal


def risk(config: ScanConfig, weight: float) -> float:
    return 1 / (1 + math.exp(-(config.scoring.prior + weight)))


def stats_of(matcher: PriceMatcher, prices: list[float], product: tuple[str, str] = NOTE) -> Any:
    stats = matcher.new_stats()
    for i, price in enumerate(prices):
        listing = make_listing(price, title="红米Note4", listing_id=f"m{i}")
        stats.add(matcher.observe(listing, findings_for(product)))
    return stats


# --- the shared contract ---------------------------------------------------------------------


class TestPriceContract(DetectorContract):
    __test__ = True  # the base class hides itself from pytest; its subclasses run
    detector: ClassVar[PriceDetector] = PriceDetector()

    def registry(self) -> Registry:
        return make_registry()

    def listings(self) -> list[Listing]:
        return [
            make_listing(625),
            make_listing(2299),
            make_listing(300, title="小米6 二手 95新", listing_id="2"),
            make_listing(None, listing_id="3"),
        ]

    def prepare(self, matchers: list[Matcher], listing: Listing) -> Findings:
        return findings_for()


# --- price against MSRP ----------------------------------------------------------------------


def test_a_new_phone_at_a_quarter_of_its_msrp_is_counterfeit_suspected(
    matcher: PriceMatcher, config: ScanConfig
) -> None:
    signal = priced(matcher, make_listing(625, condition="new"))
    assert signal.kind == "price_below_msrp"
    assert risk(config, signal.weight) >= config.scoring.thresholds.counterfeit_suspected
    assert signal.evidence == "¥625 vs MSRP ¥2,499 (25%)"
    assert signal.explanation == (
        "New Xiaomi 6 offered at 25% of its MSRP (¥2,499); genuine new units rarely sell below 70%."
    )


def test_half_price_asks_for_review_and_a_usual_discount_gives_nothing(
    matcher: PriceMatcher, config: ScanConfig
) -> None:
    thresholds = config.scoring.thresholds
    half = priced(matcher, make_listing(1150, condition="new"))
    assert thresholds.needs_review <= risk(config, half.weight) < thresholds.counterfeit_suspected
    deep = priced(matcher, make_listing(1600, condition="new"))
    assert risk(config, deep.weight) < thresholds.needs_review
    for price in (2049, 2249, 2499, 2999):  # 82% to 120% of MSRP
        assert matcher.match(make_listing(price, condition="new"), findings_for()) == []


@pytest.mark.parametrize(
    ("declared", "title", "effective"),
    [
        ("unknown", "小米6 全网通", Condition.UNKNOWN),
        ("unknown", "小米6 全新未拆封", Condition.NEW),
        ("unknown", "小米6 二手 95新", Condition.USED),
        ("unknown", "Xiaomi 6 pre-owned", Condition.USED),
        ("unknown", "小米6 官翻机", Condition.REFURBISHED),
        ("unknown", "Xiaomi 6 open box", Condition.REFURBISHED),
        ("unknown", "小米6 配件机 不开机", Condition.PARTS),
        ("unknown", "Xiaomi 6 for parts, not working", Condition.PARTS),
        ("new", "小米6 9成新", Condition.USED),  # the text is more specific than the feed
        ("used", "小米6 全新", Condition.USED),  # the most lenient condition wins
        ("unknown", "小米6 非二手 全新", Condition.NEW),  # a denied condition is not told
        ("unknown", "小米6 未拆机 全新", Condition.NEW),
        ("unknown", "小米6 全新机 二手价", Condition.NEW),  # a pitch, not a condition
    ],
)
def test_condition_comes_from_the_feed_and_the_title(
    matcher: PriceMatcher, declared: str, title: str, effective: Condition
) -> None:
    findings = findings_for()
    matcher.match(make_listing(2000, title=title, condition=declared), findings)
    assert findings.condition is effective


def test_what_counts_as_far_below_depends_on_the_condition(
    matcher: PriceMatcher, config: ScanConfig
) -> None:
    def weight(title: str, price: float, condition: str = "unknown") -> float:
        found = matcher.match(make_listing(price, title=title, condition=condition), findings_for())
        return sum(s.weight for s in found)

    new = weight("小米6", 625, "new")
    assert weight("小米6 二手 99新", 625) == 0  # a used phone at 25% is normal
    assert risk(config, weight("小米6 官翻", 625)) < config.scoring.thresholds.needs_review
    assert 0 < weight("小米6", 400, "used") < new  # 16%: low even used, but only a hint
    assert weight("小米6 零件机", 60) == 0  # parts: never
    assert weight("小米6", 60, "parts") == 0
    used = priced(matcher, make_listing(200, condition="used"))
    assert used.explanation.startswith("Used Xiaomi 6 offered at 8% of its MSRP")
    assert risk(config, used.weight) < config.scoring.thresholds.counterfeit_suspected


def test_a_usd_price_is_converted_to_the_base_currency(
    matcher: PriceMatcher, config: ScanConfig
) -> None:
    rate = config.currency.rates["USD"]
    signal = priced(matcher, make_listing(80, currency="USD", condition="new"))
    assert signal.details["price_base"] == pytest.approx(80 * rate)
    assert signal.details["ratio"] == pytest.approx(80 * rate / 2499, abs=1e-4)
    assert signal.evidence.startswith("US$80 (≈¥")


def test_an_msrp_in_another_currency_is_converted_too(matcher: PriceMatcher) -> None:
    signal = priced(matcher, make_listing(1400, title="iPhone 15"), findings_for(IPHONE))
    assert "MSRP US$799 (≈¥" in signal.evidence
    assert matcher.match(make_listing(5400, title="iPhone 15"), findings_for(IPHONE)) == []


def test_a_currency_without_a_rate_is_skipped_quietly(matcher: PriceMatcher) -> None:
    assert matcher.match(make_listing(1, currency="XAF"), findings_for()) == []


@pytest.mark.parametrize("role", [Role.ACCESSORY, Role.MENTION, Role.NONE])
def test_only_the_product_itself_is_priced(matcher: PriceMatcher, role: Role) -> None:
    case = make_listing(19, title="小米6 手机壳 适用于小米6")
    assert matcher.match(case, findings_for(role=role)) == []
    assert matcher.observe(case, findings_for(role=role)) is None


def test_no_msrp_no_price_or_a_placeholder_price_give_nothing(matcher: PriceMatcher) -> None:
    assert matcher.match(make_listing(300, title="红米Note4"), findings_for(NOTE)) == []
    assert matcher.match(make_listing(None), findings_for()) == []
    assert matcher.match(make_listing(1), findings_for()) == []  # ¥1 "ask the seller"
    assert matcher.match(make_listing(625), Findings(brand="Xiaomi", role=Role.PRODUCT)) == []


# --- price against the scan's median ---------------------------------------------------------


def test_the_market_median_flags_a_price_far_below_it(matcher: PriceMatcher) -> None:
    rng = random.Random(7)
    stats = stats_of(matcher, [rng.uniform(1000, 1200) for _ in range(5000)])
    [signal] = matcher.match_scan(facts_for(400), stats)
    assert signal.kind == "price_below_market"
    assert signal.details["observed"] == 5000
    assert signal.details["sampled"] == 256  # bounded, however many listings the scan has
    assert 1050 < float(signal.details["median_base"] or 0) < 1150
    assert signal.explanation.startswith("Redmi Note 4 offered at 3")
    assert "% of the median price (¥1," in signal.explanation
    assert matcher.match_scan(facts_for(1000), stats) == []


def test_the_sample_is_the_same_whatever_the_order_or_partition(matcher: PriceMatcher) -> None:
    rng = random.Random(3)
    observations = [
        PriceObservation(NOTE, rng.uniform(500, 1500), rng.getrandbits(64)) for _ in range(3000)
    ]
    forward = matcher.new_stats()
    for observation in observations:
        forward.add(observation)
    left, right = matcher.new_stats(), matcher.new_stats()
    shuffled = observations[::-1]
    for i, observation in enumerate(shuffled):
        (left if i % 3 else right).add(observation)
    left.merge(right)
    assert isinstance(forward, PriceStats)
    assert forward.median(NOTE) == left.median(NOTE)
    assert forward.observed(NOTE) == left.observed(NOTE) == 3000


def test_the_median_needs_enough_listings(matcher: PriceMatcher, config: ScanConfig) -> None:
    needed = config.detectors["price"]["market"]["min_observations"]
    assert matcher.match_scan(facts_for(100), stats_of(matcher, [1000.0] * (needed - 1))) == []
    assert matcher.match_scan(facts_for(100), stats_of(matcher, [1000.0] * needed)) != []


def test_the_same_listing_observed_twice_counts_once_in_the_sample(matcher: PriceMatcher) -> None:
    stats = matcher.new_stats()
    twice = make_listing(1000, title="红米Note4")
    for _ in range(2):
        stats.add(matcher.observe(twice, findings_for(NOTE)))
    assert isinstance(stats, PriceStats)
    assert stats.sampled(NOTE) == 1


def test_used_listings_stay_out_of_the_median(matcher: PriceMatcher) -> None:
    used = make_listing(300, title="红米Note4 二手")
    assert matcher.observe(used, findings_for(NOTE)) is None
    stats = stats_of(matcher, [1000.0] * 10)
    assert matcher.match_scan(facts_for(300, condition="used"), stats) == []


def test_the_market_signal_adds_only_what_the_msrp_signal_does_not_say(
    matcher: PriceMatcher,
) -> None:
    stats = stats_of(matcher, [2300.0] * 10, product=MI6)
    # ¥600 is 24% of MSRP (strong) and 26% of the median: the MSRP signal says it all.
    assert matcher.match_scan(facts_for(600, product=MI6), stats) == []
    # ¥2,000 is 80% of MSRP (nothing) but half the median: the market tells something new.
    dear_market = stats_of(matcher, [4000.0] * 10, product=MI6)
    [signal] = matcher.match_scan(facts_for(2000, product=MI6), dear_market)
    assert signal.weight == signal.details["market_band_weight"]


def test_a_median_far_from_the_msrp_is_not_trusted(matcher: PriceMatcher) -> None:
    # A median at 2.4 times the MSRP says more about the data (or the MSRP) than the market.
    strange_market = stats_of(matcher, [6000.0] * 10, product=MI6)
    assert matcher.match_scan(facts_for(2000, product=MI6), strange_market) == []


def test_observations_and_stats_are_picklable(matcher: PriceMatcher) -> None:
    observation = matcher.observe(make_listing(2000), findings_for())
    assert observation is not None
    stats = stats_of(matcher, [1000.0] * 10)
    clone = pickle.loads(pickle.dumps(stats))
    assert clone.median(NOTE) == stats.median(NOTE) == 1000.0
    assert pickle.loads(pickle.dumps(observation)) == observation
