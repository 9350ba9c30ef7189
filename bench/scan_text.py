"""Benchmark: text scanning throughput and memory, against a naive baseline in the same run.

Builds a sample alliance padded to 1,000 brands and 10,000 models, then measures:
- listings/s of a full scan (read, validate, match, score, write, store) of 200k listings with
  1 and with 2 worker processes;
- the naive baseline: rapidfuzz `process.extractOne` of each title against every brand name
  and alias (on a subset, since it is slow; its rate is per listing all the same);
- peak RSS of a 1-worker scan of 100k and of 1M listings (streaming: the two should match).

Writes bench/results/scan_text.json. Usage: python bench/scan_text.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import psutil

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def head(source: Path, target: Path, count: int) -> Path:
    with source.open("rb") as reader, target.open("wb") as writer:
        writer.writelines(islice(reader, count))
    return target


def child_scan(feed: str, out: str, home: str, workers: int) -> None:
    """Run in a fresh process: one scan, then print its summary and peak memory."""
    from vigil.services.scan import scan
    from vigil.settings import Settings, load_scan_config
    from vigil.store.db import open_store

    settings = Settings(home=Path(home))
    store = open_store(settings.resolved_database_url())
    summary = scan(store, [feed], Path(out), config=load_scan_config(), workers=workers)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"summary": summary.as_json(), "rss_kb": own, "child_rss_kb": children}))


def run_scan(feed: Path, template: Path, workers: int) -> dict[str, Any]:
    """Scan in a fresh process, on a fresh copy of the home with the registry loaded."""
    out = WORK / f"out-{feed.stem}-{workers}"
    home = WORK / f"home-{feed.stem}-{workers}"
    for folder in (out, home):
        shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(template, home)
    command = [sys.executable, __file__, "--child", str(feed), str(out), str(home), str(workers)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def baseline_rate(feed: Path, registry_path: Path, count: int) -> float:
    """Listings/s of the naive approach: fuzzy-compare each title with every brand name."""
    import yaml
    from rapidfuzz import fuzz, process

    registry = yaml.safe_load(registry_path.read_text(encoding="utf-8"))
    names = [n for b in registry["brands"] for n in [b["name"], *b.get("aliases", [])]]
    with feed.open("rb") as handle:
        titles = [orjson.loads(line)["title"] for line in islice(handle, count)]
    start = time.perf_counter()
    for title in titles:
        process.extractOne(title, names, scorer=fuzz.partial_ratio, score_cutoff=90)
    return len(titles) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the script")
    parser.add_argument("--child", nargs=4, metavar=("FEED", "OUT", "HOME", "WORKERS"))
    args = parser.parse_args()
    if args.child:
        feed, out, home, workers = args.child
        child_scan(feed, out, home, int(workers))
        return

    from vigil.services.registry import load_registry
    from vigil.services.sample import write_sample
    from vigil.store.db import open_store

    sizes = {"rate": 200_000, "small": 100_000, "large": 1_000_000, "baseline": 2_000}
    if args.quick:
        sizes = {"rate": 20_000, "small": 10_000, "large": 50_000, "baseline": 500}
    params = {"brands": 1_000, "products": 10_000, "seed": 7, **sizes}
    WORK.mkdir(parents=True, exist_ok=True)
    sample = WORK / "sample"
    print(f"writing a sample of {sizes['large']:,} listings ...", flush=True)
    written = write_sample(
        sample, listings=sizes["large"], seed=7, brands=params["brands"],
        products=params["products"], images=False,
    )  # fmt: skip
    large = Path(written.listings_path)
    feeds = {
        "rate": head(large, WORK / "listings-rate.jsonl", sizes["rate"]),
        "small": head(large, WORK / "listings-small.jsonl", sizes["small"]),
        "large": large,
    }
    home = WORK / "home-template"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    store = open_store(f"sqlite:///{home / 'vigil.sqlite3'}")
    load_registry(store, Path(written.registry))
    store.close()

    figures: dict[str, Any] = {}
    for workers in (1, 2):
        print(f"scanning {sizes['rate']:,} listings with {workers} worker(s) ...", flush=True)
        result = run_scan(feeds["rate"], home, workers)
        figures[f"rate_{workers}"] = result["summary"]["listings_per_second"]
        print(f"  {figures[f'rate_{workers}']:,.0f} listings/s", flush=True)
    print(f"baseline on {sizes['baseline']:,} titles ...", flush=True)
    base = baseline_rate(feeds["rate"], Path(written.registry), sizes["baseline"])
    print(f"  {base:,.1f} listings/s", flush=True)
    for size in ("small", "large"):
        print(f"memory: scanning {sizes[size]:,} listings ...", flush=True)
        result = run_scan(feeds[size], home, 1)
        figures[f"rss_mb_{size}"] = round(result["rss_kb"] / 1024, 1)
        print(f"  peak RSS {figures[f'rss_mb_{size}']:,} MB", flush=True)

    value = figures["rate_1"]
    report = {
        "name": "scan_text",
        "metric": "listings_per_second_1_worker",
        "value": value,
        "unit": "listings/s",
        "baseline": {
            "name": "rapidfuzz process.extractOne over all brand names",
            "value": round(base, 1),
        },
        "ratio": round(value / base, 1),
        "machine": machine(),
        "params": params,
        "extra": {
            "listings_per_second_2_workers": figures["rate_2"],
            "speedup_2_workers": round(figures["rate_2"] / value, 2),
            "peak_rss_mb_small": figures["rss_mb_small"],
            "peak_rss_mb_large": figures["rss_mb_large"],
            "rss_ratio_large_to_small": round(figures["rss_mb_large"] / figures["rss_mb_small"], 3),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "scan_text_quick.json" if args.quick else "scan_text.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
