"""Executed SetRoles proposals: new bitmap for the member and its keys, council count kept in step."""

from consortium_helpers import passed, propose, role_arg
from helpers import ADMIT, REINSTATE, ROLE_ID, SET_ROLES, SUSPEND, add_operator, reverts_with, roles


def test_set_roles_replaces_bitmap_and_emits(gov, council, council2, hospital):
    pid = propose(gov, council, SET_ROLES, hospital, roles("HOSPITAL", "AUDITOR"))
    gov.approve(pid, {"from": council2})
    tx = gov.execute(pid, {"from": council})
    m = gov.getMember(hospital)
    assert m["roles"] == roles("HOSPITAL", "AUDITOR")
    assert m["updatedAt"] == tx.timestamp
    ev = tx.events["MemberRolesChanged"]
    assert (ev["member"], ev["previousRoles"], ev["roles"]) == (
        hospital,
        roles("HOSPITAL"),
        roles("HOSPITAL", "AUDITOR"),
    )


def test_set_roles_applies_to_operator_keys(gov, council, council2, hospital, operator):
    add_operator(gov, hospital, operator)
    passed(gov, council, SET_ROLES, hospital, roles("PHARMACY"), (council2,))
    assert not gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])
    assert gov.isAuthorized(operator, ROLE_ID["PHARMACY"])


def test_set_roles_granting_council_grows_council(gov, council, council2, hospital, stranger):
    passed(gov, council, SET_ROLES, hospital, roles("HOSPITAL", "COUNCIL"), (council2,))
    assert gov.councilCount() == 4
    assert propose(gov, hospital, ADMIT, stranger, roles("AUDITOR"), "S") > 0


def test_set_roles_removing_council_shrinks_council(gov, council, council2, council3, stranger):
    passed(gov, council, SET_ROLES, council3, roles("AUDITOR"), (council2,))
    assert gov.councilCount() == 2
    with reverts_with("ConsortiumUnauthorized", council3, role_arg("COUNCIL")):
        gov.propose(ADMIT, stranger, roles("AUDITOR"), "S", "", {"from": council3})


def test_set_roles_on_suspended_member_keeps_council_count(gov, council, council2, hospital):
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    passed(gov, council, SET_ROLES, hospital, roles("HOSPITAL", "COUNCIL"), (council2,))
    assert gov.councilCount() == 3
    assert not gov.isAuthorized(hospital, ROLE_ID["COUNCIL"])
    passed(gov, council, REINSTATE, hospital, 0, (council2,))
    assert gov.councilCount() == 4
    assert gov.isAuthorized(hospital, ROLE_ID["COUNCIL"])


def test_set_roles_without_council_change_keeps_count(gov, council, council2, council3):
    passed(gov, council, SET_ROLES, council3, roles("COUNCIL", "AUDITOR"), (council2,))
    assert gov.councilCount() == 3
