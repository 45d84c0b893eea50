"""Published serial trees (issue 17 item 6) on a real Anvil: the manufacturer publishes its batch's tree
(nodes, no serials) at ``<member URI>/trees/0x<batch>.json``; the consumer lookup, `drugs status` and a
pharmacy's dispense of a whole-batch shipment fetch it (file:// and a real http server), check it against the
on-chain root, cache it in their own store; an invented serial on a real lot is "not found"; an unreadable or
mismatching tree is said plainly. One Consortium + DrugTrace per module; each test in a snapshot."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from medchain import drugs as svc
from medchain import serial_publish, tx
from medchain.artifacts import load_artifact
from medchain.codes import ROLE_BITS
from medchain.deploy import write_manifest
from medchain.errors import InputError
from medchain.gs1 import DrugCode, build_digital_link
from medchain.node import Anvil
from medchain.serials import SerialTree, batch_id
from medchain.store import open_store
from medchain.store.serials import SerialTrees

GTIN = "09506000134352"  # prefix 9506000: MAKER (file:// URI)
GTIN2 = "09506001000014"  # prefix 9506001: MAKER2 (http URI, served by the web app)
EXPIRY = dt.date.today() + dt.timedelta(days=400)
SERIALS = [f"SN{i:06d}" for i in range(25)]
COUNCIL, MAKER, MAKER2, DISTRIBUTOR, PHARMACY = 0, 7, 6, 8, 9


@dataclass
class Env:
    w3: Web3
    consortium: Contract
    drugs: Contract
    accounts: list[str]
    published: Path  # MAKER's document root (its member URI is this folder's file:// URI)
    http_root: str  # MAKER2's member URI: the web app below, serving /trees/ from maker2_store
    maker2_store: sqlite3.Connection
    manifest: Path

    def acct(self, index: int) -> str:
        return self.accounts[index]


def _deploy(w3: Web3, name: str, *args: Any) -> Contract:
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = tx.send(w3, factory.constructor(*args), w3.eth.accounts[0])
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)


def _admit(w3: Web3, consortium: Contract, member: str, role: str, name: str, uri: str) -> None:
    council = w3.eth.accounts[COUNCIL]
    receipt = tx.send(w3, consortium.functions.propose(1, member, ROLE_BITS[role], name, uri), council)
    args = consortium.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]
    tx.send(w3, consortium.functions.execute(args["proposalId"]), council)


@pytest.fixture(scope="module")
def env(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    import socket
    import threading
    import time

    import uvicorn

    from medchain.web import create_app

    w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))
    acc = [str(a) for a in w3.eth.accounts]
    root = tmp_path_factory.mktemp("published")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    http_root = f"http://127.0.0.1:{sock.getsockname()[1]}"
    consortium = _deploy(w3, "Consortium", [acc[COUNCIL]], ["Health Commission"], 1)
    for index, role, name, uri in (
        (MAKER, "MANUFACTURER", "Jiangxi Pharma", (root / "site").as_uri()),
        (MAKER2, "MANUFACTURER", "Hunan Pharma", http_root),
        (DISTRIBUTOR, "DISTRIBUTOR", "Nanchang Distribution", ""),
        (PHARMACY, "PHARMACY", "Pharmacy No. 1", ""),
    ):
        _admit(w3, consortium, acc[index], role, name, uri)
    drugs = _deploy(w3, "DrugTrace", consortium.address)
    svc.assign_prefix(w3, drugs, acc[COUNCIL], "9506000", acc[MAKER])
    svc.assign_prefix(w3, drugs, acc[COUNCIL], "9506001", acc[MAKER2])
    svc.register_product(w3, drugs, acc[MAKER], GTIN, "Amoxicillin 500 mg")
    svc.register_product(w3, drugs, acc[MAKER2], GTIN2, "Ibuprofen 200 mg")
    manifest = root / "manifest.json"
    entries = {
        "Consortium": {"address": consortium.address, "block": 0},
        "DrugTrace": {"address": drugs.address, "block": 0},
    }
    write_manifest({"chainId": w3.eth.chain_id, "contracts": entries}, manifest)
    maker2_store = open_store(root / "maker2.sqlite")
    app = create_app(None, trees=lambda batch: serial_publish.stored_document(maker2_store, batch))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield Env(w3, consortium, drugs, acc, root / "site", http_root, maker2_store, manifest)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(autouse=True)
def isolated(env: Env) -> Iterator[None]:
    snapshot = env.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield
    env.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


@pytest.fixture
def maker_store(tmp_path: Path) -> sqlite3.Connection:
    return open_store(tmp_path / "maker.sqlite")


@pytest.fixture
def consumer_store(tmp_path: Path) -> sqlite3.Connection:
    return open_store(tmp_path / "consumer.sqlite")


def commission(
    env: Env, store: sqlite3.Connection, lot: str, *, gtin: str = GTIN, maker: int = MAKER
) -> svc.CommissionResult:
    return svc.commission_batch(
        env.w3, env.drugs, env.acct(maker), gtin=gtin, lot=lot, expiry=EXPIRY, serials=SERIALS, store=store
    )


def uri_of(env: Env, lot: str) -> str:
    return f"{env.published.as_uri()}/trees/0x{batch_id(GTIN, lot).hex()}.json"


# ---- publishing ----


def test_published_tree_has_the_on_chain_root_and_no_serials(
    env: Env, maker_store: sqlite3.Connection
) -> None:
    done = commission(env, maker_store, "PUB-1")
    bid = batch_id(GTIN, "PUB-1")
    path = serial_publish.publish(maker_store, bid, env.published)
    assert path == env.published / "trees" / f"0x{bid.hex()}.json"
    text = path.read_text()
    doc = json.loads(text)
    assert doc["format"] == "medchain-serial-leaves-v1"
    assert (doc["batchId"], doc["root"], doc["tree"][0]) == (
        "0x" + bid.hex(),
        done.serial_root,
        done.serial_root,
    )
    assert len(doc["tree"]) == 2 * len(SERIALS) - 1
    assert not any(serial in text for serial in SERIALS)  # the serials are not disclosed
    assert svc.tree_uri_of(env.consortium, svc.batch_view(env.drugs, bid)) == uri_of(env, "PUB-1")


def test_publish_without_the_tree_in_the_store_is_one_line(env: Env, maker_store: sqlite3.Connection) -> None:
    with pytest.raises(InputError, match="no serial tree for batch 0x[0-9a-f]{64} in this store"):
        serial_publish.publish(maker_store, batch_id(GTIN, "NOPE"), env.published)


# ---- consumer lookup: genuine / not found / unavailable / refused ----


def test_lookup_fetches_the_published_tree_proves_a_real_serial_and_caches_it(
    env: Env, maker_store: sqlite3.Connection, consumer_store: sqlite3.Connection
) -> None:
    commission(env, maker_store, "PUB-2")
    path = serial_publish.publish(maker_store, batch_id(GTIN, "PUB-2"), env.published)
    status = svc.lookup(env.w3, env.drugs, GTIN, "PUB-2", "SN000007", store=consumer_store)
    assert (status.found, status.genuine, status.serial_check) == (True, True, "proven")
    assert status.tree_uri == uri_of(env, "PUB-2")
    cached = SerialTrees(consumer_store).stored_nodes(batch_id(GTIN, "PUB-2"))
    assert cached is not None
    assert "0x" + cached[2][:32].hex() == svc.batch_view(env.drugs, batch_id(GTIN, "PUB-2")).serial_root
    assert SerialTrees(consumer_store).serials(batch_id(GTIN, "PUB-2")) == []  # only nodes were cached
    path.unlink()  # the cache answers now
    again = svc.lookup(env.w3, env.drugs, GTIN, "PUB-2", "SN000008", store=consumer_store)
    assert (again.genuine, again.serial_check) == (True, "proven")


def test_invented_serial_on_a_real_lot_is_not_found(
    env: Env, maker_store: sqlite3.Connection, consumer_store: sqlite3.Connection
) -> None:
    commission(env, maker_store, "PUB-3")
    serial_publish.publish(maker_store, batch_id(GTIN, "PUB-3"), env.published)
    status = svc.lookup(env.w3, env.drugs, GTIN, "PUB-3", "FAKE0001", store=consumer_store)
    assert (status.found, status.genuine, status.serial_check) == (False, None, "absent")
    assert status.dispensed is False and status.journey == []
    # the manufacturer's own store answers the same (its tree has the serials)
    own = svc.lookup(env.w3, env.drugs, GTIN, "PUB-3", "FAKE0001", store=maker_store)
    assert (own.found, own.serial_check) == (False, "absent")


def test_unpublished_tree_is_said_plainly_not_claimed_found(
    env: Env, maker_store: sqlite3.Connection, consumer_store: sqlite3.Connection
) -> None:
    commission(env, maker_store, "PUB-4")  # never published
    status = svc.lookup(env.w3, env.drugs, GTIN, "PUB-4", "SN000001", store=consumer_store)
    assert (status.genuine, status.serial_check) == (None, "unavailable")
    assert status.serial_note is not None
    assert status.serial_note.startswith(
        f"cannot check the serial: tree unavailable at URI {uri_of(env, 'PUB-4')}"
    )
    assert SerialTrees(consumer_store).stored_nodes(batch_id(GTIN, "PUB-4")) is None


def test_a_tree_that_does_not_match_the_on_chain_root_is_refused(
    env: Env, maker_store: sqlite3.Connection, consumer_store: sqlite3.Connection, tmp_path: Path
) -> None:
    done = commission(env, maker_store, "PUB-5")
    bid = batch_id(GTIN, "PUB-5")
    other = open_store(tmp_path / "other.sqlite")
    forged = SerialTree.build(GTIN, "PUB-5", [*SERIALS[:-1], "FAKE0001"])  # a forger's list, same size
    SerialTrees(other).save_tree(forged, GTIN, "PUB-5", "commissioned")
    serial_publish.publish(other, bid, env.published)
    uri = uri_of(env, "PUB-5")
    status = svc.lookup(env.w3, env.drugs, GTIN, "PUB-5", "FAKE0001", store=consumer_store)
    assert status.serial_check == "unavailable" and status.genuine is None
    assert status.serial_note == (
        f"cannot check the serial: serial tree at {uri} refused: its root 0x{forged.root.hex()} is not batch "
        f"0x{bid.hex()}'s root on chain {done.serial_root}"
    )
    assert SerialTrees(consumer_store).stored_nodes(bid) is None  # nothing cached
    with pytest.raises(InputError, match=f"serial tree at {uri} refused: its root"):
        svc.published_tree(env.w3, env.drugs, bid, consumer_store)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(tree=d["tree"][:-2]), "it has 24 leaves, the batch has 25 on chain"),
        (lambda d: d["tree"].__setitem__(5, "0x" + "00" * 32), "node 2 is not the hash of its children"),
        (lambda d: d.update(format="other"), "not a medchain-serial-leaves-v1 document"),
        (lambda d: d.update(tree=["zz"]), "its tree is not a list of 0x hashes"),
    ],
)
def test_malformed_published_trees_are_refused(
    env: Env, maker_store: sqlite3.Connection, consumer_store: sqlite3.Connection, edit: Any, message: str
) -> None:
    commission(env, maker_store, "PUB-6")
    path = serial_publish.publish(maker_store, batch_id(GTIN, "PUB-6"), env.published)
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    status = svc.lookup(env.w3, env.drugs, GTIN, "PUB-6", "SN000001", store=consumer_store)
    assert status.serial_check == "unavailable"
    assert status.serial_note is not None and message in status.serial_note


def test_not_json_at_the_uri_is_unavailable(
    env: Env, maker_store: sqlite3.Connection, consumer_store: sqlite3.Connection
) -> None:
    commission(env, maker_store, "PUB-7")
    path = serial_publish.publish(maker_store, batch_id(GTIN, "PUB-7"), env.published)
    path.write_text("<html>moved</html>")
    status = svc.lookup(env.w3, env.drugs, GTIN, "PUB-7", "SN000001", store=consumer_store)
    assert (
        status.serial_note
        == f"cannot check the serial: tree unavailable at URI {uri_of(env, 'PUB-7')}: not JSON"
    )


def test_http_uri_served_by_the_web_app_from_the_makers_store(
    env: Env, consumer_store: sqlite3.Connection
) -> None:
    commission(env, env.maker2_store, "HTTP-1", gtin=GTIN2, maker=MAKER2)
    bid = batch_id(GTIN2, "HTTP-1")
    uri = f"{env.http_root}/trees/0x{bid.hex()}.json"
    with urllib.request.urlopen(uri, timeout=10) as response:
        served = json.loads(response.read())
    assert served == serial_publish.stored_document(env.maker2_store, bid)
    status = svc.lookup(env.w3, env.drugs, GTIN2, "HTTP-1", "SN000003", store=consumer_store)
    assert (status.found, status.genuine, status.serial_check, status.tree_uri) == (True, True, "proven", uri)
    fake = svc.lookup(env.w3, env.drugs, GTIN2, "HTTP-1", "NOPE0001", store=consumer_store)
    assert (fake.found, fake.serial_check) == (False, "absent")
    missing = batch_id(GTIN2, "HTTP-NONE")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{env.http_root}/trees/0x{missing.hex()}.json", timeout=10)
    assert caught.value.code == 404
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{env.http_root}/trees/not-a-batch.json", timeout=10)


def test_http_404_is_unavailable_naming_the_uri(
    env: Env, consumer_store: sqlite3.Connection, tmp_path: Path
) -> None:
    elsewhere = open_store(tmp_path / "elsewhere.sqlite")  # commissioned from a store the server does not see
    commission(env, elsewhere, "HTTP-2", gtin=GTIN2, maker=MAKER2)
    uri = f"{env.http_root}/trees/0x{batch_id(GTIN2, 'HTTP-2').hex()}.json"
    status = svc.lookup(env.w3, env.drugs, GTIN2, "HTTP-2", "SN000003", store=consumer_store)
    assert status.serial_note == f"cannot check the serial: tree unavailable at URI {uri}: HTTP 404"


# ---- a pharmacy with its own store ----


def test_pharmacy_dispenses_a_whole_batch_shipment_with_the_published_tree(
    env: Env, maker_store: sqlite3.Connection, tmp_path: Path
) -> None:
    commission(env, maker_store, "PUB-8")
    bid = batch_id(GTIN, "PUB-8")
    serial_publish.publish(maker_store, bid, env.published)
    shipped = svc.ship(env.w3, env.drugs, env.acct(MAKER), batch=bid, to=env.acct(PHARMACY), whole=True,
                       store=maker_store)  # fmt: skip
    pharmacy = open_store(tmp_path / "pharmacy.sqlite")  # its own store: no list, no tree, no export/import
    svc.receive(env.w3, env.drugs, env.acct(PHARMACY), shipment_id=shipped.shipment_id, store=pharmacy)
    pack = build_digital_link(DrugCode(GTIN, lot="PUB-8", serial="SN000011", expiry=EXPIRY))
    done = svc.dispense(env.w3, env.drugs, env.acct(PHARMACY), pack, store=pharmacy)
    assert (done.first, done.shipment_id) == (True, shipped.shipment_id)
    assert SerialTrees(pharmacy).stored_nodes(bid) is not None  # cached
    fake = build_digital_link(DrugCode(GTIN, lot="PUB-8", serial="FAKE0001", expiry=EXPIRY))
    with pytest.raises(InputError, match="serial 'FAKE0001' is not in batch PUB-8"):
        svc.dispense(env.w3, env.drugs, env.acct(PHARMACY), fake, store=pharmacy)


def test_pharmacy_without_a_published_tree_gets_a_plain_error(
    env: Env, maker_store: sqlite3.Connection, tmp_path: Path
) -> None:
    commission(env, maker_store, "PUB-9")  # not published
    bid = batch_id(GTIN, "PUB-9")
    shipped = svc.ship(env.w3, env.drugs, env.acct(MAKER), batch=bid, to=env.acct(PHARMACY), whole=True,
                       store=maker_store)  # fmt: skip
    pharmacy = open_store(tmp_path / "pharmacy.sqlite")
    svc.receive(env.w3, env.drugs, env.acct(PHARMACY), shipment_id=shipped.shipment_id, store=pharmacy)
    pack = build_digital_link(DrugCode(GTIN, lot="PUB-9", serial="SN000011", expiry=EXPIRY))
    with pytest.raises(
        InputError, match=f"cannot check the serial: tree unavailable at URI {uri_of(env, 'PUB-9')}"
    ):
        svc.dispense(env.w3, env.drugs, env.acct(PHARMACY), pack, store=pharmacy)


def test_export_tree_from_a_store_with_only_the_published_tree_is_refused(
    env: Env, maker_store: sqlite3.Connection, consumer_store: sqlite3.Connection
) -> None:
    commission(env, maker_store, "PUB-10")
    bid = batch_id(GTIN, "PUB-10")
    serial_publish.publish(maker_store, bid, env.published)
    svc.published_tree(env.w3, env.drugs, bid, consumer_store)
    with pytest.raises(InputError, match="holds only the published tree"):
        svc.export_tree(consumer_store, bid)
    assert len(svc.export_tree(maker_store, bid)["values"]) == len(SERIALS)  # offline export still works


# ---- CLI ----


def test_cli_commission_publish_and_status_genuine_not_found(env: Env, cli: Any, tmp_path: Path) -> None:
    serials = tmp_path / "serials.txt"
    serials.write_text("\n".join(SERIALS) + "\n")
    base = ["--manifest", str(env.manifest)]
    maker = ["--store", str(tmp_path / "maker.sqlite")]
    done = cli.json("--account", str(MAKER), *base, "drugs", "batch", "commission", "--gtin", GTIN, "--lot",
                    "CLI-1", "--expiry", EXPIRY.strftime("%y%m%d"), "--serials", str(serials),
                    "--publish", str(env.published), *maker)  # fmt: skip
    bid = batch_id(GTIN, "CLI-1")
    assert done["published"] == str(env.published / "trees" / f"0x{bid.hex()}.json")
    consumer = ["--store", str(tmp_path / "consumer.sqlite")]
    real = build_digital_link(DrugCode(GTIN, lot="CLI-1", serial="SN000002", expiry=EXPIRY))
    status = cli.json(*base, "drugs", "status", real, *consumer)
    assert (status["found"], status["genuine"], status["serial_check"]) == (True, True, "proven")
    fake = build_digital_link(DrugCode(GTIN, lot="CLI-1", serial="INVENTED9", expiry=EXPIRY))
    status = cli.json(*base, "drugs", "status", fake, *consumer)
    assert (status["found"], status["genuine"], status["serial_check"]) == (False, None, "absent")
    again = cli.json("--account", str(MAKER), *base, "drugs", "batch", "publish-tree", f"{GTIN}/CLI-1",
                     "--out", str(tmp_path / "site"), *maker)  # fmt: skip
    assert again["path"] == f"/trees/0x{bid.hex()}.json"
    assert (tmp_path / "site" / "trees" / f"0x{bid.hex()}.json").is_file()


def test_cli_status_unavailable_tree_text(
    env: Env, cli: Any, maker_store: sqlite3.Connection, tmp_path: Path
) -> None:
    commission(env, maker_store, "CLI-2")
    pack = build_digital_link(DrugCode(GTIN, lot="CLI-2", serial="SN000002", expiry=EXPIRY))
    result = cli(
        "--manifest", str(env.manifest), "drugs", "status", pack, "--store", str(tmp_path / "c.sqlite")
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "verdict unchecked" in text
    assert "cannot check the serial: tree unavailable at URI" in text


def test_a_fetched_tree_never_replaces_a_stored_tree_with_serials(
    env: Env, maker_store: sqlite3.Connection, tmp_path: Path
) -> None:
    commission(env, maker_store, "PUB-11")
    bid = batch_id(GTIN, "PUB-11")
    serial_publish.publish(maker_store, bid, env.published)
    local = open_store(tmp_path / "local.sqlite")  # a store whose tree (with serials) is not the chain's
    other = SerialTree.build(GTIN, "PUB-11", ["OTHER001", "OTHER002"])
    SerialTrees(local).save_tree(other, GTIN, "PUB-11", "imported")
    status = svc.lookup(env.w3, env.drugs, GTIN, "PUB-11", "SN000001", store=local)
    assert (status.genuine, status.serial_check) == (True, "proven")  # answered from the published tree
    assert SerialTrees(local).serials(bid) == ["OTHER001", "OTHER002"]  # kept, not overwritten


def test_an_unreachable_uri_is_not_asked_again_for_a_minute(
    env: Env,
    maker_store: sqlite3.Connection,
    consumer_store: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commission(env, maker_store, "PUB-12")
    status = svc.lookup(env.w3, env.drugs, GTIN, "PUB-12", "SN000001", store=consumer_store)
    assert status.serial_check == "unavailable"  # not published yet
    serial_publish.publish(maker_store, batch_id(GTIN, "PUB-12"), env.published)
    again = svc.lookup(env.w3, env.drugs, GTIN, "PUB-12", "SN000001", store=consumer_store)
    assert again.serial_note == status.serial_note  # the miss is remembered: no new request
    monkeypatch.setattr(serial_publish, "RETRY_AFTER", 0.0)  # a minute later
    later = svc.lookup(env.w3, env.drugs, GTIN, "PUB-12", "SN000001", store=consumer_store)
    assert (later.genuine, later.serial_check) == (True, "proven")
