"""medchain.merkle reproduces OpenZeppelin's StandardMerkleTree (checked against a naive reference here and
against @openzeppelin/merkle-tree itself in tests/interop)."""

from __future__ import annotations

import os
from array import array

import pytest
from eth_abi import encode
from eth_utils import keccak

from medchain.merkle import (
    RECORD_LEAF_ENCODING,
    MerkleError,
    StandardMerkleTree,
    hash_leaves,
    leaf_hash,
    node_hash,
    process_proof,
    proof_from_reader,
    verify_proof,
)


def _values(n: int, seed: int = 0) -> list[tuple[bytes, bytes, int]]:
    return [(keccak(b"r%d-%d" % (seed, i)), keccak(b"c%d-%d" % (seed, i)), i % 11) for i in range(n)]


def _reference(values: list, types: list[str], sort: bool = True) -> tuple[list[bytes], list[int]]:
    """OZ makeMerkleTree written the plain way: returns (flat tree, treeIndex per value)."""
    hashed = [(keccak(keccak(encode(types, list(v)))), i) for i, v in enumerate(values)]
    if sort:
        hashed.sort(key=lambda p: p[0])
    n = len(hashed)
    tree: list[bytes] = [b""] * (2 * n - 1)
    for pos, (h, _) in enumerate(hashed):
        tree[len(tree) - 1 - pos] = h
    for i in range(n - 2, -1, -1):
        a, b = tree[2 * i + 1], tree[2 * i + 2]
        tree[i] = keccak(min(a, b) + max(a, b))
    index = [0] * n
    for pos, (_, value_index) in enumerate(hashed):
        index[value_index] = len(tree) - 1 - pos
    return tree, index


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 33, 100])
def test_tree_matches_reference(n: int) -> None:
    values = _values(n, n)
    tree = StandardMerkleTree.of(values)
    ref_tree, ref_index = _reference(values, list(RECORD_LEAF_ENCODING))
    assert tree.nodes == b"".join(ref_tree)
    assert tree.root == ref_tree[0]
    assert [tree.tree_index(i) for i in range(n)] == ref_index


def test_unsorted_tree_matches_reference() -> None:
    values = _values(11)
    tree = StandardMerkleTree.of(values, sort_leaves=False)
    ref_tree, ref_index = _reference(values, list(RECORD_LEAF_ENCODING), sort=False)
    assert tree.nodes == b"".join(ref_tree)
    assert tree.get_proof(values[4]) == tree.get_proof(4)
    assert [tree.tree_index(i) for i in range(11)] == ref_index


def test_leaf_is_double_keccak_of_abi_encoding() -> None:
    value = (b"\x01" * 32, b"\x02" * 32, 3)
    assert leaf_hash(RECORD_LEAF_ENCODING, value) == keccak(
        keccak(encode(["bytes32", "bytes32", "uint8"], value))
    )


def test_every_proof_verifies_and_walks_to_the_root() -> None:
    values = _values(37)
    tree = StandardMerkleTree.of(values)
    for i, value in enumerate(values):
        proof = tree.get_proof(i)
        assert tree.verify(i, proof)
        assert verify_proof(tree.root, RECORD_LEAF_ENCODING, value, proof)
        assert process_proof(tree.leaf(i), proof) == tree.root
        assert tree.get_proof(value) == proof


def test_wrong_proof_fails() -> None:
    values = _values(10)
    tree = StandardMerkleTree.of(values)
    assert not verify_proof(tree.root, RECORD_LEAF_ENCODING, values[1], tree.get_proof(2))
    bad = tree.get_proof(1)
    bad[0] = bytes(32)
    assert not tree.verify(1, bad)


def test_node_hash_is_commutative() -> None:
    a, b = keccak(b"a"), keccak(b"b")
    assert node_hash(a, b) == node_hash(b, a) == keccak(min(a, b) + max(a, b))


def test_lookup_of_missing_value_raises() -> None:
    tree = StandardMerkleTree.of(_values(5))
    with pytest.raises(MerkleError, match="not in tree"):
        tree.get_proof((b"\x09" * 32, b"\x09" * 32, 1))
    with pytest.raises(MerkleError, match="out of bounds"):
        tree.get_proof(5)


def test_empty_tree_is_refused() -> None:
    with pytest.raises(MerkleError, match="non-zero"):
        StandardMerkleTree.of([])


def test_duplicates_lookup_the_last_like_oz() -> None:
    values = _values(4) + [_values(4)[2]]
    tree = StandardMerkleTree.of(values)
    assert tree.index_of(values[2]) == 4
    assert tree.verify(2, tree.get_proof(2)) and tree.verify(4, tree.get_proof(4))


def test_hex_string_values_are_normalised() -> None:
    values = _values(6)
    as_json = [["0x" + a.hex(), "0x" + b.hex(), str(c)] for a, b, c in values]
    assert StandardMerkleTree.of(as_json).root == StandardMerkleTree.of(values).root


def test_dump_and_load_round_trip() -> None:
    values = _values(9)
    tree = StandardMerkleTree.of(values)
    dump = tree.dump()
    assert dump["format"] == "standard-v1" and dump["leafEncoding"] == list(RECORD_LEAF_ENCODING)
    loaded = StandardMerkleTree.load(dump)
    assert loaded.root == tree.root
    assert loaded.get_proof(values[3]) == tree.get_proof(3)


def test_load_rejects_a_tampered_tree() -> None:
    dump = StandardMerkleTree.of(_values(9)).dump()
    dump["tree"][1] = "0x" + "00" * 32
    with pytest.raises(MerkleError):
        StandardMerkleTree.load(dump)


def test_from_nodes_and_blob_reader_give_the_same_proofs() -> None:
    values = _values(21)
    tree = StandardMerkleTree.of(values, keep_values=False)
    order = array("I")
    order.frombytes(tree.order.tobytes())
    again = StandardMerkleTree.from_nodes(RECORD_LEAF_ENCODING, tree.nodes, order)
    blob = tree.nodes
    for i in range(21):
        reader = proof_from_reader(lambda k: blob[k * 32 : k * 32 + 32], tree.tree_index(i))
        assert again.get_proof(i) == tree.get_proof(i) == reader
    assert again.index_of(values[7]) == 7


def test_parallel_hashing_equals_serial() -> None:
    values = [(os.urandom(32), os.urandom(32), i % 11) for i in range(5000)]
    assert hash_leaves(values, RECORD_LEAF_ENCODING, workers=2) == hash_leaves(
        values, RECORD_LEAF_ENCODING, workers=1
    )


def test_parallel_worker_errors_surface() -> None:
    values = [(os.urandom(32), os.urandom(32), 1) for _ in range(10)] + [
        (os.urandom(32), os.urandom(32), 300)
    ] * 10
    with pytest.raises(MerkleError, match="300"):
        hash_leaves(values, RECORD_LEAF_ENCODING, workers=2)


def test_dynamic_leaf_encoding() -> None:
    """The serial-number encoding of DrugTrace (bytes32, string) takes the per-value path."""
    values = [(keccak(b"batch"), f"SN{i:06d}") for i in range(13)]
    tree = StandardMerkleTree.of(values, ["bytes32", "string"])
    ref_tree, _ = _reference(values, ["bytes32", "string"])
    assert tree.root == ref_tree[0]
    assert verify_proof(tree.root, ["bytes32", "string"], values[5], tree.get_proof(values[5]))
