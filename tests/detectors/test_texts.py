"""The texts detector: descriptions copied from registered works, and copy-paste clusters."""

from __future__ import annotations

import pickle
import tempfile
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import opencc
import pytest

from tests.contracts.detector_contract import DetectorContract
from tests.texts.corpus import ARTICLE_EN, COPIED_EN, COPIED_ZH, MANUAL_ZH
from vigil.detectors.base import Findings, ListingFacts, Matcher
from vigil.detectors.texts import TextDetector, TextMatcher, TextStats
from vigil.domain.assessment import Signal
from vigil.domain.listing import Listing, Seller
from vigil.domain.registry import Registry
from vigil.settings import ScanConfig, load_scan_config
from vigil.texts.shingles import tidy

RING_TEMPLATE = (
    "本店所售手机均为原装正品，支持专柜验货，假一赔十。骁龙处理器，大运存，大存储，双摄像头，"
    "全面屏，续航持久，拍照清晰，玩游戏不卡顿。下单即送钢化膜、手机壳和充电宝，当天发货，"
    "有任何问题请联系客服小{n}，本店信誉第一，老客户回购享九折优惠。"
)


@cache
def work_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="vigil-works-"))
    (folder / "manual.txt").write_text(MANUAL_ZH, encoding="utf-8")
    (folder / "care.html").write_text(
        "<html><body>"
        + "".join(f"<p>{p}</p>" for p in ARTICLE_EN.split("\n\n"))
        + "</body></html>",
        encoding="utf-8",
    )
    (folder / "scan.pdf").write_bytes(b"%PDF-1.7\n")
    return folder


def make_registry(extra_works: list[dict[str, Any]] | None = None) -> Registry:
    folder = work_folder()
    return Registry.model_validate(
        {
            "members": [
                {"id": "xiaomi", "name": "Xiaomi", "kind": "brand_owner"},
                {"id": "gucci", "name": "Gucci", "kind": "brand_owner"},
            ],
            "brands": [
                {
                    "name": "Xiaomi",
                    "owner": "xiaomi",
                    "aliases": ["小米"],
                    "authorized_sellers": [{"platform": "jd", "seller_id": "小米官方旗舰店"}],
                },
                {"name": "Gucci", "owner": "gucci"},
            ],
            "works": [
                {"owner": "xiaomi", "title": "小米6使用说明书", "kind": "text",
                 "files": [str(folder / "manual.txt")]},
                {"owner": "gucci", "title": "Leather care", "kind": "text",
                 "files": [str(folder / "care.html")]},
                *(extra_works or []),
            ],
        }
    )  # fmt: skip


def listing(
    description: str, listing_id: str, seller: str = "某店", platform: str = "taobao"
) -> Listing:
    return Listing(
        platform=platform,
        listing_id=listing_id,
        title="商品",
        description=description,
        seller=Seller(id=seller),
    )


def two_passes(matcher: TextMatcher, listings: list[Listing]) -> dict[str, list[Signal]]:
    """Both passes as the engine runs them: observe every listing, then match_scan."""
    stats = matcher.new_stats()
    for item in listings:
        findings = Findings()
        assert matcher.match(item, findings) == []  # every text signal needs the whole scan
        observation = matcher.observe(item, findings)
        if observation is not None:
            stats.add(pickle.loads(pickle.dumps(observation)))
    return {item.listing_id: matcher.match_scan(facts(item), stats) for item in listings}


def facts(item: Listing) -> ListingFacts:
    return ListingFacts(
        item.platform, item.listing_id, None, None, "none", "unknown", None, item.currency
    )


def kinds(signals: list[Signal]) -> list[str]:
    return [s.kind for s in signals]


@pytest.fixture(scope="module")
def config() -> ScanConfig:
    return load_scan_config()


@pytest.fixture(scope="module")
def matcher(config: ScanConfig) -> TextMatcher:
    return TextDetector().compile(make_registry(), config)


# --- the shared contract ---------------------------------------------------------------------


class TestTextContract(DetectorContract):
    __test__ = True
    detector: ClassVar[TextDetector] = TextDetector()

    def registry(self) -> Registry:
        return make_registry()

    def listings(self) -> list[Listing]:
        return [
            listing(COPIED_ZH, "1"),
            listing(COPIED_EN, "2", seller="shop"),
            listing("全国包邮，七天无理由退换。", "3"),
            listing("", "4"),
        ]

    def _signals(self, matcher: Matcher, item: Listing) -> list[Signal]:
        assert isinstance(matcher, TextMatcher)
        return two_passes(matcher, self.listings())[item.listing_id]


# --- copyrighted_text ------------------------------------------------------------------------


