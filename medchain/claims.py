"""ClaimsManager services: the claim-submission workflow (pre-flight checks read from the chain, a SQLite
journal that makes re-runs idempotent) and the insurer, holder and council operations.

Every function takes a :class:`medchain.contracts.Suite` (or its web3 handles) and returns plain data, so the
CLI (`medchain claims ...`), `scripts/submit_claim.py` and the tests share one code path.

Idempotency: each claim file carries the submitter's own ``reference``. Before a claim's transaction is sent,
an intent row keyed by (ClaimsManager address, reference) is written; the tx hash follows as soon as the node
accepts it, and the claim id once the receipt arrives. A re-run asks the journal first and, for a row left
half-done by a crash, the chain (the receipt, or a ``ClaimSubmitted`` event carrying
``keccak256(reference)``); a claim is only ever sent again when the chain proves the earlier attempt did not
land.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.logs import DISCARD
from web3.types import TxReceipt

from medchain import tx
from medchain.abi import load_abi
from medchain.chain import BlockTimes, Signer, latest_time, signer_address
from medchain.claimfile import ClaimEntry, ClaimModel
from medchain.codes import DATA_CLASS_NAMES, PURPOSES, ROLES, class_names
from medchain.contracts import Suite
from medchain.errors import ContractRevert, InputError, MedchainError, NodeLost
from medchain.hashing import patient_commitment, record_leaf
from medchain.store import Row
from medchain.store.claims import ClaimJournal
from medchain.store.records import Journal, fault_point
from medchain.text import is_digits, utc_text

__all__ = [
    "REJECT_REASONS",
    "STATUS_NAMES",
    "ClaimInfo",
    "ClaimJournal",
    "Currency",
    "EvidenceStatus",
    "HistoryEvent",
    "PolicyInfo",
    "Preflight",
    "QueueItem",
    "SubmitResult",
    "approve",
    "collect_payouts",
    "create_policy",
    "currency",
    "deposit_reserve",
    "escalate",
    "get_claim",
    "get_policy",
    "history",
    "insurer_of",
    "pay",
    "payout_status",
    "preflight",
    "queue",
    "reject",
    "reserve_status",
    "set_settings",
    "submit_claims",
    "withdraw",
    "withdraw_reserve",
]

ZERO_ADDRESS = "0x" + "00" * 20
CLAIM_PURPOSE = PURPOSES["CLAIM"]
#: IClaimsManager.ClaimStatus, by value
STATUS_NAMES = ("None", "Submitted", "Approved", "Rejected", "Withdrawn", "Escalated", "Paid")
SUBMITTED, APPROVED, REJECTED, WITHDRAWN, ESCALATED, PAID = range(1, 7)
#: rejection reason codes (uint16 on chain; any 1..65535 is accepted, these have names)
REJECT_REASONS: dict[str, int] = {
    "NOT_COVERED": 1,
    "INSUFFICIENT_EVIDENCE": 2,
    "DUPLICATE": 3,
    "POLICY_EXCLUSION": 4,
    "LIMIT_EXCEEDED": 5,
    "NOT_MEDICALLY_NECESSARY": 6,
    "FRAUD_SUSPECTED": 7,
    "OTHER": 99,
}
REASON_NAMES = {v: k for k, v in REJECT_REASONS.items()}

Outcome = Literal["submitted", "already-submitted", "pending", "refused", "failed", "checked"]
Progress = Callable[[ClaimEntry, "SubmitResult"], None]


# ---- money ----


UINT96_MAX = 2**96 - 1
UINT128_MAX = 2**128 - 1
_AMOUNT_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?|[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")


@dataclass(frozen=True)
class Currency:
    """The settlement token: converts between decimal currency amounts and base units."""

    address: str
    symbol: str
    decimals: int

    def units(self, amount: str | Decimal, *, limit: int = UINT96_MAX) -> int:
        """Base units of a decimal amount given as text (``"1234.50"``, ``"1,234.50"``); InputError if it is
        malformed, not positive, finer than the token's decimals, or over `limit` base units (the contract
        keeps amounts in uint96). A comma is only a thousands separator: ``"1,50"`` is refused, not 150."""
        text = str(amount).strip()
        if isinstance(amount, Decimal):
            value = amount
        elif _AMOUNT_TEXT.fullmatch(text):
            value = Decimal(text.replace(",", ""))
        else:
            raise InputError(f"amount {text!r} is not a decimal number like 1234.50 or 1,234.50")
        if not value.is_finite() or value <= 0:
            raise InputError(f"amount {text!r} must be a positive number")
        if value.adjusted() > 40:  # far over any uint96 amount; keeps scaleb() inside the decimal context
            raise InputError(f"amount {text!r} is too large (at most {self.fmt(limit)})")
        units = value.scaleb(self.decimals)
        if units != units.to_integral_value():
            raise InputError(f"amount {text!r} has more than {self.decimals} decimals")
        if units > limit:
            raise InputError(f"amount {text!r} is too large (at most {self.fmt(limit)})")
        return int(units)

    def fmt(self, units: int) -> str:
        """``1,234.50 tCNY``."""
        value = Decimal(units).scaleb(-self.decimals)
        return f"{value:,.{self.decimals}f} {self.symbol}"


def currency(suite: Suite) -> Currency:
    """The ClaimsManager's settlement token (its symbol and decimals, read from the chain)."""
    claims = suite.require("claims")
    address = claims.functions.token().call()
    token = _erc20(suite, address)
    return Currency(address, token.functions.symbol().call(), token.functions.decimals().call())


