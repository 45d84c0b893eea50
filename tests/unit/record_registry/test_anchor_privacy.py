"""DESIGN §6.3 v2 at the contract: anchoring (anchor, anchorMany, amend) publishes the record hash and the
leaf and nothing else. The tests decode the transaction input and every log and check, word by word, that
neither the patient commitment, the salt, the patient address nor the data class is there."""

from __future__ import annotations

from typing import Any

from eth_abi import decode
from eth_utils import keccak
from record_helpers import IMAGING, LAB, SUMMARY, Rec, make_rec

ANCHORED_TOPIC = keccak(text="RecordAnchored(bytes32,bytes32)")
AMENDED_TOPIC = keccak(text="RecordAmended(bytes32,bytes32,address)")


def _input(tx: Any) -> bytes:
    return bytes.fromhex(tx.input[2:])


def _words(data: bytes) -> list[bytes]:
    assert len(data) % 32 == 0
    return [data[i : i + 32] for i in range(0, len(data), 32)]


def _log_words(tx: Any) -> list[bytes]:
    words: list[bytes] = []
    for log in tx.logs:
        words += [bytes(t) for t in log["topics"]]
        words += _words(bytes(log["data"]))
    return words


def _assert_nothing_of(rec: Rec, words: list[bytes], raw: bytes) -> None:
    """Neither the commitment, the salt nor the patient address is in `raw`; no word is the class."""
    patient = bytes.fromhex(rec.patient[2:])
    for secret in (rec.commitment, rec.salt, patient):
        assert secret not in raw
    assert rec.data_class.to_bytes(32, "big") not in words


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def test_anchor_calldata_is_exactly_hash_and_leaf(records: Any, hospital: Any, patient: Any) -> None:
    rec = make_rec("priv-1", patient, LAB)
    tx = records.anchor(*rec.anchor_args, {"from": hospital})
    data = _input(tx)
    assert data[:4] == _selector("anchor(bytes32,bytes32)")
    assert len(data) == 4 + 2 * 32  # room for nothing else
    assert decode(["bytes32", "bytes32"], data[4:]) == (rec.record_hash, rec.leaf)
    _assert_nothing_of(rec, _words(data[4:]), data)


def test_anchor_log_is_exactly_leaf_and_hash(records: Any, hospital: Any, patient: Any) -> None:
    rec = make_rec("priv-2", patient, IMAGING)
    tx = records.anchor(*rec.anchor_args, {"from": hospital})
    assert len(tx.logs) == 1
    log = tx.logs[0]
    assert [bytes(t) for t in log["topics"]] == [ANCHORED_TOPIC, rec.leaf, rec.record_hash]
    assert bytes(log["data"]) == b""
    raw = b"".join(_log_words(tx))
    _assert_nothing_of(rec, _log_words(tx), raw)


def test_anchors_of_one_class_and_patient_share_no_word(records: Any, hospital: Any, patient: Any) -> None:
    """Two records of the same patient and class: their anchoring inputs and logs have no word in common (no
    per-patient salt, no class in clear), so an observer cannot link them from the chain."""
    a, b = make_rec("same-1", patient, LAB), make_rec("same-2", patient, LAB)
    ta = records.anchor(*a.anchor_args, {"from": hospital})
    tb = records.anchor(*b.anchor_args, {"from": hospital})
    words_a = set(_words(_input(ta)[4:]) + _log_words(ta)[1:])
    words_b = set(_words(_input(tb)[4:]) + _log_words(tb)[1:])
    assert not words_a & words_b


def test_anchor_many_calldata_and_logs_hold_hashes_and_leaves_only(
    records: Any, hospital: Any, patient: Any
) -> None:
    recs = [make_rec(f"priv-m{i}", patient, c) for i, c in enumerate((LAB, IMAGING, SUMMARY))]
    tx = records.anchorMany([r.record_hash for r in recs], [r.leaf for r in recs], {"from": hospital})
    data = _input(tx)
    assert data[:4] == _selector("anchorMany(bytes32[],bytes32[])")
    hashes, leaves = decode(["bytes32[]", "bytes32[]"], data[4:])
    assert (list(hashes), list(leaves)) == ([r.record_hash for r in recs], [r.leaf for r in recs])
    # 2 offsets + 2 lengths + the 6 values, nothing else (the length words are the count, 3, not a class)
    assert len(data) == 4 + (2 + 2 + 2 * len(recs)) * 32
    values = list(hashes) + list(leaves)
    for log, rec in zip(tx.logs, recs, strict=True):
        assert [bytes(t) for t in log["topics"]] == [ANCHORED_TOPIC, rec.leaf, rec.record_hash]
        assert bytes(log["data"]) == b""
    for rec in recs:
        _assert_nothing_of(rec, values, data)
        _assert_nothing_of(rec, _log_words(tx), b"".join(_log_words(tx)))


def test_amend_calldata_and_logs_hold_no_commitment_or_class(
    records: Any, hospital: Any, patient: Any
) -> None:
    v1, v2 = make_rec("priv-v1", patient, LAB), make_rec("priv-v2", patient, IMAGING)
    records.anchor(*v1.anchor_args, {"from": hospital})
    tx = records.amend(v1.leaf, *v2.anchor_args, {"from": hospital})
    data = _input(tx)
    assert data[:4] == _selector("amend(bytes32,bytes32,bytes32)")
    assert len(data) == 4 + 3 * 32
    assert decode(["bytes32", "bytes32", "bytes32"], data[4:]) == (v1.leaf, v2.record_hash, v2.leaf)
    topics = [[bytes(t) for t in log["topics"]] for log in tx.logs]
    assert topics[0] == [ANCHORED_TOPIC, v2.leaf, v2.record_hash]
    assert topics[1][:3] == [AMENDED_TOPIC, v1.leaf, v2.leaf]
    for rec in (v1, v2):
        _assert_nothing_of(rec, _words(data[4:]), data)
        _assert_nothing_of(rec, _log_words(tx), b"".join(_log_words(tx)))


def test_stored_record_holds_no_class(records: Any, hospital: Any, patient: Any) -> None:
    """Records of every class store the same value apart from the time: the slot cannot give the class."""
    stored = set()
    for data_class in range(11):
        rec = make_rec(f"priv-c{data_class}", patient, data_class)
        records.anchor(*rec.anchor_args, {"from": hospital})
        hospital_, _, origin = records.getRecord(rec.leaf)
        stored.add((hospital_, origin))
    assert len(stored) == 1
