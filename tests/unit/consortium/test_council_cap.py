"""The council cap (16 active COUNCIL members) and the cap on recorded approvals per proposal, which bound
the approval loops of approve/execute/cancel (issue 12 item 1)."""

import pytest
from consortium_helpers import passed, propose
from helpers import ADMIT, REINSTATE, SET_ROLES, SUSPEND, reverts_with, roles

MAX = 16


@pytest.fixture(scope="module")
def full(Consortium, accounts):
    """A council of 16 (accounts 0..15, threshold 1); accounts 16.. are outsiders."""
    council = list(accounts[:MAX])
    return Consortium.deploy(council, [f"C{i}" for i in range(MAX)], 1, {"from": accounts[0]})


def test_constructor_over_the_cap_reverts(Consortium, accounts):
    council = [f"0x{i:040x}" for i in range(1, MAX + 2)]
    with reverts_with("ConsortiumCouncilFull", MAX):
        Consortium.deploy(council, [f"C{i}" for i in range(MAX + 1)], 1, {"from": accounts[0]})


def test_full_council_admits_no_council_member(full, accounts):
    assert full.councilCount() == MAX
    with reverts_with("ConsortiumCouncilFull", MAX):
        full.propose(ADMIT, accounts[16], roles("COUNCIL"), "C16", "", {"from": accounts[0]})
    passed(full, accounts[0], ADMIT, accounts[16], roles("HOSPITAL"), (), "H")  # other roles still fine


def test_full_council_gives_no_member_the_council_role(full, accounts):
    passed(full, accounts[0], ADMIT, accounts[16], roles("HOSPITAL"), (), "H")
    with reverts_with("ConsortiumCouncilFull", MAX):
        full.propose(SET_ROLES, accounts[16], roles("HOSPITAL", "COUNCIL"), "", "", {"from": accounts[0]})


def test_full_council_reinstates_no_council_member(full, accounts):
    passed(full, accounts[0], SUSPEND, accounts[15])
    passed(full, accounts[0], ADMIT, accounts[16], roles("COUNCIL"), (), "C16")
    with reverts_with("ConsortiumCouncilFull", MAX):
        full.propose(REINSTATE, accounts[15], 0, "", "", {"from": accounts[0]})


def test_checked_again_at_execution(full, accounts):
    passed(full, accounts[0], SUSPEND, accounts[15])
    pid = propose(full, accounts[0], REINSTATE, accounts[15])
    passed(full, accounts[0], ADMIT, accounts[16], roles("COUNCIL"), (), "C16")
    with reverts_with("ConsortiumCouncilFull", MAX):
        full.execute(pid, {"from": accounts[0]})


def test_a_proposal_records_at_most_sixteen_approvals(full, accounts):
    pid = propose(full, accounts[0], ADMIT, accounts[17], roles("AUDITOR"), "A")
    for i in range(1, MAX):
        full.approve(pid, {"from": accounts[i]})
    assert full.getProposal(pid)["approvals"] == MAX
    # council churn: one member leaves the council, a new one joins and tries to approve
    passed(full, accounts[0], SET_ROLES, accounts[15], roles("AUDITOR"))
    passed(full, accounts[0], ADMIT, accounts[16], roles("COUNCIL"), (), "C16")
    with reverts_with("ConsortiumTooManyApprovals", pid, MAX):
        full.approve(pid, {"from": accounts[16]})
    assert full.countedApprovals(pid) == MAX - 1
