"""Titles and descriptions as marketplace sellers write them, for each kind of listing.

Chinese titles are long strings of keywords ("【顺丰包邮】小米14 Ultra 16+512G 5G手机 官方正品");
English ones read more like "Apple iPhone 15 Pro 256GB Unlocked - Brand New". Brand names come
in as `{B}` in product templates, so that an honest title and a counterfeit one can put
different spellings of the brand into the same words.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from vigil.services.sample.catalog import BrandSpec, ProductSpec, brand_prefix, spelled_forms
from vigil.services.sample.texts import (
    CategoryWords,
    Draw,
    GreyKind,
    TextBank,
    UnrelatedItem,
    Weighted,
    pick,
)
from vigil.services.sample.variants import CHINESE_KINDS, LATIN_KINDS, brand_variants

_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(slots=True)
class BrandText:
    """How listings write one brand: honestly, and in variants by kind."""

    index: int
    brand: BrandSpec
    forms_zh: list[str]
    forms_en: list[str]
    variants: dict[str, tuple[str, ...]]
    variant_kinds_zh: Weighted[str] | None
    variant_kinds_en: Weighted[str] | None


@dataclass(slots=True)
class ProductText:
    """How listings write one product: templates with `{B}` where the brand goes."""

    product: ProductSpec
    msrp_cny: float
    words: CategoryWords
    templates_zh: list[str]
    templates_en: list[str]
    # The model without the brand, for accessories ("适用于{B}{M}手机壳").
    bare_zh: list[str]
    bare_en: list[str]
    brand_required: bool


def brand_text(index: int, brand: BrandSpec, bank: TextBank, rng: random.Random) -> BrandText:
    """How listings write the brand; `rng` makes its variants."""
    latin_aliases = [a for a in brand.aliases if not _CJK.search(a)]
    chinese_aliases = [a for a in brand.aliases if _CJK.search(a)]
    upper = brand.name.upper()
    if brand.zh:
        forms_zh = [brand.zh] * 5 + [
            brand.name,
            upper,
            f"{upper}/{brand.zh}",
            f"{brand.zh}/{upper}",
        ]
    else:
        forms_zh = [brand.name] * 4 + [upper]
    forms_zh += latin_aliases + chinese_aliases
    forms_en = [brand.name] * 5 + [upper] + latin_aliases
    variants = brand_variants(brand, rng)

    def kinds(script: str, allowed: tuple[str, ...]) -> Weighted[str] | None:
        weights = {
            k: w for k, w in bank.variant_kinds[script].items() if k in variants and k in allowed
        }
        return Weighted(weights) if weights else None

    return BrandText(
        index=index,
        brand=brand,
        forms_zh=forms_zh,
        forms_en=forms_en,
        variants=variants,
        variant_kinds_zh=kinds("zh", LATIN_KINDS + CHINESE_KINDS),
        variant_kinds_en=kinds("en", LATIN_KINDS),
    )


def product_text(
    brand: BrandSpec, product: ProductSpec, bank: TextBank, rate: float
) -> ProductText:
    """How listings write the product; `rate` converts its MSRP into CNY."""
    short = brand_prefix(brand, product.model)
    name = short if short is not None else product.model
    spellings = spelled_forms(name)
    templates_en = [f"{{B}} {name}"] * 2 + [f"{{B}} {s}" for s in spellings]
    templates_zh = [f"{{B}}{spellings[min(1, len(spellings) - 1)]}", f"{{B}} {name}"]
    templates_zh += [f"{{B}}{s}" for s in spellings]
    bare_zh = list(spellings)
    for alias in product.aliases:
        if brand.zh and brand.zh in alias:
            templates_zh.append(alias.replace(brand.zh, "{B}"))
        elif brand.name in alias:
            templates_zh.append(alias.replace(brand.name, "{B}"))
        elif _CJK.search(alias):
            templates_zh += [f"{{B}}{alias}", f"{{B}} {alias}"]
            bare_zh.append(alias)
        else:
            templates_zh.append(f"{{B}} {alias}")
            templates_en.append(f"{{B}} {alias}")
    return ProductText(
        product=product,
        msrp_cny=product.msrp * rate,
        words=bank.category(product.category),
        templates_zh=templates_zh,
        templates_en=templates_en,
        bare_zh=bare_zh,
        bare_en=spellings,
        brand_required=short is not None,
    )


def _run_on(left: str, right: str) -> bool:
    """Whether writing `left` and `right` together would run two Latin words into one."""
    return (
        bool(left and right)
        and left[-1].isascii()
        and left[-1].isalnum()
        and (right[0].isascii() and right[0].isalnum())
    )


def _typo(words: str, draw: Draw) -> str:
    """A slip of the keyboard: a letter dropped or two swapped, inside a longer word."""
    long = [i for i, word in enumerate(words.split(" ")) if len(word) >= 5 and word.isalpha()]
    if not long:
        return words
    split = words.split(" ")
    index = long[int(draw() * len(long))]
    word = split[index]
    at = 1 + int(draw() * (len(word) - 3))
    if draw() < 0.5:
        split[index] = word[:at] + word[at + 1 :]
    else:
        split[index] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return " ".join(split)


def _fill(template: str, fields: dict[str, str], draw: Draw, keywords: list[str]) -> str:
    for key, value in fields.items():
        template = template.replace(key, value)
    while "{kw}" in template:
        template = template.replace("{kw}", pick(keywords, draw), 1)
    return template


class TitleWriter:
    """Writes the titles and descriptions; every choice comes from the one seeded `draw`."""

    def __init__(self, bank: TextBank, draw: Draw) -> None:
        self.bank = bank
        self.draw = draw
        self.taglines_en = bank.promos_en + bank.guarantees_en

    def _join(self, parts: list[str], zh: bool) -> str:
        draw = self.draw
        if draw() < 0.12:
            emoji = pick(self.bank.emoji, draw)
            parts.insert(0 if draw() < 0.5 else len(parts), emoji)
        title = ("" if zh and draw() < 0.08 else " ").join(parts)
        if not zh and draw() < 0.07:
            title = title.upper()
        return title

    def _stuff(self, parts: list[str], words: CategoryWords, zh: bool, most: int) -> None:
        """Specs and search keywords after the product, as many as the seller felt like."""
        draw = self.draw
        before = len(parts)
        for slot in words.specs_zh if zh else words.specs_en:
            if draw() < 0.6:
                parts.append(slot[int(draw() * len(slot))])
        keywords = words.keywords_zh if zh else words.keywords_en
        count = len(keywords)
        for _ in range(int(draw() * (most + 1))):
            parts.append(keywords[int(draw() * count)])
        if not zh and len(parts) > before and draw() < 0.05:
            parts[-1] = _typo(parts[-1], draw)  # never in the brand or product name

    def phrase(self, product: ProductText, brand_form: str, zh: bool) -> str:
        templates = product.templates_zh if zh else product.templates_en
        template = templates[int(self.draw() * len(templates))]
        if template.startswith("{B}") and _run_on(brand_form, template[3:]):
            return f"{brand_form} {template[3:]}"
        return template.replace("{B}", brand_form)

    def genuine(self, brand: BrandText, product: ProductText, zh: bool, *, no_fakes: bool) -> str:
        draw, bank = self.draw, self.bank
        parts: list[str] = []
        if zh:
            if draw() < 0.45:
                parts.append(pick(bank.promos_zh, draw))
            if draw() < 0.25:
                parts.append(pick(bank.guarantees_zh, draw))
            parts.append(self.phrase(product, pick(brand.forms_zh, draw), zh))
            self._stuff(parts, product.words, zh, 5)
            if draw() < 0.35:
                parts.append(pick(bank.guarantees_zh, draw))
            if no_fakes:
                parts.append(pick(bank.no_fakes_zh, draw))
        else:
            if draw() < 0.25:
                parts.append(pick(bank.promos_en, draw))
            parts.append(self.phrase(product, pick(brand.forms_en, draw), zh))
            self._stuff(parts, product.words, zh, 2)
            if draw() < 0.3:
                parts.append("- " + pick(self.taglines_en, draw))
            if no_fakes:
                parts.append("- " + pick(bank.no_fakes_en, draw))
        return self._join(parts, zh)

    def grey(
        self, brand: BrandText, product: ProductText, zh: bool, kind: GreyKind, *, tagged: bool
    ) -> str:
        """A used, refurbished, open-box, parallel-import or for-parts listing's title.

        Untagged, the title reads like a new item's and only the description tells.
        """
        draw = self.draw
        tags = kind.zh if zh else kind.en
        parts: list[str] = []
        if tagged and draw() < 0.6:
            parts.append(pick(tags, draw))
        forms = brand.forms_zh if zh else brand.forms_en
        parts.append(self.phrase(product, pick(forms, draw), zh))
        self._stuff(parts, product.words, zh, 2)
        if tagged and (parts[0] not in tags or draw() < 0.4):
            tag = pick(tags, draw)
            parts.append(tag if zh or draw() < 0.5 else f"- {tag}")
        return self._join(parts, zh)

    def counterfeit(
        self, brand: BrandText, product: ProductText, zh: bool, brand_form: str, wording: str | None
    ) -> str:
        """A fake's title; `wording` (高仿, replica …) goes in when the seller says so in it."""
        draw, bank = self.draw, self.bank
        parts: list[str] = []
        if draw() < 0.35:
            parts.append(pick(bank.promos_zh if zh else bank.promos_en, draw))
        parts.append(self.phrase(product, brand_form, zh))
        self._stuff(parts, product.words, zh, 5 if zh else 2)
        if wording is not None:
            if zh and draw() < 0.3:
                parts.insert(0, f"【{wording}】")
            else:
                parts.insert(1 + int(draw() * len(parts)), wording)
        elif draw() < 0.3:
            # Fakes claim to be genuine as loudly as genuine goods do.
            parts.append(pick(bank.guarantees_zh if zh else bank.guarantees_en, draw))
        return self._join(parts, zh)

    def accessory(self, brand: BrandText, product: ProductText, zh: bool) -> tuple[str, str]:
        """An accessory's title, and the accessory it sells."""
        draw, bank, words = self.draw, self.bank, product.words
        accessory = pick(words.accessories_zh if zh else words.accessories_en, draw)
        forms = brand.forms_zh if zh else brand.forms_en
        brand_form = pick(forms, draw)
        if not product.brand_required and draw() < 0.3:
            brand_form = ""
        bare = pick(product.bare_zh if zh else product.bare_en, draw)
        template = pick(bank.accessory_titles_zh if zh else bank.accessory_titles_en, draw)
        if _run_on(brand_form, bare):
            template = template.replace("{B}{M}", "{B} {M}")
        fields = {
            "{B}": brand_form,
            "{M}": bare,
            "{acc}": accessory,
            "{n}": str(2 + int(draw() * 4)),
        }
        keywords = bank.accessory_keywords_zh if zh else bank.accessory_keywords_en
        title = " ".join(_fill(template, fields, draw, keywords).split())
        if draw() < 0.2:
            title = f"{pick(bank.promos_zh if zh else bank.promos_en, draw)} {title}"
        return title, accessory

    def unrelated(self, item: UnrelatedItem, zh: bool) -> str:
        draw, bank = self.draw, self.bank
        core = (item.zh if zh else item.en) or item.zh or item.en or ""
        parts = [core]
        if draw() < 0.3:
            parts.insert(0, pick(bank.promos_zh if zh else bank.promos_en, draw))
        keywords = bank.generic_keywords_zh if zh else bank.generic_keywords_en
        for _ in range(int(draw() * 3)):
            parts.append(pick(keywords, draw))
        return self._join(parts, zh)

    def description(
        self,
        pool: list[str],
        zh: bool,
        fields: Callable[[], dict[str, str]] | None = None,
        extra: str | None = None,
    ) -> str | None:
        """Up to four sentences from the pool, plus `extra` when given; sometimes nothing.

        `fields` gives the values of placeholders such as `{model}`, when a sentence has any.
        """
        draw = self.draw
        roll = draw()
        if extra is None and roll < 0.15:
            return None if roll < 0.1 else ""
        size = len(pool)
        if roll < 0.45:
            sentences = [pool[int(draw() * size)]]
        else:
            chosen = [pool[int(draw() * size)] for _ in range(2 + int(draw() * 3))]
            sentences = list(dict.fromkeys(chosen))
        if extra is not None and extra not in sentences:
            sentences.insert(int(draw() * (len(sentences) + 1)), extra)
        text = ("" if zh else " ").join(sentences)
        if fields is not None and "{" in text:
            text = _fill(text, fields(), draw, [])
        return text
