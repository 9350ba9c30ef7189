"""Hash-index half of bench/images.py: the hash sets, the exact answers, one index per process.

Two kinds of set, each with its queries (seeded, cached under bench/work/images-sets/):

- ``uniform``: random 256-bit hashes, plus for every query six planted copies at distances 0,
  31 and 32 (both sides of the radius) and three drawn from 0-40;
- ``clustered``: members within 8-48 bits of one of a few thousand random centres (variants of
  the same product photo), each query a centre moved by 0-16 bits, so every query lands in a
  cluster: the hard case for multi-index hashing, whose buckets fill up with a cluster's members.

The exact answer comes from faiss's brute-force `IndexBinaryFlat.range_search` (both cores),
checked against numpy on a few queries. Each index is then built and queried in a fresh process
pinned to one thread (`measure`), so its memory and time are its own.
"""

from __future__ import annotations

import itertools
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

RADIUS = 31
PLANTED_FIXED = (0, 31, 32)
PLANTED_RANDOM = 3
MAX_DRAWN_DISTANCE = 40
Pairs = list[list[tuple[int, int]]]


# --- the sets -------------------------------------------------------------------------------


def flip_bits(rows: np.ndarray, distances: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each row with exactly `distances[i]` of its 256 bits flipped, at random places."""
    out = np.empty_like(rows)
    step = 1 << 16
    positions = np.tile(np.arange(256, dtype=np.uint8), (step, 1))
    for start in range(0, len(rows), step):
        stop = min(start + step, len(rows))
        shuffled = rng.permuted(positions[: stop - start], axis=1)
        mask = shuffled < distances[start:stop, None]
        out[start:stop] = rows[start:stop] ^ np.packbits(mask, axis=1)
    return out


def uniform_set(n: int, queries: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    hashes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    probes = rng.integers(0, 256, (queries, 32), dtype=np.uint8)
    fixed = np.tile(PLANTED_FIXED, (queries, 1))
    drawn = rng.integers(0, MAX_DRAWN_DISTANCE + 1, (queries, PLANTED_RANDOM))
    distances = np.concatenate([fixed, drawn], axis=1)
    planted = flip_bits(np.repeat(probes, distances.shape[1], axis=0), distances.ravel(), rng)
    hashes[rng.choice(n, len(planted), replace=False)] = planted
    return hashes, probes


def clustered_set(
    n: int, queries: int, clusters: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    centres = rng.integers(0, 256, (clusters, 32), dtype=np.uint8)
    owner = rng.integers(0, clusters, n)
    hashes = flip_bits(centres[owner], rng.integers(8, 49, n), rng)
    chosen = centres[rng.choice(clusters, queries, replace=False)]
    return hashes, flip_bits(chosen, rng.integers(0, 17, queries), rng)


def ensure_set(folder: Path, kind: str, n: int, queries: int, clusters: int) -> Path:
    """The set's .npz (hashes, queries), made once; seeded by kind and size."""
    path = folder / f"{kind}-{n}-{queries}-{clusters}.npz"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([7, n, len(kind)])
    if kind == "uniform":
        hashes, probes = uniform_set(n, queries, rng)
    else:
        hashes, probes = clustered_set(n, queries, clusters, rng)
    temp = path.with_name(path.stem + ".part.npz")
    np.savez(temp, hashes=hashes, queries=probes)
    temp.replace(path)
    return path


def distances(hashes: np.ndarray, queries: np.ndarray, rows: np.ndarray, ids: np.ndarray) -> Any:
    """Exact distance of each (query row, id) pair, by numpy."""
    xor = hashes.view(np.uint64)[ids] ^ queries.view(np.uint64)[rows]
    return np.bitwise_count(xor).sum(axis=1, dtype=np.int64)


def ground_truth(set_path: Path) -> Path:
    """Every (query, id) within RADIUS by brute force on all cores; saved next to the set."""
    import faiss

    path = set_path.with_name(set_path.stem + "-truth.npz")
    if path.exists() and path.stat().st_mtime >= set_path.stat().st_mtime:
        return path
    with np.load(set_path) as data:
        hashes, queries = data["hashes"], data["queries"]
    flat = faiss.IndexBinaryFlat(256)
    flat.add(hashes)
    lims, _, ids = flat.range_search(queries, RADIUS + 1)  # faiss keeps distance < radius
    rows = np.repeat(np.arange(len(queries)), np.diff(lims).astype(np.int64))
    # Cross-check the reference on a few queries with plain numpy over the whole set.
    words = hashes.view(np.uint64)
    for row in range(min(5, len(queries))):
        full = np.bitwise_count(words ^ queries[row].view(np.uint64)).sum(axis=1)
        expected = np.flatnonzero(full <= RADIUS)
        if not np.array_equal(np.sort(ids[rows == row]), expected):
            raise RuntimeError(f"faiss and numpy disagree on query {row} of {set_path.name}")
    np.savez(path, rows=rows, ids=ids.astype(np.int64))
    return path


# --- the indexes, each behind the same four calls -------------------------------------------


class Vigil:
    def __init__(self, layout: str) -> None:
        from vigil.images.hamming import HammingIndex

        self.index = HammingIndex(radius=RADIUS, layout=layout)

    def prepare(self, hashes: np.ndarray) -> None:
        self.hashes = hashes

    def build(self) -> None:
        self.index.add(self.hashes)
        self.index.build()

    def one(self, query: np.ndarray, text: str) -> list[tuple[int, int]]:
        return self.index.search(query.tobytes())

    def many(self, queries: np.ndarray, texts: list[str]) -> Pairs:
        return self.index.search_batch(queries)

    def nbytes(self) -> int | None:
        return int(self.index.nbytes)


class FaissFlat:
    def __init__(self) -> None:
        import faiss

        self.index = faiss.IndexBinaryFlat(256)

    def prepare(self, hashes: np.ndarray) -> None:
        self.hashes = hashes

    def build(self) -> None:
        self.index.add(self.hashes)

    def many(self, queries: np.ndarray, texts: list[str]) -> Pairs:
        lims, dist, ids = self.index.range_search(queries, RADIUS + 1)
        ids_list, dist_list = ids.tolist(), dist.tolist()
        return [
            list(zip(ids_list[a:b], dist_list[a:b], strict=True))
            for a, b in itertools.pairwise(lims.tolist())
        ]

    def one(self, query: np.ndarray, text: str) -> list[tuple[int, int]]:
        return self.many(query[None, :], [text])[0]

    def nbytes(self) -> int | None:
        return None


class ThreatExchangeIndex:
    """threatexchange's PDQIndex (faiss IndexBinaryMultiHash); entries are (hex, our id)."""

    def prepare(self, hashes: np.ndarray) -> None:
        text = hashes.tobytes().hex()
        self.entries = [(text[i * 64 : (i + 1) * 64], i) for i in range(len(hashes))]

    def build(self) -> None:
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

        self.threshold = PDQIndex.get_match_threshold()
        self.index = PDQIndex(self.entries)

    def one(self, query: np.ndarray, text: str) -> list[tuple[int, int]]:
        return [(m.metadata, int(m.similarity_info.distance)) for m in self.index.query(text)]

    def many(self, queries: np.ndarray, texts: list[str]) -> Pairs:
        return [self.one(query, text) for query, text in zip(queries, texts, strict=True)]

    def nbytes(self) -> int | None:
        return None


INDEXES = ("vigil mih", "vigil compact", "faiss IndexBinaryFlat", "threatexchange PDQIndex")


def make(name: str) -> Vigil | FaissFlat | ThreatExchangeIndex:
    if name.startswith("vigil "):
        return Vigil(name.split()[1])
    return FaissFlat() if name == "faiss IndexBinaryFlat" else ThreatExchangeIndex()


# --- one index, measured (run in a fresh process with one thread) ---------------------------


def rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def pair_keys(results: Pairs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.repeat(np.arange(len(results)), [len(r) for r in results])
    ids = np.fromiter((i for r in results for i, _ in r), dtype=np.int64, count=len(rows))
    reported = np.fromiter((d for r in results for _, d in r), dtype=np.int64, count=len(rows))
    return rows, ids, reported


def measure(set_path: Path, truth_path: Path, name: str) -> dict[str, Any]:
    import faiss

    faiss.omp_set_num_threads(1)
    with np.load(set_path) as data:
        hashes, queries = data["hashes"], data["queries"]
    with np.load(truth_path) as data:
        truth = data["rows"] * (len(hashes) + 1) + data["ids"]
    texts = [q.tobytes().hex() for q in queries]
    index = make(name)
    before = rss()
    started = time.perf_counter()
    index.prepare(hashes)
    prepared = time.perf_counter()
    index.build()
    built = time.perf_counter()
    grown = rss() - before
    own = index.nbytes()
    for row in range(min(20, len(queries))):  # warm caches and lazy set-up, untimed
        index.one(queries[row], texts[row])
    single: list[float] = []
    results: Pairs = []
    for query, text in zip(queries, texts, strict=True):
        start = time.perf_counter()
        results.append(index.one(query, text))
        single.append(time.perf_counter() - start)
    batch: list[float] = []
    while len(batch) < 3 and sum(batch) < 5.0:
        start = time.perf_counter()
        batched = index.many(queries, texts)
        batch.append(time.perf_counter() - start)
    rows, ids, reported = pair_keys(results)
    true = distances(hashes, queries, rows, ids)
    keys = rows * (len(hashes) + 1) + ids
    found = np.intersect1d(keys[true <= RADIUS], truth)
    batch_keys = np.sort(rows_ids(batched, len(hashes)))
    single_ms = np.asarray(single) * 1000
    result: dict[str, Any] = {
        "index": name,
        "n": len(hashes),
        "prepare_s": round(prepared - started, 3),
        "build_s": round(built - prepared, 3),
        "bytes_per_hash": round((own if own is not None else grown) / len(hashes), 1),
        "bytes_per_hash_from": "nbytes" if own is not None else "RSS growth",
        "rss_growth_bytes_per_hash": round(grown / len(hashes), 1),
        "single_median_ms": round(float(np.median(single_ms)), 4),
        "single_p99_ms": round(float(np.percentile(single_ms, 99)), 4),
        "batch1000_ms": round(float(np.median(batch)) * 1000, 1),
        "batch_runs": len(batch),
        "recall": round(len(found) / len(truth), 6) if len(truth) else 1.0,
        "true_pairs": len(truth),
        "found_pairs": len(found),
        "beyond_radius": int((true > RADIUS).sum()),
        "wrong_distance": int((true != reported).sum()),
        "duplicates": len(keys) - len(np.unique(keys)),
        "batch_agrees_with_single": bool(np.array_equal(batch_keys, np.sort(keys))),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if isinstance(index, ThreatExchangeIndex):
        result["threshold"] = index.threshold
    return result


def rows_ids(results: Pairs, n: int) -> np.ndarray:
    rows, ids, _ = pair_keys(results)
    return rows * (n + 1) + ids
