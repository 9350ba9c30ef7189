"""Evaluation: assessments against truth labels — precision, recall, F1, confusion, PR curve."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from vigil.domain.assessment import Truth, TruthLabel, Verdict
from vigil.domain.validation import describe_validation_error
from vigil.errors import VigilError

# What each truth label should come out as.
EXPECTED: dict[TruthLabel, frozenset[Verdict]] = {
    TruthLabel.COUNTERFEIT: frozenset({Verdict.COUNTERFEIT_SUSPECTED}),
    TruthLabel.INFRINGEMENT: frozenset({Verdict.INFRINGEMENT_SUSPECTED}),
}
BENIGN_VERDICTS = frozenset({Verdict.CLEAR, Verdict.NEEDS_REVIEW})
for _label in TruthLabel:
    EXPECTED.setdefault(_label, BENIGN_VERDICTS)


class EvaluationError(VigilError):
    """An assessments or truth file cannot be read."""


@dataclass
class Metrics:
    name: str
    support: int  # listings that should get this outcome
    predicted: int  # listings that got it
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.support if self.support else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "support": self.support,
            "predicted": self.predicted,
            "true_positives": self.true_positives,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass
class Evaluation:
    metrics: list[Metrics]
    confusion: dict[str, dict[str, int]]
    evaluated: int
    missing_truth: int
    missing_assessment: int
    average_precision: float
    curve_png: Path | None = None
    errors: list[str] = field(default_factory=list)

    def metric(self, name: str) -> Metrics:
        return next(m for m in self.metrics if m.name == name)

    def as_json(self) -> dict[str, Any]:
        return {
            "evaluated": self.evaluated,
            "missing_truth": self.missing_truth,
            "missing_assessment": self.missing_assessment,
            "metrics": {m.name: m.as_json() for m in self.metrics},
            "confusion": self.confusion,
            "average_precision_counterfeit": round(self.average_precision, 4),
            "pr_curve": str(self.curve_png) if self.curve_png else None,
        }


def json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """Each non-blank line of a JSON Lines file, numbered, or EvaluationError saying where."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise EvaluationError(f"{path}: cannot read it: {error.strerror or error}") from error
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise EvaluationError(f"{path}, line {number}: not valid JSON: {error}") from error


def read_truth(path: Path) -> dict[tuple[str, str], TruthLabel]:
    truth: dict[tuple[str, str], TruthLabel] = {}
    for number, row in json_lines(path):
        try:
            label = Truth.model_validate(row)
        except ValidationError as error:
            raise EvaluationError(
                f"{path}, line {number}: {describe_validation_error(error)}"
            ) from error
        truth[(label.platform, label.listing_id)] = label.label
    return truth


def evaluate(assessments: Path, truth_path: Path, *, curve: bool = True) -> Evaluation:
    truth = read_truth(truth_path)
    confusion: dict[str, Counter[str]] = {label.value: Counter() for label in TruthLabel}
    seen: set[tuple[str, str]] = set()
    scored: list[tuple[float, bool]] = []  # (risk, is counterfeit)
    missing_truth = 0
    for number, row in json_lines(assessments):
        try:
            key = (row["platform"], row["listing_id"])
            verdict = Verdict(row["verdict"])
            risk = float(row["risk"])
        except (KeyError, TypeError, ValueError) as error:
            raise EvaluationError(
                f"{assessments}, line {number}: not an assessment ({error}); pass the "
                "assessments.jsonl a scan wrote"
            ) from error
        label = truth.get(key)
        if label is None:
            missing_truth += 1
            continue
        if key in seen:
            continue
        seen.add(key)
        confusion[label.value][verdict.value] += 1
        scored.append((risk, label is TruthLabel.COUNTERFEIT))
    metrics = _metrics(confusion)
    result = Evaluation(
        metrics=metrics,
        confusion={
            label: {v.value: counts.get(v.value, 0) for v in Verdict}
            for label, counts in confusion.items()
        },
        evaluated=len(seen),
        missing_truth=missing_truth,
        missing_assessment=len(truth) - len(seen),
        average_precision=_average_precision(scored),
    )
    if curve and scored:
        result.curve_png = assessments.parent / "pr-curve.png"
        _plot_curve(scored, metrics[0], result.curve_png)
    return result


def _metrics(confusion: dict[str, Counter[str]]) -> list[Metrics]:
    def count(labels: set[TruthLabel], verdicts: set[Verdict]) -> int:
        return sum(confusion[lb.value][v.value] for lb in labels for v in verdicts)

    everyone = set(TruthLabel)
    benign = {label for label in TruthLabel if EXPECTED[label] == BENIGN_VERDICTS}
    all_verdicts = set(Verdict)
    rows = []
    for verdict, labels in (
        (Verdict.COUNTERFEIT_SUSPECTED, {TruthLabel.COUNTERFEIT}),
        (Verdict.INFRINGEMENT_SUSPECTED, {TruthLabel.INFRINGEMENT}),
        (Verdict.NEEDS_REVIEW, benign),
        (Verdict.CLEAR, benign),
    ):
        support = count(labels, all_verdicts)
        predicted = count(everyone, {verdict})
        rows.append(Metrics(verdict.value, support, predicted, count(labels, {verdict})))
    support = count(benign, all_verdicts)
    rows.append(
        Metrics(
            "clear_or_needs_review",
            support,
            count(everyone, set(BENIGN_VERDICTS)),
            count(benign, set(BENIGN_VERDICTS)),
        )
    )
    return rows


def _curve(scored: list[tuple[float, bool]]) -> tuple[list[float], list[float]]:
    """Precision and recall at every distinct risk threshold, highest threshold first."""
    positives = sum(1 for _, positive in scored if positive)
    ranked = sorted(scored, key=lambda item: -item[0])
    precision, recall = [], []
    tp = fp = 0
    for index, (risk, positive) in enumerate(ranked):
        tp += positive
        fp += not positive
        if index + 1 < len(ranked) and ranked[index + 1][0] == risk:
            continue  # ties share one threshold
        precision.append(tp / (tp + fp))
        recall.append(tp / positives if positives else 0.0)
    return precision, recall


def _average_precision(scored: list[tuple[float, bool]]) -> float:
    precision, recall = _curve(scored)
    area, previous = 0.0, 0.0
    for p, r in zip(precision, recall, strict=True):
        area += p * (r - previous)
        previous = r
    return area


def _plot_curve(scored: list[tuple[float, bool]], operating: Metrics, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    precision, recall = _curve(scored)
    figure, axes = plt.subplots(figsize=(6, 5), dpi=110)
    axes.step(recall, precision, where="post", label="counterfeit_suspected by risk")
    axes.scatter(
        [operating.recall], [operating.precision], color="crimson", zorder=3,
        label=f"verdict threshold (P={operating.precision:.3f}, R={operating.recall:.3f})",
    )  # fmt: skip
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_xlim(0, 1.02)
    axes.set_ylim(0, 1.02)
    axes.set_title(f"Precision-recall, AP = {_average_precision(scored):.3f}")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left")
    figure.tight_layout()
    temp = path.with_suffix(".png.part")
    figure.savefig(temp, format="png")
    plt.close(figure)
    temp.replace(path)
