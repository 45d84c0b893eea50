"""updateProfile: an active member address changes its public name and URI."""

from consortium_helpers import passed
from helpers import SUSPEND, add_operator, reverts_with


def test_update_profile_sets_name_and_uri(gov, hospital):
    before = gov.getMember(hospital)
    tx = gov.updateProfile("Hospital A (renamed)", "https://fhir2.h.example", {"from": hospital})
    m = gov.getMember(hospital)
    assert (m["name"], m["uri"]) == ("Hospital A (renamed)", "https://fhir2.h.example")
    assert m["updatedAt"] == before["updatedAt"]  # updatedAt tracks status/role changes only
    ev = tx.events["MemberProfileUpdated"]
    assert (ev["member"], ev["name"], ev["uri"]) == (
        hospital,
        "Hospital A (renamed)",
        "https://fhir2.h.example",
    )


def test_update_profile_by_suspended_member_reverts(gov, council, council2, hospital):
    passed(gov, council, SUSPEND, hospital, 0, (council2,))
    with reverts_with("ConsortiumUnexpectedMemberStatus", hospital, 2, 1):
        gov.updateProfile("H", "", {"from": hospital})
    assert gov.getMember(hospital)["name"] == "Hospital A"


def test_update_profile_by_operator_key_reverts(gov, hospital, operator):
    add_operator(gov, hospital, operator)
    with reverts_with("ConsortiumUnknownMember", operator):
        gov.updateProfile("X", "", {"from": operator})


def test_update_profile_by_non_member_reverts(gov, stranger):
    with reverts_with("ConsortiumUnknownMember", stranger):
        gov.updateProfile("X", "", {"from": stranger})
