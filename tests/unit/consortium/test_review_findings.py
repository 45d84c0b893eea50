"""Issue 12 (outside review), items 1 and 2: each test here failed against the contract before the fix.

1. A proposal whose proposer was suspended could not be stopped: only the proposer could cancel, and its
   approval still counted, so one more approval executed it.
2. Operator keys could be squatted: any member, even a suspended one, registered any address as its key
   (e.g. an address awaiting admission, which then could not be admitted); suspended members renamed
   themselves.
"""

from consortium_helpers import CANCELLED, ZERO, passed, propose
from helpers import ADMIT, REMOVE_OPERATOR, ROLE_ID, SUSPEND, reverts_with, roles


def _stolen_key_proposal(gov, council, council2, council3, stranger):
    """council2's key is stolen and proposes Admit(stranger, COUNCIL); the honest two suspend council2."""
    pid = propose(gov, council2, ADMIT, stranger, roles("COUNCIL"), "Mallory")
    passed(gov, council, SUSPEND, council2, 0, (council3,))
    return pid


def test_suspended_proposers_approval_does_not_count(gov, council, council2, council3, stranger):
    pid = _stolen_key_proposal(gov, council, council2, council3, stranger)
    gov.approve(pid, {"from": council3})  # one honest approval (a mistake, or a second stolen key)
    assert gov.getProposal(pid)["approvals"] == 2  # recorded ...
    assert gov.countedApprovals(pid) == 1  # ... but only council3's counts
    with reverts_with("ConsortiumInsufficientApprovals", pid, 1, 2):
        gov.execute(pid, {"from": council})
    assert not gov.isActiveMember(stranger)


def test_any_active_council_member_cancels_a_suspended_proposers_proposal(
    gov, council, council2, council3, stranger
):
    pid = _stolen_key_proposal(gov, council, council2, council3, stranger)
    tx = gov.cancel(pid, {"from": council3})
    assert gov.getProposal(pid)["status"] == CANCELLED
    assert tx.events["ProposalCancelled"]["member"] == council3


def test_suspended_member_cannot_offer_an_operator_key(gov, council, council2, hospital, operator):
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    with reverts_with("ConsortiumUnexpectedMemberStatus", hospital, 2, 1):
        gov.offerOperator(operator, ZERO, {"from": hospital})


def test_a_key_joins_only_with_its_own_consent(gov, hospital, operator):
    gov.offerOperator(operator, ZERO, {"from": hospital})
    assert gov.memberOf(operator) == ZERO  # an offer alone registers nothing
    assert not gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])
    gov.acceptOperator(hospital, {"from": operator})
    assert gov.authorizedMember(operator, ROLE_ID["HOSPITAL"]) == hospital


def test_an_address_awaiting_admission_cannot_be_squatted(gov, council, council2, hospital, stranger):
    pid = propose(gov, council, ADMIT, stranger, roles("AUDITOR"), "Audit Office")
    gov.offerOperator(stranger, ZERO, {"from": hospital})  # squatting attempt: the key never accepts
    gov.approve(pid, {"from": council2})
    gov.execute(pid, {"from": council})
    assert gov.isActiveMember(stranger)


def test_suspended_member_cannot_update_its_profile(gov, council, council2, hospital):
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    with reverts_with("ConsortiumUnexpectedMemberStatus", hospital, 2, 1):
        gov.updateProfile("Renamed", "", {"from": hospital})


def test_council_removes_a_members_key(gov, council, council2, hospital, operator):
    gov.offerOperator(operator, ZERO, {"from": hospital})
    gov.acceptOperator(hospital, {"from": operator})
    tx = passed(gov, council, REMOVE_OPERATOR, operator, 0, (council2,))
    assert gov.memberOf(operator) == ZERO
    assert gov.getMember(hospital)["operatorCount"] == 0
    ev = tx.events["OperatorRemoved"]
    assert (ev["member"], ev["key"]) == (hospital, operator)

