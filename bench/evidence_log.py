"""Benchmark: the evidence transparency log at 1,000,000 entries, on SQLite and PostgreSQL.

For each backend, on a fresh store:
- appends/s of 1M entries (153-byte JSON documents like evidence capture writes) appended in
  batches of 10,000, one transaction each, through `TransparencyLog.append`; the baseline, in
  the same run on another fresh store and batch by batch in turn with the log, is bare inserts
  of the same entry rows (leaf hash included) in the same batches, without the subtree hashes;
- inclusion proof generation at 1M (1,000 random entries, ms per proof, median and p99) and its
  verification; consistency proofs between 1,000 random pairs of sizes, generated and verified;
- the baselines for proofs: the RFC's recursive definition run on leaf hashes held in memory
  (at 65,536 leaves, since it costs O(n) per proof), and recomputing the root of all 1M leaves,
  which is what checking an entry without a proof takes.

PostgreSQL runs in a fresh schema of postgresql+psycopg://postgres@127.0.0.1:5432/test (dropped
at the end), skipped with a note when the server cannot be reached.

Writes bench/results/evidence_log.json (`_quick` with --quick: 20,000 entries).
Usage: python bench/evidence_log.py [--quick] [--entries N] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from scan_text import machine
from vigil.evidence.log import TransparencyLog
from vigil.evidence.merkle import (
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from vigil.evidence.signing import LogSigner, verify_tree_head
from vigil.settings import Settings
from vigil.store.db import Store, open_store
from vigil.store.tables import EvidenceLogEntryRow, utcnow

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work" / "evidence_log"
RESULTS = ROOT / "bench" / "results"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH = 10_000
PROOFS = 1_000
SEED = 7
GOAL = {"appends_per_s": 10_000, "proof_ms": 5.0, "verify_ms": 1.0}


def entry(index: int) -> bytes:
    """A log entry as evidence capture would write it: the item's digest, case and time."""
    digest = hashlib.sha256(index.to_bytes(8, "big")).hexdigest()
    return (
        b'{"captured_at":"2026-12-08T01:00:00.000Z","case":"C-%06d","kind":"listing",'
        b'"sha256":"%s"}' % (index % 100_000, digest.encode())
    )


def batches(total: int) -> Iterator[list[bytes]]:
    for start in range(0, total, BATCH):
        yield [entry(i) for i in range(start, min(total, start + BATCH))]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median": round(statistics.median(ordered), 4),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 4),
        "max": round(ordered[-1], 4),
    }


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return (time.perf_counter() - start) * 1000, result


@contextmanager
def fresh_store(backend: str, name: str) -> Iterator[Store]:
    """An empty, migrated store: an SQLite file under bench/work, or a PostgreSQL schema."""
    if backend == "sqlite":
        folder = WORK / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        store = open_store(f"sqlite:///{folder / 'vigil.sqlite3'}")
        try:
            yield store
        finally:
            store.close()
            shutil.rmtree(folder, ignore_errors=True)
        return
    schema = f"vigil_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = open_store(f"{POSTGRES}?options=-csearch_path%3D{schema}")
    try:
        yield store
    finally:
        store.close()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres_reachable() -> str | None:
    """None when the server answers, else why not."""
    engine = create_engine(POSTGRES)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except OperationalError as error:
        return str(error.orig).strip().splitlines()[0]
    finally:
        engine.dispose()


def sqlite_bytes(store: Store) -> int | None:
    if not store.url.startswith("sqlite:///"):
        return None
    path = Path(store.url.removeprefix("sqlite:///"))
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


