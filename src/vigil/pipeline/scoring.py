"""Additive log-odds scoring: prior + the sum of signal weights, every contribution visible.

A calibrated configuration multiplies each signal kind's weights by a factor (`kind_scale`);
the assessment then shows the weight as scored, and the detector's own weight beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vigil.domain.assessment import Verdict
from vigil.settings import ScoringConfig


@dataclass(slots=True, frozen=True)
class Score:
    log_odds: float
    risk: float
    verdict: Verdict


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


class Scorer:
    """Turns (signal kind, weight) pairs into a risk and a verdict under one configuration."""

    def __init__(self, config: ScoringConfig) -> None:
        self.prior = config.prior
        self.thresholds = config.thresholds
        self.infringement_kinds = frozenset(config.infringement_kinds)
        self.kind_scale = dict(config.kind_scale)
        self.charge_prior = config.prior if config.charge_prior is None else config.charge_prior

    def shown(self, signal: dict[str, Any]) -> dict[str, Any]:
        """A signal row with the weight it scores with; a scaled one keeps the detector's own
        weight and the factor in its details, so that calibration refits from the former."""
        factor = self.kind_scale.get(signal["kind"], 1.0)
        if factor == 1.0:
            return signal
        details = dict(signal.get("details") or {})
        base = float(details.setdefault("detector_weight", signal["weight"]))
        details["kind_scale"] = factor
        return {**signal, "weight": round(base * factor, 4), "details": details}

    def score(self, contributions: Iterable[tuple[str, float]], *, attributed: bool) -> Score:
        """`attributed`: the listing was tied to a registered brand (a fake needs a brand)."""
        log_odds = self.prior
        # The log-odds of everything but the infringement signals, on the detectors' own
        # weights: whether the listing would look like a fake without the work it copies.
        other = self.charge_prior
        infringement = False
        scale = self.kind_scale
        for kind, weight in contributions:
            log_odds += weight * scale.get(kind, 1.0) if scale else weight
            if kind in self.infringement_kinds:
                infringement = infringement or weight > 0
            else:
                other += weight
        risk = sigmoid(log_odds)
        # A listing that copies a work and also looks like a fake on its own (at least worth a
        # review without the copy) is a suspected counterfeit: the graver charge, and the one
        # its takedown notice will make.
        fake_too = infringement and sigmoid(other) >= self.thresholds.needs_review
        return Score(
            round(log_odds, 4),
            round(risk, 4),
            self.verdict(risk, attributed, infringement and not fake_too),
        )

    def verdict(self, risk: float, attributed: bool, infringement: bool) -> Verdict:
        limits = self.thresholds
        if attributed and risk >= limits.counterfeit_suspected and not infringement:
            return Verdict.COUNTERFEIT_SUSPECTED
        if infringement and risk >= limits.infringement_suspected:
            return Verdict.INFRINGEMENT_SUSPECTED
        if risk >= limits.needs_review:
            return Verdict.NEEDS_REVIEW
        return Verdict.CLEAR
