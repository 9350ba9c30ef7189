"""Benchmark: choose the keypoint detector and the inlier threshold of vigil.images.logos.

Draws 60 registered brands' logos and a few hundred photos (fixed seed):
- positives: a registered logo pasted on a busy scene at a random scale (0.25-0.6 of the
  shorter side), any angle, up to 30% hidden;
- negatives: scenes with no logo, and scenes with an unregistered logo from the same drawing
  generator (the hard case: same style, different brand).
Every photo then goes through what a marketplace does to an upload: a random size, a little
blur, a brightness change and JPEG at quality 50-90.

For SIFT and for ORB it times photo_features + find per photo (one thread, as in one scan
worker) and sweeps the inlier threshold. A hit counts as right only when the brand is right AND
every projected corner lies within 10% of the logo's size of the true corner. Precision is over
hits, recall over positive photos. Per detector the threshold chosen is the one with the best
recall among those with precision >= 0.95 (of equals: the most precise, then the lowest); the
headline value is the better detector's recall there. Then, for that detector: the exact search
against the inverted file, 240 and 940 more brands registered beside the 60, and logos smaller
than the goal's range, all at the chosen threshold.

Writes bench/results/logo_threshold.json. Usage: python bench/logo_threshold.py [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import cv2
import faiss
import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

import vigil.images.logos as logos_module
from scan_text import machine as scan_machine
from vigil.images.logos import LogoHit, LogoMatcher, photo_features
from vigil.services.sample.art import draw_logo, draw_scene, paste_logo

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SEED = 20240611
PRECISION_GOAL = 0.95
RECALL_GOAL = 0.85
THRESHOLDS = [4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 24, 28, 32, 40]
GROWTH = [0, 240, 940]  # brands registered beside the 60
SIZES = [(480, 360), (640, 480), (800, 600), (1024, 768), (360, 480), (600, 800)]
SYLLABLES = [c + v for c in "bklmnrstvz" for v in "aeiou"] + ["nor", "xa", "tri", "dan"]


def machine() -> dict[str, Any]:
    return {
        **scan_machine(),
        "opencv": cv2.__version__,
        "opencv_threads": cv2.getNumThreads(),
    }


def brand_names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        if rng.random() < 0.3:
            name += " " + rng.choice(["Labs", "Co", "Group", "Sport", "Home"])
        if name not in names:
            names.append(name)
    return names


def as_uploaded(image: Image.Image, rng: random.Random) -> Image.Image:
    """What a marketplace photo goes through: blur, light, JPEG."""
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.0)))
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.75, 1.25))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.8, 1.2))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=rng.randint(50, 90))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def make_photos(
    registered: list[str],
    others: list[str],
    positives: int,
    negatives: int,
    *,
    small: bool = False,
) -> list[dict[str, Any]]:
    """Positives, then empty scenes, then unregistered logos. `small`: logos at 0.12-0.25 of
    the shorter side and up to 40% hidden, beyond the goal's range, to show where it breaks."""
    rng = random.Random(SEED + (1000 if small else 0))
    logos = {name: draw_logo(name, SEED) for name in registered + others}
    photos = []
    kinds = ["positive"] * positives + ["empty"] * negatives + ["unregistered"] * negatives
    for index, kind in enumerate(kinds):
        scene = draw_scene(SEED + index, rng.choice(SIZES))
        brand, corners = None, None
        if kind == "empty":
            image = scene
        else:
            name = rng.choice(registered if kind == "positive" else others)
            if small:
                scale, hidden = rng.uniform(0.12, 0.25), rng.uniform(0.0, 0.4)
                image, corners = paste_logo(scene, logos[name], rng, scale=scale, occlusion=hidden)
            else:
                image, corners = paste_logo(scene, logos[name], rng)
            brand = name if kind == "positive" else None
        photos.append(
            {"kind": kind, "brand": brand, "corners": corners, "image": as_uploaded(image, rng)}
        )
    return photos


