"""The brand detector's settings (`vigil/data/detectors/brand.yaml`), validated."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vigil.settings import ConfigError


class Variant(StrEnum):
    """How a look-alike name differs from the registered one."""

    HOMOGLYPH = "homoglyph"  # confusable letters: Cyrillic а, 0 for O, 1 for l, rn for m
    FULLWIDTH = "fullwidth"  # full-width or other compatibility forms: ＸＩＡＯＭＩ
    SEPARATORS = "separators"  # characters pushed apart: X-i-a-o-m-i, 小 米, zero-width spaces
    TYPO = "typo"  # a small edit distance: Samsnug, Huawel
    TRADITIONAL = "traditional"  # traditional Chinese: 華為 for 华为
    HOMOPHONE = "homophone"  # other characters that sound the same: 晓米 for 小米
    PINYIN = "pinyin"  # the Chinese name in Latin letters: pingguo for 苹果
    REORDERED = "reordered"  # the parts of the name swapped: 米小, Vuitton Louis


Weight = Annotated[float, Field(ge=-10, le=10, allow_inf_nan=False)]
Word = Annotated[str, Field(min_length=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariantWeight(_Section):
    alone: Weight
    corroborated: Weight


class Weights(_Section):
    brand_mention: Weight
    product_model: Weight
    nominative_use: Weight
    brand_variant: dict[Variant, VariantWeight]

    @field_validator("brand_variant")
    @classmethod
    def _every_variant(cls, value: dict[Variant, VariantWeight]) -> dict[Variant, VariantWeight]:
        missing = sorted(v.value for v in Variant if v not in value)
        if missing:
            raise ValueError(f"no weight for variant(s) {', '.join(missing)}; add them")
        return value


class Folding(_Section):
    # Latin names this short (after case folding) are matched only as written, with word
    # boundaries: "MI" must not be found in "mini", nor by any fuzzy channel.
    short_alias_chars: Annotated[int, Field(ge=1, le=10)]
    # Single-word Latin names this long are also looked for split by one space ("Sam sung");
    # shorter ones only with every letter apart ("L e n o"), lest two words read as one name.
    split_from: Annotated[int, Field(ge=2, le=50)]
    separators: Word
    lookalikes: dict[str, str]
    expansions: dict[str, str]

    @field_validator("lookalikes", "expansions")
    @classmethod
    def _single_ascii_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key, target in value.items():
            if len(key) != 1 or not key.isascii() or not target.isascii() or not target:
                raise ValueError(f"{key!r}: {target!r} must map one ASCII character to ASCII text")
        return value


class Fuzzy(_Section):
    distance_1_from: Annotated[int, Field(ge=3)]
    distance_2_from: Annotated[int, Field(ge=4)]


class Nominative(_Section):
    before: list[Word]
    after: list[Word]
    categories: list[Word] = Field(default_factory=list)
    fillers: list[Word] = Field(default_factory=list)
    max_gap: Annotated[int, Field(ge=0, le=64)]


class Context(_Section):
    window: Annotated[int, Field(ge=0, le=200)]
    categories: dict[str, list[Word]] = Field(default_factory=dict)


class BrandSettings(_Section):
    weights: Weights
    folding: Folding
    fuzzy: Fuzzy
    nominative: Nominative
    context: Context
    # Variants that attribute a listing to a brand only with context (a product model of the
    # brand, its category): 化为 "turn into" sounds like 华为 and is an everyday word.
    needs_context: list[Variant] = Field(default_factory=list)
    # Ordinary words never read as a misspelt, romanized or reordered name ("channel" is not
    # Chanel misspelt, "lining" is not 李宁 in pinyin).
    ordinary_words: list[Word] = Field(default_factory=list)
    # Phrases that hold a brand name but speak of something else (茅台镇, 三星堆): a name found
    # inside one is no mention.
    shields: list[Word] = Field(default_factory=list)


def load_settings(section: dict[str, Any]) -> BrandSettings:
    """Validate the `detectors.brand` section, or raise ConfigError saying what to fix."""
    try:
        return BrandSettings.model_validate(section)
    except ValidationError as error:
        raise ConfigError(
            f"detectors.brand settings are invalid (vigil/data/detectors/brand.yaml or the "
            f"`detectors: {{brand: ...}}` section of <home>/config.yaml): {error}"
        ) from error
