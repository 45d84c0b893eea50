"""Fuzzing signed-consent files (medchain.consent.SignedConsent, medchain.signing.from_typed_data / recover,
`medchain consent verify|relay FILE`): valid signed grants and revocations for the fuzz chain's registry with
structural edits, edits of the signature, the message values and the domain, random bytes and truncated files.

Properties: a file loads, or is refused with a one-line `MedchainError`; a loaded file is internally
consistent (its stated signer made the signature); `consent verify` exits 0/1 with one line; `consent relay`
of a refused file sends no transaction and writes no file."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fuzzkit import Deployed, call, fuzz, json_values, mutate_json, mutate_text, rejected, run, unchanged
from hypothesis import given
from hypothesis import strategies as st

from medchain import consent, signing
from medchain.errors import MedchainError
from medchain.signing import ConsentGrant, ConsentRevoke, Domain

PATIENT = Account.from_key("0x" + "44" * 32)
GRANTEE = "0x" + "34" * 20
HEX = st.sampled_from(list("0123456789abcdefABCDEF"))
DEADLINE = 4_102_444_800  # 2100-01-01


def registry_of(deployed: Deployed | None) -> str:
    if deployed is None:
        return "0x" + "12" * 20
    return str(json.loads(deployed.manifest.read_text())["contracts"]["ConsentRegistry"]["address"])


@st.composite
def signed_docs(draw: st.DrawFn, registry: str = "0x" + "12" * 20) -> dict[str, Any]:
    domain = Domain(31337, registry)
    purpose = draw(st.sampled_from([1, 2, 3, 4, 5]))
    nonce = draw(st.integers(0, 3))
    deadline = draw(st.sampled_from([DEADLINE, 2**32 - 1]) | st.integers(DEADLINE, 2**256 - 1))
    if draw(st.booleans()):
        valid_from = draw(st.integers(0, DEADLINE))
        until = draw(st.just(0) | st.integers(valid_from, DEADLINE) | st.integers(valid_from, 2**64 - 1))
        classes = draw(st.integers(1, 0x7FF))
        msg: Any = ConsentGrant(
            PATIENT.address, GRANTEE, purpose, classes, valid_from, until, nonce, deadline
        )
    else:
        msg = ConsentRevoke(PATIENT.address, GRANTEE, purpose, nonce, deadline)
    doc = consent.sign_consent(msg, domain, PATIENT).to_json()
    if draw(st.booleans()):
        del doc["signer"]
    return doc


def mutate_signed(data: st.DataObject, doc: dict[str, Any]) -> Any:
    """A structural edit anywhere, or a targeted one: signature bytes, a message value, the domain, the
    signer, the types."""
    doc = copy.deepcopy(doc)
    where = data.draw(st.sampled_from(["anywhere", "signature", "message", "domain", "signer", "types"]))
    typed = doc["typedData"]
    if where == "signature":
        doc["signature"] = mutate_text(data.draw, doc["signature"], HEX | st.sampled_from(["0x", "x", " "]))
    elif where == "message":
        key = data.draw(st.sampled_from(sorted(typed["message"])))
        typed["message"][key] = data.draw(
            json_values | st.integers(-(2**260), 2**260) | st.from_regex(r"\A0x[0-9a-fA-F]{0,70}\Z")
        )
    elif where == "domain":
        key = data.draw(st.sampled_from(sorted(typed["domain"])))
        typed["domain"][key] = data.draw(json_values | st.integers(0, 2**70))
    elif where == "signer":
        doc["signer"] = data.draw(json_values | st.from_regex(r"\A0x[0-9a-fA-F]{38,42}\Z") | st.just(GRANTEE))
    elif where == "types":
        typed["types"] = mutate_json(data.draw, typed["types"])
    else:
        return mutate_json(data.draw, doc)
    return doc


def check(result: Any) -> None:
    if isinstance(result, MedchainError):
        return
    assert isinstance(result, consent.SignedConsent)
    recovered = call(signing.recover, result.message, result.domain, result.signature)
    if result.signer is not None:
        assert recovered == result.signer
    assert result.domain.name == signing.DOMAIN_NAME and result.domain.chain_id > 0


@fuzz(40)
@given(doc=signed_docs())
def test_valid_signed_consents_load(doc: dict[str, Any]) -> None:
    loaded = consent.SignedConsent.from_json(doc)
    check(loaded)
    assert signing.recover(loaded.message, loaded.domain, loaded.signature) == PATIENT.address


@fuzz(150)
@given(data=st.data(), doc=signed_docs())
def test_mutated_signed_consents(data: st.DataObject, doc: dict[str, Any]) -> None:
    mutated = mutate_signed(data, doc)
    check(call(consent.SignedConsent.from_json, mutated))


@fuzz(200)
@given(doc=json_values)
def test_any_json_as_typed_data_or_file(doc: Any) -> None:
    if isinstance(doc, dict):
        call(signing.from_typed_data, doc)
    check(call(consent.SignedConsent.from_json, doc))
    check(call(consent.SignedConsent.from_json, {"typedData": doc, "signature": "0x" + "11" * 65}))


@fuzz(80)
@given(data=st.data(), doc=signed_docs())
def test_random_and_truncated_files(data: st.DataObject, doc: dict[str, Any]) -> None:
    text = json.dumps(doc, indent=2)
    raw = data.draw(st.binary(max_size=200) | st.just(text[: data.draw(st.integers(0, len(text)))].encode()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "consent.json"
        path.write_bytes(raw)
        check(call(consent.SignedConsent.load, path))


# ---- the CLI ----


@fuzz(25)
@given(data=st.data(), doc=signed_docs())
def test_cli_verify(data: st.DataObject, doc: dict[str, Any]) -> None:
    mutated = mutate_signed(data, doc)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "consent.json"
        path.write_text(json.dumps(mutated))
        expected: Any = call(consent.SignedConsent.load, path)
        if not isinstance(
            expected, MedchainError
        ):  # verify also recovers an ECDSA signer (the file may omit it)
            expected = call(signing.recover, expected.message, expected.domain, expected.signature)
        with unchanged(Path(tmp)):
            out = run("--json", "consent", "verify", "--", str(path))
        if isinstance(expected, MedchainError):
            assert str(expected) in rejected(out)
        else:
            assert out.ok, out


@fuzz(20)
@given(data=st.data())
def test_cli_relay_of_a_refused_file_sends_nothing(deployed: Deployed, data: st.DataObject) -> None:
    doc = data.draw(signed_docs(registry_of(deployed)))
    mutated = mutate_signed(data, doc)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "consent.json"
        path.write_text(json.dumps(mutated))
        head = deployed.head
        with unchanged(Path(tmp)):
            out = run(*deployed.base(), "--json", "consent", "relay", "--", str(path))
        if out.ok:  # an edit that kept the file valid (e.g. a dropped signer): relayed once, as it should be
            assert deployed.head == head + 1
        else:
            assert not rejected(out).startswith("error: unexpected"), out
            assert deployed.head == head, "a refused consent reached the chain"


# ---- regressions of the findings S1-S4 (reported during this work and fixed by the consent owner) ----


def _valid() -> dict[str, Any]:
    msg = ConsentGrant(PATIENT.address, GRANTEE, 2, 24, 0, 0, 0, 2**40)
    return consent.sign_consent(msg, Domain(31337, "0x" + "12" * 20), PATIENT).to_json()


@pytest.mark.parametrize("signer", ["junk", 5, ["0x"]])
def test_s1_signer_that_is_not_an_address_is_an_input_error(signer: Any) -> None:
    """S1: a `signer` that is not an address was a ValueError from Web3.to_checksum_address."""
    doc = _valid() | {"signer": signer}
    assert isinstance(call(consent.SignedConsent.from_json, doc), MedchainError)


@pytest.mark.parametrize(
    ("key", "value"),
    [("types", [1]), ("primaryType", ["ConsentGrant"]), ("message", 5),
     ("message", "patient grantee purpose dataClasses validFrom validUntil nonce deadline")],
)  # fmt: skip
def test_s2_typed_data_of_the_wrong_json_types_is_an_input_error(key: str, value: Any) -> None:
    """S2: from_typed_data raised AttributeError/TypeError for types, primaryType or message of another
    JSON type."""
    doc = _valid()
    doc["typedData"][key] = value
    assert isinstance(call(signing.from_typed_data, doc["typedData"]), MedchainError)


@pytest.mark.parametrize("signature", ["0x" + "00" * 65, "0x" + "ff" * 32 + "01" * 32 + "1b"])
def test_s3_out_of_range_signature_is_an_input_error(signature: str) -> None:
    """S3: eth_keys' BadSignature (r or s 0 or >= n) escaped signing.recover."""
    doc = _valid() | {"signature": signature}
    assert isinstance(call(consent.SignedConsent.from_json, doc), MedchainError)


def test_s4_relay_of_a_consent_with_a_far_deadline_reports_success(
    deployed: Deployed, tmp_path: Path
) -> None:
    """S4: a deadline past 9999-12-31 (2**256-1, "never") made the output formatting raise ValueError, so
    `consent relay` reported an error after its transaction had been sent."""
    patient = Account.from_key("0x" + "45" * 32)
    registry = registry_of(deployed)
    msg = ConsentGrant(patient.address, GRANTEE, 2, 24, 0, 0, 0, 2**256 - 1)
    path = tmp_path / "consent.json"
    path.write_text(json.dumps(consent.sign_consent(msg, Domain(31337, registry), patient).to_json()))
    head = deployed.head
    out = run(*deployed.base(), "--json", "consent", "relay", str(path))
    assert deployed.head == head + 1  # the grant was relayed ...
    assert out.ok, out  # ... and the command says so
