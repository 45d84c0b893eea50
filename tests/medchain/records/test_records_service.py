"""medchain.records + medchain.journal on a real Anvil: anchoring through the journal, exactly-once resume
after injected failures, evidence, lineage, access log, salts, bad input that leaves the journal untouched."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from helpers import make_files
from web3 import Web3
from web3.logs import DISCARD

from medchain import records as rs
from medchain import tx
from medchain.codes import ROLE_BITS
from medchain.contracts import Suite
from medchain.deploy import deploy_all, write_manifest
from medchain.errors import ContractRevert, InputError
from medchain.hashing import hash_file
from medchain.journal import Journal
from medchain.node import Anvil
from medchain.salts import derive_salt
from medchain.store import open_store

PATIENT = "0x" + "ab" * 20
PATIENT_B = "0x" + "cd" * 20
PATIENT_KEY = "0x" + "11" * 32


@dataclass
class Env:
    node: Anvil
    w3: Web3
    suite: Suite
    manifest: Path
    council: str
    hospital: str
    hospital_b: str
    stranger: str


def admit(w3: Web3, suite: Suite, council: str, member: str, role: str, name: str) -> None:
    c = suite.consortium
    receipt = tx.send(w3, c.functions.propose(1, member, ROLE_BITS[role], name, ""), council)
    proposal_id = c.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["proposalId"]
    tx.send(w3, c.functions.execute(proposal_id), council)


@pytest.fixture(scope="module")
def env(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Env:
    """The suite on this module's Anvil; accounts 3 and 4 are hospitals, 13 a stranger."""
    w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))
    acc = w3.eth.accounts
    manifest = deploy_all(w3, acc[0], [acc[0]], ["Council"], 1, write=False)
    path = tmp_path_factory.mktemp("records-env") / "manifest.json"
    write_manifest(manifest, path)
    suite = Suite.load(w3, manifest)
    admit(w3, suite, acc[0], acc[3], "HOSPITAL", "Hospital A")
    admit(w3, suite, acc[0], acc[4], "HOSPITAL", "Hospital B")
    return Env(anvil, w3, suite, path, acc[0], acc[3], acc[4], acc[13])


def service(env: Env, store: Path, signer: str | None = None) -> rs.RecordService:
    conn = open_store(store)
    return rs.RecordService.open(env.w3, env.suite.records, env.suite.consortium, conn, signer)


@pytest.fixture
def svc(env: Env, tmp_path: Path) -> rs.RecordService:
    return service(env, tmp_path / "store.sqlite", env.hospital)


def batch_items(svc: rs.RecordService, directory: Path, klass: str = "LAB") -> list[Any]:
    return rs.collect_batch_inputs(svc.journal, svc.hospital, directory, patient=PATIENT, data_class=klass)


def batch_anchor_count(env: Env, root: bytes) -> int:
    return len(
        env.suite.records.events.BatchAnchored().get_logs(argument_filters={"root": root}, from_block=0)
    )


def assert_all_proofs_verify(svc: rs.RecordService, sub_id: int) -> None:
    sub = svc.journal.get(sub_id)
    for item in svc.journal.items(sub_id):
        proof = svc.journal.proof(sub_id, item.value_index)
        assert svc.registry.functions.verifyBatchRecord(
            sub.root, item.record_hash, item.commitment, item.data_class, proof
        ).call()


def count_rows(svc: rs.RecordService) -> tuple[int, int, int]:
    c = svc.journal.conn
    return tuple(c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # type: ignore[return-value]
                 for t in ("record_submissions", "record_items", "record_trees"))  # fmt: skip


# ---- anchoring ----


