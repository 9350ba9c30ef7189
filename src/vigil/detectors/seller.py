"""Sellers: authorized sellers from the registry, and shops that only claim to be official.

A seller the brand registered as authorized (`Brand.authorized_sellers`) on the listing's
platform lowers the risk of a listing attributed to that brand. A seller authorized by another
brand gets nothing, either way. A shop whose name claims official status (官方旗舰店, 授权,
official store...), or calls itself the brand's own store (小米旗舰店), without the registry
backing it is no proof of anything: it gets a small positive weight, so that an analyst sees
the claim was checked and found wanting.

Shop names stand in for seller ids only on platforms where the platform assigns unique shop
names (`name_match_platforms` in seller.yaml); elsewhere a display name is free text anyone can
copy, and matching it would let a counterfeiter borrow an authorized seller's standing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigil.detectors.base import Detector, Findings, Matcher, Role
from vigil.detectors.wording import TermIndex, chinese_variants, fold, fold_with_offsets
from vigil.domain.assessment import Signal
from vigil.domain.listing import Listing, Seller
from vigil.domain.registry import Registry
from vigil.settings import ConfigError, ScanConfig

_CLAIM_ROLES = (Role.PRODUCT, Role.ACCESSORY)
# What a word in a shop name says: official status, a store type, or a disclaimer of both.
_OFFICIAL, _STORE_TYPE, _DISCLAIMER = 1, 2, 0


def _squeeze(folded: str) -> str:
    return folded.replace(" ", "") if " " in folded else folded


def seller_key(text: str) -> str:
    """A seller id, shop name or platform as compared: NFKC, case-folded, no whitespace."""
    return _squeeze(fold(text))


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    authorized_weight: float = Field(default=-5.0, le=0)
    authorized_by_name_weight: float = Field(default=-4.0, le=0)
    name_match_platforms: list[str] = Field(default_factory=list)
    claim_weight: float = Field(default=0.4, ge=0)
    brand_claim_weight: float = Field(default=1.2, ge=0)
    official_claims: list[str] = Field(default_factory=list)
    store_types: list[str] = Field(default_factory=list)
    not_claims: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Claim:
    claim: str  # the claim as written in the shop name
    shop: str  # the shop name (or id) it was found in
    names_brand: bool  # the shop name also carries the attributed brand's name


class SellerMatcher(Matcher):
    detector: ClassVar[str] = "seller"

    def __init__(
        self,
        *,
        authorized: dict[tuple[str, str], frozenset[str]],
        platforms_of_brand: dict[str, frozenset[str]],
        brand_names: list[tuple[str, frozenset[str]]],
        claims: list[tuple[str, int]],
        settings: _Settings,
    ) -> None:
        self._authorized = authorized
        self._platforms_of_brand = platforms_of_brand
        self._name_brands = [brands for _, brands in brand_names]
        self._brand_names = TermIndex([name for name, _ in brand_names])
        self._claim_kind = [kind for _, kind in claims]
        self._claims = TermIndex(
            [claim for claim, _ in claims], open_right=[kind == _DISCLAIMER for _, kind in claims]
        )
        self._name_platforms = frozenset(seller_key(p) for p in settings.name_match_platforms)
        self._memo: dict[tuple[str, str, str | None, str, Role], list[Signal]] = {}
        self._settings = settings

    # Most sellers have many listings: what was found for a (platform, seller, brand, role)
    # is kept, up to a bound, so that the next listing of the same shop costs a lookup. The
    # memo changes no answer and is not pickled.
    _MEMO_SIZE: ClassVar[int] = 50_000

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_memo"] = {}
        return state

    def match(self, listing: Listing, findings: Findings) -> list[Signal]:
        brand, seller = findings.brand, listing.seller
        if brand is None or seller is None or findings.role is Role.NONE:
            return []
        key = (listing.platform, seller.id, seller.name, brand, findings.role)
        signals = self._memo.get(key)
        if signals is None:
            if len(self._memo) >= self._MEMO_SIZE:
                self._memo.clear()
            signals = self._memo[key] = self._signals(
                listing.platform, seller, brand, findings.role
            )
        return list(signals)

    def _signals(self, platform: str, seller: Seller, brand: str, role: Role) -> list[Signal]:
        where = (
            platform.lower() if platform.isascii() and platform.isalnum() else seller_key(platform)
        )
        shops = [(seller.id, fold(seller.id))]
        by_id = self._authorized.get((where, _squeeze(shops[0][1])), frozenset())
        if brand in by_id:
            return [self._authorized_signal(brand, platform, seller.id, "id")]
        by_name: frozenset[str] = frozenset()
        if seller.name:
            shops.insert(0, (seller.name, fold(seller.name)))
            if where in self._name_platforms:
                by_name = self._authorized.get((where, _squeeze(shops[0][1])), frozenset())
                if brand in by_name:
                    return [self._authorized_signal(brand, platform, seller.name, "name")]
        # Authorized by another brand: its official-sounding name is backed, just not for this
        # brand, and a listing it sells is no more suspect than any other.
        if by_id or by_name or role not in _CLAIM_ROLES:
            return []
        claim = self._claim(shops, brand)
        return [self._claim_signal(claim, brand, platform, where)] if claim else []

    def _claim(self, shops: list[tuple[str, str]], brand: str) -> _Claim | None:
        """The official claim in the shop name (or else the seller id), if it makes one: a word
        of official status, or a store type (旗舰店) next to the brand's own name."""
        for shop, folded in shops:
            kinds = {self._claim_kind[p] for p, _, _ in self._claims.find(folded)} - {_DISCLAIMER}
            if not kinds:
                continue
            names_brand = any(
                brand in self._name_brands[name] for name, _, _ in self._brand_names.find(folded)
            )
            if not names_brand and _OFFICIAL not in kinds:
                continue  # the shop is the flagship store of its own name, not of the brand
            # Shop names are short: the claim is found again with offsets, to quote it as written.
            folded, origin = fold_with_offsets(shop)
            for pattern, start, end in self._claims.find(folded):
                if self._claim_kind[pattern] != _DISCLAIMER:
                    return _Claim(shop[origin[start] : origin[end - 1] + 1], shop, names_brand)
        return None

    def _authorized_signal(self, brand: str, platform: str, seller: str, on: str) -> Signal:
        if on == "id":
            weight = self._settings.authorized_weight
            explanation = (
                f'The seller "{seller}" is registered as an authorized seller of {brand} '
                f"on {platform}."
            )
        else:
            weight = self._settings.authorized_by_name_weight
            explanation = (
                f'The shop name "{seller}" matches a registered authorized seller of {brand} '
                f"on {platform}."
            )
        return Signal(
            detector=self.detector,
            kind="authorized_seller",
            asset=f"brand:{brand}",
            weight=weight,
            evidence=seller,
            explanation=explanation,
            details={"matched_on": on, "platform": platform, "seller": seller},
        )

    def _claim_signal(self, claim: _Claim, brand: str, platform: str, key: str) -> Signal:
        registered_here = key in self._platforms_of_brand.get(brand, frozenset())
        if claim.names_brand and registered_here:
            weight = self._settings.brand_claim_weight
            explanation = (
                f'The shop "{claim.shop}" presents itself as {brand}\'s own ("{claim.claim}"), '
                f"but the registry does not list it among {brand}'s authorized sellers on "
                f"{platform}."
            )
        else:
            weight = self._settings.claim_weight
            explanation = (
                f'The shop "{claim.shop}" claims official status ("{claim.claim}"), which the '
                f"registry does not back for {brand}."
            )
        return Signal(
            detector=self.detector,
            kind="unverified_official_claim",
            asset=f"brand:{brand}",
            weight=weight,
            evidence=claim.shop,
            explanation=explanation,
            details={
                "claim": claim.claim,
                "names_brand": claim.names_brand,
                "brand_registers_sellers_here": registered_here,
                "platform": platform,
            },
        )


