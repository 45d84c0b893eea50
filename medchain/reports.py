"""Audit reports over the event index (medchain.indexer): a patient's accounting of disclosures, the claims
ledger, a drug batch's or pack's journey, a member's activity. Tables for the CLI, JSON, and a
self-contained HTML page (inline CSS, no scripts, a Content-Security-Policy that forbids them, every value
escaped) that a patient or a regulator can read.

Every builder reads only the store, so reports work offline from a copied database; an optional
RecordRegistry handle adds each accessed record's anchoring hospital (`getRecord`).
Institutions are named from the indexed MemberAdmitted / MemberProfileUpdated events (the same names
`Consortium.getMember` returns); operator keys are attributed to their member through OperatorAdded.

Entry (one event on a timeline; `Report.entries`)::

    {"time": "2026-05-08 07:50:55 UTC", "timestamp": 1778226655, "block": 23, "tx": "0x…", "logIndex": 0,
     "contract": "ConsentRegistry", "event": "ConsentGranted", "category": "consent",
     "summary": "Consent granted to Hospital B for TREATMENT: LAB, IMAGING; valid … (no end)",
     "party": "Hospital B", "partyAddress": "0x…", "purpose": "TREATMENT", "dataClasses": ["LAB", "IMAGING"],
     "actor": "0x…", "actorName": "Hospital A (key 0x1234…abcd)", "args": {…decoded event arguments…}}

categories: consent, signature, guardian, emergency, access, record, policy, claim, payout, reserve, member,
governance, drug.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from medchain.addresses import ZERO_ADDRESS as ZERO
from medchain.addresses import checked_address
from medchain.codes import PURPOSE_NAMES, class_names, role_names
from medchain.errors import ConfigError, InputError
from medchain.indexer import (
    events_by_tx_sender,
    events_named,
    events_touching_any,
    index_info,
)
from medchain.money import format_units
from medchain.store import Connection
from medchain.timefmt import iso, iso_date

__all__ = [
    "CATEGORIES",
    "CLAIM_STATUSES",
    "Money",
    "Names",
    "Report",
    "claims",
    "disclosures",
    "drug",
    "member",
    "render_html",
    "save",
    "table_rows",
    "write_disclosures",
]

#: IClaimsManager.ClaimStatus by value
CLAIM_STATUSES: tuple[str, ...] = (
    "None",
    "Submitted",
    "Approved",
    "Rejected",
    "Withdrawn",
    "Escalated",
    "Paid",
)
#: IConsentRegistry.Review by value
REVIEWS: tuple[str, ...] = ("Pending", "Justified", "Unjustified")
#: IConsortium.ProposalKind by value
PROPOSAL_KINDS: tuple[str, ...] = ("None", "Admit", "Suspend", "Reinstate", "SetRoles", "SetThreshold")

CATEGORIES: dict[str, str] = {
    "consent": "Consent",
    "signature": "Signatures",
    "guardian": "Guardian",
    "emergency": "Emergency access",
    "access": "Record access",
    "record": "Records",
    "policy": "Policy",
    "claim": "Claim",
    "payout": "Payout",
    "reserve": "Reserve",
    "member": "Membership",
    "governance": "Governance",
    "drug": "Drug",
    "other": "Other",
}


# ---------------------------------------------------------------------------------------------------
# data


@dataclass(frozen=True)
class Money:
    """How to print token amounts: `decimals` of the settlement token (None: raw base units)."""

    decimals: int | None = None
    symbol: str = ""

    def format(self, units: int) -> str:
        return format_units(units, self.decimals, self.symbol)

    @classmethod
    def of_token(cls, token: Any) -> Money:
        """From an ERC-20 web3 Contract (symbol, decimals); raw units if it does not answer."""
        try:
            return cls(int(token.functions.decimals().call()), str(token.functions.symbol().call()))
        except Exception:  # not an ERC-20 with metadata, or no node: raw units
            return cls()

    @classmethod
    def of_claims(cls, suite: Any) -> Money:
        """The settlement token of the suite's ClaimsManager; raw units without one, or when it does not
        answer."""
        from medchain.claims import currency

        try:
            token = currency(suite)
        except Exception:  # no ClaimsManager, not an ERC-20 with metadata, or no node: raw units
            return cls()
        return cls(token.decimals, token.symbol)


@dataclass
class Report:
    """One audit report: facts about its subject, an optional table, and a timeline of entries."""

    kind: str  # disclosures | claims | drug | member
    title: str
    chain_id: int
    indexed_to: int  # last indexed block: the report is complete up to here
    subject: dict[str, Any]
    entries: list[dict[str, Any]]
    rows: list[dict[str, Any]] = field(default_factory=list)  # claims: one per claim; disclosures: consents
    rows_title: str = ""
    intro: str = ""
    generated_at: int = field(default_factory=lambda: int(time.time()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "chainId": self.chain_id,
            "indexedToBlock": self.indexed_to,
            "generatedAt": iso(self.generated_at),
            "subject": self.subject,
            "rows": self.rows,
            "entries": self.entries,
        }


class Names:
    """Institution names and operator keys from the index; `extra` adds names for other addresses
    (e.g. the demo's patient)."""

    def __init__(self, conn: Connection, chain_id: int, extra: dict[str, str] | None = None) -> None:
        self.members: dict[str, str] = {}
        self.keys: dict[str, str] = {}  # key -> member (lower case)
        for ev in events_named(
            conn, chain_id, "Consortium", ["MemberAdmitted", "MemberProfileUpdated", "OperatorAdded"]
        ):
            args = ev["args"]
            if ev["event"] == "OperatorAdded":
                self.keys[args["key"].lower()] = args["member"].lower()
            else:
                self.members[args["member"].lower()] = str(args["name"])
        self.extra = {k.lower(): v for k, v in (extra or {}).items()}

    def name(self, address: str | None) -> str | None:
        """The institution (or extra) name of an address; None if it has none."""
        if not address:
            return None
        key = address.lower()
        return self.extra.get(key) or self.members.get(key)

    def member_of(self, address: str | None) -> str | None:
        """The member an address acts for: itself if a member, else the member of an operator key."""
        if not address:
            return None
        key = address.lower()
        if key in self.members:
            return to_checksum_address(key)
        member = self.keys.get(key)
        return to_checksum_address(member) if member else None

    def label(self, address: str | None) -> str:
        """'Hospital A', 'Hospital A (key 0x1234…abcd)', or a short address."""
        if not address or address.lower() == ZERO:
            return "—"
        name = self.name(address)
        if name:
            return name
        member = self.keys.get(address.lower())
        if member and member in self.members:
            return f"{self.members[member]} (key {short(address)})"
        return short(address)


def short(value: str) -> str:
    """0x1234…abcd."""
    return value if len(value) <= 14 else f"{value[:6]}…{value[-4:]}"


def _require_index(conn: Connection, chain_id: int) -> dict[str, Any]:
    info = index_info(conn, chain_id)
    if info is None:
        raise ConfigError(
            f"chain {chain_id} is not indexed in this store yet: run `medchain audit index` first"
        )
    return info


# ---------------------------------------------------------------------------------------------------
# describing events


@dataclass
class _Ctx:
    names: Names
    money: Money
    records: Any = None  # RecordRegistry web3 Contract, for the anchoring hospital of accessed records
    record_cache: dict[str, str | None] = field(default_factory=dict)

    def hospital_of(self, leaf: str) -> str | None:
        """The anchoring hospital of a record leaf, from the chain; None without a registry."""
        if self.records is None:
            return None
        if leaf not in self.record_cache:
            try:
                hospital, _at, _origin = self.records.functions.getRecord(leaf).call()
                self.record_cache[leaf] = None if int(hospital, 16) == 0 else str(hospital)
            except Exception:  # no node: the report still stands without the hospital
                self.record_cache[leaf] = None
        return self.record_cache[leaf]


@dataclass
class _Desc:
    category: str
    summary: str
    party: str | None = None  # the institution the event is about
    purpose: int | None = None
    classes: list[str] | None = None
    actor: str | None = None  # who acted (a key or member), when the event says


Describer = Callable[[dict[str, Any], _Ctx, dict[str, Any]], _Desc]


def _purpose(code: int) -> str:
    return PURPOSE_NAMES.get(int(code), f"purpose {code}")


def _classes_text(names: list[str]) -> str:
    return ", ".join(names) if names else "no data classes"


def _validity(valid_from: int, valid_until: int) -> str:
    start = f"valid from {iso(valid_from)}" if valid_from else "valid from the grant"
    return start + (f" to {iso(valid_until)}" if valid_until else ", no end date")


def _consent_granted(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    classes = class_names(int(a["dataClasses"]))
    text = (
        f"Consent granted to {c.names.label(a['grantee'])} for {_purpose(a['purpose'])}: "
        f"{_classes_text(classes)}; {_validity(int(a['validFrom']), int(a['validUntil']))}"
    )
    return _Desc("consent", text, a["grantee"], int(a["purpose"]), classes, ev.get("txFrom"))


def _consent_revoked(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    text = f"Consent to {c.names.label(a['grantee'])} for {_purpose(a['purpose'])} revoked"
    return _Desc("consent", text, a["grantee"], int(a["purpose"]), None, ev.get("txFrom"))


def _nonce_invalidated(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    text = f"All outstanding consent signatures invalidated (nonce {a['nonce']} used up)"
    return _Desc("signature", text, None, None, None, ev.get("txFrom"))


def _guardian(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    who = c.names.label(a["guardian"])
    text = {
        "GuardianActed": f"Guardian {who} acted for the patient",
        "GuardianSet": f"Guardian {who} appointed until {iso(int(a.get('until', 0)))}",
        "GuardianRemoved": f"Guardian {who} removed",
    }[ev["event"]]
    actor = a["guardian"] if ev["event"] == "GuardianActed" else ev.get("txFrom")
    return _Desc("guardian", text, None, None, None, actor)


def _emergency(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    hospital = c.names.label(a["hospital"])
    opening = a["openingId"]
    if ev["event"] == "EmergencyOpened":
        text = (
            f"Emergency (break-glass) access #{opening} opened by {hospital}, reason code {a['reasonCode']}, "
            f"until {iso(int(a['expiresAt']))}; justification document hash {short(a['justificationHash'])}"
        )
        return _Desc("emergency", text, a["hospital"], 4, None, a["operator"])
    if ev["event"] == "EmergencyClosed":
        text = f"Emergency access #{opening} closed by {hospital}"
        return _Desc("emergency", text, a["hospital"], 4, None, ev.get("txFrom"))
    review = REVIEWS[int(a["review"])] if int(a["review"]) < len(REVIEWS) else str(a["review"])
    reviewer = c.names.label(a["reviewer"])
    text = f"Emergency access #{opening} by {hospital} reviewed by {reviewer}: {review.lower()}"
    return _Desc("emergency", text, a["hospital"], 4, None, a["reviewer"])


def _record_accessed(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    data_class = int(a["dataClass"])
    classes = [class_names(1 << data_class)[0]] if data_class < 11 else None
    what = f"{classes[0]} record" if classes else "record"
    hospital = c.hospital_of(a["leaf"])
    origin = f" (anchored by {c.names.label(hospital)})" if hospital else ""
    text = (
        f"{what[0].upper() + what[1:]} {short(a['leaf'])}{origin} accessed by {c.names.label(a['accessor'])} "
        f"for {_purpose(a['purpose'])}"
    )
    return _Desc("access", text, a["accessor"], int(a["purpose"]), classes, a["by"])


def _record_anchored(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    count = int(ev.get("count", 1))
    who = c.names.member_of(ev.get("txFrom"))
    by = f" by {c.names.label(who)}" if who else ""
    text = f"{count:,} records anchored{by}" if count > 1 else f"Record {short(a['leaf'])} anchored{by}"
    return _Desc("record", text, who, None, None, ev.get("txFrom"))


def _record_amended(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    hospital = c.names.label(a["hospital"])
    text = f"Record {short(a['previousLeaf'])} amended by {hospital}: new version {short(a['leaf'])}"
    return _Desc("record", text, a["hospital"], None, None, ev.get("txFrom"))


def _batch_anchored(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    who = c.names.member_of(ev.get("txFrom"))
    by = f" by {c.names.label(who)}" if who else ""
    uri = f"; proofs at {a['uri']}" if a.get("uri") else ""
    return _Desc(
        "record", f"Merkle batch {short(a['root'])} anchored{by}{uri}", who, None, None, ev.get("txFrom")
    )


def _materialised(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    by = c.names.label(a["by"])
    text = f"Batch record {short(a['leaf'])} of batch {short(a['root'])} materialised by {by}"
    return _Desc("record", text, None, None, None, a["by"])


def _policy_created(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    text = (
        f"Policy #{a['policyId']} issued by {c.names.label(a['insurer'])} to {c.names.label(a['holder'])}: "
        f"coverage {c.money.format(a['coverage'])}, {_validity(int(a['validFrom']), int(a['validUntil']))}"
    )
    return _Desc("policy", text, a["insurer"], None, None, a["by"])


def _claim_settings(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    window = int(a["decisionWindow"])
    threshold = int(a["dualControlThreshold"])
    dual = f"dual control above {c.money.format(threshold)}" if threshold else "dual control off"
    text = f"{c.names.label(a['insurer'])} set its claim decision window to {window / 86400:g} days, {dual}"
    return _Desc("reserve", text, a["insurer"], None, None, ev.get("txFrom"))


def _reserve(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    verb, who = (
        ("deposited into", a["from"]) if ev["event"] == "ReserveDeposited" else ("withdrawn from", a["by"])
    )
    text = (
        f"{c.money.format(a['amount'])} {verb} {c.names.label(a['insurer'])}'s claims reserve by "
        f"{c.names.label(who)} (reserve now {c.money.format(a['reserve'])})"
    )
    return _Desc("reserve", text, a["insurer"], None, None, who)


def _status(value: Any) -> str:
    i = int(value)
    return CLAIM_STATUSES[i] if 0 <= i < len(CLAIM_STATUSES) else str(i)


def _claim(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    claim = f"Claim #{a['claimId']}"
    name = ev["event"]
    insurer = a.get("insurer")
    if name == "ClaimSubmitted":
        hashes = a.get("recordHashes") or []
        text = (
            f"{claim} submitted to {c.names.label(insurer)} on policy #{a['policyId']} by "
            f"{c.names.label(a['claimant'])}: {c.money.format(a['amount'])}, {len(hashes)} evidence record(s)"
        )
        return _Desc("claim", text, insurer, 2, None, a["by"])
    if name == "ClaimStatusChanged":
        text = f"{claim}: {_status(a['previous'])} → {_status(a['status'])} (by {c.names.label(a['actor'])})"
        return _Desc("claim", text, None, None, None, a["actor"])
    if name == "ClaimApprovalPending":
        text = (
            f"{claim}: first approval of {c.money.format(a['amount'])} by key {short(a['key'])} of "
            f"{c.names.label(insurer)}; a second key must confirm (dual control)"
        )
        return _Desc("claim", text, insurer, None, None, a["key"])
    if name == "ClaimApproved":
        amount, claimed = c.money.format(a["amount"]), c.money.format(a["claimed"])
        text = f"{claim} approved by {c.names.label(insurer)}: {amount} of {claimed} claimed"
        return _Desc("claim", text, insurer, None, None, ev.get("txFrom"))
    if name == "ClaimRejected":
        text = f"{claim} rejected by {c.names.label(insurer)}, reason code {a['reason']}"
        return _Desc("claim", text, insurer, None, None, ev.get("txFrom"))
    if name == "ClaimPaid":
        amount, holder = c.money.format(a["amount"]), c.names.label(a["holder"])
        text = f"{claim} paid by {c.names.label(insurer)}: {amount} credited to {holder}"
        return _Desc("payout", text, insurer, None, None, ev.get("txFrom"))
    raise KeyError(name)


def _payout_withdrawn(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    amount, to, by = c.money.format(a["amount"]), c.names.label(a["beneficiary"]), c.names.label(a["by"])
    text = f"Payout of {amount} withdrawn to {to} (sent by {by})"
    return _Desc("payout", text, None, None, None, a["by"])


def _member_event(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    name = ev["event"]
    who = c.names.label(a.get("member"))
    if name == "MemberAdmitted":
        text = (
            f"{a['name']} admitted to the consortium as {', '.join(role_names(int(a['roles']))) or 'no role'}"
        )
    elif name == "MemberSuspended":
        text = f"{who} suspended (proposal #{a['proposalId']})"
    elif name == "MemberReinstated":
        text = f"{who} reinstated (proposal #{a['proposalId']})"
    elif name == "MemberRolesChanged":
        old, new = role_names(int(a["previousRoles"])), role_names(int(a["roles"]))
        text = f"{who} roles changed from {', '.join(old) or 'none'} to {', '.join(new) or 'none'}"
    elif name == "MemberProfileUpdated":
        text = f"{short(a['member'])} profile updated: name {a['name']!r}" + (
            f", endpoint {a['uri']}" if a["uri"] else ""
        )
    elif name == "OperatorAdded":
        text = f"{who} added operator key {a['key']}"
    else:  # OperatorRemoved
        text = f"{who} removed operator key {a['key']}"
    return _Desc("member", text, a.get("member"), None, None, ev.get("txFrom"))


def _governance(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    name = ev["event"]
    if name == "ThresholdChanged":
        text = f"Council threshold changed from {a['previousThreshold']} to {a['threshold']}"
        return _Desc("governance", text, None, None, None, ev.get("txFrom"))
    pid = a["proposalId"]
    if name == "ProposalCreated":
        kind = int(a["kind"])
        label = PROPOSAL_KINDS[kind] if kind < len(PROPOSAL_KINDS) else str(kind)
        value = ""
        if label in ("Admit", "SetRoles"):
            value = f" as {', '.join(role_names(int(a['value'])))}"
        elif label == "SetThreshold":
            value = f" to {a['value']}"
        target = f" {c.names.label(a['target'])}" if a["target"] != ZERO else ""
        text = f"Proposal #{pid} by {c.names.label(a['proposer'])}: {label}{target}{value}"
        return _Desc(
            "governance", text, a["target"] if a["target"] != ZERO else None, None, None, a["proposer"]
        )
    if name == "ProposalApproved":
        text = f"Proposal #{pid} approved by {c.names.label(a['member'])} ({a['approvals']} approval(s))"
        return _Desc("governance", text, None, None, None, a["member"])
    if name == "ProposalExecuted":
        text = f"Proposal #{pid} executed by {c.names.label(a['executor'])}"
        return _Desc("governance", text, None, None, None, a["executor"])
    text = f"Proposal #{pid} cancelled by {c.names.label(a['member'])}"
    return _Desc("governance", text, None, None, None, a["member"])


def _gtin14(gtin: Any) -> str:
    return str(int(gtin)).zfill(14)


def _drug(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    name = ev["event"]
    n = c.names.label
    if name == "ProductRegistered":
        text = f"Product GTIN {_gtin14(a['gtin'])} “{a['name']}” registered by {n(a['manufacturer'])}"
        return _Desc("drug", text, a["manufacturer"], None, None, ev.get("txFrom"))
    if name == "BatchCommissioned":
        text = (
            f"Batch lot {a['lot']} of GTIN {_gtin14(a['gtin'])} commissioned by {n(a['manufacturer'])}: "
            f"{int(a['quantity']):,} units, expiry {iso_date(int(a['expiry']))}"
        )
        return _Desc("drug", text, a["manufacturer"], None, None, ev.get("txFrom"))
    if name == "DrugShipped":
        units = f"{int(a['quantity']):,} units"
        text = f"Shipment #{a['shipmentId']}: {units} shipped by {n(a['from'])} to {n(a['to'])}"
        return _Desc("drug", text, a["from"], None, None, ev.get("txFrom"))
    if name == "DrugReceived":
        units = f"{int(a['quantityReceived']):,} units"
        text = f"Shipment #{a['shipmentId']}: {units} received by {n(a['to'])} from {n(a['from'])}"
        return _Desc("drug", text, a["to"], None, None, ev.get("txFrom"))
    if name == "DrugReceiptDiscrepancy":
        lost = int(a["shipped"]) - int(a["received"])
        got = f"{a['received']} of {a['shipped']} units"
        text = f"Shipment #{a['shipmentId']}: {n(a['to'])} received {got} ({lost} missing)"
        return _Desc("drug", text, a["to"], None, None, ev.get("txFrom"))
    if name == "DrugDispensed":
        serial = f" serial {ev['serial']}" if ev.get("serial") else ""
        text = f"Pack{serial} dispensed by {n(a['member'])}"
        return _Desc("drug", text, a["member"], None, None, ev.get("txFrom"))
    if name == "DuplicateDispenseFlagged":
        serial = f" serial {ev['serial']}" if ev.get("serial") else ""
        text = (
            f"DUPLICATE dispense attempt #{a['duplicateCount']} of pack{serial} flagged at {n(a['member'])}"
        )
        return _Desc("drug", text, a["member"], None, None, ev.get("txFrom"))
    text = f"Batch RECALLED by {n(a['by'])}; recall notice hash {short(a['reasonHash'])}"
    return _Desc("drug", text, a["by"], None, None, ev.get("txFrom"))


_DESCRIBERS: dict[str, Describer] = {
    "ConsentGranted": _consent_granted,
    "ConsentRevoked": _consent_revoked,
    "NonceInvalidated": _nonce_invalidated,
    "GuardianActed": _guardian,
    "GuardianSet": _guardian,
    "GuardianRemoved": _guardian,
    "EmergencyOpened": _emergency,
    "EmergencyClosed": _emergency,
    "EmergencyReviewed": _emergency,
    "RecordAccessed": _record_accessed,
    "RecordAnchored": _record_anchored,
    "RecordAmended": _record_amended,
    "BatchAnchored": _batch_anchored,
    "BatchRecordMaterialised": _materialised,
    "PolicyCreated": _policy_created,
    "ClaimSettingsChanged": _claim_settings,
    "ReserveDeposited": _reserve,
    "ReserveWithdrawn": _reserve,
    "ClaimSubmitted": _claim,
    "ClaimStatusChanged": _claim,
    "ClaimApprovalPending": _claim,
    "ClaimApproved": _claim,
    "ClaimRejected": _claim,
    "ClaimPaid": _claim,
    "PayoutWithdrawn": _payout_withdrawn,
    **dict.fromkeys(
        (
            "MemberAdmitted",
            "MemberSuspended",
            "MemberReinstated",
            "MemberRolesChanged",
            "MemberProfileUpdated",
            "OperatorAdded",
            "OperatorRemoved",
        ),
        _member_event,
    ),
    **dict.fromkeys(
        ("ThresholdChanged", "ProposalCreated", "ProposalApproved", "ProposalExecuted", "ProposalCancelled"),
        _governance,
    ),
    **dict.fromkeys(
        (
            "ProductRegistered",
            "BatchCommissioned",
            "DrugShipped",
            "DrugReceived",
            "DrugReceiptDiscrepancy",
            "DrugDispensed",
            "DuplicateDispenseFlagged",
            "BatchRecalled",
        ),
        _drug,
    ),
}


def _generic(a: dict[str, Any], c: _Ctx, ev: dict[str, Any]) -> _Desc:
    """An event this module does not know yet (a contract grew one): name and arguments."""
    inner = ", ".join(f"{k}={short(v) if isinstance(v, str) else v}" for k, v in a.items())
    return _Desc("other", f"{ev['contract']}.{ev['event']}({inner})", None, None, None, ev.get("txFrom"))


def _entry(ev: dict[str, Any], c: _Ctx) -> dict[str, Any]:
    try:
        d = _DESCRIBERS.get(ev["event"], _generic)(ev["args"], c, ev)
    except (KeyError, ValueError, TypeError, IndexError):  # an event whose arguments moved: still listed
        d = _generic(ev["args"], c, ev)
    party = to_checksum_address(d.party) if d.party else None
    actor = to_checksum_address(d.actor) if d.actor else None
    entry = {
        "time": iso(ev["timestamp"]),
        "timestamp": ev["timestamp"],
        "block": ev["block"],
        "tx": ev["tx"],
        "logIndex": ev["logIndex"],
        "contract": ev["contract"],
        "event": ev["event"],
        "category": d.category,
        "summary": d.summary,
        "party": c.names.name(party) if party else None,
        "partyAddress": party,
        "purpose": _purpose(d.purpose) if d.purpose else None,
        "dataClasses": d.classes,
        "actor": actor,
        "actorName": c.names.label(actor) if actor else None,
        "args": ev["args"],
    }
    if "count" in ev:
        entry["count"] = ev["count"]
    return entry


def _collapse_anchors(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive RecordAnchored events of one transaction become one event with a count and the leaves."""
    out: list[dict[str, Any]] = []
    for ev in events:
        last = out[-1] if out else None
        if (
            ev["event"] == "RecordAnchored"
            and last is not None
            and last["event"] == "RecordAnchored"
            and last["tx"] == ev["tx"]
        ):
            last["count"] += 1
            last["args"]["leaves"].append(ev["args"]["leaf"])
            continue
        if ev["event"] == "RecordAnchored":
            ev = {**ev, "count": 1, "args": {"leaf": ev["args"]["leaf"], "leaves": [ev["args"]["leaf"]]}}
        out.append(ev)
    return out


def _unique(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[int, int], dict[str, Any]] = {}
    for ev in events:
        seen.setdefault((ev["block"], ev["logIndex"]), ev)
    return [seen[k] for k in sorted(seen)]


# ---------------------------------------------------------------------------------------------------
# reports


def disclosures(
    conn: Connection,
    chain_id: int,
    patient: str,
    names: dict[str, str] | None = None,
    *,
    records: Any = None,
    money: Money | None = None,
) -> Report:
    """The patient's accounting of disclosures: every consent grant and revocation, signature invalidation,
    guardian change, record access, break-glass opening / closing / review, policy and claim touching the
    patient (claims through the policies the patient holds), in chain order.

    `records` (a RecordRegistry web3 Contract) adds the data class of each accessed record; `names` adds
    names for addresses that are not members (e.g. the patient). An unknown patient gives an empty report.
    """
    info = _require_index(conn, chain_id)
    who = checked_address(patient, "patient")
    known = {k.lower(): v for k, v in (names or {}).items()}
    ctx = _Ctx(Names(conn, chain_id, {who: "the patient", **known}), money or Money(), records)
    events = events_touching_any(conn, chain_id, [who])
    policies = [
        int(ev["args"]["policyId"])
        for ev in events
        if ev["event"] == "PolicyCreated" and ev["args"]["holder"].lower() == who.lower()
    ]
    claim_events = [
        ev
        for ev in events_touching_any(conn, chain_id, [f"policyId={p}" for p in policies])
        if ev["contract"] == "ClaimsManager"
    ]
    claim_ids = {int(ev["args"]["claimId"]) for ev in claim_events if "claimId" in ev["args"]}
    claim_events += [
        ev
        for ev in events_touching_any(conn, chain_id, [f"claimId={c}" for c in claim_ids])
        if ev["contract"] == "ClaimsManager"
    ]
    entries = [_entry(ev, ctx) for ev in _unique(events + claim_events)]
    consents = _consent_state(entries, ctx)
    counts = _counts(entries)
    subject = {
        "patient": who,
        "name": known.get(who.lower()),
        "events": len(entries),
        "consentsInForce": sum(1 for r in consents if r["status"] == "in force"),
        "recordAccesses": counts.get("access", 0),
        "emergencyAccesses": sum(1 for e in entries if e["event"] == "EmergencyOpened"),
        "claims": len(claim_ids),
        "from": entries[0]["time"] if entries else None,
        "to": entries[-1]["time"] if entries else None,
    }
    intro = (
        "This is the accounting of disclosures for the patient address below, as recorded on the MedChain "
        "consortium ledger: every consent the patient (or a guardian, or an institution relaying the "
        "patient's signature) gave or withdrew, every recorded access to the patient's health records and "
        "its purpose, every emergency (break-glass) access and its review, and every insurance policy and "
        "claim of the patient. Health records themselves are never on the ledger, only their hashes; "
        "institutions are named as registered with the consortium."
    )
    return Report(
        kind="disclosures",
        title="Accounting of disclosures",
        chain_id=chain_id,
        indexed_to=info["lastBlock"],
        subject=subject,
        entries=entries,
        rows=consents,
        rows_title="Consents (latest state of each grant)",
        intro=intro,
    )


def _consent_state(entries: list[dict[str, Any]], ctx: _Ctx) -> list[dict[str, Any]]:
    """The latest state per (grantee, purpose) from the grant / revoke entries, in first-grant order."""
    now = int(time.time())
    state: dict[tuple[str, str], dict[str, Any]] = {}
    for e in entries:
        if e["event"] not in ("ConsentGranted", "ConsentRevoked"):
            continue
        a = e["args"]
        key = (a["grantee"].lower(), str(a["purpose"]))
        if e["event"] == "ConsentGranted":
            until = int(a["validUntil"])
            state[key] = {
                "institution": ctx.names.label(a["grantee"]),
                "grantee": a["grantee"],
                "purpose": _purpose(a["purpose"]),
                "dataClasses": class_names(int(a["dataClasses"])),
                "validFrom": iso(int(a["validFrom"])) or "the grant",
                "validUntil": iso(until) if until else "no end",
                "granted": e["time"],
                "status": "expired" if until and until < now else "in force",
                "revoked": None,
            }
        elif key in state:
            state[key]["status"] = "revoked"
            state[key]["revoked"] = e["time"]
    return list(state.values())


def _counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in entries:
        counts[e["category"]] = counts.get(e["category"], 0) + 1
    return counts


def claims(
    conn: Connection,
    chain_id: int,
    *,
    insurer: str | None = None,
    status: str | None = None,
    names: dict[str, str] | None = None,
    money: Money | None = None,
) -> Report:
    """The claims ledger from events: one row per claim (policy, holder, insurer, claimant, amounts, status,
    times, evidence), optionally only one insurer's (member address) and/or one status (e.g. ``Paid``);
    the entries are the listed claims' events."""
    info = _require_index(conn, chain_id)
    want_status = None
    if status is not None:
        known = {s.lower(): s for s in CLAIM_STATUSES[1:]}
        if status.strip().lower() not in known:
            raise InputError(f"unknown claim status {status!r} (known: {', '.join(CLAIM_STATUSES[1:])})")
        want_status = known[status.strip().lower()]
    want_insurer = checked_address(insurer, "insurer").lower() if insurer else None
    ctx = _Ctx(Names(conn, chain_id, names), money or Money())
    all_events = events_named(conn, chain_id, "ClaimsManager")
    holders = {
        int(e["args"]["policyId"]): e["args"]["holder"] for e in all_events if e["event"] == "PolicyCreated"
    }
    by_claim: dict[int, dict[str, Any]] = {}
    history: dict[int, list[dict[str, Any]]] = {}
    for ev in all_events:
        a = ev["args"]
        if "claimId" not in a:
            continue
        cid = int(a["claimId"])
        if ev["event"] == "ClaimSubmitted":
            by_claim[cid] = {
                "claimId": cid,
                "policyId": int(a["policyId"]),
                "insurer": a["insurer"],
                "insurerName": ctx.names.label(a["insurer"]),
                "holder": holders.get(int(a["policyId"])),
                "claimant": a["claimant"],
                "claimantName": ctx.names.label(a["claimant"]),
                "amount": int(a["amount"]),
                "amountText": ctx.money.format(a["amount"]),
                "approved": None,
                "paid": None,
                "status": "Submitted",
                "reason": None,
                "submitted": iso(ev["timestamp"]),
                "updated": iso(ev["timestamp"]),
                "decideBy": iso(int(a["decideBy"])),
                "evidence": list(a.get("recordHashes") or []),
                "invoiceHash": a.get("invoiceHash"),
                "tx": ev["tx"],
            }
        row = by_claim.get(cid)
        if row is None:
            continue
        history.setdefault(cid, []).append(ev)
        row["updated"] = iso(ev["timestamp"])
        if ev["event"] == "ClaimStatusChanged":
            row["status"] = _status(a["status"])
        elif ev["event"] == "ClaimApproved":
            row["approved"] = int(a["amount"])
        elif ev["event"] == "ClaimRejected":
            row["reason"] = int(a["reason"])
        elif ev["event"] == "ClaimPaid":
            row["paid"] = int(a["amount"])
    rows = [
        r
        for r in by_claim.values()
        if (want_insurer is None or r["insurer"].lower() == want_insurer)
        and (want_status is None or r["status"] == want_status)
    ]
    selected = {r["claimId"] for r in rows}
    entries = [_entry(ev, ctx) for cid in sorted(selected) for ev in history[cid]]
    entries.sort(key=lambda e: (e["block"], e["logIndex"]))
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    subject: dict[str, Any] = {
        "insurer": to_checksum_address(want_insurer) if want_insurer else "all",
        "insurerName": ctx.names.label(want_insurer) if want_insurer else None,
        "status": want_status or "all",
        "claims": len(rows),
        "claimed": ctx.money.format(sum(r["amount"] for r in rows)),
        "paid": ctx.money.format(sum(r["paid"] or 0 for r in rows)),
        "byStatus": by_status,
    }
    return Report(
        kind="claims",
        title="Claims ledger",
        chain_id=chain_id,
        indexed_to=info["lastBlock"],
        subject=subject,
        entries=entries,
        rows=rows,
        rows_title="Claims",
        intro="Claims submitted to the consortium's shared claims ledger, rebuilt from its events.",
    )


def _drug_target(scan: str) -> tuple[str, int | None, str | None, str | None]:
    """(batch id hex, gtin, lot, serial) from a 0x batch id or a GS1 scan with (01) and (10)."""
    from medchain.gs1 import parse_drug_code
    from medchain.serials import batch_id

    text = scan.strip()
    if text.lower().startswith("0x"):
        if len(text) != 66 or not all(ch in "0123456789abcdefABCDEF" for ch in text[2:]):
            raise InputError(f"batch id {scan!r} must be 0x and 64 hex digits")
        return text.lower(), None, None, None
    code = parse_drug_code(text)
    if not code.lot:
        raise InputError(f"scan {scan!r} has no lot (AI 10): it names a product, not a batch or pack")
    return "0x" + batch_id(code.gtin, code.lot).hex(), int(code.gtin), code.lot, code.serial


def drug(conn: Connection, chain_id: int, scan: str, names: dict[str, str] | None = None) -> Report:
    """A batch's journey (registration, commissioning, shipments, receipts, dispenses, duplicate-dispense
    flags, recall) from a GS1 scan (Digital Link URI, element string) or a 0x batch id. With a serial in
    the scan, dispense events are only that pack's (others of the batch are counted, not listed)."""
    from medchain.serials import serial_leaf

    info = _require_index(conn, chain_id)
    batch, gtin, lot, serial = _drug_target(scan)
    ctx = _Ctx(Names(conn, chain_id, names), Money())
    events = [e for e in events_touching_any(conn, chain_id, [batch]) if e["contract"] == "DrugTrace"]
    commissioned = next((e for e in events if e["event"] == "BatchCommissioned"), None)
    if commissioned is not None:
        gtin = int(commissioned["args"]["gtin"])
        lot = str(commissioned["args"]["lot"])
    product = None
    if gtin is not None:
        registered = [
            e
            for e in events_touching_any(conn, chain_id, [f"gtin={gtin}"])
            if e["event"] == "ProductRegistered"
        ]
        if registered:
            product = registered[-1]
            events = _unique(events + registered)
    leaf = "0x" + serial_leaf(bytes.fromhex(batch[2:]), serial).hex() if serial else None
    pack_kinds = ("DrugDispensed", "DuplicateDispenseFlagged")
    dispensed_total = sum(1 for e in events if e["event"] == "DrugDispensed")
    if leaf is not None:
        events = [e for e in events if e["event"] not in pack_kinds or e["args"]["serialLeaf"] == leaf]
        for e in events:
            if e["event"] in pack_kinds:
                e["serial"] = serial
    entries = [_entry(e, ctx) for e in events]
    recalled = next((e for e in events if e["event"] == "BatchRecalled"), None)
    subject: dict[str, Any] = {
        "batchId": batch,
        "gtin": _gtin14(gtin) if gtin is not None else None,
        "product": product["args"]["name"] if product else None,
        "lot": lot,
        "serial": serial,
        "serialLeaf": leaf,
        "found": commissioned is not None,
        "manufacturer": ctx.names.label(commissioned["args"]["manufacturer"]) if commissioned else None,
        "quantity": int(commissioned["args"]["quantity"]) if commissioned else None,
        "expiry": iso_date(int(commissioned["args"]["expiry"])) if commissioned else None,
        "status": "Recalled" if recalled else ("Active" if commissioned else "unknown"),
        "recalledAt": iso(recalled["timestamp"]) if recalled else None,
        "shipments": sum(1 for e in events if e["event"] == "DrugShipped"),
        "dispensedInBatch": dispensed_total,
    }
    if serial is not None:
        first = next((e for e in events if e["event"] == "DrugDispensed"), None)
        subject["packDispensed"] = first is not None
        subject["packDispensedBy"] = ctx.names.label(first["args"]["member"]) if first else None
        subject["packDispensedAt"] = iso(first["timestamp"]) if first else None
        subject["duplicateScans"] = sum(1 for e in events if e["event"] == "DuplicateDispenseFlagged")
    label = f"lot {lot}" if lot else short(batch)
    title = f"Drug journey: {subject['product'] or 'batch'} {label}" + (
        f", serial {serial}" if serial else ""
    )
    return Report(
        kind="drug",
        title=title,
        chain_id=chain_id,
        indexed_to=info["lastBlock"],
        subject=subject,
        entries=entries,
        intro="Every DrugTrace event of this batch (and of this pack, when a serial was scanned), in order.",
    )


def member(
    conn: Connection,
    chain_id: int,
    address: str,
    names: dict[str, str] | None = None,
    *,
    money: Money | None = None,
) -> Report:
    """A member's (or any address's) activity: its admission, roles, profile, operator keys and governance,
    consents granted to it, accesses it logged, emergencies it opened or reviewed, records it anchored
    (attributed through its keys' transactions), policies and claims, drug custody. An operator key given
    instead of a member address reports on the key's member."""
    info = _require_index(conn, chain_id)
    who = checked_address(address, "member")
    ctx = _Ctx(Names(conn, chain_id, names), money or Money())
    target = ctx.names.member_of(who) or who
    keys = [k for k, m in ctx.names.keys.items() if m == target.lower()]
    events = events_touching_any(conn, chain_id, [target])
    events += events_by_tx_sender(conn, chain_id, [target, *keys])
    entries = [_entry(e, ctx) for e in _collapse_anchors(_unique(events))]
    state = _member_state(conn, chain_id, target)
    active_keys = _current_keys(conn, chain_id, target)
    counts = _counts(entries)
    subject: dict[str, Any] = {
        "member": target,
        "name": ctx.names.name(target),
        "isMember": state["admitted"] is not None,
        "roles": state["roles"],
        "status": state["status"],
        "admitted": state["admitted"],
        "operatorKeys": active_keys,
        "events": len(entries),
        "recordsAnchored": sum(int(e.get("count", 1)) for e in entries if e["event"] == "RecordAnchored"),
        "byCategory": counts,
    }
    if who != target:
        subject["key"] = who
    return Report(
        kind="member",
        title=f"Member activity: {ctx.names.label(target)}",
        chain_id=chain_id,
        indexed_to=info["lastBlock"],
        subject=subject,
        entries=entries,
        intro=(
            "Every event of the suite that names this institution, or that was sent by one of its keys, in "
            "chain order. Records anchored in one transaction are shown as one line."
        ),
    )


def _member_state(conn: Connection, chain_id: int, target: str) -> dict[str, Any]:
    state: dict[str, Any] = {"roles": [], "status": "not a member", "admitted": None}
    kinds = ["MemberAdmitted", "MemberSuspended", "MemberReinstated", "MemberRolesChanged"]
    for ev in events_named(conn, chain_id, "Consortium", kinds):
        a = ev["args"]
        if a["member"].lower() != target.lower():
            continue
        if ev["event"] == "MemberAdmitted":
            state.update(roles=role_names(int(a["roles"])), status="Active", admitted=iso(ev["timestamp"]))
        elif ev["event"] == "MemberRolesChanged":
            state["roles"] = role_names(int(a["roles"]))
        else:
            state["status"] = "Suspended" if ev["event"] == "MemberSuspended" else "Active"
    return state


def _current_keys(conn: Connection, chain_id: int, target: str) -> list[str]:
    keys: dict[str, bool] = {}
    for ev in events_named(conn, chain_id, "Consortium", ["OperatorAdded", "OperatorRemoved"]):
        if ev["args"]["member"].lower() == target.lower():
            keys[ev["args"]["key"]] = ev["event"] == "OperatorAdded"
    return [k for k, on in keys.items() if on]


# ---------------------------------------------------------------------------------------------------
# output


def table_rows(report: Report) -> list[dict[str, Any]]:
    """The CLI table: claims one row per claim; the other reports one row per timeline entry."""
    if report.kind == "claims":
        return [
            {
                "claim": r["claimId"],
                "policy": r["policyId"],
                "insurer": r["insurerName"],
                "holder": short(r["holder"]) if r["holder"] else "",
                "amount": r["amountText"],
                "status": r["status"],
                "submitted": r["submitted"],
                "updated": r["updated"],
                "evidence": len(r["evidence"]),
            }
            for r in report.rows
        ]
    return [
        {
            "time": e["time"],
            "what": e["summary"],
            "purpose": e["purpose"] or "",
            "data classes": ", ".join(e["dataClasses"] or []),
            "tx": short(e["tx"]),
        }
        for e in report.entries
    ]


#: no scripts, no fetches: the page can only use its own inline style
_CSP = "default-src 'none'; style-src 'unsafe-inline'"

_CSS = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       background: #f5f6f8; color: #1d2330; }
main { max-width: 980px; margin: 0 auto; padding: 28px 20px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 10px; }
.meta { color: #5b6475; font-size: 13px; }
.intro { background: #fff; border-left: 4px solid #3566d6; padding: 12px 16px; margin: 18px 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; background: #fff;
           padding: 14px 18px; border-radius: 8px; margin: 0; }
dl.facts dt { color: #5b6475; } dl.facts dd { margin: 0; word-break: break-all; }
table { border-collapse: collapse; width: 100%; background: #fff; border-radius: 8px; overflow: hidden;
        font-size: 13px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e6e8ee; vertical-align: top; }
th { background: #eef1f6; font-weight: 600; }
ol.timeline { list-style: none; margin: 0; padding: 0 0 0 18px; border-left: 2px solid #cdd3de; }
ol.timeline li { position: relative; background: #fff; border-radius: 8px; padding: 10px 14px;
                 margin: 0 0 10px 10px; }
ol.timeline li::before { content: ""; position: absolute; left: -34px; top: 16px; width: 10px; height: 10px;
                         border-radius: 50%; background: #8a94a8; }
.when { color: #5b6475; font-size: 12px; }
.what { font-weight: 600; margin: 2px 0; }
.detail { font-size: 12.5px; color: #394152; }
.hash { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 11.5px; color: #5b6475;
        word-break: break-all; }
.badge { display: inline-block; font-size: 11px; font-weight: 600; padding: 1px 7px; border-radius: 9px;
         margin-right: 6px; background: #e6e8ee; color: #394152; }
.c-consent::before, .c-signature::before, .c-guardian::before { background: #2f9e44 !important; }
.c-access::before { background: #3566d6 !important; }
.c-emergency::before { background: #d9480f !important; }
.c-claim::before, .c-policy::before, .c-payout::before { background: #7048e8 !important; }
.c-drug::before { background: #0c8599 !important; }
.b-consent, .b-signature, .b-guardian { background: #d3f9d8; color: #2b8a3e; }
.b-access { background: #dbe4ff; color: #364fc7; }
.b-emergency { background: #ffe8cc; color: #d9480f; }
.b-claim, .b-policy, .b-payout { background: #e5dbff; color: #5f3dc4; }
.b-drug { background: #c5f6fa; color: #0b7285; }
.empty { background: #fff; padding: 16px; border-radius: 8px; color: #5b6475; }
footer { margin-top: 36px; font-size: 12px; color: #5b6475; }
"""


def _e(value: Any) -> str:
    """HTML-escape anything (quotes too: values also land in attributes)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = ", ".join(f"{k}: {v}" for k, v in value.items())
    return html.escape(str(value), quote=True)


_LABELS = {"gtin": "GTIN", "batchId": "Batch id", "serialLeaf": "Serial leaf (Merkle)"}


def _label(key: str) -> str:
    if key in _LABELS:
        return _LABELS[key]
    out = "".join(" " + ch.lower() if ch.isupper() else ch for ch in key)
    return out[:1].upper() + out[1:]


def render_html(report: Report) -> str:
    """A self-contained HTML page: inline CSS, no scripts (a CSP forbids them), every value escaped."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(report.title)}</title>",
        f"<style>{_CSS}</style>",
        "</head><body><main>",
        f"<h1>{_e(report.title)}</h1>",
        f'<div class="meta">MedChain, chain {_e(report.chain_id)} · '
        f"complete up to block {_e(report.indexed_to)} · "
        f"generated {_e(iso(report.generated_at))}</div>",
    ]
    if report.intro:
        parts.append(f'<p class="intro">{_e(report.intro)}</p>')
    parts.append('<dl class="facts">')
    for key, value in report.subject.items():
        if value is None or value == "" or value == {}:
            continue
        parts.append(f"<dt>{_e(_label(key))}</dt><dd>{_e(value)}</dd>")
    parts.append("</dl>")
    if report.rows:
        parts.append(f"<h2>{_e(report.rows_title or 'Summary')}</h2>")
        parts.append(_html_table(report))
    parts.append(f"<h2>Timeline ({len(report.entries)} event{'s' if len(report.entries) != 1 else ''})</h2>")
    if not report.entries:
        parts.append('<p class="empty">No events recorded for this subject.</p>')
    else:
        parts.append('<ol class="timeline">')
        for e in report.entries:
            parts.append(_html_entry(e))
        parts.append("</ol>")
    parts.append(
        "<footer>Each entry is an event of the MedChain smart contracts; its transaction hash identifies it "
        "on the ledger, where anyone with access to the consortium chain can verify it. Times are block "
        "times in UTC.</footer>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def _html_table(report: Report) -> str:
    if report.kind == "claims":
        rows = table_rows(report)
    else:
        rows = [{k: v for k, v in r.items() if k != "grantee"} for r in report.rows]
    columns = list(rows[0])
    out = ["<table><thead><tr>", *(f"<th>{_e(_label(c))}</th>" for c in columns), "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{_e(r.get(c))}</td>" for c in columns) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _html_entry(e: dict[str, Any]) -> str:
    category = e["category"] if e["category"] in CATEGORIES else "other"
    details = []
    if e["party"] or e["partyAddress"]:
        details.append(
            f'Institution: {_e(e["party"] or "")} <span class="hash">{_e(e["partyAddress"])}</span>'
        )
    if e["purpose"]:
        details.append(f"Purpose: {_e(e['purpose'])}")
    if e["dataClasses"]:
        details.append(f"Data: {_e(e['dataClasses'])}")
    if e["actorName"]:
        details.append(f"By: {_e(e['actorName'])}")
    return (
        f'<li class="c-{_e(category)}"><div class="when">{_e(e["time"])} · block {_e(e["block"])}</div>'
        f'<div class="what"><span class="badge b-{_e(category)}">{_e(CATEGORIES[category])}</span>'
        f"{_e(e['summary'])}</div>"
        + (f'<div class="detail">{" · ".join(details)}</div>' if details else "")
        + f'<div class="hash">tx {_e(e["tx"])} · {_e(e["contract"])}.{_e(e["event"])}</div></li>'
    )


def save(report: Report, *, json_path: Path | None = None, html_path: Path | None = None) -> list[Path]:
    """Write the report as JSON and/or HTML; returns the paths written."""
    written = []
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
        written.append(json_path)
    if html_path is not None:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(render_html(report), encoding="utf-8")
        written.append(html_path)
    return written


def write_disclosures(
    conn: Connection,
    w3: Web3,
    suite: Any,
    patient: str,
    out_dir: Path,
    names: dict[str, str] | None = None,
) -> list[Path]:
    """For the demo: the patient's accounting of disclosures as out_dir/disclosures.{json,html} (data classes
    of accessed records looked up in the suite's RecordRegistry, amounts in the settlement token)."""
    money = Money.of_token(suite.token) if getattr(suite, "token", None) is not None else Money()
    report = disclosures(
        conn, int(w3.eth.chain_id), patient, names, records=getattr(suite, "records", None), money=money
    )
    return save(
        report, json_path=Path(out_dir) / "disclosures.json", html_path=Path(out_dir) / "disclosures.html"
    )