def _erc20(suite: Suite, address: str) -> Any:
    """An ERC-20 handle; the test token's ABI is the standard ERC-20 + metadata one (plus `mint`)."""
    return suite.w3.eth.contract(address=to_checksum_address(address), abi=load_abi("SettlementToken"))


# ---- reading policies and claims ----


@dataclass(frozen=True)
class PolicyInfo:
    id: int
    holder: str
    insurer: str
    coverage: int
    committed: int  # claimed amounts of undecided claims + approved amounts not yet paid
    paid: int
    valid_from: int
    valid_until: int

    @property
    def remaining(self) -> int:
        return self.coverage - self.paid - self.committed

    def active(self, now: int) -> bool:
        return self.valid_from <= now <= self.valid_until


@dataclass(frozen=True)
class ClaimInfo:
    id: int
    policy_id: int
    holder: str
    insurer: str
    claimant: str  # the holder, or the HOSPITAL member that submitted it
    status: str
    reason: int  # rejection reason code (0 unless Rejected)
    amount: int  # claimed; the approved amount once Approved/Paid
    submitted_at: int
    decide_by: int  # after this the claimant may escalate


def get_policy(suite: Suite, policy_id: int) -> PolicyInfo:
    """Policy `policy_id`; InputError if there is none."""
    p = suite.require("claims").functions.getPolicy(policy_id).call()
    if p[0] == ZERO_ADDRESS:
        raise InputError(f"there is no policy {policy_id}")
    return PolicyInfo(policy_id, p[0], p[2], p[1], p[3], p[4], p[5], p[6])


def get_claim(suite: Suite, claim_id: int) -> ClaimInfo:
    """Claim `claim_id` with its policy's holder and insurer; InputError if there is none."""
    c = suite.require("claims").functions.getClaim(claim_id).call()
    if c[2] == 0:
        raise InputError(f"there is no claim {claim_id}")
    policy = get_policy(suite, c[1])
    status = STATUS_NAMES[c[2]]
    return ClaimInfo(claim_id, c[1], policy.holder, policy.insurer, c[0], status, c[3], c[4], c[5], c[6])


def insurer_of(suite: Suite, account: str) -> str:
    """The INSURER member `account` acts for; InputError if it holds no INSURER role."""
    member = suite.consortium.functions.authorizedMember(account, ROLES["INSURER"]).call()
    if member == ZERO_ADDRESS:
        raise InputError(f"{account} is not a key of an active INSURER member")
    return str(member)


# ---- pre-flight ----


