"""The demo: a sample alliance written, its registry loaded, its listings scanned and evaluated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vigil.domain.registry import MemberKind
from vigil.errors import VigilError
from vigil.services.demo_cases import seed_cases
from vigil.services.demo_platform import MARKET_SUFFIX, DemoUser, seed_platform
from vigil.services.evaluate import Evaluation, evaluate
from vigil.services.registry import LoadReport, load_registry
from vigil.services.sample import write_sample
from vigil.services.scan import ScanSummary, scan
from vigil.settings import ScanConfig, Settings
from vigil.store.db import Store


@dataclass
class DemoResult:
    registry: LoadReport
    scan: ScanSummary
    evaluation: Evaluation
    users: list[DemoUser]
    cases: list[str]  # the references of the cases the demo opened (none on a second run)


def run_demo(
    store: Store,
    settings: Settings,
    folder: Path,
    *,
    config: ScanConfig,
    listings: int,
    seed: int,
    workers: int = 1,
) -> DemoResult:
    """Write the sample, load and scan it (writing `folder/scan`), evaluate the scan, then set up
    the web platform's members, uploads, scan runs and demo users on the same store."""
    sample = write_sample(folder, listings=listings, seed=seed)
    report = load_registry(store, sample.registry)
    if report.problems:
        raise VigilError(f"the sample registry did not load: {report.problems[0]}")
    summary = scan(
        store, [str(sample.listings_path)], folder / "scan", config=config, workers=workers
    )
    evaluation = evaluate(folder / "scan" / "assessments.jsonl", sample.truth)
    users = seed_platform(store, settings, sample.listings_path)
    return DemoResult(report, summary, evaluation, users, demo_cases(store, settings, users))


def demo_cases(store: Store, settings: Settings, users: list[DemoUser]) -> list[str]:
    """The demo's cases, between its brand owner and its busiest marketplace."""
    owner = next((u for u in users if u.kind == MemberKind.BRAND_OWNER.value), None)
    market = next((u for u in users if u.kind == MemberKind.MARKETPLACE.value), None)
    if owner is None or market is None:
        return []
    platform = market.member_id.removesuffix(MARKET_SUFFIX)
    return seed_cases(
        store,
        settings,
        owner_id=owner.member_id,
        owner_email=owner.email,
        market=(platform, market.member_id),
    )
