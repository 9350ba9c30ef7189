"""What the brand matcher looks for, compiled from a registry snapshot: brands, products and
every spelling of their names, as patterns for each text channel."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import permutations

from vigil.detectors.brand.config import BrandSettings, Variant
from vigil.detectors.brand.normalize import (
    Simplifier,
    Skeleton,
    compact,
    is_han,
    phonetic_key,
    pinyin,
)
from vigil.domain.registry import Registry

# Pinyin shorter than this (one syllable) says too little to be matched as a name.
_MIN_PINYIN_LETTERS = 4
# Names of more words than this are not tried in every order.
_MAX_REORDERED_WORDS = 3
# Models of more tokens than this are looked for only as registered and closed up.
_MAX_SPACED_TOKENS = 5
# A model's tokens: runs of letters, of digits, of anything else but spaces.
MODEL_TOKENS = re.compile(r"[a-z\u00c0-\u024f]+|[0-9]+|[^\sa-z0-9\u00c0-\u024f]+")
# Names longer than this are not looked for split at every place.
_MAX_SPLIT_CHARS = 16


@dataclass(frozen=True, slots=True)
class BrandEntry:
    name: str
    common_word: bool
    # Case-folded categories of the brand and of its products.
    categories: frozenset[str]


@dataclass(frozen=True, slots=True)
class ProductEntry:
    brand: int
    model: str


@dataclass(frozen=True, slots=True)
class Alias:
    """One spelling the matcher looks for."""

    text: str  # the spelling: a registered name, or one derived from it (pinyin, reordered)
    source: str  # the registered name it stands for
    brand: int
    product: int | None  # None for a brand name
    derived: Variant | None  # PINYIN or REORDERED for derived spellings, None for registered
    key: str  # simplified and case-folded `text`: what a real-name match reads in the plain channel
    # An everyday word (苹果, 小米, North Face) of a brand marked `common_word`: it attributes a
    # listing only with context. The brand's longer names (小米科技) are not everyday words.
    everyday: bool = False
    # A model spelling that may be a description, not a name (小白鞋 "little white shoes"):
    # it tells the model only next to the brand's name, or as what an accessory fits.
    generic: bool = False


@dataclass(slots=True)
class Catalog:
    brands: list[BrandEntry] = field(default_factory=list)
    products: list[ProductEntry] = field(default_factory=list)
    aliases: list[Alias] = field(default_factory=list)
    # Patterns of each channel and the alias each stands for (the first alias wins a pattern).
    plain: dict[str, int] = field(default_factory=dict)
    skeleton: dict[bytes, int] = field(default_factory=dict)
    phonetic: dict[str, int] = field(default_factory=dict)
    # Latin brand names of one or two words, for the edit-distance search: key -> alias.
    typo_names: dict[str, int] = field(default_factory=dict)
    # By brand: the skeletons of its models with the brand name taken off ("13 ultra" of
    # "Xiaomi 13 Ultra"), to tell the model after a look-alike brand name (晓米13 Ultra).
    remainders: dict[int, list[tuple[bytes, int]]] = field(default_factory=dict)


class CatalogBuilder:
    """Compiles a registry into a `Catalog`."""

    def __init__(self, settings: BrandSettings, skeleton: Skeleton, simplifier: Simplifier):
        self._settings = settings
        self._skeleton = skeleton
        self._simplifier = simplifier
        self._separators = " " + settings.folding.separators
        self._catalog = Catalog()
        self._brand_index: dict[str, int] = {}
        self._brand_keys: dict[int, list[str]] = {}
        self._ordinary = frozenset(w.casefold() for w in settings.ordinary_words)
        self._derive_later: list[tuple[str, int]] = []

    def build(self, registry: Registry) -> Catalog:
        categories: dict[str, set[str]] = {}
        for product in registry.products:
            if product.category:
                categories.setdefault(product.brand, set()).add(product.category.casefold())
        for brand in registry.brands:
            if brand.name in self._brand_index:
                continue  # the registry validates names as unique; keep the first if not
            own = {c.casefold() for c in brand.categories} | categories.get(brand.name, set())
            self._add_brand(brand.name, brand.aliases, brand.common_word, frozenset(own))
        for product in registry.products:
            if product.brand not in self._brand_index:
                # A product of an unregistered brand still tells what the listing is about.
                implicit = frozenset(categories.get(product.brand, set()))
                self._add_brand(product.brand, [], False, implicit)
            self._add_product(self._brand_index[product.brand], product.model, product.aliases)
        self._add_derived_spellings()
        for brand_id, entries in self._catalog.remainders.items():
            entries.sort(key=lambda entry: -len(entry[0]))
            self._catalog.remainders[brand_id] = entries
        return self._catalog

    # --- brands --------------------------------------------------------------------------

    def _add_brand(
        self, name: str, aliases: list[str], common_word: bool, categories: frozenset[str]
    ) -> None:
        catalog = self._catalog
        brand_id = len(catalog.brands)
        catalog.brands.append(BrandEntry(name, common_word, categories))
        self._brand_index[name] = brand_id
        names = list(dict.fromkeys([name, *aliases]))
        self._brand_keys[brand_id] = [self._simplifier.simplify(n).casefold() for n in names]
        for spelling in names:
            alias_id = self._add_alias(spelling, spelling, brand_id, None, None)
            key = catalog.aliases[alias_id].key
            words = key.split()
            long_enough = len(key) >= self._settings.fuzzy.distance_1_from
            if long_enough and len(words) <= 2 and self._is_latin_word("".join(words)):
                catalog.typo_names.setdefault(" ".join(words), alias_id)
        self._derive_later.extend((spelling, brand_id) for spelling in names)

    def _add_derived_spellings(self) -> None:
        """Pinyin, reordered and phonetic spellings, once every registered spelling is in: a
        registered name always stands for itself, never for another brand's derived one."""
        for spelling, brand_id in self._derive_later:
            simplified = self._simplifier.simplify(spelling)
            if all(is_han(c) for c in simplified) and len(simplified) >= 2:
                self._add_han_variants(spelling, simplified, brand_id)
            else:
                self._add_reorderings(spelling, brand_id)

    def _add_han_variants(self, spelling: str, simplified: str, brand_id: int) -> None:
        catalog = self._catalog
        key = phonetic_key(simplified)
        if key is not None:
            catalog.phonetic.setdefault(key, self._alias_id_of(simplified, brand_id))
        if len(simplified) == 2:  # 米小 for 小米; longer names are not reordered
            self._add_derived(simplified[::-1], spelling, brand_id, Variant.REORDERED)
        syllables = pinyin(simplified)
        romanized = "".join(syllables)
        if romanized.isascii() and romanized.isalpha() and len(romanized) >= _MIN_PINYIN_LETTERS:
            alias_id = self._add_derived(romanized, spelling, brand_id, Variant.PINYIN)
            if alias_id is not None:  # also written a syllable apart: "ping guo"
                catalog.plain.setdefault(" ".join(syllables), alias_id)

    def _add_reorderings(self, spelling: str, brand_id: int) -> None:
        words = spelling.split()
        if not 2 <= len(words) <= _MAX_REORDERED_WORDS or not self._is_latin_word("".join(words)):
            return
        for order in permutations(words):
            if list(order) != words:
                self._add_derived(" ".join(order), spelling, brand_id, Variant.REORDERED)

    # --- products ------------------------------------------------------------------------

    def _add_product(self, brand_id: int, model: str, aliases: list[str]) -> None:
        catalog = self._catalog
        product_id = len(catalog.products)
        catalog.products.append(ProductEntry(brand_id, model))
        brand_keys = self._brand_keys.get(brand_id, [])
        for spelling in dict.fromkeys([model, *aliases]):
            alias_id = self._add_alias(spelling, spelling, brand_id, product_id, None)
            key = catalog.aliases[alias_id].key
            for brand_key in brand_keys:
                if key.startswith(brand_key) and len(key) > len(brand_key):
                    rest = self._skeleton.fold(key[len(brand_key) :]).replace(b" ", b"")
                    if len(rest) >= 2:
                        catalog.remainders.setdefault(brand_id, []).append((rest, product_id))

    # --- patterns ------------------------------------------------------------------------

    def _alias_id_of(self, simplified: str, brand_id: int) -> int:
        key = simplified.casefold()
        alias_id = self._catalog.plain.get(key)
        if alias_id is not None and self._catalog.aliases[alias_id].brand == brand_id:
            return alias_id
        return self._new_alias(simplified, simplified, brand_id, None, None)

    def _new_alias(
        self, text: str, source: str, brand: int, product: int | None, derived: Variant | None
    ) -> int:
        key = self._simplifier.simplify(text).casefold()
        names = self._brand_keys.get(brand, [])
        everyday = generic = False
        if product is None and self._catalog.brands[brand].common_word:
            own = self._simplifier.simplify(source).casefold()
            everyday = not any(name != own and _contains(own, name) for name in names)
        elif product is not None:
            # Chinese words alone, no model number, no brand name: a description.
            generic = all(is_han(c) or c.isspace() for c in key) and not any(
                name in key for name in names
            )
        alias = Alias(text, source, brand, product, derived, key, everyday, generic)
        self._catalog.aliases.append(alias)
        return len(self._catalog.aliases) - 1

    def _add_derived(self, text: str, source: str, brand: int, derived: Variant) -> int | None:
        """A spelling made from a registered one (pinyin, reordered), unless it is an ordinary
        word: "lining" is a jacket's before it is 李宁 in pinyin."""
        if text.casefold() in self._ordinary or text.casefold() in self._catalog.plain:
            return None
        # Pinyin is looked for as written, whole words only: in the skeleton channel, short
        # syllable pairs ("aila", "tali") would turn up inside English words ("available").
        return self._add_alias(
            text, source, brand, None, derived, in_skeleton=derived is not Variant.PINYIN
        )

    def _add_alias(
        self,
        text: str,
        source: str,
        brand: int,
        product: int | None,
        derived: Variant | None,
        *,
        in_skeleton: bool = True,
    ) -> int:
        """Registers a spelling and its patterns in the plain and skeleton channels."""
        alias_id = self._new_alias(text, source, brand, product, derived)
        catalog = self._catalog
        key = catalog.aliases[alias_id].key
        catalog.plain.setdefault(key, alias_id)
        closed = compact(key, self._separators)
        if closed and closed != key and (product is not None or " " in key):
            # "mate40pro" is how many write "Mate 40 Pro": the real name, not a variant.
            catalog.plain.setdefault(closed, alias_id)
        if product is not None:
            # ... and "罗宁 Buds 5 Max" how many write "罗宁Buds5 Max": the plain channel
            # knows these common spellings, the skeleton channel all the others.
            catalog.plain.setdefault(" ".join(MODEL_TOKENS.findall(key)), alias_id)
        if self._is_short(closed) or not in_skeleton:
            return alias_id  # "MI", "P40": only as written, with word boundaries
        for spelling in self._spacings(key, product is not None, derived):
            skeleton = self._skeleton.fold(spelling)
            if skeleton:
                catalog.skeleton.setdefault(skeleton, alias_id)
        return alias_id

    def _spacings(self, key: str, product: bool, derived: Variant | None) -> set[str]:
        """The ways of spacing a name the skeleton channel looks for. The channel keeps
        spaces, lest two ordinary words ("to be") read as one name ("Tobe")."""
        words = key.split()
        if product:
            # A model is written with or without a space where letters meet digits or words
            # meet: "Mate 40 Pro", "mate40pro", "MATE40 PRO" are the same model.
            tokens = MODEL_TOKENS.findall(key)
            if not 2 <= len(tokens) <= _MAX_SPACED_TOKENS:
                return {" ".join(words), "".join(tokens)}
            spellings = set()
            for mask in range(2 ** (len(tokens) - 1)):
                spelling = tokens[0]
                for i, token in enumerate(tokens[1:]):
                    spelling += (" " if mask >> i & 1 else "") + token
                spellings.add(spelling)
            return spellings
        if derived is Variant.REORDERED:
            return {" ".join(words)}
        if len(words) > 1:
            return {" ".join(words), "".join(words)}
        spellings = {key, " ".join(key)}
        splits = all(is_han(c) for c in key) or len(key) >= self._settings.folding.split_from
        if splits and len(key) <= _MAX_SPLIT_CHARS:
            spellings.update(f"{key[:i]} {key[i:]}" for i in range(1, len(key)))
        return spellings

    def _is_short(self, key: str) -> bool:
        if any(is_han(c) for c in key):
            return len(key) < 2
        return len(key) <= self._settings.folding.short_alias_chars

    @staticmethod
    def _is_latin_word(key: str) -> bool:
        return key.isascii() and key.isalpha()


def _contains(longer: str, shorter: str) -> bool:
    """Whether a name holds another: 小米科技 holds 小米, "the north face" holds "north face"
    (whole words for Latin names: "xiaomi" does not hold "mi")."""
    if any(is_han(c) for c in shorter):
        return shorter in longer
    words, part = longer.split(), shorter.split()
    return any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1))
