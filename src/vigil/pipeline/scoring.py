"""Additive log-odds scoring: prior + the sum of signal weights, every contribution visible."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

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

    def score(self, contributions: Iterable[tuple[str, float]], *, attributed: bool) -> Score:
        """`attributed`: the listing was tied to a registered brand (a fake needs a brand)."""
        log_odds = self.prior
        # The log-odds of everything but the infringement signals: whether the listing would
        # look like a fake without the work it copies.
        other = self.prior
        infringement = False
        for kind, weight in contributions:
            log_odds += weight
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
