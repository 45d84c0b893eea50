"""ClaimsManager.submitClaim: who may submit, policy and coverage checks, evidence ownership and anchoring,
consent for purpose CLAIM, and the duplicate-claim guard across insurers."""

from __future__ import annotations

from brownie import chain
from claims_helpers import (
    COVERAGE,
    DEFAULT_WINDOW,
    IMAGING,
    LAB,
    SUBMITTED,
    anchored,
    b32,
    create_policy,
    grant_consent,
    new_evidence,
    now,
    revoke_consent,
    role,
    submit,
)
from eth_utils import keccak
from helpers import add_operator, reverts_with

# ---- happy paths ----


def test_submit_by_holder_stores_claim(claims, policy, evidence, patient):
    tx = submit(claims, policy, 10_000, evidence, patient)
    claim = claims.getClaim(tx.return_value)
    assert tx.return_value == 1
    assert claim["claimant"] == patient
    assert claim["policyId"] == policy
    assert claim["status"] == SUBMITTED
    assert claim["reason"] == 0
    assert claim["amount"] == 10_000
    assert claim["submittedAt"] == tx.timestamp
    assert claim["decideBy"] == tx.timestamp + DEFAULT_WINDOW
    assert claims.claimCount() == 1


def test_submit_emits_claim_submitted(claims, policy, evidence, patient, insurer):
    tx = submit(claims, policy, 10_000, evidence, patient, invoice=b"INV-2026-0001", ref=b"hospital-a/42")
    ev = tx.events["ClaimSubmitted"]
    assert ev["claimId"] == tx.return_value
    assert ev["policyId"] == policy
    assert ev["insurer"] == insurer
    assert ev["claimant"] == patient
    assert ev["by"] == patient
    assert ev["amount"] == 10_000
    assert ev["decideBy"] == tx.timestamp + DEFAULT_WINDOW
    assert ev["invoiceHash"] == "0x" + keccak(b"INV-2026-0001").hex()
    assert ev["claimRef"] == "0x" + keccak(b"hospital-a/42").hex()
    assert list(ev["recordHashes"]) == [e.hex for e in evidence]
    assert "ClaimStatusChanged" not in tx.events


def test_submit_by_hospital_records_hospital_member_as_claimant(claims, policy, evidence, hospital):
    tx = submit(claims, policy, 10_000, evidence, hospital)
    assert claims.getClaim(tx.return_value)["claimant"] == hospital
    assert tx.events["ClaimSubmitted"]["by"] == hospital


def test_submit_by_hospital_operator_key_acts_for_member(
    claims, consortium, policy, evidence, hospital, operator
):
    add_operator(consortium, hospital, operator)
    tx = submit(claims, policy, 10_000, evidence, operator)
    assert claims.getClaim(tx.return_value)["claimant"] == hospital
    assert tx.events["ClaimSubmitted"]["by"] == operator


def test_submit_by_another_hospital_with_the_holders_claim_consent(
    claims, consent, policy, evidence, hospital_b, patient
):
    grant_consent(consent, patient, hospital_b)
    tx = submit(claims, policy, 10_000, evidence, hospital_b)
    assert claims.getClaim(tx.return_value)["claimant"] == hospital_b


def test_submit_commits_coverage(claims, policy, evidence, patient):
    submit(claims, policy, 25_000, evidence, patient)
    assert claims.getPolicy(policy)["committed"] == 25_000
    assert claims.remainingCoverage(policy) == COVERAGE - 25_000


def test_submit_locks_each_evidence_record(claims, policy, evidence, patient):
    claim_id = submit(claims, policy, 10_000, evidence, patient).return_value
    assert [claims.liveClaimOf(e.hex) for e in evidence] == [claim_id] * 3


def test_submit_whole_remaining_coverage(claims, policy, evidence, patient):
    submit(claims, policy, COVERAGE, evidence, patient)
    assert claims.remainingCoverage(policy) == 0


def test_submit_uses_insurer_decision_window(claims, policy, evidence, patient, insurer):
    claims.setClaimSettings(3 * 24 * 3600, 0, {"from": insurer})
    tx = submit(claims, policy, 10_000, evidence, patient)
    assert claims.getClaim(tx.return_value)["decideBy"] == tx.timestamp + 3 * 24 * 3600


