"""Near-duplicate clusters of listing texts: MinHash signatures and LSH banding over a scan.

Each description long enough to compare gets a MinHash signature (datasketch, `num_perm`
permutations). Only the low 16 bits of each value are kept: two different minima agree on
them once in 65,536 tries, which leaves the similarity estimate as good, and halves the
memory a million signatures take. The signature is cut into bands of four values — one 64-bit
key per band — and listings that share a band key in any band are candidates; a candidate
pair becomes an edge when the signatures agree on at least `threshold` of their values (the
estimated Jaccard similarity of the two shingle sets). Clusters are the connected components
of those edges.

datasketch's MinHashLSH does the banding with one Python dictionary entry per band per
listing; here the bands of a whole scan are sorted as numpy columns, which `bench/near_dup.py`
compares for speed and memory on a million texts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from datasketch import MinHash
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

ROWS_PER_BAND = 4  # four 16-bit values make one 64-bit band key


def _same(value: Any) -> Any:
    # Shingles are hashed already (vigil.texts.shingles); MinHash permutes the hashes as given.
    return value


class Sketcher:
    """MinHash signatures of shingle sets, as 16-bit values (see the module docstring)."""

    def __init__(self, num_perm: int = 64, seed: int = 1) -> None:
        if num_perm % ROWS_PER_BAND:
            raise ValueError(f"num_perm must be a multiple of {ROWS_PER_BAND}, got {num_perm}")
        self.num_perm = num_perm
        self.seed = seed
        self._base = MinHash(num_perm=num_perm, seed=seed, hashfunc=_same)

    def __getstate__(self) -> dict[str, int]:
        return {"num_perm": self.num_perm, "seed": self.seed}

    def __setstate__(self, state: dict[str, int]) -> None:
        self.__init__(state["num_perm"], state["seed"])  # type: ignore[misc]

    def __call__(self, hashes: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint16]:
        sketch = self._base.copy()
        sketch.update_batch(hashes.tolist())
        values: npt.NDArray[np.uint16] = (sketch.hashvalues & 0xFFFF).astype(np.uint16)
        return values


def find_clusters(
    signatures: npt.NDArray[np.uint16], threshold: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """The cluster of each signature (row), and each row's estimated similarity to the member
    it was linked through (1.0 for a row linked to nothing).

    Rows that end up alone are clusters of one."""
    count = signatures.shape[0]
    similarity = np.ones(count, dtype=np.float32)
    if count < 2:
        return np.arange(count, dtype=np.int64), similarity
    rows = np.ascontiguousarray(signatures)
    bands = rows.view(np.uint64)  # (count, num_perm / 4): one key per band
    sources: list[npt.NDArray[np.int64]] = []
    targets: list[npt.NDArray[np.int64]] = []
    for band in range(bands.shape[1]):
        keys = bands[:, band]
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        same = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1
        if same.size == 0:
            continue
        # Link every member of a bucket to the bucket's first member.
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        first_of = starts[np.searchsorted(starts, same, side="right") - 1]
        left, right = order[first_of], order[same]
        agree = (rows[left] == rows[right]).mean(axis=1)
        keep = agree >= threshold
        sources.append(left[keep])
        targets.append(right[keep])
        np.minimum.at(similarity, right[keep], agree[keep].astype(np.float32))
    if not sources:
        return np.arange(count, dtype=np.int64), similarity
    source, target = np.concatenate(sources), np.concatenate(targets)
    graph = coo_matrix(
        (np.ones(source.size, dtype=np.int8), (source, target)), shape=(count, count)
    )
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64), similarity
