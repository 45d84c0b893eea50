"""Coverage over several claims: live claims never promise more than the policy covers; rejection, withdrawal
and partial approval give coverage back; paid amounts never come back."""

from __future__ import annotations

from claims_helpers import COVERAGE, anchored, submit
from helpers import reverts_with


def _claim(claims, records, policy, hospital, patient, amount):
    return submit(claims, policy, amount, anchored(records, hospital, patient, 1), patient).return_value


def test_coverage_exhausted_over_several_claims(claims, records, policy, hospital, patient, insurer):
    a = _claim(claims, records, policy, hospital, patient, 40_000)
    b = _claim(claims, records, policy, hospital, patient, 35_000)
    claims.approveClaim(a, 40_000, {"from": insurer})
    claims.payClaim(a, {"from": patient})
    c = _claim(claims, records, policy, hospital, patient, 25_000)
    assert claims.remainingCoverage(policy) == 0
    evidence = anchored(records, hospital, patient, 1)
    with reverts_with("ClaimCoverageExceeded", policy, 1, 0):
        submit(claims, policy, 1, evidence, patient)
    claims.approveClaim(b, 35_000, {"from": insurer})
    claims.approveClaim(c, 25_000, {"from": insurer})
    claims.payClaim(b, {"from": patient})
    claims.payClaim(c, {"from": patient})
    p = claims.getPolicy(policy)
    assert (p["paid"], p["committed"]) == (COVERAGE, 0)
    with reverts_with("ClaimCoverageExceeded", policy, 1, 0):
        submit(claims, policy, 1, evidence, patient)


def test_rejection_and_withdrawal_give_coverage_back(claims, records, policy, hospital, patient, insurer):
    a = _claim(claims, records, policy, hospital, patient, 60_000)
    b = _claim(claims, records, policy, hospital, patient, 40_000)
    claims.rejectClaim(a, 2, {"from": insurer})
    assert claims.remainingCoverage(policy) == 60_000
    claims.withdrawClaim(b, {"from": patient})
    assert claims.remainingCoverage(policy) == COVERAGE
    _claim(claims, records, policy, hospital, patient, COVERAGE)


def test_partial_approval_gives_difference_back(claims, records, policy, hospital, patient, insurer):
    a = _claim(claims, records, policy, hospital, patient, COVERAGE)
    claims.approveClaim(a, 70_000, {"from": insurer})
    assert claims.remainingCoverage(policy) == 30_000
    _claim(claims, records, policy, hospital, patient, 30_000)
    assert claims.remainingCoverage(policy) == 0