def test_anchor_one_file(svc: rs.RecordService, env: Env, tmp_path: Path) -> None:
    (path,) = make_files(tmp_path / "in", 1, "one")
    report = rs.anchor_files(svc, [hash_file(path)], PATIENT, "LAB")
    (sub,) = report.settled
    assert sub.status == "done" and sub.kind == "records" and sub.attempts == 1
    (item,) = svc.journal.items(sub.id)
    record = env.suite.records.functions.getRecord(item.leaf).call()
    assert tuple(record)[0] == env.hospital and tuple(record)[2] == 1 and len(record) == 3  # no class stored
    assert item.state == "anchored" and item.patient == Web3.to_checksum_address(PATIENT)


def test_anchor_again_is_skipped(svc: rs.RecordService, tmp_path: Path) -> None:
    paths = make_files(tmp_path / "in", 3, "again")
    rs.anchor_files(svc, [hash_file(p) for p in paths], PATIENT, "LAB")
    report = rs.anchor_files(svc, [hash_file(p) for p in paths], PATIENT, "LAB")
    assert report.skipped == 3 and report.settled == []


def test_anchor_many_files_in_one_transaction(svc: rs.RecordService, env: Env, tmp_path: Path) -> None:
    paths = make_files(tmp_path / "in", 5, "many")
    (sub,) = rs.anchor_files(svc, [hash_file(p) for p in paths], PATIENT, "IMAGING").settled
    assert sub.leaf_count == 5 and sub.status == "done"
    receipt = env.w3.eth.get_transaction_receipt(sub.tx_hash)
    assert len(env.suite.records.events.RecordAnchored().process_receipt(receipt)) == 5


def test_amend_through_the_journal(svc: rs.RecordService, env: Env, tmp_path: Path) -> None:
    v1, v2 = make_files(tmp_path / "in", 2, "amend")
    rs.anchor_files(svc, [hash_file(v1)], PATIENT, "LAB")
    previous = rs.one(svc.journal, str(v1)).leaf
    (sub,) = rs.anchor_files(svc, [hash_file(v2)], PATIENT, "LAB", amends=previous).settled
    new = rs.one(svc.journal, str(v2)).leaf
    assert sub.kind == "amend" and sub.status == "done"
    assert bytes(env.suite.records.functions.supersededBy(previous).call()) == new
    chain = rs.lineage(svc, new)
    assert [v["leaf"] for v in chain] == [previous, new] and chain[1]["this"]


def test_batch_anchors_and_keeps_every_proof(svc: rs.RecordService, env: Env, tmp_path: Path) -> None:
    make_files(tmp_path / "in", 40, "batch")
    report = rs.anchor_batch(svc, batch_items(svc, tmp_path / "in"), source="in")
    (sub,) = report.settled
    assert sub.status == "done" and sub.leaf_count == 40
    assert env.suite.records.functions.getBatch(sub.root).call()[0] == env.hospital
    assert batch_anchor_count(env, sub.root) == 1
    assert_all_proofs_verify(svc, sub.id)
    item = svc.journal.items(sub.id)[7]
    proof = svc.journal.proof(sub.id, 7)
    values = (item.record_hash, item.commitment, item.data_class)
    tx.send(env.w3, env.suite.records.functions.materialise(sub.root, *values, proof), env.stranger)
    assert env.suite.records.functions.getRecord(item.leaf).call()[2] == 2


def test_batch_rerun_skips_and_new_files_go_to_a_new_batch(svc: rs.RecordService, tmp_path: Path) -> None:
    make_files(tmp_path / "in", 10, "rerun")
    first = rs.anchor_batch(svc, batch_items(svc, tmp_path / "in"))
    again = rs.anchor_batch(svc, batch_items(svc, tmp_path / "in"))
    assert again.skipped == 10 and again.settled == []
    make_files(tmp_path / "in", 13, "rerun")  # 3 more
    more = rs.anchor_batch(svc, batch_items(svc, tmp_path / "in"))
    assert more.skipped == 10 and more.settled[0].leaf_count == 3
    assert more.settled[0].root != first.settled[0].root


# ---- exactly once after failures ----


