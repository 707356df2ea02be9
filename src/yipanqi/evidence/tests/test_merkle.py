"""The RFC 9162 Merkle maths: the public test vectors, the reference roots, the RFC's worked example, bad input."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

import pytest

from yipanqi.evidence import merkle
from yipanqi.evidence.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MissingNodesError,
    ProofError,
    consistency_plan,
    consistency_proof,
    fold,
    frontier_nodes,
    inclusion_plan,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_root,
    root,
    root_from_consistency,
    root_from_inclusion,
    subtrees,
    verify_consistency,
    verify_inclusion,
)

REPO = Path(__file__).resolve().parents[4]
VECTORS = REPO.parent / "shared" / "vectors" / "merkle"
INCLUSION_FILES = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY_FILES = sorted((VECTORS / "consistency").rglob("*.json"))
REFERENCE = json.loads((VECTORS / "reference-tree.json").read_text()) if VECTORS.is_dir() else None
REFERENCE_LEAVES = [bytes.fromhex(x) for x in REFERENCE["leaf_inputs_hex"]] if REFERENCE else []


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def _b64(value):
    """A hash field of a vector: base64 text, or null/missing (passed on as None: the verifier must reject it)."""
    if value is None:
        return None
    return base64.b64decode(value, validate=True)


def _proof(value):
    return [] if value is None else [_b64(h) for h in value]  # null proof = Go's nil slice = no hashes


def _all_nodes(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    nodes: dict[tuple[int, int], bytes] = {}
    for level, index, h in CompactRange().extend(leaf_hash(d) for d in leaves):
        nodes[(level, index)] = h
    return nodes


def _lookup(nodes):
    calls = []

    def lookup(needed):
        calls.append(set(needed))
        return {node: nodes[node] for node in needed if node in nodes}

    lookup.calls = calls
    return lookup


# -- the public vectors ------------------------------------------------------------------------------------------------


def test_the_vectors_are_all_there():
    assert VECTORS.is_dir(), f"test vectors not found at {VECTORS}"
    assert (len(INCLUSION_FILES), len(CONSISTENCY_FILES)) == (98, 98)  # + reference-tree.json = the 197 files
    assert sum(json.loads(f.read_text())["wantErr"] is False for f in INCLUSION_FILES + CONSISTENCY_FILES) == 12


@pytest.mark.parametrize("path", INCLUSION_FILES, ids=_id)
def test_inclusion_vector(path):
    case = json.loads(path.read_text())
    args = (
        _b64(case.get("leafHash")),
        case.get("leafIdx"),
        case.get("treeSize"),
        _proof(case.get("proof")),
        _b64(case.get("root")),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY_FILES, ids=_id)
def test_consistency_vector(path):
    case = json.loads(path.read_text())
    args = (
        case.get("size1"),
        case.get("size2"),
        _proof(case.get("proof")),
        _b64(case.get("root1")),
        _b64(case.get("root2")),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def _reference_happy_paths(files):
    out = []
    for path in files:
        case = json.loads(path.read_text())
        if not case["wantErr"] and (case.get("root") or case.get("root2")) == base64.b64encode(
            bytes.fromhex(REFERENCE["root_by_tree_size_hex"][str(case.get("treeSize") or case.get("size2"))])
        ).decode("ascii"):
            out.append(path)
    return out


@pytest.mark.parametrize("path", _reference_happy_paths(INCLUSION_FILES) if REFERENCE else [], ids=_id)
def test_our_inclusion_proofs_are_the_vectors(path):
    """Happy paths over the reference leaves: the proof we serve from stored nodes is the vector's, hash for hash."""
    case = json.loads(path.read_text())
    nodes = _all_nodes(REFERENCE_LEAVES)
    assert inclusion_proof(case["leafIdx"], case["treeSize"], _lookup(nodes)) == _proof(case["proof"])


@pytest.mark.parametrize("path", _reference_happy_paths(CONSISTENCY_FILES) if REFERENCE else [], ids=_id)
def test_our_consistency_proofs_are_the_vectors(path):
    case = json.loads(path.read_text())
    nodes = _all_nodes(REFERENCE_LEAVES)
    assert consistency_proof(case["size1"], case["size2"], _lookup(nodes)) == _proof(case["proof"])
    assert range_root(0, case["size1"], _lookup(nodes)) == _b64(case["root1"])


def test_the_reference_happy_paths_cover_every_size_of_vector():
    # inclusion/0..4 and consistency/0..4 (single-entry/ and additional/ use other leaves)
    assert len(_reference_happy_paths(INCLUSION_FILES)) == 5
    assert len(_reference_happy_paths(CONSISTENCY_FILES)) == 5


