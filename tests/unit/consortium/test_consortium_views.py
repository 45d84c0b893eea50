"""Consortium views: isAuthorized, authorizedMember, isActiveMember, memberOf, getMember, getProposal, ..."""

import pytest
from consortium_helpers import LIFETIME, NONE, ZERO
from eth_utils import keccak
from helpers import ROLE_BIT, ROLE_ID, ROLE_NAMES, add_operator


def test_is_authorized_member_with_role(gov, hospital):
    assert gov.isAuthorized(hospital, ROLE_ID["HOSPITAL"])


@pytest.mark.parametrize("role", [r for r in ROLE_NAMES if r != "HOSPITAL"])
def test_is_authorized_member_without_role_is_false(gov, hospital, role):
    assert not gov.isAuthorized(hospital, ROLE_ID[role])


def test_is_authorized_unknown_role_is_false(gov, council):
    assert not gov.isAuthorized(council, keccak(text="ADMIN"))
    assert not gov.isAuthorized(council, "0x" + "00" * 32)


def test_is_authorized_stranger_and_zero_address_are_false(gov, stranger):
    assert not gov.isAuthorized(stranger, ROLE_ID["COUNCIL"])
    assert not gov.isAuthorized(ZERO, ROLE_ID["COUNCIL"])


def test_authorized_member_of_member_is_itself(gov, insurer):
    assert gov.authorizedMember(insurer, ROLE_ID["INSURER"]) == insurer


def test_authorized_member_without_role_is_zero(gov, insurer, stranger):
    assert gov.authorizedMember(insurer, ROLE_ID["HOSPITAL"]) == ZERO
    assert gov.authorizedMember(stranger, ROLE_ID["INSURER"]) == ZERO


def test_authorized_member_of_operator_key_is_its_member(gov, hospital, operator):
    add_operator(gov, hospital, operator)
    assert gov.authorizedMember(operator, ROLE_ID["HOSPITAL"]) == hospital
    assert gov.authorizedMember(operator, ROLE_ID["INSURER"]) == ZERO


def test_is_active_member(gov, hospital, operator, stranger):
    add_operator(gov, hospital, operator)
    assert gov.isActiveMember(hospital)
    assert not gov.isActiveMember(operator)  # a key, not a member
    assert not gov.isActiveMember(stranger)
    assert not gov.isActiveMember(ZERO)


def test_member_of(gov, hospital, operator, stranger):
    add_operator(gov, hospital, operator)
    assert gov.memberOf(hospital) == hospital
    assert gov.memberOf(operator) == hospital
    assert gov.memberOf(stranger) == ZERO


def test_get_member_of_non_member_is_empty(gov, hospital, operator, stranger):
    add_operator(gov, hospital, operator)
    for account in (stranger, operator):
        m = gov.getMember(account)
        assert m["status"] == NONE
        assert m["roles"] == 0
        assert m["admittedAt"] == 0
        assert m["name"] == ""


def test_get_member_of_member(gov, hospital):
    m = gov.getMember(hospital)
    assert m["roles"] == ROLE_BIT["HOSPITAL"]
    assert m["name"] == "Hospital A"
    assert m["uri"] == "https://h.example"
    assert m["admittedAt"] > 0
    assert m["updatedAt"] == m["admittedAt"]


def test_get_proposal_of_unknown_id_is_empty(gov):
    p = gov.getProposal(999)
    assert p["status"] == NONE
    assert p["proposer"] == ZERO


def test_has_approved_unknown_is_false(gov, council):
    assert not gov.hasApproved(999, council)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_role_bit_matches_roles_library(gov, role):
    assert gov.roleBit(ROLE_ID[role]) == ROLE_BIT[role]


def test_role_bit_of_unknown_role_is_zero(gov):
    assert gov.roleBit(keccak(text="ADMIN")) == 0


def test_proposal_lifetime_is_seven_days(gov):
    assert gov.proposalLifetime() == LIFETIME


def test_approvers_lists_recorded_approvals_proposer_first(gov, council, council2, council3, stranger):
    pid = gov.propose(1, stranger, ROLE_BIT["AUDITOR"], "S", "", {"from": council2}).return_value
    gov.approve(pid, {"from": council3})
    assert gov.approvers(pid) == [council2, council3]
    assert gov.hasApproved(pid, council2) and gov.hasApproved(pid, council3)
    assert not gov.hasApproved(pid, council)
    assert gov.countedApprovals(pid) == 2


def test_approvers_and_counted_of_unknown_proposal_are_empty(gov):
    assert gov.approvers(999) == []
    assert gov.countedApprovals(999) == 0


def test_operator_offer_of_nobody_is_closed(gov, hospital, stranger):
    assert gov.operatorOffer(hospital, stranger) == (False, ZERO)


def test_max_council_is_sixteen(gov):
    assert gov.maxCouncil() == 16
