"""The sample's catalogue: real-world brands from `catalog.yaml`, cut or padded to size.

The catalogue is what the generator knows about each brand (its Chinese name, the variants
counterfeiters spell it with, its own shops); `Catalog.registry_data` is the part of it the
alliance registers, in the registry contract's shape.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol

import yaml

DATA_PACKAGE = "vigil.data.sample"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_data(name: str) -> dict[str, Any]:
    """A YAML file shipped in `vigil/data/sample/`."""
    text = resources.files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    data = yaml.load(text, Loader=_LOADER)
    if not isinstance(data, dict):
        raise ValueError(f"vigil/data/sample/{name}: expected a mapping at the top")
    return data


class Pictures(Protocol):
    """The registry's image files of a sample, by brand and product index."""

    def product_images(self, brand: int, product: int) -> list[str]: ...
    def logos(self, brand: int) -> list[str]: ...
    def counterfeit_images(self, brand: int) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class ProductSpec:
    brand: str
    model: str
    category: str
    msrp: float
    currency: str
    aliases: tuple[str, ...] = ()
    # Street price as a share of MSRP: scarce goods (Moutai, a Daytona) sell above it.
    market: float = 1.0


@dataclass(slots=True)
class BrandSpec:
    name: str
    owner: str
    zh: str | None
    aliases: tuple[str, ...]
    categories: tuple[str, ...]
    common_word: bool
    homophones: tuple[str, ...]
    misspellings: tuple[str, ...]
    stores: dict[str, str]
    exclusive: bool
    popularity: float
    currency: str
    invented: bool = False
    products: list[ProductSpec] = field(default_factory=list)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the brand is registered under."""
        return (self.name, *((self.zh,) if self.zh else ()), *self.aliases)


@dataclass(frozen=True, slots=True)
class Dealer:
    """A retailer authorized for every non-exclusive brand of its categories."""

    platform: str
    seller_id: str
    categories: frozenset[str]


@dataclass(slots=True)
class Catalog:
    members: list[dict[str, str]]
    brands: list[BrandSpec]
    dealers: list[Dealer]
    mark_classes: dict[str, list[int]]

    @property
    def product_count(self) -> int:
        return sum(len(brand.products) for brand in self.brands)

    def authorized_sellers(self, brand: BrandSpec) -> list[tuple[str, str]]:
        """(platform, seller_id) of the brand's own shops and of its dealers."""
        sellers = list(brand.stores.items())
        if not brand.exclusive:
            categories = set(brand.categories)
            sellers += [
                (dealer.platform, dealer.seller_id)
                for dealer in self.dealers
                if categories & dealer.categories
            ]
        return list(dict.fromkeys(sellers))

    def registry_data(
        self, pictures: Pictures | None = None, works: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The registry this catalogue registers, as plain data in the contract's shape.

        With `pictures`, brands list their logos and counterfeit-case photos and products their
        official photos; with `works`, the registry lists those works too.
        """
        brands = []
        for b, brand in enumerate(self.brands):
            entry: dict[str, Any] = {
                "name": brand.name,
                "owner": brand.owner,
                "aliases": list(brand.names[1:]),
                "marks": _marks(brand, self.mark_classes),
            }
            if pictures is not None:
                entry["logos"] = pictures.logos(b)
            entry["authorized_sellers"] = [
                {"platform": platform, "seller_id": seller_id}
                for platform, seller_id in self.authorized_sellers(brand)
            ]
            entry["categories"] = list(brand.categories)
            entry["common_word"] = brand.common_word
            if pictures is not None and pictures.counterfeit_images(b):
                entry["counterfeit_images"] = pictures.counterfeit_images(b)
            brands.append(entry)
        products = []
        for b, brand in enumerate(self.brands):
            for p, product in enumerate(brand.products):
                item: dict[str, Any] = {
                    "brand": product.brand,
                    "model": product.model,
                    "aliases": product_aliases(brand, product),
                    "category": product.category,
                    "msrp": {"amount": _amount(product.msrp), "currency": product.currency},
                }
                if pictures is not None:
                    item["images"] = pictures.product_images(b, p)
                products.append(item)
        data = {"members": self.members, "brands": brands, "products": products}
        if works:
            data["works"] = works
        return data


_LETTER_THEN_DIGIT = re.compile(r"(?<=[A-Za-z]) (?=\d)")


def spelled_forms(model: str) -> list[str]:
    """How sellers spell a model name: as registered, "Mate60 Pro", "Mate60Pro", "mate60pro".

    Only short names are run together: nobody types "speedmastermoonwatchprofessional".
    """
    forms = [model, _LETTER_THEN_DIGIT.sub("", model)]
    compact = model.replace(" ", "")
    if len(compact) <= 10:
        forms += [compact, compact.lower()]
    return list(dict.fromkeys(forms))


def brand_prefix(brand: BrandSpec, model: str) -> str | None:
    """The model without the brand's name in front ("14 Ultra" of "Xiaomi 14 Ultra"), or None."""
    head = brand.name + " "
    return model[len(head) :] if model.startswith(head) and len(model) > len(head) else None


def product_aliases(brand: BrandSpec, product: ProductSpec) -> list[str]:
    """Registered aliases: the catalogue's own, other spellings and the Chinese-named form."""
    aliases = list(product.aliases)
    aliases += spelled_forms(product.model)[1:]
    short = brand_prefix(brand, product.model)
    if short is not None and brand.zh:
        aliases.append(brand.zh + _LETTER_THEN_DIGIT.sub("", short))
    unique: list[str] = []
    for alias in aliases:
        if alias != product.model and alias not in unique:
            unique.append(alias)
    return unique


def _marks(brand: BrandSpec, mark_classes: dict[str, list[int]]) -> list[dict[str, Any]]:
    # Invented numbers, stable per brand name so that every sample registers the same marks.
    rng = random.Random(f"vigil-sample-mark:{brand.name}")
    classes = sorted({c for category in brand.categories for c in mark_classes.get(category, [])})
    marks: list[dict[str, Any]] = [
        {
            "number": str(rng.randrange(1_000_000, 60_000_000)),
            "jurisdiction": "CN",
            "classes": classes,
        }
    ]
    if rng.random() < 0.6:
        jurisdiction = rng.choice(["US", "EU", "WIPO"])
        number = {
            "US": str(rng.randrange(1_000_000, 7_500_000)),
            "EU": f"{rng.randrange(0, 19_000_000):09d}",
            "WIPO": str(rng.randrange(400_000, 1_800_000)),
        }[jurisdiction]
        marks.append({"number": number, "jurisdiction": jurisdiction, "classes": list(classes)})
    return marks


def _amount(value: float) -> int | float:
    return int(value) if value == int(value) else value


def _strings(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


def _brand(raw: dict[str, Any]) -> BrandSpec:
    currency = str(raw.get("currency", "CNY"))
    categories = _strings(raw["categories"])
    brand = BrandSpec(
        name=str(raw["name"]),
        owner=str(raw["owner"]),
        zh=str(raw["zh"]) if raw.get("zh") else None,
        aliases=_strings(raw.get("aliases")),
        categories=categories,
        common_word=bool(raw.get("common_word", False)),
        homophones=_strings(raw.get("homophones")),
        misspellings=_strings(raw.get("misspellings")),
        stores={str(k): str(v) for k, v in (raw.get("stores") or {}).items()},
        exclusive=bool(raw.get("exclusive", False)),
        popularity=float(raw.get("popularity", 3)),
        currency=currency,
    )
    for item in raw.get("products") or []:
        brand.products.append(
            ProductSpec(
                brand=brand.name,
                model=str(item["model"]),
                category=str(item.get("category", categories[0])),
                msrp=float(item["msrp"]),
                currency=str(item.get("currency", currency)),
                aliases=_strings(item.get("aliases")),
                market=float(item.get("market", 1.0)),
            )
        )
    return brand


def load_catalog() -> Catalog:
    """The shipped catalogue of real-world brands, unpadded."""
    data = load_data("catalog.yaml")
    return Catalog(
        members=[{k: str(v) for k, v in m.items()} for m in data["members"]],
        brands=[_brand(raw) for raw in data["brands"]],
        dealers=[
            Dealer(str(d["platform"]), str(d["seller_id"]), frozenset(_strings(d["categories"])))
            for d in data["dealers"]
        ],
        mark_classes={str(k): [int(c) for c in v] for k, v in data["mark_classes"].items()},
    )


def keep_products(brands: list[BrandSpec], count: int) -> None:
    """Cut the brands' products to `count` in all, taking from each brand in turn."""
    kept: list[list[ProductSpec]] = [[] for _ in brands]
    total = 0
    depth = 0
    while total < count:
        took = False
        for index, brand in enumerate(brands):
            if depth < len(brand.products) and total < count:
                kept[index].append(brand.products[depth])
                total += 1
                took = True
        if not took:
            break
        depth += 1
    for brand, products in zip(brands, kept, strict=True):
        brand.products = products
