"""Operator keys: the active member address offers (offerOperator), the key itself accepts (acceptOperator);
offers can be withdrawn; the member removes its keys; the council removes any key by proposal."""

import pytest
from consortium_helpers import ZERO, passed, propose
from helpers import ADMIT, REINSTATE, REMOVE_OPERATOR, ROLE_ID, SUSPEND, add_operator, reverts_with, roles

# ---- offerOperator ----


def test_offer_records_an_open_offer_and_registers_nothing(gov, hospital, operator):
    tx = gov.offerOperator(operator, ZERO, {"from": hospital})
    assert gov.operatorOffer(hospital, operator) == (True, ZERO)
    assert gov.memberOf(operator) == ZERO
    assert gov.getMember(hospital)["operatorCount"] == 0
    ev = tx.events["OperatorOffered"]
    assert (ev["member"], ev["key"], ev["replaces"]) == (hospital, operator, ZERO)


def test_offer_again_replaces_the_open_offer(gov, hospital, operator, operator2):
    add_operator(gov, hospital, operator2)
    gov.offerOperator(operator, ZERO, {"from": hospital})
    gov.offerOperator(operator, operator2, {"from": hospital})
    assert gov.operatorOffer(hospital, operator) == (True, operator2)


def test_two_members_may_offer_one_key_and_it_picks(gov, hospital, insurer, operator):
    gov.offerOperator(operator, ZERO, {"from": hospital})
    gov.offerOperator(operator, ZERO, {"from": insurer})
    gov.acceptOperator(insurer, {"from": operator})
    assert gov.authorizedMember(operator, ROLE_ID["INSURER"]) == insurer
    with reverts_with("ConsortiumAlreadyRegistered", operator):
        gov.acceptOperator(hospital, {"from": operator})


def test_offer_zero_reverts(gov, hospital):
    with reverts_with("ConsortiumZeroAddress"):
        gov.offerOperator(ZERO, ZERO, {"from": hospital})


@pytest.mark.parametrize("key", ["hospital", "insurer", "council"])
def test_offer_member_address_reverts(gov, hospital, key, request):
    account = request.getfixturevalue(key)
    with reverts_with("ConsortiumAlreadyRegistered", account):
        gov.offerOperator(account, ZERO, {"from": hospital})


def test_offer_registered_key_reverts(gov, hospital, insurer, operator):
    add_operator(gov, insurer, operator)
    with reverts_with("ConsortiumAlreadyRegistered", operator):
        gov.offerOperator(operator, ZERO, {"from": hospital})


def test_offer_replacing_a_key_that_is_not_the_members_reverts(gov, hospital, insurer, operator, operator2):
    add_operator(gov, insurer, operator2)
    with reverts_with("ConsortiumNotOperator", operator2, hospital):
        gov.offerOperator(operator, operator2, {"from": hospital})
    with reverts_with("ConsortiumNotOperator", hospital, hospital):
        gov.offerOperator(operator, hospital, {"from": hospital})


def test_offer_by_non_member_reverts(gov, stranger, operator):
    with reverts_with("ConsortiumUnknownMember", stranger):
        gov.offerOperator(operator, ZERO, {"from": stranger})


def test_offer_by_operator_key_reverts(gov, hospital, operator, operator2):
    add_operator(gov, hospital, operator)
    with reverts_with("ConsortiumUnknownMember", operator):
        gov.offerOperator(operator2, ZERO, {"from": operator})


def test_offer_by_suspended_member_reverts(gov, council, council2, hospital, operator):
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    with reverts_with("ConsortiumUnexpectedMemberStatus", hospital, 2, 1):
        gov.offerOperator(operator, ZERO, {"from": hospital})


# ---- acceptOperator ----


def test_accept_gives_member_roles(gov, hospital, operator):
    gov.offerOperator(operator, ZERO, {"from": hospital})
    tx = gov.acceptOperator(hospital, {"from": operator})
    assert gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])
    assert not gov.isAuthorized(operator, ROLE_ID["INSURER"])
    assert gov.memberOf(operator) == hospital
    assert gov.getMember(hospital)["operatorCount"] == 1
    assert gov.operatorOffer(hospital, operator) == (False, ZERO)
    ev = tx.events["OperatorAdded"]
    assert (ev["member"], ev["key"]) == (hospital, operator)


def test_accept_two_keys(gov, hospital, operator, operator2):
    add_operator(gov, hospital, operator)
    add_operator(gov, hospital, operator2)
    assert gov.getMember(hospital)["operatorCount"] == 2
    assert gov.authorizedMember(operator2, ROLE_ID["HOSPITAL"]) == hospital


def test_accept_without_offer_reverts(gov, hospital, operator):
    with reverts_with("ConsortiumNoOperatorOffer", hospital, operator):
        gov.acceptOperator(hospital, {"from": operator})


