"""PDQ against the reference implementation's own test photos and hashes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import real_data
from vigil.images.decode import decode_image
from vigil.images.hamming import HammingIndex
from vigil.images.pdq import DIHEDRAL, PdqHash, distance, pdq_dihedral, pdq_hash

pytestmark = pytest.mark.realdata
# The reference accepts a hash within this distance of its own (float rounding, resizing).
REFERENCE_TOLERANCE = 16


def hash_file(path: Path) -> PdqHash:
    return pdq_hash(decode_image(path.read_bytes()).image)


def test_every_reference_photo_hashes_within_the_reference_tolerance() -> None:
    folder = real_data("pdq")
    expected = json.loads((folder / "expected-hashes.json").read_text())["hashes"]
    assert len(expected) == 17
    for name, want in expected.items():
        got = hash_file(folder / name)
        assert distance(got.bits, bytes.fromhex(want)) <= REFERENCE_TOLERANCE, name


def test_rotations_and_flips_match_only_with_dihedral_hashes() -> None:
    folder = real_data("pdq", "reg-test-input", "dih")
    original = pdq_dihedral(decode_image((folder / "bridge-1-original.jpg").read_bytes()).image)
    index_on, index_off = HammingIndex(), HammingIndex()
    index_on.add(np.frombuffer(b"".join(h.bits for h in original), np.uint8).reshape(-1, 32))
    index_off.add(np.frombuffer(original[0].bits, np.uint8).reshape(1, 32))
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 8
    for position, name in enumerate(names):
        query = hash_file(folder / name).bits
        on = index_on.search(query)
        assert on and on[0][1] <= 31, name
        # The nearest of the eight is the transform the file shows, in pdqhash's order.
        assert on[0][0] == position, (name, DIHEDRAL[on[0][0]])
        assert bool(index_off.search(query)) is (position == 0), name


def test_bridge_edits_stay_within_the_match_radius() -> None:
    folder = real_data("pdq", "bridge-mods")
    original = hash_file(folder / "aaa-orig.jpg")
    distances = {p.name: distance(original.bits, hash_file(p).bits) for p in folder.iterdir()}
    assert len(distances) == 12 and distances["aaa-orig.jpg"] == 0
    # docs/images.md tabulates these; every edit is a confident match.
    assert max(distances.values()) <= 31, distances