@dataclass(frozen=True)
class EvidenceStatus:
    """One evidence record as the chain sees it now."""

    record_hash: str
    data_class: str
    leaf: str
    anchored: bool
    hospital: str | None  # anchoring hospital's member address
    live_claim: int  # the live claim this record backs (0 = free)
    superseded_by: str | None = None  # leaf of an amendment, when the record was amended


@dataclass
class Preflight:
    """What a submission would meet on chain; `problems` empty means it should go through."""

    reference: str
    policy: PolicyInfo | None
    amount: int | None  # base units
    claimant: str | None  # whom the claim would be recorded for
    evidence: list[EvidenceStatus] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def preflight(suite: Suite, claim: ClaimModel, sender: str, money: Currency | None = None) -> Preflight:
    """Checks a claim against the chain without sending anything: currency and amount, policy in force
    and (optionally) its holder, the sender's right to submit, coverage left, each evidence record anchored
    for the holder and not backing a live claim, and the holder's consent to the insurer for purpose CLAIM."""
    money = money or currency(suite)
    pre = Preflight(claim.reference, None, None, None)
    if claim.currency.upper() != money.symbol.upper():
        pre.problems.append(f"currency {claim.currency!r} is not the settlement token {money.symbol}")
    try:
        pre.amount = claim.amount_units(money.decimals)
    except InputError as exc:
        pre.problems.append(str(exc))
    try:
        pre.policy = get_policy(suite, claim.policy_id)
    except InputError as exc:
        pre.problems.append(str(exc))
        return pre
    _check_policy(suite, claim, sender, pre, money)
    pre.evidence = [_evidence_status(suite, pre.policy.holder, e.as_arg()) for e in claim.evidence]
    for i, ev in enumerate(pre.evidence):
        if not ev.anchored:
            pre.problems.append(
                f"evidence[{i}] record {ev.record_hash} ({ev.data_class}) is not anchored for the policy "
                "holder: wrong hash, salt or data class, another patient's record, or a batch record not "
                "materialised yet"
            )
        elif ev.live_claim:
            pre.problems.append(
                f"evidence[{i}] record {ev.record_hash} already backs live claim {ev.live_claim}"
            )
    _check_consent(suite, pre.policy, claim.data_classes, pre)
    _check_submitter(suite, pre, claim.data_classes)
    return pre


def _check_submitter(suite: Suite, pre: Preflight, classes: int) -> None:
    """The contract's rules on whose records are evidence and who may submit them (SECURITY.md, issue
    12): every anchoring hospital is an active HOSPITAL member now; a hospital submitting for the holder
    anchored every record itself or holds the holder's consent for purpose CLAIM."""
    consortium = suite.consortium
    for i, ev in enumerate(pre.evidence):
        if ev.hospital is None:
            continue
        if consortium.functions.authorizedMember(ev.hospital, ROLES["HOSPITAL"]).call() != ev.hospital:
            pre.problems.append(
                f"evidence[{i}] record {ev.record_hash} was anchored by {ev.hospital}, which is not an "
                "active hospital now: its records are not evidence"
            )
    policy, claimant = pre.policy, pre.claimant
    if policy is None or claimant is None or claimant == policy.holder or not pre.evidence:
        return
    if all(ev.hospital == claimant for ev in pre.evidence):
        return
    consent = suite.require("consent")
    if not consent.functions.isPermitted(policy.holder, claimant, CLAIM_PURPOSE, classes).call():
        names = ", ".join(class_names(classes))
        pre.problems.append(
            f"hospital {claimant} did not anchor every evidence record and holds no consent of holder "
            f"{policy.holder} for purpose CLAIM covering {names}: ask the holder for it, or let them submit"
        )


