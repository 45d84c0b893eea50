"""Consortium.cancel: only keys of the proposing member, pending proposals only."""

import pytest
from brownie import chain
from consortium_helpers import CANCELLED, EXECUTED, LIFETIME, PENDING, propose
from helpers import ADMIT, reverts_with, roles


@pytest.fixture
def pid(gov, council, stranger):
    return propose(gov, council, ADMIT, stranger, roles("AUDITOR"), "S")


def test_cancel_by_proposer(gov, pid, council):
    tx = gov.cancel(pid, {"from": council})
    assert gov.getProposal(pid)["status"] == CANCELLED
    ev = tx.events["ProposalCancelled"]
    assert (ev["proposalId"], ev["member"]) == (pid, council)


def test_cancel_by_proposer_operator_key_names_member(gov, pid, council, operator):
    gov.addOperator(operator, {"from": council})
    tx = gov.cancel(pid, {"from": operator})
    assert tx.events["ProposalCancelled"]["member"] == council


def test_cancelled_proposal_cannot_execute(gov, pid, council, council2):
    gov.approve(pid, {"from": council2})
    gov.cancel(pid, {"from": council})
    with reverts_with("ConsortiumUnexpectedProposalStatus", pid, CANCELLED, PENDING):
        gov.execute(pid, {"from": council})


def test_cancel_expired_proposal(gov, pid, council):
    chain.sleep(LIFETIME + 1)
    chain.mine()
    gov.cancel(pid, {"from": council})
    assert gov.getProposal(pid)["status"] == CANCELLED


@pytest.mark.parametrize("who", ["council2", "stranger", "hospital"])
def test_cancel_by_other_account_reverts(gov, pid, who, request):
    sender = request.getfixturevalue(who)
    with reverts_with("ConsortiumNotProposer", pid, sender):
        gov.cancel(pid, {"from": sender})


def test_cancel_by_operator_of_other_member_reverts(gov, pid, council2, operator):
    gov.addOperator(operator, {"from": council2})
    with reverts_with("ConsortiumNotProposer", pid, operator):
        gov.cancel(pid, {"from": operator})


def test_cancel_by_removed_operator_key_reverts(gov, pid, council, operator):
    gov.addOperator(operator, {"from": council})
    gov.removeOperator(operator, {"from": council})
    with reverts_with("ConsortiumNotProposer", pid, operator):
        gov.cancel(pid, {"from": operator})


def test_cancel_twice_reverts(gov, pid, council):
    gov.cancel(pid, {"from": council})
    with reverts_with("ConsortiumUnexpectedProposalStatus", pid, CANCELLED, PENDING):
        gov.cancel(pid, {"from": council})


def test_cancel_executed_reverts(gov, pid, council, council2):
    gov.approve(pid, {"from": council2})
    gov.execute(pid, {"from": council})
    with reverts_with("ConsortiumUnexpectedProposalStatus", pid, EXECUTED, PENDING):
        gov.cancel(pid, {"from": council})


@pytest.mark.parametrize("bad_id", [0, 999])
def test_cancel_unknown_proposal_reverts(gov, council, bad_id):
    with reverts_with("ConsortiumUnknownProposal", bad_id):
        gov.cancel(bad_id, {"from": council})
