"""The demo: a sample alliance written, its registry loaded, its listings scanned and evaluated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vigil.errors import VigilError
from vigil.services.evaluate import Evaluation, evaluate
from vigil.services.registry import LoadReport, load_registry
from vigil.services.sample import write_sample
from vigil.services.scan import ScanSummary, scan
from vigil.settings import ScanConfig
from vigil.store.db import Store


@dataclass
class DemoResult:
    registry: LoadReport
    scan: ScanSummary
    evaluation: Evaluation


def run_demo(
    store: Store, folder: Path, *, config: ScanConfig, listings: int, seed: int, workers: int = 1
) -> DemoResult:
    sample = write_sample(folder, listings=listings, seed=seed)
    report = load_registry(store, sample.registry)
    if report.problems:
        raise VigilError(f"the sample registry did not load: {report.problems[0]}")
    summary = scan(
        store, [str(sample.listings_path)], folder / "scan", config=config, workers=workers
    )
    evaluation = evaluate(folder / "scan" / "assessments.jsonl", sample.truth)
    return DemoResult(report, summary, evaluation)
