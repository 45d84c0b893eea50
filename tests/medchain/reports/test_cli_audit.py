"""`medchain audit ...` through a root CLI (CliRunner, in process) on a real Anvil: index, then every report
as a table, --json and --html; bad input is one line and exit 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from test_reports import GTIN, LOT, World, build_world
from typer.testing import CliRunner

from medchain.cli import MedchainGroup
from medchain.cli import audit as audit_cli
from medchain.cli import root as root_callback
from medchain.gs1 import DrugCode, build_element_string
from medchain.node import Anvil


def _app() -> typer.Typer:
    """The root app's options and error handling with the audit group."""
    app = typer.Typer(cls=MedchainGroup, pretty_exceptions_enable=False)
    app.callback()(root_callback)
    app.add_typer(audit_cli.app, name="audit")
    return app


class Audit:
    def __init__(self, world: World) -> None:
        self.world, self.app, self.runner = world, _app(), CliRunner()

    def __call__(self, *args: str, online: bool = True) -> Any:
        base = ["--rpc-url", self.world.node.url, "--manifest", str(self.world.manifest)] if online else []
        env = {"COLUMNS": "250"}  # tables unwrapped, so the tests can read them
        return self.runner.invoke(self.app, [*base, "audit", *args], env=env, catch_exceptions=False)

    def json(self, *args: str, online: bool = True) -> Any:
        result = self(*args, "--json", online=online)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def fails(self, *args: str, online: bool = True) -> str:
        result = self(*args, online=online)
        assert result.exit_code == 1, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        return lines[0]


