"""The listing and truth records themselves: ids, URLs, prices as shops print them, times."""

from __future__ import annotations

import time
from typing import Any

from vigil.services.sample.sellers import Seller
from vigil.services.sample.texts import Draw, Platform

Record = dict[str, Any]

_YEAR_START = 1_767_225_600  # 2026-01-01T00:00:00Z
_YEAR_SECONDS = 365 * 86_400


class RecordMaker:
    """Turns what a listing says into the contract's records, numbering listings per platform."""

    def __init__(self, rates: dict[str, float], draw: Draw) -> None:
        self.rates = rates
        self.draw = draw
        self.number = 0  # of the next listing in the whole sample
        self.clock = _Clock()

    def listing(
        self,
        platform: Platform,
        title: str,
        description: str | None,
        price_cny: float,
        condition: str,
        seller: Seller,
        category: str | None,
    ) -> Record:
        """The listing record, its price converted from CNY into the platform's currency."""
        draw = self.draw
        # Ids grow with the listing's number in the sample, so they are unique on every platform
        # however the sample is cut into chunks.
        count = self.number
        self.number = count + 1
        number = platform.first_id + count * platform.id_stride + int(draw() * platform.id_stride)
        listing_id = _asin(number) if platform.sellers == "amazon" else str(number)
        currencies = platform.currencies
        currency = currencies.values[0] if len(currencies.values) == 1 else currencies(draw)
        record: Record = {"platform": platform.name, "listing_id": listing_id, "title": title}
        if description is not None:
            record["description"] = description
        if draw() < 0.95:
            record["url"] = platform.url_head + listing_id + platform.url_tail
        record["price"] = _shelf(price_cny / self.rates.get(currency, 1.0), currency, draw())
        record["currency"] = currency
        if condition != "unknown" or draw() < 0.5:
            record["condition"] = condition
        record["seller"] = seller.record
        roll = draw()
        if roll < 0.8:
            record["region"] = seller.region
        elif roll < 0.9 and seller.region_code:
            record["region"] = seller.region_code
        if category is not None:
            record["category"] = category
        record["observed_at"] = self.clock(draw(), platform.tz)
        return record

    @staticmethod
    def truth(record: Record, label: str, brand: str | None, product: str | None = None) -> Record:
        """The truth row; `product` (the model the listing is about) extends the contract."""
        truth = {
            "platform": record["platform"],
            "listing_id": record["listing_id"],
            "label": label,
            "brand": brand,
        }
        if product is not None:
            truth["product"] = product
        return truth


def _shelf(amount: float, currency: str, roll: float) -> float:
    """A price as shops print it: 5499, 5488, 39.9 yuan; 129.99 dollars."""
    amount = max(amount, 0.5)
    if currency == "CNY":
        if amount >= 100:
            if roll < 0.5:
                return float(round(amount / 10) * 10 - 1)
            return float(round(amount)) if roll < 0.85 else round(amount, 1)
        return round(amount, 1) if roll < 0.6 else float(max(round(amount), 1))
    if amount >= 20 and roll < 0.6:
        return int(amount) + 0.99
    return round(amount, 2)


def abroad_markup(platform: Platform) -> float:
    """Cheap goods cost more on Western marketplaces than on Chinese ones."""
    return 1.0 if platform.chinese else 1.8


class _Clock:
    """RFC 3339 times in 2026, from tables: formatting each one would cost a fifth of a listing."""

    def __init__(self) -> None:
        self.days = [
            time.strftime("%Y-%m-%dT", time.gmtime(_YEAR_START + day * 86_400))
            for day in range(365)
        ]
        self.minutes = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
        self.seconds = [f"{s:02d}" for s in range(60)]

    def __call__(self, fraction: float, tz: str) -> str:
        """The wall-clock time `fraction` of the way through 2026 in time zone `tz`."""
        day, rest = divmod(int(fraction * _YEAR_SECONDS), 86_400)
        minute, second = divmod(rest, 60)
        return self.days[day] + self.minutes[minute] + self.seconds[second] + tz


_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _asin(number: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_BASE36[rest])
    return "B0" + "".join(reversed(digits)).rjust(8, "0")
