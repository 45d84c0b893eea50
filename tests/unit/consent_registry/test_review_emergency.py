"""reviewEmergency: COUNCIL or AUDITOR reviews an opening once; unjustified openings count per hospital."""

from __future__ import annotations

from consent_helpers import AUDITOR_ROLE, JUSTIFICATION, JUSTIFIED, PENDING, UNJUSTIFIED, next_tx_at, now
from helpers import add_operator, admit, reverts_with, roles


def test_review_by_auditor_justified(registry, opened, patient, hospital, auditor):
    t = now() + 10
    next_tx_at(t)
    tx = registry.reviewEmergency(1, True, {"from": auditor})
    assert tx.events["EmergencyReviewed"] == {
        "openingId": 1,
        "patient": patient,
        "hospital": hospital,
        "review": JUSTIFIED,
        "reviewer": auditor,
    }
    o = registry.getOpening(1)
    assert (o["review"], o["reviewer"], o["reviewedAt"]) == (JUSTIFIED, auditor, t)
    assert registry.pendingReviewCount() == 0
    assert registry.unjustifiedCount(hospital) == 0


def test_review_by_council_unjustified(registry, opened, hospital, council):
    tx = registry.reviewEmergency(1, False, {"from": council})
    assert tx.events["EmergencyReviewed"]["review"] == UNJUSTIFIED
    assert tx.events["EmergencyReviewed"]["reviewer"] == council
    assert registry.unjustifiedCount(hospital) == 1
    assert registry.pendingReviewCount() == 0


def test_unjustified_count_accumulates_per_hospital(
    registry, patient, patient2, hospital, hospital_b, auditor
):
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})
    registry.openEmergency(patient2, 1, JUSTIFICATION, {"from": hospital})
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital_b})
    registry.reviewEmergency(1, False, {"from": auditor})
    registry.reviewEmergency(2, False, {"from": auditor})
    registry.reviewEmergency(3, True, {"from": auditor})
    assert registry.unjustifiedCount(hospital) == 2
    assert registry.unjustifiedCount(hospital_b) == 0


def test_review_by_operator_key_records_the_member(registry, consortium, opened, auditor, operator):
    add_operator(consortium, auditor, operator)
    registry.reviewEmergency(1, True, {"from": operator})
    assert registry.getOpening(1)["reviewer"] == auditor


def test_review_does_not_end_access(registry, opened, patient, hospital, auditor):
    registry.reviewEmergency(1, True, {"from": auditor})
    assert registry.isPermitted(patient, hospital, 4, 1)


def test_review_twice_reverts(registry, opened, auditor, council):
    registry.reviewEmergency(1, True, {"from": auditor})
    with reverts_with("EmergencyAlreadyReviewed", 1, JUSTIFIED):
        registry.reviewEmergency(1, False, {"from": council})


def test_review_by_hospital_reverts(registry, opened, hospital_b):
    with reverts_with("EmergencyUnauthorized", hospital_b, AUDITOR_ROLE):
        registry.reviewEmergency(1, True, {"from": hospital_b})


def test_review_by_stranger_or_insurer_reverts(registry, opened, stranger, insurer):
    for account in (stranger, insurer):
        with reverts_with("EmergencyUnauthorized", account, AUDITOR_ROLE):
            registry.reviewEmergency(1, True, {"from": account})


def test_review_unknown_opening_reverts(registry, auditor):
    with reverts_with("EmergencyUnknownOpening", 5):
        registry.reviewEmergency(5, True, {"from": auditor})


def test_self_review_reverts(registry, consortium, council, patient, accounts):
    """A member holding both HOSPITAL and AUDITOR may not review its own opening."""
    both = accounts[16]
    admit(consortium, council, both, roles("HOSPITAL", "AUDITOR"), "Teaching hospital")
    registry.openEmergency(patient, 1, JUSTIFICATION, {"from": both})
    with reverts_with("EmergencySelfReview", 1, both):
        registry.reviewEmergency(1, True, {"from": both})


def test_pending_state_before_review(registry, opened):
    assert registry.getOpening(1)["review"] == PENDING
