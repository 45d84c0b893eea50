"""Issue 11's observer test: after a run with many records per patient across classes and hospitals,
several accesses and a claim, an outsider who reads every transaction, event and storage slot links exactly
the records that were themselves opened, nothing more. A control run with one salt per patient (DESIGN §6.3
version 1) shows that the observer does find links when they are there."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from helpers import make_files
from test_records_service import Env, admit, service
from test_records_service import env as env  # noqa: F401 - the module's suite fixture
from web3.logs import DISCARD

from medchain import linkage, privacy, tx
from medchain import records as rs
from medchain.codes import DATA_CLASSES
from medchain.hashing import hash_file, patient_commitment, record_leaf
from medchain.openings import RecordOpening

PURPOSE_TREATMENT, PURPOSE_CLAIM = 1, 2


def _patient(env: Env, label: str) -> LocalAccount:  # noqa: F811
    account = Account.from_key(keccak(text=f"linkage patient {label}"))
    env.w3.eth.send_transaction({"from": env.council, "to": account.address, "value": 10**18})
    return account


def _grant(env: Env, patient: LocalAccount, grantee: str, purpose: int, *classes: str) -> None:  # noqa: F811
    bits = sum(1 << DATA_CLASSES[c] for c in classes)
    tx.send(env.w3, env.suite.consent.functions.grant(grantee, purpose, bits, 0, 0), patient)


@pytest.fixture(scope="module")
def world(env: Env, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:  # noqa: F811
    """Three patients with records in five classes at two hospitals (singles and a mixed batch); some
    opened by accesses (one and many at a time, a batch record among them) and by a claim's evidence."""
    tmp = tmp_path_factory.mktemp("linkage")
    tx.forget_nonces()
    p1, p2, p3 = (_patient(env, x) for x in ("one", "two", "three"))
    a = service(env, tmp / "a.sqlite", env.hospital)
    b = service(env, tmp / "b.sqlite", env.hospital_b)
    singles: dict[tuple[str, str, str], rs.JournalItem] = {}
    plan = [
        (a, p1, ["LAB", "MENTAL_HEALTH", "IMAGING", "LAB"]),
        (a, p2, ["LAB", "GENOMIC"]),
        (b, p1, ["REPRODUCTIVE", "LAB"]),
        (b, p3, ["INFECTIOUS_DISEASE"]),
    ]
    for svc, patient, classes in plan:
        for i, klass in enumerate(classes):
            folder = tmp / f"{svc.hospital[:8]}-{patient.address[:8]}-{i}"
            (path,) = make_files(folder, 1, f"{patient.address} {klass} {i}")
            rs.anchor_files(svc, [hash_file(path)], patient.address, klass)
            singles[(svc.hospital, patient.address, f"{klass}{i}")] = rs.one(svc.journal, str(path))
    batch_dir = tmp / "batch"
    rows = []
    for i in range(12):
        who, klass = (p1, p2, p3)[i % 3], ("LAB", "INPATIENT", "PRESCRIPTION")[i % 3]
        (path,) = make_files(batch_dir / str(i), 1, f"batch {i}")
        rows.append(f"{path},{who.address},{klass}")
    manifest = tmp / "manifest.csv"
    manifest.write_text("file,patient,class\n" + "\n".join(rows) + "\n")
    (batch,) = rs.anchor_batch(a, rs.collect_batch_inputs(a.journal, a.hospital, manifest)).settled

    # accesses: B opens one LAB record of p1 at A from its evidence; A opens p1's LAB at B; B opens two
    # of p2's batch records at A in one logAccessMany (materialising them first)
    _grant(env, p1, env.hospital_b, PURPOSE_TREATMENT, "LAB")
    _grant(env, p1, env.hospital, PURPOSE_TREATMENT, "LAB")
    _grant(env, p2, env.hospital_b, PURPOSE_TREATMENT, "LAB", "INPATIENT")
    lab_at_a = singles[(env.hospital, p1.address, "LAB0")]
    evidence = rs.build_evidence(a, lab_at_a, reveal=True)
    rs.log_access(b, RecordOpening.from_evidence(evidence), "TREATMENT")
    lab_at_b = singles[(env.hospital_b, p1.address, "LAB1")]
    rs.log_access(a, rs.opening_of(b, lab_at_b), "TREATMENT")
    p2_batch = [i for i in a.journal.items(batch.id) if i.patient == p2.address]
    rs.log_access_many(b, [rs.opening_of(a, i) for i in p2_batch[:2]], "TREATMENT")

    # a claim: insurer (account 5) covers p1; hospital A submits p1's IMAGING record as evidence
    insurer = env.w3.eth.accounts[5]
    admit(env.w3, env.suite, env.council, insurer, "INSURER", "Insurer X")
    claims = env.suite.claims
    now = int(env.w3.eth.get_block("latest")["timestamp"])
    receipt = tx.send(
        env.w3, claims.functions.createPolicy(p1.address, 10_000, now - 10, now + 10**7), insurer
    )
    policy_id = claims.events.PolicyCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["policyId"]
    _grant(env, p1, insurer, PURPOSE_CLAIM, "IMAGING")
    imaging = rs.opening_of(a, singles[(env.hospital, p1.address, "IMAGING2")])
    evidence_arg = [(imaging.record_hash, imaging.salt, imaging.data_class)]
    submit = claims.functions.submitClaim(policy_id, 100, evidence_arg, keccak(b"inv"), keccak(b"ref"))
    tx.send(env.w3, submit, env.hospital)
    every = list(singles.values()) + a.journal.items(batch.id)
    return {
        "patients": (p1, p2, p3),
        "commitments": {(i.patient, i.leaf): i.commitment for i in every},
        "records": {(i.patient, i.leaf) for i in every},
        "opened": {(p1.address, lab_at_a.leaf), (p1.address, lab_at_b.leaf), (p1.address, imaging.leaf)}
        | {(p2.address, i.leaf) for i in p2_batch[:2]},
    }


