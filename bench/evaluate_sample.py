"""Detection quality on the sample alliance: precision/recall per seed, written to results.

For each seed: a fresh sample of N listings, a fresh store, load, scan, evaluate.
Usage: python bench/evaluate_sample.py [--listings 20000] [--seeds 1 2 3]
Writes bench/results/evaluation.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work" / "evaluation"
RESULTS = ROOT / "bench" / "results"


def misses_by_trick(folder: Path) -> dict[str, dict[str, int]]:
    """For counterfeits: how many used each trick combination, and how many were caught."""
    truth = {}
    with (folder / "truth.jsonl").open("rb") as handle:
        for line in handle:
            row = orjson.loads(line)
            if row["label"] == "counterfeit":
                truth[(row["platform"], row["listing_id"])] = "+".join(sorted(row["tricks"]))
    total: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    with (folder / "scan" / "assessments.jsonl").open("rb") as handle:
        for line in handle:
            row = orjson.loads(line)
            trick = truth.get((row["platform"], row["listing_id"]))
            if trick is not None:
                total[trick] += 1
                caught[trick] += row["verdict"] == "counterfeit_suspected"
    return {t: {"total": total[t], "caught": caught[t]} for t in sorted(total)}


def run(seed: int, listings: int) -> dict[str, Any]:
    from vigil.services.evaluate import evaluate
    from vigil.services.registry import load_registry
    from vigil.services.sample import write_sample
    from vigil.services.scan import scan
    from vigil.settings import load_scan_config
    from vigil.store.db import open_store

    folder = WORK / f"seed-{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    sample = write_sample(folder, listings=listings, seed=seed)
    store = open_store(f"sqlite:///{folder / 'vigil.sqlite3'}")
    load_registry(store, sample.registry)
    scan(store, [str(sample.listings_path)], folder / "scan", config=load_scan_config())
    store.close()
    result = evaluate(folder / "scan" / "assessments.jsonl", sample.truth).as_json()
    result["by_trick"] = misses_by_trick(folder)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    report: dict[str, Any] = {"listings": args.listings, "seeds": {}}
    for seed in args.seeds:
        result = run(seed, args.listings)
        report["seeds"][str(seed)] = result
        c = result["metrics"]["counterfeit_suspected"]
        print(
            f"seed {seed}: counterfeit_suspected precision {c['precision']:.4f} "
            f"recall {c['recall']:.4f} F1 {c['f1']:.4f}",
            flush=True,
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
