"""`medchain drugs` against a real Anvil: the whole pack lifecycle through the CLI, --json output, one-line
errors and exit code 2 for a duplicate dispense. One Consortium + DrugTrace per module; tests in snapshots."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.logs import DISCARD

from medchain import tx
from medchain.artifacts import load_artifact
from medchain.codes import ROLE_BITS
from medchain.deploy import write_manifest
from medchain.gs1 import DrugCode, build_digital_link
from medchain.node import Anvil

GTIN, LOT = "09506000134352", "L2026"
EXPIRY = dt.date.today() + dt.timedelta(days=300)
COUNCIL, HOSPITAL, MAKER, DISTRIBUTOR, PHARMACY = 0, 3, 7, 8, 9


@pytest.fixture(scope="module")
def w3(anvil: Anvil) -> Web3:
    return Web3(Web3.HTTPProvider(anvil.url))


@pytest.fixture(scope="module")
def manifest_file(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Consortium (roles admitted) + DrugTrace, recorded in a manifest."""
    acc = w3.eth.accounts
    entries: dict[str, dict[str, Any]] = {}
    for name in ("Consortium", "DrugTrace"):
        args = (
            [[acc[COUNCIL]], ["Health Commission"], 1]
            if name == "Consortium"
            else [entries["Consortium"]["address"]]
        )
        artifact = load_artifact(name)
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = tx.send(w3, factory.constructor(*args), acc[0])
        entries[name] = {"address": receipt["contractAddress"], "block": receipt["blockNumber"]}
    consortium = w3.eth.contract(
        address=entries["Consortium"]["address"], abi=load_artifact("Consortium").abi
    )
    for index, role, member in (
        (MAKER, "MANUFACTURER", "Maker"),
        (DISTRIBUTOR, "DISTRIBUTOR", "Distributor"),
        (PHARMACY, "PHARMACY", "Pharmacy"),
        (HOSPITAL, "HOSPITAL", "Hospital"),
    ):
        receipt = tx.send(
            w3, consortium.functions.propose(1, acc[index], ROLE_BITS[role], member, ""), acc[0]
        )
        pid = consortium.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"][
            "proposalId"
        ]
        tx.send(w3, consortium.functions.execute(pid), acc[0])
    path = tmp_path_factory.mktemp("drugs-cli") / "manifest.json"
    write_manifest({"chainId": w3.eth.chain_id, "contracts": entries}, path)
    return path