def test_a_copied_manual_passage_is_reported_with_its_place_in_the_work(
    matcher: TextMatcher,
) -> None:
    shop = "本店出售说明书电子版，拍下自动发货。"
    (signal,) = two_passes(matcher, [listing(shop + COPIED_ZH, "1")])["1"]
    assert signal.kind == "copyrighted_text"
    assert signal.asset == "work:xiaomi/小米6使用说明书"
    assert signal.evidence.startswith("开机与关机:长按电源键")
    details = signal.details
    assert details["brand"] == "Xiaomi"
    assert details["owner"] == "xiaomi"
    assert 0.7 < details["containment"] < 1.0
    assert details["copied_chars"] == len([c for c in COPIED_ZH if c.isalnum()])
    assert details["work_excerpt"]["match"] == tidy(str(details["passage"]))
    assert details["work_excerpt"]["before"].endswith("以免损坏电池。\n")
    assert signal.weight == pytest.approx(matcher.settings.copyrighted_text.weight_max, abs=0.01)
    assert signal.explanation == (
        "The description copies the registered work “小米6使用说明书” of xiaomi: "
        f"{details['containment']:.0%} of it ({details['copied_chars']} characters) is in the work."
    )


def test_english_and_traditional_copies_are_found(matcher: TextMatcher) -> None:
    traditional = opencc.OpenCC("s2t").convert(COPIED_ZH)
    found = two_passes(matcher, [listing(COPIED_EN, "en"), listing(traditional, "zh-hant")])
    assert found["en"][0].asset == "work:gucci/Leather care"
    assert found["zh-hant"][0].asset == "work:xiaomi/小米6使用说明书"
    assert found["zh-hant"][0].details["containment"] == 1.0


def test_a_short_copy_weighs_less_than_a_long_one_and_a_shorter_one_nothing(
    matcher: TextMatcher,
) -> None:
    short = COPIED_ZH[:100]  # 88 letters, digits and Han characters
    shorter = COPIED_ZH[:80]  # 71
    found = two_passes(
        matcher,
        [listing(short, "short"), listing(shorter, "shorter"), listing(COPIED_ZH, "long")],
    )
    assert kinds(found["short"]) == ["copyrighted_text"]
    assert 80 <= found["short"][0].details["copied_chars"] <= 88
    assert found["short"][0].weight < found["long"][0].weight
    assert found["shorter"] == []


def test_boilerplate_shared_with_a_work_is_not_a_copy(matcher: TextMatcher) -> None:
    # The manual ends with these very clauses; they are shipped boilerplate phrases.
    found = two_passes(matcher, [listing("全国包邮，七天无理由退换。欢迎选购。", "bp")])
    assert found["bp"] == []


def test_boilerplate_learned_from_the_scan_is_not_a_copy(config: ScanConfig) -> None:
    # A clause that is in the work and in many different descriptions of the scan.
    spec = "充电时请使用原装充电器和数据线,以免损坏电池"
    works_only = make_registry()
    matcher = TextDetector().compile(works_only, config)
    own = [f"店铺{n}号新款上架{n * 7}件，质量可靠，售后无忧，{n}天内发货" for n in range(40)]
    listings = [listing(f"{text}。{spec}。", f"d{n}", seller=f"s{n}") for n, text in enumerate(own)]
    found = two_passes(matcher, listings)
    assert all(signals == [] for signals in found.values())
    # Alone in a small scan, the same description is a (short) copy.
    alone = two_passes(matcher, [listing(f"{own[0]}。{spec}。{spec}", "x")])["x"]
    assert alone == [] or alone[0].details["copied_chars"] < 60


RETURNS = (
    "We accept returns within thirty days of delivery, and the buyer pays for return shipping "
    "unless the item arrived damaged or differs from its description."
)


def test_lines_that_two_owners_works_share_are_boilerplate(config: ScanConfig) -> None:
    folder = work_folder()
    (folder / "returns-a.txt").write_text(f"Our first care guide.\n{RETURNS}", encoding="utf-8")
    (folder / "returns-b.txt").write_text(f"{RETURNS}\nAnother brand's terms.", encoding="utf-8")
    alone = TextDetector().compile(
        make_registry(
            [{"owner": "gucci", "title": "terms", "kind": "text",
              "files": [str(folder / "returns-a.txt")]}]
        ),
        config,
    )  # fmt: skip
    shared = TextDetector().compile(
        make_registry(
            [
                {"owner": "gucci", "title": "terms", "kind": "text",
                 "files": [str(folder / "returns-a.txt")]},
                {"owner": "xiaomi", "title": "terms", "kind": "text",
                 "files": [str(folder / "returns-b.txt")]},
            ]
        ),
        config,
    )  # fmt: skip
    item = listing(RETURNS, "1", seller="shop")
    assert kinds(two_passes(alone, [item])["1"]) == ["copyrighted_text"]
    assert two_passes(shared, [item])["1"] == []


