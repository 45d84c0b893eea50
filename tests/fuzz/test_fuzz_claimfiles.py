"""Fuzzing claim files (medchain.claimfile and `medchain claims submit`): any JSON value, valid claims with a
structural edit, valid CSV files with text edits, random bytes as .json/.csv files, and the amount field.

Properties: validation never raises (problems are collected, one line each, and a bad claim never blocks a
good one); every claim that validates satisfies the on-chain limits; `claims submit` on such files exits 0/1
with JSON results, journals nothing for a claim it does not submit, and creates no store when no claim
validated. The fuzz chain has no policy, so every claim that validates is refused by the pre-flight checks and
nothing is ever sent."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from fuzzkit import (
    NOT_DECIMAL_DIGITS,
    Deployed,
    db_content,
    fuzz,
    json_values,
    mutate_json,
    mutate_text,
    one_line,
    run,
    tree,
)
from hypothesis import given
from hypothesis import strategies as st

from medchain.claimfile import (
    CLAIM_COLUMNS,
    EVIDENCE_COLUMNS,
    MAX_EVIDENCE,
    LoadResult,
    load_claims,
    load_file,
    parse_claims,
    parse_csv,
)
from medchain.claims import ClaimJournal
from medchain.codes import DATA_CLASSES
from medchain.store import open_store

SAFE_TEXT = st.characters(blacklist_categories=("Cs",))
CSV_NOISE = (
    st.sampled_from(list(',"\n\r;0123456789.x-') + ["0x", "LAB", "\ufeff", "\x00", "\u2028"])
    | st.sampled_from(NOT_DECIMAL_DIGITS[:32])
    | SAFE_TEXT
)

hex32 = st.binary(min_size=32, max_size=32).filter(any).map(lambda b: "0x" + b.hex())
addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)
amounts = st.from_regex(r"\A[1-9][0-9]{0,6}(\.[0-9]{1,2})?\Z")
references = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30).filter(
    lambda s: bool(s.strip())
)


@st.composite
def evidence(draw: st.DrawFn) -> dict[str, Any]:
    klass = draw(st.sampled_from(sorted(DATA_CLASSES)))
    return {
        "recordHash": draw(hex32),
        "salt": draw(hex32),
        "dataClass": klass if draw(st.booleans()) else DATA_CLASSES[klass],
    }


@st.composite
def claims(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "reference": draw(references),
        "policyId": draw(st.integers(1, 2**64 - 1)),
        "amount": draw(amounts),
        "currency": "tCNY",
        "evidence": draw(st.lists(evidence(), min_size=1, max_size=3, unique_by=lambda e: e["recordHash"])),
    }
    if draw(st.booleans()):
        doc["invoiceNumber"] = draw(references)
    if draw(st.booleans()):
        doc["holder"] = draw(addresses)
    return doc


def to_csv(docs: list[dict[str, Any]], snake: bool) -> str:
    columns = [*CLAIM_COLUMNS, *EVIDENCE_COLUMNS]
    names = [_snake(c) if snake else c for c in columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for doc in docs:
        for i, ev in enumerate(doc["evidence"]):
            claim = [doc.get(c, "") if i == 0 else "" for c in CLAIM_COLUMNS]
            claim[0] = doc["reference"]
            writer.writerow([*claim, ev["recordHash"], ev["salt"], ev["dataClass"]])
    return out.getvalue()


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def check(result: LoadResult) -> None:
    """Problems are one line each; every accepted claim keeps the on-chain limits."""
    assert isinstance(result, LoadResult)
    for problem in result.problems:
        one_line(str(problem))
    for entry in result.entries:
        c = entry.claim
        assert c.reference.strip() == c.reference and 1 <= len(c.reference) <= 128
        assert 1 <= c.policy_id < 2**64
        assert isinstance(c.amount, Decimal) and c.amount > 0
        assert 1 <= len(c.evidence) <= MAX_EVIDENCE
        assert len({e.record_hash for e in c.evidence}) == len(c.evidence)
        assert all(
            len(e.record_hash) == 32 and any(e.record_hash) and 0 <= e.data_class <= 10 for e in c.evidence
        )
        assert len(c.claim_ref) == len(c.invoice_hash) == 32 and c.fingerprint().startswith("0x")




# ---- library ----


@fuzz(150)
@given(doc=claims())
def test_valid_claims_validate(doc: dict[str, Any]) -> None:
    result = parse_claims(doc, "claim.json")
    assert not result.problems, result.problems
    check(result)
    csv_result = parse_csv(to_csv([doc], snake=False), "claims.csv")
    assert not csv_result.problems, csv_result.problems
    assert [e.claim for e in csv_result.entries] == [e.claim for e in result.entries]


@fuzz(300)
@given(doc=json_values)
def test_any_json_value(doc: Any) -> None:
    check(parse_claims(doc, "claim.json"))
    check(parse_claims({"claims": doc}, "claim.json"))


@fuzz(200)
@given(data=st.data(), docs=st.lists(claims(), min_size=1, max_size=3))
def test_mutated_json_claims(data: st.DataObject, docs: list[dict[str, Any]]) -> None:
    shape = data.draw(st.sampled_from(["one", "list", "wrapped"]))
    doc: Any = docs[0] if shape == "one" else docs if shape == "list" else {"claims": docs}
    for _ in range(data.draw(st.integers(1, 3))):
        doc = mutate_json(data.draw, doc)
    check(parse_claims(doc, "claim.json"))


@fuzz(200)
@given(data=st.data(), docs=st.lists(claims(), min_size=1, max_size=3), snake=st.booleans())
def test_mutated_csv_claims(data: st.DataObject, docs: list[dict[str, Any]], snake: bool) -> None:
    text = mutate_text(data.draw, to_csv(docs, snake), CSV_NOISE)
    check(parse_csv(text, "claims.csv"))


@fuzz(200)
@given(data=st.data(), doc=claims())
def test_amount_field(data: st.DataObject, doc: dict[str, Any]) -> None:
    """Amounts of any JSON type and any text; an accepted one is a positive decimal that a CSV carries too."""
    doc["amount"] = data.draw(
        json_values
        | st.from_regex(r"\A[-+ ]?[0-9]{0,30}([.,][0-9]{0,30})?([eE][-+]?[0-9]{1,4})? ?\Z")
        | st.text(SAFE_TEXT, max_size=12)
    )
    result = parse_claims(doc, "claim.json")
    check(result)
    if isinstance(doc["amount"], str) and "\n" not in doc["amount"] and "\r" not in doc["amount"]:
        check(parse_csv(to_csv([doc], snake=True), "claims.csv"))


@fuzz(150)
@given(
    raw=st.binary(max_size=300) | st.text(SAFE_TEXT, max_size=300).map(str.encode),
    suffix=st.sampled_from([".json", ".csv", ".JSON"]),
)
def test_random_bytes_as_claim_files(raw: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"claims{suffix}"
        path.write_bytes(raw)
        check(load_file(path))
        check(load_claims([path, Path(tmp), Path(tmp) / "missing.json"]))


# ---- the CLI ----


@fuzz(20)
@given(data=st.data(), docs=st.lists(claims(), min_size=1, max_size=2), fmt=st.sampled_from(["json", "csv"]))
def test_cli_submit_never_journals_what_it_does_not_submit(
    deployed: Deployed, data: st.DataObject, docs: list[dict[str, Any]], fmt: str
) -> None:
    doc: Any = None
    if fmt == "json":
        doc = mutate_json(data.draw, docs if len(docs) > 1 else docs[0])
        text = json.dumps(doc)
    else:
        text = mutate_text(data.draw, to_csv(docs, snake=False), CSV_NOISE)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        (root / "in" / f"claims.{fmt}").write_text(text, encoding="utf-8", errors="surrogatepass")
        store = root / "store.sqlite"
        validated = load_claims([root / "in"]).entries
        head, before = deployed.head, tree(root)
        out = run(*deployed.base(), "--json", "claims", "submit", f"--store={store}", "--", str(root / "in"))
        assert out.exit_code in (0, 1) and len([ln for ln in out.stderr.splitlines() if ln.strip()]) <= 1, out
        results = out.json()
        assert {r["outcome"] for r in results} <= {"invalid", "refused"}, results
        assert out.exit_code == 1
        assert deployed.head == head, "a transaction was sent"
        if not validated:  # nothing valid: the store is not even opened
            assert tree(root) == before
        else:
            assert set(tree(root)) - set(before) <= {"store.sqlite", "store.sqlite-wal", "store.sqlite-shm"}
            journal = ClaimJournal(
                open_store(store), deployed.w3.to_checksum_address(_claims_address(deployed))
            )
            assert journal.rows() == []
            journal.conn.close()


def _claims_address(deployed: Deployed) -> str:
    return str(json.loads(deployed.manifest.read_text())["contracts"]["ClaimsManager"]["address"])


def test_cli_submit_of_invalid_files_leaves_an_existing_store_as_it_was(
    deployed: Deployed, tmp_path: Path
) -> None:
    store = tmp_path / "store.sqlite"
    ClaimJournal(open_store(store), _claims_address(deployed)).conn.close()
    (tmp_path / "bad.json").write_text('{"reference": "X", "policyId": 1,')
    before = db_content(store)
    out = run(*deployed.base(), "--json", "claims", "submit", f"--store={store}", str(tmp_path / "bad.json"))
    assert out.exit_code == 1 and out.json()[0]["outcome"] == "invalid"
    assert db_content(store) == before


# ---- regressions of findings (each was a crash or a wrong result before it was fixed) ----


def reported(result: LoadResult) -> list[str]:
    """The problems of a file that must be refused (checked as :func:`check` does): no claim got through."""
    check(result)
    assert result.entries == [], "a claim was accepted from a file that has a problem"
    return [str(p) for p in result.problems]


def test_f1_superscript_policy_id_in_csv_is_a_problem_not_a_crash() -> None:
    header = "reference,policyId,amount,currency,recordHash,salt,dataClass\n"
    text = header + f"R,²,1.00,tCNY,0x{'11' * 32},0x{'22' * 32},LAB\n"
    assert reported(parse_csv(text, "claims.csv")) == [
        "claims.csv row 2: policyId: Input should be a valid integer, unable to parse string as an integer"
    ]


def test_f2_oversized_csv_field_is_a_problem_not_a_crash() -> None:
    text = "reference,recordHash,salt,dataClass\n" + "R" * 200_000 + ",1,2,3\n"
    assert reported(parse_csv(text, "claims.csv")) == [
        "claims.csv: unreadable CSV: field larger than field limit (131072)"
    ]


def test_f3_deeply_nested_json_claim_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    assert reported(load_file(tmp_path / "deep.json")) == ["deep.json: JSON nested deeper than 100 levels"]


def test_f4_problem_for_an_unknown_key_with_a_line_break_is_one_line() -> None:
    check(parse_claims({"reference\nforged: ok": 1}, "claim.json"))