def test_accept_by_another_address_than_the_offered_key_reverts(gov, hospital, operator, operator2):
    gov.offerOperator(operator, ZERO, {"from": hospital})
    with reverts_with("ConsortiumNoOperatorOffer", hospital, operator2):
        gov.acceptOperator(hospital, {"from": operator2})


def test_accept_twice_reverts(gov, hospital, operator):
    add_operator(gov, hospital, operator)
    with reverts_with("ConsortiumNoOperatorOffer", hospital, operator):
        gov.acceptOperator(hospital, {"from": operator})


def test_accept_after_member_was_suspended_reverts(gov, council, council2, hospital, operator):
    gov.offerOperator(operator, ZERO, {"from": hospital})
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    with reverts_with("ConsortiumUnexpectedMemberStatus", hospital, 2, 1):
        gov.acceptOperator(hospital, {"from": operator})
    passed(gov, council, REINSTATE, hospital, 0, (council2,))
    gov.acceptOperator(hospital, {"from": operator})  # the offer survived the suspension
    assert gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])


def test_accept_after_the_key_was_admitted_as_member_reverts(gov, council, council2, hospital, stranger):
    gov.offerOperator(stranger, ZERO, {"from": hospital})
    passed(gov, council, ADMIT, stranger, roles("AUDITOR"), (council2,), "Audit Office")
    with reverts_with("ConsortiumAlreadyRegistered", stranger):
        gov.acceptOperator(hospital, {"from": stranger})
    assert gov.isActiveMember(stranger)


# ---- rotation: an offer that replaces a key ----


def test_rotation_moves_roles_to_new_key_on_acceptance(gov, hospital, operator, operator2):
    add_operator(gov, hospital, operator)
    gov.offerOperator(operator2, operator, {"from": hospital})
    assert gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])  # the old key works until the new one accepts
    tx = gov.acceptOperator(hospital, {"from": operator2})
    assert not gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])
    assert gov.isAuthorized(operator2, ROLE_ID["HOSPITAL"])
    assert gov.memberOf(operator) == ZERO
    assert gov.memberOf(operator2) == hospital
    assert gov.getMember(hospital)["operatorCount"] == 1
    removed, added = tx.events["OperatorRemoved"], tx.events["OperatorAdded"]
    assert (removed["member"], removed["key"]) == (hospital, operator)
    assert (added["member"], added["key"]) == (hospital, operator2)


def test_rotation_whose_old_key_is_gone_reverts_on_acceptance(gov, hospital, operator, operator2):
    add_operator(gov, hospital, operator)
    gov.offerOperator(operator2, operator, {"from": hospital})
    gov.removeOperator(operator, {"from": hospital})
    with reverts_with("ConsortiumNotOperator", operator, hospital):
        gov.acceptOperator(hospital, {"from": operator2})


def test_rotated_out_key_cannot_be_admitted_while_in_use(
    gov, council, council2, hospital, operator, operator2
):
    add_operator(gov, hospital, operator)
    gov.offerOperator(operator2, operator, {"from": hospital})
    gov.acceptOperator(hospital, {"from": operator2})
    with reverts_with("ConsortiumAlreadyRegistered", operator2):
        gov.propose(ADMIT, operator2, roles("AUDITOR"), "X", "", {"from": council})
    passed(gov, council, ADMIT, operator, roles("AUDITOR"), (council2,), "Former key")
    assert gov.isActiveMember(operator)


# ---- withdrawOperatorOffer ----


def test_withdraw_offer(gov, hospital, operator):
    gov.offerOperator(operator, ZERO, {"from": hospital})
    tx = gov.withdrawOperatorOffer(operator, {"from": hospital})
    assert gov.operatorOffer(hospital, operator) == (False, ZERO)
    ev = tx.events["OperatorOfferWithdrawn"]
    assert (ev["member"], ev["key"]) == (hospital, operator)
    with reverts_with("ConsortiumNoOperatorOffer", hospital, operator):
        gov.acceptOperator(hospital, {"from": operator})


def test_withdraw_by_suspended_member(gov, council, council2, hospital, operator):
    gov.offerOperator(operator, ZERO, {"from": hospital})
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    gov.withdrawOperatorOffer(operator, {"from": hospital})
    assert gov.operatorOffer(hospital, operator) == (False, ZERO)


def test_withdraw_without_offer_reverts(gov, hospital, insurer, operator):
    gov.offerOperator(operator, ZERO, {"from": insurer})
    with reverts_with("ConsortiumNoOperatorOffer", hospital, operator):
        gov.withdrawOperatorOffer(operator, {"from": hospital})


def test_withdraw_by_non_member_reverts(gov, stranger, operator):
    with reverts_with("ConsortiumUnknownMember", stranger):
        gov.withdrawOperatorOffer(operator, {"from": stranger})


# ---- removeOperator (the member) ----


def test_remove_operator_strips_key(gov, hospital, operator):
    add_operator(gov, hospital, operator)
    tx = gov.removeOperator(operator, {"from": hospital})
    assert not gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])
    assert gov.memberOf(operator) == ZERO
    assert gov.getMember(hospital)["operatorCount"] == 0
    ev = tx.events["OperatorRemoved"]
    assert (ev["member"], ev["key"]) == (hospital, operator)


