"""`medchain records ...` through the root CLI (CliRunner, in process) on a real Anvil."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from eth_account import Account
from test_records_service import PATIENT, PATIENT_KEY, Env, make_files
from test_records_service import env as env  # noqa: F401 - a fixture, re-exported for this module
from typer.testing import CliRunner
from web3 import Web3

from medchain import tx
from medchain.cli import MedchainGroup
from medchain.cli import records as records_cli
from medchain.cli import root as root_callback
from medchain.timefmt import iso


def _app() -> typer.Typer:
    """The root app's options and error handling, with the records group."""
    app = typer.Typer(cls=MedchainGroup, pretty_exceptions_enable=False)
    app.callback()(root_callback)
    app.add_typer(records_cli.app, name="records")
    return app


class Records:
    def __init__(self, env: Env, store: Path) -> None:
        self.env, self.store, self.app, self.runner = env, store, _app(), CliRunner()

    def __call__(self, *args: str, account: str = "3") -> Any:
        base = ["--rpc-url", self.env.node.url, "--manifest", str(self.env.manifest), "--account", account]
        return self.runner.invoke(self.app, [*base, "records", *args], catch_exceptions=False)

    def json(self, *args: str, account: str = "3") -> Any:
        result = self(*args, "--json", account=account)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def fails(self, *args: str) -> str:
        result = self(*args)
        assert result.exit_code == 1, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        return lines[0]


@pytest.fixture
def cli(env: Env, tmp_path: Path) -> Records:  # noqa: F811 - the imported fixture
    return Records(env, tmp_path / "store.sqlite")


def test_hash_reports_the_method(cli: Records, tmp_path: Path) -> None:
    (tmp_path / "obs.json").write_text(
        '{"resourceType": "Observation", "status": "final", "text": {"div": "x"}}'
    )
    (tmp_path / "scan.bin").write_bytes(b"\x00\x01")
    out = cli.json("hash", str(tmp_path / "obs.json"), str(tmp_path / "scan.bin"))
    assert [r["method"] for r in out] == ["sha256+fhir-jcs-static", "sha256"]
    assert out[0]["resourceType"] == "Observation"


def test_batch_verify_proof_and_evidence(cli: Records, tmp_path: Path) -> None:
    files = make_files(tmp_path / "in", 16, "cli")
    store = str(cli.store)
    out = cli.json("batch", str(tmp_path / "in"), "--patient", PATIENT, "--class", "LAB", "--store", store)
    (sub,) = out["submissions"]
    assert sub["status"] == "done" and sub["records"] == 16
    again = cli.json("batch", str(tmp_path / "in"), "--patient", PATIENT, "--class", "LAB", "--store", store)
    assert again["skipped"] == 16 and again["submissions"] == []
    status = cli.json("verify", str(files[3]), "--store", store)
    assert status["anchored"] and status["origin"] == "batch" and status["proofValid"] is True
    assert status["batchRoot"] == sub["root"]
    evidence_file = tmp_path / "evidence.json"
    evidence = cli.json("proof", str(files[3]), "--out", str(evidence_file), "--store", store)
    assert json.loads(evidence_file.read_text()) == evidence
    assert evidence["commitmentOpening"] is None
    assert {"recordHash", "hashMethod"} <= set(evidence["record"])
    assert {"root", "proof", "treeIndex"} <= set(evidence["anchor"]["batch"])
    assert {"txHash", "blockNumber", "blockTimestamp"} <= set(evidence["anchor"])
    checked = cli.json("verify-evidence", str(evidence_file), "--file", str(files[3]))
    assert checked["ok"] and all(c["ok"] for c in checked["checks"])


def test_tampered_evidence_fails_with_one_line(cli: Records, tmp_path: Path) -> None:
    files = make_files(tmp_path / "in", 4, "tamper")
    store = str(cli.store)
    cli.json("batch", str(tmp_path / "in"), "--patient", PATIENT, "--class", "LAB", "--store", store)
    evidence_file = tmp_path / "evidence.json"
    cli.json("proof", str(files[0]), "--out", str(evidence_file), "--store", store, "--reveal")
    evidence = json.loads(evidence_file.read_text())
    evidence["record"]["dataClass"] = 4
    evidence_file.write_text(json.dumps(evidence))
    assert "evidence does not hold: leaf" in cli.fails("verify-evidence", str(evidence_file))


