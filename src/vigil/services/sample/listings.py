"""Listings one at a time: a label first, then a brand and product, a seller, words and a price.

Each label has its own recipe (DESIGN.md, "What makes a listing suspicious"), and no field
gives the label away on its own: genuine titles may say 拒绝高仿, grey goods may be cheap,
counterfeits may claim 正品 from a shop called 官方旗舰店 and sell at a normal price.
"""

from __future__ import annotations

import random
from collections import deque
from typing import NamedTuple

from vigil.services.sample.album import Album, brandless_words
from vigil.services.sample.catalog import Catalog
from vigil.services.sample.gallery import Shown
from vigil.services.sample.library import Library
from vigil.services.sample.records import Record, RecordMaker, abroad_markup
from vigil.services.sample.sellers import Seller, SellerBook
from vigil.services.sample.texts import Platform, TextBank, UnrelatedItem, Weighted, pick
from vigil.services.sample.titles import (
    BrandText,
    ProductText,
    TitleWriter,
    brand_text,
    product_text,
)

_LABELS = ("genuine", "grey", "counterfeit", "accessory")
_CONDITIONS: dict[str, Weighted[str]] = {
    "genuine": Weighted({"new": 70, "unknown": 30}),
    "counterfeit": Weighted({"new": 55, "unknown": 45}),
    "accessory": Weighted({"new": 65, "unknown": 35}),
    "unrelated": Weighted({"new": 60, "unknown": 35, "used": 5}),
}


class _Posted(NamedTuple):
    """A genuine listing kept for a while, to be posted again on another platform."""

    brand: int
    model: str
    platform: str
    zh: bool
    title: str
    description: str | None
    price_cny: float
    category: str | None


