"""Consortium.execute: threshold, who may execute, state re-validated at execution, one execution only."""

import pytest
from brownie import chain
from consortium_helpers import EXECUTED, LIFETIME, PENDING, passed, propose, role_arg
from helpers import ADMIT, REINSTATE, SET_ROLES, SET_THRESHOLD, SUSPEND, add_operator, reverts_with, roles

ZERO = "0x" + "00" * 20


@pytest.fixture
def pid(gov, council, stranger):
    return propose(gov, council, ADMIT, stranger, roles("AUDITOR"), "S")


def test_execute_with_threshold_approvals(gov, pid, council, council2, stranger):
    gov.approve(pid, {"from": council2})
    tx = gov.execute(pid, {"from": council})
    assert gov.getProposal(pid)["status"] == EXECUTED
    assert gov.isActiveMember(stranger)
    assert tx.events["ProposalExecuted"]["proposalId"] == pid
    assert tx.events["ProposalExecuted"]["executor"] == council


def test_execute_emits_change_before_proposal_executed(gov, pid, council, council2):
    gov.approve(pid, {"from": council2})
    tx = gov.execute(pid, {"from": council})
    names = [e.name for e in tx.events]
    assert names.index("MemberAdmitted") < names.index("ProposalExecuted")


def test_execute_below_threshold_reverts(gov, pid, council):
    with reverts_with("ConsortiumInsufficientApprovals", pid, 1, 2):
        gov.execute(pid, {"from": council})


def test_execute_by_council_member_that_did_not_approve(gov, pid, council2, council3, stranger):
    gov.approve(pid, {"from": council2})
    tx = gov.execute(pid, {"from": council3})
    assert tx.events["ProposalExecuted"]["executor"] == council3
    assert gov.isActiveMember(stranger)


def test_execute_by_council_operator_key_names_member(gov, pid, council2, operator):
    gov.approve(pid, {"from": council2})
    add_operator(gov, council2, operator)
    tx = gov.execute(pid, {"from": operator})
    assert tx.events["ProposalExecuted"]["executor"] == council2


@pytest.mark.parametrize("who", ["stranger", "hospital"])
def test_execute_by_non_council_reverts(gov, pid, council2, who, request):
    gov.approve(pid, {"from": council2})
    sender = request.getfixturevalue(who)
    with reverts_with("ConsortiumUnauthorized", sender, role_arg("COUNCIL")):
        gov.execute(pid, {"from": sender})


def test_execute_twice_reverts(gov, pid, council, council2):
    gov.approve(pid, {"from": council2})
    gov.execute(pid, {"from": council})
    with reverts_with("ConsortiumUnexpectedProposalStatus", pid, EXECUTED, PENDING):
        gov.execute(pid, {"from": council})


@pytest.mark.parametrize("bad_id", [0, 999])
def test_execute_unknown_proposal_reverts(gov, council, bad_id):
    with reverts_with("ConsortiumUnknownProposal", bad_id):
        gov.execute(bad_id, {"from": council})


def test_execute_expired_proposal_reverts(gov, pid, council, council2):
    gov.approve(pid, {"from": council2})
    expires = gov.getProposal(pid)["expiresAt"]
    chain.sleep(LIFETIME + 1)
    chain.mine()
    with reverts_with("ConsortiumProposalExpired", pid, expires):
        gov.execute(pid, {"from": council})


def test_execute_just_before_expiry(gov, pid, council, council2):
    gov.approve(pid, {"from": council2})
    chain.sleep(LIFETIME - 60)
    gov.execute(pid, {"from": council})
    assert gov.getProposal(pid)["status"] == EXECUTED


def test_unanimity_needs_every_council_member(gov3, council, council2, council3, stranger):
    pid = propose(gov3, council, ADMIT, stranger, roles("AUDITOR"), "S")
    gov3.approve(pid, {"from": council2})
    with reverts_with("ConsortiumInsufficientApprovals", pid, 2, 3):
        gov3.execute(pid, {"from": council})
    gov3.approve(pid, {"from": council3})
    gov3.execute(pid, {"from": council})
    assert gov3.isActiveMember(stranger)


