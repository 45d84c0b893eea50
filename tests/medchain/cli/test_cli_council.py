"""`medchain council` against a real Anvil: governance round trips, members, operator keys, one-line errors.

One Consortium per module (council = node accounts 0, 1, 2; threshold 2), each test inside an
evm_snapshot/evm_revert pair. Argument validation without a chain is tested on `proposal_request`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from medchain import consortium as svc
from medchain import tx
from medchain.artifacts import load_artifact
from medchain.deploy import write_manifest
from medchain.errors import InputError
from medchain.node import Anvil

HOSPITAL, INSURER = 3, 4  # node account indexes
KEY1, KEY2 = 11, 12


@pytest.fixture(scope="module")
def w3(anvil: Anvil) -> Web3:
    return Web3(Web3.HTTPProvider(anvil.url))


@pytest.fixture(scope="module")
def manifest_file(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Deploy only the Consortium (3 council members, threshold 2) and record it in a manifest."""
    artifact = load_artifact("Consortium")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    council = w3.eth.accounts[:3]
    receipt = tx.send(w3, factory.constructor(council, ["Commission A", "B", "C"], 2), council[0])
    path = tmp_path_factory.mktemp("council") / "manifest.json"
    entry = {"address": receipt["contractAddress"], "block": receipt["blockNumber"]}
    write_manifest({"chainId": w3.eth.chain_id, "contracts": {"Consortium": entry}}, path)
    return path


