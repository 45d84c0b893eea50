"""The quick FHIR line hash (NDJSON exports) and the many-record salts and commitments give exactly what the
one-record functions give: same hashes, same salts, same commitments, same errors."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from medchain.errors import InputError
from medchain.hashing import _quick_fhir, hash_bytes, hash_fhir_line, patient_commitment, patient_commitments
from medchain.salts import derive_salt, derive_salts

PATIENT = "0x" + "Ab" * 20

# Lines the quick path handles itself (it must return a result, equal to hash_bytes's)
QUICK = [
    b'{"resourceType":"Observation","valueQuantity":{"value":6.50,"unit":"mmol/L"}}',
    b'{"resourceType": "Observation", "id": "obs-1", "status": "final", "valueQuantity": {"value": 5.0}}',
    b'{"resourceType":"Patient","meta":{"versionId":"2"},"text":{"div":"x"},"name":[{"family":"M\xc3\xbcller"}]}',
    b'{"resourceType":"Observation","value":[1e21,1e20,1E-7,1e-6,-0.0,0.0,-1.5e300,5e-324,123.456e5,0.1]}',
    b'{"resourceType":"Observation","n":[0,-0,1,-1,999999999999999,-99999999999999],"b":[true,false,null]}',
    b'{"resourceType":"Observation","s":"tab\\tnl\\nq\\"bs\\\\ctl\\u001f\\u0007 del\x7f slash\\/ \\u00e9"}',
    b'{"resourceType":"Observation","\xee\x80\x80":1,"\xef\xbf\xbd":2,"z":3,"\xc3\xa9":4,"":5,"a":{},"b":[]}',
    b'{"resourceType":"Observation","nested":{"meta":1,"text":2,"z":{"y":[{"b":1,"a":2}]}}}',
    b'  {"resourceType":"Observation"}  ',
    b'{"resourceType":"Observation","x":' + b"[" * 99 + b"]" * 99 + b"}",  # 100 deep: allowed
]

# Lines it leaves to hash_bytes (a result or an error, whichever hash_bytes gives)
DEFERRED = [
    b'{"resourceType":"Observation","\xf0\x9f\x98\x80":1,"\xef\xbf\xbd":2}',  # astral key: UTF-16 order
    b'{"resourceType":"Observation","\\ud83d\\ude00":1,"\\uffff":2}',
    b'{"resourceType":"Observation","s":"\\ud800"}',  # lone surrogate: refused
    b'{"resourceType":"Observation","s":"nul\\u0000"}',
    b'{"resourceType":"Observation","s":"text \\\\u0000 not a nul"}',
    b'{"resourceType":"Observation","n":9007199254740991}',
    b'{"resourceType":"Observation","n":9007199254740992}',  # beyond 2^53 - 1: refused
    b'{"resourceType":"Observation","n":1e400}',  # infinite: refused
    b'{"resourceType":"Observation","n":NaN}',
    b'{"resourceType":"Observation","a":1,"a":2}',  # duplicate key
    b'{"resourceType":5.5}',
    b'{"resourceType":""}',
    b'{"id":"x"}',
    b'["resourceType"]',
    b'{"resourceType":"Observation"',
    b'{"resourceType":"Observation"} x',
    b'\xef\xbb\xbf{"resourceType":"Observation"}',
    b'{"resourceType":"Observation","s":"\xff"}',
    b'{"resourceType":"Observation","x":' + b"[" * 100 + b"]" * 100 + b"}",  # 101 deep: refused
]


def _reference(line: bytes) -> Any:
    try:
        return hash_bytes(line, source="f line 7", mode="fhir")
    except InputError as exc:
        return str(exc)


def _quick(line: bytes) -> Any:
    try:
        return hash_fhir_line(line, "f line 7")
    except InputError as exc:
        return str(exc)


@pytest.mark.parametrize("line", QUICK)
def test_quick_path_hashes_like_hash_bytes(line: bytes) -> None:
    quick = _quick_fhir(line, "f line 7")
    assert quick is not None  # the quick path did the work (not the fallback)
    assert quick == _reference(line)


@pytest.mark.parametrize("line", DEFERRED)
def test_lines_the_quick_path_cannot_vouch_for_get_hash_bytes_result_or_error(line: bytes) -> None:
    assert _quick_fhir(line, "f line 7") is None
    assert _quick(line) == _reference(line)


def _value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randrange(-(10**14) + 1, 10**14)
    if kind == 2:
        return rng.choice(
            [rng.uniform(-1e6, 1e6), rng.random() * 10 ** rng.randrange(-30, 30), 5 + rng.randrange(30) / 10]
        )
    if kind in (3, 4, 5):
        alphabet = 'ab"\\\n\t\x01\x1f\x7f/é€\ue000\uffff中 '
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(8)))
    if kind in (6, 7):
        return {_key(rng): _value(rng, depth + 1) for _ in range(rng.randrange(5))}
    return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]


def _key(rng: random.Random) -> str:
    return "".join(rng.choice("abAB_é\ue000\uffff€0") for _ in range(rng.randrange(1, 5)))


def test_random_resources_hash_alike() -> None:
    rng = random.Random(8785)
    for number in range(1500):
        resource = {
            "resourceType": "Observation",
            **{_key(rng): _value(rng, 0) for _ in range(rng.randrange(6))},
        }
        if rng.random() < 0.3:
            resource["meta"] = {"versionId": str(number)}
        line = json.dumps(resource, ensure_ascii=rng.random() < 0.5).encode()
        quick = _quick_fhir(line, "f line 7")
        assert quick is not None, line
        assert quick == _reference(line), line


def test_many_salts_and_commitments_equal_the_one_record_functions() -> None:
    key = bytes(range(32))
    records = [(bytes([i]) * 32, i % 11) for i in range(40)]
    salts = derive_salts(key, PATIENT, records)
    assert salts == [derive_salt(key, PATIENT, h, c) for h, c in records]
    assert patient_commitments(PATIENT, salts) == [patient_commitment(PATIENT, s) for s in salts]
    assert derive_salts(key, PATIENT, []) == [] == patient_commitments(PATIENT, [])
    with pytest.raises(InputError, match="32 bytes, not 31"):
        derive_salts(key[:31], PATIENT, records)
    with pytest.raises(InputError, match="not an address"):
        patient_commitments("0x12", salts)
    with pytest.raises(InputError, match="salt must be 32 bytes"):
        patient_commitments(PATIENT, [b"\x01" * 31])
