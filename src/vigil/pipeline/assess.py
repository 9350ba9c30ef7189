"""Assessing listings with compiled matchers, in two passes.

Pass one (per record, in any process): parse and validate the record, run every matcher in
stage order, and produce one compact JSON line for the spill file plus the observations
scan-wide matchers asked for. Pass two (in the main process): add the scan-wide signals and
score. This module is what worker processes and Spark executors run; it holds no I/O.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from vigil.detectors.base import Findings, ListingFacts, Matcher, ScanStats, ScanWide
from vigil.domain.assessment import Signal
from vigil.domain.listing import Listing
from vigil.domain.validation import describe_validation_error
from vigil.pipeline.readers import RawRecord, Rejection
from vigil.pipeline.scoring import Scorer

if TYPE_CHECKING:
    from vigil.pipeline.images import ImageStage

KNOWN_FIELDS = frozenset(Listing.model_fields)


@dataclass(slots=True)
class FirstPass:
    """Pass one's result for a listing: its spill line and scan-wide observations."""

    spill: bytes
    observations: list[tuple[int, Any]]
    ignored_fields: tuple[str, ...]


def signal_row(signal: Signal) -> dict[str, Any]:
    row: dict[str, Any] = {
        "detector": signal.detector,
        "kind": signal.kind,
        "asset": signal.asset,
        "weight": round(signal.weight, 4),
        "evidence": signal.evidence,
        "explanation": signal.explanation,
    }
    if signal.details:
        row["details"] = signal.details
    return row


def parse_record(record: RawRecord) -> tuple[Listing, dict[str, Any]] | Rejection:
    """Validate one record against the listing contract, or say precisely why not.

    Also returns the record as parsed (a dict), which is cheaper to carry than the model."""
    payload = record.payload
    if isinstance(payload, bytes):
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as error:
            return Rejection(
                record.source,
                record.line,
                f"not valid UTF-8 at byte offset {error.start} of the line; "
                "re-export the feed as UTF-8",
            )
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError as error:
            payload = _lenient_json(payload)
            if payload is None:
                return Rejection(record.source, record.line, f"not valid JSON: {error}")
        if not isinstance(payload, dict):
            return Rejection(
                record.source,
                record.line,
                f"expected a JSON object, found {type(payload).__name__}",
            )
    else:
        bad = next(
            (k for k, v in payload.items() if isinstance(v, str) and _has_bad_bytes(v)), None
        )
        if bad is not None:
            return Rejection(
                record.source,
                record.line,
                f"{bad}: not valid UTF-8; re-export the feed as UTF-8",
            )
    try:
        listing = Listing.model_validate(payload)
    except ValidationError as error:
        return Rejection(record.source, record.line, describe_validation_error(error))
    return listing, payload


def _lenient_json(line: bytes) -> Any:
    """Python's json accepts NaN and Infinity, which some exporters write; parsing them lets the
    contract say "price must be finite" instead of a bare syntax error. None if still invalid."""
    try:
        return json.loads(line)
    except ValueError:
        return None


def _has_bad_bytes(text: str) -> bool:
    # The CSV reader decodes with surrogateescape: invalid bytes become lone surrogates.
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def stored_listing(raw: dict[str, Any]) -> dict[str, Any]:
    """A spilled record in the listing contract's normalised JSON form, for the store."""
    return Listing.model_validate(raw).model_dump(mode="json", exclude_none=True)


@functools.lru_cache(maxsize=64)
def _folder_of(source: str) -> Path | None:
    """The folder a listing file's relative image paths are resolved against."""
    if source == "-":
        return None
    path = Path(source)
    return path.resolve().parent if path.is_file() else None


class Assessor:
    """The compiled matchers of one scan, and the two passes that run them.

    With an image stage, each listing's photos are fetched and hashed before the matchers run.
    `local_images` says whether image references may be paths on this machine (absolute, or
    relative to the listing file): yes for feeds an operator scans from files, no for listings
    members uploaded through the web — a path there would let them read our files."""

    def __init__(
        self,
        matchers: list[Matcher],
        scorer: Scorer,
        *,
        images: ImageStage | None = None,
        local_images: bool = True,
    ) -> None:
        self.matchers = matchers
        self.scorer = scorer
        self.images = images
        self.local_images = local_images
        self.scan_wide = [i for i, m in enumerate(matchers) if isinstance(m, ScanWide)]

    def first_pass(self, record: RawRecord | Rejection) -> FirstPass | Rejection:
        if isinstance(record, Rejection):
            return record
        parsed = parse_record(record)
        if isinstance(parsed, Rejection):
            return parsed
        listing, payload = parsed
        ignored = tuple(k for k in payload if k not in KNOWN_FIELDS)
        findings = Findings(condition=listing.condition)
        if self.images is not None and listing.images:
            if self.local_images:
                findings.images = self.images.analyse(listing.images, _folder_of(record.source))
            else:
                findings.images = self.images.analyse(listing.images, None, urls_only=True)
        signals: list[Signal] = []
        for matcher in self.matchers:
            signals.extend(matcher.match(listing, findings))
        observations = []
        for index in self.scan_wide:
            observation = self.matchers[index].observe(listing, findings)  # type: ignore[attr-defined]
            if observation is not None:
                observations.append((index, observation))
        facts = ListingFacts(
            platform=listing.platform,
            listing_id=listing.listing_id,
            brand=findings.brand,
            product=findings.product,
            role=findings.role.value,
            condition=findings.condition.value,
            price=listing.price,
            currency=listing.currency,
        )
        spilled: dict[str, Any] = {
            # The record as read: already validated, and dumped in normal form again only
            # for the listings pass two stores (see `stored_listing`).
            "listing": payload,
            "facts": [
                facts.platform,
                facts.listing_id,
                facts.brand,
                facts.product,
                facts.role,
                facts.condition,
                facts.price,
                facts.currency,
            ],
            "signals": [signal_row(s) for s in signals],
        }
        if findings.images:
            spilled["image_records"] = [image.record() for image in findings.images]
        spill = orjson.dumps(spilled, option=orjson.OPT_APPEND_NEWLINE)
        return FirstPass(spill, observations, ignored)

    def new_stats(self) -> dict[int, ScanStats]:
        return {i: self.matchers[i].new_stats() for i in self.scan_wide}  # type: ignore[attr-defined]

    def second_pass(self, spilled: dict[str, Any], stats: dict[int, ScanStats]) -> dict[str, Any]:
        """The assessment row (the contract's fields, JSON-ready) of one spilled listing."""
        facts = ListingFacts(*spilled["facts"])
        signals: list[dict[str, Any]] = spilled["signals"]
        brand, product = facts.brand, facts.product
        for index in self.scan_wide:
            matcher = self.matchers[index]
            extra = matcher.match_scan(facts, stats[index])  # type: ignore[attr-defined]
            signals.extend(signal_row(s) for s in extra)
            if brand is None:
                # A listing whose text names no brand is about the brand of what it copies
                # (a registered work's owner's brand), as a photo match attributes it.
                brand = next((s.details["brand"] for s in extra if s.details.get("brand")), None)
        score = self.scorer.score(
            ((s["kind"], s["weight"]) for s in signals), attributed=brand is not None
        )
        if self.scorer.kind_scale:
            signals = [self.scorer.shown(s) for s in signals]
        row = {
            "platform": facts.platform,
            "listing_id": facts.listing_id,
            "verdict": score.verdict.value,
            "risk": score.risk,
            "log_odds": score.log_odds,
            "brand": brand,
            "product": product,
            "signals": signals,
        }
        if "image_records" in spilled:
            row["image_records"] = spilled["image_records"]
        return row
