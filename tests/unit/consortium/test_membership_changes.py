"""Executed Admit, Suspend, Reinstate proposals: state, events, council count, all keys at once."""

from brownie import chain
from consortium_helpers import ACTIVE, SUSPENDED, passed, propose, role_arg
from helpers import ADMIT, REINSTATE, ROLE_ID, SUSPEND, add_operator, reverts_with, roles

# ---- Admit ----


def test_admit_registers_active_member(gov, council, council2, stranger):
    tx = passed(
        gov, council, ADMIT, stranger, roles("HOSPITAL", "AUDITOR"), (council2,), "Clinic", "https://c"
    )
    m = gov.getMember(stranger)
    assert (m["roles"], m["status"], m["name"], m["uri"]) == (
        roles("HOSPITAL", "AUDITOR"),
        ACTIVE,
        "Clinic",
        "https://c",
    )
    assert m["admittedAt"] == m["updatedAt"] == tx.timestamp
    assert gov.memberOf(stranger) == stranger
    assert gov.isAuthorized(stranger, ROLE_ID["HOSPITAL"])
    assert gov.isAuthorized(stranger, ROLE_ID["AUDITOR"])


def test_admit_emits_member_admitted(gov, council, council2, stranger):
    tx = passed(gov, council, ADMIT, stranger, roles("PHARMACY"), (council2,), "Pharma", "https://p")
    ev = tx.events["MemberAdmitted"]
    assert (ev["member"], ev["roles"], ev["name"], ev["uri"]) == (
        stranger,
        roles("PHARMACY"),
        "Pharma",
        "https://p",
    )


def test_admit_without_council_role_keeps_council_count(gov, council, council2, stranger):
    passed(gov, council, ADMIT, stranger, roles("AUDITOR"), (council2,), "A")
    assert gov.councilCount() == 3


def test_admit_with_council_role_grows_council(gov, council, council2, stranger):
    passed(gov, council, ADMIT, stranger, roles("COUNCIL", "AUDITOR"), (council2,), "Regulator")
    assert gov.councilCount() == 4
    assert propose(gov, stranger, ADMIT, council2.address[:2] + "11" * 20, roles("AUDITOR"), "X") > 0


# ---- Suspend ----


def test_suspend_sets_status_and_emits(gov, council, council2, hospital):
    pid = propose(gov, council, SUSPEND, hospital)
    gov.approve(pid, {"from": council2})
    tx = gov.execute(pid, {"from": council})
    m = gov.getMember(hospital)
    assert m["status"] == SUSPENDED
    assert m["updatedAt"] == tx.timestamp
    assert m["roles"] == roles("HOSPITAL")  # kept, only inactive
    ev = tx.events["MemberSuspended"]
    assert (ev["member"], ev["proposalId"]) == (hospital, pid)


def test_suspend_removes_roles_from_member_and_all_keys_at_once(
    gov, council, council2, hospital, operator, operator2
):
    add_operator(gov, hospital, operator)
    add_operator(gov, hospital, operator2)
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    for key in (hospital, operator, operator2):
        assert not gov.isAuthorized(key, ROLE_ID["HOSPITAL"])
        assert gov.authorizedMember(key, ROLE_ID["HOSPITAL"]) == "0x" + "00" * 20
        assert gov.memberOf(key) == hospital  # still known, just powerless
    assert not gov.isActiveMember(hospital)


def test_suspend_council_member_shrinks_council(gov, council, council2, council3):
    passed(gov, council, SUSPEND, council3, 0, (council2,))
    assert gov.councilCount() == 2
    with reverts_with("ConsortiumUnauthorized", council3, role_arg("COUNCIL")):
        gov.execute(1, {"from": council3})


def test_suspend_non_council_member_keeps_council(gov, council, council2, hospital):
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    assert gov.councilCount() == 3


def test_suspended_member_approvals_stop_counting(gov, council, council2, council3, stranger):
    # an approval stays recorded, but only active COUNCIL members' approvals count (issue 12 item 1;
    # before, a later suspension left it counted)
    pid = propose(gov, council3, ADMIT, stranger, roles("AUDITOR"), "S")
    passed(gov, council, SUSPEND, council3, 0, (council2,))
    gov.approve(pid, {"from": council2})
    assert gov.getProposal(pid)["approvals"] == 2
    with reverts_with("ConsortiumInsufficientApprovals", pid, 1, 2):
        gov.execute(pid, {"from": council})
    assert not gov.isActiveMember(stranger)


# ---- Reinstate ----


def test_reinstate_restores_roles_for_all_keys(gov, council, council2, hospital, operator):
    add_operator(gov, hospital, operator)
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    pid = propose(gov, council, REINSTATE, hospital)
    gov.approve(pid, {"from": council2})
    tx = gov.execute(pid, {"from": council})
    assert gov.getMember(hospital)["status"] == ACTIVE
    assert gov.isAuthorized(hospital, ROLE_ID["HOSPITAL"])
    assert gov.isAuthorized(operator, ROLE_ID["HOSPITAL"])
    ev = tx.events["MemberReinstated"]
    assert (ev["member"], ev["proposalId"]) == (hospital, pid)
    assert "MemberSuspended" not in tx.events


def test_reinstate_council_member_restores_council(gov, council, council2, council3):
    passed(gov, council, SUSPEND, council3, 0, (council2,))
    passed(gov, council, REINSTATE, council3, 0, (council2,))
    assert gov.councilCount() == 3
    assert gov.isAuthorized(council3, ROLE_ID["COUNCIL"])


def test_reinstate_updates_updated_at(gov, council, council2, hospital):
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    chain.sleep(100)
    tx = passed(gov, council, REINSTATE, hospital, 0, (council2,))
    assert gov.getMember(hospital)["updatedAt"] == tx.timestamp