def test_submit_with_max_evidence(claims, records, policy, hospital, patient):
    evidence = anchored(records, hospital, patient, 32)
    tx = submit(claims, policy, 10_000, evidence, patient)
    assert len(tx.events["ClaimSubmitted"]["recordHashes"]) == 32


# ---- who may submit ----


def test_submit_by_stranger_reverts(claims, policy, evidence, stranger):
    with reverts_with("ClaimUnauthorizedSubmitter", policy, stranger):
        submit(claims, policy, 10_000, evidence, stranger)


def test_submit_by_insurer_reverts(claims, policy, evidence, insurer):
    with reverts_with("ClaimUnauthorizedSubmitter", policy, insurer):
        submit(claims, policy, 10_000, evidence, insurer)


def test_submit_by_other_patient_reverts(claims, policy, evidence, patient2):
    with reverts_with("ClaimUnauthorizedSubmitter", policy, patient2):
        submit(claims, policy, 10_000, evidence, patient2)


def test_submit_by_suspended_hospital_reverts(claims, consortium, council, policy, evidence, hospital):
    from helpers import SUSPEND

    tx = consortium.propose(SUSPEND, hospital, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts_with("ClaimUnauthorizedSubmitter", policy, hospital):
        submit(claims, policy, 10_000, evidence, hospital)


# ---- policy ----


def test_submit_on_nonexistent_policy_reverts(claims, policy, evidence, patient):
    with reverts_with("ClaimPolicyNonexistent", 99):
        submit(claims, 99, 10_000, evidence, patient)


def test_submit_before_policy_starts_reverts(claims, policy, evidence, insurer, patient):
    start = now() + 1000
    pid = create_policy(claims, insurer, patient, start=start, length=500)
    with reverts_with("ClaimPolicyInactive", pid, start, start + 500):
        submit(claims, pid, 10_000, evidence, patient)


def test_submit_after_policy_ends_reverts(claims, evidence, insurer, patient):
    start = now()
    pid = create_policy(claims, insurer, patient, start=start, length=100)
    chain.sleep(200)
    with reverts_with("ClaimPolicyInactive", pid, start, start + 100):
        submit(claims, pid, 10_000, evidence, patient)


# ---- amount ----


def test_submit_zero_amount_reverts(claims, policy, evidence, patient):
    with reverts_with("ClaimInvalidAmount", 0):
        submit(claims, policy, 0, evidence, patient)


def test_submit_amount_over_uint96_reverts(claims, policy, evidence, patient):
    with reverts_with("ClaimInvalidAmount", 2**96):
        submit(claims, policy, 2**96, evidence, patient)


def test_submit_over_coverage_reverts(claims, policy, evidence, patient):
    with reverts_with("ClaimCoverageExceeded", policy, COVERAGE + 1, COVERAGE):
        submit(claims, policy, COVERAGE + 1, evidence, patient)


def test_submit_over_remaining_coverage_counts_pending_claims(
    claims, records, policy, evidence, hospital, patient
):
    submit(claims, policy, 70_000, evidence, patient)
    more = anchored(records, hospital, patient, 1)
    with reverts_with("ClaimCoverageExceeded", policy, 30_001, 30_000):
        submit(claims, policy, 30_001, more, patient)


# ---- evidence ----


def test_submit_without_evidence_reverts(claims, policy, patient):
    with reverts_with("ClaimInvalidEvidenceCount", 0, 32):
        submit(claims, policy, 10_000, [], patient)


def test_submit_with_too_much_evidence_reverts(claims, records, policy, hospital, patient):
    evidence = anchored(records, hospital, patient, 33)
    with reverts_with("ClaimInvalidEvidenceCount", 33, 32):
        submit(claims, policy, 10_000, evidence, patient)


def test_submit_unanchored_record_reverts(claims, policy, patient):
    ev = new_evidence()
    with reverts_with("ClaimEvidenceNotAnchored", b32(ev.record_hash), b32(ev.leaf(patient))):
        submit(claims, policy, 10_000, [ev], patient)


def test_submit_with_wrong_salt_reverts(claims, policy, evidence, patient):
    from claims_helpers import Ev

    bad = Ev(evidence[0].record_hash, keccak(b"wrong salt"), evidence[0].data_class)
    with reverts_with("ClaimEvidenceNotAnchored", b32(bad.record_hash), b32(bad.leaf(patient))):
        submit(claims, policy, 10_000, [bad], patient)


def test_submit_with_wrong_data_class_reverts(claims, policy, evidence, patient):
    from claims_helpers import Ev

    bad = Ev(evidence[0].record_hash, evidence[0].salt, IMAGING)
    with reverts_with("ClaimEvidenceNotAnchored", b32(bad.record_hash), b32(bad.leaf(patient))):
        submit(claims, policy, 10_000, [bad], patient)


def test_submit_another_patients_record_reverts(claims, records, policy, hospital, patient, patient2):
    """The commitment is recomputed with the policy holder: patient2's record does not open as patient's."""
    (ev,) = anchored(records, hospital, patient2, 1)
    with reverts_with("ClaimEvidenceNotAnchored", b32(ev.record_hash), b32(ev.leaf(patient))):
        submit(claims, policy, 10_000, [ev], patient)


# ---- consent ----


def test_submit_without_consent_reverts(claims, consent, policy, evidence, patient, insurer):
    revoke_consent(consent, patient, insurer)
    with reverts_with("ClaimConsentMissing", patient, insurer, 1 << LAB):
        submit(claims, policy, 10_000, evidence, patient)


def test_hospital_cannot_claim_for_holder_without_consent(
    claims, consent, records, insurer, hospital, patient2
):
    pid = create_policy(claims, insurer, patient2)
    evidence = anchored(records, hospital, patient2, 2)
    with reverts_with("ClaimConsentMissing", patient2, insurer, 1 << LAB):
        submit(claims, pid, 10_000, evidence, hospital)


def test_submit_with_consent_missing_one_class_reverts(
    claims, consent, records, policy, hospital, patient, insurer
):
    grant_consent(consent, patient, insurer, 1 << LAB)
    evidence = anchored(records, hospital, patient, 1, LAB) + anchored(records, hospital, patient, 1, IMAGING)
    with reverts_with("ClaimConsentMissing", patient, insurer, (1 << LAB) | (1 << IMAGING)):
        submit(claims, policy, 10_000, evidence, patient)


def test_submit_with_consent_to_other_insurer_only_reverts(
    claims, consent, policy, evidence, patient, insurer, insurer_b
):
    revoke_consent(consent, patient, insurer)
    grant_consent(consent, patient, insurer_b)
    with reverts_with("ClaimConsentMissing", patient, insurer, 1 << LAB):
        submit(claims, policy, 10_000, evidence, patient)


# ---- duplicate guard ----


def test_submit_same_evidence_twice_reverts_with_holding_claim(claims, policy, evidence, patient):
    first = submit(claims, policy, 10_000, evidence, patient).return_value
    with reverts_with("ClaimEvidenceAlreadyClaimed", b32(evidence[1].record_hash), first):
        submit(claims, policy, 10_000, [evidence[1]], patient)


def test_duplicate_guard_spans_insurers(claims, consent, token, policy, evidence, patient, insurer_b):
    first = submit(claims, policy, 10_000, evidence, patient).return_value
    grant_consent(consent, patient, insurer_b)
    other = create_policy(claims, insurer_b, patient)
    with reverts_with("ClaimEvidenceAlreadyClaimed", b32(evidence[2].record_hash), first):
        submit(claims, other, 10_000, [evidence[2]], patient)


def test_duplicate_guard_spans_claimants(claims, policy, evidence, patient, hospital):
    first = submit(claims, policy, 10_000, evidence[:1], hospital).return_value
    with reverts_with("ClaimEvidenceAlreadyClaimed", b32(evidence[0].record_hash), first):
        submit(claims, policy, 10_000, evidence, patient)


def test_same_record_twice_in_one_claim_reverts(claims, policy, evidence, patient):
    with reverts_with("ClaimEvidenceAlreadyClaimed", b32(evidence[0].record_hash), 1):
        submit(claims, policy, 10_000, [evidence[0], evidence[0]], patient)


def test_failed_submission_keeps_nothing(claims, policy, evidence, patient):
    with reverts_with("ClaimEvidenceNotAnchored"):
        submit(claims, policy, 10_000, [*evidence, new_evidence()], patient)
    assert claims.claimCount() == 0
    assert claims.liveClaimOf(evidence[0].hex) == 0
    assert claims.getPolicy(policy)["committed"] == 0


def test_unauthorized_role_id_format(claims, stranger):
    """ClaimUnauthorized names the missing role id."""
    with reverts_with("ClaimUnauthorized", stranger, role("INSURER")):
        claims.createPolicy(stranger, 1, 0, 2**40, {"from": stranger})
