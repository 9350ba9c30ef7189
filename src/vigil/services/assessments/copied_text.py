"""What a listing's text signals say, shaped for reading: a `copyrighted_text` signal as the
copied passage beside the place in the work it came from, a `copy_paste_cluster` signal as the
cluster it belongs to. Pure functions over the stored signals' details; a detail that is
missing or of the wrong type is left out rather than trusted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

COPYRIGHTED_TEXT = "copyrighted_text"
COPY_PASTE_CLUSTER = "copy_paste_cluster"


@dataclass(frozen=True, slots=True)
class CopiedPassage:
    """A passage of the listing found in a registered work (one `copyrighted_text` signal)."""

    signal_id: int
    weight: float
    work: str  # the work's title
    owner: str  # the owning member's id
    containment: float | None  # share of the listing's text found in the work, 0..1
    copied_chars: int | None
    passage: str  # as the detector normalised it
    before: str  # the work's text around the match, normalised alike
    match: str
    after: str
    brand: str | None

    @property
    def percent(self) -> int | None:
        return None if self.containment is None else round(self.containment * 100)


@dataclass(frozen=True, slots=True)
class ClusterLink:
    """The copy-paste cluster a listing belongs to (one `copy_paste_cluster` signal)."""

    signal_id: int
    weight: float
    key: str
    listings: int | None
    sellers: int | None
    similarity: float | None


def _text(details: Mapping[str, Any], key: str) -> str:
    value = details.get(key)
    return value if isinstance(value, str) else ""


def _whole(details: Mapping[str, Any], key: str) -> int | None:
    value = details.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _share(details: Mapping[str, Any], key: str) -> float | None:
    value = details.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return None


class TextSignal(Protocol):
    """What these functions read of a signal (`SignalOut` has it)."""

    id: int
    kind: str
    weight: float
    evidence: str
    details: dict[str, Any]


def copied_passages(signals: Iterable[TextSignal]) -> list[CopiedPassage]:
    """The listing's `copyrighted_text` signals, weightiest first."""
    found = []
    for signal in signals:
        if signal.kind != COPYRIGHTED_TEXT:
            continue
        details: Mapping[str, Any] = signal.details or {}
        excerpt = details.get("work_excerpt")
        excerpt = excerpt if isinstance(excerpt, Mapping) else {}
        brand = details.get("brand")
        found.append(
            CopiedPassage(
                signal_id=signal.id,
                weight=signal.weight,
                work=_text(details, "work"),
                owner=_text(details, "owner"),
                containment=_share(details, "containment"),
                copied_chars=_whole(details, "copied_chars"),
                passage=_text(details, "passage") or signal.evidence,
                before=_text(excerpt, "before"),
                match=_text(excerpt, "match"),
                after=_text(excerpt, "after"),
                brand=brand if isinstance(brand, str) and brand else None,
            )
        )
    return sorted(found, key=lambda p: (-p.weight, p.signal_id))


def cluster_links(signals: Iterable[TextSignal]) -> list[ClusterLink]:
    """The copy-paste clusters the listing's signals name (a key once each)."""
    found: dict[str, ClusterLink] = {}
    for signal in signals:
        if signal.kind != COPY_PASTE_CLUSTER:
            continue
        details: Mapping[str, Any] = signal.details or {}
        key = _text(details, "cluster")
        if not key or key in found:
            continue
        found[key] = ClusterLink(
            signal_id=signal.id,
            weight=signal.weight,
            key=key,
            listings=_whole(details, "listings"),
            sellers=_whole(details, "sellers"),
            similarity=_share(details, "similarity"),
        )
    return list(found.values())
