"""Property tests of the Merkle maths: for random sizes and leaves, the proofs served from the stored perfect nodes
verify, and any single change (a bit of a proof hash, a bit of a root, the index, a size) makes them fail."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from yipanqi.evidence.merkle import (
    CompactRange,
    ProofError,
    consistency_plan,
    consistency_proof,
    frontier_nodes,
    inclusion_plan,
    inclusion_proof,
    leaf_hash,
    range_root,
    root,
    root_from_consistency,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

# no example database: nothing is written into the working tree
PROPERTIES = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def trees(draw, min_size=1, max_size=300):
    n = draw(st.integers(min_size, max_size))
    seed = draw(st.binary(min_size=0, max_size=8))
    leaves = [seed + i.to_bytes(4, "big") for i in range(n)]
    return leaves


class Log:
    """A tree built the way the storage builds it: every perfect node reported by CompactRange, in a dict."""

    def __init__(self, leaves):
        self.hashes = [leaf_hash(d) for d in leaves]
        self.nodes = {}
        for level, index, h in CompactRange().extend(self.hashes):
            assert (level, index) not in self.nodes, "a node was reported twice"
            self.nodes[(level, index)] = h
        self.lookups = 0

    def lookup(self, needed):
        self.lookups += 1
        return {node: self.nodes[node] for node in needed}  # KeyError if a proof wanted a node the log lacks

    def root(self, size):
        return root(self.hashes[:size])


def _flips(h: bytes):
    """Every single-bit change of h."""
    for bit in range(len(h) * 8):
        changed = bytearray(h)
        changed[bit // 8] ^= 1 << (bit % 8)
        yield bytes(changed)


def _fails_inclusion(*args) -> bool:
    try:
        verify_inclusion(*args)
    except ProofError:
        return True
    return False


def _fails_consistency(*args) -> bool:
    try:
        verify_consistency(*args)
    except ProofError:
        return True
    return False


def _inclusion_shape(index, size):
    """Leaf upward, on which side of the path each proof hash is (from the plan, not from the verifier)."""
    return tuple("L" if nodes[0][1] << nodes[0][0] < index else "R" for nodes in inclusion_plan(index, size))


def _consistency_shape(size1, size2):
    """Whether the verifier starts from root1 (size1 a power of two, the seed is not sent), then on which side of the
    path each further proof hash is (from the plan)."""
    plan = consistency_plan(size1, size2)
    seeded = size1 & (size1 - 1) == 0
    return seeded, tuple("L" if nodes[0][1] << nodes[0][0] < size1 else "R" for nodes in plan[0 if seeded else 1 :])


@PROPERTIES
@given(trees(), st.data())
def test_roots_agree(leaves, data):
    log = Log(leaves)
    n = len(leaves)
    reference = InmemoryTree(algorithm="sha256")  # an independent RFC 9162 implementation
    for d in leaves:
        reference.append_entry(d)
    for size in {n, *data.draw(st.lists(st.integers(1, n), max_size=5))}:
        want = reference.get_root(size)
        assert log.root(size) == want
        assert range_root(0, size, log.lookup) == want
        compact = CompactRange()
        compact.extend(log.hashes[:size])
        assert compact.root() == want
        # the frontier of that size, read from the stored nodes, resumes to the same tree
        resumed = CompactRange(size, [log.nodes[node] for node in frontier_nodes(size)])
        later = resumed.extend(log.hashes[size:])
        assert resumed.root() == log.root(n)
        assert {(level, index): h for level, index, h in later} == {
            node: h for node, h in log.nodes.items() if (node[1] + 1) << node[0] > size
        }


@PROPERTIES
@given(trees(), st.data())
def test_inclusion_proofs_verify_and_any_change_fails(leaves, data):
    log = Log(leaves)
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    plan = inclusion_plan(index, size)
    assert all((i + 1) << level <= size for nodes in plan for level, i in nodes), "a node beyond the tree"
    proof = inclusion_proof(index, size, log.lookup)
    assert log.lookups <= 1
    leaf, want = log.hashes[index], log.root(size)
    verify_inclusion(leaf, index, size, proof, want)
    assert root_from_inclusion(index, size, leaf, proof) == want

    for position, h in enumerate(proof):
        for changed in _flips(h):
            assert _fails_inclusion(leaf, index, size, [*proof[:position], changed, *proof[position + 1 :]], want)
    for changed in _flips(want):
        assert _fails_inclusion(leaf, index, size, proof, changed)
    for changed in _flips(leaf):
        assert _fails_inclusion(changed, index, size, proof, want)
    assert _fails_inclusion(leaf, index, size, proof[:-1], want) or not proof
    assert _fails_inclusion(leaf, index, size, [*proof, proof[0] if proof else leaf], want)

    # Another index or size: fails, unless its path has exactly the same shape (an inclusion proof binds the tree size
    # only through the root; e.g. leaf 0's proof at size 3 is also one at size 4 for the same root).
    others = {
        index ^ 1,
        index ^ 2,
        index + 1,
        index - 1,
        index * 2,
        index // 2,
        *data.draw(st.lists(st.integers(0, 600))),
    }
    for other in others - {index}:
        valid = 0 <= other < size and _inclusion_shape(other, size) == _inclusion_shape(index, size)
        assert not valid, "two leaves of one tree have the same path"
        assert _fails_inclusion(leaf, other, size, proof, want)
    sizes = {size + 1, size - 1, size * 2, size // 2, size ^ 1, *data.draw(st.lists(st.integers(0, 600)))}
    for other in sizes - {size}:
        same_shape = index < other and _inclusion_shape(index, other) == _inclusion_shape(index, size)
        assert _fails_inclusion(leaf, index, other, proof, want) is not same_shape, other


@PROPERTIES
@given(trees(), st.data())
def test_consistency_proofs_verify_and_any_change_fails(leaves, data):
    log = Log(leaves)
    size2 = data.draw(st.integers(1, len(leaves)), label="size2")
    size1 = data.draw(st.integers(0, size2), label="size1")
    plan = consistency_plan(size1, size2)
    assert all((i + 1) << level <= size2 for nodes in plan for level, i in nodes), "a node beyond the tree"
    proof = consistency_proof(size1, size2, log.lookup)
    assert log.lookups <= 1
    root1, root2 = log.root(size1), log.root(size2)
    verify_consistency(size1, size2, proof, root1, root2)
    if size1:
        assert root_from_consistency(size1, size2, proof, root1) == root2

    for position, h in enumerate(proof):
        for changed in _flips(h):
            assert _fails_consistency(size1, size2, [*proof[:position], changed, *proof[position + 1 :]], root1, root2)
    if size1:  # (from size 0, any tree of size2 is consistent: root2 is not constrained)
        for changed in _flips(root2):
            assert _fails_consistency(size1, size2, proof, root1, changed)
    if size1 < size2 and size1:
        for changed in _flips(root1):
            assert _fails_consistency(size1, size2, proof, changed, root2)
        assert _fails_consistency(size1, size2, proof[:-1], root1, root2)
        assert _fails_consistency(size1, size2, [*proof, proof[0]], root1, root2)
        # Other sizes: fail unless the verifier would do exactly the same computation (same shape).
        shape = _consistency_shape(size1, size2)
        extra = data.draw(st.lists(st.integers(0, 600)))
        for other in {size1 + 1, size1 - 1, size1 * 2, size1 // 2, size1 ^ 2, *extra} - {size1}:
            same = 0 < other < size2 and _consistency_shape(other, size2) == shape
            assert _fails_consistency(other, size2, proof, root1, root2) is not same, ("size1", other)
        for other in {size2 + 1, size2 - 1, size2 * 2, size2 // 2, size2 ^ 2, *extra} - {size2}:
            same = 0 < size1 < other and _consistency_shape(size1, other) == shape
            assert _fails_consistency(size1, other, proof, root1, root2) is not same, ("size2", other)
    elif size1 == size2:
        for changed in _flips(root1):
            assert _fails_consistency(size1, size2, proof, changed, root2)
    else:  # size1 == 0: the empty tree is a prefix of any tree, but its root is fixed
        for changed in _flips(root1):
            assert _fails_consistency(size1, size2, proof, changed, root2)


@PROPERTIES
@given(trees(), st.data())
def test_remembered_folds_give_the_same_proofs(leaves, data):
    """Proofs served with a ``folds`` memory shared across many indexes and sizes (as storage.folds() is) equal those
    computed afresh; the memory only saves lookups."""
    log = Log(leaves)
    folds: dict = {}
    for _ in range(8):
        size = data.draw(st.integers(1, len(leaves)), label="size")
        index = data.draw(st.integers(0, size - 1), label="index")
        assert inclusion_proof(index, size, log.lookup, folds) == inclusion_proof(index, size, log.lookup)
        first = data.draw(st.integers(0, size), label="first")
        assert consistency_proof(first, size, log.lookup, folds) == consistency_proof(first, size, log.lookup)
    assert all(len(nodes) > 1 for nodes in folds)