class ListingMaker:
    """Makes listings and their truth rows, from one `random.Random(seed)`.

    With an `album`, listings show images too; the album has a generator of its own, so the
    listings' words are those of a sample without images, but for the counterfeits whose words
    hide their brand (the album decides which). A `library` rewrites the words of some listings
    once a chunk is made (copies of works, rings, boilerplate), with its own generator too.
    """

    def __init__(
        self,
        catalog: Catalog,
        bank: TextBank,
        rates: dict[str, float],
        *,
        seed: int,
        pool_size: int,
        album: Album | None = None,
        library: Library | None = None,
    ) -> None:
        self.seed = seed
        self.album = album
        self.library = library
        self.rng = random.Random(seed)
        self.draw = self.rng.random
        self.catalog = catalog
        self.bank = bank
        self.rates = rates
        self.titles = TitleWriter(bank, self.draw)
        self.sellers = SellerBook(bank, catalog, seed=seed, pool_size=pool_size)
        self.records = RecordMaker(rates, self.draw)
        self.recent: deque[_Posted] = deque(maxlen=64)
        # Made on first use, then kept: a brand's variants, a product's ways of being written.
        self._brand_texts: list[BrandText | None] = [None] * len(catalog.brands)
        self._product_texts: list[list[ProductText | None]] = [
            [None] * len(brand.products) for brand in catalog.brands
        ]
        self.accessory_products = [
            [i for i, p in enumerate(b.products) if bank.category(p.category).has_accessories]
            for b in catalog.brands
        ]
        self.brand_pickers: dict[str, Weighted[int]] = {}
        for label in _LABELS:
            weights = []
            for index, brand in enumerate(catalog.brands):
                candidates = (
                    [brand.products[i] for i in self.accessory_products[index]]
                    if label == "accessory"
                    else brand.products
                )
                if candidates:
                    affinity = sum(
                        bank.category(p.category).affinity.get(label, 1.0) for p in candidates
                    ) / len(candidates)
                    weights.append((index, brand.popularity * affinity))
            if any(weight > 0 for _, weight in weights):
                self.brand_pickers[label] = Weighted(weights)
        self.recipes = {
            "genuine": self._genuine,
            "grey": self._grey,
            "counterfeit": self._counterfeit,
            "accessory": self._accessory,
            "unrelated": self._unrelated,
        }
        for label in _LABELS:
            if label not in self.brand_pickers:  # a catalogue too small for this kind
                self.recipes[label] = self._unrelated
        self.trick_sets = {
            variants: bank.trick_sets(variants=variants) for variants in (True, False)
        }
        self.hard_unrelated = [item for item in bank.unrelated if item.hard]
        self.plain_unrelated = [item for item in bank.unrelated if not item.hard]

    def restart(self, chunk: int, first: int) -> None:
        """Start chunk `chunk` of the sample, whose first listing is number `first`.

        A chunk depends on nothing but the seed and its number, so that chunks made in any
        process, in any order, give the same sample.
        """
        self.rng.seed(f"vigil-sample:{self.seed}:{chunk}")
        self.recent.clear()
        self.records.number = first
        if self.album is not None:
            self.album.restart(chunk)
        if self.library is not None:
            self.library.restart(chunk)

    def make(self) -> tuple[Record, Record]:
        """The next listing and its truth row."""
        return self.recipes[self.bank.label_mix(self.draw)]()

    # -- the recipes -------------------------------------------------------------------------

    def _genuine(self) -> tuple[Record, Record]:
        draw, bank = self.draw, self.bank
        if self.recent and draw() < 0.06:
            reposted = self._repost()
            if reposted is not None:
                return reposted
        brand, product, platform, zh = self._choose("genuine")
        authorized = self.sellers.authorized(brand.index, brand.brand, platform.name)
        official = bool(authorized) and draw() < 0.55
        if official:
            seller = pick(authorized, draw)
            low, high = bank.prices["genuine_authorized"]
            full = 0.25  # official shops often sell at the list price
        else:
            seller = self.sellers.pick(self._reseller(platform), platform.name, draw)
            low, high = bank.prices["genuine_reseller"]
            full = 0.1
        factor = 1.0 if draw() < full else low + (high - low) * draw()
        price_cny = product.msrp_cny * product.product.market * factor
        no_fakes = draw() < 0.03
        title = self.titles.genuine(brand, product, zh, no_fakes=no_fakes)
        lang = "zh" if zh else "en"
        extra = pick(bank.descriptions[f"no_fakes_{lang}"], draw) if draw() < 0.02 else None
        description = self.titles.description(
            bank.descriptions[f"genuine_{lang}"],
            zh,
            lambda: self._fields(brand, product, zh),
            extra,
        )
        category = self._category_label(product.words.labels_zh, product.words.labels_en, zh)
        record = self.records.listing(
            platform, title, description, price_cny, _CONDITIONS["genuine"](draw), seller, category
        )
        self._genuine_images(record, brand.index, product.product.model, seller, official)
        if draw() < 0.25:
            self.recent.append(
                _Posted(
                    brand.index,
                    product.product.model,
                    platform.name,
                    zh,
                    title,
                    description,
                    price_cny,
                    category,
                )
            )
        return record, self.records.truth(
            record, "genuine", brand.brand.name, product.product.model
        )

    def _repost(self) -> tuple[Record, Record] | None:
        """The same genuine offer on another platform: same words, nearly the same price."""
        draw = self.draw
        posted = pick(self.recent, draw)
        platform = self.bank.platforms[self.bank.label_platforms["genuine"](draw)]
        if platform.name == posted.platform or platform.chinese != posted.zh:
            return None
        brand = self.catalog.brands[posted.brand]
        authorized = self.sellers.authorized(posted.brand, brand, platform.name)
        official = bool(authorized) and draw() < 0.6
        seller = (
            pick(authorized, draw)
            if official
            else self.sellers.pick(self._reseller(platform), platform.name, draw)
        )
        price = posted.price_cny * (0.97 + 0.06 * draw())
        record = self.records.listing(
            platform,
            posted.title,
            posted.description,
            price,
            _CONDITIONS["genuine"](draw),
            seller,
            posted.category,
        )
        self._genuine_images(record, posted.brand, posted.model, seller, official)
        return record, self.records.truth(record, "genuine", brand.name, posted.model)

    def _grey(self) -> tuple[Record, Record]:
        draw, bank = self.draw, self.bank
        brand, product, platform, zh = self._choose("grey")
        kind = bank.grey[product.words.grey_kinds(draw)]
        tagged = draw() < 0.85
        title = self.titles.grey(brand, product, zh, kind, tagged=tagged)
        low, high = kind.price
        market = 1.0 if kind.name == "parts" else product.product.market
        price_cny = product.msrp_cny * market * (low + (high - low) * draw())
        if platform.name == "xianyu" or draw() < 0.45:
            seller = self.sellers.pick("person", platform.name, draw)
        else:
            seller = self.sellers.pick("reseller", platform.name, draw)
        pool = bank.descriptions[f"grey_{'zh' if zh else 'en'}.{kind.name}"]
        # An untagged title leaves the description to say what the item really is.
        extra = None if tagged else pick(pool, draw)
        description = self.titles.description(
            pool, zh, lambda: self._fields(brand, product, zh), extra
        )
        category = self._category_label(product.words.labels_zh, product.words.labels_en, zh)
        record = self.records.listing(
            platform, title, description, price_cny, kind.conditions(draw), seller, category
        )
        self._own_images(record, seller)
        return record, self.records.truth(record, "grey", brand.brand.name, product.product.model)

    def _counterfeit(self) -> tuple[Record, Record]:
        draw, bank = self.draw, self.bank
        brand, product, platform, zh = self._choose("counterfeit")
        hidden = self.album is not None and self.album.hides_brand()
        lang = "zh" if zh else "en"
        kinds = brand.variant_kinds_zh if zh else brand.variant_kinds_en
        tricks = self._tricks(variants=kinds is not None)
        variant_kind = None
        if "variant_name" in tricks and kinds is not None:
            variant_kind = kinds(draw)
            brand_form = pick(brand.variants[variant_kind], draw)
        else:
            brand_form = pick(brand.forms_zh if zh else brand.forms_en, draw)
        wording = (
            pick(bank.wording_zh if zh else bank.wording_en, draw) if "wording" in tricks else None
        )
        in_title = wording is not None and draw() < 0.7
        title = self.titles.counterfeit(
            brand, product, zh, brand_form, wording if in_title else None
        )
        extra = None
        if wording is not None and (not in_title or draw() < 0.3):
            extra = pick(bank.descriptions[f"counterfeit_wording_{lang}"], draw)
            extra = extra.replace("{w}", wording)
        description = self.titles.description(
            bank.descriptions[f"counterfeit_{lang}"], zh, None, extra
        )
        low, high = bank.prices["counterfeit_cheap" if "low_price" in tricks else "counterfeit"]
        price_cny = product.msrp_cny * (low + (high - low) * draw())
        roll = draw()
        if roll < 0.12:
            seller = self.sellers.fake_official(
                brand.index, brand.brand, platform.name, int(draw() * 3)
            )
        elif roll < 0.85:
            seller = self.sellers.pick("fake", platform.name, draw)
        else:
            seller = self.sellers.pick(self._reseller(platform), platform.name, draw)
        if hidden:
            # The words name neither brand nor model, and no shop posing as the brand's sells it:
            # only the logo in the photo gives it away.
            assert self.album is not None
            title, description = brandless_words(
                bank, brand, product, zh, wording, in_title, self.album.draw
            )
            if roll < 0.12:
                seller = self.sellers.pick("fake", platform.name, self.album.draw)
        category = self._category_label(product.words.labels_zh, product.words.labels_en, zh)
        record = self.records.listing(
            platform,
            title,
            description,
            price_cny,
            _CONDITIONS["counterfeit"](draw),
            seller,
            category,
        )
        if self.album is not None:
            index = brand.index
            shown = self.album.counterfeit(
                index, self._product_index(index, product.product.model), hidden=hidden
            )
            self.album.show(record, shown or self.album.own(seller.record, platform.name))
        truth = self.records.truth(record, "counterfeit", brand.brand.name, product.product.model)
        if hidden:  # its words carry no variant of the brand, nor the brand at all
            tricks = (*(t for t in tricks if t != "variant_name"), "hidden_brand")
            variant_kind = None
        truth["tricks"] = sorted(tricks)
        if variant_kind is not None:
            truth["variant"] = variant_kind
        return record, truth

    def _tricks(self, *, variants: bool) -> tuple[str, ...]:
        """One or two of the counterfeit tricks, never all three."""
        count = min(self.bank.trick_count(self.draw), 2)
        return self.trick_sets[variants][count](self.draw)

    def _accessory(self) -> tuple[Record, Record]:
        draw, bank = self.draw, self.bank
        index = self.brand_pickers["accessory"](draw)
        product_index = pick(self.accessory_products[index], draw)
        brand, product = self._brand(index), self._product(index, product_index)
        platform = bank.platforms[bank.label_platforms["accessory"](draw)]
        zh = draw() < platform.zh_share
        title, accessory = self.titles.accessory(brand, product, zh)
        low, high = product.words.accessory_price
        price_cny = low * (high / low) ** draw() * abroad_markup(platform)
        roll = draw()
        kind = "accessory" if roll < 0.75 else "reseller" if roll < 0.87 else "general"
        if roll > 0.95:
            kind = "fake"
        seller = self.sellers.pick(kind, platform.name, draw)
        lang = "zh" if zh else "en"
        description = self.titles.description(
            bank.descriptions[f"accessory_{lang}"],
            zh,
            lambda: {**self._fields(brand, product, zh), "{acc}": accessory},
        )
        words = product.words
        if draw() < 0.75:
            category = self._category_label(
                words.accessory_labels_zh, words.accessory_labels_en, zh
            )
        else:
            category = self._category_label(words.labels_zh, words.labels_en, zh)
        record = self.records.listing(
            platform,
            title,
            description,
            price_cny,
            _CONDITIONS["accessory"](draw),
            seller,
            category,
        )
        self._own_images(record, seller)
        return record, self.records.truth(
            record, "accessory", brand.brand.name, product.product.model
        )

    def _unrelated(self) -> tuple[Record, Record]:
        draw, bank = self.draw, self.bank
        item = pick(self.hard_unrelated if draw() < 0.4 else self.plain_unrelated, draw)
        platform = bank.platforms[bank.label_platforms["unrelated"](draw)]
        zh = draw() < platform.zh_share
        if (zh and item.zh is None) or (not zh and item.en is None):
            platform, zh = self._platform_for(item)
        title = self.titles.unrelated(item, zh)
        low, high = item.price
        amount = low + (high - low) * draw()
        if item.zh is None:  # priced in dollars
            price_cny = amount * self.rates["USD"]
        else:
            price_cny = amount * abroad_markup(platform)
        roll = draw()
        kind = "general" if roll < 0.7 else "reseller" if roll < 0.85 else "person"
        if roll > 0.97:
            kind = "fake"
        seller = self.sellers.pick(kind, platform.name, draw)
        lang = "zh" if zh else "en"
        description = self.titles.description(bank.descriptions[f"unrelated_{lang}"], zh)
        category = item.label_zh if zh else item.label_en
        record = self.records.listing(
            platform,
            title,
            description,
            price_cny,
            _CONDITIONS["unrelated"](draw),
            seller,
            category,
        )
        self._own_images(record, seller)
        return record, self.records.truth(record, "unrelated", None)

    # -- images ------------------------------------------------------------------------------

    def _genuine_images(
        self, record: Record, brand: int, model: str, seller: Seller, official: bool
    ) -> None:
        """Authorized sellers show the official photos; resellers their own."""
        if self.album is None:
            return
        shown: list[Shown]
        if official:
            shown = self.album.official(brand, self._product_index(brand, model))
        else:
            shown = self.album.own(seller.record, record["platform"])
        self.album.show(record, shown)

    def _own_images(self, record: Record, seller: Seller) -> None:
        if self.album is not None:
            self.album.show(record, self.album.own(seller.record, record["platform"]))

    def _product_index(self, brand: int, model: str) -> int:
        assert self.album is not None
        return self.album.gallery.product_index(brand, model)

    # -- shared pieces -----------------------------------------------------------------------

    def _choose(self, label: str) -> tuple[BrandText, ProductText, Platform, bool]:
        draw = self.draw
        index = self.brand_pickers[label](draw)
        products = self.catalog.brands[index].products
        product = self._product(index, int(draw() * len(products)))
        platform = self.bank.platforms[self.bank.label_platforms[label](draw)]
        return self._brand(index), product, platform, draw() < platform.zh_share

    def _platform_for(self, item: UnrelatedItem) -> tuple[Platform, bool]:
        names = ("taobao", "pinduoduo", "jd", "tmall") if item.en is None else ("ebay", "amazon")
        return self.bank.platforms[pick(names, self.draw)], item.en is None

    def _brand(self, index: int) -> BrandText:
        text = self._brand_texts[index]
        if text is None:
            brand = self.catalog.brands[index]
            rng = random.Random(f"vigil-sample-variants:{brand.name}")
            text = self._brand_texts[index] = brand_text(index, brand, self.bank, rng)
        return text

    def _product(self, brand_index: int, product_index: int) -> ProductText:
        text = self._product_texts[brand_index][product_index]
        if text is None:
            brand = self.catalog.brands[brand_index]
            product = brand.products[product_index]
            rate = self.rates.get(product.currency, 1.0)
            text = product_text(brand, product, self.bank, rate)
            self._product_texts[brand_index][product_index] = text
        return text

    def _reseller(self, platform: Platform) -> str:
        return "person" if platform.name == "xianyu" else "reseller"

    def _fields(self, brand: BrandText, product: ProductText, zh: bool) -> dict[str, str]:
        draw = self.draw
        keywords = product.words.keywords_zh if zh else product.words.keywords_en
        return {
            "{brand}": brand.brand.zh if zh and brand.brand.zh else brand.brand.name,
            "{model}": product.product.model,
            "{kw}": pick(keywords, draw),
            "{kw2}": pick(keywords, draw),
            "{months}": str(1 + int(draw() * 24)),
            "{pct}": str(78 + int(draw() * 23)),
            "{n}": str(2 + int(draw() * 4)),
        }

    def _category_label(self, zh_labels: list[str], en_labels: list[str], zh: bool) -> str | None:
        labels = zh_labels if zh else en_labels
        return pick(labels, self.draw) if labels and self.draw() < 0.92 else None
