"""Calibration on the sample alliance: do weights fitted to analysts' outcomes keep precision
and recall?

For each seed: a fresh sample (N listings), its registry loaded into a fresh home, a scan that
stores every listing; then simulated analysts open a case for every flagged listing
(counterfeit_suspected, infringement_suspected), for a random share of needs_review listings
and for a random audit sample of cleared listings, and decide each from the truth labels
(counterfeit or infringement → confirmed, anything else → dismissed). `vigil calibrate` fits
and applies; the sample is scanned again under the new weights; both scans are evaluated
against the truth.

Three variants are fitted on the same outcomes and scored offline (the scorer run again over
the first scan's signals, which is what a rescan does: scaling changes no signal; checked
against the real rescan), to show why the method is what it is: outcomes of the suspected
listings only (risk ≥ 0.80), outcomes without the audit sample, and balanced class weights.
Usage: python bench/calibrate_sample.py [--listings 20000] [--seeds 1 2 3] [--no-images]
        [--review-share 0.5] [--audit-share 0.05]
Writes bench/results/calibration.json.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work" / "calibration"
RESULTS = ROOT / "bench" / "results"
RESULT = RESULTS / "calibration.json"
HEADLINE = ("counterfeit_suspected", "infringement_suspected")
POSITIVE = {"counterfeit", "infringement"}


def simulate_analysts(
    store: Any, truth: dict[tuple[str, str], str], *, review_share: float, audit_share: float,
    seed: int,
) -> dict[str, int]:  # fmt: skip
    """Open and decide one case per chosen listing; counts of what was opened and decided."""
    from sqlalchemy import select

    from vigil.domain.cases import CaseState
    from vigil.services.cases import Opening, load_case_config, move_in, open_case_in
    from vigil.store.db import cli_actor
    from vigil.store.tables import ListingRow

    rng = random.Random(seed)
    actor, config = cli_actor(), load_case_config()
    with store.session() as session:
        rows = session.execute(
            select(ListingRow.id, ListingRow.platform, ListingRow.listing_id, ListingRow.verdict,
                   ListingRow.brand).order_by(ListingRow.id)
        ).all()  # fmt: skip
    chosen = []
    for pk, platform, listing_id, verdict, brand in rows:
        if verdict in HEADLINE:
            why = "flagged"
        elif verdict == "needs_review" and rng.random() < review_share:
            why = "review"
        elif verdict == "clear" and rng.random() < audit_share:
            why = "audit"
        else:
            continue
        chosen.append((pk, truth[(platform, listing_id)], why, brand))
    counts: dict[str, int] = {}
    for start in range(0, len(chosen), 500):
        with store.session() as session:
            for pk, label, why, brand in chosen[start : start + 500]:
                # A listing that names no registered brand is the association's to look at.
                opening = Opening(listing_pks=[pk], owner=None if brand else "qbpc", note=why)
                case = open_case_in(session, actor, opening, config)
                target = CaseState.CONFIRMED if label in POSITIVE else CaseState.DISMISSED
                move_in(session, case, actor, target, config)
                key = f"{why}_{target.value}"
                counts[key] = counts.get(key, 0) + 1
    return counts


def rescored(assessments: Path, weights: Any, config: Any, out: Path) -> None:
    """The assessments again under other weights, as a rescan would make them."""
    from vigil.pipeline.scoring import Scorer

    scoring = config.scoring.model_copy(
        update={
            "prior": weights.prior,
            "kind_scale": weights.kind_scale,
            "charge_prior": weights.charge_prior,
        }
    )
    scorer = Scorer(scoring)
    out.parent.mkdir(parents=True, exist_ok=True)
    with assessments.open("rb") as source, out.open("wb") as sink:
        for line in source:
            row = orjson.loads(line)
            score = scorer.score(
                ((s["kind"], s["weight"]) for s in row["signals"]),
                attributed=row["brand"] is not None,
            )
            row.update(verdict=score.verdict.value, risk=score.risk)
            sink.write(orjson.dumps(row) + b"\n")


def headline(evaluation: Any) -> dict[str, Any]:
    """Precision and recall of each charge, and of being flagged with either (a counterfeit
    charged with infringement is a wrong charge there, not a false alarm)."""
    metrics = evaluation.as_json()["metrics"]
    result = {name: metrics[name] for name in HEADLINE}
    confusion = evaluation.confusion
    flagged = sum(row[v] for row in confusion.values() for v in HEADLINE)
    support = sum(sum(confusion[label].values()) for label in POSITIVE)
    caught = sum(confusion[label][v] for label in POSITIVE for v in HEADLINE)
    result["flagged"] = {
        "support": support,
        "predicted": flagged,
        "true_positives": caught,
        "precision": round(caught / flagged, 4) if flagged else 0.0,
        "recall": round(caught / support, 4) if support else 0.0,
    }
    return result


def variant(
    outcomes: Any, current: Any, rules: Any, keep: np.ndarray | None, threshold: float
) -> Any:
    from vigil.pipeline.calibration import Outcomes, fit

    if keep is not None:
        pks = [pk for pk, k in zip(outcomes.listing_pks, keep, strict=True) if k]
        outcomes = Outcomes(outcomes.kinds, outcomes.features[keep], outcomes.confirmed[keep], pks)
    return fit(outcomes, current, rules, threshold=threshold)


def run(seed: int, args: argparse.Namespace) -> dict[str, Any]:
    from vigil.services.calibrate import (
        apply,
        calibrate,
        current_weights,
        gather_outcomes,
        load_rules,
    )
    from vigil.services.evaluate import evaluate, read_truth
    from vigil.services.registry import load_registry
    from vigil.services.sample import write_sample
    from vigil.services.scan import scan
    from vigil.settings import load_scan_config
    from vigil.store.db import cli_actor, open_store

    folder = WORK / ("with-images" if args.images else "without-images") / f"seed-{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    sample = write_sample(folder, listings=args.listings, seed=seed, images=args.images)
    home = folder / "home"
    store = open_store(f"sqlite:///{home / 'vigil.sqlite3'}")
    load_registry(store, sample.registry)
    config = load_scan_config(home)
    inputs = [str(sample.listings_path)]
    # Every listing stored: the audit sample is drawn from the cleared ones.
    scan(store, inputs, folder / "scan-before", config=config, store_all=True)
    truth = {key: label.value for key, label in read_truth(sample.truth).items()}
    clock = time.perf_counter()
    cases = simulate_analysts(
        store, truth, review_share=args.review_share, audit_share=args.audit_share, seed=seed
    )
    cases_s = time.perf_counter() - clock
    clock = time.perf_counter()
    calibration = calibrate(store, home)
    fit_s = time.perf_counter() - clock
    apply(store, home, calibration, actor=cli_actor())
    after_config = load_scan_config(home)
    scan(store, inputs, folder / "scan-after", config=after_config, store_all=True)
    before = evaluate(folder / "scan-before" / "assessments.jsonl", sample.truth, curve=False)
    after = evaluate(folder / "scan-after" / "assessments.jsonl", sample.truth, curve=False)

    # The variants, on the same outcomes. Every stored listing was scored by the first scan
    # (the current weights): its log-odds say which cases each analysts' policy would open.
    outcomes = gather_outcomes(store)
    store.close()
    rules = load_rules(home)
    current = current_weights(config)
    threshold = calibration.threshold
    log_odds = current.log_odds(outcomes)
    limits = config.scoring.thresholds
    suspected = log_odds >= np.log(threshold / (1 - threshold))
    reviewed = log_odds >= np.log(limits.needs_review / (1 - limits.needs_review))
    variants: dict[str, Any] = {}
    for name, keep, variant_rules in (
        ("suspected_only", suspected, rules),
        ("without_audit_sample", reviewed, rules),
        ("balanced_class_weights", None, rules.model_copy(update={"class_weight": "balanced"})),
    ):
        result = variant(outcomes, current, variant_rules, keep, threshold)
        out = folder / f"scan-{name}" / "assessments.jsonl"
        rescored(folder / "scan-before" / "assessments.jsonl", result.fitted, config, out)
        variants[name] = {
            "fit": result.as_json(),
            "metrics": headline(evaluate(out, sample.truth, curve=False)),
        }
    # The offline rescoring agrees with the real rescan (a check on the variants' method).
    check = folder / "scan-rescored" / "assessments.jsonl"
    rescored(folder / "scan-before" / "assessments.jsonl", calibration.fit.fitted, config, check)
    agrees = headline(evaluate(check, sample.truth, curve=False)) == headline(after)
    return {
        "cases": cases,
        "calibration": calibration.as_json(),
        "before": headline(before),
        "after": headline(after),
        "variants": variants,
        "offline_rescoring_matches_rescan": agrees,
        "seconds": {"cases": round(cases_s, 1), "calibrate": round(fit_s, 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--images", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--review-share", type=float, default=0.5)
    parser.add_argument("--audit-share", type=float, default=0.05)
    args = parser.parse_args()
    from scan_text import machine

    key = "with_images" if args.images else "without_images"
    params = {
        "listings": args.listings,
        "review_share": args.review_share,
        "audit_share": args.audit_share,
    }
    run_report: dict[str, Any] = {"params": params, "seeds": {}}
    earlier = _read_report().get("runs", {}).get(key)
    if earlier and earlier.get("params") == params:
        run_report = earlier
    for seed in args.seeds:
        result = run(seed, args)
        run_report["seeds"][str(seed)] = result
        for name in (*HEADLINE, "flagged"):
            b, a = result["before"][name], result["after"][name]
            print(
                f"seed {seed} {name}: precision {b['precision']:.4f} → {a['precision']:.4f}, "
                f"recall {b['recall']:.4f} → {a['recall']:.4f}",
                flush=True,
            )
        for name, found in result["variants"].items():
            m = found["metrics"]["counterfeit_suspected"]
            print(f"  {name}: counterfeit {m['precision']:.4f} / {m['recall']:.4f}", flush=True)
        # Read again before writing: a run with images and one without may go side by side,
        # and each replaces its own part only.
        report = _read_report()
        report.setdefault("runs", {})[key] = run_report
        _summarise(report, machine())
        RESULTS.mkdir(parents=True, exist_ok=True)
        RESULT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _read_report() -> dict[str, Any]:
    if not RESULT.exists():
        return {"name": "calibration", "runs": {}}
    report: dict[str, Any] = json.loads(RESULT.read_text(encoding="utf-8"))
    return report


def _summarise(report: dict[str, Any], where: dict[str, Any]) -> None:
    """The headline in the shape every benchmark result has: counterfeit_suspected F1 after
    calibration against before, averaged over the seeds of the run without images."""
    runs = report["runs"]
    run_report = runs.get("without_images") or next(iter(runs.values()))
    seeds = run_report["seeds"].values()
    after = float(np.mean([s["after"]["counterfeit_suspected"]["f1"] for s in seeds]))
    before = float(np.mean([s["before"]["counterfeit_suspected"]["f1"] for s in seeds]))
    report.update(
        metric="counterfeit_suspected F1 after calibration (mean over seeds)",
        value=round(after, 4),
        unit="F1",
        baseline={"name": "configured weights", "value": round(before, 4)},
        ratio=round(after / before, 4) if before else None,
        machine=where,
        params=run_report["params"],
    )


if __name__ == "__main__":
    main()