def test_a_size_chart_shared_with_a_work_is_not_a_copy(config: ScanConfig) -> None:
    chart = "".join(
        f"{size}码：身高{150 + 5 * n}-{160 + 5 * n}，体重{45 + 5 * n}kg，胸围{96 + 4 * n}，衣长{64 + 2 * n}\n"
        for n, size in enumerate(["S", "M", "L", "XL", "XXL", "XXXL"])
    )
    folder = work_folder()
    (folder / "hoodie.txt").write_text(f"卫衣采用加厚纯棉面料，柔软亲肤。\n{chart}", "utf-8")
    matcher = TextDetector().compile(
        make_registry(
            [{"owner": "gucci", "title": "hoodie", "kind": "text",
              "files": [str(folder / "hoodie.txt")]}]
        ),
        config,
    )  # fmt: skip
    assert two_passes(matcher, [listing(chart, "chart")])["chart"] == []


def test_authorized_shops_of_the_owner_are_not_reported(matcher: TextMatcher) -> None:
    found = two_passes(
        matcher,
        [
            listing(COPIED_ZH, "official", seller="小米官方旗舰店", platform="jd"),
            listing(COPIED_ZH, "elsewhere", seller="小米官方旗舰店", platform="taobao"),
        ],
    )
    assert "copyrighted_text" not in kinds(found["official"])
    assert "copyrighted_text" in kinds(found["elsewhere"])


def test_unrelated_descriptions_give_nothing(matcher: TextMatcher) -> None:
    text = "纯棉短袖T恤，夏季新款，透气舒适，多色可选，尺码齐全，机洗不变形，买二件包邮。"
    assert two_passes(matcher, [listing(text, "1")])["1"] == []


def test_unreadable_works_are_warned_about_and_the_rest_still_match(config: ScanConfig) -> None:
    folder = work_folder()
    registry = make_registry(
        [
            {"owner": "xiaomi", "title": "scanned", "kind": "text",
             "files": [str(folder / "scan.pdf")]},
            {"owner": "xiaomi", "title": "lost", "kind": "text",
             "files": [str(folder / "missing.txt")]},
            {"owner": "xiaomi", "title": "nothing", "kind": "text"},
        ]
    )  # fmt: skip
    matcher = TextDetector().compile(registry, config)
    assert len(matcher.warnings) == 3
    assert "scan.pdf is a PDF document, not text" in matcher.warnings[0]
    assert "missing.txt" in matcher.warnings[1]
    assert "has no files" in matcher.warnings[2]
    assert kinds(two_passes(matcher, [listing(COPIED_ZH, "1")])["1"]) == ["copyrighted_text"]


# --- copy_paste_cluster ----------------------------------------------------------------------


OTHER_TEMPLATE = (
    "Brand new sealed wireless earbuds with charging case, deep bass and crystal clear calls, "
    "touch controls, eight hours of music on one charge, pairs instantly with any phone. Ask "
    "our agent {n} for wholesale prices; we ship worldwide from our own warehouse every day."
)


def ring(
    sellers: int, listings: int, prefix: str = "r", template: str = RING_TEMPLATE
) -> list[Listing]:
    return [
        listing(template.format(n=n), f"{prefix}{n}", seller=f"{prefix}-shop{n % sellers}",
                platform="pinduoduo")
        for n in range(listings)
    ]  # fmt: skip


def test_a_template_pasted_by_many_sellers_is_a_cluster(matcher: TextMatcher) -> None:
    found = two_passes(matcher, [*ring(4, 8), listing(COPIED_EN, "other")])
    clusters = {s.details["cluster"] for n in range(8) for s in found[f"r{n}"]}
    assert len(clusters) == 1
    signal = found["r0"][0]
    assert signal.kind == "copy_paste_cluster"
    assert signal.details["listings"] == 8 and signal.details["sellers"] == 4
    assert signal.evidence == "8 listings by 4 sellers"
    assert signal.asset == f"cluster:{signal.details['cluster']}"
    assert "copy_paste_cluster" not in kinds(found["other"])


def test_one_or_two_sellers_reposting_are_not_a_cluster(matcher: TextMatcher) -> None:
    found = two_passes(matcher, ring(2, 6))
    assert all(signals == [] for signals in found.values())


def test_clusters_of_a_scan_do_not_depend_on_listing_order(matcher: TextMatcher) -> None:
    listings = [*ring(3, 6, "a"), *ring(5, 10, "b", OTHER_TEMPLATE)]
    forward = two_passes(matcher, listings)
    backward = two_passes(matcher, listings[::-1])
    assert forward == backward
    assert len({s.details["cluster"] for v in forward.values() for s in v}) == 2


def test_stats_start_empty(matcher: TextMatcher) -> None:
    stats = matcher.new_stats()
    assert isinstance(stats, TextStats)
    assert stats.final() == (matcher.seeds, {})