def test_crash_between_send_and_receipt_resumes_without_resending(
    svc: rs.RecordService, env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_files(tmp_path / "in", 25, "crash1")
    items = batch_items(svc, tmp_path / "in")

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt("killed while waiting for the receipt")

    monkeypatch.setattr(rs.tx, "wait", crash)
    with pytest.raises(KeyboardInterrupt):
        rs.anchor_batch(svc, items)
    monkeypatch.undo()
    (pending,) = svc.journal.unfinished()
    assert pending.status == "sent" and pending.attempts == 1
    report = rs.anchor_batch(svc, batch_items(svc, tmp_path / "in"))
    assert report.resumed == 1 and report.skipped == 25
    sub = svc.journal.get(pending.id)
    assert sub.status == "done" and sub.attempts == 1 and sub.tx_hash == pending.tx_hash
    assert batch_anchor_count(env, sub.root) == 1
    assert_all_proofs_verify(svc, sub.id)


def test_crash_after_send_before_journaling_the_hash(
    svc: rs.RecordService, env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_files(tmp_path / "in", 9, "crash2")

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt("killed before the tx hash reached the journal")

    monkeypatch.setattr(Journal, "mark_sent", crash)
    with pytest.raises(KeyboardInterrupt):
        rs.anchor_batch(svc, batch_items(svc, tmp_path / "in"))
    monkeypatch.undo()
    (pending,) = svc.journal.unfinished()
    assert pending.status == "prepared" and pending.tx_hash is None
    (sub,) = rs.resume(svc)
    assert sub.status == "done" and sub.attempts == 0  # found on chain: nothing re-sent
    assert sub.tx_hash is not None and batch_anchor_count(env, sub.root) == 1


def test_dropped_transaction_is_sent_again(svc: rs.RecordService, env: Env, tmp_path: Path) -> None:
    """A journaled tx the node no longer knows (restarted from older state): the chain lacks the root, so
    settle sends again, once."""
    make_files(tmp_path / "in", 6, "dropped")
    items = batch_items(svc, tmp_path / "in")
    from medchain.merkle import StandardMerkleTree

    tree = StandardMerkleTree.of([i.value for i in items])
    sub = svc.journal.create("batch", svc.hospital, items, tree=tree)
    svc.journal.mark_sent(sub.id, b"\x42" * 32)  # a hash the node never saw
    (done,) = rs.resume(svc)
    assert done.status == "done" and done.attempts == 2 and done.tx_hash != b"\x42" * 32
    assert batch_anchor_count(env, done.root) == 1


def test_crash_in_anchor_many_resumes_exactly_once(
    svc: rs.RecordService, env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = make_files(tmp_path / "in", 4, "many-crash")

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(rs.tx, "wait", crash)
    with pytest.raises(KeyboardInterrupt):
        rs.anchor_files(svc, [hash_file(p) for p in paths], PATIENT, "LAB")
    monkeypatch.undo()
    report = rs.anchor_files(svc, [hash_file(p) for p in paths], PATIENT, "LAB")
    assert report.resumed == 1 and report.skipped == 4
    (sub,) = report.settled
    assert sub.status == "done" and sub.attempts == 1
    for item in svc.journal.items(sub.id):
        logs = env.suite.records.events.RecordAnchored().get_logs(
            argument_filters={"leaf": item.leaf}, from_block=0
        )
        assert len(logs) == 1


def test_records_taken_by_another_hospital_are_conflicts(env: Env, tmp_path: Path) -> None:
    (path,) = make_files(tmp_path / "in", 1, "conflict")
    a = service(env, tmp_path / "a.sqlite", env.hospital)
    b = service(env, tmp_path / "b.sqlite", env.hospital_b)
    result = hash_file(path)
    item = rs.item_for(a.journal, a.hospital, result, PATIENT, 3)
    tx.send(
        env.w3, env.suite.records.functions.anchor(item.record_hash, item.leaf), env.hospital_b
    )  # B first
    (sub,) = rs.anchor_files(a, [result], PATIENT, "LAB").settled
    assert sub.status == "conflict" and a.journal.items(sub.id)[0].state == "conflict"
    del b


# ---- bad input: one line, nothing journaled ----


def _bad(svc: rs.RecordService, target: Path, **kw: Any) -> str:
    before = count_rows(svc)
    with pytest.raises(InputError) as info:
        rs.anchor_batch(svc, rs.collect_batch_inputs(svc.journal, svc.hospital, target, **kw))
    assert count_rows(svc) == before
    assert "\n" not in str(info.value)
    return str(info.value)


def test_empty_directory(svc: rs.RecordService, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert "no record files" in _bad(svc, tmp_path / "empty", patient=PATIENT, data_class="LAB")


def test_unreadable_file_in_manifest(svc: rs.RecordService, tmp_path: Path) -> None:
    make_files(tmp_path, 2, "m")
    (tmp_path / "m.csv").write_text(
        f"file,patient,class\nm-0000.txt,{PATIENT},LAB\nmissing.txt,{PATIENT},LAB\n"
    )
    assert "missing.txt: cannot read" in _bad(svc, tmp_path / "m.csv")


def test_malformed_fhir_json_in_directory(svc: rs.RecordService, tmp_path: Path) -> None:
    make_files(tmp_path / "in", 3, "fhir")
    (tmp_path / "in" / "broken.json").write_text('{"resourceType": "Observation", ')
    assert "broken.json: malformed JSON" in _bad(svc, tmp_path / "in", patient=PATIENT, data_class="LAB")


def test_unknown_data_class(svc: rs.RecordService, tmp_path: Path) -> None:
    make_files(tmp_path, 1, "c")
    (tmp_path / "m.csv").write_text(f"file,patient,class\nc-0000.txt,{PATIENT},XRAY\n")
    assert "unknown data class 'XRAY'" in _bad(svc, tmp_path / "m.csv")


def test_hash_not_32_bytes(svc: rs.RecordService, tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text(f"record_hash,patient,class\n0x{'ab' * 31},{PATIENT},LAB\n")
    assert "must be 32 bytes, got 31" in _bad(svc, tmp_path / "m.csv")


def test_bad_patient_and_missing_options(svc: rs.RecordService, tmp_path: Path) -> None:
    make_files(tmp_path / "in", 1, "p")
    assert "not a 20-byte hex address" in _bad(svc, tmp_path / "in", patient="0x1234", data_class="LAB")
    assert "needs --patient and --class" in _bad(svc, tmp_path / "in")
    assert "no such file or directory" in _bad(svc, tmp_path / "nope")


def test_non_hospital_signer_is_refused(env: Env, tmp_path: Path) -> None:
    svc = service(env, tmp_path / "s.sqlite", env.stranger)
    with pytest.raises(InputError, match="does not act for an active HOSPITAL member"):
        svc.hospital  # noqa: B018


# ---- evidence ----


def test_evidence_for_a_batch_record_verifies(svc: rs.RecordService, env: Env, tmp_path: Path) -> None:
    paths = make_files(tmp_path / "in", 12, "ev")
    rs.anchor_batch(svc, batch_items(svc, tmp_path / "in"))
    item = rs.one(svc.journal, str(paths[5]))
    evidence = rs.build_evidence(svc, item, reveal=True)
    assert evidence["anchor"]["origin"] == "batch" and evidence["commitmentOpening"]["patient"]
    result = rs.verify_evidence(env.w3, json.loads(json.dumps(evidence)), file=paths[5])
    assert result["ok"], result["checks"]
    evidence["anchor"]["batch"]["proof"][0] = "0x" + "00" * 32
    tampered = rs.verify_evidence(env.w3, evidence)
    assert not tampered["ok"]
    assert {c["check"] for c in tampered["checks"] if not c["ok"]} == {"proof (local)", "proof (on chain)"}


def test_evidence_for_a_single_record_without_opening(
    svc: rs.RecordService, env: Env, tmp_path: Path
) -> None:
    (path,) = make_files(tmp_path / "in", 1, "evs")
    rs.anchor_files(svc, [hash_file(path)], PATIENT, "LAB")
    evidence = rs.build_evidence(svc, rs.one(svc.journal, str(path)))
    assert evidence["commitmentOpening"] is None and evidence["anchor"]["origin"] == "single"
    assert rs.verify_evidence(env.w3, evidence, file=path)["ok"]
    other = tmp_path / "other.txt"
    other.write_text("not the record")
    bad = rs.verify_evidence(env.w3, evidence, file=other)
    assert [c["check"] for c in bad["checks"] if not c["ok"]] == ["file hash"]
    evidence["chainId"] = 1
    assert not rs.verify_evidence(env.w3, evidence)["ok"]


def test_record_status(svc: rs.RecordService, tmp_path: Path) -> None:
    paths = make_files(tmp_path / "in", 4, "st")
    rs.anchor_batch(svc, batch_items(svc, tmp_path / "in"))
    status = rs.record_status(svc, rs.one(svc.journal, str(paths[2])))
    assert status["anchored"] and status["origin"] == "batch" and status["proofValid"] is True
    assert status["supersededBy"] is None


# ---- salts and access log ----


def test_salts_are_per_record_derived_and_stable(env: Env, tmp_path: Path) -> None:
    a = service(env, tmp_path / "s.sqlite", env.hospital)
    key = a.journal.salt_key(env.hospital)  # a fresh store: created on first use
    assert len(key) == 32 and a.journal.salt_key(env.hospital) == key
    h1, h2 = keccak(text="record one"), keccak(text="record two")
    s1 = a.journal.salt(env.hospital, PATIENT, h1, 3)
    assert s1 == derive_salt(key, PATIENT, h1, 3) == a.journal.salt(env.hospital, PATIENT, h1, 3)
    others = {
        a.journal.salt(env.hospital, PATIENT, h2, 3),  # another record of the same patient
        a.journal.salt(env.hospital, PATIENT, h1, 4),  # the same file under another class
        a.journal.salt(env.hospital, PATIENT_B, h1, 3),  # another patient
    }
    assert s1 not in others and len(others) == 3
    with pytest.raises(InputError, match="records key import"):
        a.journal.salt(env.hospital_b, PATIENT, h1, 3)  # no key for B in this store


def test_two_records_of_a_patient_have_unlinkable_commitments(svc: rs.RecordService, tmp_path: Path) -> None:
    paths = make_files(tmp_path / "in", 3, "unlinkable")
    rs.anchor_files(svc, [hash_file(p) for p in paths], PATIENT, "LAB")
    commitments = {rs.one(svc.journal, str(p)).commitment for p in paths}
    assert len(commitments) == 3


def test_a_store_that_lost_its_key_refuses_to_anchor(
    svc: rs.RecordService, env: Env, tmp_path: Path
) -> None:
    (path,) = make_files(tmp_path / "in", 1, "lost key")
    rs.anchor_files(svc, [hash_file(path)], PATIENT, "LAB")
    backup = tmp_path / "key.json"
    svc.journal.keys.export(svc.hospital, backup)
    assert backup.stat().st_mode & 0o777 == 0o600
    with pytest.raises(InputError, match="already exists"):
        svc.journal.keys.export(svc.hospital, backup)
    svc.journal.conn.execute("DELETE FROM salt_keys")
    svc = service(env, tmp_path / "store.sqlite", env.hospital)  # a new process on the damaged store
    before = count_rows(svc)
    (again,) = make_files(tmp_path / "in2", 1, "after loss")
    with pytest.raises(InputError, match="records key import FILE"):
        rs.anchor_files(svc, [hash_file(again)], PATIENT, "LAB")
    assert count_rows(svc) == before
    assert svc.journal.keys.import_file(svc.hospital, backup) == {"hospital": svc.hospital, "imported": True}
    assert svc.journal.keys.import_file(svc.hospital, backup)["imported"] is False  # idempotent
    item = rs.one(svc.journal, str(path))
    assert rs.opening_of(svc, item).leaf == item.leaf  # every salt derives again from the restored key


def test_key_backups_of_another_hospital_or_damaged_are_refused(
    svc: rs.RecordService, tmp_path: Path
) -> None:
    svc.journal.salt_key(svc.hospital)
    other = tmp_path / "other.json"
    other.write_text(
        json.dumps({"format": "medchain-salt-key/1", "hospital": PATIENT, "key": "0x" + "11" * 32})
    )
    with pytest.raises(InputError, match="belongs to hospital"):
        svc.journal.keys.import_file(svc.hospital, other)
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"format": "medchain-salt-key/1", "hospital": svc.hospital, "key": "0x11"}))
    with pytest.raises(InputError, match="damaged"):
        svc.journal.keys.import_file(svc.hospital, short)
    mine = tmp_path / "mine.json"
    mine.write_text(
        json.dumps({"format": "medchain-salt-key/1", "hospital": svc.hospital, "key": "0x" + "22" * 32})
    )
    with pytest.raises(InputError, match="different salt key"):
        svc.journal.keys.import_file(svc.hospital, mine)
    (tmp_path / "junk.json").write_text("{")
    with pytest.raises(InputError, match="not a MedChain salt key backup"):
        svc.journal.keys.import_file(svc.hospital, tmp_path / "junk.json")


def test_log_access_with_and_without_consent(svc: rs.RecordService, env: Env, tmp_path: Path) -> None:
    from eth_account import Account

    patient = Account.from_key(PATIENT_KEY)
    (path,) = make_files(tmp_path / "in", 1, "acc")
    rs.anchor_files(svc, [hash_file(path)], patient.address, "LAB")
    item = rs.one(svc.journal, str(path))
    opening = rs.opening_of(svc, item)
    with pytest.raises(ContractRevert, match="RecordAccessNotPermitted"):
        rs.log_access(svc, opening, "TREATMENT")
    env.w3.eth.send_transaction({"from": env.council, "to": patient.address, "value": 10**18})
    tx.forget_nonces()  # the local nonce cache may hold this key's nonce from another Anvil (same chain id)
    tx.send(env.w3, env.suite.consent.functions.grant(env.hospital, 1, 1 << 3, 0, 0), patient)
    logged = rs.log_access(svc, opening, "TREATMENT")
    assert (
        logged["leaf"] == item.leaf
        and logged["accessor"] == env.hospital
        and logged["purpose"] == "TREATMENT"
    )
    events = rs.access_events(svc, patient=patient.address)
    assert [e["txHash"] for e in events][-1] == logged["txHash"]


def test_journal_survives_reopening(env: Env, tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    a = service(env, store, env.hospital)
    make_files(tmp_path / "in", 5, "reopen")
    (sub,) = rs.anchor_batch(a, batch_items(a, tmp_path / "in")).settled
    a.journal.conn.close()
    b = service(env, store)
    assert b.journal.get(sub.id).status == "done"
    assert_all_proofs_verify(b, sub.id)
    assert sqlite3.connect(store).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_relative_batch_folder_is_joined_once(
    svc: rs.RecordService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: `records batch exports/2026-11/` read exports/2026-11/exports/2026-11/…"""
    folder = tmp_path / "exports" / "2026-11"
    folder.mkdir(parents=True)
    (folder / "enc-1.bin").write_bytes(b"one")
    (folder / "sub").mkdir()
    (folder / "sub" / "enc-2.bin").write_bytes(b"two")
    monkeypatch.chdir(tmp_path)
    items = rs.collect_batch_inputs(svc.journal, svc.hospital, Path("exports/2026-11"), patient=PATIENT,
                                    data_class="LAB")  # fmt: skip
    expected = sorted(hashlib.sha256(b).digest() for b in (b"one", b"two"))
    assert sorted(i.record_hash for i in items) == expected
