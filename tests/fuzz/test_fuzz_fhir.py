"""Fuzzing record hashing (medchain.hashing.hash_bytes / hash_file, `medchain records hash|anchor`): random
bytes, truncated valid FHIR JSON, FHIR JSON with wrong types, JSON that RFC 8785 cannot represent. A record
hashes or is refused with one line; a refused record journals nothing."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import pytest
from fuzzkit import call, fuzz, json_values, mutate_json, mutate_text, rejected, run, unchanged
from hypothesis import given
from hypothesis import strategies as st

from medchain.errors import MedchainError
from medchain.hashing import METHOD_BYTES, METHOD_FHIR, HashResult, hash_bytes, hash_file

MODES = ("auto", "json", "fhir", "raw")
PATIENT = "0x" + "ab" * 20
DEAD_RPC = "http://127.0.0.1:9"  # nothing listens there: a record that hashes fails at the connection

OBSERVATION = {
    "resourceType": "Observation",
    "id": "hb-1",
    "meta": {"versionId": "3", "lastUpdated": "2026-01-02T03:04:05Z"},
    "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Hb</div>'},
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "718-7", "display": "Hemoglobin"}]},
    "subject": {"reference": "Patient/p1"},
    "effectiveDateTime": "2026-01-02T03:04:05Z",
    "valueQuantity": {"value": 13.5, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"},
}
PATIENT_RESOURCE = {
    "resourceType": "Patient",
    "id": "p1",
    "active": True,
    "name": [{"family": "张", "given": ["三"]}],
    "gender": "male",
    "birthDate": "1980-02-29",
}
BUNDLE = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": OBSERVATION}]}
RESOURCES = st.sampled_from([OBSERVATION, PATIENT_RESOURCE, BUNDLE])
#: JSON texts RFC 8785 (or strict JSON) refuses, spliced into documents
UNREPRESENTABLE = st.sampled_from(
    ["NaN", "Infinity", "-Infinity", "9007199254740993", "1e400", '"\\ud800"', '"\\udfff x"', "-0"]
)



def check(result: HashResult | MedchainError, data: bytes, mode: str) -> None:
    if isinstance(result, MedchainError):
        assert mode != "raw", "raw hashing never refuses bytes"
        return
    assert len(result.record_hash) == 32 and result.size == len(data)
    assert result.method in (METHOD_BYTES, METHOD_FHIR)
    if mode == "fhir":
        assert result.method == METHOD_FHIR and result.resource_type
    if mode == "raw":
        assert result.method == METHOD_BYTES
    again = hash_bytes(data, mode=mode)  # deterministic, and validation never changes the hash
    assert (again.record_hash, again.method) == (result.record_hash, result.method)


@fuzz(300)
@given(data=st.binary(max_size=200), mode=st.sampled_from(MODES))
def test_random_bytes(data: bytes, mode: str) -> None:
    check(call(hash_bytes, data, mode=mode), data, mode)


@fuzz(150)
@given(resource=RESOURCES, cut=st.floats(0, 1), mode=st.sampled_from(MODES))
def test_truncated_fhir_json(resource: dict, cut: float, mode: str) -> None:
    text = json.dumps(resource, ensure_ascii=False).encode()
    data = text[: int(len(text) * cut)]
    result = call(hash_bytes, data, mode=mode)
    check(result, data, mode)
    if mode in ("json", "fhir") and data != text:
        assert isinstance(result, MedchainError), "truncated JSON must not hash as JSON"


@fuzz(250)
@given(data=st.data(), resource=RESOURCES, mode=st.sampled_from(("auto", "json", "fhir")))
def test_fhir_with_wrong_types(data: st.DataObject, resource: dict, mode: str) -> None:
    """Structure edits (a value of another type, a missing or extra key, resourceType not a string), then the
    structure validation too on some examples."""
    doc = mutate_json(data.draw, resource)
    raw = json.dumps(doc, ensure_ascii=data.draw(st.booleans())).encode()
    validate = data.draw(st.integers(0, 4)) == 0  # fhir.resources is slower: one example in five
    check(call(hash_bytes, raw, mode=mode, validate=validate), raw, mode)


@fuzz(200)
@given(data=st.data(), resource=RESOURCES, mode=st.sampled_from(MODES))
def test_fhir_text_edits_and_unrepresentable_json(data: st.DataObject, resource: dict, mode: str) -> None:
    text = json.dumps(resource)
    if data.draw(st.booleans()):  # splice a value JCS or strict JSON refuses, or a duplicate key
        value = data.draw(UNREPRESENTABLE | st.just('"x", "id": "dup"'))
        text = text[:-1] + f', "extension": {value}}}'
    else:
        text = mutate_text(data.draw, text, st.sampled_from(list('{}[]":,\\ 0123456789eE.-+nulltrfase')))
    raw = text.encode("utf-8", "surrogatepass")
    check(call(hash_bytes, raw, mode=mode), raw, mode)


@fuzz(100)
@given(doc=json_values, mode=st.sampled_from(MODES))
def test_any_json_document(doc: object, mode: str) -> None:
    raw = json.dumps(doc).encode()
    check(call(hash_bytes, raw, mode=mode), raw, mode)


@fuzz(60)
@given(resource=RESOURCES, seed=st.integers(0, 2**32 - 1))
def test_fhir_hash_ignores_layout_key_order_text_and_meta(resource: dict, seed: int) -> None:
    """Not a robustness property but the one the fuzz inputs lean on: the FHIR hash is the canonical
    JSON's."""
    rng = random.Random(seed)
    shuffled = _shuffle(resource, rng)
    shuffled["meta"] = {"versionId": str(rng.randint(1, 99))}
    layout = json.dumps(shuffled, indent=rng.choice([None, 1, 4]), ensure_ascii=rng.random() < 0.5)
    assert (
        hash_bytes(layout.encode(), mode="fhir").record_hash
        == hash_bytes(json.dumps(resource).encode(), mode="fhir").record_hash
    )


