"""Issue 12, claims findings 3-5: each test failed on the contract before its fix.

3. Any hospital could file claims on any policy with the holder's records; records of a suspended hospital
   counted as evidence.
4. A council member could decide an escalated claim in which it is the claimant or the insurer.
5. Removing INSURER from an active insurer locked its reserve for good; constructors took zero addresses.
"""

from __future__ import annotations

import brownie
from brownie import ZERO_ADDRESS, chain
from claims_helpers import DEFAULT_WINDOW, LAB, RESERVE, anchored, b32, grant_consent, role, submit
from helpers import reverts_with, roles

SUSPEND, SET_ROLES = 2, 4  # IConsortium.ProposalKind


def _govern(consortium, council, kind, target, value=0):
    tx = consortium.propose(kind, target, value, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})


# ---- 3: who may submit, and whose records are evidence ----


def test_another_hospital_without_the_holders_claim_consent_is_refused(
    claims, policy, evidence, hospital_b, patient
):
    with reverts_with("ClaimSubmitterNotPermitted", hospital_b, patient, 1 << LAB):
        submit(claims, policy, 10_000, evidence, hospital_b)


def test_the_anchoring_hospital_submits_without_a_consent_of_its_own(claims, policy, evidence, hospital):
    assert (
        claims.getClaim(submit(claims, policy, 10_000, evidence, hospital).return_value)["claimant"]
        == hospital
    )


def test_mixed_evidence_needs_the_holders_consent_for_the_submitter(
    claims, consent, records, policy, hospital, hospital_b, patient
):
    own = anchored(records, hospital, patient, 1)
    foreign = anchored(records, hospital_b, patient, 1)
    with reverts_with("ClaimSubmitterNotPermitted", hospital, patient, 1 << LAB):
        submit(claims, policy, 10_000, own + foreign, hospital)
    grant_consent(consent, patient, hospital, 1 << LAB)
    assert submit(claims, policy, 10_000, own + foreign, hospital).return_value > 0


def test_the_holder_submits_any_of_its_records(claims, records, policy, hospital, hospital_b, patient):
    evidence = anchored(records, hospital, patient, 1) + anchored(records, hospital_b, patient, 1)
    assert (
        claims.getClaim(submit(claims, policy, 10_000, evidence, patient).return_value)["claimant"] == patient
    )


def test_records_of_a_suspended_hospital_are_not_evidence(
    claims, consortium, council, policy, evidence, patient, hospital
):
    _govern(consortium, council, SUSPEND, hospital)
    with reverts_with("ClaimEvidenceHospitalInactive", b32(evidence[0].record_hash), hospital):
        submit(claims, policy, 10_000, evidence, patient)


def test_records_of_a_hospital_stripped_of_the_role_are_not_evidence(
    claims, consortium, council, policy, evidence, patient, hospital
):
    _govern(consortium, council, SET_ROLES, hospital, roles("PHARMACY"))
    with reverts_with("ClaimEvidenceHospitalInactive", b32(evidence[0].record_hash), hospital):
        submit(claims, policy, 10_000, evidence, patient)


# ---- 4: no council member decides its own case ----


def _escalated_claim(claims, policy, evidence, submitter):
    claim = submit(claims, policy, 10_000, evidence, submitter).return_value
    chain.sleep(DEFAULT_WINDOW + 1)
    claims.escalateClaim(claim, {"from": submitter})
    return claim


def test_a_council_member_that_is_the_claimant_cannot_decide(
    claims, consortium, council, policy, evidence, hospital
):
    _govern(consortium, council, SET_ROLES, hospital, roles("HOSPITAL", "COUNCIL"))
    claim = _escalated_claim(claims, policy, evidence, hospital)
    with reverts_with("ClaimCouncilConflict", claim, hospital):
        claims.approveEscalated(claim, 10_000, {"from": hospital})
    with reverts_with("ClaimCouncilConflict", claim, hospital):
        claims.rejectEscalated(claim, 1, {"from": hospital})
    claims.approveEscalated(claim, 10_000, {"from": council})  # an impartial member still decides


def test_a_council_member_that_is_the_insurer_cannot_decide(
    claims, consortium, council, policy, evidence, insurer, patient
):
    _govern(consortium, council, SET_ROLES, insurer, roles("INSURER", "COUNCIL"))
    claim = _escalated_claim(claims, policy, evidence, patient)
    with reverts_with("ClaimCouncilConflict", claim, insurer):
        claims.approveEscalated(claim, 10_000, {"from": insurer})
    with reverts_with("ClaimCouncilConflict", claim, insurer):
        claims.rejectEscalated(claim, 1, {"from": insurer})


# ---- 5: a removed insurer's reserve, constructors ----


def test_the_council_releases_a_removed_insurers_reserve(
    claims, consortium, council, token, policy, evidence, insurer, patient
):
    claim = submit(claims, policy, 10_000, evidence, patient).return_value
    claims.approveClaim(claim, 4_000, {"from": insurer})  # owed until paid
    _govern(consortium, council, SET_ROLES, insurer, roles("PHARMACY"))
    with reverts_with("ClaimUnauthorized", insurer, role("INSURER")):
        claims.withdrawReserve(1, {"from": insurer})
    before = token.balanceOf(insurer)
    tx = claims.releaseReserve(insurer, {"from": council})
    assert tx.return_value == RESERVE - 4_000 and token.balanceOf(insurer) == before + RESERVE - 4_000
    ev = tx.events["ReserveReleased"]
    released = (ev["insurer"], ev["by"], ev["amount"], ev["reserve"])
    assert released == (insurer, council, RESERVE - 4_000, 4_000)
    claims.payClaim(claim, {"from": patient})  # what it owed is still paid from what stayed
    assert claims.insurerAccount(insurer)["reserve"] == 0
    with reverts_with("ClaimReserveNotReleasable", insurer, 0):
        claims.releaseReserve(insurer, {"from": council})


def test_an_active_insurers_reserve_is_not_released(claims, council, insurer, policy):
    with reverts_with("ClaimReserveNotReleasable", insurer, RESERVE):
        claims.releaseReserve(insurer, {"from": council})


def test_only_the_council_releases_a_reserve(claims, consortium, council, insurer, hospital, policy):
    _govern(consortium, council, SUSPEND, insurer)
    with reverts_with("ClaimUnauthorized", hospital, role("COUNCIL")):
        claims.releaseReserve(insurer, {"from": hospital})
    assert claims.releaseReserve(insurer, {"from": council}).return_value == RESERVE


def test_constructors_refuse_zero_addresses(
    ClaimsManager, RecordRegistry, consortium, consent, records, token, council
):
    with reverts_with("ClaimZeroAddress", ZERO_ADDRESS, consent, records, token):
        ClaimsManager.deploy(ZERO_ADDRESS, consent, records, token, {"from": council})
    with reverts_with("ClaimZeroAddress", consortium, consent, records, ZERO_ADDRESS):
        ClaimsManager.deploy(consortium, consent, records, ZERO_ADDRESS, {"from": council})
    with reverts_with("RecordZeroAddress", consortium, ZERO_ADDRESS):
        RecordRegistry.deploy(consortium, ZERO_ADDRESS, {"from": council})
    with brownie.reverts():
        RecordRegistry.deploy(ZERO_ADDRESS, consent, {"from": council})
