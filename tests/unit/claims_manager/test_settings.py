"""ClaimsManager.setClaimSettings: decision window and dual-control threshold, set by the insurer's member
address only (an operator key cannot switch dual control off)."""

from __future__ import annotations

import pytest
from claims_helpers import DAY, DEFAULT_WINDOW, role
from helpers import add_operator, reverts_with


def test_defaults(claims, insurer):
    account = claims.insurerAccount(insurer)
    assert (account["decisionWindow"], account["dualControlThreshold"]) == (0, 0)
    assert claims.decisionWindowOf(insurer) == DEFAULT_WINDOW


def test_set_settings(claims, insurer):
    tx = claims.setClaimSettings(7 * DAY, 50_000, {"from": insurer})
    account = claims.insurerAccount(insurer)
    assert (account["decisionWindow"], account["dualControlThreshold"]) == (7 * DAY, 50_000)
    assert claims.decisionWindowOf(insurer) == 7 * DAY
    assert dict(tx.events["ClaimSettingsChanged"]) == {
        "insurer": insurer,
        "decisionWindow": 7 * DAY,
        "dualControlThreshold": 50_000,
    }


def test_operator_key_cannot_change_settings(claims, consortium, insurer, operator):
    add_operator(consortium, insurer, operator)
    with reverts_with("ClaimSettingsNotMember", operator, insurer):
        claims.setClaimSettings(7 * DAY, 0, {"from": operator})


def test_non_insurer_cannot_change_settings(claims, hospital):
    with reverts_with("ClaimUnauthorized", hospital, role("INSURER")):
        claims.setClaimSettings(7 * DAY, 0, {"from": hospital})


@pytest.mark.parametrize("window", [0, DAY - 1, 365 * DAY + 1])
def test_window_out_of_bounds_reverts(claims, insurer, window):
    with reverts_with("ClaimInvalidDecisionWindow", window):
        claims.setClaimSettings(window, 0, {"from": insurer})


@pytest.mark.parametrize("window", [DAY, 365 * DAY])
def test_window_bounds_accepted(claims, insurer, window):
    claims.setClaimSettings(window, 0, {"from": insurer})
    assert claims.decisionWindowOf(insurer) == window


def test_threshold_over_uint96_reverts(claims, insurer):
    with reverts_with("ClaimInvalidThreshold", 2**96):
        claims.setClaimSettings(DAY, 2**96, {"from": insurer})