def test_execute_uses_threshold_at_execution_time(gov, council, council2, stranger):
    pid = propose(gov, council, ADMIT, stranger, roles("AUDITOR"), "S")
    gov.approve(pid, {"from": council2})
    passed(gov, council, SET_THRESHOLD, ZERO, 3, (council2,))
    with reverts_with("ConsortiumInsufficientApprovals", pid, 2, 3):
        gov.execute(pid, {"from": council})


def test_execute_revalidates_admit_of_already_registered(gov, council, council2, stranger):
    first = propose(gov, council, ADMIT, stranger, roles("AUDITOR"), "S")
    second = propose(gov, council2, ADMIT, stranger, roles("HOSPITAL"), "S2")
    gov.approve(first, {"from": council2})
    gov.execute(first, {"from": council})
    gov.approve(second, {"from": council})
    with reverts_with("ConsortiumAlreadyRegistered", stranger):
        gov.execute(second, {"from": council})
    assert gov.getProposal(second)["status"] == PENDING


def test_execute_revalidates_admit_of_key_added_meanwhile(gov, council, council2, hospital, stranger):
    pid = propose(gov, council, ADMIT, stranger, roles("AUDITOR"), "S")
    gov.approve(pid, {"from": council2})
    add_operator(gov, hospital, stranger)
    with reverts_with("ConsortiumAlreadyRegistered", stranger):
        gov.execute(pid, {"from": council})


def test_execute_revalidates_council_size(gov, council, council2, council3):
    # threshold 2 of 3: each suspension alone is valid, both together would leave 1 < 2
    first = propose(gov, council, SUSPEND, council2)
    second = propose(gov, council, SUSPEND, council3)
    gov.approve(first, {"from": council3})
    gov.approve(second, {"from": council3})  # approvals of active council members: both still count
    gov.execute(first, {"from": council})
    with reverts_with("ConsortiumInvalidThreshold", 2, 1):
        gov.execute(second, {"from": council})


def test_execute_revalidates_threshold_against_council(gov, council, council2, council3):
    pid = propose(gov, council, SET_THRESHOLD, ZERO, 3)
    gov.approve(pid, {"from": council2})
    passed(gov, council, SUSPEND, council3, 0, (council2,))
    with reverts_with("ConsortiumInvalidThreshold", 3, 2):
        gov.execute(pid, {"from": council})


# ---- only approvals of members who are active COUNCIL at execution count ----


def test_approval_of_a_member_suspended_since_does_not_count(gov, council, council2, council3, stranger):
    pid = propose(gov, council, ADMIT, stranger, roles("AUDITOR"), "S")
    gov.approve(pid, {"from": council2})
    passed(gov, council, SUSPEND, council2, 0, (council3,))
    assert gov.countedApprovals(pid) == 1
    with reverts_with("ConsortiumInsufficientApprovals", pid, 1, 2):
        gov.execute(pid, {"from": council})
    gov.approve(pid, {"from": council3})
    gov.execute(pid, {"from": council})
    assert gov.isActiveMember(stranger)


def test_approval_of_a_member_stripped_of_council_does_not_count(gov, council, council2, council3, stranger):
    pid = propose(gov, council2, ADMIT, stranger, roles("AUDITOR"), "S")
    gov.approve(pid, {"from": council3})
    passed(gov, council, SET_ROLES, council2, roles("AUDITOR"), (council3,))
    with reverts_with("ConsortiumInsufficientApprovals", pid, 1, 2):
        gov.execute(pid, {"from": council})


def test_approval_counts_again_after_reinstatement(gov, council, council2, council3, stranger):
    pid = propose(gov, council, ADMIT, stranger, roles("AUDITOR"), "S")
    gov.approve(pid, {"from": council2})
    passed(gov, council, SUSPEND, council2, 0, (council3,))
    passed(gov, council, REINSTATE, council2, 0, (council3,))
    assert gov.countedApprovals(pid) == 2
    gov.execute(pid, {"from": council})
    assert gov.isActiveMember(stranger)
