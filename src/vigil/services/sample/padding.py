"""Invented brands and models, for samples that ask for more than the shipped catalogue.

Invented names are built from syllables with Chinese transliterations ("Norvexa" / "诺维萨"),
so that they have the same kinds of variants as real names (homophones, pinyin, look-alikes).
The padding does not depend on the sample's seed: a given size always registers the same
alliance, and only the listings change with the seed.
"""

from __future__ import annotations

import math
import random
from typing import Any

from vigil.services.sample.catalog import (
    BrandSpec,
    Catalog,
    ProductSpec,
    keep_products,
    load_catalog,
    load_data,
)

_SERIES_LETTERS = "ABCDEGHKMNPRSTVXZ"


def build_catalog(*, brands: int | None = None, products: int | None = None) -> Catalog:
    """The catalogue cut or padded to `brands` brands and `products` products in all."""
    if brands is not None and brands < 1:
        raise ValueError(f"a sample needs at least one brand, not {brands}")
    if products is not None and products < 1:
        raise ValueError(f"a sample needs at least one product, not {products}")
    catalog = load_catalog()
    if brands is not None and brands < len(catalog.brands):
        # Keep the most listed brands, in the catalogue's order.
        ranked = sorted(catalog.brands, key=lambda b: -b.popularity)[:brands]
        kept = {id(b) for b in ranked}
        catalog.brands = [b for b in catalog.brands if id(b) in kept]
    inventor = _Inventor(catalog, load_data("padding.yaml"))
    invented: list[BrandSpec] = []
    while brands is not None and len(catalog.brands) < brands:
        brand = inventor.brand()
        if products is None:
            for _ in range(inventor.rng.randint(5, 12)):
                brand.products.append(inventor.product(brand))
        catalog.brands.append(brand)
        invented.append(brand)
    if products is not None:
        missing = products - catalog.product_count
        if missing < 0:
            keep_products(catalog.brands, products)
        # Invented brands get their models first, then every brand in turn.
        order = invented + [b for b in catalog.brands if not b.invented]
        for index in range(max(missing, 0)):
            brand = order[index % len(order)]
            brand.products.append(inventor.product(brand))
    return catalog


class _Inventor:
    def __init__(self, catalog: Catalog, pad: dict[str, Any]) -> None:
        self.rng = random.Random("vigil-sample-padding")
        self.catalog = catalog
        self.syllables = [
            (str(latin), [str(c) for c in chars]) for latin, chars in pad["syllables"]
        ]
        self.endings = [str(e) for e in pad["endings"]]
        self.owner_suffixes = [str(s) for s in pad["owner_suffixes"]]
        self.models: dict[str, dict[str, Any]] = pad["models"]
        self.categories = sorted(self.models)
        self.taken = {name.lower() for brand in catalog.brands for name in brand.names}
        self.taken |= {member["id"] for member in catalog.members}

    def brand(self) -> BrandSpec:
        rng = self.rng
        while True:
            picks = rng.sample(range(len(self.syllables)), 2 if rng.random() < 0.6 else 3)
            latin = "".join(self.syllables[i][0] for i in picks) + rng.choice(self.endings)
            latin = latin.capitalize()
            chars = [rng.randrange(len(self.syllables[i][1])) for i in picks]
            zh = "".join(self.syllables[i][1][c] for i, c in zip(picks, chars, strict=True))
            if 4 <= len(latin) <= 11 and latin.lower() not in self.taken and zh not in self.taken:
                break
        self.taken |= {latin.lower(), zh}
        homophones = []
        for position, (index, chosen) in enumerate(zip(picks, chars, strict=True)):
            for other, char in enumerate(self.syllables[index][1]):
                if other != chosen:
                    homophones.append(zh[:position] + char + zh[position + 1 :])
        rng.shuffle(homophones)
        categories = [rng.choice(self.categories)]
        if rng.random() < 0.2:
            second = rng.choice(self.categories)
            if second != categories[0]:
                categories.append(second)
        owner = latin.lower()
        self.catalog.members.append(
            {
                "id": owner,
                "name": f"{latin} {rng.choice(self.owner_suffixes)}",
                "kind": "brand_owner",
            }
        )
        stores = {"tmall": f"{zh}官方旗舰店"}
        if rng.random() < 0.4:
            stores["jd"] = f"{zh}京东自营旗舰店"
        if rng.random() < 0.3:
            stores["pinduoduo"] = f"{zh}官方旗舰店"
        if rng.random() < 0.2:
            stores["amazon"] = f"{latin} Official"
        return BrandSpec(
            name=latin,
            owner=owner,
            zh=zh,
            aliases=(),
            categories=tuple(categories),
            common_word=False,
            homophones=tuple(homophones[:3]),
            misspellings=(),
            stores=stores,
            exclusive=False,
            popularity=round(rng.uniform(0.5, 3.0), 2),
            currency="CNY",
            invented=True,
        )

    def product(self, brand: BrandSpec) -> ProductSpec:
        rng = self.rng
        category = rng.choice(brand.categories)
        spec = self.models.get(category) or self.models[self.categories[0]]
        taken = {p.model for p in brand.products}
        model = ""
        for _ in range(20):
            model = rng.choice(spec["patterns"]).format(
                B=brand.name,
                W=rng.choice(spec["words"]),
                L=rng.choice(_SERIES_LETTERS),
                n=rng.randint(1, 20) if rng.random() < 0.7 else rng.randint(21, 99),
                N=rng.randrange(10_000, 80_000),
                s=rng.choice(spec["suffixes"]),
            )
            if model not in taken:
                break
        else:
            model = f"{model} {len(brand.products) + 1}"
        low, high = spec["msrp"]
        return ProductSpec(
            brand=brand.name,
            model=model,
            category=category,
            msrp=_shelf_price(math.exp(rng.uniform(math.log(low), math.log(high)))),
            currency="CNY",
        )


def _shelf_price(amount: float) -> float:
    """A price as shops print it: 4599, 299, 59."""
    if amount >= 1000:
        return float(round(amount / 100) * 100 - 1)
    if amount >= 100:
        return float(round(amount / 10) * 10 - 1)
    return float(max(round(amount), 1))