def localized(hit: LogoHit, corners: Any) -> bool:
    truth = np.array(corners, dtype=np.float64)
    side = np.mean(np.hypot(*(np.roll(truth, -1, axis=0) - truth).T))
    error = np.hypot(*(np.array(hit.polygon) - truth).T).max()
    return bool(error <= 0.1 * side)


def evaluate(
    detector: str,
    logos: list[tuple[str, str, Image.Image]],
    photos: list[dict[str, Any]],
    thresholds: list[int],
) -> dict[str, Any]:
    """Time find() on every photo and score its hits at each inlier threshold."""
    started = time.perf_counter()
    # The floor is the sweep's lowest threshold; higher ones filter the hits afterwards.
    matcher = LogoMatcher.build(logos, detector=detector, min_inliers=thresholds[0])
    matcher.find(photo_features(photos[0]["image"], detector=detector))  # builds the index
    build_s = time.perf_counter() - started
    detect_ms, match_ms, results = [], [], []
    for photo in photos:
        t0 = time.perf_counter()
        features = photo_features(photo["image"], detector=detector)
        t1 = time.perf_counter()
        hits = matcher.find(features)
        t2 = time.perf_counter()
        detect_ms.append((t1 - t0) * 1000)
        match_ms.append((t2 - t1) * 1000)
        results.append(
            [
                (h.inliers, h.brand == photo["brand"] and localized(h, photo["corners"]))
                for h in hits
            ]
        )
    positives = sum(p["kind"] == "positive" for p in photos)
    negatives = [i for i, p in enumerate(photos) if p["kind"] != "positive"]
    sweep = []
    for threshold in thresholds:
        kept = [[h for h in r if h[0] >= threshold] for r in results]
        hits = sum(len(k) for k in kept)
        right = sum(1 for k in kept for h in k if h[1])
        sweep.append(
            {
                "threshold": threshold,
                "precision": round(right / hits, 4) if hits else 1.0,
                "recall": round(sum(1 for k in kept if any(h[1] for h in k)) / positives, 4),
                "false_hits": hits - right,
                "negative_photos_with_hits": sum(1 for i in negatives if kept[i]),
            }
        )
    total = [d + m for d, m in zip(detect_ms, match_ms, strict=True)]
    return {
        "detector": detector,
        "logos": len(logos),
        "logo_descriptors": len(matcher.descriptors),
        "build_s": round(build_s, 3),
        "ms_per_photo": {
            "mean": round(statistics.fmean(total), 2),
            "p95": round(float(np.percentile(total, 95)), 2),
            "detect_mean": round(statistics.fmean(detect_ms), 2),
            "find_mean": round(statistics.fmean(match_ms), 2),
        },
        "sweep": sweep,
    }


def choose(run: dict[str, Any]) -> dict[str, Any]:
    """The threshold with the best recall among those meeting the precision goal; of equals,
    the most precise, then the lowest. (The lowest threshold meeting the goal alone would sit
    on its edge: a few more chance matches in real photos would push precision under it.)"""
    meeting = [s for s in run["sweep"] if s["precision"] >= PRECISION_GOAL] or run["sweep"][-1:]
    return max(meeting, key=lambda s: (s["recall"], s["precision"], -s["threshold"]))