def _check_policy(suite: Suite, claim: ClaimModel, sender: str, pre: Preflight, money: Currency) -> None:
    policy = pre.policy
    assert policy is not None
    now = latest_time(suite.w3)
    if claim.holder is not None and claim.holder != policy.holder:
        pre.problems.append(f"policy {policy.id} belongs to {policy.holder}, not to holder {claim.holder}")
    if not policy.active(now):
        window = f"{_date(policy.valid_from)} .. {_date(policy.valid_until)}"
        pre.problems.append(f"policy {policy.id} is not in force (valid {window})")
    pre.claimant = _claimant(suite, policy, sender)
    if pre.claimant is None:
        pre.problems.append(
            f"{sender} may not submit on policy {policy.id}: not its holder nor a HOSPITAL key"
        )
    if pre.amount is not None and pre.amount > policy.remaining:
        left = money.fmt(policy.remaining)
        pre.problems.append(
            f"amount {money.fmt(pre.amount)} exceeds the coverage left on policy {policy.id}: {left}"
        )


def _claimant(suite: Suite, policy: PolicyInfo, sender: str) -> str | None:
    if to_checksum_address(sender) == policy.holder:
        return policy.holder
    member = suite.consortium.functions.authorizedMember(sender, ROLES["HOSPITAL"]).call()
    return None if member == ZERO_ADDRESS else str(member)


def _check_consent(suite: Suite, policy: PolicyInfo, classes: int, pre: Preflight) -> None:
    consent = suite.require("consent")
    if not consent.functions.isPermitted(policy.holder, policy.insurer, CLAIM_PURPOSE, classes).call():
        names = ", ".join(class_names(classes))
        pre.problems.append(
            f"holder {policy.holder} has no consent in force letting insurer {policy.insurer} use {names} "
            "for purpose CLAIM"
        )


def _evidence_status(suite: Suite, holder: str, item: tuple[bytes, bytes, int]) -> EvidenceStatus:
    record_hash, salt, data_class = item
    records, claims = suite.require("records"), suite.require("claims")
    leaf = record_leaf(record_hash, patient_commitment(holder, salt), data_class)
    record = records.functions.getRecord(leaf).call()
    anchored = record[0] != ZERO_ADDRESS
    superseded = records.functions.supersededBy(leaf).call() if anchored else bytes(32)
    return EvidenceStatus(
        record_hash=Web3.to_hex(record_hash),
        data_class=DATA_CLASS_NAMES.get(data_class, str(data_class)),
        leaf=Web3.to_hex(leaf),
        anchored=anchored,
        hospital=record[0] if anchored else None,
        live_claim=int(claims.functions.liveClaimOf(record_hash).call()),
        superseded_by=Web3.to_hex(superseded) if superseded != bytes(32) else None,
    )


def _date(timestamp: int) -> str:
    return utc_text(timestamp)


# ---- submission ----


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
    claimant = _claimant(suite, policy, sender)
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


# ---- insurers ----


def create_policy(
    suite: Suite, signer: Signer, holder: str, coverage: int, valid_from: int, valid_until: int
) -> PolicyInfo:
    """Issue a policy from the signer's insurer; returns it as stored."""
    claims = suite.require("claims")
    receipt = tx.send(
        suite.w3, claims.functions.createPolicy(holder, coverage, valid_from, valid_until), signer
    )
    (event,) = claims.events.PolicyCreated().process_receipt(receipt, errors=DISCARD)
    return get_policy(suite, int(event["args"]["policyId"]))


def reserve_status(suite: Suite, insurer: str) -> dict[str, Any]:
    """An insurer's reserve, debts, withdrawable part and claim settings (amounts in base units)."""
    claims = suite.require("claims")
    reserve, owed, window, threshold = claims.functions.insurerAccount(insurer).call()
    return {
        "insurer": to_checksum_address(insurer),
        "reserve": reserve,
        "owed": owed,
        "withdrawable": claims.functions.withdrawableReserve(insurer).call(),
        "decisionWindow": claims.functions.decisionWindowOf(insurer).call(),
        "dualControlThreshold": threshold,
        "windowSet": window != 0,
    }