class CouncilCli:
    """`medchain --account N --manifest M council ...`; `.json` parses --json output, `.fail` the error."""

    def __init__(self, cli: Any, manifest: Path, w3: Web3) -> None:
        self.cli, self.manifest, self.w3 = cli, manifest, w3

    def run(self, account: int, *args: str) -> Any:
        return self.cli("--account", str(account), "--manifest", str(self.manifest), "council", *args)

    def json(self, account: int, *args: str) -> Any:
        result = self.run(account, *args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def fail(self, account: int, *args: str) -> str:
        result = self.run(account, *args)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        return str(result.stderr.strip())

    def addr(self, index: int) -> str:
        return str(self.w3.eth.accounts[index])


@pytest.fixture
def council(cli: Any, manifest_file: Path, w3: Web3) -> Iterator[CouncilCli]:
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield CouncilCli(cli, manifest_file, w3)
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def admit(c: CouncilCli, index: int, roles: str, name: str) -> int:
    """Admit node account `index` through accounts 0 (propose) and 1 (approve)."""
    pid = c.json(0, "propose", "admit", "--target", c.addr(index), "--roles", roles, "--name", name)["id"]
    c.json(1, "approve", str(pid))
    c.json(2, "execute", str(pid))
    return int(pid)


# ---- governance ----


def test_propose_approve_execute_admit(council: CouncilCli) -> None:
    target = council.addr(HOSPITAL)
    p = council.json(
        0,
        "propose",
        "admit",
        "--target",
        target,
        "--roles",
        "hospital,insurer",
        "--name",
        "H",
        "--uri",
        "https://h",
    )
    assert (p["kind"], p["status"], p["approvals"], p["threshold"]) == ("ADMIT", "PENDING", 1, 2)
    assert p["value_text"] == "HOSPITAL,INSURER" and p["approved_by"] == [council.addr(0)]
    assert p["executable"] is False
    p = council.json(1, "approve", str(p["id"]))
    assert p["approvals"] == p["counted"] == 2 and p["executable"] is True
    p = council.json(2, "execute", str(p["id"]))
    assert p["status"] == "EXECUTED" and p["tx"].startswith("0x")
    m = council.json(0, "member", target)
    assert (m["name"], m["uri"], m["status"]) == ("H", "https://h", "ACTIVE")
    assert m["role_names"] == ["HOSPITAL", "INSURER"]


def test_execute_without_enough_approvals_is_one_line(council: CouncilCli) -> None:
    pid = council.json(0, "propose", "suspend", "--target", council.addr(2))["id"]
    err = council.fail(0, "execute", str(pid))
    assert err == f"error: ConsortiumInsufficientApprovals(proposalId={pid}, approvals=1, threshold=2)"


def test_double_approval_by_one_member_is_refused(council: CouncilCli) -> None:
    pid = council.json(0, "propose", "suspend", "--target", council.addr(2))["id"]
    err = council.fail(0, "approve", str(pid))
    assert err == f"error: ConsortiumAlreadyApproved(proposalId={pid}, member={council.addr(0)})"


def test_non_council_cannot_propose(council: CouncilCli) -> None:
    err = council.fail(7, "propose", "suspend", "--target", council.addr(2))
    assert err.startswith(f"error: ConsortiumUnauthorized(account={council.addr(7)}, role=0x")


def test_set_threshold_then_propose_with_execute(council: CouncilCli) -> None:
    pid = council.json(0, "propose", "set-threshold", "--threshold", "1")["id"]
    council.json(1, "approve", str(pid))
    council.json(1, "execute", str(pid))
    assert council.json(0, "status")["threshold"] == 1
    p = council.json(
        0,
        "propose",
        "admit",
        "--target",
        council.addr(INSURER),
        "--roles",
        "INSURER",
        "--name",
        "I",
        "--execute",
    )
    assert p["status"] == "EXECUTED"


def test_propose_execute_flag_waits_for_threshold(council: CouncilCli) -> None:
    p = council.json(0, "propose", "suspend", "--target", council.addr(2), "--execute")
    assert p["status"] == "PENDING"


def test_cancel_by_proposer_and_not_by_others(council: CouncilCli) -> None:
    pid = council.json(0, "propose", "suspend", "--target", council.addr(2))["id"]
    assert council.fail(1, "cancel", str(pid)) == (
        f"error: ConsortiumNotProposer(proposalId={pid}, account={council.addr(1)})"
    )
    assert council.json(0, "cancel", str(pid))["status"] == "CANCELLED"


def test_suspended_proposers_proposal_is_stopped(council: CouncilCli) -> None:
    """Issue 12 item 1: member 1 proposes, is suspended; its approval stops counting, any council cancels."""
    pid = council.json(
        1, "propose", "admit", "--target", council.addr(9), "--roles", "COUNCIL", "--name", "M"
    )["id"]
    suspend = council.json(0, "propose", "suspend", "--target", council.addr(1))["id"]
    council.json(2, "approve", str(suspend))
    council.json(0, "execute", str(suspend))
    p = council.json(2, "approve", str(pid))
    assert (p["approvals"], p["counted"], p["executable"]) == (2, 1, False)
    assert "1/2" in council.run(0, "proposals").stdout  # counted/threshold (2 recorded)
    err = council.fail(0, "execute", str(pid))
    assert err == f"error: ConsortiumInsufficientApprovals(proposalId={pid}, approvals=1, threshold=2)"
    assert council.json(2, "cancel", str(pid))["status"] == "CANCELLED"


def test_remove_operator_by_proposal(council: CouncilCli, w3: Web3, manifest_file: Path) -> None:
    admit(council, HOSPITAL, "HOSPITAL", "H")
    key1 = council.addr(KEY1)
    council.json(HOSPITAL, "operator", "add", key1)
    council.json(KEY1, "operator", "accept", council.addr(HOSPITAL))
    p = council.json(0, "propose", "remove-operator", "--target", key1)
    assert (p["kind"], p["target"]) == ("REMOVE_OPERATOR", key1)
    council.json(1, "approve", str(p["id"]))
    council.json(2, "execute", str(p["id"]))
    assert council.json(0, "operator", "list", council.addr(HOSPITAL))["operators"] == []
    err = council.fail(0, "propose", "remove-operator", "--target", key1)
    assert err == f"error: ConsortiumNotOperator(key={key1}, member={svc.ZERO_ADDRESS})"


def test_proposals_listing_and_pending_filter(council: CouncilCli) -> None:
    executed = admit(council, HOSPITAL, "HOSPITAL", "H")
    pending = council.json(
        0, "propose", "set-roles", "--target", council.addr(HOSPITAL), "--roles", "HOSPITAL,AUDITOR"
    )["id"]
    listed = council.json(0, "proposals")
    assert [p["id"] for p in listed] == [pending, executed]
    assert [p["id"] for p in council.json(0, "proposals", "--pending")] == [pending]
    table = council.run(0, "proposals")
    assert table.exit_code == 0 and "1/2" in table.stdout and "PENDING" in table.stdout


def test_status(council: CouncilCli) -> None:
    s = council.json(0, "status")
    assert (s["threshold"], s["council_count"], s["proposal_count"], s["proposal_lifetime"]) == (
        2,
        3,
        0,
        7 * 86400,
    )


def test_unknown_proposal_is_one_line(council: CouncilCli) -> None:
    assert council.fail(0, "approve", "99") == "error: ConsortiumUnknownProposal(proposalId=99)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("propose", "admit", "--target", "0x1234", "--roles", "HOSPITAL", "--name", "X"),
            "is not a 20-byte hex",
        ),
        (("propose", "admit", "--target", "ADDR", "--name", "X"), "admit needs --roles"),
        (
            ("propose", "admit", "--target", "ADDR", "--roles", "DOCTOR", "--name", "X"),
            "unknown role 'DOCTOR'",
        ),
        (("propose", "admit", "--target", "ADDR", "--roles", "HOSPITAL"), "admit needs --name"),
        (("propose", "vote", "--target", "ADDR"), "unknown proposal kind 'vote'"),
        (("propose", "set-threshold", "--target", "ADDR", "--threshold", "2"), "set-threshold takes only"),
        (("propose", "suspend"), "suspend needs --target"),
    ],
)
def test_bad_proposal_input_is_one_line(council: CouncilCli, args: tuple[str, ...], message: str) -> None:
    args = tuple(council.addr(9) if a == "ADDR" else a for a in args)
    assert message in council.fail(0, *args)


