"""The shops and people behind the sample's listings.

Sellers come from fixed pools per platform and kind, so that they reappear across listings;
counterfeit shops are grouped into rings that share a phone, a WeChat account and sometimes a
payment account, the traces the networks feature links. The pools' size is capped, so memory
does not grow with the number of listings.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from vigil.services.sample.catalog import BrandSpec, Catalog
from vigil.services.sample.texts import Draw, Platform, TextBank, Weighted

KINDS = ("reseller", "person", "accessory", "general", "fake")


@dataclass(frozen=True, slots=True)
class Seller:
    record: dict[str, str]  # the listing's `seller` object
    region: str  # where it ships from
    region_code: str | None


@dataclass(frozen=True, slots=True)
class _Ring:
    phone: str
    wechat: str
    payment: str | None
    region: tuple[str, str | None]


class SellerBook:
    """Every seller of a sample, drawn with its own seeded generator."""

    def __init__(self, bank: TextBank, catalog: Catalog, *, seed: int, pool_size: int) -> None:
        self.rng = random.Random(f"vigil-sample-sellers:{seed}")
        self.bank = bank
        self.catalog = catalog
        self.words = bank.sellers
        self.china = Weighted([((name, code), weight) for name, code, weight in bank.regions_china])
        self.abroad = Weighted([((name, None), weight) for name, weight in bank.regions_abroad])
        self.taken: set[tuple[str, str]] = set()
        for brand in catalog.brands:
            self.taken.update(catalog.authorized_sellers(brand))
        self.rings: dict[str, list[_Ring]] = {}
        self.pools: dict[tuple[str, str], list[Seller]] = {}
        for platform in bank.platforms.values():
            self.rings[platform.name] = [
                self._ring(platform) for _ in range(max(3, pool_size // 4))
            ]
            for kind in KINDS:
                self.pools[kind, platform.name] = [
                    self._seller(platform, kind) for _ in range(pool_size)
                ]
        self._authorized: dict[tuple[int, str], list[Seller]] = {}
        self._known: dict[tuple[str, str], Seller] = {}
        self._fake_official: dict[tuple[int, str, int], Seller] = {}

    def pick(self, kind: str, platform: str, draw: Draw) -> Seller:
        """A seller of the kind; the first ones of a pool sell most, as big shops do."""
        pool = self.pools[kind, platform]
        return pool[int(len(pool) * draw() ** 1.6)]

    def authorized(self, index: int, brand: BrandSpec, platform: str) -> list[Seller]:
        """The brand's own shops and its dealers on the platform."""
        key = (index, platform)
        if key not in self._authorized:
            self._authorized[key] = [
                self._known_seller(platform, seller_id)
                for where, seller_id in self.catalog.authorized_sellers(brand)
                if where == platform
            ]
        return self._authorized[key]

    def fake_official(self, index: int, brand: BrandSpec, platform: str, number: int) -> Seller:
        """A counterfeit shop named like the brand's flagship store, which it is not."""
        key = (index, platform, number)
        if key not in self._fake_official:
            rng = random.Random(f"vigil-sample-fake-official:{brand.name}:{platform}:{number}")
            style = self.bank.platforms[platform].sellers
            if style in ("shop", "person"):
                base = brand.zh or brand.name
                suffix = rng.choice(self.words["fake_official_suffix"])
                name = f"{base}{suffix}"
                if (platform, name) in self.taken:  # the brand's real flagship is called that
                    name = f"{base}{rng.choice(self.words['shop_core'])}{suffix}"
            else:
                name = f"{brand.name} {rng.choice(self.words['fake_official_suffix_en'])}"
            seller_id = name if style == "shop" else self._account_id(style, name, rng)
            ring = rng.choice(self.rings[platform])
            record = {"id": seller_id, "name": name}
            record.update(self._contacts(ring, rng, 0.6))
            self._fake_official[key] = Seller(record, ring.region[0], ring.region[1])
        return self._fake_official[key]

    def _known_seller(self, platform: str, seller_id: str) -> Seller:
        """An authorized seller; dealers serve many brands and stay one seller."""
        key = (platform, seller_id)
        if key not in self._known:
            rng = random.Random(f"vigil-sample-authorized:{platform}:{seller_id}")
            region = self._region(self.bank.platforms[platform], rng)
            self._known[key] = Seller({"id": seller_id, "name": seller_id}, region[0], region[1])
        return self._known[key]

    def _region(self, platform: Platform, rng: random.Random) -> tuple[str, str | None]:
        return (self.china if platform.chinese else self.abroad)(rng.random)

    def _ring(self, platform: Platform) -> _Ring:
        rng = self.rng
        phone = self._phone(rng)
        wechat = f"{rng.choice(self.words['wechat_words'])}{rng.randrange(100, 99999)}"
        if rng.random() < 0.5:
            wechat = "wxid_" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=12))
        payment = f"alipay:{self._phone(rng)}" if rng.random() < 0.3 else None
        region = self._region(platform, rng)
        if not platform.chinese and rng.random() < 0.6:
            region = ("Shenzhen, Guangdong, China", None)
        return _Ring(phone, wechat, payment, region)

    def _seller(self, platform: Platform, kind: str) -> Seller:
        rng = self.rng
        style = "person" if kind == "person" and platform.sellers == "shop" else platform.sellers
        while True:
            name = self._name(style, kind, rng)
            seller_id = name if style == "shop" else self._account_id(style, name, rng)
            if (platform.name, seller_id) not in self.taken:
                break
        self.taken.add((platform.name, seller_id))
        record = {"id": seller_id, "name": name}
        if kind == "fake":
            ring = rng.choice(self.rings[platform.name])
            record.update(self._contacts(ring, rng, 0.5))
            return Seller(record, ring.region[0], ring.region[1])
        region = self._region(platform, rng)
        if not platform.chinese:
            if rng.random() < 0.1:
                record["email"] = f"{seller_id.lower()}@{rng.choice(['gmail.com', 'outlook.com'])}"
        else:
            if rng.random() < (0.08 if kind == "person" else 0.2):
                record["phone"] = self._phone(rng)
            if rng.random() < (0.25 if kind == "person" else 0.12):
                record["wechat"] = (
                    f"{rng.choice(self.words['wechat_words'])}{rng.randrange(1000, 999999)}"
                )
        if rng.random() < 0.4:
            record["region"] = region[0]
        return Seller(record, region[0], region[1])

    def _contacts(self, ring: _Ring, rng: random.Random, share: float) -> dict[str, str]:
        contacts = {}
        if rng.random() < share:
            contacts["phone"] = ring.phone
        if rng.random() < share:
            contacts["wechat"] = ring.wechat
        if ring.payment and rng.random() < share:
            contacts["payment"] = ring.payment
        if rng.random() < 0.4:
            contacts["region"] = ring.region[0]
        return contacts

    def _name(self, style: str, kind: str, rng: random.Random) -> str:
        words = self.words
        if style == "shop":
            core = words["accessory_core" if kind == "accessory" else "shop_core"]
            prefix = rng.choice(words["shop_prefix"]) + rng.choice(words["shop_prefix"])
            return f"{prefix}{rng.choice(core)}{rng.choice(words['shop_suffix'])}"
        if style == "person":
            if rng.random() < 0.5:
                prefix, surname = (
                    rng.choice(words["person_prefix"]),
                    rng.choice(words["person_surname"]),
                )
                return f"{prefix}{surname}{rng.choice(words['person_suffix'])}"
            return f"tb_{rng.randrange(10**7, 10**10)}"
        first, second = rng.choice(words["user_first"]), rng.choice(words["user_second"])
        if style == "amazon":
            ending = rng.choice(["Direct", "US", "Store", "Co"])
            return f"{first.capitalize()}{second.capitalize()} {ending}"
        return f"{first}{second}{rng.randrange(1, 999) if rng.random() < 0.7 else ''}"

    @staticmethod
    def _account_id(style: str, name: str, rng: random.Random) -> str:
        if style == "amazon":
            return "A" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=13))
        if style == "user":
            return "".join(c for c in name.lower() if c.isalnum()) or f"user{rng.randrange(10**6)}"
        return f"xy{rng.randrange(10**9, 10**11)}"

    @staticmethod
    def _phone(rng: random.Random) -> str:
        return f"1{rng.choice('3456789')}{rng.randrange(10**8, 10**9)}"
