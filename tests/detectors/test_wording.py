"""The wording detector: counterfeit wording in two languages, disclaimers, innocent look-alikes."""

from __future__ import annotations

import math
import pickle
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.detector_contract import DetectorContract
from vigil.detectors.base import Findings, Matcher, Role
from vigil.detectors.wording import WordingDetector, WordingMatcher, fold, fold_with_offsets
from vigil.domain.assessment import Signal
from vigil.domain.listing import Listing
from vigil.domain.registry import LexiconTerm, Registry
from vigil.settings import ScanConfig, load_scan_config

# --- factories -------------------------------------------------------------------------------


def make_registry(*lexicon: tuple[str, float]) -> Registry:
    return Registry.model_validate(
        {
            "brands": [{"name": "Xiaomi", "aliases": ["小米", "MI"]}],
            "products": [{"brand": "Xiaomi", "model": "Xiaomi 6"}],
            "lexicon": [LexiconTerm(term=term, weight=weight) for term, weight in lexicon],
        }
    )


def make_listing(title: str, description: str | None = None, **fields: Any) -> Listing:
    return Listing(
        platform="taobao", listing_id="1", title=title, description=description, **fields
    )


def product_findings(role: Role = Role.PRODUCT) -> Findings:
    return Findings(brand="Xiaomi", product="Xiaomi 6", role=role)


@pytest.fixture(scope="module")
def config() -> ScanConfig:
    return load_scan_config()


@pytest.fixture(scope="module")
def matcher(config: ScanConfig) -> WordingMatcher:
    return WordingDetector().compile(make_registry(), config)


def signals(matcher: Matcher, title: str, description: str | None = None) -> list[Signal]:
    return matcher.match(make_listing(title, description), product_findings())


def risk(config: ScanConfig, found: list[Signal]) -> float:
    return 1 / (1 + math.exp(-(config.scoring.prior + sum(s.weight for s in found))))


# --- the shared contract ---------------------------------------------------------------------


class TestWordingContract(DetectorContract):
    __test__ = True  # the base class hides itself from pytest; its subclasses run
    detector: ClassVar[WordingDetector] = WordingDetector()

    def registry(self) -> Registry:
        return make_registry(("水货翻新", 2.0))

    def listings(self) -> list[Listing]:
        return [
            make_listing("小米6 高仿 全网通 64GB"),
            make_listing("Xiaomi 6 replica, mirror quality", "Not original. Same factory."),
            make_listing("小米6 非高仿 假一赔十", "原装正品"),
            make_listing("小米6 水货翻新"),
        ]

    def prepare(self, matchers: list[Matcher], listing: Listing) -> Findings:
        return product_findings()


# --- behaviour -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    ["小米6 高仿 全网通", "小米6 精仿版", "小米6 A货", "小米6 超A 顶配", "Xiaomi 6 replica",
     "Xiaomi 6 super copy", "Xiaomi 6 mirror quality", "小米6 仿品"],
)  # fmt: skip
def test_one_unambiguous_term_on_a_branded_product_is_counterfeit_suspected(
    matcher: WordingMatcher, config: ScanConfig, title: str
) -> None:
    found = signals(matcher, title)
    assert [s.kind for s in found] == ["counterfeit_wording"]
    assert risk(config, found) >= config.scoring.thresholds.counterfeit_suspected


@pytest.mark.parametrize("title", ["小米6 同款手环", "Xiaomi 6 inspired design", "小米6 尾单"])
def test_a_weak_term_alone_does_not_make_a_listing_counterfeit(
    matcher: WordingMatcher, config: ScanConfig, title: str
) -> None:
    found = signals(matcher, title)
    assert found
    assert risk(config, found) < config.scoring.thresholds.counterfeit_suspected


def test_ambiguous_slang_alone_asks_for_review(matcher: WordingMatcher, config: ScanConfig) -> None:
    found = signals(matcher, "小米6 1:1 全网通")
    thresholds = config.scoring.thresholds
    assert thresholds.needs_review <= risk(config, found) < thresholds.counterfeit_suspected


def test_evidence_is_the_span_as_the_seller_wrote_it(matcher: WordingMatcher) -> None:
    cases = {
        "小米6 高 仿 手机": "高 仿",  # spaced out to dodge keyword filters
        "Xiaomi 6 ＲＥＰＬＩＣＡ": "ＲＥＰＬＩＣＡ",  # full-width letters
        "小米6 １：１ 版": "１：１",
        "小米6 A貨": "A貨",  # traditional Chinese
        "Xiaomi 6 Super-Copy": "Super-Copy",
        "Xiaomi 6 replicas in stock": "replicas",
        "Xiaomi 6 re\u200bplica": "re\u200bplica",  # a zero-width space hidden in the word
    }
    for title, evidence in cases.items():
        assert [s.evidence for s in signals(matcher, title)] == [evidence], title


def test_explanation_names_the_field_and_the_term(matcher: WordingMatcher) -> None:
    [signal] = signals(matcher, "小米6 全网通", "本店出售高仿手机")
    assert signal.explanation.startswith('The description says "高仿"')
    assert signal.details["field"] == "description"
    assert signal.asset == "brand:Xiaomi"


@pytest.mark.parametrize(
    "title",
    ["小米6 非高仿", "小米6 不是A货", "小米6 拒绝高仿", "杜绝假货 小米6", "小米6 假一赔十",
     "小米6 假一罚十", "小米6 高仿勿扰", "Xiaomi 6, not a replica", "Xiaomi 6 - no fakes",
     "Xiaomi 6 genuine, never a replica", "Xiaomi 6 非正品包退"],
)  # fmt: skip
def test_disclaimers_are_not_counterfeit_wording(matcher: WordingMatcher, title: str) -> None:
    assert signals(matcher, title) == []