class SellerDetector(Detector):
    name: ClassVar[str] = "seller"
    stage: ClassVar[int] = 10
    description: ClassVar[str] = (
        "Authorized sellers from the registry lower the risk; shops that only call themselves "
        "official (官方旗舰店, authorized dealer) do not."
    )

    def compile(self, registry: Registry, config: ScanConfig) -> SellerMatcher:
        try:
            settings = _Settings.model_validate(self.section(config))
        except ValidationError as error:
            raise ConfigError(
                f"detectors.seller in the configuration is invalid: {error}"
            ) from error
        authorized: dict[tuple[str, str], set[str]] = {}
        platforms: dict[str, set[str]] = {}
        names: dict[str, set[str]] = {}
        for brand in registry.brands:
            for entry in brand.authorized_sellers:
                key = (seller_key(entry.platform), seller_key(entry.seller_id))
                authorized.setdefault(key, set()).add(brand.name)
                platforms.setdefault(brand.name, set()).add(key[0])
            for name in brand.names:
                if folded := fold(name):
                    names.setdefault(folded, set()).add(brand.name)
        claims: dict[str, int] = {}
        for texts, kind in (
            (settings.store_types, _STORE_TYPE),
            (settings.official_claims, _OFFICIAL),
            (settings.not_claims, _DISCLAIMER),
        ):
            for text in texts:
                folded = fold(text)
                for spelling in (folded, *sorted(chinese_variants(folded))):
                    if spelling:
                        claims[spelling] = kind
        return SellerMatcher(
            authorized={key: frozenset(brands) for key, brands in authorized.items()},
            platforms_of_brand={brand: frozenset(keys) for brand, keys in platforms.items()},
            brand_names=[(name, frozenset(brands)) for name, brands in names.items()],
            claims=list(claims.items()),
            settings=settings,
        )
