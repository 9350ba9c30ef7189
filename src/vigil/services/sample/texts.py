"""The words of the sample's listings, loaded once from `texts.yaml` into plain structures."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Generic, TypeVar

from vigil.services.sample.catalog import load_data

T = TypeVar("T")
Draw = Callable[[], float]


def pick(items: Sequence[T], draw: Draw) -> T:
    """One of `items`, uniformly (faster than Random.choice, and as deterministic)."""
    return items[int(draw() * len(items))]


class Weighted(Generic[T]):
    """A weighted choice among values, drawn with one random number."""

    __slots__ = ("_bounds", "values")

    def __init__(self, weights: Mapping[T, float] | Sequence[tuple[T, float]]) -> None:
        pairs = list(weights.items()) if isinstance(weights, Mapping) else list(weights)
        pairs = [(value, float(weight)) for value, weight in pairs if weight > 0]
        if not pairs:
            raise ValueError("a weighted choice needs at least one positive weight")
        self.values = [value for value, _ in pairs]
        total = sum(weight for _, weight in pairs)
        # Upper bounds of each value's share of [0, 1); the last is infinite, so that rounding
        # can never draw past the end.
        self._bounds = [bound / total for bound in accumulate(w for _, w in pairs)]
        self._bounds[-1] = math.inf

    def __call__(self, draw: Draw) -> T:
        return self.values[bisect_right(self._bounds, draw())]


def _strs(values: Any) -> list[str]:
    return [str(v) for v in values or ()]


def _slots(values: Any) -> list[list[str]]:
    return [_strs(slot) for slot in values or ()]


@dataclass(frozen=True, slots=True)
class CategoryWords:
    labels_zh: list[str]
    labels_en: list[str]
    specs_zh: list[list[str]]
    specs_en: list[list[str]]
    keywords_zh: list[str]
    keywords_en: list[str]
    accessories_zh: list[str]
    accessories_en: list[str]
    accessory_labels_zh: list[str]
    accessory_labels_en: list[str]
    accessory_price: tuple[float, float]
    grey_kinds: Weighted[str]
    affinity: dict[str, float]

    @property
    def has_accessories(self) -> bool:
        return bool(self.accessories_zh and self.accessories_en)


@dataclass(frozen=True, slots=True)
class GreyKind:
    name: str
    zh: list[str]
    en: list[str]
    price: tuple[float, float]
    conditions: Weighted[str]


@dataclass(frozen=True, slots=True)
class UnrelatedItem:
    zh: str | None
    en: str | None
    label_zh: str
    label_en: str
    price: tuple[float, float]
    hard: bool


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    zh_share: float
    tz: str
    # A listing's URL is url_head + listing_id + url_tail.
    url_head: str
    url_tail: str
    first_id: int
    id_stride: int
    sellers: str
    currencies: Weighted[str]

    @property
    def chinese(self) -> bool:
        """A Chinese marketplace (most titles in Chinese, Chinese shops and regions)."""
        return self.zh_share > 0.5


def _category(raw: dict[str, Any]) -> CategoryWords:
    low, high = raw.get("accessory_price") or (0, 0)
    return CategoryWords(
        labels_zh=_strs(raw["zh"]),
        labels_en=_strs(raw["en"]),
        specs_zh=_slots(raw.get("specs_zh")),
        specs_en=_slots(raw.get("specs_en")),
        keywords_zh=_strs(raw["keywords_zh"]),
        keywords_en=_strs(raw["keywords_en"]),
        accessories_zh=_strs(raw.get("accessories_zh")),
        accessories_en=_strs(raw.get("accessories_en")),
        accessory_labels_zh=_strs(raw.get("accessory_categories_zh")),
        accessory_labels_en=_strs(raw.get("accessory_categories_en")),
        accessory_price=(float(low), float(high)),
        grey_kinds=Weighted({str(k): float(v) for k, v in raw["grey_kinds"].items()}),
        affinity={str(k): float(v) for k, v in raw["affinity"].items()},
    )


class TextBank:
    """Everything `texts.yaml` holds, ready for drawing from."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        data = data if data is not None else load_data("texts.yaml")
        self.label_mix: Weighted[str] = Weighted(
            {str(k): float(v) for k, v in data["label_mix"].items()}
        )
        tricks = data["counterfeit_tricks"]
        self.trick_count: Weighted[int] = Weighted(
            {int(k): float(v) for k, v in tricks["count"].items()}
        )
        self.trick_weights = {str(k): float(v) for k, v in tricks["weights"].items()}
        self.prices = {str(k): (float(v[0]), float(v[1])) for k, v in data["prices"].items()}
        self.variant_kinds = {
            script: {str(k): float(v) for k, v in kinds.items()}
            for script, kinds in data["variant_kinds"].items()
        }
        self.platforms = {
            str(name): Platform(
                name=str(name),
                zh_share=float(raw["zh"]),
                tz=str(raw["tz"]),
                url_head=str(raw["url"]).partition("{id}")[0],
                url_tail=str(raw["url"]).partition("{id}")[2],
                first_id=int(raw["ids"][0]),
                id_stride=int(raw["ids"][1]),
                sellers=str(raw["sellers"]),
                currencies=Weighted({str(k): float(v) for k, v in raw["currencies"].items()}),
            )
            for name, raw in data["platforms"].items()
        }
        self.label_platforms: dict[str, Weighted[str]] = {
            str(label): Weighted({str(k): float(v) for k, v in weights.items()})
            for label, weights in data["label_platforms"].items()
        }
        self.categories = {str(k): _category(v) for k, v in data["categories"].items()}
        self.grey = {
            str(name): GreyKind(
                name=str(name),
                zh=_strs(raw["zh"]),
                en=_strs(raw["en"]),
                price=(float(raw["price"][0]), float(raw["price"][1])),
                conditions=Weighted({str(k): float(v) for k, v in raw["conditions"].items()}),
            )
            for name, raw in data["grey"].items()
        }
        self.promos_zh = _strs(data["promos_zh"])
        self.promos_en = _strs(data["promos_en"])
        self.emoji = _strs(data["emoji"])
        self.guarantees_zh = _strs(data["guarantees_zh"])
        self.guarantees_en = _strs(data["guarantees_en"])
        self.no_fakes_zh = _strs(data["no_fakes_zh"])
        self.no_fakes_en = _strs(data["no_fakes_en"])
        self.wording_zh = _strs(data["wording_zh"])
        self.wording_en = _strs(data["wording_en"])
        self.accessory_titles_zh = _strs(data["accessory_titles_zh"])
        self.accessory_titles_en = _strs(data["accessory_titles_en"])
        self.accessory_keywords_zh = _strs(data["accessory_keywords_zh"])
        self.accessory_keywords_en = _strs(data["accessory_keywords_en"])
        self.generic_keywords_zh = _strs(data["generic_keywords_zh"])
        self.generic_keywords_en = _strs(data["generic_keywords_en"])
        # Sentences by kind of listing and language ("genuine_zh"), grey ones also by kind of
        # grey listing ("grey_zh.used").
        self.descriptions: dict[str, list[str]] = {}
        for key, value in data["descriptions"].items():
            if isinstance(value, dict):
                for kind, sentences in value.items():
                    self.descriptions[f"{key}.{kind}"] = _strs(sentences)
            else:
                self.descriptions[str(key)] = _strs(value)
        self.unrelated = [
            UnrelatedItem(
                zh=item.get("zh"),
                en=item.get("en"),
                label_zh=str(item.get("cat_zh", "其他")),
                label_en=str(item.get("cat_en", "Everything Else")),
                price=(float(item["price"][0]), float(item["price"][1])),
                hard=bool(item.get("hard", False)),
            )
            for item in data["unrelated"]
        ]
        self.sellers = {str(k): _strs(v) for k, v in data["sellers"].items()}
        self.regions_china = [(str(n), str(c), float(w)) for n, c, w in data["regions"]["china"]]
        self.regions_abroad = [(str(n), float(w)) for n, w in data["regions"]["abroad"]]

    def category(self, name: str) -> CategoryWords:
        """The words of a category; an unknown category borrows the phones' ones."""
        return self.categories.get(name) or self.categories["phones"]

    def trick_sets(self, *, variants: bool) -> dict[int, Weighted[tuple[str, ...]]]:
        """By number of tricks, the sets of tricks a counterfeit may use, with their chances.

        Tricks are drawn in turn by weight without putting back; without `variants` the brand
        has no variant to hide behind, so the variant trick is left out.
        """
        weights = {t: w for t, w in self.trick_weights.items() if variants or t != "variant_name"}
        total = sum(weights.values())
        pairs: dict[tuple[str, ...], float] = {}
        for first, first_weight in weights.items():
            for second, second_weight in weights.items():
                if first != second:
                    pair = tuple(sorted((first, second)))
                    chance = first_weight / total * second_weight / (total - first_weight)
                    pairs[pair] = pairs.get(pair, 0.0) + chance
        singles: Weighted[tuple[str, ...]] = Weighted(
            {(trick,): weight for trick, weight in weights.items()}
        )
        return {1: singles, 2: Weighted(pairs) if pairs else singles}