def _of_world(world: dict[str, object], pairs: set[tuple[str, bytes]]) -> set[tuple[str, bytes]]:
    """Only the world's patients (the control test below shares the chain)."""
    ours = {p.address for p in world["patients"]}  # type: ignore[attr-defined]
    return {(who, leaf) for who, leaf in pairs if who in ours}


def test_the_observer_links_exactly_the_opened_records(env: Env, world: dict[str, object]) -> None:  # noqa: F811
    report = linkage.observe(env.w3, env.suite)
    opened = world["opened"]
    assert _of_world(world, report.opened) == opened  # every opening on chain was seen (accesses, the claim)
    assert _of_world(world, report.links) == opened and not _of_world(world, report.extra_links)
    records = world["records"]
    assert isinstance(records, set) and isinstance(opened, set)
    p1 = world["patients"][0]  # type: ignore[index]
    unopened_p1 = {leaf for who, leaf in records if who == p1.address} - {leaf for _, leaf in opened}
    assert (
        len(unopened_p1) >= 6
    )  # MENTAL_HEALTH, REPRODUCTIVE, ... at both hospitals and in the batch: unlinked


def test_anchoring_publishes_neither_commitments_nor_classes(env: Env, world: dict[str, object]) -> None:  # noqa: F811
    """Calldata, events and storage hold no commitment of any record that was not opened."""
    records = world["records"]
    opened_leaves = {leaf for _, leaf in world["opened"]}  # type: ignore[attr-defined]
    assert isinstance(records, set)
    report = linkage.observe(env.w3, env.suite)
    hidden = [leaf for _, leaf in records if leaf not in opened_leaves]
    # the only commitments published are those of materialised records, which were opened in the same run
    assert hidden and report.published_commitments <= _commitments_of_opened(report)
    blobs = [blob for _, blob in privacy.event_blobs(env.w3, env.suite.addresses().values())]
    blobs += [blob for _, blob in privacy.calldata_blobs(env.w3, env.suite.addresses().values())]
    storage = privacy.storage_words(env.w3, [env.suite.records.address])
    words = [w for slots in storage.values() for w in slots.values()]
    for who, leaf in records:
        if leaf in opened_leaves:
            continue
        item_commitment = _commitment_of(world, who, leaf)
        assert not any(item_commitment in blob for blob in blobs), "a hidden record's commitment is on chain"
        assert item_commitment not in words


def _commitments_of_opened(report: linkage.LinkageReport) -> set[bytes]:
    return {patient_commitment(p, s) for p, s in report.openings}


def _commitment_of(world: dict[str, object], who: str, leaf: bytes) -> bytes:
    commitments = world.get("commitments")
    assert isinstance(commitments, dict)
    return commitments[(who, leaf)]


def test_one_salt_per_patient_would_be_linked(env: Env) -> None:  # noqa: F811
    """Control: the version-1 format (the same salt for every record of a patient at a hospital). Opening one
    record links the other, and the observer reports it."""
    patient = _patient(env, "v1 control")
    salt = keccak(text="one salt for every record of this patient")
    commitment = patient_commitment(patient.address, salt)
    records = env.suite.records
    lab, mental = keccak(text="v1 lab"), keccak(text="v1 mental health")
    lab_leaf = record_leaf(lab, commitment, DATA_CLASSES["LAB"])
    mental_leaf = record_leaf(mental, commitment, DATA_CLASSES["MENTAL_HEALTH"])
    tx.send(env.w3, records.functions.anchorMany([lab, mental], [lab_leaf, mental_leaf]), env.hospital)
    _grant(env, patient, env.hospital_b, PURPOSE_TREATMENT, "LAB")
    tx.send(
        env.w3,
        records.functions.logAccess(lab, patient.address, salt, DATA_CLASSES["LAB"], 1),
        env.hospital_b,
    )
    report = linkage.observe(env.w3, env.suite)
    assert (patient.address, mental_leaf) in report.extra_links
