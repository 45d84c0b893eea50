"""Interop (DESIGN 6.5): @openzeppelin/merkle-tree 1.0.8 (run by node) and medchain.merkle build the same
tree from the same values (root, flat tree, proofs) in both directions; an OZ proof verifies on chain."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import brownie
import pytest

from medchain.hashing import patient_commitment
from medchain.merkle import RECORD_LEAF_ENCODING, StandardMerkleTree

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oz_tree.js")
ENCODING = list(RECORD_LEAF_ENCODING)

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules/@openzeppelin/merkle-tree").is_dir(),
    reason="node and node_modules/@openzeppelin/merkle-tree are needed (npm ci)",
)


def oz(request: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def _values(n: int) -> list[tuple[bytes, bytes, int]]:
    """`n` record values, each with its own salt (DESIGN §6.3 v2)."""
    return [
        (os.urandom(32), patient_commitment("0x" + os.urandom(20).hex(), os.urandom(32)), i % 11)
        for i in range(n)
    ]


def _json(values: list[tuple[bytes, bytes, int]]) -> list[list[str]]:
    return [["0x" + a.hex(), "0x" + b.hex(), str(c)] for a, b, c in values]


def _hex(proof: list[bytes]) -> list[str]:
    return ["0x" + p.hex() for p in proof]


def _sample(n: int) -> list[int]:
    return sorted({0, 1 % n, n // 2, n - 1, *range(0, n, max(1, n // 7))})


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 100, 1000, 5000])
def test_oz_tree_equals_ours(n: int) -> None:
    values = _values(n)
    sample = _sample(n)
    theirs = oz({"op": "of", "values": _json(values), "encoding": ENCODING, "proofs": sample,
                 "proofsByValue": sample[:3], "withDump": n <= 1000})  # fmt: skip
    ours = StandardMerkleTree.of(values)
    assert theirs["root"] == "0x" + ours.root.hex()
    for i in sample:
        assert theirs["proofs"][str(i)] == _hex(ours.get_proof(i))
    for i in sample[:3]:
        assert theirs["byValue"][str(i)] == _hex(ours.get_proof(values[i]))
    if n <= 1000:
        assert theirs["dump"] == ours.dump()


def test_oz_dump_loads_here() -> None:
    values = _values(77)
    dump = oz({"op": "of", "values": _json(values), "encoding": ENCODING, "withDump": True})["dump"]
    loaded = StandardMerkleTree.load(dump)  # validates every node
    assert "0x" + loaded.root.hex() == dump["tree"][0]
    assert loaded.get_proof(values[40]) == StandardMerkleTree.of(values).get_proof(40)


def test_our_dump_loads_in_oz() -> None:
    values = _values(77)
    ours = StandardMerkleTree.of(values)
    theirs = oz({"op": "load", "dump": ours.dump(), "proofs": [0, 40, 76]})  # OZ's load() validates the tree
    assert theirs["root"] == "0x" + ours.root.hex()
    assert theirs["proofs"]["40"] == _hex(ours.get_proof(40))


def test_oz_verifies_our_proofs() -> None:
    values = _values(50)
    ours = StandardMerkleTree.of(values)
    for i in (0, 17, 49):
        request = {"op": "verify", "root": "0x" + ours.root.hex(), "encoding": ENCODING,
                   "value": _json([values[i]])[0], "proof": _hex(ours.get_proof(i))}  # fmt: skip
        assert oz(request)["valid"] is True
    request["proof"] = _hex(ours.get_proof(3))
    assert oz(request)["valid"] is False


def test_oz_proof_verifies_on_chain(
    RecordRegistry: Any, ConsentRegistry: Any, consortium: Any, council: Any, hospital: Any, stranger: Any
) -> None:
    consent = ConsentRegistry.deploy(consortium, {"from": council})
    registry = RecordRegistry.deploy(consortium, consent, {"from": council})
    values = _values(300)
    theirs = oz({"op": "of", "values": _json(values), "encoding": ENCODING, "proofs": [123]})
    registry.anchorBatch(theirs["root"], len(values), "", {"from": hospital})
    proof = theirs["proofs"]["123"]
    assert registry.verifyBatchRecord(theirs["root"], *values[123], proof)
    assert not registry.verifyBatchRecord(theirs["root"], *values[124], proof)
    tx = registry.materialise(theirs["root"], *values[123], proof, {"from": stranger})
    assert tuple(registry.getRecord(tx.return_value))[0] == hospital


def test_oz_leaf_anchored_singly_is_the_batch_record(
    RecordRegistry: Any, ConsentRegistry: Any, consortium: Any, council: Any, hospital: Any, stranger: Any
) -> None:
    """anchor takes the leaf as OZ computes it (a one-value tree's root is its leaf): the single record and
    the batch record of the same values share one key, so first write wins across both paths."""
    consent = ConsentRegistry.deploy(consortium, {"from": council})
    registry = RecordRegistry.deploy(consortium, consent, {"from": council})
    values = _values(8)
    oz_leaf = oz({"op": "of", "values": _json(values[2:3]), "encoding": ENCODING})["root"]
    assert registry.recordLeaf(*values[2]) == oz_leaf
    tx = registry.anchor(values[2][0], oz_leaf, {"from": hospital})
    assert tx.events["RecordAnchored"]["leaf"] == oz_leaf
    theirs = oz({"op": "of", "values": _json(values), "encoding": ENCODING, "proofs": [2]})
    registry.anchorBatch(theirs["root"], len(values), "", {"from": hospital})
    assert registry.verifyBatchRecord(theirs["root"], *values[2], theirs["proofs"]["2"])
    with brownie.reverts(revert_pattern="RecordAlreadyAnchored: .*"):
        registry.materialise(theirs["root"], *values[2], theirs["proofs"]["2"], {"from": stranger})
