"""Clustering measurements for bench/near_dup.py, each run in a process of its own.

The listing texts are written once to a JSON-lines file (with each text's ring in a .npy file
beside it) and read back in chunks, so that neither side holds the texts: what a side's peak
RSS shows is its own working set. Only the per-text work is timed (shingling, the MinHash
signature, and for datasketch the LSH query and insert), not reading the file.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from near_dup_search import Gates, peak_rss_mb, rss_mb, shipped_boilerplate, text_settings

CHUNK = 10_000


def write_listings(path: Path, count: int, seed: int) -> None:
    from near_dup_corpus import listing_texts

    texts, truth = listing_texts(count, seed)
    partial = path.with_suffix(".tmp")
    with partial.open("wb") as handle:
        for text in texts:
            handle.write(orjson.dumps(text) + b"\n")
    np.save(path.with_suffix(".npy"), truth)
    partial.rename(path)


def chunks(path: Path, count: int) -> Iterator[list[str]]:
    with path.open("rb") as handle:
        lines = islice(handle, count)
        while batch := [orjson.loads(line) for line in islice(lines, CHUNK)]:
            yield batch


def pairwise(labels: npt.NDArray[np.int64], truth: npt.NDArray[np.int64]) -> dict[str, Any]:
    """Pairwise precision and recall of `labels` (clusters) against `truth` (ring, or -1)."""
    count = labels.size
    truth = np.where(truth >= 0, truth, count + np.arange(count))  # no ring: a ring of one

    def pairs(groups: npt.NDArray[np.int64]) -> int:
        _, sizes = np.unique(groups, return_counts=True)
        return int((sizes * (sizes - 1) // 2).sum())

    _, dense_labels = np.unique(labels, return_inverse=True)
    _, dense_truth = np.unique(truth, return_inverse=True)
    both = dense_labels.astype(np.int64) * (int(dense_truth.max()) + 1) + dense_truth
    found, true, right = pairs(dense_labels), pairs(dense_truth), pairs(both)
    sizes = np.bincount(dense_labels)
    return {
        "precision": round(right / found, 4) if found else None,
        "recall": round(right / true, 4) if true else None,
        "pairs_found": found,
        "pairs_true": true,
        "clusters_of_2_or_more": int((sizes > 1).sum()),
        "rings": int(np.unique(truth[truth < count]).size),
    }


def components(
    count: int, sources: npt.NDArray[np.int64], targets: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    graph = coo_matrix((np.ones(sources.size, dtype=np.int8), (sources, targets)), (count, count))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def kept_shingles(
    shingler: Any, raw: str, seeds: npt.NDArray[np.uint64], shortest: int, min_chars: int
) -> npt.NDArray[np.uint32] | None:
    """The shingles a description's signature is made of, as in the detector's pass one:
    those of its prose clauses that are not shipped boilerplate; None when it is too short to
    cluster."""
    from vigil.texts.shingles import normalize

    text = normalize(raw)
    if len(text) < shortest:
        return None
    shingled = shingler(text, normalized=True)
    if int(shingled.clause_prose.sum()) < min_chars:
        return None
    kept = ~np.isin(shingled.clause_hashes[shingled.clauses], seeds)
    kept &= shingled.clause_prose[shingled.clauses] > 0
    if not kept.any():
        return None
    found: npt.NDArray[np.uint32] = np.unique(shingled.hashes[kept])
    return found


def vigil_child(config: dict[str, Any]) -> dict[str, Any]:
    """Shingler + Sketcher per text (as the detector's pass one), then find_clusters."""
    from vigil.texts.clusters import Sketcher, find_clusters
    from vigil.texts.shingles import Shingler

    settings = text_settings()
    cluster = settings.copy_paste_cluster
    path, count = Path(config["texts"]), config["count"]
    shingler = Shingler(settings.cjk_window, settings.word_window)
    shingler("预热 warm-up")
    sketcher = Sketcher(cluster.num_perm)
    seeds = np.fromiter(shipped_boilerplate(shingler, settings), dtype=np.uint64)
    shortest = Gates.of(settings).shortest
    signatures = np.zeros((count, cluster.num_perm), dtype=np.uint16)
    owners = np.zeros(count, dtype=np.int64)
    signed = 0
    seconds = 0.0
    before = rss_mb()
    clock = time.perf_counter
    number = 0
    for batch in chunks(path, count):
        start = clock()
        for raw in batch:
            kept = kept_shingles(shingler, raw, seeds, shortest, cluster.min_chars)
            if kept is not None:
                signatures[signed] = sketcher(kept)
                owners[signed] = number
                signed += 1
            number += 1
        seconds += clock() - start
    gc.collect()
    start = clock()
    rows, _ = find_clusters(signatures[:signed], cluster.similarity)
    clustering = clock() - start
    labels = count + np.arange(count, dtype=np.int64)  # unsigned texts stay alone
    labels[owners[:signed]] = rows
    truth = np.load(path.with_suffix(".npy"))[:count]
    return {
        "side": "vigil",
        "texts": count,
        "signed": signed,
        "texts_per_s": round(count / seconds, 1),
        "texts_per_s_with_find_clusters": round(count / (seconds + clustering), 1),
        "sketch_s": round(seconds, 2),
        "find_clusters_s": round(clustering, 2),
        "signatures_mb": round(signatures.nbytes / 2**20, 1),
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
        **pairwise(labels, truth),
    }


def datasketch_child(config: dict[str, Any]) -> dict[str, Any]:
    """The same shingles into datasketch MinHash and MinHashLSH: query, then insert, per text;
    clusters are the connected components of the query results."""
    from datasketch import MinHash, MinHashLSH

    from vigil.texts.clusters import _same
    from vigil.texts.shingles import Shingler

    settings = text_settings()
    cluster = settings.copy_paste_cluster
    path, count = Path(config["texts"]), config["count"]
    shingler = Shingler(settings.cjk_window, settings.word_window)
    shingler("预热 warm-up")
    seeds = np.fromiter(shipped_boilerplate(shingler, settings), dtype=np.uint64)
    shortest = Gates.of(settings).shortest
    base = MinHash(num_perm=cluster.num_perm, seed=1, hashfunc=_same)
    lsh = MinHashLSH(threshold=cluster.similarity, num_perm=cluster.num_perm)
    sources: list[int] = []
    targets: list[int] = []
    signed = 0
    seconds = 0.0
    before = rss_mb()
    clock = time.perf_counter
    number = 0
    for batch in chunks(path, count):
        start = clock()
        for raw in batch:
            kept = kept_shingles(shingler, raw, seeds, shortest, cluster.min_chars)
            if kept is not None:
                minhash = base.copy()
                minhash.update_batch(kept.tolist())
                for other in lsh.query(minhash):
                    sources.append(other)
                    targets.append(number)
                lsh.insert(number, minhash, check_duplication=False)
                signed += 1
            number += 1
        seconds += clock() - start
    peak = peak_rss_mb()
    start = clock()
    labels = components(count, np.array(sources, dtype=np.int64), np.array(targets, dtype=np.int64))
    clustering = clock() - start
    truth = np.load(path.with_suffix(".npy"))[:count]
    return {
        "side": "datasketch MinHashLSH",
        "texts": count,
        "signed": signed,
        "bands_rows": [lsh.b, lsh.r],
        "texts_per_s": round(count / seconds, 1),
        "texts_per_s_with_components": round(count / (seconds + clustering), 1),
        "sketch_query_insert_s": round(seconds, 2),
        "components_s": round(clustering, 2),
        "edges": len(sources),
        "rss_before_mb": before,
        "peak_rss_mb": peak,
        **pairwise(labels, truth),
    }