def deposit_reserve(suite: Suite, signer: Signer, amount: int, insurer: str | None = None) -> dict[str, Any]:
    """Move `amount` tokens from the signer into `insurer`'s reserve (default: the signer's insurer),
    approving the ClaimsManager for the amount first when the allowance is short."""
    claims = suite.require("claims")
    sender = signer_address(signer)
    insurer = to_checksum_address(insurer) if insurer else insurer_of(suite, sender)
    token = _erc20(suite, claims.functions.token().call())
    if token.functions.allowance(sender, claims.address).call() < amount:
        tx.send(suite.w3, token.functions.approve(claims.address, amount), signer)
    tx.send(suite.w3, claims.functions.depositReserve(insurer, amount), signer)
    return reserve_status(suite, insurer)


def withdraw_reserve(suite: Suite, signer: Signer, amount: int) -> dict[str, Any]:
    """Withdraw `amount` of the signer's insurer's reserve (only the part not owed) to its member address."""
    insurer = insurer_of(suite, signer_address(signer))
    tx.send(suite.w3, suite.require("claims").functions.withdrawReserve(amount), signer)
    return reserve_status(suite, insurer)


def release_reserve(suite: Suite, signer: Signer, insurer: str) -> dict[str, Any]:
    """The council releases the withdrawable reserve of an insurer that no longer holds INSURER to that
    insurer (what it owes stays for its approved claims)."""
    insurer = to_checksum_address(insurer)
    tx.send(suite.w3, suite.require("claims").functions.releaseReserve(insurer), signer)
    return reserve_status(suite, insurer)


def set_settings(
    suite: Suite, signer: Signer, decision_window: int, dual_control_threshold: int
) -> dict[str, Any]:
    """Set the signer's (an insurer member address) decision window and dual-control threshold."""
    insurer = insurer_of(suite, signer_address(signer))
    fn = suite.require("claims").functions.setClaimSettings(decision_window, dual_control_threshold)
    tx.send(suite.w3, fn, signer)
    return reserve_status(suite, insurer)


# ---- queue and history ----


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
        evidence = [_evidence_status(suite, claim.holder, item) for item in items]
    except (ValueError, KeyError, TypeError):  # not a direct submitClaim call (a multisig, a relayer)
        note = "evidence not verifiable here (submitted through a contract)"
    classes = 0
    for e in evidence:
        classes |= 1 << _class_code(e.data_class)
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


