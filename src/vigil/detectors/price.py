"""Price: a product offered far below its MSRP, or far below what it sells for in the same scan.

Only listings the brand stage attributed to a registered product in the PRODUCT role are priced
(a ¥19 case "for iPhone 15" is not a cheap iPhone). What "far below" means depends on the
condition, which the listing declares or its title tells (二手, 99新, 官翻, refurbished, for
parts...); this detector sets `findings.condition` to the condition it settled on.

Prices and MSRPs are converted to the base currency with the configured rates; a listing in a
currency without a rate is not judged. The market median comes from a second pass (`ScanWide`):
each new or unstated listing of a product contributes its price to a bounded sample.
"""

from __future__ import annotations

import hashlib
import heapq
import statistics
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vigil.detectors.base import Detector, Findings, ListingFacts, Matcher, Role, ScanStats
from vigil.detectors.wording import Negation, TermIndex, fold
from vigil.domain.assessment import Signal
from vigil.domain.listing import Condition, Listing
from vigil.domain.registry import Registry
from vigil.settings import ConfigError, ScanConfig

# The order in which conditions excuse a low price: when a listing tells several, the most
# lenient one is taken, so that no used phone is judged as a new one.
_LENIENCY = {Condition.PARTS: 0, Condition.USED: 1, Condition.REFURBISHED: 2, Condition.NEW: 3}
_MARKET_CONDITIONS = (Condition.NEW, Condition.UNKNOWN)
_UNKNOWN = Condition.UNKNOWN
_PRODUCT = Role.PRODUCT
# Set in `Findings.notes` once `match` has settled the listing's condition.
_SETTLED = "price.condition_settled"


