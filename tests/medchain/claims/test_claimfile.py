"""medchain.claimfile: the claim JSON/CSV schema. Pure Python, no chain. Every malformed input is reported
with its file, claim/row and field path; one bad claim never hides the good ones."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from medchain.claimfile import ClaimFileError, load_claims, load_file, parse_claims, parse_csv
from medchain.errors import InputError

H1, H2, H3 = "0x" + "11" * 32, "0x" + "33" * 32, "0x" + "55" * 32
SALT = "0x" + "22" * 32


def claim(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "reference": "HOSP-A-2026-000123",
        "policyId": 7,
        "amount": "1234.50",
        "currency": "tCNY",
        "invoiceNumber": "INV-2026-0001",
        "evidence": [{"recordHash": H1, "salt": SALT, "dataClass": "LAB"}],
    }
    return base | overrides


def problems(data: Any, source: str = "c.json") -> list[str]:
    return [str(p) for p in parse_claims(data, source).problems]


# ---- valid input ----


def test_valid_claim_is_normalised() -> None:
    (entry,) = parse_claims(claim(), "c.json").entries
    c = entry.claim
    assert entry.source == "c.json"
    assert (c.reference, c.policy_id, c.amount, c.currency) == (
        "HOSP-A-2026-000123",
        7,
        Decimal("1234.50"),
        "tCNY",
    )
    assert c.evidence[0].as_arg() == (bytes.fromhex("11" * 32), bytes.fromhex("22" * 32), 3)


def test_snake_case_and_numeric_class_accepted() -> None:
    data = {
        "reference": "R",
        "policy_id": 1,
        "amount": 5,
        "currency": "tCNY",
        "evidence": [{"record_hash": H1, "salt": SALT, "data_class": 4}],
    }
    (entry,) = parse_claims(data, "c.json").entries
    assert entry.claim.evidence[0].data_class == 4
    assert entry.claim.amount == 5


def test_amount_units_use_token_decimals() -> None:
    c = parse_claims(claim(amount="1234.5"), "c.json").entries[0].claim
    assert c.amount_units(2) == 123_450
    assert c.amount_units(18) == 1234_500_000_000_000_000_000


def test_amount_with_more_decimals_than_token_is_an_input_error() -> None:
    c = parse_claims(claim(amount="1.005"), "c.json").entries[0].claim
    with pytest.raises(InputError, match="more than 2 decimal places"):
        c.amount_units(2)


def test_invoice_number_is_only_kept_as_hash() -> None:
    c = parse_claims(claim(), "c.json").entries[0].claim
    assert c.invoice_hash == keccak(text="INV-2026-0001")
    assert c.claim_ref == keccak(text="HOSP-A-2026-000123")
    assert parse_claims(claim(invoiceNumber=None), "c.json").entries[0].claim.invoice_hash == bytes(32)
    assert "INV-2026-0001" not in c.fingerprint()


def test_fingerprint_changes_with_content_not_with_spelling() -> None:
    a = parse_claims(claim(), "a.json").entries[0].claim
    b = parse_claims(claim(amount="1234.5", currency="TCNY"), "b.json").entries[0].claim
    c = parse_claims(claim(amount="1234.51"), "c.json").entries[0].claim
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_list_and_claims_wrapper() -> None:
    two = [claim(reference="A"), claim(reference="B")]
    assert [e.source for e in parse_claims(two, "m.json").entries] == ["m.json [0]", "m.json [1]"]
    assert len(parse_claims({"claims": two}, "m.json").entries) == 2


def test_data_classes_bitmap() -> None:
    ev = [
        {"recordHash": H1, "salt": SALT, "dataClass": "LAB"},
        {"recordHash": H2, "salt": SALT, "dataClass": "IMAGING"},
    ]
    assert parse_claims(claim(evidence=ev), "c.json").entries[0].claim.data_classes == (1 << 3) | (1 << 4)


# ---- malformed input: each problem named with its path ----


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"policyId": 0}, "c.json: policyId: Input should be greater than or equal to 1"),
        (
            {"policyId": "seven"},
            "c.json: policyId: Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            {"amount": 12.5},
            'c.json: amount: give the amount as a string (e.g. "1234.50") so no digit is lost',
        ),
        ({"amount": "-3"}, 'c.json: amount: must be a positive decimal number like "1234.50"'),
        ({"amount": "0.00"}, "c.json: amount: must be more than 0"),
        ({"amount": "1,000"}, 'c.json: amount: must be a positive decimal number like "1234.50"'),
        ({"reference": ""}, "c.json: reference: String should have at least 1 character"),
        ({"holder": "0x1234"}, "c.json: holder: is not a 20-byte hex address"),
        ({"evidence": []}, "c.json: evidence: List should have at least 1 item after validation, not 0"),
        ({"colour": "red"}, "c.json: colour: unknown field (check the spelling)"),
    ],
)
def test_claim_field_problems(overrides: dict[str, Any], expected: str) -> None:
    assert problems(claim(**overrides)) == [expected]


def test_missing_fields_each_reported() -> None:
    data = claim()
    del data["currency"], data["policyId"]
    assert problems(data) == ["c.json: policyId: is required", "c.json: currency: is required"]


HEX32 = "must be 0x followed by 64 hex digits (32 bytes)"


def ev(**overrides: Any) -> dict[str, Any]:
    return {"recordHash": H1, "salt": SALT, "dataClass": "LAB"} | overrides


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (ev(recordHash="0x12"), f"evidence[0].recordHash: {HEX32}"),
        (ev(salt="22" * 32), f"evidence[0].salt: {HEX32}"),
        (ev(recordHash="0x" + "00" * 32), "evidence[0].recordHash: must not be zero"),
        (ev(dataClass="XRAY"), "evidence[0].dataClass: unknown data class 'XRAY'"),
        (ev(dataClass=11), "evidence[0].dataClass: unknown data class 11"),
        ({"recordHash": H1, "salt": SALT}, "evidence[0].dataClass: is required"),
        (ev(patient="x"), "evidence[0].patient: unknown field"),
    ],
)
def test_evidence_field_problems(item: dict[str, Any], expected: str) -> None:
    (problem,) = problems(claim(evidence=[item]))
    assert problem.startswith("c.json: " + expected)


def test_second_evidence_item_path() -> None:
    ev = [
        {"recordHash": H1, "salt": SALT, "dataClass": "LAB"},
        {"recordHash": H2, "salt": "0x1", "dataClass": "LAB"},
    ]
    assert problems(claim(evidence=ev)) == [
        "c.json: evidence[1].salt: must be 0x followed by 64 hex digits (32 bytes)"
    ]


def test_same_record_twice_in_a_claim() -> None:
    ev = [{"recordHash": H1, "salt": SALT, "dataClass": "LAB"}] * 2
    assert problems(claim(evidence=ev)) == ["c.json: evidence[1].recordHash: same record as evidence[0]"]


def test_too_much_evidence() -> None:
    ev = [{"recordHash": "0x" + f"{i + 1:064x}", "salt": SALT, "dataClass": "LAB"} for i in range(33)]
    assert problems(claim(evidence=ev)) == [
        "c.json: evidence: List should have at most 32 items after validation, not 33"
    ]


def test_bad_claim_in_a_list_does_not_hide_the_good_ones() -> None:
    result = parse_claims([claim(reference="A"), claim(reference="B", amount="x")], "m.json")
    assert [e.claim.reference for e in result.entries] == ["A"]
    assert [str(p) for p in result.problems] == [
        'm.json [1]: amount: must be a positive decimal number like "1234.50"'
    ]


@pytest.mark.parametrize("data", [42, [], "claim", {"claims": "x"}])
def test_wrong_top_level_shapes(data: Any) -> None:
    (problem,) = problems(data)
    assert "expected a claim object" in problem or "must be a JSON object" in problem


# ---- files ----


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"reference": "A",\n  "policyId": 1,,\n}')
    (problem,) = load_file(path).problems
    assert str(problem).startswith("broken.json: invalid JSON at line 2 column")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"reference": "\xe9"}')
    assert [str(p) for p in load_file(path).problems] == ["latin1.json: is not UTF-8 text"]


def test_directory_mixes_good_and_bad_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(claim(reference="A")))
    (tmp_path / "b.json").write_text(json.dumps(claim(reference="B", policyId=-1)))
    (tmp_path / "c.json").write_text("not json")
    (tmp_path / "notes.txt").write_text("ignored")
    result = load_claims([tmp_path])
    assert [e.claim.reference for e in result.entries] == ["A"]
    assert [p.source for p in result.problems] == ["b.json", "c.json"]
    with pytest.raises(ClaimFileError, match="b.json: policyId"):
        result.raise_if_problems()


def test_reference_reused_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(claim(reference="SAME")))
    (tmp_path / "b.json").write_text(json.dumps(claim(reference="SAME", amount="1")))
    result = load_claims([tmp_path])
    assert [e.source for e in result.entries] == ["a.json"]
    assert [str(p) for p in result.problems] == ["b.json: reference: 'SAME' is already used by a.json"]


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    result = load_claims([tmp_path / "nope.json", tmp_path])
    assert [p.message for p in result.problems] == [
        "no such file or directory",
        "no .json or .csv claim files here",
    ]


# ---- CSV ----

HEADER = "reference,policyId,amount,currency,invoiceNumber,recordHash,salt,dataClass\n"


def test_csv_rows_group_into_claims() -> None:
    text = HEADER + (
        f"A,1,10.00,tCNY,INV-1,{H1},{SALT},LAB\nA,,,,,{H2},{SALT},IMAGING\nB,2,5,tCNY,,{H3},{SALT},3\n"
    )
    result = parse_csv(text, "batch.csv")
    assert not result.problems
    assert [(e.source, e.claim.reference, len(e.claim.evidence)) for e in result.entries] == [
        ("batch.csv rows 2-3", "A", 2),
        ("batch.csv row 4", "B", 1),
    ]
    assert result.entries[0].claim.invoice_hash == keccak(text="INV-1")


def test_csv_problem_points_at_row_and_column() -> None:
    text = HEADER + f"A,1,10.00,tCNY,,{H1},{SALT},LAB\nA,,,,,{H2},0xbad,LAB\nB,2,5,tCNY,,{H3},{SALT},LAB\n"
    result = parse_csv(text, "batch.csv")
    assert [e.claim.reference for e in result.entries] == ["B"]
    assert [str(p) for p in result.problems] == [
        "batch.csv row 3: salt: must be 0x followed by 64 hex digits (32 bytes)"
    ]


def test_csv_conflicting_claim_columns() -> None:
    text = HEADER + f"A,1,10.00,tCNY,,{H1},{SALT},LAB\nA,2,,,,{H2},{SALT},LAB\n"
    result = parse_csv(text, "batch.csv")
    assert not result.entries
    assert [str(p) for p in result.problems] == [
        "batch.csv row 3: policyId: '2' differs from '1' given earlier for reference 'A'"
    ]


def test_csv_header_problems() -> None:
    result = parse_csv("reference,policy,amount,recordHash,salt\n", "x.csv")
    assert [str(p) for p in result.problems] == [
        "x.csv: header: unknown column 'policy'; missing column 'dataClass'"
    ]


def test_csv_snake_case_header_and_missing_reference() -> None:
    text = (
        "reference,policy_id,amount,currency,record_hash,salt,data_class\n" + f",1,1,tCNY,{H1},{SALT},LAB\n"
    )
    assert [str(p) for p in parse_csv(text, "x.csv").problems] == ["x.csv row 2: reference: is required"]


def test_csv_via_load_file(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(HEADER + f"A,1,10.00,tCNY,,{H1},{SALT},LAB\n")
    assert [e.claim.reference for e in load_file(path).entries] == ["A"]
