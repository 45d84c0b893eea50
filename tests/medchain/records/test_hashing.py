"""Record hashes (DESIGN 6.6), patient commitments (6.3) and leaves (6.5)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from eth_utils import keccak

from medchain.errors import InputError
from medchain.hashing import (
    METHOD_BYTES,
    METHOD_FHIR,
    canonical_fhir,
    hash_bytes,
    hash_file,
    parse_hash,
    patient_commitment,
    record_leaf,
)

OBSERVATION = {
    "resourceType": "Observation",
    "id": "hb-1",
    "meta": {"versionId": "3", "lastUpdated": "2026-01-02T03:04:05Z"},
    "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Hb 13.50 g/dL</div>'},
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
    "subject": {"reference": "Patient/p1"},
    "valueQuantity": {"value": 13.50, "unit": "g/dL"},
}


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_plain_file_is_sha256_of_its_bytes(tmp_path: Path) -> None:
    data = b"\x00\x01 scan bytes \xff"
    result = hash_file(_write(tmp_path, "scan.dcm", data))
    assert result.record_hash == hashlib.sha256(data).digest()
    assert result.method == METHOD_BYTES and result.size == len(data)


def test_fhir_json_is_hashed_canonically(tmp_path: Path) -> None:
    pretty = json.dumps(OBSERVATION, indent=4)
    result = hash_file(_write(tmp_path, "obs.json", pretty))
    assert result.method == METHOD_FHIR and result.resource_type == "Observation"
    expected = (
        b'{"code":{"coding":[{"code":"718-7","system":"http://loinc.org"}]},"id":"hb-1","resourceType":"Observation",'
        b'"status":"final","subject":{"reference":"Patient/p1"},"valueQuantity":{"unit":"g/dL","value":13.5}}'
    )
    assert canonical_fhir(OBSERVATION) == expected
    assert result.record_hash == hashlib.sha256(expected).digest()


def test_fhir_hash_ignores_layout_key_order_text_and_meta(tmp_path: Path) -> None:
    a = hash_file(_write(tmp_path, "a.json", json.dumps(OBSERVATION)))
    reordered = dict(reversed(list(OBSERVATION.items())))
    reordered["meta"] = {"versionId": "9"}
    reordered["text"] = {"status": "empty", "div": "<div/>"}
    b = hash_file(_write(tmp_path, "b.json", json.dumps(reordered, indent=1)))
    assert a.record_hash == b.record_hash


def test_fhir_hash_changes_with_content(tmp_path: Path) -> None:
    changed = dict(OBSERVATION, status="amended")
    a = hash_file(_write(tmp_path, "a.json", json.dumps(OBSERVATION)))
    b = hash_file(_write(tmp_path, "b.json", json.dumps(changed)))
    assert a.record_hash != b.record_hash


def test_decimals_are_canonicalised_as_jcs_numbers(tmp_path: Path) -> None:
    """JSON parsed as received (like JSON.parse): 6.50 and 6.5 are the same JCS number."""
    a = hash_bytes(b'{"resourceType":"Observation","valueQuantity":{"value":6.50}}')
    b = hash_bytes(b'{"resourceType":"Observation","valueQuantity":{"value":6.5}}')
    c = hash_bytes(b'{"resourceType":"Observation","valueQuantity":{"value":6.51}}')
    assert a.record_hash == b.record_hash != c.record_hash
    assert canonical_fhir({"resourceType": "X", "v": 1e21, "w": 1e-7, "z": -0.0}) == (
        b'{"resourceType":"X","v":1e+21,"w":1e-7,"z":0}'
    )


def test_non_fhir_json_is_hashed_as_bytes(tmp_path: Path) -> None:
    data = b'{"device": "analyser-7", "value": 1}'
    result = hash_file(_write(tmp_path, "export.json", data))
    assert result.method == METHOD_BYTES and result.record_hash == hashlib.sha256(data).digest()


def test_raw_mode_hashes_fhir_bytes(tmp_path: Path) -> None:
    data = json.dumps(OBSERVATION).encode()
    result = hash_file(_write(tmp_path, "obs.json", data), mode="raw")
    assert result.method == METHOD_BYTES and result.record_hash == hashlib.sha256(data).digest()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"resourceType": "Observation", "status": ', "malformed JSON"),
        ('{"resourceType": "Observation", "a": 1, "a": 2}', "duplicate key"),
        ('{"resourceType": "Observation", "value": NaN}', "NaN is not JSON"),
        ('{"resourceType": "Observation", "value": 9007199254740993}', "cannot be canonicalised"),
        ("\ufeff\udcff", "malformed JSON"),
    ],
)
def test_malformed_fhir_json_is_a_one_line_input_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(InputError, match=message) as info:
        hash_file(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_fhir_mode_requires_a_resource(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no resourceType"):
        hash_file(_write(tmp_path, "x.json", '{"a": 1}'), mode="fhir")


def test_unreadable_or_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        hash_file(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="is a directory"):
        hash_file(tmp_path)


def test_fhir_structure_validation(tmp_path: Path) -> None:
    ok = hash_file(_write(tmp_path, "ok.json", json.dumps(OBSERVATION)), validate=True)
    assert ok.fhir_validated
    broken = {"resourceType": "Observation", "status": "final"}  # R5 Observation needs `code`
    with pytest.raises(InputError, match="invalid FHIR Observation"):
        hash_file(_write(tmp_path, "bad.json", json.dumps(broken)), validate=True)
    with pytest.raises(InputError, match="unknown FHIR resourceType"):
        hash_file(_write(tmp_path, "odd.json", '{"resourceType": "NoSuchThing"}'), validate=True)


def test_validation_does_not_change_the_hash(tmp_path: Path) -> None:
    path = _write(tmp_path, "obs.json", json.dumps(OBSERVATION))
    assert hash_file(path, validate=True).record_hash == hash_file(path).record_hash


def test_patient_commitment_is_keccak_of_abi_encoded_address_and_salt() -> None:
    patient = "0x" + "ab" * 20
    salt = bytes(range(32))
    expected = keccak(bytes(12) + bytes.fromhex("ab" * 20) + salt)  # abi.encode(address, bytes32): 2 words
    assert patient_commitment(patient, salt) == expected
    assert patient_commitment(patient.upper().replace("0X", "0x"), salt) == expected


def test_patient_commitment_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="not an address"):
        patient_commitment("0x1234", bytes(32))
    with pytest.raises(InputError, match="32 bytes"):
        patient_commitment("0x" + "ab" * 20, b"short")


def test_record_leaf_and_its_input_checks() -> None:
    rh, cm = keccak(b"r"), keccak(b"c")
    assert record_leaf(rh, cm, 3) == keccak(keccak(rh + cm + bytes(31) + b"\x03"))
    with pytest.raises(InputError, match="unknown data class 11"):
        record_leaf(rh, cm, 11)
    with pytest.raises(InputError, match="must be 32 bytes, got 31"):
        record_leaf(rh[:31], cm, 3)


def test_parse_hash() -> None:
    assert parse_hash("0x" + "11" * 32) == b"\x11" * 32
    assert parse_hash("11" * 32) == b"\x11" * 32
    with pytest.raises(InputError, match="must be 32 bytes, got 20"):
        parse_hash("0x" + "11" * 20)
    with pytest.raises(InputError, match="not hex"):
        parse_hash("0xzz")