# -- the reference roots -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(9))
def test_reference_roots(size):
    want = bytes.fromhex(REFERENCE["root_by_tree_size_hex"][str(size)])
    leaves = [leaf_hash(d) for d in REFERENCE_LEAVES[:size]]
    assert root(leaves) == want
    compact = CompactRange()
    compact.extend(leaves)
    assert compact.root() == want
    assert range_root(0, size, _lookup(_all_nodes(REFERENCE_LEAVES))) == want


def test_hash_definitions():
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == merkle._sha256(b"\x01" + a + b).digest()
    assert node_hash(a, b) != node_hash(b, a)
    assert root([a]) == a
    assert root([a, b]) == node_hash(a, b)
    assert root([]) == EMPTY_ROOT
    assert fold([]) == EMPTY_ROOT


# -- the worked example of RFC 9162 §2.1.5 (seven leaves d0..d6) -------------------------------------------------------

A, B, C, D, E, F, D6 = ((0, i) for i in range(7))
G, H, I_ = (1, 0), (1, 1), (1, 2)  # (I_: node i of the RFC figure)
K = (2, 0)
J = [D6]  # j is the lone leaf d6
L = [I_, D6]  # l = hash(i, j) is not a perfect subtree: folded from i and d6


def test_rfc_example_inclusion_plans():
    assert inclusion_plan(0, 7) == [[B], [H], L]
    assert inclusion_plan(3, 7) == [[C], [G], L]
    assert inclusion_plan(4, 7) == [[F], J, [K]]
    assert inclusion_plan(6, 7) == [[I_], [K]]


def test_rfc_example_consistency_plans():
    assert consistency_plan(3, 7) == [[C], [D], [G], L]
    assert consistency_plan(4, 7) == [L]
    assert consistency_plan(6, 7) == [[I_], J, [K]]
    assert consistency_plan(7, 7) == []
    assert consistency_plan(0, 7) == []