def print_run(title: str, run: dict[str, Any]) -> None:
    ms = run["ms_per_photo"]
    print(
        f"\n{title}: {ms['mean']} ms/photo (p95 {ms['p95']}; features {ms['detect_mean']}, "
        f"find {ms['find_mean']}), {run['logos']} logos, {run['logo_descriptors']} descriptors"
    )
    print(" inliers  precision  recall  false hits  negative photos hit")
    for s in run["sweep"]:
        print(
            f" {s['threshold']:>7}  {s['precision']:>9.3f}  {s['recall']:>6.3f}  "
            f"{s['false_hits']:>10}  {s['negative_photos_with_hits']:>19}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer photos, for a smoke run")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # time per photo in one scan worker
    faiss.omp_set_num_threads(1)
    brands, positives, negatives = (20, 40, 20) if args.quick else (60, 300, 100)
    rng = random.Random(SEED)
    names = brand_names(rng, brands + 20)
    registered, others = names[:brands], names[brands:]
    photos = make_photos(registered, others, positives, negatives)
    logos = [(f"logo:{n}", n, draw_logo(n, SEED)) for n in registered]
    runs = {d: evaluate(d, logos, photos, THRESHOLDS) for d in ("sift", "orb")}
    print(f"{len(photos)} photos: {positives} positives, {2 * negatives} negatives")
    for detector, run in runs.items():
        print_run(detector.upper(), run)
    # The chosen detector: higher recall at the precision goal; time breaks a tie.
    best, other = sorted(
        runs.values(), key=lambda r: (-choose(r)["recall"], r["ms_per_photo"]["mean"])
    )
    chosen = choose(best)
    # The same photos with the exact search, to see what the inverted file costs in recall.
    exact_limit = logos_module.FLAT_LIMIT
    logos_module.FLAT_LIMIT = 10**9
    exact = evaluate(best["detector"], logos, photos, [chosen["threshold"]])
    logos_module.FLAT_LIMIT = exact_limit
    print_run(f"{best['detector'].upper()} exact search", exact)
    # A growing registry: the same photos, with unrelated brands' logos registered beside.
    extra = brand_names(random.Random(SEED + 1), max(GROWTH) + len(names))
    extra = [n for n in extra if n not in names]
    growth = []
    for count in GROWTH[: 2 if args.quick else None]:
        crowd = logos + [(f"logo:{n}", n, draw_logo(n, SEED)) for n in extra[:count]]
        run = evaluate(best["detector"], crowd, photos, [chosen["threshold"]])
        print_run(f"{best['detector'].upper()} with {count} more brands registered", run)
        growth.append({k: v for k, v in run.items() if k != "sweep"} | run["sweep"][0])
    # Beyond the goal's range: small logos (0.12-0.25 of the shorter side), up to 40% hidden.
    hard = make_photos(registered, others, positives // 2, 0, small=True)
    hard_run = evaluate(best["detector"], logos, hard, [chosen["threshold"]])
    print_run(f"{best['detector'].upper()} on small logos (0.12-0.25, up to 40% hidden)", hard_run)
    result = {
        "name": "logo_threshold",
        "metric": "logo recall at precision>=0.95",
        "value": chosen["recall"],
        "unit": "fraction",
        "baseline": {"name": other["detector"], "value": choose(other)["recall"]},
        "ratio": round(chosen["recall"] / max(choose(other)["recall"], 1e-9), 3),
        "machine": machine(),
        "params": {
            "seed": SEED,
            "brands": brands,
            "positives": positives,
            "negatives_empty": negatives,
            "negatives_unregistered": negatives,
            "detector": best["detector"],
            "threshold": chosen["threshold"],
            "precision": chosen["precision"],
            "goal": {"precision": PRECISION_GOAL, "recall": RECALL_GOAL},
            "met": chosen["precision"] >= PRECISION_GOAL and chosen["recall"] >= RECALL_GOAL,
            "ms_per_photo": best["ms_per_photo"],
            "detectors": {
                r["detector"]: {k: v for k, v in r.items() if k != "sweep"} | {"chosen": choose(r)}
                for r in runs.values()
            },
            "exact_search": {k: v for k, v in exact.items() if k != "sweep"} | exact["sweep"][0],
            "more_brands_registered": growth,
            "small_logos": {k: v for k, v in hard_run.items() if k != "sweep"}
            | hard_run["sweep"][0],
            "sweep": [{"detector": r["detector"], **s} for r in runs.values() for s in r["sweep"]],
        },
    }
    if not args.quick:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "logo_threshold.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("value", "baseline", "ratio")}))


if __name__ == "__main__":
    main()