class _Band(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    below: float = Field(gt=0, le=1)
    weight: float = Field(ge=0, le=10)


def _check_bands(bands: list[_Band], where: str) -> None:
    limits = [band.below for band in bands]
    if limits != sorted(set(limits)):
        raise ValueError(f"{where}: bands must be listed with `below` strictly increasing")


class _Market(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_observations: int = Field(default=5, ge=1)
    sample_size: int = Field(default=256, ge=1, le=100_000)
    sane_msrp_ratio: tuple[float, float] = (0.30, 2.0)

    @model_validator(mode="after")
    def _consistent(self) -> _Market:
        if self.min_observations > self.sample_size:
            raise ValueError("market.min_observations cannot exceed market.sample_size")
        return self


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    msrp_bands: dict[Condition, list[_Band]] = Field(default_factory=dict)
    market_bands: list[_Band] = Field(default_factory=list)
    market: _Market = Field(default_factory=_Market)
    placeholder_ratio: float = Field(default=0.02, ge=0, lt=1)
    condition_words: dict[Condition, list[str]] = Field(default_factory=dict)
    condition_shields: list[str] = Field(default_factory=list)
    condition_negations: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sorted_bands(self) -> _Settings:
        for condition, bands in self.msrp_bands.items():
            _check_bands(bands, f"msrp_bands.{condition.value}")
        _check_bands(self.market_bands, "market_bands")
        return self


def _band_weight(bands: list[_Band], ratio: float) -> tuple[float, float | None]:
    """The weight of the first band the ratio is under, and that band's limit."""
    for band in bands:
        if ratio < band.below:
            return band.weight, band.below
    return 0.0, None


@dataclass(frozen=True, slots=True)
class _Product:
    brand: str
    model: str
    msrp_base: float | None  # in the base currency, None when no MSRP or no rate
    msrp_shown: str  # as evidence shows it: "¥2,499", "US$799 (≈¥5,673)"


class PriceObservation(NamedTuple):
    """What the first pass keeps of one listing for the market median."""

    product: tuple[str, str]
    price: float  # in the base currency
    rank: int  # a stable hash of the listing key: which listings the sample keeps


def _rank(listing: Listing) -> int:
    key = f"{listing.platform}\x1f{listing.listing_id}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


class PriceStats:
    """Per product, the prices of the (at most `sample_size`) observed listings with the
    smallest rank: a uniform sample that is the same whatever order or partition the listings
    arrive in, and that two workers' stats can be merged into."""

    def __init__(self, sample_size: int) -> None:
        self._size = sample_size
        self._samples: dict[tuple[str, str], dict[int, float]] = {}
        self._largest: dict[tuple[str, str], list[int]] = {}  # max-heap (negated) of ranks kept
        self._observed: dict[tuple[str, str], int] = {}
        self._medians: dict[tuple[str, str], float] = {}

    def add(self, observation: Any) -> None:
        # Any (product, price, rank) triple: an engine may hand back a plain tuple or list.
        product, price, rank = observation
        key = (product[0], product[1])
        self._observed[key] = self._observed.get(key, 0) + 1
        self._keep(key, int(rank), float(price))

    def merge(self, other: PriceStats) -> None:
        """Fold in the stats another worker gathered from other listings."""
        for key, sample in other._samples.items():
            self._observed[key] = self._observed.get(key, 0) + other._observed.get(key, 0)
            for rank, price in sample.items():
                self._keep(key, rank, price)

    def _keep(self, key: tuple[str, str], rank: int, price: float) -> None:
        sample = self._samples.setdefault(key, {})
        largest = self._largest.setdefault(key, [])
        if rank in sample:
            return  # the same listing seen twice
        if len(sample) < self._size:
            heapq.heappush(largest, -rank)
        elif rank < -largest[0]:
            del sample[-heapq.heapreplace(largest, -rank)]
        else:
            return
        sample[rank] = price
        self._medians.pop(key, None)

    def observed(self, product: tuple[str, str]) -> int:
        """How many observations of the product were folded in (not only those kept)."""
        return self._observed.get(product, 0)

    def sampled(self, product: tuple[str, str]) -> int:
        return len(self._samples.get(product, ()))

    def median(self, product: tuple[str, str]) -> float | None:
        """The median price of the product's sample, None when nothing was observed."""
        if product not in self._medians:
            sample = self._samples.get(product)
            if not sample:
                return None
            self._medians[product] = statistics.median(sample.values())
        return self._medians[product]


_SYMBOLS = {"CNY": "¥", "USD": "US$", "EUR": "€", "GBP": "£", "HKD": "HK$", "JPY": "JP¥"}


def _money(amount: float, currency: str) -> str:
    text = f"{amount:,.0f}" if amount >= 100 or amount == int(amount) else f"{amount:,.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def _shown(amount: float, currency: str, in_base: float, base: str) -> str:
    """A price as written, with its value in the base currency when that differs."""
    if currency == base:
        return _money(amount, currency)
    return f"{_money(amount, currency)} (≈{_money(in_base, base)})"


class PriceMatcher(Matcher):
    detector: ClassVar[str] = "price"

    def __init__(
        self,
        *,
        products: dict[tuple[str, str], _Product],
        base: str,
        rates: dict[str, float],
        settings: _Settings,
    ) -> None:
        self._products = products
        models: dict[str, list[tuple[str, str]]] = {}
        for key in products:
            models.setdefault(key[1], []).append(key)
        # A product named without its brand is found by model only when the model is unique.
        self._by_model = {model: keys[0] for model, keys in models.items() if len(keys) == 1}
        self._base = base
        self._rates = rates
        self._settings = settings
        words: dict[str, Condition | None] = {}
        for condition, terms in settings.condition_words.items():
            for term in terms:
                words.setdefault(fold(term), condition)
        for shield in settings.condition_shields:
            words[fold(shield)] = None
        self._word_condition = list(words.values())
        self._words = TermIndex(list(words), open_right=[c is None for c in words.values()])
        self._negation = Negation(settings.condition_negations, ())

    # --- condition and product --------------------------------------------------------------

    def effective_condition(self, listing: Listing, findings: Findings) -> Condition:
        """The most lenient condition the feed, an earlier stage or the title tells."""
        best = _UNKNOWN
        for told in (listing.condition, findings.condition):
            if told is not _UNKNOWN and (best is _UNKNOWN or _LENIENCY[told] < _LENIENCY[best]):
                best = told
        title = fold(listing.title)
        for pattern, start, end in self._words.find(title):
            word = self._word_condition[pattern]
            if word is None or (best is not _UNKNOWN and _LENIENCY[word] >= _LENIENCY[best]):
                continue
            if not self._negation(title, start, end):
                best = word
        return best

    def _product(self, brand: str | None, model: str | None) -> _Product | None:
        if not model:
            return None
        if brand:
            return self._products.get((brand, model))
        key = self._by_model.get(model)
        return self._products.get(key) if key else None

    def _in_base(self, amount: float | None, currency: str) -> float | None:
        if amount is None or amount <= 0:
            return None
        rate = self._rates.get(currency)
        return None if rate is None else amount * rate

    # --- first pass: price against MSRP -----------------------------------------------------

    def match(self, listing: Listing, findings: Findings) -> list[Signal]:
        condition = self.effective_condition(listing, findings)
        findings.condition = condition
        findings.notes[_SETTLED] = True
        if findings.role is not _PRODUCT:
            return []
        product = self._product(findings.brand, findings.product)
        price = self._in_base(listing.price, listing.currency)
        if product is None or product.msrp_base is None or listing.price is None or price is None:
            return []
        ratio = price / product.msrp_base
        if ratio < self._settings.placeholder_ratio:
            return []
        bands = self._settings.msrp_bands.get(condition, [])
        weight, limit = _band_weight(bands, ratio)
        if weight <= 0:
            return []
        msrp = product.msrp_shown
        offered = _shown(listing.price, listing.currency, price, self._base)
        return [
            Signal(
                detector=self.detector,
                kind="price_below_msrp",
                asset=f"product:{product.brand}/{product.model}",
                weight=weight,
                evidence=f"{offered} vs MSRP {msrp} ({ratio:.0%})",
                explanation=_explain_msrp(product.model, condition, ratio, msrp, bands),
                details={
                    "price": listing.price,
                    "currency": listing.currency,
                    "price_base": price,
                    "msrp_base": product.msrp_base,
                    "base_currency": self._base,
                    "ratio": ratio,
                    "band_below": limit,
                    "condition": condition.value,
                },
            )
        ]

    # --- second pass: price against the scan's median --------------------------------------

    def observe(self, listing: Listing, findings: Findings) -> PriceObservation | None:
        if findings.role is not _PRODUCT:
            return None
        product = self._product(findings.brand, findings.product)
        if product is None:
            return None
        condition = findings.condition
        if not findings.notes.get(_SETTLED):  # `match` has not run on this listing
            condition = self.effective_condition(listing, findings)
        price = self._in_base(listing.price, listing.currency)
        if condition not in _MARKET_CONDITIONS or price is None:
            return None
        if product.msrp_base and price < self._settings.placeholder_ratio * product.msrp_base:
            return None
        return PriceObservation((product.brand, product.model), price, _rank(listing))

    def new_stats(self) -> PriceStats:
        return PriceStats(self._settings.market.sample_size)

    def match_scan(self, facts: ListingFacts, stats: ScanStats) -> list[Signal]:
        if facts.role != Role.PRODUCT or facts.condition not in _MARKET_CONDITIONS:
            return []
        product = self._product(facts.brand, facts.product)
        price = self._in_base(facts.price, facts.currency)
        if product is None or price is None or facts.price is None:
            return []
        if not isinstance(stats, PriceStats):
            raise TypeError(f"the price detector needs its own PriceStats, not {type(stats)}")
        key = (product.brand, product.model)
        median = stats.median(key)
        market = self._settings.market
        if median is None or stats.sampled(key) < market.min_observations:
            return []
        if product.msrp_base is not None:
            low, high = market.sane_msrp_ratio
            if not low <= median / product.msrp_base <= high:
                return []
        ratio = price / median
        if ratio < self._settings.placeholder_ratio:
            return []
        market_weight, limit = _band_weight(self._settings.market_bands, ratio)
        msrp_weight = 0.0
        if product.msrp_base is not None:
            msrp_ratio = price / product.msrp_base
            if msrp_ratio >= self._settings.placeholder_ratio:
                condition_bands = self._settings.msrp_bands.get(Condition(facts.condition), [])
                msrp_weight, _ = _band_weight(condition_bands, msrp_ratio)
        weight = round(market_weight - msrp_weight, 3)
        if weight <= 0:
            return []
        offered = _shown(facts.price, facts.currency, price, self._base)
        shown_median = _money(median, self._base)
        observed = stats.observed(key)
        return [
            Signal(
                detector=self.detector,
                kind="price_below_market",
                asset=f"product:{product.brand}/{product.model}",
                weight=weight,
                evidence=f"{offered} vs median {shown_median} of {observed} listings ({ratio:.0%})",
                explanation=(
                    f"{product.model} offered at {ratio:.0%} of the median price ({shown_median}) "
                    f"of {observed} listings of it in this scan that are not used or refurbished."
                ),
                details={
                    "price_base": price,
                    "median_base": median,
                    "base_currency": self._base,
                    "ratio": ratio,
                    "band_below": limit,
                    "market_band_weight": market_weight,
                    "msrp_band_weight": msrp_weight,
                    "observed": observed,
                    "sampled": stats.sampled(key),
                },
            )
        ]


def _explain_msrp(
    model: str, condition: Condition, ratio: float, msrp: str, bands: list[_Band]
) -> str:
    floor = f"{max(band.below for band in bands):.0%}"
    offered = f"offered at {ratio:.0%} of its MSRP ({msrp})"
    if condition is Condition.NEW:
        return f"New {model} {offered}; genuine new units rarely sell below {floor}."
    if condition is Condition.UNKNOWN:
        return f"{model} {offered}, condition not stated; genuine units rarely sell below {floor}."
    return (
        f"{condition.value.capitalize()} {model} {offered}; even {condition.value} units rarely "
        f"sell below {floor}."
    )


class PriceDetector(Detector):
    name: ClassVar[str] = "price"
    stage: ClassVar[int] = 10
    description: ClassVar[str] = (
        "A product offered far below its MSRP or the scan's median price for it, judged by the "
        "listing's condition (new, used, refurbished, parts)."
    )

    def compile(self, registry: Registry, config: ScanConfig) -> PriceMatcher:
        try:
            settings = _Settings.model_validate(self.section(config))
        except ValidationError as error:
            raise ConfigError(
                f"detectors.price in the configuration is invalid: {error}"
            ) from error
        currency = config.currency
        products: dict[tuple[str, str], _Product] = {}
        for product in registry.products:
            msrp = product.msrp
            in_base = currency.to_base(msrp.amount, msrp.currency) if msrp else None
            products[product.key] = _Product(
                brand=product.brand,
                model=product.model,
                msrp_base=in_base,
                msrp_shown=_shown(msrp.amount, msrp.currency, in_base, currency.base)
                if msrp and in_base is not None
                else "",
            )
        return PriceMatcher(
            products=products,
            base=currency.base,
            rates=dict(currency.rates),
            settings=settings,
        )
