"""Property tests of the Merkle tree: proofs from random trees verify, match the RFC 6962
definitions written out naively here, and any single flipped bit is caught."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.evidence.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    root_of,
    subtree_from_perfect,
    verify_consistency,
    verify_inclusion,
)

# Sizes drawn uniformly first, so that large trees (deep, with ragged right edges) come up as
# often as small ones.
ENTRIES = st.integers(1, 300).flatmap(
    lambda n: st.lists(st.binary(max_size=40), min_size=n, max_size=n)
)


# The RFC's recursive definitions (section 2.1 of RFC 6962), as close to the text as can be.
def mth(entries: Sequence[bytes]) -> bytes:
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < len(entries):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:])).digest()


def path(m: int, entries: Sequence[bytes]) -> list[bytes]:
    if len(entries) == 1:
        return []
    k = 1
    while k * 2 < len(entries):
        k *= 2
    if m < k:
        return [*path(m, entries[:k]), mth(entries[k:])]
    return [*path(m - k, entries[k:]), mth(entries[:k])]


def subproof(m: int, entries: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(entries)
    if m == n:
        return [] if whole else [mth(entries)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof(m, entries[:k], whole), mth(entries[k:])]
    return [*subproof(m - k, entries[k:], False), mth(entries[:k])]


def flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def subtree_of(entries: Sequence[bytes]) -> Callable[[int, int], bytes]:
    leaves = [leaf_hash(e) for e in entries]

    @functools.cache
    def subtree(start: int, end: int) -> bytes:
        return root_of(leaves[start:end])

    return subtree


def test_the_empty_tree_and_the_prefixes_are_the_rfc_ones() -> None:
    assert root_of([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@settings(max_examples=60, deadline=None)
@given(ENTRIES, st.data())
def test_every_inclusion_proof_of_a_random_tree_verifies(
    entries: list[bytes], data: st.DataObject
) -> None:
    leaves = [leaf_hash(e) for e in entries]
    root = root_of(leaves)
    assert root == mth(entries)
    subtree = subtree_of(entries)
    # The naive definition is slow: compared on a few entries, including both ends.
    compared = {
        0,
        len(entries) - 1,
        *data.draw(st.sets(st.integers(0, len(entries) - 1), max_size=8)),
    }
    for index in range(len(entries)):
        proof = inclusion_proof(index, len(entries), subtree)
        if index in compared:
            assert proof == path(index, entries)
        verify_inclusion(leaves[index], index, len(entries), proof, root)


@settings(max_examples=60, deadline=None)
@given(ENTRIES, st.data())
def test_every_consistency_proof_between_two_sizes_verifies(
    entries: list[bytes], data: st.DataObject
) -> None:
    leaves = [leaf_hash(e) for e in entries]
    subtree = subtree_of(entries)
    size2 = data.draw(st.integers(1, len(entries)), label="size2")
    root2 = root_of(leaves[:size2])
    compared = {1, size2, *data.draw(st.sets(st.integers(1, size2), max_size=8))}
    for size1 in range(1, size2 + 1):
        proof = consistency_proof(size1, size2, subtree)
        if size1 in compared:
            assert proof == subproof(size1, entries[:size2], True)
        verify_consistency(size1, size2, proof, root_of(leaves[:size1]), root2)


@settings(max_examples=200, deadline=None)
@given(ENTRIES, st.data())
def test_a_flipped_bit_in_an_entry_a_proof_node_or_the_root_breaks_inclusion(
    entries: list[bytes], data: st.DataObject
) -> None:
    size = len(entries)
    index = data.draw(st.integers(0, size - 1), label="index")
    leaves = [leaf_hash(e) for e in entries]
    root = root_of(leaves)
    proof = inclusion_proof(index, size, subtree_of(entries))
    bit = data.draw(st.integers(0, 2**16), label="bit")
    target = data.draw(st.sampled_from(["entry", "proof", "root"]), label="target")
    if target == "proof" and not proof:
        target = "root"
    leaf, nodes, expected = leaves[index], list(proof), root
    if target == "entry":
        # An empty entry has no bit to flip: it gains a byte instead.
        leaf = leaf_hash(flip(entries[index], bit) if entries[index] else b"\x00")
    elif target == "proof":
        at = data.draw(st.integers(0, len(nodes) - 1), label="node")
        nodes[at] = flip(nodes[at], bit)
    else:
        expected = flip(root, bit)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, nodes, expected)


@settings(max_examples=200, deadline=None)
@given(ENTRIES, st.data())
def test_a_flipped_bit_in_a_consistency_proof_or_a_root_is_caught(
    entries: list[bytes], data: st.DataObject
) -> None:
    assume_two = entries if len(entries) > 1 else [*entries, b"second"]
    leaves = [leaf_hash(e) for e in assume_two]
    size2 = data.draw(st.integers(2, len(leaves)), label="size2")
    size1 = data.draw(st.integers(1, size2 - 1), label="size1")
    proof = consistency_proof(size1, size2, subtree_of(assume_two))
    root1, root2 = root_of(leaves[:size1]), root_of(leaves[:size2])
    bit = data.draw(st.integers(0, 2**16), label="bit")
    target = data.draw(st.sampled_from(["proof", "root1", "root2", "entry"]), label="target")
    if target == "proof":
        at = data.draw(st.integers(0, len(proof) - 1), label="node")
        proof[at] = flip(proof[at], bit)
    elif target == "root1":
        root1 = flip(root1, bit)
    elif target == "root2":
        root2 = flip(root2, bit)
    else:
        # A changed old entry: the new tree no longer extends the old one.
        at = data.draw(st.integers(0, size1 - 1), label="changed entry")
        changed = list(assume_two)
        changed[at] = flip(changed[at], bit) if changed[at] else b"\x00"
        root2 = root_of([leaf_hash(e) for e in changed[:size2]])
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, root1, root2)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5000), st.data())
def test_a_range_is_rebuilt_from_its_perfect_subtrees(size: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    end = data.draw(st.integers(1, size), label="end")

    def perfect(level: int, index: int) -> bytes:
        return root_of(leaves[index << level : (index + 1) << level])

    parts = perfect_subtrees(0, end)
    assert len(parts) == end.bit_count()
    assert subtree_from_perfect(0, end, perfect) == root_of(leaves[:end])


def test_proofs_for_indexes_or_sizes_outside_the_tree_are_refused() -> None:
    subtree = subtree_of([b"a", b"b", b"c"])
    with pytest.raises(ProofError, match="between 0 and 2"):
        inclusion_proof(3, 3, subtree)
    with pytest.raises(ProofError, match="first size must be at least 1"):
        consistency_proof(0, 3, subtree)
    with pytest.raises(ProofError, match="at most the second"):
        consistency_proof(3, 2, subtree)