def _class_code(name: str) -> int:
    return next(
        (code for code, n in DATA_CLASS_NAMES.items() if n == name), int(name) if is_digits(name) else 0
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


# ---- decisions ----


@dataclass(frozen=True)
class Decision:
    claim: ClaimInfo
    outcome: str  # "approved", "awaiting second key", "rejected", "escalated", "withdrawn", "paid"
    tx_hash: str


def approve(suite: Suite, signer: Signer, claim_id: int, amount: int | None = None) -> Decision:
    """Approve a claim for `amount` (default: the whole claimed amount). A Submitted claim is approved by its
    insurer (above the dual-control threshold the first key only records a pending approval); an Escalated
    claim by the council."""
    claims = suite.require("claims")
    claim = get_claim(suite, claim_id)
    amount = claim.amount if amount is None else amount
    escalated = claim.status == "Escalated"
    fn = (claims.functions.approveEscalated if escalated else claims.functions.approveClaim)(claim_id, amount)
    receipt = tx.send(suite.w3, fn, signer)
    done = bool(claims.events.ClaimApproved().process_receipt(receipt, errors=DISCARD))
    return _decision(suite, claim_id, "approved" if done else "awaiting second key", receipt)


def reject(suite: Suite, signer: Signer, claim_id: int, reason: int) -> Decision:
    """Reject a claim with a reason code (insurer for Submitted, council for Escalated claims)."""
    claims = suite.require("claims")
    escalated = get_claim(suite, claim_id).status == "Escalated"
    fn = (claims.functions.rejectEscalated if escalated else claims.functions.rejectClaim)(claim_id, reason)
    return _decision(suite, claim_id, "rejected", tx.send(suite.w3, fn, signer))


def escalate(suite: Suite, signer: Signer, claim_id: int) -> Decision:
    """Escalate an undecided claim to the council after the insurer's decision window (holder or claimant)."""
    receipt = tx.send(suite.w3, suite.require("claims").functions.escalateClaim(claim_id), signer)
    return _decision(suite, claim_id, "escalated", receipt)


def withdraw(suite: Suite, signer: Signer, claim_id: int) -> Decision:
    """Withdraw a Submitted or Escalated claim (holder or claimant); its evidence is released."""
    receipt = tx.send(suite.w3, suite.require("claims").functions.withdrawClaim(claim_id), signer)
    return _decision(suite, claim_id, "withdrawn", receipt)


def pay(suite: Suite, signer: Signer, claim_id: int) -> Decision:
    """Pay an Approved claim into the holder's payout credit (anyone may)."""
    receipt = tx.send(suite.w3, suite.require("claims").functions.payClaim(claim_id), signer)
    return _decision(suite, claim_id, "paid", receipt)


def _decision(suite: Suite, claim_id: int, outcome: str, receipt: TxReceipt) -> Decision:
    return Decision(get_claim(suite, claim_id), outcome, Web3.to_hex(receipt["transactionHash"]))


def parse_reason(text: str | int) -> int:
    """A rejection reason code from a name (``NOT_COVERED``) or number (1..65535)."""
    if isinstance(text, int) or is_digits(str(text).strip()):
        code = int(str(text).strip())
        if 1 <= code <= 0xFFFF:
            return code
        raise InputError(f"reason code {code} must be 1..65535")
    key = str(text).strip().upper().replace("-", "_").replace(" ", "_")
    if key not in REJECT_REASONS:
        raise InputError(f"unknown reason {text!r} (known: {', '.join(REJECT_REASONS)}, or a number)")
    return REJECT_REASONS[key]


# ---- payouts ----


def _holder_claims(suite: Suite, beneficiary: str, from_block: int) -> list[ClaimInfo]:
    claims = suite.require("claims")
    created = claims.events.PolicyCreated()
    policies = created.get_logs(from_block=from_block, argument_filters={"holder": beneficiary})
    out: list[ClaimInfo] = []
    for policy in policies:
        pid = int(policy["args"]["policyId"])
        submitted = claims.events.ClaimSubmitted()
        for log in submitted.get_logs(from_block=from_block, argument_filters={"policyId": pid}):
            out.append(get_claim(suite, int(log["args"]["claimId"])))
    return sorted(out, key=lambda c: c.id)


def payout_status(suite: Suite, beneficiary: str, from_block: int = 0) -> dict[str, Any]:
    """A beneficiary's payout credit and its Approved claims not paid yet (amounts in base units)."""
    beneficiary = to_checksum_address(beneficiary)
    credit = suite.require("claims").functions.payoutOf(beneficiary).call()
    approved = [c for c in _holder_claims(suite, beneficiary, from_block) if c.status == "Approved"]
    return {"beneficiary": beneficiary, "credit": credit, "approvedUnpaid": [asdict(c) for c in approved]}


def collect_payouts(
    suite: Suite, signer: Signer, beneficiary: str | None = None, from_block: int = 0
) -> dict[str, Any]:
    """Pay the beneficiary's Approved claims whose insurer can cover them, then transfer its whole credit to
    it (default beneficiary: the signer). Claims an insurer cannot pay yet are listed, not fatal."""
    claims = suite.require("claims")
    beneficiary = to_checksum_address(beneficiary or signer_address(signer))
    paid, unpaid = [], []
    for claim in _holder_claims(suite, beneficiary, from_block):
        if claim.status != "Approved":
            continue
        try:
            tx.send(suite.w3, claims.functions.payClaim(claim.id), signer)
            paid.append(claim.id)
        except ContractRevert as exc:
            unpaid.append({"claimId": claim.id, "reason": str(exc)})
    credit = claims.functions.payoutOf(beneficiary).call()
    tx_hash = None
    if credit:
        receipt = tx.send(suite.w3, claims.functions.withdrawPayout(beneficiary), signer)
        tx_hash = Web3.to_hex(receipt["transactionHash"])
    return {
        "beneficiary": beneficiary,
        "paidClaims": paid,
        "unpaid": unpaid,
        "withdrawn": credit,
        "tx": tx_hash,
    }
