"""addOperator / removeOperator / rotateOperator: keys act with their member's roles; member address only."""

import pytest
from consortium_helpers import ZERO, passed
from helpers import ADMIT, ROLE_ID, SUSPEND, reverts_with, roles

# ---- addOperator ----


def test_add_operator_gives_member_roles(gov, hospital, operator):
    tx = gov.addOperator(operator, {"from": hospital})
    assert gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])
    assert not gov.isAuthorized(operator, ROLE_ID["INSURER"])
    assert gov.memberOf(operator) == hospital
    assert gov.getMember(hospital)["operatorCount"] == 1
    ev = tx.events["OperatorAdded"]
    assert (ev["member"], ev["key"]) == (hospital, operator)


def test_add_two_operators(gov, hospital, operator, operator2):
    gov.addOperator(operator, {"from": hospital})
    gov.addOperator(operator2, {"from": hospital})
    assert gov.getMember(hospital)["operatorCount"] == 2
    assert gov.authorizedMember(operator2, ROLE_ID["HOSPITAL"]) == hospital


def test_add_operator_by_suspended_member_gives_no_role(gov, council, council2, hospital, operator):
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    gov.addOperator(operator, {"from": hospital})
    assert gov.memberOf(operator) == hospital
    assert not gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])


def test_add_operator_zero_reverts(gov, hospital):
    with reverts_with("ConsortiumZeroAddress"):
        gov.addOperator(ZERO, {"from": hospital})


@pytest.mark.parametrize("key", ["hospital", "insurer", "council"])
def test_add_operator_member_address_reverts(gov, hospital, key, request):
    account = request.getfixturevalue(key)
    with reverts_with("ConsortiumAlreadyRegistered", account):
        gov.addOperator(account, {"from": hospital})


def test_add_operator_registered_key_reverts(gov, hospital, insurer, operator):
    gov.addOperator(operator, {"from": insurer})
    with reverts_with("ConsortiumAlreadyRegistered", operator):
        gov.addOperator(operator, {"from": hospital})
    with reverts_with("ConsortiumAlreadyRegistered", operator):
        gov.addOperator(operator, {"from": insurer})


def test_add_operator_by_non_member_reverts(gov, stranger, operator):
    with reverts_with("ConsortiumUnknownMember", stranger):
        gov.addOperator(operator, {"from": stranger})


def test_add_operator_by_operator_key_reverts(gov, hospital, operator, operator2):
    gov.addOperator(operator, {"from": hospital})
    with reverts_with("ConsortiumUnknownMember", operator):
        gov.addOperator(operator2, {"from": operator})


# ---- removeOperator ----


def test_remove_operator_strips_key(gov, hospital, operator):
    gov.addOperator(operator, {"from": hospital})
    tx = gov.removeOperator(operator, {"from": hospital})
    assert not gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])
    assert gov.memberOf(operator) == ZERO
    assert gov.getMember(hospital)["operatorCount"] == 0
    ev = tx.events["OperatorRemoved"]
    assert (ev["member"], ev["key"]) == (hospital, operator)


def test_removed_key_can_be_registered_again(gov, hospital, insurer, operator):
    gov.addOperator(operator, {"from": hospital})
    gov.removeOperator(operator, {"from": hospital})
    gov.addOperator(operator, {"from": insurer})
    assert gov.authorizedMember(operator, ROLE_ID["INSURER"]) == insurer
    assert not gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])


def test_remove_operator_keeps_other_keys(gov, hospital, operator, operator2):
    gov.addOperator(operator, {"from": hospital})
    gov.addOperator(operator2, {"from": hospital})
    gov.removeOperator(operator, {"from": hospital})
    assert gov.isAuthorized(operator2, ROLE_ID["HOSPITAL"])
    assert gov.isAuthorized(hospital, ROLE_ID["HOSPITAL"])


def test_remove_unknown_key_reverts(gov, hospital, stranger):
    with reverts_with("ConsortiumNotOperator", stranger, hospital):
        gov.removeOperator(stranger, {"from": hospital})