def _shuffle(value: object, rng: random.Random) -> object:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffle(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffle(v, rng) for v in value]
    return value


# ---- files and the CLI ----


@fuzz(30)
@given(data=st.data(), resource=RESOURCES, suffix=st.sampled_from([".json", ".txt", ".xml", ""]))
def test_hash_file_and_cli_hash(data: st.DataObject, resource: dict, suffix: str) -> None:
    """`hash_file` and `medchain records hash FILE --mode M` agree; a refused file is one line, exit 1."""
    text = mutate_text(data.draw, json.dumps(resource), st.characters(max_codepoint=0x7F))
    raw = text.encode()
    mode = data.draw(st.sampled_from(MODES))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"record{suffix}"
        path.write_bytes(raw)
        expected = call(hash_file, path, mode=mode)
        with unchanged(Path(tmp)):
            out = run("--json", "records", "hash", f"--mode={mode}", "--", str(path))
        if isinstance(expected, MedchainError):
            assert str(expected) in rejected(out)
        else:
            assert out.ok, out
            (row,) = out.json()
            assert row["recordHash"] == expected.hex and row["method"] == expected.method


@fuzz(25)
@given(data=st.data(), resource=RESOURCES)
def test_cli_anchor_refuses_bad_fhir_before_touching_the_store(data: st.DataObject, resource: dict) -> None:
    """`medchain records anchor FILE --mode fhir`: a refused file is one line and no store or journal appears
    (the node is unreachable on purpose: a file that hashes gets as far as the connection, still writing
    nothing)."""
    doc = mutate_json(data.draw, resource)
    raw = json.dumps(doc).encode() if data.draw(st.booleans()) else json.dumps(doc).encode()[:-1]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = home / "record.json"
        path.write_bytes(raw)
        expected = call(hash_file, path, mode="fhir")
        store = f"--store={home / 'store.sqlite'}"
        args = ["--rpc-url", DEAD_RPC, "--account", "3", "records", "anchor", "--mode=fhir",
                f"--patient={PATIENT}", "--class=LAB", store, "--", str(path)]  # fmt: skip
        with unchanged(home):
            line = rejected(run(*args, env={"MEDCHAIN_HOME": str(home / "state")}))
        if isinstance(expected, MedchainError):
            assert str(expected) in line
        else:
            assert "cannot reach an EVM node" in line


# ---- regressions of findings (each was a crash or a wrong result before it was fixed) ----


@pytest.mark.parametrize("mode", ["auto", "json", "fhir"])
def test_h1_deeply_nested_json_is_an_input_error(mode: str) -> None:
    data = b'{"resourceType": "Observation", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert isinstance(call(hash_bytes, data, mode=mode), MedchainError)
