"""Consortium.propose: validation of kind, target and value per proposal kind."""

import brownie
import pytest
from consortium_helpers import ACTIVE, SUSPENDED, passed, propose
from helpers import ADMIT, REINSTATE, SET_ROLES, SET_THRESHOLD, SUSPEND, add_operator, reverts_with, roles

ZERO = "0x" + "00" * 20
NONE_KIND = 0
UNKNOWN_BIT = 1 << 7


def test_propose_kind_none_reverts(gov, council, stranger):
    with reverts_with("ConsortiumInvalidProposal", NONE_KIND, stranger, 0):
        gov.propose(NONE_KIND, stranger, 0, "", "", {"from": council})


def test_propose_kind_out_of_range_reverts(gov, council, stranger):
    with brownie.reverts():  # the ABI decoder rejects an enum value past the last member
        gov.propose(7, stranger, 0, "", "", {"from": council})


@pytest.mark.parametrize("kind", [SUSPEND, REINSTATE, SET_ROLES])
def test_propose_name_or_uri_outside_admit_reverts(gov, council, hospital, kind):
    with reverts_with("ConsortiumInvalidProposal", kind, hospital, 0):
        gov.propose(kind, hospital, 0, "name", "", {"from": council})
    with reverts_with("ConsortiumInvalidProposal", kind, hospital, 0):
        gov.propose(kind, hospital, 0, "", "https://x", {"from": council})


# ---- Admit ----


def test_propose_admit_zero_target_reverts(gov, council):
    with reverts_with("ConsortiumZeroAddress"):
        gov.propose(ADMIT, ZERO, roles("HOSPITAL"), "X", "", {"from": council})


def test_propose_admit_existing_member_reverts(gov, council, hospital):
    with reverts_with("ConsortiumAlreadyRegistered", hospital):
        gov.propose(ADMIT, hospital, roles("HOSPITAL"), "X", "", {"from": council})


def test_propose_admit_operator_key_reverts(gov, council, hospital, operator):
    add_operator(gov, hospital, operator)
    with reverts_with("ConsortiumAlreadyRegistered", operator):
        gov.propose(ADMIT, operator, roles("HOSPITAL"), "X", "", {"from": council})


def test_propose_admit_zero_roles_reverts(gov, council, stranger):
    with reverts_with("ConsortiumInvalidRoles", 0):
        gov.propose(ADMIT, stranger, 0, "X", "", {"from": council})


@pytest.mark.parametrize("bad", [UNKNOWN_BIT, UNKNOWN_BIT | 1, 2**32 - 1])
def test_propose_admit_unknown_role_bits_revert(gov, council, stranger, bad):
    with reverts_with("ConsortiumInvalidRoles", bad):
        gov.propose(ADMIT, stranger, bad, "X", "", {"from": council})


def test_propose_admit_all_roles_is_valid(gov, council, stranger):
    assert propose(gov, council, ADMIT, stranger, UNKNOWN_BIT - 1, "All") > 0


# ---- Suspend / Reinstate ----


def test_propose_suspend_unknown_target_reverts(gov, council, stranger):
    with reverts_with("ConsortiumUnknownMember", stranger):
        gov.propose(SUSPEND, stranger, 0, "", "", {"from": council})


def test_propose_suspend_operator_key_reverts(gov, council, hospital, operator):
    add_operator(gov, hospital, operator)
    with reverts_with("ConsortiumUnknownMember", operator):
        gov.propose(SUSPEND, operator, 0, "", "", {"from": council})


def test_propose_suspend_with_value_reverts(gov, council, hospital):
    with reverts_with("ConsortiumInvalidProposal", SUSPEND, hospital, 1):
        gov.propose(SUSPEND, hospital, 1, "", "", {"from": council})


def test_propose_suspend_suspended_member_reverts(gov, council, council2, hospital):
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    with reverts_with("ConsortiumUnexpectedMemberStatus", hospital, SUSPENDED, ACTIVE):
        gov.propose(SUSPEND, hospital, 0, "", "", {"from": council})


