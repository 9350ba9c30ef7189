"""The Merkle tree of RFC 6962 / RFC 9162 section 2: hashes, proofs and their verification.

Pure functions, no I/O. Proof generation asks a `subtree(start, end)` callable for the hash of
leaves [start, end), so the caller decides where hashes come from: a list held in memory, or the
perfect-subtree nodes the log stores (`perfect_subtrees` says which ones a range needs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from vigil.errors import VigilError

HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

Subtree = Callable[[int, int], bytes]


class ProofError(VigilError):
    """A proof, a tree head or a stored log does not check out; the message says which part."""


def leaf_hash(entry: bytes) -> bytes:
    """The hash of one log entry: SHA-256(0x00 || entry)."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(count: int) -> int:
    """The largest power of two strictly below `count` (count >= 2): where RFC 6962 splits."""
    return 1 << ((count - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of a whole list of leaf hashes (EMPTY_ROOT for none)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # Pairing level by level and carrying an odd last node up unchanged builds the same tree as
    # the RFC's recursive split, without recursion.
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The aligned perfect subtrees, as (level, index) covering leaves [index * 2**level,
    (index + 1) * 2**level), whose hashes make up the hash of leaves [start, end), in order.

    A range that starts on a multiple of a power of two at least as large as itself (every
    range a proof or a root asks for) needs at most about 2 log2(n) of them."""
    if not 0 <= start < end:
        raise ValueError(f"not a range of leaves: [{start}, {end})")
    parts: list[tuple[int, int]] = []
    pending = [(start, end)]
    while pending:
        low, high = pending.pop()
        count = high - low
        if count & (count - 1) == 0 and low % count == 0:
            level = count.bit_length() - 1
            parts.append((level, low >> level))
            continue
        middle = low + _split(count)
        # Right half first onto the stack, so the left half comes out (and is listed) first.
        pending.append((middle, high))
        pending.append((low, middle))
    return parts


def subtree_from_perfect(start: int, end: int, perfect: Callable[[int, int], bytes]) -> bytes:
    """The hash of leaves [start, end) from the hashes of aligned perfect subtrees, looked up
    with `perfect(level, index)` (the parts `perfect_subtrees` lists)."""
    count = end - start
    if count & (count - 1) == 0 and start % count == 0:
        level = count.bit_length() - 1
        return perfect(level, start >> level)
    middle = start + _split(count)
    return node_hash(
        subtree_from_perfect(start, middle, perfect), subtree_from_perfect(middle, end, perfect)
    )


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form the inclusion proof of leaf `index` in a tree of
    `size` leaves (RFC 6962 PATH), from the leaf's sibling up to the root's other child."""
    if not 0 <= index < size:
        raise ProofError(
            f"no inclusion proof for entry {index} in a tree of {size} entries: the index must "
            f"be between 0 and {size - 1}"
        )
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start = middle
    ranges.reverse()
    return ranges


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form the consistency proof from a tree of `size1` leaves
    to one of `size2` leaves (RFC 6962 SUBPROOF); empty when the sizes are equal."""
    if not 0 < size1 <= size2:
        raise ProofError(
            f"no consistency proof from size {size1} to size {size2}: the first size must be at "
            "least 1 (the empty tree is consistent with every tree) and at most the second"
        )
    if size1 == size2:
        return []
    above: list[tuple[int, int]] = []
    start, end, old, whole = 0, size2, size1, True
    while old != end - start:
        middle = start + _split(end - start)
        if old <= middle - start:
            above.append((middle, end))
            end = middle
        else:
            above.append((start, middle))
            old -= middle - start
            start = middle
            # The old tree's root is no longer a node of this branch: the proof must carry it.
            whole = False
    above.reverse()
    return above if whole else [(start, end), *above]


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """The audit path of leaf `index` in a tree of `size` leaves."""
    return [subtree(start, end) for start, end in inclusion_ranges(index, size)]


def consistency_proof(size1: int, size2: int, subtree: Subtree) -> list[bytes]:
    """The proof that the tree of `size1` leaves is a prefix of the tree of `size2` leaves."""
    return [subtree(start, end) for start, end in consistency_ranges(size1, size2)]


def _inclusion_length(index: int, size: int) -> int:
    # Below the point where the paths to `index` and to the last leaf part, one node per level;
    # above it, one per left sibling on the tree's right border.
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _check_nodes(proof: Sequence[bytes], what: str) -> None:
    for position, node in enumerate(proof):
        if len(node) != HASH_SIZE:
            raise ProofError(
                f"{what}: node {position} is {len(node)} bytes long, a SHA-256 hash is "
                f"{HASH_SIZE}; the proof is damaged"
            )


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is
    `root`; raise ProofError saying what failed."""
    what = f"inclusion proof of entry {index} in the tree of {size} entries"
    if size <= 0 or not 0 <= index < size:
        raise ProofError(f"{what}: the index is outside the tree (it must be 0 to {size - 1})")
    if len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"{what}: the leaf hash is {len(leaf_hash)} bytes, not {HASH_SIZE}")
    expected = _inclusion_length(index, size)
    if len(proof) != expected:
        raise ProofError(
            f"{what}: the proof has {len(proof)} nodes where this index and size need "
            f"{expected}; nodes were added or removed, or the index or size is wrong"
        )
    _check_nodes(proof, what)
    # RFC 9162 2.1.3.2: walk up from the leaf; `position` is the node's index at this level and
    # `last` the index of the level's last node.
    position, last, computed = index, size - 1, leaf_hash
    for node in proof:
        if position & 1 or position == last:
            computed = node_hash(node, computed)
            while not position & 1 and position:
                position >>= 1
                last >>= 1
        else:
            computed = node_hash(computed, node)
        position >>= 1
        last >>= 1
    if computed != root:
        raise ProofError(
            f"{what}: the proof leads to root {computed.hex()}, not to the expected root "
            f"{root.hex()}; the entry, the proof or the root was changed"
        )


def _consistency_length(size1: int, size2: int) -> int:
    level = (size1 & -size1).bit_length() - 1
    length = _inclusion_length((size1 - 1) >> level, ((size2 - 1) >> level) + 1)
    return length if size1 == 1 << level else length + 1


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of `size1` leaves with root `root1` is a prefix of the tree of
    `size2` leaves with root `root2`; raise ProofError saying what failed."""
    what = f"consistency proof from size {size1} to size {size2}"
    if size1 <= 0 or size2 < size1:
        raise ProofError(
            f"{what}: the first size must be at least 1 and at most the second (the empty tree "
            "is consistent with every tree, so there is nothing to prove)"
        )
    if size1 == size2:
        if proof:
            raise ProofError(f"{what}: equal sizes need an empty proof, this one has nodes")
        if root1 != root2:
            raise ProofError(
                f"{what}: the sizes are equal but the roots differ ({root1.hex()} and "
                f"{root2.hex()}); one of them was changed"
            )
        return
    expected = _consistency_length(size1, size2)
    if len(proof) != expected:
        raise ProofError(
            f"{what}: the proof has {len(proof)} nodes where these sizes need {expected}; "
            "nodes were added or removed, or a size is wrong"
        )
    _check_nodes(proof, what)
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        # The old tree is a perfect subtree of the new one: its root is the proof's first node.
        path.insert(0, root1)
    # RFC 9162 2.1.4.2: rebuild both roots from the same path.
    position, last = size1 - 1, size2 - 1
    while position & 1:
        position >>= 1
        last >>= 1
    old_root = new_root = path[0]
    for node in path[1:]:
        if position & 1 or position == last:
            old_root = node_hash(node, old_root)
            new_root = node_hash(node, new_root)
            while not position & 1 and position:
                position >>= 1
                last >>= 1
        else:
            new_root = node_hash(new_root, node)
        position >>= 1
        last >>= 1
    if old_root != root1:
        raise ProofError(
            f"{what}: the proof rebuilds the old root as {old_root.hex()}, not the expected "
            f"{root1.hex()}; the proof or the old root was changed"
        )
    if new_root != root2:
        raise ProofError(
            f"{what}: the proof rebuilds the new root as {new_root.hex()}, not the expected "
            f"{root2.hex()}; the proof or the new root was changed"
        )
