"""Consortium.approve: one approval per council member (whichever key), pending unexpired proposals only."""

import pytest
from brownie import chain
from consortium_helpers import CANCELLED, EXECUTED, LIFETIME, PENDING, passed, propose, role_arg
from helpers import ADMIT, SUSPEND, add_operator, reverts_with, roles


@pytest.fixture
def pid(gov, council, stranger):
    return propose(gov, council, ADMIT, stranger, roles("AUDITOR"), "S")


def test_approve_counts_and_records_member(gov, pid, council2):
    gov.approve(pid, {"from": council2})
    assert gov.getProposal(pid)["approvals"] == 2
    assert gov.hasApproved(pid, council2)


def test_approve_emits_proposal_approved(gov, pid, council2, council3):
    gov.approve(pid, {"from": council2})
    tx = gov.approve(pid, {"from": council3})
    ev = tx.events["ProposalApproved"]
    assert (ev["proposalId"], ev["member"], ev["approvals"]) == (pid, council3, 3)


def test_approve_does_not_execute(gov, pid, council2, stranger):
    tx = gov.approve(pid, {"from": council2})
    assert "ProposalExecuted" not in tx.events
    assert "MemberAdmitted" not in tx.events
    assert gov.getProposal(pid)["status"] == PENDING
    assert not gov.isActiveMember(stranger)


def test_approve_by_operator_key_counts_for_its_member(gov, pid, council2, operator):
    add_operator(gov, council2, operator)
    tx = gov.approve(pid, {"from": operator})
    assert tx.events["ProposalApproved"]["member"] == council2
    assert gov.hasApproved(pid, council2)


def test_approve_twice_by_same_member_reverts(gov, pid, council2):
    gov.approve(pid, {"from": council2})
    with reverts_with("ConsortiumAlreadyApproved", pid, council2):
        gov.approve(pid, {"from": council2})


def test_approve_by_proposer_reverts(gov, pid, council):
    with reverts_with("ConsortiumAlreadyApproved", pid, council):
        gov.approve(pid, {"from": council})


def test_approve_by_second_key_of_proposer_reverts(gov, pid, council, operator):
    add_operator(gov, council, operator)
    with reverts_with("ConsortiumAlreadyApproved", pid, council):
        gov.approve(pid, {"from": operator})


def test_approve_by_member_after_its_operator_reverts(gov, pid, council2, operator):
    add_operator(gov, council2, operator)
    gov.approve(pid, {"from": operator})
    with reverts_with("ConsortiumAlreadyApproved", pid, council2):
        gov.approve(pid, {"from": council2})


def test_approve_by_two_operator_keys_of_one_member_reverts(gov, pid, council2, operator, operator2):
    add_operator(gov, council2, operator)
    add_operator(gov, council2, operator2)
    gov.approve(pid, {"from": operator})
    with reverts_with("ConsortiumAlreadyApproved", pid, council2):
        gov.approve(pid, {"from": operator2})
    assert gov.getProposal(pid)["approvals"] == 2


@pytest.mark.parametrize("who", ["stranger", "hospital", "insurer"])
def test_approve_by_non_council_reverts(gov, pid, who, request):
    sender = request.getfixturevalue(who)
    with reverts_with("ConsortiumUnauthorized", sender, role_arg("COUNCIL")):
        gov.approve(pid, {"from": sender})


def test_approve_by_suspended_council_member_reverts(gov, pid, council, council2, council3):
    passed(gov, council, SUSPEND, council3, 0, (council2,))
    with reverts_with("ConsortiumUnauthorized", council3, role_arg("COUNCIL")):
        gov.approve(pid, {"from": council3})


@pytest.mark.parametrize("bad_id", [0, 999])
def test_approve_unknown_proposal_reverts(gov, council2, bad_id):
    with reverts_with("ConsortiumUnknownProposal", bad_id):
        gov.approve(bad_id, {"from": council2})


def test_approve_executed_proposal_reverts(gov, pid, council, council2, council3):
    gov.approve(pid, {"from": council2})
    gov.execute(pid, {"from": council})
    with reverts_with("ConsortiumUnexpectedProposalStatus", pid, EXECUTED, PENDING):
        gov.approve(pid, {"from": council3})


def test_approve_cancelled_proposal_reverts(gov, pid, council, council2):
    gov.cancel(pid, {"from": council})
    with reverts_with("ConsortiumUnexpectedProposalStatus", pid, CANCELLED, PENDING):
        gov.approve(pid, {"from": council2})


def test_approve_expired_proposal_reverts(gov, pid, council2):
    expires = gov.getProposal(pid)["expiresAt"]
    chain.sleep(LIFETIME + 1)
    chain.mine()
    with reverts_with("ConsortiumProposalExpired", pid, expires):
        gov.approve(pid, {"from": council2})