# ---- members and operators ----


def test_members_table_and_json(council: CouncilCli) -> None:
    admit(council, HOSPITAL, "HOSPITAL", "Hospital A")
    found = council.json(0, "members")
    assert [m["name"] for m in found] == ["Commission A", "B", "C", "Hospital A"]
    assert found[3]["role_names"] == ["HOSPITAL"] and found[3]["operators"] == []
    table = council.run(0, "members")
    assert table.exit_code == 0 and "Hospital A" in table.stdout and "COUNCIL" in table.stdout


def test_operator_offer_accept_rotate_remove(council: CouncilCli) -> None:
    admit(council, HOSPITAL, "HOSPITAL", "H")
    hospital, key1, key2 = council.addr(HOSPITAL), council.addr(KEY1), council.addr(KEY2)
    offered = council.json(HOSPITAL, "operator", "add", key1)
    assert (offered["key"], offered["action"]) == (key1, "offered")
    assert f"operator accept {hospital}" in offered["next"]
    listed = council.json(0, "operator", "list", hospital)
    assert (listed["operators"], listed["offers"]) == ([], {key1: None})
    assert council.json(0, "member", key1)["status"] == "NONE"  # an offer registers nothing
    accepted = council.json(KEY1, "operator", "accept", hospital)
    assert (accepted["key"], accepted["member"]) == (key1, hospital)
    assert council.json(0, "member", key1)["address"] == hospital
    assert council.json(0, "member", key1)["queried"] == key1
    rotated = council.json(HOSPITAL, "operator", "rotate", key1, key2)
    assert (rotated["old_key"], rotated["new_key"]) == (key1, key2)
    assert council.json(0, "operator", "list", hospital)["offers"] == {key2: key1}
    assert council.json(0, "operator", "list", hospital)["operators"] == [key1]  # until key2 accepts
    council.json(KEY2, "operator", "accept", hospital)
    assert council.json(0, "operator", "list", hospital)["operators"] == [key2]
    council.json(HOSPITAL, "operator", "remove", key2)
    assert council.json(HOSPITAL, "operator", "list")["operators"] == []


