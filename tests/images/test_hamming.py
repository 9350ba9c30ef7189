"""The Hamming index: exact against brute force, in both layouts, through pickling and files."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.images.hamming import HammingIndex
from vigil.images.pdq import PdqHash, distance


@pytest.mark.parametrize("layout", ["mih", "compact"])
def test_index_finds_exactly_what_brute_force_finds(layout: str) -> None:
    rng = np.random.default_rng(7)
    base = rng.integers(0, 256, (20_000, 32), dtype=np.uint8)
    queries = base[rng.integers(0, len(base), 64)].copy()
    for row in queries:  # flip 0-45 random bits: some inside the radius, some outside
        for bit in rng.choice(256, size=int(rng.integers(0, 46)), replace=False):
            row[bit // 8] ^= 1 << (bit % 8)
    index = HammingIndex(layout=layout)  # type: ignore[arg-type]
    index.add(base[:15_000])
    index.search(queries[0])  # tables built; the rest goes to the unindexed tail
    index.add(base[15_000:])
    bits = np.unpackbits(base[None, :, :] ^ queries[:, None, :], axis=2).sum(axis=2)
    for radius in (0, 20, 31, 47, 70):
        found = index.search_batch(queries, radius)
        for q, hits in enumerate(found):
            want = sorted((int(i), int(bits[q, i])) for i in np.flatnonzero(bits[q] <= radius))
            assert sorted(hits) == want, (layout, radius, q)
            assert [d for _, d in hits] == sorted(d for _, d in hits)
    clone = pickle.loads(pickle.dumps(index))
    assert clone.search_batch(queries) == index.search_batch(queries)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=60), st.data())
def test_any_hash_is_found_at_its_own_distance(hashes: list[bytes], data: st.DataObject) -> None:
    index = HammingIndex()
    index.add(hashes)
    query = data.draw(st.binary(min_size=32, max_size=32))
    radius = data.draw(st.integers(0, 256))
    got = dict(index.search(query, radius))
    want = {i: distance(h, query) for i, h in enumerate(hashes) if distance(h, query) <= radius}
    assert got == want


def test_saved_index_loads_with_the_same_answers(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 256, (5_000, 32), dtype=np.uint8)
    for layout in ("mih", "compact"):
        index = HammingIndex(radius=25, layout=layout)  # type: ignore[arg-type]
        index.add(base)
        index.save(tmp_path / f"{layout}.npz")
        loaded = HammingIndex.load(tmp_path / f"{layout}.npz")
        assert loaded.radius == 25 and len(loaded) == len(base)
        assert loaded.search_batch(base[:50]) == index.search_batch(base[:50])


def test_bad_hashes_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="64 hex digits, not 6"):
        PdqHash.from_hex("abcdef")
    with pytest.raises(ValueError, match="hex digits"):
        PdqHash.from_hex("z" * 64)
    with pytest.raises(ValueError, match="must be 32 bytes"):
        HammingIndex().add([b"short"])
    with pytest.raises(ValueError, match="radius must be between 0 and 256"):
        HammingIndex(radius=300)
