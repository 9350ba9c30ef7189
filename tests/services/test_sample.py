"""The sample alliance generator: valid files, the promised mix, and counterfeits that are hard."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from vigil.domain.assessment import Truth
from vigil.domain.listing import Listing
from vigil.domain.registry import Registry
from vigil.services.sample import SampleError, SampleSummary, write_sample
from vigil.services.sample.catalog import load_catalog, load_data
from vigil.services.sample.chunks import CHUNK, Recipe, make_chunks
from vigil.services.sample.listings import ListingMaker
from vigil.services.sample.padding import build_catalog
from vigil.services.sample.texts import TextBank
from vigil.settings import load_scan_config

MIX = {"genuine": 0.30, "grey": 0.12, "counterfeit": 0.25, "accessory": 0.13, "unrelated": 0.20}
TRICKS = {"variant_name", "wording", "low_price"}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def read_registry(path: Path) -> Registry:
    return Registry.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


# These tests are about the words, prices and sellers of a sample; they write samples without
# images, which keeps them quick (test_sample_images.py covers the images).
@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return write_sample(tmp_path_factory.mktemp("sample"), listings=4000, seed=7, images=False)


@pytest.fixture(scope="module")
def rows(sample: SampleSummary) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return list(zip(read_jsonl(sample.listings_path), read_jsonl(sample.truth), strict=True))


def test_registry_is_valid_with_a_real_world_catalogue(sample: SampleSummary) -> None:
    registry = read_registry(sample.registry)
    assert len(registry.brands) >= 30
    assert len(registry.products) >= 300
    assert all(p.msrp is not None for p in registry.products)
    assert {m.kind for m in registry.members} >= {"brand_owner", "marketplace", "association"}
    xiaomi, moutai = registry.brand("Xiaomi"), registry.brand("Moutai")
    assert xiaomi is not None and "小米" in xiaomi.aliases and xiaomi.common_word
    assert moutai is not None and "茅台" in moutai.aliases
    assert all(b.authorized_sellers for b in registry.brands if b.name != "Rolex")
    mate = next(p for p in registry.products if p.model == "Mate 60 Pro")
    assert {"Mate60 Pro", "mate60pro"} <= set(mate.aliases)
    assert {p.msrp.currency for p in registry.products if p.msrp} >= {"CNY", "USD", "EUR"}
    assert (sample.brands, sample.products) == (len(registry.brands), len(registry.products))
    # The file says exactly what the catalogue registers (its flow lines are hand-written).
    written = yaml.safe_load(sample.registry.read_text(encoding="utf-8"))
    works = written.pop("works")  # the sample's works: tests/services/test_sample_texts.py
    assert {w["kind"] for w in works} == {"text"}
    assert written == build_catalog().registry_data()


def test_every_listing_is_valid_and_has_its_truth_row(
    sample: SampleSummary, rows: list[tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    brands = {b.name for b in read_registry(sample.registry).brands}
    keys = set()
    for record, truth in rows:
        listing = Listing.model_validate(record)
        label = Truth.model_validate(truth)
        assert (label.platform, label.listing_id) == listing.key
        assert listing.observed_at is not None and listing.observed_at.year == 2026
        assert (label.brand is None) == (label.label == "unrelated")
        assert label.brand is None or label.brand in brands
        keys.add(listing.key)
    assert len(keys) == len(rows) == sample.listings


def test_the_label_mix_is_the_promised_one(sample: SampleSummary) -> None:
    total = sum(sample.labels.values())
    for label, share in MIX.items():
        assert sample.labels[label] / total == pytest.approx(share, abs=0.03), label


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    first = write_sample(tmp_path / "a", listings=300, seed=3, images=False)
    again = write_sample(tmp_path / "b", listings=300, seed=3, images=False)
    other = write_sample(tmp_path / "c", listings=300, seed=4, images=False)
    for name in ("registry.yaml", "listings.jsonl", "truth.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert first.listings_path.read_bytes() != other.listings_path.read_bytes()
    assert again.labels == first.labels


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_worker_processes_write_the_same_bytes_as_one_process() -> None:
    rates = load_scan_config().currency.rates
    recipe = Recipe(catalog=build_catalog(), seed=5, pool_size=12, rates=rates)
    count = 2 * CHUNK + 123
    alone = list(make_chunks(recipe, count, workers=1))
    together = list(make_chunks(recipe, count, workers=2))
    assert [c.listings for c in alone] == [c.listings for c in together]
    assert [c.truth for c in alone] == [c.truth for c in together]
    assert sum(sum(c.labels.values()) for c in together) == count


def test_nothing_is_left_half_written_when_generation_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = 0
    original = ListingMaker.make

    def failing(self: ListingMaker) -> tuple[dict[str, Any], dict[str, Any]]:
        nonlocal made
        made += 1
        if made > 50:
            raise RuntimeError("disk on fire")
        return original(self)

    monkeypatch.setattr(ListingMaker, "make", failing)
    with pytest.raises(RuntimeError):
        write_sample(tmp_path, listings=100, seed=1)
    assert list(tmp_path.iterdir()) == []


def test_padding_reaches_the_benchmark_size() -> None:
    # Checked on the catalogue, not through a 2 MB YAML file, to keep the suite fast.
    catalog = build_catalog(brands=1000, products=10_000)
    registry = Registry.model_validate(catalog.registry_data())
    assert (len(registry.brands), len(registry.products)) == (1000, 10_000)
    assert len({b.name for b in registry.brands}) == 1000
    assert len({p.key for p in registry.products}) == 10_000
    real = {b.name for b in load_catalog().brands}
    invented = {b.name: b for b in registry.brands if b.name not in real}
    assert len(invented) == 1000 - len(real)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", b.aliases[0]) for b in invented.values())
    maker = ListingMaker(
        catalog, TextBank(), load_scan_config().currency.rates, seed=2, pool_size=12
    )
    labelled = {maker.make()[1]["brand"] for _ in range(600)}
    assert labelled & set(invented)


def test_padding_works_through_write_sample(tmp_path: Path) -> None:
    summary = write_sample(tmp_path, listings=200, seed=2, brands=80, products=500, images=False)
    registry = read_registry(summary.registry)
    assert (len(registry.brands), len(registry.products)) == (80, 500)
    assert len(read_jsonl(summary.listings_path)) == 200


def test_a_smaller_sample_keeps_the_best_known_brands(tmp_path: Path) -> None:
    summary = write_sample(tmp_path, listings=200, seed=2, brands=5, products=12, images=False)
    registry = read_registry(summary.registry)
    assert len(registry.brands) == 5 and len(registry.products) == 12
    assert {"Xiaomi", "Huawei", "Apple", "Nike"} <= {b.name for b in registry.brands}


def test_counterfeits_use_one_or_two_tricks_and_show_them(
    sample: SampleSummary, rows: list[tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    registry = read_registry(sample.registry)
    msrp = {(p.brand, p.model): p.msrp for p in registry.products}
    rates = load_scan_config().currency.rates
    texts = load_data("texts.yaml")
    wording = [w.lower() for w in texts["wording_zh"] + texts["wording_en"]]
    seen: Counter[frozenset[str]] = Counter()
    for record, truth in rows:
        if truth["label"] != "counterfeit":
            continue
        tricks = frozenset(truth["tricks"])
        seen[tricks] += 1
        assert 1 <= len(tricks) <= 2 and tricks <= TRICKS
        text = f"{record['title']}\n{record.get('description') or ''}"
        if "wording" in tricks:
            assert any(w in text.lower() for w in wording), text
        if "variant_name" in tricks:
            brand = registry.brand(truth["brand"])
            assert brand is not None
            chinese = [a for a in brand.aliases if re.search(r"[\u4e00-\u9fff]", a)][:1]
            assert not any(name in record["title"] for name in [brand.name, *chinese])
        price = msrp[truth["brand"], truth["product"]]
        assert price is not None
        ratio = record["price"] * rates[record["currency"]] / (price.amount * rates[price.currency])
        if "low_price" in tricks:
            assert ratio <= 0.42
        else:
            assert ratio >= 0.55
    # Every single trick and every pair turns up; the three together never do.
    assert len(seen) == 6


def test_the_hard_cases_are_there(rows: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    def texts(label: str) -> list[str]:
        return [
            f"{r['title']} {r.get('description') or ''}" for r, t in rows if t["label"] == label
        ]

    genuine, unrelated, accessory = texts("genuine"), texts("unrelated"), texts("accessory")
    # Honest sellers disown fakes in the fakes' own words.
    assert any("高仿" in t or "replica" in t.lower() for t in genuine)
    # Everyday words that are brands, and wording that only looks bad.
    assert any("苹果" in t or "小米" in t or "Omega-3" in t for t in unrelated)
    assert any("AAA" in t or "1:1" in t or "高仿真" in t or "复刻" in t for t in unrelated)
    # Accessories name the brand they fit.
    assert any("适用" in t or " for " in t for t in accessory)
    # Some grey goods are new (parallel imports) and some are cheap with an honest condition.
    grey = [r for r, t in rows if t["label"] == "grey"]
    assert {r.get("condition") for r in grey} >= {"new", "used", "refurbished", "parts", None}


def test_sellers_reappear_and_some_fakes_pose_as_flagship_stores(
    rows: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    sellers = Counter((r["platform"], r["seller"]["id"]) for r, _ in rows)
    assert sellers.most_common(1)[0][1] >= 10
    fake_shops = {r["seller"]["name"] for r, t in rows if t["label"] == "counterfeit"}
    assert any(name.endswith("旗舰店") for name in fake_shops)


def test_impossible_requests_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(SampleError, match="negative"):
        write_sample(tmp_path, listings=-1)
    with pytest.raises(SampleError, match="at least one"):
        write_sample(tmp_path, brands=0)
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(SampleError, match="choose another --out"):
        write_sample(tmp_path / "file", listings=1)