def test_anchor_amend_lineage_and_journal(cli: Records, tmp_path: Path) -> None:
    v1, v2, v3 = make_files(tmp_path / "in", 3, "lin")
    store = str(cli.store)
    cli.json("anchor", str(v1), "--patient", PATIENT, "--class", "IMAGING", "--store", store)
    cli.json(
        "anchor", str(v2), "--patient", PATIENT, "--class", "IMAGING", "--amends", str(v1), "--store", store
    )
    cli.json(
        "anchor", str(v3), "--patient", PATIENT, "--class", "IMAGING", "--amends", str(v2), "--store", store
    )
    chain = cli.json("lineage", str(v2), "--store", store)
    assert [v["version"] for v in chain] == [1, 2, 3] and [v["this"] for v in chain] == [False, True, False]
    assert cli.json("verify", str(v1), "--store", store)["supersededBy"] == chain[1]["leaf"]
    kinds = [s["kind"] for s in cli.json("journal", "--store", store)]
    assert kinds == ["records", "amend", "amend"]
    assert "RecordAlreadySuperseded" in cli.fails(
        "anchor", str(tmp_path / "in" / "lin-0002.txt"), "--patient", PATIENT, "--class", "LAB",
        "--amends", str(v1), "--store", store, "--force",
    )  # fmt: skip


def test_access_log_and_list(cli: Records, env: Env, tmp_path: Path) -> None:  # noqa: F811
    patient = Account.from_key(PATIENT_KEY)
    (path,) = make_files(tmp_path / "in", 1, "access")
    store = str(cli.store)
    cli.json("anchor", str(path), "--patient", patient.address, "--class", "LAB", "--store", store)
    denied = cli.fails("access", "log", str(path), "--purpose", "TREATMENT", "--store", store)
    assert denied.startswith("error: RecordAccessNotPermitted(patient=")
    env.w3.eth.send_transaction({"from": env.council, "to": patient.address, "value": 10**18})
    tx.forget_nonces()  # the local nonce cache may hold this key's nonce from another Anvil (same chain id)
    tx.send(env.w3, env.suite.consent.functions.grant(env.hospital, 1, 1 << 3, 0, 0), patient)
    logged = cli.json("access", "log", str(path), "--purpose", "TREATMENT", "--store", store)
    assert logged["purpose"] == "TREATMENT" and logged["accessor"] == env.hospital
    listed = cli.json("access", "list", "--patient", patient.address, "--store", store)
    assert listed[-1]["txHash"] == logged["txHash"]


def test_salt_key_init_export_import(cli: Records, tmp_path: Path) -> None:
    (path,) = make_files(tmp_path / "in", 1, "salt key")
    store = str(cli.store)
    assert cli.json("key", "init", "--store", store)["created"] is True
    assert "already has a salt key" in cli.fails("key", "init", "--store", store)
    cli.json("anchor", str(path), "--patient", PATIENT, "--class", "LAB", "--store", store)
    backup = tmp_path / "key.json"
    assert cli.json("key", "export", "--out", str(backup), "--store", store)["file"] == str(backup)
    fresh = str(tmp_path / "restored.sqlite")
    assert cli.json("key", "import", str(backup), "--store", fresh)["imported"] is True
    assert cli.json("key", "import", str(backup), "--store", fresh)["imported"] is False
    other = str(tmp_path / "other.sqlite")
    assert "belongs to hospital" in cli("key", "import", str(backup), "--store", other, account="4").stderr


