"""Benchmark: copied text — containment search over registered works, and copy-paste
clusters of listing texts — against datasketch, measured in the same run.

Generated data (bench/near_dup_corpus.py, fixed seeds, cached in bench/work/near_dup):
  works: 10,000 registered works, half Chinese and half English, 500–20,000 characters
    (log-uniform), drawn from a Zipf lexicon of real words with 60 topics and a bank of
    collocations, so that unrelated texts share vocabulary and phrases; a fifth carry shop
    boilerplate as official descriptions do.
  descriptions: 100,000 listing descriptions. 10 % copy a passage of a random work
    (50–800 characters, log-uniform, from a sentence start): 20 % verbatim but for punctuation,
    70 % lightly edited (0.5–4 % of Han characters or 0.5–5 % of words replaced, punctuation
    and case changed), 10 % of the Chinese ones in traditional characters; half get shop text
    inserted before, after or in the middle (up to 40 % of the passage). Of the rest, 70 % are
    the sellers' own texts on the same topics with shop terms around them, 20 % describe a
    work's product in their own words with 40 % of their clauses terms taken from the work
    (names, specs: "related", the hard negatives), and 10 % are shop boilerplate only.
  listing texts: 1,000,000 (70 % Chinese). 4 % are rings: 5–40 copies of one template
    (150–600 characters) with 0–3 % of characters or words changed, punctuation changed, a shop
    phrase added or a promotion put in front; the rest are distinct texts (60–600 characters)
    on the shared topics, half with shop terms.

Measured (each index in a fresh process, one thread; RSS from that process):
  near_dup_containment.json — vigil's WorkIndex as the detector's pass one uses it (shingle,
    sampled-index candidates, exact confirmation of the best 3): descriptions/s on one core
    (best of `repeats` passes, with the time per stage), build time, the memory the index adds
    and peak RSS, recall of the planted copies (the copied work confirmed with containment
    ≥ 0.5) overall, for short excerpts (< 200 characters), by length, edit and language, and
    false candidates and false confirmations per description. Baselines on the same shingles,
    with the same confirmation of every candidate they return: datasketch MinHashLSH (Jaccard,
    threshold 0.5) over all descriptions, and MinHashLSHEnsemble (containment, threshold 0.5)
    over every 5th description (its queries take milliseconds).
  near_dup_clusters.json — vigil's path (Shingler + Sketcher per text, the detector's
    boilerplate seeds removed, then find_clusters): texts/s, find_clusters time, peak RSS,
    pairwise precision and recall of the rings; datasketch MinHashLSH (same shingles, same
    num_perm, threshold 0.6, query then insert per text, connected components of the results):
    the same figures at 100k, and at 1M unless its projected memory or time is beyond the caps
    below (then at 200k, stated in params).
  near_dup_shingles.json (`--shingles`) — precision and recall of copy detection for Chinese
    windows of 3–7 characters and English windows of 2–5 words (bench/near_dup_shingles.py).

Usage: python bench/near_dup.py [--quick] [--shingles | --only containment|clusters|shingles]
       [--profile]. `--quick` runs small sizes in under a minute and writes *_quick.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from scan_text import machine

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work" / "near_dup"
RESULTS = ROOT / "bench" / "results"
CORPUS_VERSION = 1  # bump when the generator changes, so that cached corpora are redone
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
MEMORY_CAP_GB = 12.0  # 24 GB machine
TIME_CAP_S = 1800.0  # a baseline run projected longer than this is not run
GOAL_RATE = 5_000.0
MARGIN = 0.25  # hard negatives' p99 containment a shingle window may reach (threshold 0.5)
# vigil's lookup again with one setting changed (near_dup_search.variant); {} is the default.
VARIANTS: list[dict[str, Any]] = [
    {},
    {"place": False},
    {"max_works_per_key": 50},
    {"min_shingles": 6},
    {"sample_bits": 1, "min_shingles": 6},
    {"sample_bits": 0, "min_shingles": 6},
]
SEED = 7

FULL: dict[str, Any] = {
    "works": 10_000, "descriptions": 100_000, "copies": 0.1, "repeats": 2,
    "num_perm": 128, "ensemble_stride": 10, "ensemble_parts": 16, "threshold": 0.5,
    "variant_stride": 5,
    "listings": 1_000_000, "cluster_sizes": (100_000, 1_000_000), "fallback_size": 200_000,
    "study_works": 2_000, "study_descriptions": 20_000, "study_copies": 0.25,
}  # fmt: skip
QUICK: dict[str, Any] = {
    "works": 200, "descriptions": 2_000, "copies": 0.1, "repeats": 1,
    "num_perm": 128, "ensemble_stride": 4, "ensemble_parts": 8, "threshold": 0.5,
    "variant_stride": 2,
    "listings": 8_000, "cluster_sizes": (8_000,), "fallback_size": 4_000,
    "study_works": 100, "study_descriptions": 1_000, "study_copies": 0.25,
}  # fmt: skip


def write(name: str, report: dict[str, Any], quick: bool) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / (f"{name}_quick.json" if quick else f"{name}.json")
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def run_child(part: str, config: dict[str, Any]) -> dict[str, Any]:
    """One measurement in a fresh one-thread process; its result is its last line."""
    command = [sys.executable, __file__, "--child", part, json.dumps(config)]
    env = {**os.environ, **ONE_THREAD}
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise SystemExit(f"{part} failed (exit {done.returncode}):\n" + "\n".join(tail))
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def child(part: str, config: dict[str, Any]) -> dict[str, Any]:
    if part == "vigil-search":
        from near_dup_search import vigil_child

        return vigil_child(config)
    if part == "datasketch-search":
        from near_dup_search import datasketch_child

        return datasketch_child(config)
    if part == "vigil-clusters":
        from near_dup_clusters import vigil_child as clusters_child

        return clusters_child(config)
    if part == "datasketch-clusters":
        from near_dup_clusters import datasketch_child as baseline_child

        return baseline_child(config)
    if part == "generate-corpus":
        return write_corpus(config)
    if part == "generate-listings":
        from near_dup_clusters import write_listings

        path = Path(config["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        write_listings(path, config["count"], config["seed"])
        return {"written": str(path)}
    if part == "shingles":
        from near_dup_shingles import study_child

        return study_child(config)
    raise SystemExit(f"unknown part {part!r}")


def corpus(works: int, descriptions: int, copies: float, seed: int) -> Path:
    """The works and descriptions, generated once and cached."""
    path = WORK / f"corpus-v{CORPUS_VERSION}-{works}-{descriptions}-{copies}-{seed}.pkl"
    if not path.exists():
        print(f"generating {works:,} works and {descriptions:,} descriptions ...", flush=True)
        spec = {"path": str(path), "works": works, "descriptions": descriptions}
        run_child("generate-corpus", {**spec, "copies": copies, "seed": seed})
    return path


def write_corpus(config: dict[str, Any]) -> dict[str, Any]:
    """In a child, so that the parent stays small (its children would inherit its pages)."""
    import pickle

    from near_dup_corpus import descriptions, works

    path = Path(config["path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    texts = works(config["works"], config["seed"])
    data = (
        texts,
        descriptions(texts, config["descriptions"], config["seed"], copies=config["copies"]),
    )
    partial = path.with_suffix(".tmp")
    partial.write_bytes(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    partial.rename(path)
    return {"written": str(path)}


def listings(count: int, seed: int) -> Path:
    path = WORK / f"listings-v{CORPUS_VERSION}-{count}-{seed}.jsonl"
    if not path.exists():
        print(f"generating {count:,} listing texts ...", flush=True)
        run_child("generate-listings", {"path": str(path), "count": count, "seed": seed})
    return path


def source_fingerprint() -> str:
    """A digest of the code and settings measured, since both change while the work goes on."""
    import hashlib

    digest = hashlib.sha256()
    src = ROOT / "src" / "vigil"
    paths = [
        *sorted((src / "texts").glob("*.py")),
        src / "detectors" / "texts.py",
        src / "data" / "detectors" / "texts.yaml",
    ]
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


# --- 1. containment search ------------------------------------------------------------------


def containment(config: dict[str, Any], quick: bool) -> None:
    start_load = load_average()
    path = corpus(config["works"], config["descriptions"], config["copies"], SEED)
    common = {"corpus": str(path), "num_perm": config["num_perm"]}
    print("vigil WorkIndex ...", flush=True)
    ours = run_child(
        "vigil-search",
        {**common, "repeats": config["repeats"], "variants": VARIANTS,
         "variant_stride": config["variant_stride"]},
    )  # fmt: skip
    print("  " + search_row(ours), flush=True)
    print("datasketch MinHashLSH ...", flush=True)
    lsh = run_child(
        "datasketch-search", {**common, "kind": "lsh", "threshold": config["threshold"]}
    )
    print("  " + search_row(lsh), flush=True)
    stride = config["ensemble_stride"]
    print(f"datasketch MinHashLSHEnsemble (1 description in {stride}) ...", flush=True)
    ensemble = run_child(
        "datasketch-search",
        {**common, "kind": "ensemble", "threshold": config["threshold"],
         "stride": config["ensemble_stride"], "parts": config["ensemble_parts"]},
    )  # fmt: skip
    print("  " + search_row(ensemble), flush=True)
    short = "short (< 200 chars)"
    value, base = ours["descriptions_per_s"], lsh["descriptions_per_s"]
    report = {
        "name": "near_dup_containment",
        "metric": f"descriptions/s against {config['works']:,} works, one core (shingle, "
        "candidates, exact confirmation of the best 3)",
        "value": value,
        "unit": "descriptions/s",
        "baseline": {
            "name": f"datasketch MinHashLSH (Jaccard, threshold {config['threshold']}, "
            f"{config['num_perm']} permutations)",
            "value": base,
        },
        "ratio": round(value / base, 2) if base else None,
        "machine": machine(),
        "params": {
            "seed": SEED,
            "source_sha256": source_fingerprint(),
            "works": config["works"],
            "descriptions": config["descriptions"],
            "planted_copies": config["copies"],
            "work_chars": "500-20,000, log-uniform; half Chinese, half English",
            "passage_chars": "50-800, log-uniform",
            "confirmed_at_containment": 0.5,
            "vigil": "WorkIndex with the detector's settings (texts.yaml): sampled 1/4 of "
            "shingles, candidates at 20 % sampled containment, best 3 confirmed by "
            "WorkIndex.match, after the detector's gates: descriptions shorter than "
            "min(min_copied_chars, min_chars) normalised characters are not shingled, those "
            "with fewer than min_shingles shingles are not looked up (on every side)",
            "baselines": "datasketch MinHash over the same vigil shingles (identity hash); the "
            "candidates it returns ranked by exact shared shingles (WorkIndex.contains), the "
            "best 3 confirmed by the same WorkIndex.match",
            "ensemble_subsample": f"1 description in {stride} "
            f"({config['descriptions'] // stride:,}), num_part "
            f"{config['ensemble_parts']}: its queries take milliseconds",
            "index_mb": "RSS growth over the index build (vigil: its arrays and compressed texts; "
            "datasketch: the LSH only, the confirmation index is built after)",
            "variants": f"vigil again on 1 description in {config['variant_stride']}, one "
            "setting changed: {} the defaults on that subsample; place=false: the copied "
            "passage not placed in the work (WorkIndex._place stubbed, as if only reported "
            "matches were placed); max_works_per_key: sampled shingles held by more than that "
            "many works dropped from the candidate index; min_shingles; sample_bits (1/2^bits "
            "of shingles indexed)",
            "threads": 1,
            "load_average_1min": {"start": start_load, "end": load_average()},
        },
        "goals": {
            f"at least {GOAL_RATE:,.0f} descriptions/s on one core": value >= GOAL_RATE,
            "containment recall above the Jaccard baseline on short excerpts": (
                ours["containment"][short]["recall"] > lsh["containment"][short]["recall"]
            ),
        },
        "results": {"vigil": ours, "datasketch_lsh": lsh, "datasketch_ensemble": ensemble},
    }
    print(f"wrote {write('near_dup_containment', report, quick)}", flush=True)
    print_containment(report)


def search_row(r: dict[str, Any]) -> str:
    c = r["containment"]
    return (
        f"| {r['index']} | {r['descriptions']:,} | {r['descriptions_per_s']:,.0f} "
        f"| {r['build_s']:.1f} | {r['index_mb']:,.0f} | {c['all']['recall']:.3f} "
        f"| {c['short (< 200 chars)']['recall']:.3f} "
        f"| {c['short reportable (60-199 chars)']['recall']:.3f} "
        f"| {c['long (>= 200 chars)']['recall']:.3f} "
        f"| {r['false candidates per description']:.3f} "
        f"| {c['false confirmations per description']:.4f} |"
    )


def print_containment(report: dict[str, Any]) -> None:
    print("\n| index | descriptions | desc/s | build s | index MB | recall | recall < 200 "
          "| recall 60-199 | recall >= 200 | false cand./desc | false conf./desc |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for result in report["results"].values():
        print(search_row(result))
    print("\n| vigil variant | desc/s | recall | recall < 200 | 60-199 | en 60-99 | en 100-199 "
          "| false cand./desc | related flagged |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for v in report["results"]["vigil"]["variants"]:
        print(f"| {json.dumps(v['change'])} | {v['descriptions_per_s']:,.0f} | {v['recall']} "
              f"| {v['recall_short']} | {v['recall_short_reportable']} | {v['recall_en_60_99']} "
              f"| {v['recall_en_100_199']} "
              f"| {v['false_candidates_per_description']} | {v['related_flagged']} |")  # fmt: skip
    print(json.dumps(report["goals"], indent=2))


# --- 2. clusters ----------------------------------------------------------------------------


def projected(runs: list[dict[str, Any]], size: int) -> tuple[float, float]:
    """Peak memory (GB) and time (s) of the baseline at `size`, scaled from its largest run."""
    last = runs[-1]
    grow = (last["peak_rss_mb"] - last["rss_before_mb"]) / last["texts"] * size
    return (last["rss_before_mb"] + grow) / 1024, size / last["texts_per_s"]


def clusters(config: dict[str, Any], quick: bool) -> None:
    start_load = load_average()
    path = listings(config["listings"], SEED)
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    notes: list[str] = []
    for size in config["cluster_sizes"]:
        print(f"vigil clusters, {size:,} texts ...", flush=True)
        ours.append(run_child("vigil-clusters", {"texts": str(path), "count": size}))
        print("  " + cluster_row(ours[-1]), flush=True)
        if theirs:
            gb, seconds = projected(theirs, size)
            if gb > MEMORY_CAP_GB or seconds > TIME_CAP_S:
                notes.append(
                    f"datasketch not run at {size:,}: projected {gb:.1f} GB and {seconds:,.0f} s "
                    f"from its run at {theirs[-1]['texts']:,} (caps {MEMORY_CAP_GB:.0f} GB, "
                    f"{TIME_CAP_S:,.0f} s); run at {config['fallback_size']:,} instead"
                )
                size = config["fallback_size"]
                ours.append(run_child("vigil-clusters", {"texts": str(path), "count": size}))
        print(f"datasketch MinHashLSH, {size:,} texts ...", flush=True)
        theirs.append(run_child("datasketch-clusters", {"texts": str(path), "count": size}))
        print("  " + cluster_row(theirs[-1]), flush=True)
    largest = max(ours, key=lambda r: r["texts"])
    base = max(theirs, key=lambda r: r["texts"])
    report = {
        "name": "near_dup_clusters",
        "metric": f"listing texts/s into clusters at {largest['texts']:,} texts, one core "
        "(Shingler + Sketcher per text; find_clusters time reported apart)",
        "value": largest["texts_per_s"],
        "unit": "texts/s",
        "baseline": {
            "name": f"datasketch MinHashLSH query+insert at {base['texts']:,} texts",
            "value": base["texts_per_s"],
        },
        "ratio": round(largest["texts_per_s"] / base["texts_per_s"], 2),
        "machine": machine(),
        "params": {
            "seed": SEED,
            "source_sha256": source_fingerprint(),
            "listings": config["listings"],
            "ring_share": 0.04,
            "ring_sizes": "5-40",
            "template_chars": "150-600",
            "other_chars": "60-600",
            "similarity_threshold": 0.6,
            "num_perm": 64,
            "signed": "as in the detector's pass one: a text with at least min_chars (80) "
            "characters in prose clauses gets a signature of its prose clauses' shingles, "
            "shipped boilerplate left out; the others are clusters of one on both sides",
            "pairwise": "pairs of texts in one cluster that are in one ring (precision), pairs "
            "of texts in one ring that are in one cluster (recall)",
            "datasketch": "MinHash over the same shingles (identity hash), query then insert "
            "per text, clusters = connected components of the query results",
            "notes": notes,
            "threads": 1,
            "load_average_1min": {"start": start_load, "end": load_average()},
        },
        "results": {"vigil": ours, "datasketch": theirs},
    }
    print(f"wrote {write('near_dup_clusters', report, quick)}", flush=True)
    print("\n| side | texts | texts/s | clustering s | peak RSS MB | precision | recall |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for result in ours + theirs:
        print(cluster_row(result))


def cluster_row(r: dict[str, Any]) -> str:
    clustering = r.get("find_clusters_s", r.get("components_s"))
    return (
        f"| {r['side']} | {r['texts']:,} | {r['texts_per_s']:,.0f} | {clustering:.2f} "
        f"| {r['peak_rss_mb']:,.0f} | {r['precision']} | {r['recall']} |"
    )


# --- 3. shingle windows ---------------------------------------------------------------------


def shingles(config: dict[str, Any], quick: bool) -> None:
    start_load = load_average()
    path = corpus(config["study_works"], config["study_descriptions"], config["study_copies"],
                  SEED + 1)  # fmt: skip
    results = {}
    for lang in ("zh", "en"):
        print(f"shingle windows, {lang} ...", flush=True)
        results[lang] = run_child("shingles", {"corpus": str(path), "lang": lang})
    rows = results["zh"]["rows"] + results["en"]["rows"]
    by_lang = {lang: [r for r in rows if r["lang"] == lang] for lang in ("zh", "en")}
    # Recall falls as the window grows, so the smallest window whose hard negatives (related
    # descriptions) stay at most halfway to the threshold at p99: the most recall with a margin.
    safe = {
        lang: min((r["window"] for r in found if r["related_best_containment_p99"] <= MARGIN),
                  default=max(r["window"] for r in found))
        for lang, found in by_lang.items()
    }  # fmt: skip
    best_f1 = {
        lang: max(found, key=lambda r: r["without_boilerplate"]["f1"] or 0.0)["window"]
        for lang, found in by_lang.items()
    }
    report = {
        "name": "near_dup_shingles",
        "metric": "the smallest shingle window whose related descriptions (a work's product "
        f"described in the seller's own words) have p99 containment <= {MARGIN} (half the "
        "0.5 threshold); recall falls as the window grows",
        "value": safe,
        "best_f1": best_f1,
        "unit": "tokens (zh: characters, en: words)",
        "baseline": {"name": "shipped windows (texts.yaml)", "value": {"zh": 5, "en": 3}},
        "ratio": None,
        "machine": machine(),
        "params": {
            "seed": SEED + 1,
            "source_sha256": source_fingerprint(),
            "works": config["study_works"],
            "descriptions": config["study_descriptions"],
            "planted_copies": config["study_copies"],
            "flag": "a description is flagged when one of its (at most 3) confirmed candidate "
            "works holds >= 0.5 of its shingles; right when that work is the copied one",
            "without_boilerplate": "containment once every boilerplate clause of the generator "
            "is left out (the scan's learned filter at its best)",
            "other_language_window": "the shipped default",
            "p99": "99th percentile of the best confirmed containment (boilerplate left out) "
            "of related and of unrelated descriptions: the margin below 0.5",
            "min_shingles": "the detector's (12), so short English excerpts are not looked up",
            "load_average_1min": {"start": start_load, "end": load_average()},
        },
        "results": rows,
    }
    print(f"wrote {write('near_dup_shingles', report, quick)}", flush=True)
    print("\n| lang | k | precision | recall | recall < 200 | F1 | related flagged "
          "| unrelated flagged | copies exact median | related p99 | unrelated p99 "
          "| cand./desc |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        f = r["without_boilerplate"]
        print(f"| {r['lang']} | {r['window']} | {f['precision']} | {f['recall']} "
              f"| {f['recall_short']} | {f['f1']} | {f['related_flagged']} "
              f"| {f['unrelated_flagged']} "
              f"| {r['copies_exact_containment_median']} "
              f"| {r['related_best_containment_p99']} | {r['unrelated_best_containment_p99']} "
              f"| {r['candidates_per_description']} |")  # fmt: skip


def profile(config: dict[str, Any]) -> None:
    """cProfile of vigil's lookup path over the first 20,000 descriptions (printed only)."""
    import cProfile
    import pstats

    from near_dup_search import (
        Gates,
        boilerplate_filters,
        entries,
        load,
        search,
        text_settings,
    )
    from vigil.texts.containment import WorkIndex
    from vigil.texts.shingles import Shingler

    path = corpus(config["works"], config["descriptions"], config["copies"], SEED)
    works, texts = load(path)
    settings = text_settings()
    shingler = Shingler(settings.cjk_window, settings.word_window)
    index = WorkIndex(shingler)
    index.build(entries(works))
    boilerplate = boilerplate_filters(shingler, settings)

    def find(shingled: Any) -> list[int]:
        return [work for work, _, _ in index.candidates(shingled.unique())]

    profiler = cProfile.Profile()
    profiler.enable()
    search(index, texts[:20_000], find, gates=Gates.of(settings), filters=boilerplate)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--shingles", action="store_true", help="only the shingle-window study")
    parser.add_argument("--only", choices=("containment", "clusters", "shingles"))
    parser.add_argument("--profile", action="store_true", help="cProfile the lookup path")
    parser.add_argument("--child", nargs=2, metavar=("PART", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], json.loads(args.child[1]))))
        return
    config = QUICK if args.quick else FULL
    if args.profile:
        profile(config)
        return
    only = "shingles" if args.shingles else args.only
    if only in (None, "containment"):
        containment(config, args.quick)
    if only in (None, "clusters"):
        clusters(config, args.quick)
    if only in (None, "shingles"):
        shingles(config, args.quick)


if __name__ == "__main__":
    main()