def test_operator_offer_withdrawn_cannot_be_accepted(council: CouncilCli) -> None:
    admit(council, HOSPITAL, "HOSPITAL", "H")
    hospital, key1 = council.addr(HOSPITAL), council.addr(KEY1)
    council.json(HOSPITAL, "operator", "add", key1)
    assert council.json(HOSPITAL, "operator", "withdraw", key1)["action"] == "withdrawn"
    err = council.fail(KEY1, "operator", "accept", hospital)
    assert err == f"error: ConsortiumNoOperatorOffer(member={hospital}, key={key1})"


def test_operator_key_acts_for_its_member(council: CouncilCli, w3: Web3) -> None:
    council.json(1, "operator", "add", council.addr(KEY1))  # council member 1's staff key
    council.json(KEY1, "operator", "accept", council.addr(1))
    pid = council.json(0, "propose", "suspend", "--target", council.addr(2))["id"]
    p = council.json(KEY1, "approve", str(pid))
    assert p["approved_by"] == [council.addr(0), council.addr(1)]


def test_operator_add_by_non_member_is_one_line(council: CouncilCli) -> None:
    err = council.fail(7, "operator", "add", council.addr(KEY1))
    assert err == f"error: ConsortiumUnknownMember(member={council.addr(7)})"


def test_operator_add_registered_key_is_one_line(council: CouncilCli) -> None:
    err = council.fail(0, "operator", "add", council.addr(1))
    assert err == f"error: ConsortiumAlreadyRegistered(account={council.addr(1)})"


def test_member_unknown_address(council: CouncilCli) -> None:
    m = council.json(0, "member", council.addr(9))
    assert m["status"] == "NONE" and m["queried"] == council.addr(9)


def test_profile_update(council: CouncilCli) -> None:
    out = council.json(1, "profile", "--uri", "https://council-b.example")
    assert (out["name"], out["uri"]) == ("B", "https://council-b.example")


# ---- service functions without the CLI ----


def test_proposal_request_kinds() -> None:
    target = "0x" + "ab" * 20
    assert svc.proposal_request("admit", target, "HOSPITAL", None, "H").value == 2
    assert svc.proposal_request("roles", target, 3).kind == svc.ProposalKind.SET_ROLES
    assert svc.proposal_request("threshold", threshold=2).target == svc.ZERO_ADDRESS
    assert svc.proposal_request(2, target).kind == svc.ProposalKind.SUSPEND
    assert svc.proposal_request("remove-key", target).kind == svc.ProposalKind.REMOVE_OPERATOR
    with pytest.raises(InputError, match="remove-operator takes only --target"):
        svc.proposal_request("remove-operator", target, "HOSPITAL")
    with pytest.raises(InputError, match="reinstate takes only --target"):
        svc.proposal_request("reinstate", target, "HOSPITAL")
    with pytest.raises(InputError, match="set-roles does not take --threshold"):
        svc.proposal_request("set-roles", target, "HOSPITAL", 2)
    with pytest.raises(InputError, match=r"unknown proposal kind 9"):
        svc.parse_kind(9)


def test_service_authorized_member(council: CouncilCli, w3: Web3, manifest_file: Path) -> None:
    from medchain.deploy import load_suite

    c = load_suite(w3, manifest_file).consortium
    admit(council, HOSPITAL, "HOSPITAL", "H")
    svc.add_operator(c, council.addr(HOSPITAL), council.addr(KEY1))  # offer + the key's acceptance
    assert svc.authorized_member(c, council.addr(KEY1), "hospital") == council.addr(HOSPITAL)
    assert svc.authorized_member(c, council.addr(KEY1), "INSURER") is None
    assert svc.member_of(c, council.addr(9)) is None
    assert svc.operators(c, council.addr(HOSPITAL)) == [council.addr(KEY1)]