def test_not_original_is_itself_counterfeit_wording(matcher: WordingMatcher) -> None:
    [signal] = signals(matcher, "Xiaomi 6 phone, not original")
    assert signal.details["term"] == "not original"
    assert signal.weight > 2


@pytest.mark.parametrize(
    "title",
    ["Xiaomi 6 fakeout game", "Xiaomi remote with AAA battery", "AAAA battery pack",
     "小米6 1:1 scale model", "小米6 1:1模型", "Meeting 11:12", "小米6 原装正品",
     "小米 高仿真花", "小米6 超AMOLED屏", "小米6 原单价2499 现价1999", "anti-counterfeit label"],
)  # fmt: skip
def test_innocent_text_that_contains_a_term_gives_nothing(
    matcher: WordingMatcher, title: str
) -> None:
    assert signals(matcher, title) == []


def test_a_latin_negation_must_be_a_whole_word(matcher: WordingMatcher) -> None:
    # "piano" ends in "no", but "piano replica" is no disclaimer.
    assert [s.details["term"] for s in signals(matcher, "piano replica")] == ["replica"]


def test_a_repeated_term_counts_once(matcher: WordingMatcher) -> None:
    once = signals(matcher, "小米6 高仿")
    many = signals(matcher, "小米6 " + "高仿 " * 10, "高仿 高仿")
    assert [s.weight for s in many] == [s.weight for s in once]


def test_many_distinct_terms_are_capped(matcher: WordingMatcher, config: ScanConfig) -> None:
    found = signals(matcher, "小米6 高仿 A货 精仿 复刻 1:1 原单 replica super copy")
    cap = config.detectors["wording"]["max_total_weight"]
    assert len(found) > 1
    assert len({s.details["term"] for s in found}) == len(found)
    assert sum(s.weight for s in found) == pytest.approx(cap)
    assert found[0].weight >= found[-1].weight


def test_role_scales_the_weight(matcher: WordingMatcher, config: ScanConfig) -> None:
    listing = make_listing("高仿 手机壳 适用于小米6")
    product = matcher.match(listing, product_findings(Role.PRODUCT))
    accessory = matcher.match(listing, product_findings(Role.ACCESSORY))
    unbranded = matcher.match(listing, Findings())
    factors = config.detectors["wording"]["role_factors"]
    assert accessory[0].weight == pytest.approx(
        product[0].weight * factors["accessory"] / factors["product"]
    )
    assert unbranded[0].weight < product[0].weight
    assert unbranded[0].asset is None


def test_registry_terms_add_to_and_reweigh_the_shipped_lexicon(config: ScanConfig) -> None:
    matcher = WordingDetector().compile(
        make_registry(("水货翻新", 2.5), ("高仿", 2.0), ("复刻", 0.0)), config
    )
    factor = config.detectors["wording"]["role_factors"]["product"]
    [added] = signals(matcher, "小米6 水货翻新机")
    assert (added.weight, added.details["source"]) == (pytest.approx(2.5 * factor), "registry")
    assert "registered" in added.explanation
    [reweighed] = signals(matcher, "小米6 高仿")
    assert reweighed.weight == pytest.approx(2.0 * factor)
    assert signals(matcher, "小米6 复刻版") == []  # a zero weight switches a term off
    [traditional] = signals(matcher, "小米6 水貨翻新")  # registry terms get variants too
    assert traditional.details["term"] == "水货翻新"


def test_the_compiled_matcher_survives_pickling(matcher: WordingMatcher) -> None:
    clone = pickle.loads(pickle.dumps(matcher))
    assert signals(clone, "小米6 高 仿") == signals(matcher, "小米6 高 仿") != []


_TEXT = st.text(
    alphabet=st.sampled_from(list("高仿小米aAbB1：:  \t\n　ＡＢ１·-\u200bß")), max_size=40
)


@given(_TEXT)
def test_folding_with_offsets_agrees_with_folding(text: str) -> None:
    folded, origin = fold_with_offsets(text)
    assert folded == fold(text)
    assert len(origin) == len(folded)
    assert origin == sorted(origin)
    assert all(0 <= i < len(text) for i in origin)


@pytest.mark.parametrize(
    "text",
    ["We do not sell replicas or fakes.", "不卖高仿和A货", "no AAA or 1:1 copies here"],
)
def test_terms_joined_to_a_negated_one_are_negated_too(matcher: WordingMatcher, text: str) -> None:
    assert signals(matcher, "小米6 全新", text) == []


def test_a_joined_term_without_negation_still_counts(matcher: WordingMatcher) -> None:
    assert {s.evidence for s in signals(matcher, "小米6 高仿和A货")} == {"高仿", "A货"}


def test_a_term_that_is_part_of_the_model_name_is_the_name(matcher: WordingMatcher) -> None:
    listing = make_listing("ZIPPO 1941 Replica Brushed Chrome 打火机")
    zippo = Findings(brand="Zippo", product="1941 Replica Brushed Chrome", role=Role.PRODUCT)
    assert matcher.match(listing, zippo) == []
    other = Findings(brand="Zippo", product="Armor Case", role=Role.PRODUCT)
    assert [s.details["term"] for s in matcher.match(listing, other)] == ["replica"]
