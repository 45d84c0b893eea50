"""isOverdue / overdueOpenings / openingCount / getOpening: unreviewed openings after 7 days."""

from __future__ import annotations

from consent_helpers import JUSTIFICATION, REVIEW_PERIOD, mine_at, next_tx_at, now
from helpers import reverts_with


def _open_at(registry, patient, hospital, t):
    next_tx_at(t)
    return registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital}).return_value


def test_is_overdue_after_review_period(registry, patient, hospital):
    t = now() + 10
    _open_at(registry, patient, hospital, t)
    mine_at(t + REVIEW_PERIOD)
    assert not registry.isOverdue(1)
    mine_at(t + REVIEW_PERIOD + 1)
    assert registry.isOverdue(1)


def test_reviewed_opening_is_never_overdue(registry, patient, hospital, auditor):
    t = now() + 10
    _open_at(registry, patient, hospital, t)
    next_tx_at(t + REVIEW_PERIOD + 100)
    registry.reviewEmergency(1, True, {"from": auditor})
    assert not registry.isOverdue(1)


def test_is_overdue_unknown_opening_reverts(registry):
    with reverts_with("EmergencyUnknownOpening", 3):
        registry.isOverdue(3)


def test_get_opening_unknown_reverts(registry):
    with reverts_with("EmergencyUnknownOpening", 0):
        registry.getOpening(0)


def test_overdue_openings_lists_only_unreviewed_old_ones(
    registry, patient, patient2, hospital, hospital_b, auditor
):
    t = now() + 10
    _open_at(registry, patient, hospital, t)  # 1: overdue
    _open_at(registry, patient2, hospital, t + 1)  # 2: reviewed
    _open_at(registry, patient, hospital_b, t + 2)  # 3: overdue
    _open_at(registry, patient2, hospital_b, t + 5 * 86400)  # 4: too recent
    registry.reviewEmergency(2, False, {"from": auditor})
    mine_at(t + REVIEW_PERIOD + 10)
    assert list(registry.overdueOpenings(1, 10)) == [1, 3]
    assert registry.openingCount() == 4
    assert registry.pendingReviewCount() == 3


def test_overdue_openings_pages(registry, patient, patient2, hospital, hospital_b):
    t = now() + 10
    _open_at(registry, patient, hospital, t)
    _open_at(registry, patient2, hospital, t + 1)
    _open_at(registry, patient, hospital_b, t + 2)
    mine_at(t + REVIEW_PERIOD + 10)
    assert list(registry.overdueOpenings(1, 2)) == [1, 2]
    assert list(registry.overdueOpenings(3, 2)) == [3]
    assert list(registry.overdueOpenings(0, 1)) == [1]  # id 0 is read as 1
    assert list(registry.overdueOpenings(4, 10)) == []
    assert list(registry.overdueOpenings(1, 0)) == []


def test_overdue_openings_with_none(registry):
    assert list(registry.overdueOpenings(1, 100)) == []


def test_overdue_openings_huge_count_is_clipped(registry, patient, hospital):
    t = now() + 10
    _open_at(registry, patient, hospital, t)
    mine_at(t + REVIEW_PERIOD + 1)
    assert list(registry.overdueOpenings(1, 2**256 - 1)) == [1]
    assert list(registry.overdueOpenings(2**256 - 1, 2**256 - 1)) == []
