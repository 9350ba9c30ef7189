"""Fitting the scorer's weights to analysts' decisions: logistic regression on one feature per
signal kind (the sum of that kind's detector weights on a listing), so that the fit learns one
factor per kind and keeps the detectors' own grading, plus the prior. Pure: arrays in, figures
out; the calibrate service gathers the outcomes and writes what is applied.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.optimize import brentq
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from threadpoolctl import threadpool_limits

Matrix = npt.NDArray[np.float64]
Labels = npt.NDArray[np.bool_]


class CalibrationRules(BaseModel):
    """When calibration refuses, and how it fits (`vigil/data/calibration.yaml`)."""

    model_config = ConfigDict(extra="forbid")

    min_outcomes: int = Field(50, ge=2)
    min_each: int = Field(10, ge=2)
    min_cleared: int = Field(20, ge=0)
    min_kind_examples: int = Field(20, ge=1)
    scale_min: float = Field(0.25, gt=0)
    scale_max: float = Field(4.0, gt=0)
    held_out: float = Field(0.3, gt=0, lt=1)
    seed: int = 0
    # A list of C values is chosen from by cross-validation on the training split.
    regularisation: float | list[float] = Field(
        default_factory=lambda: [0.01, 0.1, 1.0, 10.0, 100.0]
    )
    class_weight: Literal["none", "balanced"] = "none"

    @model_validator(mode="after")
    def _ranges(self) -> CalibrationRules:
        if self.scale_min > self.scale_max:
            raise ValueError(f"scale_min ({self.scale_min}) is above scale_max ({self.scale_max})")
        values = (
            self.regularisation if isinstance(self.regularisation, list) else [self.regularisation]
        )
        if not values or any(c <= 0 for c in values):
            raise ValueError("regularisation: one C above 0, or a list of them to choose from")
        return self


@dataclass(frozen=True)
class Outcomes:
    """Decided listings: a row of features (one column per signal kind) and the decision."""

    kinds: list[str]
    features: Matrix  # (listings, kinds): the sum of each kind's detector weights
    confirmed: Labels
    listing_pks: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.confirmed)


@dataclass(frozen=True)
class Weights:
    """The part of the scoring configuration calibration changes."""

    prior: float
    kind_scale: dict[str, float]
    # The charge rule's prior (see ScoringConfig.charge_prior), carried over unchanged.
    charge_prior: float | None = None

    def factor(self, kind: str) -> float:
        return self.kind_scale.get(kind, 1.0)

    def log_odds(self, outcomes: Outcomes) -> Matrix:
        factors = np.array([self.factor(k) for k in outcomes.kinds], dtype=np.float64)
        result: Matrix = self.prior + outcomes.features @ factors
        return result


@dataclass(frozen=True)
class FlagMetrics:
    """How well "flagged" (risk at or above the suspicion threshold) matches the decisions."""

    listings: int
    confirmed: int
    flagged: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged if self.flagged else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.confirmed if self.confirmed else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(frozen=True)
class KindFit:
    kind: str
    examples: int  # training listings carrying the kind
    fitted: float | None  # the regression's coefficient; None when not fitted
    current: float
    factor: float  # what is applied
    note: str  # fitted, clipped, too few examples, negative (not applied)


@dataclass(frozen=True)
class Fit:
    current: Weights
    fitted: Weights
    kinds: list[KindFit]
    regularisation: float
    class_weight: str
    train: int
    held_out: int
    confirmed: int
    dismissed: int
    before: FlagMetrics  # held-out split, current weights
    after: FlagMetrics  # held-out split, fitted weights

    def worse(self) -> list[str]:
        """The held-out figures the fitted weights lower."""
        names = ("precision", "recall", "f1")
        return [n for n in names if getattr(self.after, n) < getattr(self.before, n) - 1e-9]

    def as_json(self) -> dict[str, Any]:
        return {
            "current": asdict(self.current),
            "fitted": asdict(self.fitted),
            "kinds": [asdict(k) for k in self.kinds],
            "regularisation": self.regularisation,
            "class_weight": self.class_weight,
            "outcomes": self.train + self.held_out,
            "confirmed": self.confirmed,
            "dismissed": self.dismissed,
            "train": self.train,
            "held_out": self.held_out,
            "before": self.before.as_json(),
            "after": self.after.as_json(),
            "worse": self.worse(),
        }


def flag_metrics(log_odds: Matrix, confirmed: Labels, threshold: float) -> FlagMetrics:
    """Flagged = risk ≥ threshold, i.e. log-odds ≥ logit(threshold)."""
    flagged = log_odds >= _logit(threshold)
    return FlagMetrics(
        listings=len(confirmed),
        confirmed=int(confirmed.sum()),
        flagged=int(flagged.sum()),
        true_positives=int((flagged & confirmed).sum()),
    )


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def _subset(outcomes: Outcomes, rows: npt.NDArray[np.intp]) -> Outcomes:
    pks = [outcomes.listing_pks[i] for i in rows] if outcomes.listing_pks else []
    return Outcomes(outcomes.kinds, outcomes.features[rows], outcomes.confirmed[rows], pks)


def _regression(rules: CalibrationRules, train: Outcomes, columns: list[int]) -> tuple[Any, float]:
    weight = None if rules.class_weight == "none" else "balanced"
    x, y = train.features[:, columns], train.confirmed
    model = LogisticRegression(class_weight=weight, max_iter=2000)
    # A few thousand rows of a dozen columns: OpenMP threads cost far more than they bring,
    # a hundredfold on a machine whose cores are busy with a scan.
    with threadpool_limits(limits=1):
        if not isinstance(rules.regularisation, list):
            model.set_params(C=rules.regularisation).fit(x, y)
            return model, float(rules.regularisation)
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=rules.seed)
        search = GridSearchCV(model, {"C": rules.regularisation}, cv=folds, scoring="neg_log_loss")
        search.fit(x, y)
    return search.best_estimator_, float(search.best_params_["C"])


def _prior_given(
    offsets: Matrix, confirmed: Labels, sample_weight: Matrix, fallback: float
) -> float:
    """The maximum-likelihood prior when every factor is fixed: the b at which the expected
    count of confirmations, Σ w·σ(b + offset), equals the observed one."""
    target = float((sample_weight * confirmed).sum())

    def gap(b: float) -> float:
        return float((sample_weight / (1.0 + np.exp(-(b + offsets)))).sum()) - target

    low, high = -100.0, 100.0
    return float(brentq(gap, low, high)) if gap(low) < 0 < gap(high) else fallback


def fit(outcomes: Outcomes, current: Weights, rules: CalibrationRules, *, threshold: float) -> Fit:
    """Split the outcomes (stratified, seeded), fit on one part, compare current and fitted
    weights on the held-out part. The caller has checked there are enough outcomes."""
    rows = np.arange(len(outcomes))
    train_rows, test_rows = train_test_split(
        rows, test_size=rules.held_out, stratify=outcomes.confirmed, random_state=rules.seed
    )
    train, test = _subset(outcomes, train_rows), _subset(outcomes, test_rows)
    carried = (train.features != 0).sum(axis=0)
    columns = [i for i, n in enumerate(carried) if n >= rules.min_kind_examples]
    coefficients: dict[str, float] = {}
    regularisation = 0.0
    if columns:
        model, regularisation = _regression(rules, train, columns)
        coefficients = {
            outcomes.kinds[i]: float(c) for i, c in zip(columns, model.coef_[0], strict=True)
        }
    kinds = []
    for index, kind in enumerate(outcomes.kinds):
        kinds.append(_kind_fit(kind, int(carried[index]), coefficients.get(kind), current, rules))
    factors = {k.kind: k.factor for k in kinds}
    # The prior is refitted under the factors as applied (clipped or kept), so that the two
    # agree with each other even when the regression's own coefficients were not taken.
    weight = np.ones(len(train))
    if rules.class_weight == "balanced":
        positives = max(int(train.confirmed.sum()), 1)
        negatives = max(len(train) - positives, 1)
        weight = np.where(
            train.confirmed, len(train) / (2 * positives), len(train) / (2 * negatives)
        )
    offsets = train.features @ np.array([factors[k] for k in outcomes.kinds], dtype=np.float64)
    prior = _prior_given(offsets, train.confirmed, weight, current.prior)
    kind_scale = {k.kind: k.factor for k in kinds if k.note != "not fitted" or k.factor != 1.0}
    fitted = Weights(round(prior, 4), kind_scale, charge_prior=current.charge_prior)
    return Fit(
        current=current,
        fitted=fitted,
        kinds=kinds,
        regularisation=regularisation,
        class_weight=rules.class_weight,
        train=len(train),
        held_out=len(test),
        confirmed=int(outcomes.confirmed.sum()),
        dismissed=int(len(outcomes) - outcomes.confirmed.sum()),
        before=flag_metrics(current.log_odds(test), test.confirmed, threshold),
        after=flag_metrics(fitted.log_odds(test), test.confirmed, threshold),
    )


def _kind_fit(
    kind: str, examples: int, coefficient: float | None, current: Weights, rules: CalibrationRules
) -> KindFit:
    now = current.factor(kind)
    if coefficient is None:
        return KindFit(kind, examples, None, now, now, "not fitted")
    if coefficient <= 0:
        # A kind whose signals speak against the decisions they were meant to support is a
        # detector problem for a person to look at, not something to apply silently.
        return KindFit(kind, examples, round(coefficient, 4), now, now, "negative: not applied")
    factor = min(max(coefficient, rules.scale_min), rules.scale_max)
    note = "fitted" if factor == coefficient else "clipped"
    return KindFit(kind, examples, round(coefficient, 4), now, round(factor, 4), note)
