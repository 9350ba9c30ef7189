"""The detector contract.

A `Detector` is a named factory: `compile(registry, config)` turns a registry snapshot and the
scan configuration (its own section is `config.detectors[name]`) into a `Matcher`. A matcher is
pure and picklable — no database, files or network while it matches — so the same object runs
in-process, in worker processes and inside Spark executors.

Matchers run in `stage` order on one listing and share a `Findings` object: an attributing
detector (stage 0, `brand`) says which brand and product a listing is about, and later stages
read that (the price of a phone case is not compared with the phone's MSRP).

A matcher that needs statistics over the whole scan (the median price of a product) also
implements `ScanWide`: `observe` runs with `match` in the first pass and returns a small
picklable observation; the engine folds observations into one `ScanStats` and calls
`match_scan` for each listing in the second pass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable

from vigil.domain.assessment import Signal
from vigil.domain.listing import Condition, Listing
from vigil.domain.registry import Registry
from vigil.images.facts import ListingImage
from vigil.settings import ScanConfig


class Role(StrEnum):
    """What a listing is, with respect to the brand it was attributed to."""

    PRODUCT = "product"  # offers the brand's own goods
    ACCESSORY = "accessory"  # a case, charger or part *for* the brand's goods (nominative use)
    MENTION = "mention"  # names the brand in passing, or a common word that is also a brand
    NONE = "none"  # no registered brand found


@dataclass(slots=True)
class Findings:
    """What earlier stages found out about a listing; later stages read it."""

    brand: str | None = None
    product: str | None = None
    role: Role = Role.NONE
    # The condition the listing declares, or infers from its text (二手, refurbished...).
    condition: Condition = Condition.UNKNOWN
    # Set when the listing was attributed through a look-alike name, not the real one.
    variant: str | None = None
    # The listing's photos as the image stage fetched and hashed them (vigil.pipeline.images).
    images: list[ListingImage] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


class Matcher(ABC):
    """Turns a listing into signals. Must be picklable and must not do I/O."""

    detector: ClassVar[str]

    @abstractmethod
    def match(self, listing: Listing, findings: Findings) -> list[Signal]:
        """Signals for one listing; may update `findings` for later stages."""


class ScanStats(Protocol):
    """Statistics over a whole scan, folded from the observations of the first pass."""

    def add(self, observation: Any) -> None: ...


@runtime_checkable
class ScanWide(Protocol):
    """Capability of a matcher that needs scan-wide statistics (a second pass)."""

    def observe(self, listing: Listing, findings: Findings) -> Any | None:
        """A small picklable observation for the scan statistics, or None."""

    def new_stats(self) -> ScanStats:
        """An empty accumulator for this matcher's observations."""

    def match_scan(self, facts: ListingFacts, stats: ScanStats) -> list[Signal]:
        """Signals that need the whole scan, from what the first pass kept of the listing."""


@dataclass(slots=True, frozen=True)
class ListingFacts:
    """What the first pass keeps of a listing for the second one (small, serialisable)."""

    platform: str
    listing_id: str
    brand: str | None
    product: str | None
    role: str
    condition: str
    price: float | None
    currency: str


class Detector(ABC):
    """A named detector. Subclasses set `name`, `stage` and `description` and compile matchers."""

    name: ClassVar[str]
    stage: ClassVar[int] = 10
    description: ClassVar[str] = ""

    @abstractmethod
    def compile(self, registry: Registry, config: ScanConfig) -> Matcher:
        """Compile a matcher from a registry snapshot and the scan configuration."""

    def section(self, config: ScanConfig) -> dict[str, Any]:
        """This detector's settings: `config.detectors[self.name]`, empty when absent."""
        return dict(config.detectors.get(self.name, {}))
