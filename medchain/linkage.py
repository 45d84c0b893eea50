"""The linkage observer: plays an outsider who reads the whole chain and tries to tie records to patients.

DESIGN §5 and §6.3 v2: an opening (patient, salt) on chain may reveal the one record it opens, never another.
The observer reads every transaction sent to the suite (decoded with the suite's ABIs), every event and every
storage slot of RecordRegistry, collects every commitment opening that appears anywhere (an access log, a
claim's evidence) and every commitment that was published (a materialised batch record), and then tries:

- each opened (patient, salt) against every anchored record hash and every data class (the version-1
  attack: one salt per patient per hospital let one opening find all of that patient's records);
- every opened salt with every patient address the chain shows (consents, accesses, policies);
- every published commitment against every opening.

What it finds is a set of (patient, leaf) links. With one salt per record it must equal the set of records
that were themselves opened, and nothing more (tests/medchain/records/test_linkage.py and the demo check
this).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from medchain.chain import transactions_to
from medchain.contracts import Suite
from medchain.hashing import patient_commitment, record_leaf

__all__ = ["LinkageReport", "observe"]

DATA_CLASSES = range(11)


@dataclass
class LinkageReport:
    """What an observer of the chain could link."""

    transactions: int = 0
    anchored: dict[bytes, bytes] = field(
        default_factory=dict
    )  # leaf -> record hash (anchor calldata / events)
    openings: set[tuple[str, bytes]] = field(default_factory=set)  # (patient, salt) seen in calldata
    opened: set[tuple[str, bytes]] = field(
        default_factory=set
    )  # (patient, leaf) of the records opened directly
    patients: set[str] = field(default_factory=set)  # every patient address the chain shows
    published_commitments: set[bytes] = field(default_factory=set)  # from materialise calldata
    links: set[tuple[str, bytes]] = field(default_factory=set)  # (patient, leaf) the observer could derive

    @property
    def extra_links(self) -> set[tuple[str, bytes]]:
        """Links beyond the records that were opened themselves: must be empty."""
        return self.links - self.opened

    def as_dict(self) -> dict[str, Any]:
        return {
            "transactions": self.transactions,
            "recordsAnchored": len(self.anchored),
            "openingsSeen": len(self.openings),
            "recordsOpened": len(self.opened),
            "patientsSeen": len(self.patients),
            "linksFound": len(self.links),
            "linksBeyondOpenedRecords": len(self.extra_links),
        }


def observe(w3: Web3, suite: Suite, *, from_block: int = 0) -> LinkageReport:
    """Reads the chain from ``from_block`` and tries every linkage the module docstring lists."""
    report = LinkageReport()
    records, claims, consent = suite.require("records"), suite.claims, suite.consent
    by_address = {c.address: c for c in (records, claims, consent) if c is not None}
    for tx in transactions_to(w3, by_address, from_block):
        report.transactions += 1
        contract = by_address[to_checksum_address(tx["to"])]
        try:
            fn, args = contract.decode_function_input(tx["input"])
        except ValueError:
            continue
        _read_call(report, suite, fn.fn_name, args, tx)
    _read_events(report, suite, from_block)
    _link(report)
    return report


def _read_call(report: LinkageReport, suite: Suite, name: str, args: dict[str, Any], tx: Any) -> None:
    """What one decoded call tells the observer."""
    if name == "anchor":
        report.anchored[bytes(args["leaf"])] = bytes(args["recordHash"])
    elif name in ("anchorMany",):
        for record_hash, leaf in zip(args["recordHashes"], args["leaves"], strict=True):
            report.anchored[bytes(leaf)] = bytes(record_hash)
    elif name == "amend":
        report.anchored[bytes(args["leaf"])] = bytes(args["recordHash"])
    elif name == "materialise":
        # (root, recordHash, patientCommitment, dataClass, proof): the ABI names it with a trailing underscore
        report.published_commitments.add(bytes(list(args.values())[2]))
    elif name == "logAccess":
        _opened(report, args["patient"], args["salt"], args["recordHash"], args["dataClass"])
    elif name == "logAccessMany":
        for record_hash, salt, data_class in map(_opening, args["openings"]):
            _opened(report, args["patient"], salt, record_hash, data_class)
    elif name == "submitClaim":
        holder = suite.require("claims").functions.getPolicy(args["policyId"]).call()[0]
        for record_hash, salt, data_class in map(_opening, args["evidence"]):
            _opened(report, holder, salt, record_hash, data_class)
    elif name in ("grant", "revoke", "createPolicy"):
        sender = tx["from"] if name != "createPolicy" else args["holder"]
        report.patients.add(to_checksum_address(sender))
    elif name in ("grantBySig", "revokeBySig"):
        report.patients.add(to_checksum_address(args["patient"]))


def _opening(item: Any) -> tuple[bytes, bytes, int]:
    """An Opening / Evidence struct as decoded (a dict by field name, or a tuple in field order)."""
    if isinstance(item, dict):
        return bytes(item["recordHash"]), bytes(item["salt"]), int(item["dataClass"])
    return bytes(item[0]), bytes(item[1]), int(item[2])


def _opened(report: LinkageReport, patient: str, salt: bytes, record_hash: bytes, data_class: int) -> None:
    who = to_checksum_address(patient)
    report.patients.add(who)
    report.openings.add((who, bytes(salt)))
    report.opened.add(
        (who, record_leaf(bytes(record_hash), patient_commitment(who, bytes(salt)), int(data_class)))
    )


def _read_events(report: LinkageReport, suite: Suite, from_block: int) -> None:
    records = suite.require("records")
    for log in records.events.RecordAnchored().get_logs(from_block=from_block):
        report.anchored[bytes(log["args"]["leaf"])] = bytes(log["args"]["recordHash"])
    for log in records.events.RecordAccessed().get_logs(from_block=from_block):
        report.patients.add(to_checksum_address(log["args"]["patient"]))
    if suite.consent is not None:
        for log in suite.consent.events.ConsentGranted().get_logs(from_block=from_block):
            report.patients.add(to_checksum_address(log["args"]["patient"]))


def _link(report: LinkageReport) -> None:
    """Every (patient, salt) the observer holds, against every anchored record hash and every class."""
    salts = {salt for _, salt in report.openings}
    candidates = {(patient, salt) for patient in report.patients for salt in salts} | report.openings
    commitments = {patient_commitment(patient, salt): patient for patient, salt in candidates}
    anchored_hashes = set(report.anchored.values())
    for commitment, patient in commitments.items():
        for record_hash in anchored_hashes:
            for data_class in DATA_CLASSES:
                leaf = record_leaf(record_hash, commitment, data_class)
                if leaf in report.anchored:
                    report.links.add((patient, leaf))
    # a published (materialised) commitment that equals an opened one ties that record to the patient too
    for commitment in report.published_commitments & set(commitments):
        patient = commitments[commitment]
        for leaf, record_hash in report.anchored.items():
            for data_class in DATA_CLASSES:
                if record_leaf(record_hash, commitment, data_class) == leaf:
                    report.links.add((patient, leaf))
