"""Signals, assessments and truth labels: what a scan says about a listing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Verdict(StrEnum):
    COUNTERFEIT_SUSPECTED = "counterfeit_suspected"
    INFRINGEMENT_SUSPECTED = "infringement_suspected"
    NEEDS_REVIEW = "needs_review"
    CLEAR = "clear"


# A signal's machine-readable details: plain values, or a small mapping of strings.
Details = dict[str, str | float | int | bool | dict[str, str] | None]


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of evidence a detector found, with its log-odds weight.

    A plain dataclass, not a pydantic model: matchers make millions of these, and validating
    each would cost more than finding it. Assessments validate their signals when read."""

    detector: str
    kind: str
    weight: float
    evidence: str
    explanation: str
    asset: str | None = None
    # Extension: machine-readable detail (the variant seen, a price ratio, a span; a copied
    # text's place in the work is a small mapping of strings).
    details: Details = field(default_factory=dict)


class ImageRecord(BaseModel):
    """What a scan learnt about one image of a listing (extension): its content digest and
    PDQ hash, or why it could not be used."""

    model_config = ConfigDict(frozen=True)

    ref: str
    sha256: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    pdq: str | None = None
    quality: int | None = Field(default=None, ge=0, le=100)
    error: str | None = None
    notes: list[str] = Field(default_factory=list)


class Assessment(BaseModel):
    """The scan's word on one listing: risk, verdict and the signals that explain them."""

    model_config = ConfigDict(frozen=True)

    platform: str
    listing_id: str
    verdict: Verdict
    risk: float = Field(ge=0, le=1)
    brand: str | None = None
    product: str | None = None
    signals: list[Signal] = Field(default_factory=list)
    scanned_at: datetime
    # Extension: the log-odds the risk came from (prior + sum of signal weights).
    log_odds: float | None = None
    # Extension: one record per image reference, when the listing had images.
    image_records: list[ImageRecord] | None = None


class TruthLabel(StrEnum):
    COUNTERFEIT = "counterfeit"
    INFRINGEMENT = "infringement"
    GENUINE = "genuine"
    GREY = "grey"
    ACCESSORY = "accessory"
    UNRELATED = "unrelated"


class Truth(BaseModel):
    model_config = ConfigDict(frozen=True)

    platform: str
    listing_id: str
    label: TruthLabel
    brand: str | None = None
