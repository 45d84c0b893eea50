"""Claim submission: the journal first, pre-flight checks, then the transaction; re-runs are idempotent.

Idempotency: each claim file carries the submitter's own ``reference``. Before a claim's transaction is sent,
an intent row keyed by (ClaimsManager address, reference) is written; the tx hash follows as soon as the node
accepts it, and the claim id once the receipt arrives. A re-run asks the journal first and, for a row left
half-done by a crash, the chain (the receipt, or a ``ClaimSubmitted`` event carrying
``keccak256(reference)``); a claim is only ever sent again when the chain proves the earlier attempt did not
land (a reorg that dropped the transaction, a revert, a node that forgot it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.logs import DISCARD
from web3.types import TxReceipt

from medchain import tx
from medchain.chain import Signer, signer_address
from medchain.claimfile import ClaimEntry, ClaimModel
from medchain.claims.onchain import claimant_for, currency, get_policy
from medchain.claims.preflight import preflight
from medchain.contracts import Suite
from medchain.errors import ContractRevert, InputError, MedchainError, NodeLost
from medchain.money import Currency
from medchain.store import Row
from medchain.store.claims import ClaimJournal
from medchain.store.records import Journal, fault_point

Outcome = Literal["submitted", "already-submitted", "pending", "refused", "failed", "checked"]
Progress = Callable[[ClaimEntry, "SubmitResult"], None]


@dataclass
class SubmitResult:
    source: str
    reference: str
    outcome: Outcome
    claim_id: int | None = None
    tx_hash: str | None = None
    gas_used: int | None = None
    amount: str | None = None  # formatted with the currency
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def submit_claims(
    suite: Suite,
    entries: Sequence[ClaimEntry],
    signer: Signer,
    journal: ClaimJournal,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    from_block: int = 0,
) -> list[SubmitResult]:
    """Submit each claim once: journal first, pre-flight checks, then the transaction. A claim that fails does
    not stop the others. With `dry_run` only the checks run (outcome ``checked`` or ``refused``).
    `from_block` (the ClaimsManager's deployment block) bounds the search for claims sent elsewhere."""
    money = currency(suite)
    records = suite.records  # this store's record journal knows the source files of what it anchored
    anchored = Journal(journal.conn, suite.w3.eth.chain_id, records.address) if records is not None else None
    results = []
    for entry in entries:
        try:
            result = _submit_one(suite, entry, signer, journal, anchored, money, dry_run, from_block)
        except NodeLost:
            raise  # the journal keeps what was done; the same command resumes once the node is back
        except MedchainError as exc:  # a node hiccup on one claim is reported, the next claim still runs
            result = SubmitResult(entry.source, entry.claim.reference, "failed", problems=[str(exc)])
        results.append(result)
        if progress is not None:
            progress(entry, result)
    return results


def _submit_one(
    suite: Suite,
    entry: ClaimEntry,
    signer: Signer,
    journal: ClaimJournal,
    anchored: Journal | None,
    money: Currency,
    dry_run: bool,
    from_block: int,
) -> SubmitResult:
    claim, sender = entry.claim, signer_address(signer)
    result = SubmitResult(entry.source, claim.reference, "checked")
    known = _known(suite, entry, journal, sender, money, from_block)
    if known is not None:
        return known
    pre = preflight(suite, claim, sender, money)
    if anchored is not None:
        pre.problems += _same_document_claimed(suite, claim, anchored)
    result.amount = money.fmt(pre.amount) if pre.amount is not None else None
    if not pre.ok:
        result.outcome, result.problems = "refused", pre.problems
        return result
    assert pre.amount is not None and pre.claimant is not None
    if dry_run:
        return result
    return _send(suite, entry, signer, journal, pre.amount, result)


def _same_document_claimed(suite: Suite, claim: ClaimModel, anchored: Journal) -> list[str]:
    """The duplicate-claim guard keys on the record hash, and one FHIR document has two (its bytes, its
    canonical JSON; SECURITY.md). Where this store anchored the evidence, its source file gives the other
    hash: refuse evidence whose other hash already backs a live claim."""
    claims = suite.require("claims")
    problems = []
    for i, evidence in enumerate(claim.evidence):
        for other in sorted(anchored.other_hashes(evidence.record_hash)):
            live = int(claims.functions.liveClaimOf(other).call())
            if live:
                problems.append(
                    f"evidence[{i}] record {Web3.to_hex(evidence.record_hash)} is the same document as "
                    f"record {Web3.to_hex(other)} (hashed the other way, DESIGN §6.6), which already backs "
                    f"live claim {live}"
                )
    return problems


def _send(
    suite: Suite, entry: ClaimEntry, signer: Signer, journal: ClaimJournal, amount: int, result: SubmitResult
) -> SubmitResult:
    claim, w3 = entry.claim, suite.w3
    fn = suite.require("claims").functions.submitClaim(
        claim.policy_id, amount, [e.as_arg() for e in claim.evidence], claim.invoice_hash, claim.claim_ref
    )
    journal.intent(entry, amount, signer_address(signer))
    fault_point("claims-after-intent")
    try:
        tx_hash = tx.submit(w3, fn, signer)
        journal.sent(claim.reference, tx_hash)
        fault_point("claims-after-send")
        receipt = tx.wait(w3, tx_hash, fn=fn, sender=signer)
    except ContractRevert as exc:
        journal.failed(claim.reference, str(exc))
        result.outcome, result.problems = "failed", [str(exc)]
        return result
    return _landed(suite, journal, receipt, result)


def _landed(
    suite: Suite,
    journal: ClaimJournal,
    receipt: TxReceipt,
    result: SubmitResult,
    outcome: Outcome = "submitted",
) -> SubmitResult:
    claims = suite.require("claims")
    (event,) = claims.events.ClaimSubmitted().process_receipt(receipt, errors=DISCARD)
    result.outcome = outcome
    result.claim_id = int(event["args"]["claimId"])
    result.tx_hash = Web3.to_hex(receipt["transactionHash"])
    result.gas_used = int(receipt["gasUsed"])
    journal.submitted(result.reference, result.claim_id, int(receipt["blockNumber"]), result.tx_hash)
    return result


def _known(
    suite: Suite, entry: ClaimEntry, journal: ClaimJournal, sender: str, money: Currency, from_block: int
) -> SubmitResult | None:
    """What the journal (and, for unfinished rows, the chain) knows about this reference; None = send it."""
    claim = entry.claim
    row = journal.get(claim.reference)
    result = SubmitResult(entry.source, claim.reference, "already-submitted")
    if row is not None and row["fingerprint"] != claim.fingerprint():
        result.outcome = "refused"
        was = f"claim {row['claim_id']}" if row["claim_id"] else f"an earlier {row['status']} attempt"
        result.problems = [
            f"reference {claim.reference!r} was used for {was} with different content ({row['source']}); "
            "give a corrected claim a new reference"
        ]
        return result
    if row is not None and row["status"] == "submitted":
        if _mined(suite.w3, row["tx_hash"]):
            result.claim_id, result.tx_hash = row["claim_id"], row["tx_hash"]
            return result
        # the recorded transaction is no longer on chain (a reorg): pending again, landed elsewhere, or lost
        resolved = _resolve_sent(suite, journal, row, result) if row["tx_hash"] else None
        if resolved is not None:
            return resolved
    elif row is not None and row["status"] == "sent":
        return _resolve_sent(suite, journal, row, result)
    found = _find_on_chain(suite, claim, sender, from_block)
    if found is not None:
        claim_id, block, tx_hash = found
        journal.found_on_chain(entry, claim.amount_units(money.decimals), sender, claim_id, block, tx_hash)
        result.claim_id, result.tx_hash = claim_id, tx_hash
        return result
    if row is not None and row["status"] == "intent" and _has_pending(suite.w3, row["sender"]):
        result.outcome = "pending"
        result.problems = [f"{row['sender']} has a pending transaction; re-run once it is mined"]
        return result
    return None  # never sent, or an earlier attempt failed on chain: send (again)


def _resolve_sent(suite: Suite, journal: ClaimJournal, row: Row, result: SubmitResult) -> SubmitResult | None:
    """A transaction was sent earlier: its receipt decides (landed, reverted, still pending, dropped)."""
    w3 = suite.w3
    try:
        receipt = w3.eth.get_transaction_receipt(row["tx_hash"])
    except TransactionNotFound:
        receipt = None
    if receipt is not None and receipt["status"] == 1:
        return _landed(suite, journal, receipt, result, "already-submitted")  # no new transaction
    if receipt is not None:
        journal.failed(row["reference"], f"transaction {row['tx_hash']} reverted")
        return None
    try:
        w3.eth.get_transaction(row["tx_hash"])
    except TransactionNotFound:
        return None  # dropped by the node: send again
    result.outcome, result.tx_hash = "pending", row["tx_hash"]
    result.problems = [f"transaction {row['tx_hash']} is still pending; re-run once it is mined"]
    return result


def _mined(w3: Web3, tx_hash: str | None) -> bool:
    """Is the transaction (still) in the chain with success? A reorg removes the receipt of a dropped one."""
    if not tx_hash:
        return False
    try:
        receipt = w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return False
    return receipt is not None and receipt["status"] == 1


def _find_on_chain(
    suite: Suite, claim: ClaimModel, sender: str, from_block: int
) -> tuple[int, int, str] | None:
    """A ClaimSubmitted on this policy carrying keccak256(reference) from the same claimant, if any."""
    claims = suite.require("claims")
    try:
        policy = get_policy(suite, claim.policy_id)
    except InputError:
        return None
    claimant = claimant_for(suite, policy, sender)
    logs = claims.events.ClaimSubmitted().get_logs(
        from_block=from_block, argument_filters={"policyId": claim.policy_id}
    )
    for log in logs:
        args = log["args"]
        if bytes(args["claimRef"]) == claim.claim_ref and args["claimant"] == claimant:
            return int(args["claimId"]), int(log["blockNumber"]), Web3.to_hex(log["transactionHash"])
    return None


def _has_pending(w3: Web3, account: str) -> bool:
    address = to_checksum_address(account)
    return w3.eth.get_transaction_count(address, "pending") > w3.eth.get_transaction_count(address, "latest")
