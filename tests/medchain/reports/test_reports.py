"""medchain.reports over a real index: a scripted world on Anvil (consents, guardian, accesses, break-glass,
claims, a drug journey), indexed once; each report checked for content, shape and HTML safety.

`world` and `indexed` are imported by test_cli_audit.py and test_indexer.py."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD

from medchain import reports, tx
from medchain.codes import DATA_CLASSES, ROLE_BITS
from medchain.contracts import Suite
from medchain.deploy import deploy_all, write_manifest
from medchain.errors import ConfigError, InputError
from medchain.gs1 import DrugCode, build_digital_link, build_element_string
from medchain.hashing import patient_commitment, record_leaf
from medchain.indexer import Indexer
from medchain.node import Anvil
from medchain.serials import SerialTree, batch_id, serial_set
from medchain.store import open_store
from medchain.timefmt import iso

EVIL = "Insurer \"Y\" <script>alert('x')</script> & Co"
GTIN = "09506000134352"
LOT = "LOT-42"
SERIALS = [f"SN{i:04d}" for i in range(8)]
LAB, IMAGING = DATA_CLASSES["LAB"], DATA_CLASSES["IMAGING"]
YEAR = 365 * 86400


@dataclass
class World:
    node: Anvil
    w3: Web3
    suite: Suite
    manifest: Path
    acc: dict[str, str]
    salt: bytes
    records: list[bytes]
    batch: bytes
    facts: dict[str, Any] = field(default_factory=dict)

    def send(self, fn: Any, who: str) -> Any:
        return tx.send(self.w3, fn, self.acc[who])

    @property
    def patient(self) -> str:
        return self.acc["patient"]

    def pack_scan(self, serial: str) -> str:
        return build_digital_link(DrugCode(gtin=GTIN, lot=LOT, serial=serial))


def admit(w: World, who: str, role: str, name: str) -> None:
    c = w.suite.consortium
    receipt = w.send(c.functions.propose(1, w.acc[who], ROLE_BITS[role], name, ""), "council")
    proposal_id = c.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["proposalId"]
    w.send(c.functions.execute(proposal_id), "council")


def now(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def build_world(node: Anvil, directory: Path) -> World:
    """Deploy and play the scenario every audit test reads."""
    w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
    a = w3.eth.accounts
    acc = {
        "council": a[0], "hospital_a": a[3], "hospital_b": a[4], "insurer_x": a[5], "insurer_y": a[6],
        "manufacturer": a[7], "distributor": a[8], "pharmacy": a[9], "auditor": a[10], "key_a": a[11],
        "patient": a[12], "guardian": a[13], "patient2": a[14], "stranger": a[15],
    }  # fmt: skip
    manifest = deploy_all(w3, acc["council"], [acc["council"]], ["Health Commission"], 1, write=False)
    path = directory / "manifest.json"
    write_manifest(manifest, path)
    suite = Suite.load(w3, manifest)
    tree = SerialTree.build(GTIN, LOT, SERIALS)
    w = World(node, w3, suite, path, acc, keccak(b"salt-of-patient-at-A"), [], batch_id(GTIN, LOT))
    for who, role, name in (
        ("hospital_a", "HOSPITAL", "Hospital A"), ("hospital_b", "HOSPITAL", "Hospital B"),
        ("insurer_x", "INSURER", "Insurer X"), ("insurer_y", "INSURER", EVIL),
        ("manufacturer", "MANUFACTURER", "Acme Pharma"), ("distributor", "DISTRIBUTOR", "Swift Logistics"),
        ("pharmacy", "PHARMACY", "Corner Pharmacy"), ("auditor", "AUDITOR", "State Audit Office"),
    ):  # fmt: skip
        admit(w, who, role, name)
    c, consent, records, claims = suite.consortium, suite.consent, suite.records, suite.claims
    assert consent is not None and records is not None and claims is not None and suite.token is not None
    w.send(c.functions.offerOperator(acc["key_a"], "0x" + "00" * 20), "hospital_a")
    w.send(c.functions.acceptOperator(acc["hospital_a"]), "key_a")

    # consent, guardian
    w.send(consent.functions.grant(acc["hospital_b"], 1, (1 << LAB) | (1 << IMAGING), 0, 0), "patient")
    w.send(consent.functions.grant(acc["insurer_x"], 2, 1 << LAB, 0, 0), "patient")
    w.send(consent.functions.setGuardian(acc["guardian"], now(w3) + YEAR), "patient")

    # records: anchored by hospital A's operator key; B logs an access
    w.records = [keccak(text=f"record {i}") for i in range(3)]
    salts = [w.salt] + [keccak(text=f"salt of record {i}") for i in (1, 2)]  # one salt per record (§6.3 v2)
    leaves = [
        record_leaf(r, patient_commitment(w.patient, s), c)
        for r, s, c in zip(w.records, salts, [LAB, LAB, IMAGING], strict=True)
    ]
    w.send(records.functions.anchorMany(w.records, leaves), "key_a")
    w.send(records.functions.logAccess(w.records[0], w.patient, w.salt, LAB, 1), "hospital_b")

    # break-glass by A, reviewed by the auditor
    w.send(consent.functions.openEmergency(w.patient, 7, keccak(b"ER admission note")), "key_a")
    w.send(consent.functions.reviewEmergency(1, True), "auditor")

    # claims: policy at X, claim by hospital A, approved, paid, withdrawn
    token = suite.token
    for insurer in ("insurer_x", "insurer_y"):
        w.send(token.functions.mint(acc[insurer], 1_000_000), insurer)
        w.send(token.functions.approve(claims.address, 1_000_000), insurer)
        w.send(claims.functions.depositReserve(acc[insurer], 500_000), insurer)
    t = now(w3)
    w.send(claims.functions.createPolicy(w.patient, 100_000, t, t + YEAR), "insurer_x")
    evidence = [(w.records[0], w.salt, LAB)]
    w.send(claims.functions.submitClaim(1, 12_345, evidence, keccak(b"invoice 1"), keccak(b"ref-1")), "key_a")
    w.send(claims.functions.approveClaim(1, 12_000), "insurer_x")
    w.send(claims.functions.payClaim(1), "insurer_x")
    w.send(claims.functions.withdrawPayout(w.patient), "patient")

    # another patient's claim at insurer Y, rejected (for the claims filters; must not leak into patient 1)
    salt2 = keccak(b"salt-2")
    record2 = keccak(text="record of patient 2")
    leaf2 = record_leaf(record2, patient_commitment(acc["patient2"], salt2), LAB)
    w.send(records.functions.anchor(record2, leaf2), "hospital_a")
    w.send(consent.functions.grant(acc["insurer_y"], 2, 1 << LAB, 0, 0), "patient2")
    t = now(w3)
    w.send(claims.functions.createPolicy(acc["patient2"], 50_000, t, t + YEAR), "insurer_y")
    w.send(
        claims.functions.submitClaim(2, 700, [(record2, salt2, LAB)], keccak(b"inv 2"), bytes(32)), "patient2"
    )
    w.send(claims.functions.rejectClaim(2, 3), "insurer_y")

    # the patient withdraws B's treatment consent
    w.send(consent.functions.revoke(acc["hospital_b"], 1), "patient")

    # a drug journey: register, commission, ship, receive, dispense, duplicate, recall
    drugs = suite.drugs
    assert drugs is not None
    w.send(drugs.functions.assignPrefix(GTIN[1:8], acc["manufacturer"]), "council")
    w.send(drugs.functions.registerProduct(int(GTIN), "Amoxicillin 500 mg"), "manufacturer")
    expiry = now(w3) + YEAR
    w.send(
        drugs.functions.commissionBatch(
            int(GTIN), LOT, expiry, len(SERIALS), tree.root, keccak(b"cert"), keccak(b"e1")
        ),
        "manufacturer",
    )
    first = serial_set(tree, list(SERIALS[:8]))
    w.send(drugs.functions.ship(w.batch, acc["distributor"], first.as_arg(), keccak(b"e2")), "manufacturer")
    w.send(drugs.functions.receiveShipment(1, 8, keccak(b"e3")), "distributor")
    onward = serial_set(first.tree, list(SERIALS[:4]), 1)
    w.send(drugs.functions.ship(w.batch, acc["pharmacy"], onward.as_arg(), keccak(b"e4")), "distributor")
    w.send(drugs.functions.receiveShipment(2, 4, keccak(b"e5")), "pharmacy")
    for serial in ("SN0001", "SN0002", "SN0001"):
        proof = onward.tree.proof(serial)
        w.send(drugs.functions.dispense(w.batch, 2, serial, proof, keccak(serial.encode())), "pharmacy")
    w.send(drugs.functions.recall(w.batch, keccak(b"recall notice"), keccak(b"e6")), "manufacturer")
    w.facts["head"] = w3.eth.block_number
    return w


@pytest.fixture(scope="module")
def world(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(anvil, tmp_path_factory.mktemp("audit-world"))


@pytest.fixture(scope="module")
def indexed(world: World, tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    conn = open_store(tmp_path_factory.mktemp("audit-index") / "index.sqlite")
    Indexer(world.w3, world.suite, conn, confirmations=0).run()
    return conn


def chain_id(world: World) -> int:
    return int(world.w3.eth.chain_id)


# ---- disclosures ----


def test_disclosures_list_everything_touching_the_patient_in_order(
    world: World, indexed: sqlite3.Connection
) -> None:
    report = reports.disclosures(indexed, chain_id(world), world.patient, records=world.suite.records)
    events = [e["event"] for e in report.entries]
    assert events == [
        "ConsentGranted", "ConsentGranted", "GuardianSet", "RecordAccessed", "EmergencyOpened",
        "EmergencyReviewed", "PolicyCreated", "ClaimSubmitted", "ClaimStatusChanged", "ClaimApproved",
        "ClaimStatusChanged", "ClaimPaid", "PayoutWithdrawn", "ConsentRevoked",
    ]  # fmt: skip
    blocks = [(e["block"], e["logIndex"]) for e in report.entries]
    assert blocks == sorted(blocks)
    grant = report.entries[0]
    assert grant["party"] == "Hospital B" and grant["purpose"] == "TREATMENT"
    assert grant["dataClasses"] == ["LAB", "IMAGING"] and grant["category"] == "consent"
    assert "Consent granted to Hospital B for TREATMENT: LAB, IMAGING" in grant["summary"]
    access = report.entries[3]
    assert (
        access["party"] == "Hospital B"
        and access["purpose"] == "TREATMENT"
        and access["dataClasses"] == ["LAB"]
    )
    assert "anchored by Hospital A" in access["summary"]
    opened = report.entries[4]
    assert opened["party"] == "Hospital A" and opened["actorName"].startswith("Hospital A (key ")
    assert "reviewed by State Audit Office: justified" in report.entries[5]["summary"]
    assert all(re.fullmatch(r"0x[0-9a-f]{64}", e["tx"]) for e in report.entries)
    assert report.subject["consentsInForce"] == 1 and report.subject["claims"] == 1
    assert report.subject["recordAccesses"] == 1 and report.subject["emergencyAccesses"] == 1
    states = {(r["institution"], r["purpose"]): r["status"] for r in report.rows}
    assert states == {("Hospital B", "TREATMENT"): "revoked", ("Insurer X", "CLAIM"): "in force"}


def test_disclosures_never_show_another_patients_claims(world: World, indexed: sqlite3.Connection) -> None:
    report = reports.disclosures(indexed, chain_id(world), world.patient)
    assert {e["args"].get("claimId") for e in report.entries if e["contract"] == "ClaimsManager"} <= {1, None}
    other = reports.disclosures(indexed, chain_id(world), world.acc["patient2"])
    assert [e["event"] for e in other.entries] == [
        "ConsentGranted", "PolicyCreated", "ClaimSubmitted", "ClaimStatusChanged", "ClaimRejected",
    ]  # fmt: skip


def test_disclosures_of_an_unknown_patient_are_empty(world: World, indexed: sqlite3.Connection) -> None:
    report = reports.disclosures(indexed, chain_id(world), "0x" + "5a" * 20)
    assert report.entries == [] and report.rows == [] and report.subject["events"] == 0
    assert "No events recorded" in reports.render_html(report)


def test_disclosures_without_a_registry_omit_only_the_anchoring_hospital(
    world: World, indexed: sqlite3.Connection
) -> None:
    report = reports.disclosures(indexed, chain_id(world), world.patient)
    access = next(e for e in report.entries if e["event"] == "RecordAccessed")
    assert access["dataClasses"] == ["LAB"]  # from the event itself: the access opened that one record
    assert access["summary"].startswith("LAB record 0x") and "anchored by" not in access["summary"]


def test_amounts_use_the_token_decimals(world: World, indexed: sqlite3.Connection) -> None:
    money = reports.Money.of_token(world.suite.token)
    assert money.decimals == 2
    report = reports.disclosures(indexed, chain_id(world), world.patient, money=money)
    paid = next(e for e in report.entries if e["event"] == "ClaimPaid")
    assert "120.00" in paid["summary"]
    raw = reports.disclosures(indexed, chain_id(world), world.patient)
    assert "12,000 units" in next(e for e in raw.entries if e["event"] == "ClaimPaid")["summary"]


def test_bad_inputs(world: World, indexed: sqlite3.Connection, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a 20-byte hex address"):
        reports.disclosures(indexed, chain_id(world), "0x1234")
    with pytest.raises(InputError, match="checksum"):
        reports.member(indexed, chain_id(world), bad_checksum(world.patient))
    with pytest.raises(ConfigError, match="not indexed"):
        reports.disclosures(open_store(tmp_path / "empty.sqlite"), chain_id(world), world.patient)
    with pytest.raises(ConfigError, match="audit index"):
        reports.claims(indexed, 99999)


# ---- HTML ----


def test_html_is_self_contained_escaped_and_scriptless(world: World, indexed: sqlite3.Connection) -> None:
    for report in (
        reports.disclosures(indexed, chain_id(world), world.acc["patient2"]),
        reports.member(indexed, chain_id(world), world.acc["insurer_y"]),
        reports.claims(indexed, chain_id(world)),
    ):
        page = reports.render_html(report)
        assert "<script" not in page.lower() and "javascript:" not in page.lower()
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in page
        assert "Insurer &quot;Y&quot;" in page
        assert (
            not re.search(r"<(link|img|iframe|object|embed)\b", page)
            and "src=" not in page
            and "href=" not in page
        )
        assert "default-src 'none'" in page and page.count("<style>") == 1
        assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_disclosure_page_reads_as_a_timeline(
    world: World, indexed: sqlite3.Connection, tmp_path: Path
) -> None:
    report = reports.disclosures(indexed, chain_id(world), world.patient, records=world.suite.records)
    written = reports.save(report, json_path=tmp_path / "d.json", html_path=tmp_path / "d.html")
    assert written == [tmp_path / "d.json", tmp_path / "d.html"]
    page = (tmp_path / "d.html").read_text()
    assert page.count('<li class="c-') == len(report.entries) == 14
    generated = iso(report.generated_at)
    for text in ("Accounting of disclosures", "Hospital B", "TREATMENT", "LAB, IMAGING", "State Audit Office",
                 "Emergency (break-glass) access #1", report.entries[0]["tx"], generated):  # fmt: skip
        assert html_text(text) in page, text
    data = json.loads((tmp_path / "d.json").read_text())
    assert data["kind"] == "disclosures" and data["subject"]["patient"] == world.patient
    assert len(data["entries"]) == 14 and data["indexedToBlock"] == world.facts["head"]


def bad_checksum(address: str) -> str:
    """A mixed-case spelling of `address` that is not its EIP-55 checksum."""
    swapped = "0x" + address[2:].swapcase()
    assert swapped != address and not Web3.is_checksum_address(swapped)
    return swapped


def html_text(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_write_disclosures_for_the_demo(world: World, indexed: sqlite3.Connection, tmp_path: Path) -> None:
    paths = reports.write_disclosures(indexed, world.w3, world.suite, world.patient, tmp_path)
    assert [p.name for p in paths] == ["disclosures.json", "disclosures.html"]
    assert "120.00" in paths[1].read_text()


# ---- claims ----


def test_claims_ledger_and_filters(world: World, indexed: sqlite3.Connection) -> None:
    cid = chain_id(world)
    report = reports.claims(indexed, cid)
    rows = {r["claimId"]: r for r in report.rows}
    assert rows[1]["status"] == "Paid" and rows[1]["amount"] == 12_345 and rows[1]["approved"] == 12_000
    assert (
        rows[1]["paid"] == 12_000
        and rows[1]["holder"] == world.patient
        and rows[1]["insurerName"] == "Insurer X"
    )
    assert rows[1]["claimantName"] == "Hospital A" and rows[1]["evidence"] == ["0x" + world.records[0].hex()]
    assert (
        rows[2]["status"] == "Rejected"
        and rows[2]["reason"] == 3
        and rows[2]["holder"] == world.acc["patient2"]
    )
    assert report.subject["byStatus"] == {"Paid": 1, "Rejected": 1}
    only_x = reports.claims(indexed, cid, insurer=world.acc["insurer_x"])
    assert [r["claimId"] for r in only_x.rows] == [1]
    assert {e["args"]["claimId"] for e in only_x.entries} == {1}
    assert [r["claimId"] for r in reports.claims(indexed, cid, status="rejected").rows] == [2]
    assert reports.claims(indexed, cid, insurer=world.acc["insurer_x"], status="Rejected").rows == []
    with pytest.raises(InputError, match="unknown claim status 'Lost'.*Submitted"):
        reports.claims(indexed, cid, status="Lost")
    table = reports.table_rows(report)
    assert [r["status"] for r in table] == ["Paid", "Rejected"]


# ---- drug ----


def test_drug_journey_of_a_pack(world: World, indexed: sqlite3.Connection) -> None:
    report = reports.drug(indexed, chain_id(world), world.pack_scan("SN0001"))
    assert [e["event"] for e in report.entries] == [
        "ProductRegistered", "BatchCommissioned", "DrugShipped", "DrugReceived", "DrugShipped",
        "DrugReceived", "DrugDispensed", "DuplicateDispenseFlagged", "BatchRecalled",
    ]  # fmt: skip
    s = report.subject
    assert s["product"] == "Amoxicillin 500 mg" and s["lot"] == LOT and s["gtin"] == GTIN
    assert s["status"] == "Recalled" and s["packDispensed"] and s["packDispensedBy"] == "Corner Pharmacy"
    assert (
        s["duplicateScans"] == 1 and s["dispensedInBatch"] == 2 and s["batchId"] == "0x" + world.batch.hex()
    )
    summaries = " | ".join(e["summary"] for e in report.entries)
    assert "shipped by Acme Pharma to Swift Logistics" in summaries
    assert "DUPLICATE dispense attempt #1 of pack serial SN0001 flagged at Corner Pharmacy" in summaries


def test_drug_journey_of_a_batch_and_other_inputs(world: World, indexed: sqlite3.Connection) -> None:
    cid = chain_id(world)
    batch = reports.drug(indexed, cid, "0x" + world.batch.hex())
    assert (
        sum(1 for e in batch.entries if e["event"] == "DrugDispensed") == 2
        and batch.subject["serial"] is None
    )
    element = build_element_string(DrugCode(gtin=GTIN, lot=LOT, serial="SN0002"))
    pack2 = reports.drug(indexed, cid, element)
    assert [e["event"] for e in pack2.entries].count("DrugDispensed") == 1 and pack2.subject[
        "duplicateScans"
    ] == 0
    unknown = reports.drug(indexed, cid, build_digital_link(DrugCode(gtin=GTIN, lot="NOPE", serial="X1")))
    assert unknown.subject["found"] is False and unknown.subject["status"] == "unknown"
    assert [e["event"] for e in unknown.entries] == ["ProductRegistered"]
    with pytest.raises(InputError, match="no lot"):
        reports.drug(indexed, cid, build_digital_link(DrugCode(gtin=GTIN)))
    with pytest.raises(InputError):
        reports.drug(indexed, cid, "not a scan")
    with pytest.raises(InputError, match="64 hex"):
        reports.drug(indexed, cid, "0x1234")


# ---- member ----


def test_member_activity_includes_its_keys_transactions(world: World, indexed: sqlite3.Connection) -> None:
    report = reports.member(indexed, chain_id(world), world.acc["hospital_a"])
    s = report.subject
    assert s["name"] == "Hospital A" and s["roles"] == ["HOSPITAL"] and s["status"] == "Active"
    assert s["operatorKeys"] == [world.acc["key_a"]] and s["recordsAnchored"] == 4
    events = [e["event"] for e in report.entries]
    assert events.count("RecordAnchored") == 2  # anchorMany (3, one line) + anchor (1)
    many = next(e for e in report.entries if e["event"] == "RecordAnchored")
    assert many["count"] == 3 and "3 records anchored by Hospital A" in many["summary"]
    for name in ("MemberAdmitted", "OperatorAdded", "EmergencyOpened", "EmergencyReviewed", "ClaimSubmitted"):
        assert name in events, name
    via_key = reports.member(indexed, chain_id(world), world.acc["key_a"])
    assert (
        via_key.subject["member"] == world.acc["hospital_a"] and via_key.subject["key"] == world.acc["key_a"]
    )
    assert len(via_key.entries) == len(report.entries)


def test_member_report_of_a_stranger_is_empty(world: World, indexed: sqlite3.Connection) -> None:
    report = reports.member(indexed, chain_id(world), world.acc["stranger"])
    assert (
        report.entries == []
        and report.subject["isMember"] is False
        and report.subject["status"] == "not a member"
    )