def test_propose_suspend_council_below_threshold_reverts(gov3, council):
    # three council members, threshold 3: suspending one would leave 2 < 3
    with reverts_with("ConsortiumInvalidThreshold", 3, 2):
        gov3.propose(SUSPEND, council, 0, "", "", {"from": council})


def test_propose_suspend_council_down_to_threshold_is_valid(gov, council, council3):
    assert propose(gov, council, SUSPEND, council3) > 0


def test_propose_reinstate_active_member_reverts(gov, council, hospital):
    with reverts_with("ConsortiumUnexpectedMemberStatus", hospital, ACTIVE, SUSPENDED):
        gov.propose(REINSTATE, hospital, 0, "", "", {"from": council})


def test_propose_reinstate_unknown_target_reverts(gov, council, stranger):
    with reverts_with("ConsortiumUnknownMember", stranger):
        gov.propose(REINSTATE, stranger, 0, "", "", {"from": council})


def test_propose_reinstate_with_value_reverts(gov, council, council2, hospital):
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    with reverts_with("ConsortiumInvalidProposal", REINSTATE, hospital, 7):
        gov.propose(REINSTATE, hospital, 7, "", "", {"from": council})


# ---- SetRoles ----


def test_propose_set_roles_unknown_target_reverts(gov, council, stranger):
    with reverts_with("ConsortiumUnknownMember", stranger):
        gov.propose(SET_ROLES, stranger, roles("HOSPITAL"), "", "", {"from": council})


def test_propose_set_roles_zero_reverts(gov, council, hospital):
    with reverts_with("ConsortiumInvalidRoles", 0):
        gov.propose(SET_ROLES, hospital, 0, "", "", {"from": council})


def test_propose_set_roles_unknown_bit_reverts(gov, council, hospital):
    with reverts_with("ConsortiumInvalidRoles", UNKNOWN_BIT | roles("HOSPITAL")):
        gov.propose(SET_ROLES, hospital, UNKNOWN_BIT | roles("HOSPITAL"), "", "", {"from": council})


def test_propose_set_roles_unchanged_reverts(gov, council, hospital):
    with reverts_with("ConsortiumInvalidProposal", SET_ROLES, hospital, roles("HOSPITAL")):
        gov.propose(SET_ROLES, hospital, roles("HOSPITAL"), "", "", {"from": council})


def test_propose_set_roles_dropping_council_below_threshold_reverts(gov3, council):
    with reverts_with("ConsortiumInvalidThreshold", 3, 2):
        gov3.propose(SET_ROLES, council, roles("AUDITOR"), "", "", {"from": council})


def test_propose_set_roles_keeping_council_is_valid(gov3, council):
    assert propose(gov3, council, SET_ROLES, council, roles("COUNCIL", "AUDITOR")) > 0


# ---- SetThreshold ----


def test_propose_set_threshold_with_target_reverts(gov, council, hospital):
    with reverts_with("ConsortiumInvalidProposal", SET_THRESHOLD, hospital, 3):
        gov.propose(SET_THRESHOLD, hospital, 3, "", "", {"from": council})


def test_propose_set_threshold_zero_reverts(gov, council):
    with reverts_with("ConsortiumInvalidThreshold", 0, 3):
        gov.propose(SET_THRESHOLD, ZERO, 0, "", "", {"from": council})


def test_propose_set_threshold_above_council_count_reverts(gov, council):
    with reverts_with("ConsortiumInvalidThreshold", 4, 3):
        gov.propose(SET_THRESHOLD, ZERO, 4, "", "", {"from": council})


def test_propose_set_threshold_unchanged_reverts(gov, council):
    with reverts_with("ConsortiumInvalidProposal", SET_THRESHOLD, ZERO, 2):
        gov.propose(SET_THRESHOLD, ZERO, 2, "", "", {"from": council})