def test_subtrees():
    assert subtrees(0, 0) == []
    assert subtrees(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert subtrees(4, 7) == [(1, 2), (0, 6)]
    assert subtrees(8, 16) == [(3, 1)]
    assert subtrees(1, 7) == [(0, 1), (1, 1), (1, 2), (0, 6)]  # unaligned: still covered, growing then shrinking
    assert frontier_nodes(13) == [(3, 0), (2, 2), (0, 12)]
    assert frontier_nodes(0) == []
    with pytest.raises(ValueError):
        subtrees(5, 4)


def test_a_proof_is_served_with_one_lookup_of_every_needed_node():
    nodes = _all_nodes([bytes([i]) for i in range(7)])
    lookup = _lookup(nodes)
    proof = inclusion_proof(0, 7, lookup)
    assert lookup.calls == [{B, H, I_, D6}]
    assert proof == [nodes[B], nodes[H], node_hash(nodes[I_], nodes[D6])]
    lookup = _lookup(nodes)
    consistency_proof(3, 7, lookup)
    assert lookup.calls == [{C, D, G, I_, D6}]
    lookup = _lookup(nodes)
    assert consistency_proof(5, 5, lookup) == [] and lookup.calls == []


def test_a_missing_or_malformed_node_is_a_store_fault():
    nodes = _all_nodes([bytes([i]) for i in range(7)])
    del nodes[H]
    with pytest.raises(MissingNodesError, match=r"\(1, 1\)"):
        inclusion_proof(0, 7, _lookup(nodes))
    nodes[H] = b"short"
    with pytest.raises(MissingNodesError):
        inclusion_proof(0, 7, _lookup(nodes))
    assert not issubclass(MissingNodesError, ValueError)  # not bad input: the web layer must not answer 400


def test_range_root():
    leaves = [bytes([i]) for i in range(11)]
    nodes = _all_nodes(leaves)
    hashes = [leaf_hash(d) for d in leaves]
    assert range_root(0, 0, _lookup(nodes)) == EMPTY_ROOT
    assert range_root(8, 11, _lookup(nodes)) == root(hashes[8:11])
    assert range_root(4, 7, _lookup(nodes)) == root(hashes[4:7])
    with pytest.raises(ProofError, match="not aligned"):
        range_root(1, 7, _lookup(nodes))
    with pytest.raises(ProofError, match="greater"):
        range_root(7, 1, _lookup(nodes))


# -- bad input: always ProofError, with a message saying what is wrong -------------------------------------------------

LEAF = leaf_hash(b"x")
GOOD_ROOT = root([LEAF, leaf_hash(b"y")])
GOOD_PROOF = [leaf_hash(b"y")]


def test_the_good_case_used_below_verifies():
    verify_inclusion(LEAF, 0, 2, GOOD_PROOF, GOOD_ROOT)
    assert root_from_inclusion(0, 2, LEAF, GOOD_PROOF) == GOOD_ROOT


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((LEAF, 2, 2, GOOD_PROOF, GOOD_ROOT), "index 2 is beyond the tree of size 2"),
        ((LEAF, 0, 0, [], EMPTY_ROOT), "index 0 is beyond the tree of size 0"),
        ((LEAF, -1, 2, GOOD_PROOF, GOOD_ROOT), "index must not be negative"),
        ((LEAF, 0, -2, GOOD_PROOF, GOOD_ROOT), "tree size must not be negative"),
        ((LEAF, 0, 1 << 64, GOOD_PROOF, GOOD_ROOT), "beyond 2\\^64 - 1"),
        ((LEAF, "0", 2, GOOD_PROOF, GOOD_ROOT), "index must be an integer"),
        ((LEAF, True, 2, GOOD_PROOF, GOOD_ROOT), "index must be an integer"),
        ((LEAF, 0, None, GOOD_PROOF, GOOD_ROOT), "tree size must be an integer, got None"),
        ((LEAF, 0, 2.0, GOOD_PROOF, GOOD_ROOT), "tree size must be an integer"),
        ((LEAF[:31], 0, 2, GOOD_PROOF, GOOD_ROOT), "leaf hash must be a 32-byte hash, got 31 bytes"),
        ((None, 0, 2, GOOD_PROOF, GOOD_ROOT), "leaf hash must be a 32-byte hash, got None"),
        ((LEAF.hex(), 0, 2, GOOD_PROOF, GOOD_ROOT), "leaf hash must be a 32-byte hash, got a value of type str"),
        ((LEAF, 0, 2, GOOD_PROOF, GOOD_ROOT + b"\x00"), "root must be a 32-byte hash, got 33 bytes"),
        ((LEAF, 0, 2, GOOD_PROOF, None), "root must be a 32-byte hash, got None"),
        ((LEAF, 0, 2, [], GOOD_ROOT), "the proof has 0 hashes, leaf 0 in a tree of size 2 needs 1"),
        ((LEAF, 0, 2, GOOD_PROOF * 2, GOOD_ROOT), "the proof has 2 hashes"),
        ((LEAF, 0, 2, [GOOD_PROOF[0][:-1]], GOOD_ROOT), "proof hash 0 must be 32 bytes, got 31 bytes"),
        ((LEAF, 0, 2, [None], GOOD_ROOT), "proof hash 0 must be 32 bytes, got None"),
        ((LEAF, 0, 2, None, GOOD_ROOT), "the proof must be a list of hashes, got None"),
        ((LEAF, 0, 2, GOOD_PROOF[0], GOOD_ROOT), "the proof must be a list of hashes, got 32 bytes"),
        ((LEAF, 0, 2, [GOOD_ROOT], GOOD_ROOT), "does not lead to the root of the tree of size 2"),
        ((LEAF, 1, 2, GOOD_PROOF, GOOD_ROOT), "does not lead to the root"),
    ],
)
def test_bad_inclusion_input(args, message):
    with pytest.raises(ProofError, match=message):
        verify_inclusion(*args)


def _tree(n):
    leaves = [leaf_hash(bytes([i])) for i in range(n)]
    return leaves, root(leaves)


def test_consistency_edge_cases():
    leaves, root7 = _tree(7)
    root3 = root(leaves[:3])
    nodes = _all_nodes([bytes([i]) for i in range(7)])
    proof = consistency_proof(3, 7, _lookup(nodes))
    verify_consistency(3, 7, proof, root3, root7)
    assert root_from_consistency(3, 7, proof, root3) == root7
    verify_consistency(7, 7, [], root7, root7)
    assert root_from_consistency(7, 7, [], root7) == root7
    verify_consistency(0, 7, [], EMPTY_ROOT, root7)  # the empty tree is a prefix of every tree
    verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(ProofError, match="does not determine"):
        root_from_consistency(0, 7, [], EMPTY_ROOT)


