"""Consortium constructor: founding council, names, threshold."""

from consortium_helpers import ACTIVE
from helpers import ROLE_ID, reverts_with, roles


def test_constructor_admits_council_active_with_council_role(gov, council, council2, council3):
    for member, name in ((council, "Commission A"), (council2, "Commission B"), (council3, "Commission C")):
        m = gov.getMember(member)
        assert m["roles"] == roles("COUNCIL")
        assert m["status"] == ACTIVE
        assert m["name"] == name
        assert m["uri"] == ""
        assert m["operatorCount"] == 0
        assert gov.isAuthorized(member, ROLE_ID["COUNCIL"])


def test_constructor_sets_threshold_and_council_count(gov):
    assert gov.threshold() == 2
    assert gov.councilCount() == 3


def test_constructor_emits_member_admitted_and_threshold_changed(Consortium, council, council2):
    c = Consortium.deploy([council, council2], ["A", "B"], 2, {"from": council})
    admitted = c.tx.events["MemberAdmitted"]
    assert [e["member"] for e in admitted] == [council, council2]
    assert [e["roles"] for e in admitted] == [roles("COUNCIL")] * 2
    assert [e["name"] for e in admitted] == ["A", "B"]
    assert c.tx.events["ThresholdChanged"]["previousThreshold"] == 0
    assert c.tx.events["ThresholdChanged"]["threshold"] == 2


def test_constructor_threshold_may_equal_council_size(Consortium, council, council2, council3):
    c = Consortium.deploy([council, council2, council3], ["A", "B", "C"], 3, {"from": council})
    assert c.threshold() == 3


def test_constructor_threshold_zero_reverts(Consortium, council, council2):
    with reverts_with("ConsortiumInvalidThreshold", 0, 2):
        Consortium.deploy([council, council2], ["A", "B"], 0, {"from": council})


def test_constructor_threshold_above_council_size_reverts(Consortium, council, council2):
    with reverts_with("ConsortiumInvalidThreshold", 3, 2):
        Consortium.deploy([council, council2], ["A", "B"], 3, {"from": council})


def test_constructor_empty_council_reverts(Consortium, council):
    with reverts_with("ConsortiumInvalidThreshold", 1, 0):
        Consortium.deploy([], [], 1, {"from": council})


def test_constructor_duplicate_member_reverts(Consortium, council):
    with reverts_with("ConsortiumAlreadyRegistered", council):
        Consortium.deploy([council, council], ["A", "B"], 1, {"from": council})


def test_constructor_zero_address_reverts(Consortium, council):
    with reverts_with("ConsortiumZeroAddress"):
        Consortium.deploy([council, "0x" + "00" * 20], ["A", "B"], 1, {"from": council})


def test_constructor_names_length_mismatch_reverts(Consortium, council, council2):
    with reverts_with("ConsortiumLengthMismatch", 2, 1):
        Consortium.deploy([council, council2], ["A"], 1, {"from": council})


def test_constructor_council_holds_only_council_role(gov, council):
    assert not gov.isAuthorized(council, ROLE_ID["HOSPITAL"])