def test_another_hospital_opens_one_batch_record_from_its_evidence(
    cli: Records,
    env: Env,
    tmp_path: Path,  # noqa: F811
) -> None:
    patient = Account.from_key(PATIENT_KEY)
    files = make_files(tmp_path / "in", 3, "exchange")
    store_a, store_b = str(cli.store), str(tmp_path / "b.sqlite")
    cli.json(
        "batch", str(tmp_path / "in"), "--patient", patient.address, "--class", "IMAGING", "--store", store_a
    )
    evidence = tmp_path / "evidence.json"
    cli.json("proof", str(files[1]), "--out", str(evidence), "--reveal", "--store", store_a)
    assert cli.fails("verify", str(files[1]), "--store", store_b).startswith(
        "error: "
    )  # batch: not findable yet
    denied = cli("access", "log", "--evidence", str(evidence), "--purpose", "TREATMENT", "--store", store_b,
                 account="4")  # fmt: skip
    assert denied.exit_code == 1 and "RecordAccessNotPermitted" in denied.stderr
    env.w3.eth.send_transaction({"from": env.council, "to": patient.address, "value": 10**18})
    tx.forget_nonces()
    tx.send(env.w3, env.suite.consent.functions.grant(env.hospital_b, 1, 1 << 4, 0, 0), patient)
    result = cli("access", "log", "--evidence", str(evidence), "--purpose", "TREATMENT", "--json",
                 "--store", store_b, account="4")  # fmt: skip
    assert result.exit_code == 0, result.output
    logged = json.loads(result.stdout)
    assert logged["accessor"] == env.hospital_b and logged["leaf"] == json.loads(evidence.read_text())["leaf"]
    found = cli.json("verify", str(files[1]), "--store", store_b)  # materialised: the file alone finds it now
    assert (
        found["hospital"] == env.hospital and found["origin"] == "batch" and found["leaf"] == logged["leaf"]
    )
    closed = tmp_path / "closed.json"
    cli.json("proof", str(files[0]), "--out", str(closed), "--store", store_a)  # without --reveal
    assert "has no commitment opening" in cli.fails(
        "access", "log", "--evidence", str(closed), "--store", store_b
    )


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda d: (d / "empty").mkdir(), ["batch", "{d}/empty", "--patient", PATIENT, "--class", "LAB"],
         "directory has no record files"),
        (lambda d: (d / "m.csv").write_text(f"file,patient,class\nnope.txt,{PATIENT},LAB\n"),
         ["batch", "{d}/m.csv"], "nope.txt: cannot read"),
        (lambda d: (d / "bad.json").write_text('{"resourceType": '),
         ["anchor", "{d}/bad.json", "--patient", PATIENT, "--class", "LAB"], "bad.json: malformed JSON"),
        (lambda d: (d / "r.txt").write_text("x"),
         ["anchor", "{d}/r.txt", "--patient", PATIENT, "--class", "XRAY"], "unknown data class 'XRAY'"),
        (lambda d: (d / "m.csv").write_text(f"record_hash,patient,class\n0x1234,{PATIENT},LAB\n"),
         ["batch", "{d}/m.csv"], "record hash must be 32 bytes, got 2"),
        (lambda d: None, ["verify", "0x1234"], "must be 32 bytes, got 2"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_journals_nothing(
    cli: Records, tmp_path: Path, setup: Any, args: list[str], message: str
) -> None:
    setup(tmp_path)
    line = cli.fails(*[a.format(d=tmp_path) for a in args], "--store", str(cli.store))
    assert message in line
    submissions = cli.json("journal", "--store", str(cli.store))
    assert submissions == []


def test_non_hospital_account_is_refused(cli: Records, tmp_path: Path) -> None:
    (path,) = make_files(tmp_path / "in", 1, "who")
    result = cli(
        "anchor", str(path), "--patient", PATIENT, "--class", "LAB", "--store", str(cli.store), account="13"
    )
    assert result.exit_code == 1 and "does not act for an active HOSPITAL member" in result.stderr


def test_list_shows_this_stores_records_and_another_patient_or_class_needs_force(
    cli: Records, tmp_path: Path
) -> None:
    """Issue 17: `records list`; item 8: a file anchored for another patient or class needs --force."""
    single, other = make_files(tmp_path / "one", 2, "list")
    make_files(tmp_path / "many", 3, "listb")
    store = str(cli.store)
    cli.json("anchor", str(single), "--patient", PATIENT, "--class", "LAB", "--store", store)
    cli.json("batch", str(tmp_path / "many"), "--patient", PATIENT, "--class", "IMAGING", "--store", store)
    rows = cli.json("list", "--store", store)
    assert [(r["kind"], r["class"]) for r in rows] == [("single", "LAB")] + [("batch", "IMAGING")] * 3
    patient = Web3.to_checksum_address(PATIENT)
    assert all(r["patient"] == patient and r["anchoredAt"].endswith("Z") for r in rows)
    assert [r["class"] for r in cli.json("list", "--class", "LAB", "--store", store)] == ["LAB"]
    assert cli.json("list", "--patient", "0x" + "cd" * 20, "--store", store) == []
    line = cli.fails("anchor", str(single), "--patient", PATIENT, "--class", "IMAGING", "--store", store)
    assert "this store already anchored it as LAB (submission 1)" in line and "--force" in line
    someone = "0x" + "cd" * 20
    many = str(tmp_path / "many")
    line = cli.fails("batch", many, "--patient", someone, "--class", "IMAGING", "--store", store)
    assert f"already anchored it for patient {Web3.to_checksum_address(PATIENT)} as IMAGING" in line
    assert len(cli.json("list", "--store", store)) == 4  # nothing was anchored by the refusals
    forced = cli.json(
        "anchor", str(single), "--patient", PATIENT, "--class", "IMAGING", "--force", "--store", store
    )
    assert forced["submissions"][0]["status"] == "done"
    cli.json("anchor", str(other), "--patient", PATIENT, "--class", "LAB", "--store", store)  # a new file
    assert len(cli.json("list", "--store", store)) == 6


def test_tables_show_times_as_iso_dates(cli: Records, tmp_path: Path) -> None:
    """Issue 17: `anchoredAt 1796430835` in a table; JSON keeps the number."""
    (record,) = make_files(tmp_path / "t", 1, "iso")
    store = str(cli.store)
    cli.json("anchor", str(record), "--patient", PATIENT, "--class", "LAB", "--store", store)
    raw = cli.json("verify", str(record), "--store", store)["anchoredAt"]
    assert isinstance(raw, int)
    table = cli("verify", str(record), "--store", store)
    assert table.exit_code == 0 and iso(raw) in table.stdout and str(raw) not in table.stdout
