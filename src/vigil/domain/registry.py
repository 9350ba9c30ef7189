"""The registry contract: what the alliance's members protect."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigil.domain.listing import check_currency

NonEmpty = Annotated[str, Field(min_length=1)]


class MemberKind(StrEnum):
    BRAND_OWNER = "brand_owner"
    MARKETPLACE = "marketplace"
    ASSOCIATION = "association"
    UNIVERSITY = "university"
    ENFORCEMENT = "enforcement"
    OPERATOR = "operator"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Member(_Entry):
    id: Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
    name: NonEmpty
    kind: MemberKind


class Mark(_Entry):
    number: NonEmpty
    jurisdiction: NonEmpty
    classes: list[Annotated[int, Field(ge=1, le=45)]] = Field(default_factory=list)


class AuthorizedSeller(_Entry):
    platform: NonEmpty
    seller_id: NonEmpty


class Brand(_Entry):
    name: NonEmpty
    owner: str | None = None
    aliases: list[NonEmpty] = Field(default_factory=list)
    marks: list[Mark] = Field(default_factory=list)
    logos: list[NonEmpty] = Field(default_factory=list)
    authorized_sellers: list[AuthorizedSeller] = Field(default_factory=list)
    # Extensions of the DESIGN.md format (optional, so older files stay valid):
    # the categories the brand sells in, and whether its name is also an everyday word
    # (苹果 is a fruit, 小米 is millet): such names need context before they count.
    categories: list[NonEmpty] = Field(default_factory=list)
    common_word: bool = False
    # Extension: photos seen in confirmed counterfeit cases of the brand (file paths or URLs),
    # so that a listing reusing one of them can be recognised.
    counterfeit_images: list[NonEmpty] = Field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [self.name, *self.aliases]


class Money(_Entry):
    amount: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    currency: str = "CNY"

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        return check_currency(value)


class Product(_Entry):
    brand: NonEmpty
    model: NonEmpty
    aliases: list[NonEmpty] = Field(default_factory=list)
    category: str | None = None
    msrp: Money | None = None
    images: list[NonEmpty] = Field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.brand, self.model)


class WorkKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"


class Work(_Entry):
    owner: NonEmpty
    title: NonEmpty
    kind: WorkKind
    files: list[NonEmpty] = Field(default_factory=list)


class LexiconTerm(_Entry):
    """A counterfeit-wording term a member adds to the shipped lexicon (extension)."""

    term: NonEmpty
    weight: Annotated[float, Field(ge=-10, le=10, allow_inf_nan=False)]
    lang: str | None = None


class Registry(BaseModel):
    """A registry snapshot: everything the detectors compile their matchers from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    members: list[Member] = Field(default_factory=list)
    brands: list[Brand] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)
    works: list[Work] = Field(default_factory=list)
    lexicon: list[LexiconTerm] = Field(default_factory=list)

    def brand(self, name: str) -> Brand | None:
        return next((b for b in self.brands if b.name == name), None)