class BareInserts:
    """The baseline: the same entry rows, leaf hashes included, stored the way the log stores
    them (one driver-level executemany per batch) but without the tree's subtree hashes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        mark = "?" if store.engine.dialect.paramstyle == "qmark" else "%s"
        self.process = EvidenceLogEntryRow.__table__.c.appended_at.type.bind_processor(
            store.engine.dialect
        )
        self.sql = (
            "INSERT INTO evidence_log_entries (idx, entry, leaf_hash, appended_at) "
            f"VALUES ({mark}, {mark}, {mark}, {mark})"
        )

    def insert(self, start: int, batch: list[bytes]) -> None:
        now = utcnow()
        stamp = self.process(now) if self.process else now
        rows = [(start + i, e, leaf_hash(e), stamp) for i, e in enumerate(batch)]
        with self.store.session() as session:
            session.connection().exec_driver_sql(self.sql, rows)


def run_backend(backend: str, total: int) -> dict[str, Any]:
    rng = random.Random(SEED)
    figures: dict[str, Any] = {}
    signer = LogSigner.for_settings(Settings(home=WORK / "home"))
    log = TransparencyLog(signer)
    with fresh_store(backend, "bare") as bare_store, fresh_store(backend, "log") as store:
        print(f"[{backend}] appending {total:,} entries in batches of {BATCH:,} ...", flush=True)
        # Batch by batch in turn with the baseline, so that both see the same load on a shared
        # machine and the ratio holds even when the absolute rates wander.
        bare = BareInserts(bare_store)
        batch_ms: list[float] = []
        bare_ms: list[float] = []
        for start, batch in zip(range(0, total, BATCH), batches(total), strict=True):
            ms, _ = timed(lambda s=start, b=batch: bare.insert(s, b))
            bare_ms.append(ms)
            began = time.perf_counter()
            with store.session() as session:
                log.append(session, batch)
            batch_ms.append((time.perf_counter() - began) * 1000)
        figures["appends_per_s"] = round(total / (sum(batch_ms) / 1000))
        figures["bare_inserts_per_s"] = round(total / (sum(bare_ms) / 1000))
        tenth = max(1, len(batch_ms) // 10)
        figures["append_batch_ms"] = {
            "first_tenth_mean": round(statistics.mean(batch_ms[:tenth]), 1),
            "last_tenth_mean": round(statistics.mean(batch_ms[-tenth:]), 1),
        }
        figures["database_bytes_per_entry"] = (
            round(size / total) if (size := sqlite_bytes(store)) else None
        )
        store.analyze()

        with store.session() as session:
            root_ms, root = timed(lambda: log.root(session))
            sign_ms, head = timed(lambda: log.sign_head(session))
        verify_tree_head(head, signer.public_key_pem)
        figures["root_ms"] = round(root_ms, 3)
        figures["sign_head_ms"] = round(sign_ms, 3)
        assert head.root == root and head.size == total

        print(f"[{backend}] {PROOFS:,} inclusion and consistency proofs ...", flush=True)
        generate: list[float] = []
        verify: list[float] = []
        lengths: list[int] = []
        with store.session() as session:
            for index in (rng.randrange(total) for _ in range(PROOFS)):
                ms, proof = timed(lambda i=index: log.inclusion_proof(session, i, total))
                generate.append(ms)
                lengths.append(len(proof))
                leaf = leaf_hash(entry(index))
                ms, _ = timed(
                    lambda p=proof, i=index, h=leaf: verify_inclusion(h, i, total, p, root)
                )
                verify.append(ms)
        figures["inclusion_generate_ms"] = percentiles(generate)
        figures["inclusion_verify_ms"] = percentiles(verify)
        figures["inclusion_proof_nodes_mean"] = round(statistics.mean(lengths), 1)

        c_generate: list[float] = []
        c_verify: list[float] = []
        with store.session() as session:
            for _ in range(PROOFS):
                size1 = rng.randrange(1, total)
                size2 = rng.randrange(size1 + 1, total + 1)
                root1, root2 = log.root(session, size1), log.root(session, size2)
                ms, proof = timed(lambda a=size1, b=size2: log.consistency_proof(session, a, b))
                c_generate.append(ms)
                ms, _ = timed(
                    lambda a=size1, b=size2, p=proof, r1=root1, r2=root2: verify_consistency(
                        a, b, p, r1, r2
                    )
                )
                c_verify.append(ms)
        figures["consistency_generate_ms"] = percentiles(c_generate)
        figures["consistency_verify_ms"] = percentiles(c_verify)
    return figures


def naive_proof_ms(leaves: list[bytes]) -> float:
    """ms per inclusion proof by the RFC's recursive definition over leaves held in memory."""

    def mth(part: list[bytes]) -> bytes:
        if len(part) == 1:
            return part[0]
        k = 1 << ((len(part) - 1).bit_length() - 1)
        return node_hash(mth(part[:k]), mth(part[k:]))

    def path(m: int, part: list[bytes]) -> list[bytes]:
        if len(part) == 1:
            return []
        k = 1 << ((len(part) - 1).bit_length() - 1)
        if m < k:
            return [*path(m, part[:k]), mth(part[k:])]
        return [*path(m - k, part[k:]), mth(part[:k])]

    rng = random.Random(SEED)
    samples = []
    for _ in range(10):
        index = rng.randrange(len(leaves))
        ms, proof = timed(lambda i=index: path(i, leaves))
        verify_inclusion(leaves[index], index, len(leaves), proof, root_of(leaves))
        samples.append(ms)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 entries, to try the script")
    parser.add_argument("--entries", type=int, help="entries to append (default 1,000,000)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated")
    args = parser.parse_args()
    total = args.entries or (20_000 if args.quick else 1_000_000)
    naive_size = 4_096 if args.quick else 65_536
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(backends) - {"sqlite", "postgresql"}:
        parser.error("--backends: a comma-separated list of sqlite and postgresql")

    results: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for backend in backends:
        if backend == "postgresql" and (why := postgres_reachable()):
            notes.append(f"postgresql skipped: {why}")
            print(f"note: {notes[-1]}", file=sys.stderr)
            continue
        results[backend] = run_backend(backend, total)
    if not results:
        sys.exit("no backend could be measured")

    print("baselines in memory ...", flush=True)
    all_leaves = [leaf_hash(entry(i)) for i in range(total)]
    naive_ms = naive_proof_ms(all_leaves[:naive_size])
    recompute_ms, _ = timed(lambda: root_of(all_leaves))

    headline = "sqlite" if "sqlite" in results else next(iter(results))
    value = results[headline]["appends_per_s"]
    base = results[headline]["bare_inserts_per_s"]
    met = {
        name: {
            "appends_per_s": figures["appends_per_s"] >= GOAL["appends_per_s"],
            "proof_ms": figures["inclusion_generate_ms"]["median"] <= GOAL["proof_ms"],
            "verify_ms": figures["inclusion_verify_ms"]["median"] <= GOAL["verify_ms"],
        }
        for name, figures in results.items()
    }
    report = {
        "name": "evidence_log",
        "metric": f"appends_per_s_{headline}",
        "value": value,
        "unit": "entries/s (higher is better)",
        "baseline": {
            "name": "bare inserts of the same entry rows (leaf hash included, same driver-level "
            "executemany per batch), without the subtree hashes",
            "value": base,
        },
        "ratio": round(value / base, 3),
        "machine": machine(),
        "params": {
            "entries": total,
            "batch": BATCH,
            "entry_bytes": len(entry(0)),
            "proofs": PROOFS,
            "seed": SEED,
            "backends": list(results),
            "backend": headline,
        },
        "goal": {**GOAL, "met": met, "measured_as": "median ms per proof"},
        "baselines_in_memory": {
            "naive_recursive_inclusion_proof_ms": round(naive_ms, 2),
            "naive_recursive_leaves": naive_size,
            "recompute_root_of_all_leaves_ms": round(recompute_ms, 1),
            "recompute_leaves": total,
        },
        "backends": results,
        "notes": notes,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / ("evidence_log_quick.json" if args.quick else "evidence_log.json")
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
    print(json.dumps({"backends": results, "baselines": report["baselines_in_memory"]}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