@pytest.mark.parametrize(
    ("size1", "size2", "proof", "root1", "root2", "message"),
    [
        (7, 3, [], "r7", "r3", r"size1 \(7\) is greater than size2 \(3\)"),
        (-1, 3, [], "r3", "r3", "size1 must not be negative"),
        (3, None, [], "r3", "r7", "size2 must be an integer, got None"),
        (3, 7, "p", None, "r7", "root1 must be a 32-byte hash, got None"),
        (3, 7, "p", "r3", b"\x00" * 31, "root2 must be a 32-byte hash, got 31 bytes"),
        (3, 7, [], "r3", "r7", "the proof between sizes 3 and 7 is empty"),
        (3, 7, None, "r3", "r7", "the proof must be a list of hashes, got None"),
        (3, 7, "p+", "r3", "r7", "the proof has 5 hashes, consistency between sizes 3 and 7 needs 4"),
        (3, 7, "p-", "r3", "r7", "the proof has 3 hashes"),
        (3, 7, "p", "r7", "r7", "does not lead to root1"),
        (3, 7, "p", "r3", "r3", "does not lead to root2"),
        (7, 7, ["r7"], "r7", "r7", "must be empty, it has 1 hashes"),
        (7, 7, [], "r7", "r3", "same size .7. but different roots"),
        (0, 7, [], "r3", "r7", "root1 is not the root of the empty tree"),
        (0, 7, ["r7"], "empty", "r7", "must be empty"),
        (0, 0, [], "r3", "r3", "root1 is not the root of the empty tree"),
    ],
)
def test_bad_consistency_input(size1, size2, proof, root1, root2, message):
    leaves, root7 = _tree(7)
    named = {"r7": root7, "r3": root(leaves[:3]), "empty": EMPTY_ROOT}
    good = consistency_proof(3, 7, _lookup(_all_nodes([bytes([i]) for i in range(7)])))
    if isinstance(proof, str):
        proof = {"p": good, "p+": [*good, good[0]], "p-": good[:-1]}[proof]
    elif isinstance(proof, list):
        proof = [named.get(h, h) for h in proof]
    with pytest.raises(ProofError, match=message):
        verify_consistency(size1, size2, proof, named.get(root1, root1), named.get(root2, root2))


def test_plans_reject_bad_sizes():
    with pytest.raises(ProofError, match="beyond the tree"):
        inclusion_plan(7, 7)
    with pytest.raises(ProofError, match="greater than size2"):
        consistency_plan(8, 7)
    with pytest.raises(ProofError, match="must be an integer"):
        inclusion_plan(None, 7)


def test_root_rejects_wrong_length_leaves():
    with pytest.raises(ProofError, match="leaf hash 1 must be 32 bytes, got 20 bytes"):
        root([LEAF, b"\x00" * 20])


# -- CompactRange ------------------------------------------------------------------------------------------------------


def test_compact_range_reports_every_new_node_and_resumes_from_its_frontier():
    hashes = [leaf_hash(bytes([i])) for i in range(13)]
    full = CompactRange()
    added = full.append(hashes[0])
    assert added == [(0, 0, hashes[0])]
    added = full.append(hashes[1])
    assert added == [(0, 1, hashes[1]), (1, 0, node_hash(hashes[0], hashes[1]))]
    full.extend(hashes[2:7])
    assert [(level, index) for level, index, _ in full.append(hashes[7])] == [(0, 7), (1, 3), (2, 1), (3, 0)]
    assert full.size == 8 and full.root() == root(hashes[:8])
    frontier = full.frontier
    assert [(level, index) for level, index, _ in frontier] == frontier_nodes(8) == [(3, 0)]

    nodes = _all_nodes([bytes([i]) for i in range(13)])
    resumed = CompactRange(6, [nodes[node] for node in frontier_nodes(6)])
    later = resumed.extend(hashes[6:13])
    assert resumed.root() == root(hashes)
    assert {(level, index): h for level, index, h in later} == {
        node: h for node, h in nodes.items() if (node[1] + 1) << node[0] > 6
    }


def test_compact_range_bad_input():
    with pytest.raises(ValueError, match="a tree of size 6 has 2 frontier hashes, got 1"):
        CompactRange(6, [LEAF])
    with pytest.raises(ProofError, match="frontier hash 0 must be a 32-byte hash"):
        CompactRange(1, [b"x"])
    compact = CompactRange()
    with pytest.raises(ProofError, match="leaf hash must be 32 bytes"):
        compact.append(b"x" * 31)
    with pytest.raises(ProofError, match="leaf hash 2 must be 32 bytes, got None"):
        compact.extend([LEAF, LEAF, None])
    assert compact.size == 2 and compact.root() == node_hash(LEAF, LEAF)  # the good leaves before it stay appended


def test_vector_hashes_are_strict_base64():
    with pytest.raises(binascii.Error):
        _b64("not base64!")
