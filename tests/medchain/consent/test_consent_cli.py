"""`medchain consent` against a real Anvil: sign (reading the nonce on chain) → relay by a hospital →
status and list; direct grant/revoke, invalidation, guardians, break-glass; failures as one line, --json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_consent_service import GUARDIAN_KEY, PATIENT_KEY, Env, build_env, travel

from medchain import consent, consortium, tx
from medchain.node import Anvil

KEYS = {"MEDCHAIN_PRIVATE_KEY_PATIENT": PATIENT_KEY, "MEDCHAIN_PRIVATE_KEY_GUARDIAN": GUARDIAN_KEY}
HOSPITAL, HOSPITAL_B, AUDITOR = "3", "4", "10"  # node account indexes


@pytest.fixture(scope="module")
def module_env(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Env:
    return build_env(anvil, tmp_path_factory.mktemp("consent-cli"))


class ConsentCli:
    def __init__(self, cli: Any, env: Env) -> None:
        self.cli, self.env = cli, env

    def run(self, account: str, *args: str) -> Any:
        return self.cli(
            "--account", account, "--manifest", str(self.env.manifest), "consent", *args, env=KEYS
        )

    def json(self, account: str, *args: str) -> Any:
        result = self.run(account, *args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def fail(self, account: str, *args: str) -> str:
        result = self.run(account, *args)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        return str(result.stderr.strip())


@pytest.fixture
def c(cli: Any, module_env: Env) -> Iterator[ConsentCli]:
    w3 = module_env.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield ConsentCli(cli, module_env)
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    tx.forget_nonces()


def test_sign_relay_status_list(c: ConsentCli, tmp_path: Path) -> None:
    e = c.env
    out = tmp_path / "consent.json"
    signed = c.json(
        "patient",
        "sign",
        "--grantee",
        e.insurer,
        "--purpose",
        "CLAIM",
        "--classes",
        "LAB,IMAGING",
        "--valid-until",
        "+365d",
        "--out",
        str(out),
    )
    assert signed["nonce"] == 0 and signed["signer"] == e.patient.address and out.is_file()
    relayed = c.json(HOSPITAL, "relay", str(out))
    assert relayed["status"] == "active" and relayed["permitted"] is True and relayed["gasUsed"] > 0
    status = c.json(HOSPITAL_B, "status", e.patient.address)
    assert [(s["grantee"], s["purpose_name"], s["class_names"], s["status"]) for s in status] == [
        (e.insurer, "CLAIM", ["LAB", "IMAGING"], "active")
    ]
    history = c.json(HOSPITAL_B, "list", e.patient.address)
    assert [h["event"] for h in history] == ["ConsentGranted"]
    assert history[0]["args"]["grantee"] == e.insurer


def test_relay_twice_fails_in_one_line(c: ConsentCli, tmp_path: Path) -> None:
    out = tmp_path / "consent.json"
    c.json(
        "patient",
        "sign",
        "--grantee",
        c.env.insurer,
        "--purpose",
        "CLAIM",
        "--classes",
        "LAB",
        "--out",
        str(out),
    )
    c.json(HOSPITAL, "relay", str(out))
    assert "nonce 0 is already used or invalidated" in c.fail(HOSPITAL, "relay", str(out))


def test_sign_revoke_and_relay(c: ConsentCli, tmp_path: Path) -> None:
    e = c.env
    c.json("patient", "grant", "--grantee", e.hospital, "--purpose", "TREATMENT", "--classes", "ALL")
    out = tmp_path / "revoke.json"
    c.json(
        "patient", "sign", "--revoke", "--grantee", e.hospital, "--purpose", "TREATMENT", "--out", str(out)
    )
    relayed = c.json(HOSPITAL_B, "relay", str(out))
    assert relayed["type"] == "ConsentRevoke" and relayed["status"] == "revoked"


def test_direct_grant_and_revoke(c: ConsentCli) -> None:
    e = c.env
    granted = c.json(
        "patient", "grant", "--grantee", e.hospital, "--purpose", "TREATMENT", "--classes", "ALL"
    )
    assert granted["status"] == "active" and granted["permitted"] is True and granted["data_classes"] == 2047
    revoked = c.json("patient", "revoke", "--grantee", e.hospital, "--purpose", "TREATMENT")
    assert revoked["status"] == "revoked"
    assert "ConsentAlreadyRevoked(" in c.fail(
        "patient", "revoke", "--grantee", e.hospital, "--purpose", "TREATMENT"
    )


def test_status_of_one_grantee_as_table(c: ConsentCli) -> None:
    e = c.env
    c.json("patient", "grant", "--grantee", e.hospital, "--purpose", "TREATMENT", "--classes", "LAB")
    result = c.run(HOSPITAL, "status", e.patient.address, e.hospital)
    assert result.exit_code == 0, result.output
    assert "TREATMENT" in result.stdout and "active" in result.stdout


def test_invalidate_voids_a_signed_file(c: ConsentCli, tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    c.json(
        "patient",
        "sign",
        "--grantee",
        c.env.insurer,
        "--purpose",
        "CLAIM",
        "--classes",
        "LAB",
        "--out",
        str(out),
    )
    assert c.json("patient", "invalidate")["nonce"] == 1
    assert "already used or invalidated" in c.fail(HOSPITAL, "relay", str(out))


def test_guardian_set_show_act_remove(c: ConsentCli, tmp_path: Path) -> None:
    e = c.env
    shown = c.json("patient", "guardian", "set", e.guardian.address, "--until", "+30d")
    assert shown["guardian"] == e.guardian.address and shown["active"] is True
    c.json(
        "guardian",
        "grant",
        "--patient",
        e.patient.address,
        "--grantee",
        e.hospital,
        "--purpose",
        "TREATMENT",
        "--classes",
        "LAB",
    )
    out = tmp_path / "by-guardian.json"
    c.json(
        "guardian",
        "sign",
        "--patient",
        e.patient.address,
        "--grantee",
        e.insurer,
        "--purpose",
        "CLAIM",
        "--classes",
        "LAB",
        "--out",
        str(out),
    )
    c.json(HOSPITAL, "relay", str(out))
    events = [h["event"] for h in c.json(HOSPITAL, "list", e.patient.address)]
    assert events.count("GuardianActed") == 2
    assert c.json(HOSPITAL, "guardian", "show", e.patient.address)["active"] is True
    assert c.json("patient", "guardian", "remove")["guardian"] is None
    assert "ConsentNoGuardian(" in c.fail("patient", "guardian", "remove")


def test_emergency_open_review_overdue(c: ConsentCli, tmp_path: Path) -> None:
    e = c.env
    note = tmp_path / "justification.txt"
    note.write_text("unconscious patient, ER ticket 5521")
    opened = c.json(
        HOSPITAL, "emergency", "open", e.patient.address, "--reason", "2", "--justification-file", str(note)
    )
    assert opened["id"] == 1 and opened["open"] is True and opened["review"] == "pending"
    assert e.registry.functions.isPermitted(e.patient.address, e.hospital, 4, 2047).call()
    assert c.json(AUDITOR, "emergency", "overdue") == []
    travel(e.w3, 8 * 86_400)
    overdue = c.json(AUDITOR, "emergency", "overdue")
    assert [o["id"] for o in overdue] == [1] and overdue[0]["overdue"] is True
    reviewed = c.json(AUDITOR, "emergency", "review", "1", "--unjustified")
    assert reviewed["review"] == "unjustified" and reviewed["reviewer"] == e.auditor
    assert c.json(AUDITOR, "emergency", "overdue") == []
    assert "EmergencyAlreadyReviewed(" in c.fail(AUDITOR, "emergency", "review", "1", "--justified")


def test_emergency_close_and_errors(c: ConsentCli) -> None:
    e = c.env
    c.json(
        HOSPITAL,
        "emergency",
        "open",
        e.patient.address,
        "--reason",
        "1",
        "--justification-hash",
        "0x" + "ab" * 32,
    )
    assert "EmergencyNotOpener(" in c.fail(HOSPITAL_B, "emergency", "close", "1")
    closed = c.json(HOSPITAL, "emergency", "close", "1")
    assert closed["open"] is False
    assert "EmergencyUnauthorized(" in c.fail(
        AUDITOR,
        "emergency",
        "open",
        e.patient.address,
        "--reason",
        "1",
        "--justification-hash",
        "0x" + "ab" * 32,
    )
    assert "exactly one of" in c.fail(HOSPITAL, "emergency", "open", e.patient.address, "--reason", "1")
    assert "EmergencyUnknownOpening(" in c.fail(HOSPITAL, "emergency", "show", "5")


def test_signing_with_a_node_account_is_refused(c: ConsentCli) -> None:
    message = c.fail(HOSPITAL, "sign", "--grantee", c.env.insurer, "--purpose", "CLAIM", "--classes", "LAB")
    assert "needs a local key" in message


def test_sign_chain_id_mismatch_is_refused(c: ConsentCli) -> None:
    message = c.fail(
        "patient",
        "sign",
        "--grantee",
        c.env.insurer,
        "--purpose",
        "CLAIM",
        "--classes",
        "LAB",
        "--chain-id",
        "1",
    )
    assert "--chain-id 1 but the node is chain 31337" in message


def test_file_from_cli_is_the_library_format(c: ConsentCli, tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    c.json(
        "patient",
        "sign",
        "--grantee",
        c.env.insurer,
        "--purpose",
        "CLAIM",
        "--classes",
        "LAB",
        "--out",
        str(out),
    )
    signed = consent.SignedConsent.load(out)
    assert signed.domain.verifying_contract == c.env.registry.address


def test_expired_or_backdated_periods_warn_and_lists_name_members(c: ConsentCli, tmp_path: Path) -> None:
    """Issue 17: a consent already expired or starting in the past is signed with a warning; `consent list`
    shows the member's name beside its address; errors show times as ISO dates."""
    e = c.env
    out = tmp_path / "old.json"
    expired = c.run("patient", "sign", "--grantee", e.insurer, "--purpose", "CLAIM", "--classes", "LAB",
                    "--valid-until", "2020-01-02", "--out", str(out))  # fmt: skip
    assert expired.exit_code == 0, expired.output
    assert "warning: --valid-until 2020-01-02T00:00:00Z is already past" in expired.stderr
    backdated = c.run("patient", "grant", "--grantee", e.hospital, "--purpose", "TREATMENT", "--classes",
                      "LAB", "--valid-from", "2020-01-01", "--valid-until", "+30d")  # fmt: skip
    assert backdated.exit_code == 0, backdated.output
    assert "warning: --valid-from 2020-01-01T00:00:00Z is in the past" in backdated.stderr
    fresh = c.run("patient", "grant", "--grantee", e.hospital, "--purpose", "RESEARCH", "--classes", "LAB")
    assert fresh.exit_code == 0 and "warning" not in fresh.stderr
    line = c.fail("patient", "grant", "--grantee", e.hospital, "--purpose", "TREATMENT", "--classes", "LAB",
                  "--valid-from", "2020-01-01", "--valid-until", "2019-12-31")  # fmt: skip
    assert "ConsentInvalidPeriod(validFrom=2020-01-01T00:00:00Z, validUntil=2019-12-31T00:00:00Z)" in line
    name = consortium.get_member(e.consortium, e.hospital).name
    table = c.run(HOSPITAL, "list", e.patient.address)
    assert name and table.exit_code == 0 and f"{name} {e.hospital}" in table.stdout
    status = c.run(HOSPITAL, "status", e.patient.address)
    assert status.exit_code == 0 and f"{name} {e.hospital}" in status.stdout
