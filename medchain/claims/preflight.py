"""Pre-flight: what a claim submission would meet on chain, checked without sending anything."""

from __future__ import annotations

from dataclasses import dataclass, field

from medchain.chain import latest_time
from medchain.claimfile import ClaimModel
from medchain.claims.onchain import (
    CLAIM_PURPOSE,
    EvidenceStatus,
    PolicyInfo,
    claimant_for,
    currency,
    evidence_status,
    get_policy,
)
from medchain.codes import ROLES, class_names
from medchain.contracts import Suite
from medchain.errors import InputError
from medchain.money import Currency
from medchain.timefmt import iso


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
    pre.evidence = [evidence_status(suite, pre.policy.holder, e.as_arg()) for e in claim.evidence]
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
        window = f"{iso(policy.valid_from)} .. {iso(policy.valid_until)}"
        pre.problems.append(f"policy {policy.id} is not in force (valid {window})")
    pre.claimant = claimant_for(suite, policy, sender)
    if pre.claimant is None:
        pre.problems.append(
            f"{sender} may not submit on policy {policy.id}: not its holder nor a HOSPITAL key"
        )
    if pre.amount is not None and pre.amount > policy.remaining:
        left = money.fmt(policy.remaining)
        pre.problems.append(
            f"amount {money.fmt(pre.amount)} exceeds the coverage left on policy {policy.id}: {left}"
        )


def _check_consent(suite: Suite, policy: PolicyInfo, classes: int, pre: Preflight) -> None:
    consent = suite.require("consent")
    if not consent.functions.isPermitted(policy.holder, policy.insurer, CLAIM_PURPOSE, classes).call():
        names = ", ".join(class_names(classes))
        pre.problems.append(
            f"holder {policy.holder} has no consent in force letting insurer {policy.insurer} use {names} "
            "for purpose CLAIM"
        )
