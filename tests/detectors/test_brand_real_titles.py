"""Ways real marketplace titles write names: glued to models, in one script among another."""

from __future__ import annotations

import pytest

from tests.detectors.test_brand import make_listing, make_registry, run
from vigil.detectors.brand import BrandDetector, BrandMatcher
from vigil.settings import load_scan_config


@pytest.fixture(scope="module")
def matcher() -> BrandMatcher:
    registry = make_registry(
        brands=[
            {"name": "OPPO", "categories": ["phones"]},
            {"name": "vivo", "categories": ["phones"]},
            {"name": "Apple", "aliases": ["苹果"], "categories": ["phones"], "common_word": True},
            {"name": "Chanel", "aliases": ["香奈儿"], "categories": ["bags"]},
            {"name": "Nike", "aliases": ["耐克"], "categories": ["shoes"]},
        ],
        products=[
            {"brand": "Apple", "model": "iPhone 8 Plus", "category": "phones"},
            {"brand": "Chanel", "model": "Classic Flap Bag", "category": "bags"},
            {"brand": "Nike", "model": "Pegasus 40", "category": "shoes"},
        ],
    )
    compiled = BrandDetector().compile(registry, load_scan_config())
    assert isinstance(compiled, BrandMatcher)
    return compiled


@pytest.mark.parametrize(
    ("title", "brand", "evidence"),
    [
        ("OPPOA57全网通4G手机双卡双待", "OPPO", "OPPO"),
        ("vivoY67全网通4GB+64GB移动联通电信4G手机", "vivo", "vivo"),
        ("vivoX9s全网通4GB+64GB", "vivo", "vivo"),
        ("AppleiPhone8Plus(A1864)64GB金色移动联通电信4G手机", "Apple", "Apple"),
    ],
)
def test_a_name_glued_to_its_model_is_found(
    matcher: BrandMatcher, title: str, brand: str, evidence: str
) -> None:
    # Apple is also a fruit: the listing's category gives the context (as JD's feed does).
    signals, findings = run(matcher, make_listing(title, category="phones"))
    assert findings.brand == brand
    assert evidence in [s.evidence for s in signals]


@pytest.mark.parametrize(
    "title", ["ASUS Vivobook 15 laptop", "Applebee's gift card 50", "Oppossum 12"]
)
def test_a_word_that_only_begins_with_a_name_is_not_it(matcher: BrandMatcher, title: str) -> None:
    _, findings = run(matcher, make_listing(title))
    assert findings.brand is None


def variant_weight(matcher: BrandMatcher, title: str) -> float:
    signals, _ = run(matcher, make_listing(title))
    [variant] = [s for s in signals if s.kind == "brand_variant"]
    return variant.weight


def test_traditional_characters_weigh_only_when_the_name_alone_uses_them(
    matcher: BrandMatcher,
) -> None:
    # Among simplified characters, 香奈兒 is a way around a filter for 香奈儿 ...
    evasive = variant_weight(matcher, "香奈兒 Classic Flap Bag 送女友 正品")
    # ... in a listing written in traditional Chinese it is simply how the seller writes.
    native = variant_weight(matcher, "香奈兒 Classic Flap Bag 送禮 經典款")
    assert evasive >= 4.4 > 1.0 >= native


def test_full_width_letters_weigh_only_when_the_rest_is_half_width(
    matcher: BrandMatcher,
) -> None:
    evasive = variant_weight(matcher, "Ｎｉｋｅ Pegasus 40 跑步鞋 42码")
    typed = variant_weight(matcher, "Ｎｉｋｅ　飞马 跑步鞋 男款")
    assert evasive >= 4.4 > 1.0 >= typed