@pytest.fixture(scope="module")
def world(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(anvil, tmp_path_factory.mktemp("cli-audit-world"))


@pytest.fixture
def audit(world: World, medchain_home: Path, monkeypatch: pytest.MonkeyPatch) -> Audit:
    monkeypatch.delenv("MEDCHAIN_RPC_URL", raising=False)
    return Audit(world)


@pytest.fixture
def indexed(audit: Audit) -> Audit:
    out = audit.json("index")
    assert out["events"] == out["totalEvents"] > 60 and out["lastBlock"] == audit.world.facts["head"]
    return audit


def test_reports_before_indexing_say_how_to_index(audit: Audit, tmp_path: Path) -> None:
    line = audit.fails("disclosures", audit.world.patient)
    assert (
        line.startswith("error: chain 31337 is not indexed yet")
        and "run `medchain audit index` first" in line
    )
    assert "audit index" in audit.fails("claims")
    assert "audit index" in audit.fails("drug", "0x" + "00" * 32)
    assert "audit index" in audit.fails("member", audit.world.acc["hospital_a"])
    assert "no index store at" in audit.fails(
        "claims", "--store", str(tmp_path / "missing.sqlite"), online=False
    )


def test_index_is_incremental_and_prints_a_summary(indexed: Audit) -> None:
    again = indexed.json("index", "--confirmations", "5")
    head = indexed.world.facts["head"]
    assert (
        again["fromBlock"] == head + 1 - 5
        and again["events"] == again["dropped"]
        and again["reorgFrom"] is None
    )
    table = indexed("index")
    assert table.exit_code == 0 and "totalEvents" in table.stdout and "lastBlock" in table.stdout


def test_disclosures_table_json_and_html(indexed: Audit, tmp_path: Path) -> None:
    w = indexed.world
    data = indexed.json("disclosures", w.patient)
    assert (
        data["kind"] == "disclosures"
        and data["subject"]["patient"] == w.patient
        and len(data["entries"]) == 14
    )
    access = next(e for e in data["entries"] if e["event"] == "RecordAccessed")
    assert (
        access["dataClasses"] == ["LAB"] and access["party"] == "Hospital B"
    )  # online: looked up in the registry
    paid = next(e for e in data["entries"] if e["event"] == "ClaimPaid")
    assert "120.00" in paid["summary"]  # the settlement token's 2 decimals
    page = tmp_path / "out" / "disclosures.html"
    table = indexed("disclosures", w.patient.lower(), "--html", str(page))
    assert table.exit_code == 0, table.output
    assert "Consent granted to Hospital B" in table.stdout and f"wrote {page}" in table.stdout
    text = page.read_text()
    assert "<script" not in text and text.count('<li class="c-') == 14


def test_disclosures_of_an_unknown_patient_are_empty(indexed: Audit) -> None:
    assert indexed.json("disclosures", "0x" + "77" * 20)["entries"] == []
    result = indexed("disclosures", "0x" + "77" * 20)
    assert result.exit_code == 0 and "(nothing)" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("disclosures", "0x1234"), "error: patient '0x1234' is not a 20-byte hex address"),
        (("disclosures", "alice"), "error: patient 'alice' is not a 20-byte hex address"),
        (("member", "0x" + "Ab" * 20), "wrong checksum"),
        (("claims", "--insurer", "insurer-x"), "error: insurer 'insurer-x' is not a 20-byte hex address"),
        (("claims", "--status", "Lost"), "error: unknown claim status 'Lost' (known: Submitted, Approved"),
        (("drug", "hello"), "error: "),
        (("drug", "0x12"), "must be 0x and 64 hex digits"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(indexed: Audit, args: tuple[str, ...], message: str) -> None:
    assert message in indexed.fails(*args)


def test_claims_with_filters(indexed: Audit, tmp_path: Path) -> None:
    w = indexed.world
    everything = indexed.json("claims")
    assert [(r["claimId"], r["status"]) for r in everything["rows"]] == [(1, "Paid"), (2, "Rejected")]
    mine = indexed.json("claims", "--insurer", w.acc["insurer_x"], "--status", "paid")
    assert [r["claimId"] for r in mine["rows"]] == [1] and mine["subject"]["paid"].startswith("120.00")
    assert indexed.json("claims", "--status", "Escalated")["rows"] == []
    page = tmp_path / "claims.html"
    result = indexed("claims", "--html", str(page))
    assert result.exit_code == 0 and "Rejected" in result.stdout
    assert "&lt;script&gt;" in page.read_text() and "<script" not in page.read_text()


def test_drug_journey_by_scan(indexed: Audit, tmp_path: Path) -> None:
    w = indexed.world
    data = indexed.json("drug", w.pack_scan("SN0001"))
    assert data["subject"]["status"] == "Recalled" and data["subject"]["duplicateScans"] == 1
    assert [e["event"] for e in data["entries"]][-3:] == [
        "DrugDispensed",
        "DuplicateDispenseFlagged",
        "BatchRecalled",
    ]
    element = build_element_string(DrugCode(gtin=GTIN, lot=LOT))
    batch = indexed.json("drug", element)
    assert batch["subject"]["serial"] is None and batch["subject"]["dispensedInBatch"] == 2
    page = tmp_path / "drug.html"
    result = indexed("drug", w.pack_scan("SN0002"), "--html", str(page))
    assert result.exit_code == 0 and "Corner Pharmacy" in page.read_text()


def test_member_report(indexed: Audit, tmp_path: Path) -> None:
    w = indexed.world
    data = indexed.json("member", w.acc["hospital_a"])
    assert data["subject"]["name"] == "Hospital A" and data["subject"]["recordsAnchored"] == 4
    page = tmp_path / "member.html"
    result = indexed("member", w.acc["insurer_y"], "--html", str(page))
    assert result.exit_code == 0 and "&lt;script&gt;alert" in page.read_text()
    assert indexed.json("member", "0x" + "66" * 20)["entries"] == []


def test_reports_offline_from_a_copied_store(indexed: Audit, medchain_home: Path, tmp_path: Path) -> None:
    stores = list(medchain_home.glob("*/medchain.sqlite"))
    assert len(stores) == 1
    copy = tmp_path / "copy.sqlite"
    import sqlite3

    src = sqlite3.connect(stores[0])
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    data = indexed.json("disclosures", indexed.world.patient, "--store", str(copy), online=False)
    assert len(data["entries"]) == 14 and data["chainId"] == 31337
    paid = next(e for e in data["entries"] if e["event"] == "ClaimPaid")
    assert "12,000 units" in paid["summary"]  # offline: no token metadata, raw units