class DrugsCli:
    """`medchain --account N --manifest M drugs ...` with a per-institution store."""

    def __init__(self, cli: Any, manifest: Path, w3: Web3, stores: Path) -> None:
        self.cli, self.manifest, self.w3, self.stores = cli, manifest, w3, stores

    def run(self, account: int, *args: str) -> Any:
        store = ["--store", str(self.stores / f"{account}.sqlite")] if _takes_store(args) else []
        return self.cli("--account", str(account), "--manifest", str(self.manifest), "drugs", *args, *store)

    def json(self, account: int, *args: str) -> Any:
        result = self.run(account, *args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def fail(self, account: int, *args: str, code: int = 1) -> str:
        result = self.run(account, *args)
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return str(result.output.strip())

    def addr(self, index: int) -> str:
        return str(self.w3.eth.accounts[index])


def _takes_store(args: tuple[str, ...]) -> bool:
    return args[0] in ("ship", "receive", "dispense", "recall", "status", "cancel", "return") or args[:2] in (
        ("batch", "commission"),
        ("batch", "export-tree"),
        ("batch", "import-tree"),
    )


@pytest.fixture
def drugs(cli: Any, manifest_file: Path, w3: Web3, tmp_path: Path) -> Iterator[DrugsCli]:
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield DrugsCli(cli, manifest_file, w3, tmp_path)
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def pack(serial: str) -> str:
    return build_digital_link(DrugCode(gtin=GTIN, lot=LOT, serial=serial, expiry=EXPIRY))


def commissioned(d: DrugsCli, tmp_path: Path, count: int = 12) -> dict[str, Any]:
    serials = tmp_path / "serials.txt"
    serials.write_text("# batch L2026\n" + "\n".join(f"S{i:04d}" for i in range(count)) + "\n")
    assert d.json(COUNCIL, "prefix", "assign", "9506000", "--to", d.addr(MAKER))["done"] is True
    d.json(MAKER, "product", "register", GTIN, "--name", "Amoxicillin 500 mg")
    return dict(
        d.json(
            MAKER,
            "batch",
            "commission",
            "--gtin",
            GTIN,
            "--lot",
            LOT,
            "--expiry",
            EXPIRY.strftime("%y%m%d"),
            "--serials",
            str(serials),
        )  # fmt: skip
    )


def test_full_pack_lifecycle(drugs: DrugsCli, tmp_path: Path) -> None:
    batch = commissioned(drugs, tmp_path)
    assert (batch["quantity"], batch["already_commissioned"]) == (12, False)
    assert "the serials count up after 'S00' (S0000, …)" in batch["warning"]  # S0000 … S0011
    tree = tmp_path / "tree.json"
    exported = drugs.json(MAKER, "batch", "export-tree", f"{GTIN}/{LOT}", "--out", str(tree))
    assert (exported["serials"], exported["root"]) == (12, batch["serial_root"])
    imported = drugs.json(PHARMACY, "batch", "import-tree", str(tree), "--gtin", GTIN, "--lot", LOT)
    assert (imported["onChain"], imported["root"]) == ("ACTIVE", batch["serial_root"])

    list1, list2 = tmp_path / "s1.json", tmp_path / "s2.json"
    s1 = drugs.json(
        MAKER,
        "ship",
        batch["batch_id"],
        "--to",
        drugs.addr(DISTRIBUTOR),
        "--quantity",
        "8",
        "--out",
        str(list1),
    )
    assert json.loads(list1.read_text()) == [f"S{i:04d}" for i in range(8)]
    short = drugs.run(
        DISTRIBUTOR, "receive", str(s1["shipment_id"]), "--quantity", "7", "--serials", str(list1)
    )
    assert short.exit_code == 0 and "discrepancy" in short.output
    s2 = drugs.json(
        DISTRIBUTOR, "ship", f"(01){GTIN}(10){LOT}", "--to", drugs.addr(PHARMACY), "--serial", "S0005",
        "--serial", "S0006", "--serial", "S0007", "--out", str(list2),
    )  # fmt: skip
    assert s2["source"] == s1["shipment_id"]
    got = drugs.json(PHARMACY, "receive", str(s2["shipment_id"]), "--serials", str(list2))
    assert (got["received"], got["serials_known"]) == (3, True)

    first = drugs.json(PHARMACY, "dispense", pack("S0005"))
    assert (first["first"], first["serial"]) == (True, "S0005")
    assert "duplicate scan" in drugs.fail(PHARMACY, "dispense", pack("S0005"), code=2)

    hops = drugs.json(PHARMACY, "trace", pack("S0005"))
    assert [h["kind"] for h in hops] == ["commission", "ship", "receive", "discrepancy", "ship", "receive",
                                         "dispense", "duplicate"]  # fmt: skip
    table = drugs.run(PHARMACY, "trace", pack("S0005"))
    assert table.exit_code == 0 and "Pharmacy" in table.output

    status = drugs.json(PHARMACY, "status", pack("S0005"))
    assert (status["found"], status["genuine"], status["dispensed"], status["duplicate_scans"]) == (
        True,
        True,
        True,
        1,
    )
    assert status["dispensed_by_name"] == "Pharmacy"
    assert status["expiry"] == EXPIRY.isoformat()

    recalled = drugs.json(COUNCIL, "recall", batch["batch_id"], "--reason", "sterility failure")
    assert recalled["by"] == drugs.addr(COUNCIL)
    assert drugs.json(PHARMACY, "status", pack("S0006"))["recalled"] is True
    assert "DrugTraceBatchRecalled" in drugs.fail(PHARMACY, "dispense", pack("S0006"))


def test_cancel_return_and_serial_errors(drugs: DrugsCli, tmp_path: Path) -> None:
    batch = commissioned(drugs, tmp_path)
    s1 = drugs.json(MAKER, "ship", batch["batch_id"], "--to", drugs.addr(PHARMACY), "--quantity", "2")
    assert drugs.json(MAKER, "cancel", str(s1["shipment_id"]))["status"] == "CANCELLED"
    s2 = drugs.json(MAKER, "ship", batch["batch_id"], "--to", drugs.addr(PHARMACY), "--all")
    assert s2["quantity"] == 12
    assert drugs.json(PHARMACY, "return", str(s2["shipment_id"]))["status"] == "RETURNED"
    assert "ShipmentNotInTransit" in drugs.fail(PHARMACY, "return", str(s2["shipment_id"]))
    assert "one of them" in drugs.fail(MAKER, "ship", batch["batch_id"], "--to", drugs.addr(PHARMACY))
    assert "'NOPE'" in drugs.fail(
        MAKER, "ship", batch["batch_id"], "--to", drugs.addr(PHARMACY), "--serial", "NOPE"
    )
    wrong = tmp_path / "wrong.json"
    wrong.write_text('["S0001"]')
    s3 = drugs.json(MAKER, "ship", batch["batch_id"], "--to", drugs.addr(PHARMACY), "--serial", "S0000")
    assert "does not match" in drugs.fail(
        PHARMACY, "receive", str(s3["shipment_id"]), "--serials", str(wrong)
    )
    assert "DrugTraceNotSender" in drugs.fail(PHARMACY, "cancel", str(s3["shipment_id"]))
    assert "9506000" in drugs.run(COUNCIL, "prefix", "show", GTIN).output
    assert "not a consortium" not in drugs.fail(
        MAKER, "prefix", "assign", "123456", "--to", drugs.addr(MAKER)
    )


def test_batch_show_and_product_show(drugs: DrugsCli, tmp_path: Path) -> None:
    batch = commissioned(drugs, tmp_path, count=3)
    shown = drugs.json(MAKER, "batch", "show", batch["batch_id"])
    assert (shown["status"], shown["lot"], shown["quantity"], shown["product_name"]) == (
        "ACTIVE", LOT, 3, "Amoxicillin 500 mg"
    )  # fmt: skip
    product = drugs.json(MAKER, "product", "show", GTIN)
    assert (product["name"], product["manufacturer"]) == ("Amoxicillin 500 mg", drugs.addr(MAKER))


def test_commission_twice_reports_the_existing_batch(drugs: DrugsCli, tmp_path: Path) -> None:
    commissioned(drugs, tmp_path)
    serials = tmp_path / "serials.txt"
    again = drugs.json(
        MAKER, "batch", "commission", "--gtin", GTIN, "--lot", LOT, "--expiry", EXPIRY.isoformat(),
        "--serials", str(serials),
    )  # fmt: skip
    assert again["already_commissioned"] is True


def test_errors_are_one_line(drugs: DrugsCli, tmp_path: Path) -> None:
    assert "China drug trace code" in drugs.fail(PHARMACY, "dispense", "81234567890123456789")
    assert "check digit" in drugs.fail(MAKER, "product", "register", "09506000134353", "--name", "X")
    assert "DrugTraceUnauthorized" in drugs.fail(PHARMACY, "product", "register", GTIN, "--name", "X")
    commissioned(drugs, tmp_path, count=2)
    assert "exactly one of" in drugs.fail(MAKER, "recall", f"{GTIN}/{LOT}")
    assert "expiry" in drugs.fail(
        MAKER, "batch", "commission", "--gtin", GTIN, "--lot", "L9", "--expiry", "2026-13-01",
        "--serials", str(tmp_path / "serials.txt"),
    )  # fmt: skip
    assert "not on chain" in drugs.fail(MAKER, "batch", "show", f"{GTIN}/NOPE")


def test_products_batches_and_pending_shipments(drugs: DrugsCli, tmp_path: Path) -> None:
    """Issue 17: listings of products, batches and shipments awaiting receipt, with member names."""
    batch = commissioned(drugs, tmp_path, count=4)
    (product,) = drugs.json(PHARMACY, "products")
    assert (product["gtin"], product["manufacturer"], product["manufacturerName"]) == (
        GTIN, drugs.addr(MAKER), "Maker"
    )  # fmt: skip
    assert product["registeredAt"].endswith("Z")
    assert drugs.json(PHARMACY, "products", "--manufacturer", drugs.addr(PHARMACY)) == []
    (row,) = drugs.json(PHARMACY, "batches", "--gtin", GTIN)
    assert (row["lot"], row["status"], row["quantity"]) == (LOT, "ACTIVE", 4)
    assert row["expiry"] == EXPIRY.isoformat()
    assert row["batchId"] == batch["batch_id"]
    s1 = drugs.json(MAKER, "ship", batch["batch_id"], "--to", drugs.addr(DISTRIBUTOR), "--quantity", "2")
    s2 = drugs.json(MAKER, "ship", batch["batch_id"], "--to", drugs.addr(PHARMACY), "--quantity", "1")
    pending = drugs.json(PHARMACY, "shipments", "--pending")
    assert [p["shipment"] for p in pending] == [s1["shipment_id"], s2["shipment_id"]]
    assert pending[0]["toName"] == "Distributor" and pending[0]["fromName"] == "Maker"
    to_pharmacy = drugs.json(PHARMACY, "shipments", "--pending", "--to", drugs.addr(PHARMACY))
    assert [p["shipment"] for p in to_pharmacy] == [s2["shipment_id"]]
    drugs.json(PHARMACY, "receive", str(s2["shipment_id"]))
    assert [p["shipment"] for p in drugs.json(PHARMACY, "shipments", "--pending")] == [s1["shipment_id"]]
    every = drugs.json(PHARMACY, "shipments", "--from", drugs.addr(MAKER))
    assert [p["status"] for p in every] == ["IN_TRANSIT", "RECEIVED"] and every[1]["receivedAt"].endswith("Z")
    table = drugs.run(PHARMACY, "shipments")
    assert table.exit_code == 0 and drugs.addr(PHARMACY) in table.output  # full addresses when piped
