"""Evaluation figures checked against counts worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import write_jsonl
from vigil.services.evaluate import evaluate

# (label, verdict, risk) for ten listings.
ROWS = [
    ("counterfeit", "counterfeit_suspected", 0.99),
    ("counterfeit", "counterfeit_suspected", 0.95),
    ("counterfeit", "counterfeit_suspected", 0.90),
    ("counterfeit", "needs_review", 0.50),
    ("genuine", "counterfeit_suspected", 0.85),
    ("genuine", "clear", 0.05),
    ("grey", "needs_review", 0.45),
    ("accessory", "clear", 0.02),
    ("unrelated", "clear", 0.01),
    ("genuine", "clear", 0.04),
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "scan").mkdir()
    assessments = write_jsonl(
        tmp_path / "scan" / "assessments.jsonl",
        [
            {"platform": "jd", "listing_id": str(i), "verdict": v, "risk": r, "signals": []}
            for i, (_, v, r) in enumerate(ROWS)
        ],
    )
    truth = write_jsonl(
        tmp_path / "truth.jsonl",
        [
            {"platform": "jd", "listing_id": str(i), "label": label, "brand": None}
            for i, (label, _, _) in enumerate(ROWS)
        ]
        + [{"platform": "jd", "listing_id": "never-scanned", "label": "genuine", "brand": None}],
    )
    return assessments, truth


def test_precision_recall_and_f1_per_verdict(files: tuple[Path, Path]) -> None:
    result = evaluate(*files)
    counterfeit = result.metric("counterfeit_suspected")
    assert (counterfeit.support, counterfeit.predicted, counterfeit.true_positives) == (4, 4, 3)
    assert counterfeit.precision == pytest.approx(0.75)
    assert counterfeit.recall == pytest.approx(0.75)
    assert counterfeit.f1 == pytest.approx(0.75)
    benign = result.metric("clear_or_needs_review")
    assert (benign.support, benign.predicted, benign.true_positives) == (6, 6, 5)
    assert result.confusion["counterfeit"]["needs_review"] == 1
    assert result.confusion["genuine"]["counterfeit_suspected"] == 1
    assert (result.evaluated, result.missing_assessment, result.missing_truth) == (10, 1, 0)


def test_average_precision_and_the_curve_file(files: tuple[Path, Path]) -> None:
    result = evaluate(*files)
    # Ranked by risk: TP, TP, TP, FP, TP -> AP = (1 + 1 + 1 + 4/5) / 4
    assert result.average_precision == pytest.approx((3 + 0.8) / 4)
    assert result.curve_png == files[0].parent / "pr-curve.png"
    assert result.curve_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
