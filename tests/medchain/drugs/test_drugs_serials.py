"""medchain.serials: DESIGN §6.7 batch ids and serial trees, checked against @openzeppelin/merkle-tree."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from eth_utils import keccak

from medchain.artifacts import project_root
from medchain.errors import InputError
from medchain.serials import (
    SERIAL_LEAF_ENCODING,
    SerialTree,
    batch_id,
    gtin14,
    gtin_number,
    guessable_serials,
    multi_proof,
    serial_inner_hash,
    serial_leaf,
    serial_set,
    verify_serial,
    whole_source,
)

GTIN = "09506000134352"
SERIALS = [f"SN{i:05d}" for i in range(37)]  # not a power of two: leaves at two depths

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not (project_root() / "node_modules/@openzeppelin/merkle-tree").is_dir(),
    reason="node and @openzeppelin/merkle-tree are needed",
)


def node(script: str, stdin: str = "") -> str:
    """Run a node script in the project (so its node_modules resolve) and return stdout."""
    done = subprocess.run(
        ["node", "-e", script],
        cwd=project_root(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


# ---- identifiers ----


def test_gtin_number_accepts_gtin14_and_shorter_gtins():
    assert gtin_number(GTIN) == 9506000134352
    assert gtin_number("4006381333931") == 4006381333931  # GTIN-13, zero-padded to GTIN-14
    assert gtin14(9506000134352) == GTIN


@pytest.mark.parametrize("bad", ["09506000134353", "0950600013435A", "123456789012345", "", "12345", 0])
def test_gtin_number_rejects_bad_gtins(bad):
    with pytest.raises(InputError):
        gtin_number(bad)


@needs_node
def test_batch_id_is_keccak_of_abi_encoded_uint64_and_string():
    expected = node(
        "const {encode}=require('@metamask/abi-utils');"
        "const {keccak256}=require('ethereum-cryptography/keccak');"
        "console.log(Buffer.from(keccak256(encode(['uint64','string'],[9506000134352n,'LOT/42 é'])))"
        ".toString('hex'))"
    )
    assert batch_id(GTIN, "LOT/42 é").hex() == expected


# ---- trees ----


def test_tree_proves_every_serial_and_nothing_else():
    tree = SerialTree.build(GTIN, "L1", SERIALS)
    for serial in SERIALS:
        assert verify_serial(tree.root, tree.batch_id, serial, tree.proof(serial))
    assert not verify_serial(tree.root, tree.batch_id, "SN99999", tree.proof("SN00001"))
    other = batch_id(GTIN, "L2")
    assert not verify_serial(tree.root, other, "SN00001", tree.proof("SN00001"))


def test_proofs_lists_every_serial_in_input_order():
    tree = SerialTree.build(GTIN, "L1", SERIALS)
    assert [s for s, _ in tree.proofs()] == SERIALS
    assert all(p == tree.proof(s) for s, p in tree.proofs())


def test_leaf_is_double_keccak_of_batch_id_and_serial():
    tree = SerialTree.build(GTIN, "L1", SERIALS)
    index = SERIALS.index("SN00005")
    assert tree.tree.leaf(index) == serial_leaf(tree.batch_id, "SN00005")


@needs_node
def test_root_and_proofs_equal_openzeppelin_merkle_tree():
    tree = SerialTree.build(GTIN, "L1", SERIALS)
    values = [["0x" + tree.batch_id.hex(), s] for s in SERIALS]
    out = json.loads(
        node(
            "const {StandardMerkleTree}=require('@openzeppelin/merkle-tree');"
            "const v=JSON.parse(require('fs').readFileSync(0,'utf8'));"
            "const t=StandardMerkleTree.of(v,['bytes32','string']);"
            "console.log(JSON.stringify({root:t.root,proofs:v.map((x,i)=>t.getProof(i))}))",
            json.dumps(values),
        )
    )
    assert out["root"] == "0x" + tree.root.hex()
    assert out["proofs"] == [["0x" + p.hex() for p in tree.proof(s)] for s in SERIALS]


@needs_node
def test_dump_loads_in_openzeppelin_and_back(tmp_path: Path):
    tree = SerialTree.build(GTIN, "L1", SERIALS)
    path = tmp_path / "tree.json"
    path.write_text(json.dumps(tree.dump()))
    js = json.loads(
        node(
            "const {StandardMerkleTree}=require('@openzeppelin/merkle-tree');"
            f"const d=JSON.parse(require('fs').readFileSync({json.dumps(str(path))},'utf8'));"
            "const t=StandardMerkleTree.load(d);"
            "t.validate();console.log(JSON.stringify({root:t.root,dump:t.dump()}))"
        )
    )
    assert js["root"] == "0x" + tree.root.hex()
    loaded = SerialTree.load(js["dump"])
    assert (loaded.root, loaded.batch_id, loaded.serials) == (tree.root, tree.batch_id, tuple(SERIALS))


def test_load_rejects_other_encodings_and_mixed_batches():
    tree = SerialTree.build(GTIN, "L1", SERIALS)
    dump = tree.dump()
    from medchain.merkle import StandardMerkleTree

    numbered = StandardMerkleTree.of([(1, "S1"), (2, "S2")], ["uint256", "string"])
    with pytest.raises(InputError, match="leaf encoding"):
        SerialTree.load(numbered.dump())
    tampered = json.loads(json.dumps(dump))
    tampered["values"][0]["value"][1] = "FORGED"
    with pytest.raises(InputError, match="not a valid serial tree"):
        SerialTree.load(tampered)

    mixed = StandardMerkleTree.of(
        [(batch_id(GTIN, "A"), "S1"), (batch_id(GTIN, "B"), "S2")], SERIAL_LEAF_ENCODING
    )
    with pytest.raises(InputError, match="one batch"):
        SerialTree.load(mixed.dump())


# ---- validation ----


@pytest.mark.parametrize(
    ("serials", "message"),
    [
        ([], "at least one serial"),
        (["SN1", "SN1"], "appears twice"),
        (["S" * 21], "too long"),
        (["bad serial"], "character set"),
        ([""], "empty"),
    ],
)
def test_build_rejects_bad_serial_lists(serials, message):
    with pytest.raises(InputError, match=message):
        SerialTree.build(GTIN, "L1", serials)


@pytest.mark.parametrize("lot", ["", "L" * 21, "LOT 1"])
def test_build_rejects_bad_lots(lot):
    with pytest.raises(InputError):
        SerialTree.build(GTIN, lot, ["SN1"])


def test_proof_of_unknown_serial_is_an_input_error():
    with pytest.raises(InputError, match="not in this batch"):
        SerialTree.build(GTIN, "L1", SERIALS).proof("NOPE")


def test_ten_thousand_serials_build_in_well_under_a_second():
    serials = [f"S{i:011d}" for i in range(10_000)]
    started = time.perf_counter()
    tree = SerialTree.build(GTIN, "BIG", serials)
    elapsed = time.perf_counter() - started
    assert len(tree) == 10_000
    assert len(tree.proof("S00000004242")) in (13, 14)
    assert elapsed < 2.0, f"10k serial tree took {elapsed:.2f} s"


# ---- shipments (issue 12): serial sets and multiproofs ----

PICKED = ["SN00031", "SN00002", "SN00017", "SN00005"]


@needs_node
def test_multiproof_equals_openzeppelin_get_multi_proof():
    tree = SerialTree.build(GTIN, "L1", SERIALS)
    chosen = serial_set(tree, PICKED)
    values = [["0x" + tree.batch_id.hex(), s] for s in SERIALS]
    out = json.loads(
        node(
            "const {StandardMerkleTree}=require('@openzeppelin/merkle-tree');"
            "const [v,pick]=JSON.parse(require('fs').readFileSync(0,'utf8'));"
            "const t=StandardMerkleTree.of(v,['bytes32','string']);"
            "const m=t.getMultiProof(pick);"
            "console.log(JSON.stringify({leaves:m.leaves.map(l=>t.leafHash(l)),proof:m.proof,flags:m.proofFlags,"
            "sub:StandardMerkleTree.of(pick.map(i=>v[i]),['bytes32','string']).root}))",
            json.dumps([values, [SERIALS.index(s) for s in PICKED]]),
        )
    )
    assert out["leaves"] == ["0x" + keccak(h).hex() for h in chosen.serial_hashes]
    assert out["proof"] == ["0x" + p.hex() for p in chosen.proof]
    assert out["flags"] == list(chosen.proof_flags)
    assert (
        out["sub"] == "0x" + chosen.tree.root.hex()
    )  # the root the contract computes from the shipped serials


def test_serial_set_lists_inner_hashes_by_ascending_leaf():
    tree = SerialTree.build(GTIN, "L1", SERIALS)
    chosen = serial_set(tree, PICKED, 7)
    leaves = [keccak(h) for h in chosen.serial_hashes]
    assert leaves == sorted(leaves) and len(leaves) == len(PICKED)
    assert {serial_inner_hash(tree.batch_id, s) for s in PICKED} == set(chosen.serial_hashes)
    assert chosen.as_arg()[0] == 7 and set(chosen.tree.serials) == set(PICKED)


@pytest.mark.parametrize(
    ("serials", "message"),
    [(["SN99999"], "not in shipment 3"), (["SN00001", "SN00001"], "listed twice"), ([], "at least one")],
)
def test_serial_set_refuses_bad_lists(serials, message):
    with pytest.raises(InputError, match=message):
        serial_set(SerialTree.build(GTIN, "L1", SERIALS), serials, 3)


def test_whole_source_is_the_empty_multiproof_of_the_root():
    tree = SerialTree.build(GTIN, "L1", SERIALS)
    whole = whole_source(tree, 5)
    assert whole.as_arg() == (5, [], [tree.root], [])
    assert multi_proof(tree.tree, []) == ([], [tree.root], [])  # as OZ's getMultiProof([])


def test_guessable_serials_are_named_and_random_ones_pass() -> None:
    """A published tree's leaf hashes give away serials that can be guessed (SECURITY.md)."""
    counted = [f"A{i:06d}" for i in range(1, 501)]
    assert guessable_serials(counted) == (
        "the serials count up after 'A000' (A000001, …): anyone can list them offline"
    )
    sparse = [f"{n:09d}" for n in (3, 10**8 + 7, 5 * 10**8 + 1)]  # numbers, but far apart: by the bits rule
    # 9 digits drawn from 5 symbols seen (0, 1, 3, 5, 7): 9 * log2(5) = 20.9 bits
    assert guessable_serials(sparse) == "the serials carry about 21 bits of randomness (under 64): guessable"
    rng = random.Random(17)
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    strong = ["".join(rng.choice(alphabet) for _ in range(14)) for _ in range(200)]
    assert guessable_serials(strong) is None  # 14 of 32 symbols: 70 bits
    assert guessable_serials([s[:12] for s in strong]) is not None  # 12 of them: 60 bits
    one = guessable_serials(["SN0001"])  # 6 characters of 4 symbols seen
    assert one == "the serials carry about 12 bits of randomness (under 64): guessable"
    assert guessable_serials([]) is None