def test_remove_other_members_operator_reverts(gov, hospital, insurer, operator):
    gov.addOperator(operator, {"from": insurer})
    with reverts_with("ConsortiumNotOperator", operator, hospital):
        gov.removeOperator(operator, {"from": hospital})
    assert gov.isAuthorized(operator, ROLE_ID["INSURER"])


def test_remove_member_address_itself_reverts(gov, hospital):
    with reverts_with("ConsortiumNotOperator", hospital, hospital):
        gov.removeOperator(hospital, {"from": hospital})


def test_remove_other_member_address_reverts(gov, hospital, insurer):
    with reverts_with("ConsortiumNotOperator", insurer, hospital):
        gov.removeOperator(insurer, {"from": hospital})


def test_remove_operator_by_operator_key_reverts(gov, hospital, operator, operator2):
    gov.addOperator(operator, {"from": hospital})
    gov.addOperator(operator2, {"from": hospital})
    with reverts_with("ConsortiumUnknownMember", operator):
        gov.removeOperator(operator2, {"from": operator})


def test_remove_operator_by_non_member_reverts(gov, stranger, operator):
    with reverts_with("ConsortiumUnknownMember", stranger):
        gov.removeOperator(operator, {"from": stranger})


def test_remove_operator_twice_reverts(gov, hospital, operator):
    gov.addOperator(operator, {"from": hospital})
    gov.removeOperator(operator, {"from": hospital})
    with reverts_with("ConsortiumNotOperator", operator, hospital):
        gov.removeOperator(operator, {"from": hospital})


# ---- rotateOperator ----


def test_rotate_operator_moves_roles_to_new_key(gov, hospital, operator, operator2):
    gov.addOperator(operator, {"from": hospital})
    tx = gov.rotateOperator(operator, operator2, {"from": hospital})
    assert not gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])
    assert gov.isAuthorized(operator2, ROLE_ID["HOSPITAL"])
    assert gov.memberOf(operator) == ZERO
    assert gov.memberOf(operator2) == hospital
    assert gov.getMember(hospital)["operatorCount"] == 1
    removed, added = tx.events["OperatorRemoved"], tx.events["OperatorAdded"]
    assert (removed["member"], removed["key"]) == (hospital, operator)
    assert (added["member"], added["key"]) == (hospital, operator2)


def test_rotate_unknown_old_key_reverts(gov, hospital, operator, operator2):
    with reverts_with("ConsortiumNotOperator", operator, hospital):
        gov.rotateOperator(operator, operator2, {"from": hospital})


def test_rotate_to_registered_key_reverts_and_keeps_old(gov, hospital, insurer, operator):
    gov.addOperator(operator, {"from": hospital})
    with reverts_with("ConsortiumAlreadyRegistered", insurer):
        gov.rotateOperator(operator, insurer, {"from": hospital})
    assert gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])


def test_rotate_to_zero_reverts(gov, hospital, operator):
    gov.addOperator(operator, {"from": hospital})
    with reverts_with("ConsortiumZeroAddress"):
        gov.rotateOperator(operator, ZERO, {"from": hospital})


def test_rotate_by_operator_key_reverts(gov, hospital, operator, operator2):
    gov.addOperator(operator, {"from": hospital})
    with reverts_with("ConsortiumUnknownMember", operator):
        gov.rotateOperator(operator, operator2, {"from": operator})


def test_rotate_by_non_member_reverts(gov, stranger, operator, operator2):
    with reverts_with("ConsortiumUnknownMember", stranger):
        gov.rotateOperator(operator, operator2, {"from": stranger})


def test_rotated_out_key_cannot_be_admitted_while_in_use(
    gov, council, council2, hospital, operator, operator2
):
    gov.addOperator(operator, {"from": hospital})
    gov.rotateOperator(operator, operator2, {"from": hospital})
    with reverts_with("ConsortiumAlreadyRegistered", operator2):
        gov.propose(ADMIT, operator2, roles("AUDITOR"), "X", "", {"from": council})
    passed(gov, council, ADMIT, operator, roles("AUDITOR"), (council2,), "Former key")
    assert gov.isActiveMember(operator)
