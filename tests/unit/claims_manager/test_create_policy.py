"""ClaimsManager.createPolicy: INSURER keys only, validation of holder/coverage/window, storage and event."""

from __future__ import annotations

import pytest
from claims_helpers import COVERAGE, YEAR, now, role
from helpers import add_operator, reverts_with

ZERO = "0x" + "00" * 20


def test_create_policy_stores_policy(claims, insurer, patient):
    start = now()
    tx = claims.createPolicy(patient, COVERAGE, start, start + YEAR, {"from": insurer})
    policy = claims.getPolicy(tx.return_value)
    assert tx.return_value == 1
    assert (policy["holder"], policy["coverage"], policy["insurer"]) == (patient, COVERAGE, insurer)
    assert (policy["committed"], policy["paid"]) == (0, 0)
    assert (policy["validFrom"], policy["validUntil"]) == (start, start + YEAR)
    assert claims.policyCount() == 1
    assert claims.remainingCoverage(tx.return_value) == COVERAGE


def test_create_policy_emits_policy_created(claims, insurer, patient):
    start = now()
    tx = claims.createPolicy(patient, COVERAGE, start, start + YEAR, {"from": insurer})
    ev = tx.events["PolicyCreated"]
    assert dict(ev) == {
        "policyId": 1,
        "insurer": insurer,
        "holder": patient,
        "coverage": COVERAGE,
        "validFrom": start,
        "validUntil": start + YEAR,
        "by": insurer,
    }


def test_create_policy_ids_increase(claims, insurer, insurer_b, patient, patient2):
    start = now()
    first = claims.createPolicy(patient, 1, start, start + YEAR, {"from": insurer}).return_value
    second = claims.createPolicy(patient2, 1, start, start + YEAR, {"from": insurer_b}).return_value
    assert (first, second) == (1, 2)
    assert claims.getPolicy(second)["insurer"] == insurer_b


def test_create_policy_by_operator_key_issues_for_member(claims, consortium, insurer, operator, patient):
    add_operator(consortium, insurer, operator)
    start = now()
    tx = claims.createPolicy(patient, COVERAGE, start, start + YEAR, {"from": operator})
    assert claims.getPolicy(tx.return_value)["insurer"] == insurer
    assert tx.events["PolicyCreated"]["by"] == operator


def test_create_policy_may_start_in_future(claims, insurer, patient):
    start = now() + YEAR
    tx = claims.createPolicy(patient, COVERAGE, start, start + YEAR, {"from": insurer})
    assert claims.getPolicy(tx.return_value)["validFrom"] == start


@pytest.mark.parametrize("who", ["hospital", "stranger", "patient", "council"])
def test_create_policy_without_insurer_role_reverts(claims, who, request, patient):
    account = request.getfixturevalue(who)
    start = now()
    with reverts_with("ClaimUnauthorized", account, role("INSURER")):
        claims.createPolicy(patient, COVERAGE, start, start + YEAR, {"from": account})


def test_create_policy_by_suspended_insurer_reverts(claims, consortium, council, insurer, patient):
    from helpers import SUSPEND

    consortium.execute(
        consortium.propose(SUSPEND, insurer, 0, "", "", {"from": council}).return_value, {"from": council}
    )
    start = now()
    with reverts_with("ClaimUnauthorized", insurer, role("INSURER")):
        claims.createPolicy(patient, COVERAGE, start, start + YEAR, {"from": insurer})


def test_create_policy_zero_holder_reverts(claims, insurer):
    start = now()
    with reverts_with("ClaimInvalidPolicy", ZERO, COVERAGE, start, start + YEAR):
        claims.createPolicy(ZERO, COVERAGE, start, start + YEAR, {"from": insurer})


@pytest.mark.parametrize("coverage", [0, 2**96])
def test_create_policy_bad_coverage_reverts(claims, insurer, patient, coverage):
    start = now()
    with reverts_with("ClaimInvalidPolicy", patient, coverage, start, start + YEAR):
        claims.createPolicy(patient, coverage, start, start + YEAR, {"from": insurer})


def test_create_policy_max_coverage(claims, insurer, patient):
    start = now()
    tx = claims.createPolicy(patient, 2**96 - 1, start, start + YEAR, {"from": insurer})
    assert claims.getPolicy(tx.return_value)["coverage"] == 2**96 - 1


def test_create_policy_empty_window_reverts(claims, insurer, patient):
    start = now() + 100
    with reverts_with("ClaimInvalidPolicy", patient, COVERAGE, start, start):
        claims.createPolicy(patient, COVERAGE, start, start, {"from": insurer})


def test_create_policy_already_over_reverts(claims, insurer, patient):
    start = now() - 2 * YEAR
    with reverts_with("ClaimInvalidPolicy", patient, COVERAGE, start, start + YEAR):
        claims.createPolicy(patient, COVERAGE, start, start + YEAR, {"from": insurer})


def test_views_of_unknown_policy_are_zero(claims):
    policy = claims.getPolicy(7)
    assert policy["holder"] == ZERO and policy["coverage"] == 0
    assert claims.remainingCoverage(7) == 0


def test_wiring_views(claims, consortium, consent, records, token):
    assert claims.consortium() == consortium
    assert claims.consentRegistry() == consent
    assert claims.recordRegistry() == records
    assert claims.token() == token
    assert claims.CLAIM_PURPOSE() == 2
    assert claims.MAX_EVIDENCE() == 32
