"""The gateway's external format (docs/RECORD-EXCHANGE.md) without a chain: the documented example verifies,
the wire form round-trips, malformed and foreign bodies are refused, ECIES round-trips, NDJSON lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from eth_account import Account

from medchain.errors import InputError
from medchain.gateway.crypto import ResponseKey, decrypt, encrypt
from medchain.gateway.messages import (
    GatewayDomain,
    ListRequest,
    RecordRequest,
    SignedRequest,
    expiry,
    new_request_id,
    type_string,
)
from medchain.ndjson import class_of, resources

DOC = Path(__file__).resolve().parents[3] / "docs" / "RECORD-EXCHANGE.md"
DOMAIN = GatewayDomain(1337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")


def _doc_example() -> dict[str, object]:
    text = DOC.read_text()
    section = text[text.index("### Example record request") :]
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block is not None
    return dict(json.loads(block.group(1)))


def test_documented_example_verifies_and_names_its_signer() -> None:
    signed = SignedRequest.from_json(_doc_example())
    assert signed.signer() == Account.from_key("0x" + "a1" * 32).address
    assert signed.domain == DOMAIN
    assert isinstance(signed.request, RecordRequest) and signed.request.purpose == 1


def test_documented_type_strings_are_the_code_s() -> None:
    text = DOC.read_text()
    assert type_string("RecordRequest") in text and type_string("RecordListRequest") in text


def test_wire_form_round_trips_and_a_changed_field_changes_the_signer() -> None:
    key = Account.create()
    request = ListRequest(key.address, Account.create().address, 4, ResponseKey.generate().public,
                          new_request_id(), expiry())  # fmt: skip
    wire = SignedRequest.sign(request, DOMAIN, key).to_json()
    assert SignedRequest.from_json(json.loads(json.dumps(wire))).signer() == key.address
    wire["typedData"]["message"]["purpose"] = 1  # type: ignore[index]
    assert SignedRequest.from_json(wire).signer() != key.address


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda w: w["typedData"]["domain"].update(name="MedChain ConsentRegistry"), "domain must be"),
        (lambda w: w["typedData"]["types"]["RecordRequest"].pop(), "types.RecordRequest is not"),
        (lambda w: w["typedData"].update(primaryType="Other"), "neither RecordRequest"),
        (lambda w: w["typedData"]["message"].update(purpose=9), "purpose 9 is not one of"),
        (lambda w: w["typedData"]["message"].update(leaf="0x12"), "leaf must be 32 bytes"),
        (lambda w: w["typedData"]["message"].update(responseKey="0x" + "02" * 20), "responseKey must be"),
        (lambda w: w["typedData"]["types"].update(Extra=[]), "types must hold only"),
        (lambda w: w.update(signature="zz"), "signature must be a 0x-hex"),
    ],
)
def test_malformed_requests_are_refused_with_one_line(change: object, message: str) -> None:
    wire = _doc_example()
    change(wire)  # type: ignore[operator]
    with pytest.raises(InputError, match=message):
        SignedRequest.from_json(wire)


def test_high_s_signature_is_refused() -> None:
    wire = _doc_example()
    signature = bytes.fromhex(str(wire["signature"])[2:])
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = (n - int.from_bytes(signature[32:64], "big")).to_bytes(32, "big")
    wire["signature"] = "0x" + (signature[:32] + high_s + bytes([55 - signature[64]])).hex()
    with pytest.raises(InputError, match="high s"):
        SignedRequest.from_json(wire).signer()


def test_ecies_round_trip_and_wrong_key_or_altered_ciphertext_fail() -> None:
    key, other = ResponseKey.generate(), ResponseKey.generate()
    ciphertext = encrypt(key.public, b"record bytes")
    assert key.open(ciphertext) == b"record bytes" and len(key.public) == 33
    with pytest.raises(InputError, match="cannot be decrypted"):
        other.open(ciphertext)
    altered = ciphertext[:-1] + bytes([ciphertext[-1] ^ 1])
    with pytest.raises(InputError, match="cannot be decrypted"):
        decrypt(key.secret, altered)
    with pytest.raises(InputError, match="not a valid secp256k1 public key"):
        encrypt(b"\x02" + b"\xff" * 32, b"x")


def test_ndjson_lines_hash_canonically_and_name_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "Observation.ndjson"
    path.write_text('{"resourceType":"Observation","id":"a"}\n\n{"id": "b", "resourceType": "Observation"}\n')
    rows = list(resources(path))
    assert [n for n, _ in rows] == [1, 3] and all(r.method == "sha256+fhir-jcs-static" for _, r in rows)
    assert class_of(rows[0][1], None) == 3  # Observation -> LAB
    path.write_text('{"resourceType":"Observation"}\n{"resourceType":\n')
    with pytest.raises(InputError, match=r"Observation.ndjson line 2: malformed JSON"):
        list(resources(path))
    path.write_text('{"resourceType":"Basic"}\n')
    with pytest.raises(InputError, match="no default data class for FHIR Basic"):
        class_of(next(resources(path))[1], None)


def test_release_log_refuses_a_second_copy_and_prunes_only_expired_ids(tmp_path: Path) -> None:
    from medchain.gateway.releases import ReleaseLog
    from medchain.store import open_store

    log = ReleaseLog(open_store(tmp_path / "store.sqlite"))
    fields = {"kind": "record", "requester": "0xA", "signer": "0xB", "subject": b"x", "purpose": 1,
              "access_tx": None}  # fmt: skip
    old, fresh = new_request_id(), new_request_id()
    assert log.record(old, expires_at=100, **fields) and log.record(fresh, expires_at=expiry(), **fields)
    assert not log.record(fresh, expires_at=expiry(), **fields)  # replay
    assert log.prune(before=1_000) == 1 and not log.seen(old) and log.seen(fresh)
