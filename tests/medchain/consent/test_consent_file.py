"""The signed-consent file format and `medchain consent sign/verify` with no chain at all (offline)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from typer.testing import CliRunner

from medchain import consent, signing
from medchain.cli import app
from medchain.errors import InputError
from medchain.signing import ConsentGrant, ConsentRevoke, Domain

PATIENT_KEY = "0x" + "11" * 32
PATIENT = Account.from_key(PATIENT_KEY)
GUARDIAN = Account.from_key("0x" + "33" * 32)
GRANTEE = "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
REGISTRY = "0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD"
DOMAIN = Domain(31337, REGISTRY)
UNREACHABLE = "http://127.0.0.1:9"  # nothing listens there: proves no RPC is made


def signed_grant(key: Any = PATIENT) -> consent.SignedConsent:
    msg = ConsentGrant(PATIENT.address, GRANTEE, 2, 24, 0, 0, 3, 1_800_000_000)
    return consent.sign_consent(msg, DOMAIN, key)


def test_file_round_trip(tmp_path: Path) -> None:
    signed = signed_grant()
    path = tmp_path / "c.json"
    signed.save(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "medchain-signed-consent" and doc["version"] == 1
    assert doc["signer"] == PATIENT.address
    assert doc["signature"].startswith("0x") and len(doc["signature"]) == 132
    assert doc["typedData"] == signing.typed_data(signed.message, DOMAIN)
    assert consent.SignedConsent.load(path) == signed


def test_revoke_file_round_trip() -> None:
    signed = consent.sign_consent(
        ConsentRevoke(PATIENT.address, GRANTEE, 2, 4, 1_800_000_000), DOMAIN, PATIENT
    )
    assert consent.SignedConsent.from_json(json.loads(json.dumps(signed.to_json()))) == signed


def test_guardian_signed_file_names_the_guardian() -> None:
    signed = signed_grant(GUARDIAN)
    assert signed.signer == GUARDIAN.address
    assert consent.SignedConsent.from_json(signed.to_json()).message.patient == PATIENT.address


def test_bare_document_without_format_or_signer_is_read() -> None:
    """The minimal {typedData, signature} document (what the demo writes) is accepted."""
    doc = signed_grant().to_json()
    bare = {"typedData": doc["typedData"], "signature": doc["signature"]}
    loaded = consent.SignedConsent.from_json(bare)
    assert loaded.signer is None and loaded.message == signed_grant().message


def test_wrong_stated_signer_is_refused() -> None:
    doc = signed_grant().to_json()
    doc["signer"] = GUARDIAN.address
    with pytest.raises(InputError, match="not by the stated signer"):
        consent.SignedConsent.from_json(doc)


def test_tampered_message_is_refused() -> None:
    doc = signed_grant().to_json()
    doc["typedData"]["message"]["dataClasses"] = 2047
    with pytest.raises(InputError, match="not by the stated signer"):
        consent.SignedConsent.from_json(doc)


@pytest.mark.parametrize(
    "mutate, problem",
    [
        (lambda d: d.update(format="other"), "unsupported file format"),
        (lambda d: d.update(version=2), "unsupported file format"),
        (lambda d: d.pop("signature"), "typedData and signature"),
        (lambda d: d.update(signature="abcd"), "0x-prefixed"),
        (lambda d: d.update(signature="0xzz"), "not valid hex"),
    ],
)
def test_malformed_files_are_refused(mutate: Any, problem: str) -> None:
    doc = signed_grant().to_json()
    mutate(doc)
    with pytest.raises(InputError, match=problem):
        consent.SignedConsent.from_json(doc)


def test_load_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        consent.SignedConsent.load(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text("{")
    with pytest.raises(InputError, match="is not JSON"):
        consent.SignedConsent.load(tmp_path / "x.json")


# ---- the CLI, offline ----


def run(*args: str, key: str | None = PATIENT_KEY) -> Any:
    env = {"MEDCHAIN_PRIVATE_KEY_PATIENT": key} if key else {}
    return CliRunner().invoke(app, ["--rpc-url", UNREACHABLE, "--account", "patient", *args], env=env)


def test_cli_sign_offline_writes_a_valid_file(tmp_path: Path) -> None:
    out = tmp_path / "consent.json"
    result = run(
        "consent",
        "sign",
        "--grantee",
        GRANTEE,
        "--purpose",
        "CLAIM",
        "--classes",
        "LAB,IMAGING",
        "--chain-id",
        "31337",
        "--contract",
        REGISTRY,
        "--nonce",
        "5",
        "--valid-until",
        "2030-01-01",
        "--deadline",
        "2029-06-30T12:00:00Z",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    signed = consent.SignedConsent.load(out)
    m = signed.message
    assert isinstance(m, ConsentGrant)
    assert (m.patient, m.grantee, m.purpose, m.data_classes, m.nonce) == (PATIENT.address, GRANTEE, 2, 24, 5)
    assert (m.valid_from, m.valid_until, m.deadline) == (0, 1_893_456_000, 1_877_515_200)
    assert signed.domain == DOMAIN and signed.signer == PATIENT.address


def test_cli_sign_offline_to_stdout_is_the_file_format() -> None:
    result = run(
        "consent",
        "sign",
        "--grantee",
        GRANTEE,
        "--purpose",
        "TREATMENT",
        "--classes",
        "ALL",
        "--chain-id",
        "31337",
        "--contract",
        REGISTRY,
        "--nonce",
        "0",
    )
    assert result.exit_code == 0, result.output
    signed = consent.SignedConsent.from_json(json.loads(result.stdout))
    assert signed.message.purpose == 1 and signed.message.data_classes == 2047  # type: ignore[union-attr]


def test_cli_sign_revoke_offline_as_guardian(tmp_path: Path) -> None:
    out = tmp_path / "revoke.json"
    result = run(
        "consent",
        "sign",
        "--revoke",
        "--grantee",
        GRANTEE,
        "--purpose",
        "2",
        "--patient",
        PATIENT.address,
        "--chain-id",
        "31337",
        "--contract",
        REGISTRY,
        "--nonce",
        "1",
        "--out",
        str(out),
        key="0x" + "33" * 32,
    )
    assert result.exit_code == 0, result.output
    signed = consent.SignedConsent.load(out)
    assert isinstance(signed.message, ConsentRevoke)
    assert signed.message.patient == PATIENT.address and signed.signer == GUARDIAN.address


def test_cli_verify_offline(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    signed_grant().save(path)
    result = run("consent", "verify", str(path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["signer"] == PATIENT.address and data["signedBy"] == "patient"
    assert data["classes"] == "LAB,IMAGING" and data["purpose"] == "CLAIM"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--purpose", "CLAIM", "--classes", "LAB,XRAY"], "unknown data class"),
        (["--purpose", "PAYMENT", "--classes", "LAB"], "unknown purpose"),
        (["--purpose", "CLAIM"], "needs --classes"),
        (["--purpose", "CLAIM", "--classes", "LAB", "--revoke"], "no --classes"),
        (["--purpose", "CLAIM", "--classes", "LAB", "--valid-until", "soon"], "is not unix seconds"),
        (["--purpose", "CLAIM", "--classes", "LAB", "--ttl", "3x"], "--ttl '3x' is not N"),
    ],
)
def test_cli_sign_bad_input_is_one_line(args: list[str], message: str) -> None:
    result = run(
        "consent",
        "sign",
        "--grantee",
        GRANTEE,
        *args,
        "--chain-id",
        "1",
        "--contract",
        REGISTRY,
        "--nonce",
        "0",
    )
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_cli_sign_without_a_key_is_one_line() -> None:
    result = run(
        "consent",
        "sign",
        "--grantee",
        GRANTEE,
        "--purpose",
        "CLAIM",
        "--classes",
        "LAB",
        "--chain-id",
        "1",
        "--contract",
        REGISTRY,
        "--nonce",
        "0",
        key=None,
    )
    assert result.exit_code == 1
    assert "MEDCHAIN_PRIVATE_KEY" in result.output


# ---- regressions from the consent fuzzing (tests/fuzz/test_fuzz_consent.py findings S1-S4) ----


@pytest.mark.parametrize("signer", ["junk", 5, ["0x"]])
def test_signer_that_is_not_an_address_is_an_input_error(signer: Any) -> None:
    with pytest.raises(InputError, match="signer"):
        consent.SignedConsent.from_json(signed_grant().to_json() | {"signer": signer})


@pytest.mark.parametrize("key, value", [("types", [1]), ("primaryType", ["ConsentGrant"]), ("message", 5)])
def test_typed_data_of_wrong_json_types_is_an_input_error(key: str, value: Any) -> None:
    doc = signed_grant().to_json()
    doc["typedData"][key] = value
    with pytest.raises(InputError):
        consent.SignedConsent.from_json(doc)


@pytest.mark.parametrize("signature", ["0x" + "00" * 65, "0x" + "ff" * 32 + "01" * 32 + "1b"])
def test_out_of_range_signature_is_an_input_error(signature: str) -> None:
    with pytest.raises(InputError, match="does not recover"):
        consent.SignedConsent.from_json(signed_grant().to_json() | {"signature": signature})


def test_far_deadline_is_shown_not_crashed(tmp_path: Path) -> None:
    msg = ConsentGrant(PATIENT.address, GRANTEE, 2, 24, 0, 2**64 - 1, 0, 2**256 - 1)
    path = tmp_path / "never.json"
    consent.sign_consent(msg, DOMAIN, PATIENT).save(path)
    result = run("consent", "verify", str(path))
    assert result.exit_code == 0, result.output
    assert str(2**256 - 1) in result.output  # the deadline past the calendar is shown as its number
