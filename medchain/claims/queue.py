"""What awaits a decision (each claim's evidence re-verified against the chain) and a claim's history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from medchain.addresses import ZERO_ADDRESS
from medchain.chain import BlockTimes, latest_time
from medchain.claims.onchain import (
    CLAIM_PURPOSE,
    ClaimInfo,
    EvidenceStatus,
    class_code,
    evidence_status,
    get_claim,
)
from medchain.contracts import Suite


@dataclass(frozen=True)
class QueueItem:
    claim: ClaimInfo
    claimed: int  # the amount claimed at submission
    evidence: list[EvidenceStatus]  # re-verified now from the submission's own calldata
    consent_ok: bool  # the holder's CLAIM consent to the insurer still covers the evidence classes
    pending_key: str | None  # dual control: the key that made the first approval
    overdue: bool  # the decision window has passed (the claimant may escalate)
    note: str = ""

    @property
    def evidence_ok(self) -> bool:
        return bool(self.evidence) and all(e.anchored and e.superseded_by is None for e in self.evidence)


def queue(
    suite: Suite, insurer: str | None = None, *, escalated: bool = False, from_block: int = 0
) -> list[QueueItem]:
    """Claims awaiting a decision, oldest first: Submitted claims of `insurer` (or Escalated claims of every
    insurer for the council, with `escalated`), each with its evidence re-verified against the chain."""
    claims = suite.require("claims")
    filters = {"insurer": to_checksum_address(insurer)} if insurer else {}
    logs = claims.events.ClaimSubmitted().get_logs(from_block=from_block, argument_filters=filters)
    wanted = "Escalated" if escalated else "Submitted"
    now = latest_time(suite.w3)
    items = []
    for log in sorted(logs, key=lambda entry: int(entry["args"]["claimId"])):
        claim = get_claim(suite, int(log["args"]["claimId"]))
        if claim.status == wanted:
            items.append(_queue_item(suite, claim, log, now))
    return items


def _queue_item(suite: Suite, claim: ClaimInfo, log: Any, now: int) -> QueueItem:
    claims, note = suite.require("claims"), ""
    evidence: list[EvidenceStatus] = []
    try:
        submission = suite.w3.eth.get_transaction(log["transactionHash"])
        _, params = claims.decode_function_input(submission["input"])
        items = [(e["recordHash"], e["salt"], e["dataClass"]) for e in params["evidence"]]
        evidence = [evidence_status(suite, claim.holder, item) for item in items]
    except (ValueError, KeyError, TypeError):  # not a direct submitClaim call (a multisig, a relayer)
        note = "evidence not verifiable here (submitted through a contract)"
    classes = 0
    for e in evidence:
        classes |= 1 << class_code(e.data_class)
    consent = suite.require("consent")
    permitted = consent.functions.isPermitted(claim.holder, claim.insurer, CLAIM_PURPOSE, classes)
    consent_ok = bool(classes) and bool(permitted.call())
    key, _ = claims.functions.pendingApproval(claim.id).call()
    return QueueItem(
        claim=claim,
        claimed=int(log["args"]["amount"]),
        evidence=evidence,
        consent_ok=consent_ok,
        pending_key=None if key == ZERO_ADDRESS else str(key),
        overdue=now > claim.decide_by,
        note=note,
    )


@dataclass(frozen=True)
class HistoryEvent:
    block: int
    log_index: int
    timestamp: int
    tx_hash: str
    event: str
    args: dict[str, Any]


_HISTORY_EVENTS = (
    "ClaimSubmitted",
    "ClaimApprovalPending",
    "ClaimStatusChanged",
    "ClaimApproved",
    "ClaimRejected",
    "ClaimPaid",
)


def history(suite: Suite, claim_id: int, from_block: int = 0) -> list[HistoryEvent]:
    """Every event of claim `claim_id`, in chain order, with block times."""
    claims = suite.require("claims")
    get_claim(suite, claim_id)  # InputError for an unknown id
    logs: list[Any] = []
    for name in _HISTORY_EVENTS:
        event = getattr(claims.events, name)()
        logs += event.get_logs(from_block=from_block, argument_filters={"claimId": claim_id})
    logs.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
    times = BlockTimes(suite.w3)
    out = []
    for log in logs:
        block = int(log["blockNumber"])
        args = {k: _plain(v) for k, v in log["args"].items()}
        tx_hash = Web3.to_hex(log["transactionHash"])
        out.append(HistoryEvent(block, int(log["logIndex"]), times(block), tx_hash, log["event"], args))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return Web3.to_hex(bytes(value))
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
