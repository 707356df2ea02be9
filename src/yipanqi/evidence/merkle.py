"""The Merkle tree of RFC 9162 §2.1: hashes, roots, inclusion and consistency proofs, their verification.

Pure module (no Django): the offline verifier imports it too.

- ``leaf_hash(d) = SHA-256(0x00 || d)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)``, the root of the empty tree is
  ``SHA-256("")`` (§2.1.1).
- A *node* ``(level, index)`` is a perfect subtree: the Merkle tree hash of the leaves
  ``[index·2^level, (index+1)·2^level)`` (level 0 = the leaf hashes). The log stores exactly these; every hash a
  proof needs is the fold of a few of them (``inclusion_plan`` / ``consistency_plan`` say which), so serving a proof
  is one batched lookup and a few hashes.
- Verification follows §2.1.3.2 / §2.1.4.2 in the equivalent form of the transparency-dev reference implementation
  (the proof length is checked first, so a wrong length is reported as such). Every rejection raises ``ProofError``.
- ``CompactRange`` appends leaf hashes to a tree of which only the right edge (the *frontier*) is known, reports each
  perfect node it completes and gives the root.

One deliberate reading of the RFC: when ``size1 == size2`` the consistency check is "the proof is empty and the two
roots are the same bytes" (§2.1.4.2 step 2), with no hashing and so no length check — as the reference test vectors
require. Everywhere a hash is fed into SHA-256 or compared with a computed hash, it must be 32 bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from hashlib import sha256 as _sha256

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_SIZE",
    "CompactRange",
    "MissingNodesError",
    "Node",
    "ProofError",
    "consistency_plan",
    "consistency_proof",
    "fold",
    "frontier_nodes",
    "inclusion_plan",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_root",
    "root",
    "root_from_consistency",
    "root_from_inclusion",
    "subtrees",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = _sha256(b"").digest()
MAX_SIZE = (1 << 64) - 1  # tree sizes and indices are uint64 in RFC 9162 and in the checkpoint format

_LEAF = b"\x00"
_NODE = b"\x01"

Node = tuple[int, int]  # (level, index) of a perfect subtree
Lookup = Callable[[set[Node]], Mapping[Node, bytes]]


class ProofError(ValueError):
    """A proof, a size, an index or a hash was rejected; the message says what is wrong."""


class MissingNodesError(LookupError):
    """The node store did not return every node a proof or a root needs (or returned a hash of the wrong length):
    the store is incomplete or corrupt — a server-side fault, not bad input."""

    def __init__(self, nodes: Iterable[Node]):
        self.nodes = sorted(nodes)
        shown = ", ".join(f"({level}, {index})" for level, index in self.nodes[:8])
        more = f" and {len(self.nodes) - 8} more" if len(self.nodes) > 8 else ""
        super().__init__(f"node store is missing or has a malformed hash for node(s) (level, index): {shown}{more}")


# -- hashing ----------------------------------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one log entry."""
    return _sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return _sha256(_NODE + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (MTH) of a list of leaf hashes; ``EMPTY_ROOT`` for none. O(n), iterative.

    Level by level, pairs are hashed and a lone last node is carried up unchanged: the same tree as the recursive
    definition of §2.1.1 (whose right edge is made of the perfect subtrees of the set bits of n)."""
    level = list(leaf_hashes)
    for position, h in enumerate(level):
        if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
            raise ProofError(f"leaf hash {position} must be {HASH_SIZE} bytes, got {_describe(h)}")
    if not level:
        return EMPTY_ROOT
    sha = _sha256
    while len(level) > 1:
        paired = [sha(_NODE + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) & 1:
            paired.append(level[-1])
        level = paired
    return bytes(level[0])


def fold(hashes: Sequence[bytes]) -> bytes:
    """The MTH of consecutive perfect subtrees given left to right in decreasing size (as ``subtrees`` returns them
    for an aligned range): node_hash(h0, node_hash(h1, … node_hash(h[-2], h[-1]))). ``EMPTY_ROOT`` for none."""
    if not hashes:
        return EMPTY_ROOT
    sha = _sha256
    result = hashes[-1]
    for h in reversed(hashes[:-1]):
        result = sha(_NODE + h + result).digest()
    return bytes(result)


# -- which nodes a proof needs ----------------------------------------------------------------------------------------


def subtrees(start: int, end: int) -> list[Node]:
    """The fewest perfect subtrees covering leaves [start, end), left to right.

    For the ranges proofs use (``start`` a multiple of the largest power of two not above ``end - start``) these are
    the subtrees of the set bits of ``end - start``, largest first, and ``fold`` of their hashes is MTH(D[start:end]).
    Any other range is covered too (growing then shrinking sizes, like a compact range), but its fold is not an MTH.
    """
    if not (0 <= start <= end):
        raise ValueError(f"invalid range [{start}, {end})")
    nodes: list[Node] = []
    while start < end:
        # the largest level at which `start` is aligned and the node still fits before `end`
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def _aligned(start: int, end: int) -> bool:
    """Is MTH(D[start:end]) the fold of subtrees(start, end)? (start is a multiple of the top bit of the length)"""
    length = end - start
    return length == 0 or start % (1 << (length.bit_length() - 1)) == 0


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs make PATH(index, D[0:size]) (§2.1.3.1), leaf upward."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)  # the largest power of two smaller than hi - lo
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def _consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs make PROOF(size1, D[0:size2]) (§2.1.4.1), in proof order. 0 < size1 < size2."""
    ranges: list[tuple[int, int]] = []
    lo, hi, complete = 0, size2, True  # `complete`: the `b` flag of SUBPROOF
    while hi != size1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if size1 - lo <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            complete = False
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def inclusion_plan(index: int, size: int) -> list[list[Node]]:
    """For each hash of the inclusion proof of leaf ``index`` in the tree of ``size`` leaves (leaf upward): the perfect
    nodes whose ``fold`` gives it."""
    _check_index(index, size)
    plan = []
    for start, end in _inclusion_ranges(index, size):
        length = end - start
        if length & (length - 1) or start & (length - 1):  # not one perfect node: the right edge of the tree
            plan.append(subtrees(start, end))
        else:
            level = length.bit_length() - 1
            plan.append([(level, start >> level)])
    return plan


def consistency_plan(size1: int, size2: int) -> list[list[Node]]:
    """For each hash of the consistency proof between sizes ``size1`` ≤ ``size2``: the perfect nodes whose ``fold``
    gives it. Empty when size1 == size2 or size1 == 0."""
    _check_sizes(size1, size2)
    if size1 == 0 or size1 == size2:
        return []
    return [subtrees(a, b) for a, b in _consistency_ranges(size1, size2)]


def _serve(
    plan: list[list[Node]], lookup: Lookup, folds: MutableMapping[tuple[Node, ...], bytes] | None = None
) -> list[bytes]:
    """The proof's hashes: one ``lookup`` of every node the plan needs, then each hash folded from its nodes.

    ``folds`` (optional) remembers the hash of each range made of several nodes (in inclusion proofs, the right edge
    of the tree: the same for every proof at one size). Nodes never change, so neither does their fold."""
    proof: list[bytes | None] = [None] * len(plan)
    needed: set[Node] = set()
    for position, nodes in enumerate(plan):
        if folds is not None and len(nodes) > 1:
            known = folds.get(tuple(nodes))
            if known is not None:
                proof[position] = known
                continue
        needed.update(nodes)
    if not needed:
        return proof
    found = lookup(needed)
    bad = [node for node in needed if len(found.get(node) or b"") != HASH_SIZE]
    if bad:
        raise MissingNodesError(bad)
    for position, nodes in enumerate(plan):
        if proof[position] is None:
            if len(nodes) == 1:
                proof[position] = bytes(found[nodes[0]])
            else:
                proof[position] = value = fold([found[node] for node in nodes])
                if folds is not None:
                    folds[tuple(nodes)] = value
    return proof


def inclusion_proof(
    index: int, size: int, lookup: Lookup, folds: MutableMapping[tuple[Node, ...], bytes] | None = None
) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of ``size`` leaves. ``lookup`` receives the set of all the
    nodes needed, once, and returns their hashes (``MissingNodesError`` if any is missing); ``folds``: see
    ``_serve``."""
    return _serve(inclusion_plan(index, size), lookup, folds)


def consistency_proof(
    size1: int, size2: int, lookup: Lookup, folds: MutableMapping[tuple[Node, ...], bytes] | None = None
) -> list[bytes]:
    """The consistency proof between the trees of ``size1`` and ``size2`` leaves (one batched ``lookup``)."""
    return _serve(consistency_plan(size1, size2), lookup, folds)


def range_root(start: int, end: int, lookup: Lookup) -> bytes:
    """MTH(D[start:end]) from the stored perfect nodes (one batched ``lookup``); ``range_root(0, n, …)`` is the root of
    the tree of size n. ``start`` must be aligned as in the proofs (a multiple of the largest power of two not above
    ``end - start``): ProofError otherwise."""
    _check_int("start", start)
    _check_int("end", end)
    if start > end:
        raise ProofError(f"start ({start}) is greater than end ({end})")
    if not _aligned(start, end):
        raise ProofError(f"range [{start}, {end}) is not aligned: MTH of it is not made of stored subtrees")
    if start == end:
        return EMPTY_ROOT
    return _serve([subtrees(start, end)], lookup)[0]


# -- verification -----------------------------------------------------------------------------------------------------


def _describe(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return f"{len(value)} bytes"
    return "None" if value is None else f"a value of type {type(value).__name__}"


def _check_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProofError(f"{name} must be an integer, got {_describe(value)}")
    if value < 0:
        raise ProofError(f"{name} must not be negative, got {value}")
    if value > MAX_SIZE:
        raise ProofError(f"{name} ({value}) is beyond 2^64 - 1")


def _check_index(index: int, size: int) -> None:
    _check_int("index", index)
    _check_int("tree size", size)
    if index >= size:
        raise ProofError(f"index {index} is beyond the tree of size {size}")


def _check_sizes(size1: int, size2: int) -> None:
    _check_int("size1", size1)
    _check_int("size2", size2)
    if size1 > size2:
        raise ProofError(f"size1 ({size1}) is greater than size2 ({size2})")


def _check_hash(name: str, value: object) -> None:
    if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_SIZE:
        raise ProofError(f"{name} must be a {HASH_SIZE}-byte hash, got {_describe(value)}")


def _check_proof(proof: object, expected: int, what: str) -> None:
    if isinstance(proof, (bytes, bytearray, str)) or not isinstance(proof, Sequence):
        raise ProofError(f"the proof must be a list of hashes, got {_describe(proof)}")
    if len(proof) != expected:
        raise ProofError(f"the proof has {len(proof)} hashes, {what} needs {expected}")
    for position, h in enumerate(proof):
        if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
            raise ProofError(f"proof hash {position} must be {HASH_SIZE} bytes, got {_describe(h)}")


def _decompose(index: int, size: int) -> tuple[int, int]:
    """(inner, border): the proof of leaf ``index`` in a tree of ``size`` has ``inner`` hashes below the level where
    its path joins the right edge of the tree, then ``border`` hashes of left siblings on that edge."""
    inner = (index ^ (size - 1)).bit_length()
    return inner, (index >> inner).bit_count()


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` makes for ``leaf`` at ``index`` in a tree of ``size`` (ProofError if it cannot)."""
    _check_index(index, size)
    _check_hash("leaf hash", leaf)
    inner, border = _decompose(index, size)
    _check_proof(proof, inner + border, f"leaf {index} in a tree of size {size}")
    sha = _sha256
    h = bytes(leaf)
    for level in range(inner):
        sibling = proof[level]
        h = sha(_NODE + sibling + h if (index >> level) & 1 else _NODE + h + sibling).digest()
    for level in range(inner, inner + border):
        h = sha(_NODE + proof[level] + h).digest()
    return h


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Checks that ``leaf`` is at ``index`` in the tree of ``size`` leaves whose root is ``root`` (§2.1.3.2)."""
    _check_hash("root", root)
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError(f"the inclusion proof of leaf {index} does not lead to the root of the tree of size {size}")


def _consistency_roots(size1: int, size2: int, proof: Sequence[bytes], root1: bytes) -> tuple[bytes, bytes]:
    """(the root of size1, the root of size2) that ``proof`` makes; 0 < size1 < size2, everything checked."""
    inner, border = _decompose(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1  # trailing zeros of size1
    inner -= shift
    if size1 == 1 << shift:  # size1 is a perfect subtree of size2: its root is the seed, not sent in the proof
        seed, start = root1, 0
    else:
        seed, start = proof[0] if proof else b"", 1
    _check_proof(proof, start + inner + border, f"consistency between sizes {size1} and {size2}")
    sha = _sha256
    mask = (size1 - 1) >> shift
    hash1 = hash2 = bytes(seed)
    for level in range(inner):
        h = proof[start + level]
        if (mask >> level) & 1:
            hash1 = sha(_NODE + h + hash1).digest()
            hash2 = sha(_NODE + h + hash2).digest()
        else:
            hash2 = sha(_NODE + hash2 + h).digest()
    for position in range(start + inner, start + inner + border):
        h = proof[position]
        hash1 = sha(_NODE + h + hash1).digest()
        hash2 = sha(_NODE + h + hash2).digest()
    return hash1, hash2


def _check_consistency_input(size1: int, size2: int, proof: Sequence[bytes], root1: bytes) -> None:
    _check_sizes(size1, size2)
    if isinstance(proof, (bytes, bytearray, str)) or not isinstance(proof, Sequence):
        raise ProofError(f"the proof must be a list of hashes, got {_describe(proof)}")
    if size1 == size2 or size1 == 0:
        if proof:
            raise ProofError(f"the proof between sizes {size1} and {size2} must be empty, it has {len(proof)} hashes")
    elif not proof:
        raise ProofError(f"the proof between sizes {size1} and {size2} is empty")
    if size1 == 0:
        _check_hash("root1", root1)
        if root1 != EMPTY_ROOT:
            raise ProofError("root1 is not the root of the empty tree (size 0)")
    elif size1 != size2:
        _check_hash("root1", root1)


def root_from_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes) -> bytes:
    """The root of the tree of ``size2`` that ``proof`` makes, once it has shown that the tree of ``size1`` with root
    ``root1`` is its prefix. For size1 == size2 that is ``root1``; for size1 == 0 nothing links the two trees, so
    there is no root to compute: ProofError (use verify_consistency)."""
    _check_consistency_input(size1, size2, proof, root1)
    if size1 == size2:
        return bytes(root1)
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree is empty and does not determine the new root")
    hash1, hash2 = _consistency_roots(size1, size2, proof, root1)
    if hash1 != root1:
        raise ProofError(f"the consistency proof does not lead to root1 (the root of the tree of size {size1})")
    return hash2


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Checks that the tree of ``size1`` leaves with ``root1`` is a prefix of the tree of ``size2`` leaves with
    ``root2`` (§2.1.4.2). size1 == size2: the proof must be empty and the roots equal; size1 == 0: the proof must be
    empty and root1 the empty tree's root."""
    _check_consistency_input(size1, size2, proof, root1)
    if size1 == size2:
        if root1 != root2:
            raise ProofError(f"the trees have the same size ({size1}) but different roots")
        if size1 == 0 and root2 != EMPTY_ROOT:
            raise ProofError("root2 is not the root of the empty tree (size 0)")
        return
    _check_hash("root2", root2)
    if size1 == 0:
        return
    hash1, hash2 = _consistency_roots(size1, size2, proof, root1)
    if hash1 != root1:
        raise ProofError(f"the consistency proof does not lead to root1 (the root of the tree of size {size1})")
    if hash2 != root2:
        raise ProofError(f"the consistency proof does not lead to root2 (the root of the tree of size {size2})")


# -- appending --------------------------------------------------------------------------------------------------------


def frontier_nodes(size: int) -> list[Node]:
    """The perfect nodes on the right edge of the tree of ``size`` leaves, largest first: one per set bit of size.
    Their fold is the root; they are all a ``CompactRange`` needs to go on appending."""
    return subtrees(0, size)


class CompactRange:
    """The right edge of a tree of ``size`` leaves: appends leaf hashes, reports each perfect node it completes and
    gives the current root.

    ``hashes`` are the hashes of ``frontier_nodes(size)``, in that order. ``append`` returns the new nodes as
    ``(level, index, hash)``, the leaf itself first: everything the store has to write."""

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        _check_int("size", size)
        if len(hashes) != size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} frontier hashes, got {len(hashes)}")
        for position, h in enumerate(hashes):
            _check_hash(f"frontier hash {position}", h)
        self._size = size
        self._hashes = [bytes(h) for h in hashes]

    @property
    def size(self) -> int:
        return self._size

    @property
    def frontier(self) -> list[tuple[int, int, bytes]]:
        """(level, index, hash) of the frontier nodes, largest first."""
        return [(level, index, h) for (level, index), h in zip(frontier_nodes(self._size), self._hashes, strict=True)]

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Adds one leaf hash; returns the perfect nodes it completes, from the leaf (level 0) upward."""
        if not isinstance(leaf, (bytes, bytearray)) or len(leaf) != HASH_SIZE:
            raise ProofError(f"leaf hash must be {HASH_SIZE} bytes, got {_describe(leaf)}")
        index = self._size
        hashes = self._hashes
        h = bytes(leaf)
        added = [(0, index, h)]
        level = 0
        while index & 1:
            h = _sha256(_NODE + hashes.pop() + h).digest()
            index >>= 1
            level += 1
            added.append((level, index, h))
        hashes.append(h)
        self._size += 1
        return added

    def extend(self, leaves: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
        """Appends many leaf hashes; returns all the nodes they complete (in the order they were completed). On a bad
        leaf hash, the ones before it stay appended and ProofError is raised."""
        sha = _sha256
        node = _NODE
        hashes = self._hashes
        push_frontier = hashes.append
        pop_frontier = hashes.pop
        size = self._size
        added: list[tuple[int, int, bytes]] = []
        push = added.append
        for leaf in leaves:
            if type(leaf) is not bytes or len(leaf) != HASH_SIZE:
                if not isinstance(leaf, (bytes, bytearray)) or len(leaf) != HASH_SIZE:
                    self._size = size
                    raise ProofError(f"leaf hash {size} must be {HASH_SIZE} bytes, got {_describe(leaf)}")
                leaf = bytes(leaf)
            push((0, size, leaf))
            if size & 1:  # completes at least one node
                h = leaf
                index = size
                level = 0
                while index & 1:
                    h = sha(node + pop_frontier() + h).digest()
                    index >>= 1
                    level += 1
                    push((level, index, h))
                push_frontier(h)
            else:
                push_frontier(leaf)
            size += 1
        self._size = size
        return added

    def root(self) -> bytes:
        """The root of the tree of the current size."""
        return fold(self._hashes)

    def copy(self) -> CompactRange:
        return CompactRange(self._size, self._hashes)
