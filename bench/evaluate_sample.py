"""Detection quality on the sample alliance: precision/recall per seed, written to results.

For each seed: a fresh sample of N listings (with images and works), a fresh store, load,
scan, evaluate; then the same scan with the images detector switched off, and once more with
the texts detector off too, so that what images and texts add (or cost) is measured in the same
run; and the image and text figures against image_truth.jsonl and text_truth.jsonl.
Usage: python bench/evaluate_sample.py [--listings 20000] [--seeds 1 2 3] [--workers N] [--keep]
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


def run(seed: int, listings: int, workers: int) -> dict[str, Any]:
    from vigil.services.evaluate import evaluate
    from vigil.services.evaluate_images import evaluate_images
    from vigil.services.evaluate_texts import evaluate_texts
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
    config = load_scan_config(folder / "home")
    inputs = [str(sample.listings_path)]
    with_images = scan(store, inputs, folder / "scan", config=config, workers=workers)
    off = config.model_copy(deep=True)
    off.detectors["images"]["enabled"] = False
    without = scan(store, inputs, folder / "scan-text", config=off, workers=workers)
    plain = off.model_copy(deep=True)
    plain.detectors["texts"]["enabled"] = False
    scan(store, inputs, folder / "scan-plain", config=plain, workers=workers)
    store.close()
    result = evaluate(folder / "scan" / "assessments.jsonl", sample.truth).as_json()
    result["by_trick"] = misses_by_trick(folder)
    result["without_images"] = evaluate(
        folder / "scan-text" / "assessments.jsonl", sample.truth, curve=False
    ).as_json()["metrics"]
    result["without_images_or_texts"] = evaluate(
        folder / "scan-plain" / "assessments.jsonl", sample.truth, curve=False
    ).as_json()["metrics"]
    result["images"] = evaluate_images(
        folder / "scan" / "assessments.jsonl", folder / "image_truth.jsonl", sample.truth
    )
    assert sample.text_truth is not None
    result["texts"] = evaluate_texts(
        folder / "scan" / "assessments.jsonl", sample.text_truth, sample.truth
    )
    result["listings_per_second"] = {
        "with_images": with_images.listings_per_second,
        "without_images": without.listings_per_second,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--keep", action="store_true", help="keep the other seeds of bench/results/evaluation.json"
    )
    args = parser.parse_args()
    report: dict[str, Any] = {"listings": args.listings, "seeds": {}}
    path = RESULTS / "evaluation.json"
    if args.keep and path.exists():  # add these seeds to those of an earlier run
        earlier = json.loads(path.read_text(encoding="utf-8"))
        if earlier.get("listings") == args.listings:
            report["seeds"] = earlier.get("seeds", {})
    for seed in args.seeds:
        result = run(seed, args.listings, args.workers)
        report["seeds"][str(seed)] = result
        c = result["metrics"]["counterfeit_suspected"]
        b = result["without_images"]["counterfeit_suspected"]
        p = result["without_images_or_texts"]["counterfeit_suspected"]
        texts = result["texts"]
        print(
            f"seed {seed}: counterfeit_suspected precision {c['precision']:.4f} "
            f"recall {c['recall']:.4f} F1 {c['f1']:.4f} (without images: "
            f"{b['precision']:.4f} / {b['recall']:.4f}); images {result['images']['recall']}, "
            f"logo precision {result['images']['logo_precision']}, "
            f"false photo matches {result['images']['false_photo_matches']}; without images "
            f"or texts {p['precision']:.4f} / {p['recall']:.4f}; texts {json.dumps(texts)[:600]}",
            flush=True,
        )
        # Written after every seed, so that a long run keeps what it has measured.
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