def test_remove_operator_by_suspended_member(gov, council, council2, hospital, operator):
    add_operator(gov, hospital, operator)
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    gov.removeOperator(operator, {"from": hospital})
    assert gov.memberOf(operator) == ZERO


def test_removed_key_can_be_registered_again(gov, hospital, insurer, operator):
    add_operator(gov, hospital, operator)
    gov.removeOperator(operator, {"from": hospital})
    add_operator(gov, insurer, operator)
    assert gov.authorizedMember(operator, ROLE_ID["INSURER"]) == insurer
    assert not gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])


def test_remove_operator_keeps_other_keys(gov, hospital, operator, operator2):
    add_operator(gov, hospital, operator)
    add_operator(gov, hospital, operator2)
    gov.removeOperator(operator, {"from": hospital})
    assert gov.isAuthorized(operator2, ROLE_ID["HOSPITAL"])
    assert gov.isAuthorized(hospital, ROLE_ID["HOSPITAL"])


def test_remove_unknown_key_reverts(gov, hospital, stranger):
    with reverts_with("ConsortiumNotOperator", stranger, hospital):
        gov.removeOperator(stranger, {"from": hospital})


def test_remove_other_members_operator_reverts(gov, hospital, insurer, operator):
    add_operator(gov, insurer, operator)
    with reverts_with("ConsortiumNotOperator", operator, hospital):
        gov.removeOperator(operator, {"from": hospital})
    assert gov.isAuthorized(operator, ROLE_ID["INSURER"])


def test_remove_member_address_itself_reverts(gov, hospital):
    with reverts_with("ConsortiumNotOperator", hospital, hospital):
        gov.removeOperator(hospital, {"from": hospital})


def test_remove_operator_by_operator_key_reverts(gov, hospital, operator, operator2):
    add_operator(gov, hospital, operator)
    add_operator(gov, hospital, operator2)
    with reverts_with("ConsortiumUnknownMember", operator):
        gov.removeOperator(operator2, {"from": operator})


def test_remove_operator_by_non_member_reverts(gov, stranger, operator):
    with reverts_with("ConsortiumUnknownMember", stranger):
        gov.removeOperator(operator, {"from": stranger})


def test_remove_operator_twice_reverts(gov, hospital, operator):
    add_operator(gov, hospital, operator)
    gov.removeOperator(operator, {"from": hospital})
    with reverts_with("ConsortiumNotOperator", operator, hospital):
        gov.removeOperator(operator, {"from": hospital})


# ---- RemoveOperator proposals (the council) ----


def test_council_removes_a_key_by_proposal(gov, council, council2, hospital, operator):
    add_operator(gov, hospital, operator)
    tx = passed(gov, council, REMOVE_OPERATOR, operator, 0, (council2,))
    assert gov.memberOf(operator) == ZERO
    assert not gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])
    assert gov.getMember(hospital)["operatorCount"] == 0
    ev = tx.events["OperatorRemoved"]
    assert (ev["member"], ev["key"]) == (hospital, operator)


def test_council_removes_a_suspended_members_key(gov, council, council2, hospital, operator):
    add_operator(gov, hospital, operator)
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    passed(gov, council, REMOVE_OPERATOR, operator, 0, (council2,))
    assert gov.memberOf(operator) == ZERO


def test_remove_operator_proposal_needs_the_threshold(gov, council, hospital, operator):
    add_operator(gov, hospital, operator)
    pid = propose(gov, council, REMOVE_OPERATOR, operator)
    with reverts_with("ConsortiumInsufficientApprovals", pid, 1, 2):
        gov.execute(pid, {"from": council})


@pytest.mark.parametrize("who", ["stranger", "hospital"])
def test_remove_operator_proposal_target_must_be_a_key(gov, council, who, request):
    target = request.getfixturevalue(who)
    member = ZERO if who == "stranger" else target
    with reverts_with("ConsortiumNotOperator", target, member):
        gov.propose(REMOVE_OPERATOR, target, 0, "", "", {"from": council})


def test_remove_operator_proposal_with_value_reverts(gov, council, hospital, operator):
    add_operator(gov, hospital, operator)
    with reverts_with("ConsortiumInvalidProposal", REMOVE_OPERATOR, operator, 1):
        gov.propose(REMOVE_OPERATOR, operator, 1, "", "", {"from": council})


def test_remove_operator_proposal_revalidated_at_execution(gov, council, council2, hospital, operator):
    add_operator(gov, hospital, operator)
    pid = propose(gov, council, REMOVE_OPERATOR, operator)
    gov.approve(pid, {"from": council2})
    gov.removeOperator(operator, {"from": hospital})
    with reverts_with("ConsortiumNotOperator", operator, ZERO):
        gov.execute(pid, {"from": council})
