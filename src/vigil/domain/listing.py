"""The listing contract: one marketplace offer as Vigil receives it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import pycountry
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

# Titles and descriptions past these lengths are not listings but accidents or attacks; a
# record this large is rejected with the limit named, instead of slowing every matcher down.
MAX_TITLE_CHARS = 2_000
MAX_DESCRIPTION_CHARS = 50_000

NonEmpty = Annotated[str, Field(min_length=1)]


class Condition(StrEnum):
    NEW = "new"
    USED = "used"
    REFURBISHED = "refurbished"
    PARTS = "parts"
    UNKNOWN = "unknown"


def check_currency(code: str) -> str:
    """Upper-case an ISO 4217 code, or raise ValueError naming what is wrong."""
    upper = code.strip().upper()
    if len(upper) != 3 or not upper.isalpha() or pycountry.currencies.get(alpha_3=upper) is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (such as CNY, USD, EUR)")
    return upper


class Seller(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    id: NonEmpty
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    wechat: str | None = None
    address: str | None = None
    region: str | None = None
    payment: str | None = None


class Listing(BaseModel):
    """A marketplace listing; (platform, listing_id) is its key."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    platform: NonEmpty
    listing_id: NonEmpty
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS)]
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION_CHARS)] | None = None
    url: str | None = None
    price: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    currency: str = "CNY"
    condition: Condition = Condition.UNKNOWN
    seller: Seller | None = None
    region: str | None = None
    category: str | None = None
    images: list[str] = Field(default_factory=list)
    observed_at: AwareDatetime | None = None

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        return check_currency(value)

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.listing_id)

    @property
    def text(self) -> str:
        """Title and description, the text the text detectors read."""
        return self.title if not self.description else f"{self.title}\n{self.description}"
