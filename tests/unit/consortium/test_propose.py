"""Consortium.propose: ids, stored proposal, events, auto-approval, who may propose."""

import pytest
from consortium_helpers import LIFETIME, PENDING, passed, propose, role_arg
from helpers import ADMIT, SET_THRESHOLD, SUSPEND, add_operator, reverts_with, roles

ZERO = "0x" + "00" * 20


def test_propose_returns_sequential_ids(gov, council, council2, stranger, pharmacy):
    assert propose(gov, council, ADMIT, stranger, roles("AUDITOR"), "S") == gov.proposalCount()
    first = gov.proposalCount()
    assert propose(gov, council2, ADMIT, pharmacy, roles("PHARMACY"), "P") == first + 1
    assert gov.proposalCount() == first + 1


def test_propose_stores_proposal(gov, council, stranger):
    tx = gov.propose(
        ADMIT, stranger, roles("HOSPITAL", "AUDITOR"), "Clinic", "https://c.example", {"from": council}
    )
    p = gov.getProposal(tx.return_value)
    assert p["kind"] == ADMIT
    assert p["status"] == PENDING
    assert p["approvals"] == 1
    assert p["value"] == roles("HOSPITAL", "AUDITOR")
    assert p["createdAt"] == tx.timestamp
    assert p["expiresAt"] == tx.timestamp + LIFETIME
    assert p["target"] == stranger
    assert p["proposer"] == council
    assert p["name"] == "Clinic"
    assert p["uri"] == "https://c.example"


def test_propose_emits_proposal_created(gov, council, stranger):
    tx = gov.propose(ADMIT, stranger, roles("AUDITOR"), "S", "", {"from": council})
    ev = tx.events["ProposalCreated"]
    assert ev["proposalId"] == tx.return_value
    assert ev["kind"] == ADMIT
    assert ev["target"] == stranger
    assert ev["value"] == roles("AUDITOR")
    assert ev["proposer"] == council
    assert ev["expiresAt"] == tx.timestamp + LIFETIME


def test_propose_auto_approves_for_proposer_member(gov, council, council2, stranger):
    tx = gov.propose(ADMIT, stranger, roles("AUDITOR"), "S", "", {"from": council})
    ev = tx.events["ProposalApproved"]
    assert (ev["proposalId"], ev["member"], ev["approvals"]) == (tx.return_value, council, 1)
    assert gov.hasApproved(tx.return_value, council)
    assert not gov.hasApproved(tx.return_value, council2)


def test_propose_changes_nothing_else(gov, council, stranger):
    tx = gov.propose(ADMIT, stranger, roles("AUDITOR"), "S", "", {"from": council})
    assert "MemberAdmitted" not in tx.events
    assert gov.memberOf(stranger) == ZERO


def test_propose_by_council_operator_key_records_member(gov, council, operator, stranger):
    add_operator(gov, council, operator)
    tx = gov.propose(ADMIT, stranger, roles("AUDITOR"), "S", "", {"from": operator})
    assert gov.getProposal(tx.return_value)["proposer"] == council
    assert gov.hasApproved(tx.return_value, council)
    assert not gov.hasApproved(tx.return_value, operator)


def test_threshold_one_propose_then_execute(consortium, council, stranger):
    tx = passed(consortium, council, ADMIT, stranger, roles("AUDITOR"), name="Auditor 2")
    assert tx.events["ProposalExecuted"]["proposalId"] == consortium.proposalCount()
    assert consortium.getMember(stranger)["roles"] == roles("AUDITOR")


@pytest.mark.parametrize("who", ["stranger", "hospital", "insurer"])
def test_propose_by_non_council_reverts(gov, who, request, operator):
    sender = request.getfixturevalue(who)
    with reverts_with("ConsortiumUnauthorized", sender, role_arg("COUNCIL")):
        gov.propose(ADMIT, operator, roles("AUDITOR"), "X", "", {"from": sender})


def test_propose_by_operator_of_non_council_member_reverts(gov, hospital, operator, stranger):
    add_operator(gov, hospital, operator)
    with reverts_with("ConsortiumUnauthorized", operator, role_arg("COUNCIL")):
        gov.propose(ADMIT, stranger, roles("AUDITOR"), "X", "", {"from": operator})


def test_propose_by_suspended_council_member_reverts(gov, council, council2, council3, stranger):
    passed(gov, council, SUSPEND, council3, 0, (council2,))
    with reverts_with("ConsortiumUnauthorized", council3, role_arg("COUNCIL")):
        gov.propose(ADMIT, stranger, roles("AUDITOR"), "X", "", {"from": council3})


def test_propose_set_threshold_by_council(gov, council):
    pid = propose(gov, council, SET_THRESHOLD, ZERO, 3)
    assert gov.getProposal(pid)["value"] == 3
