"""Consortium.cancel: keys of the proposing member; any active council key once the proposer is no longer
active COUNCIL; pending proposals only."""

import pytest
from brownie import chain
from consortium_helpers import CANCELLED, EXECUTED, LIFETIME, PENDING, passed, propose
from helpers import ADMIT, SET_ROLES, SUSPEND, add_operator, reverts_with, roles


@pytest.fixture
def pid(gov, council, stranger):
    return propose(gov, council, ADMIT, stranger, roles("AUDITOR"), "S")


def test_cancel_by_proposer(gov, pid, council):
    tx = gov.cancel(pid, {"from": council})
    assert gov.getProposal(pid)["status"] == CANCELLED
    ev = tx.events["ProposalCancelled"]
    assert (ev["proposalId"], ev["member"]) == (pid, council)


def test_cancel_by_proposer_operator_key_names_member(gov, pid, council, operator):
    add_operator(gov, council, operator)
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
def test_cancel_by_other_account_while_proposer_is_active_council_reverts(gov, pid, who, request):
    sender = request.getfixturevalue(who)
    with reverts_with("ConsortiumNotProposer", pid, sender):
        gov.cancel(pid, {"from": sender})


def test_cancel_by_operator_of_other_member_reverts(gov, pid, council2, operator):
    add_operator(gov, council2, operator)
    with reverts_with("ConsortiumNotProposer", pid, operator):
        gov.cancel(pid, {"from": operator})


def test_cancel_by_removed_operator_key_reverts(gov, pid, council, operator):
    add_operator(gov, council, operator)
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


# ---- the proposer is no longer active COUNCIL ----


def test_cancel_by_council_once_proposer_suspended(gov, council, council2, council3, stranger):
    pid = propose(gov, council2, ADMIT, stranger, roles("COUNCIL"), "M")
    passed(gov, council, SUSPEND, council2, 0, (council3,))
    tx = gov.cancel(pid, {"from": council})
    assert gov.getProposal(pid)["status"] == CANCELLED
    ev = tx.events["ProposalCancelled"]
    assert (ev["proposalId"], ev["member"]) == (pid, council)


def test_cancel_by_council_once_proposer_lost_council_role(gov, council, council2, council3, stranger):
    pid = propose(gov, council2, ADMIT, stranger, roles("AUDITOR"), "S")
    passed(gov, council, SET_ROLES, council2, roles("AUDITOR"), (council3,))
    gov.cancel(pid, {"from": council3})
    assert gov.getProposal(pid)["status"] == CANCELLED


def test_cancel_by_council_operator_key_names_its_member(
    gov, council, council2, council3, stranger, operator
):
    pid = propose(gov, council2, ADMIT, stranger, roles("AUDITOR"), "S")
    passed(gov, council, SUSPEND, council2, 0, (council3,))
    add_operator(gov, council3, operator)
    tx = gov.cancel(pid, {"from": operator})
    assert tx.events["ProposalCancelled"]["member"] == council3


def test_suspended_proposer_may_still_cancel_its_own_proposal(gov, council, council2, council3, stranger):
    pid = propose(gov, council2, ADMIT, stranger, roles("AUDITOR"), "S")
    passed(gov, council, SUSPEND, council2, 0, (council3,))
    gov.cancel(pid, {"from": council2})
    assert gov.getProposal(pid)["status"] == CANCELLED


@pytest.mark.parametrize("who", ["stranger", "hospital"])
def test_cancel_by_non_council_once_proposer_suspended_reverts(
    gov, council, council2, council3, who, request
):
    pid = propose(gov, council2, ADMIT, request.getfixturevalue("stranger"), roles("AUDITOR"), "S")
    passed(gov, council, SUSPEND, council2, 0, (council3,))
    sender = request.getfixturevalue(who)
    with reverts_with("ConsortiumNotProposer", pid, sender):
        gov.cancel(pid, {"from": sender})
