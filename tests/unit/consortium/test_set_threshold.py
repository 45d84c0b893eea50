"""Threshold changes: only through an executed SetThreshold proposal."""

from consortium_helpers import passed, propose
from helpers import ADMIT, SET_THRESHOLD, reverts_with, roles

ZERO = "0x" + "00" * 20


def test_threshold_has_no_direct_setter(gov):
    names = {entry.get("name") for entry in gov.abi if entry["type"] == "function"}
    assert not {n for n in names if n and "hreshold" in n} - {"threshold"}


def test_set_threshold_raises_threshold_and_emits(gov, council, council2):
    pid = propose(gov, council, SET_THRESHOLD, ZERO, 3)
    tx = gov.approve(pid, {"from": council2})
    assert "ThresholdChanged" not in tx.events
    assert gov.threshold() == 2
    tx = gov.execute(pid, {"from": council})
    assert gov.threshold() == 3
    ev = tx.events["ThresholdChanged"]
    assert (ev["previousThreshold"], ev["threshold"]) == (2, 3)


def test_raised_threshold_applies_to_later_proposals(gov, council, council2, council3, stranger):
    passed(gov, council, SET_THRESHOLD, ZERO, 3, (council2,))
    pid = propose(gov, council, ADMIT, stranger, roles("AUDITOR"), "S")
    gov.approve(pid, {"from": council2})
    with reverts_with("ConsortiumInsufficientApprovals", pid, 2, 3):
        gov.execute(pid, {"from": council})
    gov.approve(pid, {"from": council3})
    gov.execute(pid, {"from": council})


def test_lowered_threshold_lets_one_member_act(gov, council, council2, stranger):
    passed(gov, council, SET_THRESHOLD, ZERO, 1, (council2,))
    passed(gov, council2, ADMIT, stranger, roles("AUDITOR"), (), "S")
    assert gov.isActiveMember(stranger)


def test_set_threshold_below_threshold_needs_current_threshold(gov3, council, council2):
    pid = propose(gov3, council, SET_THRESHOLD, ZERO, 1)
    gov3.approve(pid, {"from": council2})
    with reverts_with("ConsortiumInsufficientApprovals", pid, 2, 3):
        gov3.execute(pid, {"from": council})
