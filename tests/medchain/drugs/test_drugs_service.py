"""medchain.drugs on a real Anvil: commission from a serial list (tree stored first), tree export/import,
ship, receive with a discrepancy, dispense by scan with a stored proof, duplicate flags, recall, journeys and
the consumer `lookup` (`DrugStatus`). One Consortium + DrugTrace per module; each test in a snapshot."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from medchain import drugs as svc
from medchain import epcis, tx
from medchain.artifacts import load_artifact
from medchain.codes import ROLE_BITS
from medchain.errors import ContractRevert, InputError
from medchain.gs1 import DrugCode, build_digital_link, build_element_string
from medchain.node import Anvil
from medchain.serials import batch_id, gtin_number
from medchain.store import open_store

GTIN = "09506000134352"
LOT = "LOT-2026-A"
PREFIX = "9506000"  # the GS1 Company Prefix inside GTIN
EXPIRY = dt.date.today() + dt.timedelta(days=400)
SERIALS = [f"SN{i:06d}" for i in range(40)]
COUNCIL, HOSPITAL, MAKER, DISTRIBUTOR, PHARMACY, STRANGER = 0, 3, 7, 8, 9, 13


@dataclass
class Env:
    w3: Web3
    consortium: Contract
    drugs: Contract
    accounts: list[str]

    def acct(self, index: int) -> str:
        return self.accounts[index]


def _deploy(w3: Web3, name: str, *args: Any) -> Contract:
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = tx.send(w3, factory.constructor(*args), w3.eth.accounts[0])
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)


def _admit(w3: Web3, consortium: Contract, member: str, role: str, name: str) -> None:
    council = w3.eth.accounts[COUNCIL]
    receipt = tx.send(w3, consortium.functions.propose(1, member, ROLE_BITS[role], name, ""), council)
    proposal = consortium.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"][
        "proposalId"
    ]
    tx.send(w3, consortium.functions.execute(proposal), council)


@pytest.fixture(scope="module")
def env(anvil: Anvil) -> Env:
    w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))
    acc = [str(a) for a in w3.eth.accounts]
    consortium = _deploy(w3, "Consortium", [acc[COUNCIL]], ["Health Commission"], 1)
    for index, role, name in (
        (MAKER, "MANUFACTURER", "Jiangxi Pharma"),
        (DISTRIBUTOR, "DISTRIBUTOR", "Nanchang Distribution"),
        (PHARMACY, "PHARMACY", "Pharmacy No. 1"),
        (HOSPITAL, "HOSPITAL", "People's Hospital"),
    ):
        _admit(w3, consortium, acc[index], role, name)
    drugs = _deploy(w3, "DrugTrace", consortium.address)
    svc.assign_prefix(w3, drugs, acc[COUNCIL], PREFIX, acc[MAKER])
    tx.send(w3, drugs.functions.registerProduct(gtin_number(GTIN), "Amoxicillin 500 mg"), acc[MAKER])
    return Env(w3, consortium, drugs, acc)


@pytest.fixture(autouse=True)
def isolated(env: Env) -> Iterator[None]:
    snapshot = env.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield
    env.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


@pytest.fixture
def maker_store(tmp_path: Path) -> sqlite3.Connection:
    return open_store(tmp_path / "maker.sqlite")


@pytest.fixture
def pharmacy_store(tmp_path: Path) -> sqlite3.Connection:
    return open_store(tmp_path / "pharmacy.sqlite")


def commission(
    env: Env, store: sqlite3.Connection | None, serials: list[str] = SERIALS
) -> svc.CommissionResult:
    return svc.commission_batch(
        env.w3, env.drugs, env.acct(MAKER), gtin=GTIN, lot=LOT, expiry=EXPIRY, serials=serials,
        certificate=b"release certificate", store=store,
    )  # fmt: skip


def distribute(env: Env, store: sqlite3.Connection, to_pharmacy: int = 5) -> svc.ShipResult:
    """Maker -> distributor (SN000000..19) -> pharmacy (the first `to_pharmacy` of them), one shared store."""
    bid = batch_id(GTIN, LOT)
    s1 = svc.ship(
        env.w3, env.drugs, env.acct(MAKER), batch=bid, to=env.acct(DISTRIBUTOR), quantity=20, store=store
    )
    svc.receive(env.w3, env.drugs, env.acct(DISTRIBUTOR), shipment_id=s1.shipment_id, store=store)
    s2 = svc.ship(
        env.w3, env.drugs, env.acct(DISTRIBUTOR), batch=bid, to=env.acct(PHARMACY), quantity=to_pharmacy,
        store=store,
    )  # fmt: skip
    svc.receive(env.w3, env.drugs, env.acct(PHARMACY), shipment_id=s2.shipment_id, store=store)
    return s2


def scan(serial: str, expiry: dt.date | None = EXPIRY) -> str:
    return build_digital_link(DrugCode(gtin=GTIN, lot=LOT, serial=serial, expiry=expiry))


# ---- commission ----


def test_commission_stores_tree_and_document_then_commissions(
    env: Env, maker_store: sqlite3.Connection
) -> None:
    result = commission(env, maker_store)
    bid = batch_id(GTIN, LOT)
    assert result.batch_id == "0x" + bid.hex()
    assert (result.quantity, result.already_commissioned, result.tx_hash is not None) == (40, False, True)
    view = svc.batch_view(env.drugs, bid)
    assert (view.status, view.quantity, view.expiry, view.serial_root) == (
        "ACTIVE",
        40,
        EXPIRY,
        result.serial_root,
    )
    assert view.certificate_hash == "0x" + hashlib.sha256(b"release certificate").hexdigest()
    assert view.product_name == "Amoxicillin 500 mg"
    # every stored proof verifies on chain
    for serial in SERIALS[:5]:
        proof = svc.stored_proof(maker_store, bid, serial)
        assert env.drugs.functions.verify(gtin_number(GTIN), LOT, serial, proof).call()[1] is True
    # the EPCIS document is stored under the hash the chain carries
    logs = env.drugs.events.BatchCommissioned().get_logs(from_block=0)
    doc = maker_store.execute(
        "SELECT document FROM drug_epcis WHERE hash = ?", (logs[0]["args"]["epcisHash"],)
    )
    assert epcis.epcis_hash(doc.fetchone()[0]) == logs[0]["args"]["epcisHash"]


def test_expiry_is_the_last_second_of_the_day_in_utc(env: Env) -> None:
    commission(env, None)
    stored = env.drugs.functions.getBatch(batch_id(GTIN, LOT)).call()[1]
    assert stored == svc.expiry_to_unix(EXPIRY)
    assert dt.datetime.fromtimestamp(stored, dt.UTC).time() == dt.time(23, 59, 59)
    assert svc.expiry_from_unix(stored) == EXPIRY


def test_commission_rerun_after_success_sends_nothing(env: Env, maker_store: sqlite3.Connection) -> None:
    first = commission(env, maker_store)
    again = commission(env, maker_store)
    assert again.already_commissioned is True
    assert again.tx_hash is None
    assert again.serial_root == first.serial_root
    assert len(env.drugs.events.BatchCommissioned().get_logs(from_block=0)) == 1


def test_commission_of_same_lot_with_other_serials_is_refused(env: Env) -> None:
    commission(env, None)
    with pytest.raises(InputError, match="another serial root"):
        commission(env, None, SERIALS[:10])


def test_commission_bad_serials_write_nothing(env: Env, maker_store: sqlite3.Connection) -> None:
    with pytest.raises(InputError, match="appears twice"):
        commission(env, maker_store, ["SN1", "SN1"])
    assert svc.batch_view(env.drugs, batch_id(GTIN, LOT)).status == "NONE"


def test_commission_by_non_manufacturer_is_a_decoded_revert(env: Env) -> None:
    with pytest.raises(ContractRevert) as err:
        svc.commission_batch(
            env.w3, env.drugs, env.acct(PHARMACY), gtin=GTIN, lot=LOT, expiry=EXPIRY, serials=SERIALS
        )
    assert err.value.name == "DrugTraceUnauthorized"


# ---- trees across institutions ----


def test_pharmacy_receives_serial_list_and_dispenses_by_scan(
    env: Env, maker_store: sqlite3.Connection, pharmacy_store: sqlite3.Connection
) -> None:
    commission(env, maker_store)
    bid = batch_id(GTIN, LOT)
    s1 = svc.ship(
        env.w3,
        env.drugs,
        env.acct(MAKER),
        batch=bid,
        to=env.acct(DISTRIBUTOR),
        quantity=20,
        store=maker_store,
    )
    svc.receive(env.w3, env.drugs, env.acct(DISTRIBUTOR), shipment_id=s1.shipment_id, store=maker_store)
    s2 = svc.ship(
        env.w3, env.drugs, env.acct(DISTRIBUTOR), batch=bid, to=env.acct(PHARMACY),
        serials=["SN000007", "SN000003"], store=maker_store,
    )  # fmt: skip
    assert (s2.source, s2.quantity) == (s1.shipment_id, 2)
    listed = json.loads(json.dumps(list(s2.serials)))  # through JSON, as shipped
    got = svc.receive(
        env.w3,
        env.drugs,
        env.acct(PHARMACY),
        shipment_id=s2.shipment_id,
        serials=listed,
        store=pharmacy_store,
    )
    assert got.serials_known
    result = svc.dispense(env.w3, env.drugs, env.acct(PHARMACY), scan("SN000007"), store=pharmacy_store)
    assert (result.first, result.duplicate_count, result.member) == (True, 0, env.acct(PHARMACY))
    assert result.shipment_id == s2.shipment_id
    assert env.drugs.functions.stockOf(bid, env.acct(PHARMACY)).call() == (1, 1)


def test_receive_with_a_wrong_serial_list_is_refused_before_sending(
    env: Env, maker_store: sqlite3.Connection, pharmacy_store: sqlite3.Connection
) -> None:
    commission(env, maker_store)
    bid = batch_id(GTIN, LOT)
    s1 = svc.ship(
        env.w3, env.drugs, env.acct(MAKER), batch=bid, to=env.acct(PHARMACY), quantity=3, store=maker_store
    )
    with pytest.raises(InputError, match="does not match shipment"):
        svc.receive(
            env.w3, env.drugs, env.acct(PHARMACY), shipment_id=s1.shipment_id, serials=["SN000039"],
            store=pharmacy_store,
        )  # fmt: skip
    assert svc.batch_view(env.drugs, bid).in_transit == 3


def test_ship_of_serials_not_held_is_refused(env: Env, maker_store: sqlite3.Connection) -> None:
    commission(env, maker_store)
    distribute(env, maker_store, to_pharmacy=2)
    with pytest.raises(InputError, match="SN000030"):
        svc.ship(
            env.w3, env.drugs, env.acct(DISTRIBUTOR), batch=batch_id(GTIN, LOT), to=env.acct(HOSPITAL),
            serials=["SN000030"], store=maker_store,
        )  # fmt: skip


def test_cancel_and_return_put_units_back(env: Env, maker_store: sqlite3.Connection) -> None:
    commission(env, maker_store)
    bid = batch_id(GTIN, LOT)
    first = svc.ship(
        env.w3, env.drugs, env.acct(MAKER), batch=bid, to=env.acct(PHARMACY), quantity=3, store=maker_store
    )
    cancelled = svc.cancel_shipment(env.w3, env.drugs, env.acct(MAKER), shipment_id=first.shipment_id)
    assert (cancelled.status, cancelled.quantity) == ("CANCELLED", 3)
    again = svc.ship(
        env.w3, env.drugs, env.acct(MAKER), batch=bid, to=env.acct(PHARMACY), quantity=3, store=maker_store
    )
    assert again.serials == first.serials  # a cancelled shipment's serials are free again
    returned = svc.return_shipment(
        env.w3, env.drugs, env.acct(PHARMACY), shipment_id=again.shipment_id, store=maker_store
    )
    assert returned.status == "RETURNED"
    assert env.drugs.functions.stockOf(bid, env.acct(MAKER)).call() == (40, 0)
    assert svc.batch_view(env.drugs, bid).in_transit == 0


def test_whole_source_forward(env: Env, maker_store: sqlite3.Connection) -> None:
    commission(env, maker_store)
    bid = batch_id(GTIN, LOT)
    whole = svc.ship(
        env.w3, env.drugs, env.acct(MAKER), batch=bid, to=env.acct(DISTRIBUTOR), whole=True, store=maker_store
    )
    assert (whole.source, whole.quantity, len(whole.serials)) == (0, 40, 40)
    svc.receive(env.w3, env.drugs, env.acct(DISTRIBUTOR), shipment_id=whole.shipment_id, store=maker_store)
    onward = svc.ship(
        env.w3, env.drugs, env.acct(DISTRIBUTOR), batch=bid, to=env.acct(PHARMACY), serials=["SN000031"],
        store=maker_store,
    )  # fmt: skip
    assert onward.source == whole.shipment_id
    svc.receive(env.w3, env.drugs, env.acct(PHARMACY), shipment_id=onward.shipment_id, store=maker_store)
    assert svc.dispense(env.w3, env.drugs, env.acct(PHARMACY), scan("SN000031"), store=maker_store).first


def test_prefix_assignment_and_product_move(env: Env) -> None:
    motion = svc.assign_prefix(env.w3, env.drugs, env.acct(COUNCIL), "4006381", env.acct(MAKER))
    assert (motion.done, motion.approvals, motion.threshold) == (True, 1, 1)
    assert env.drugs.functions.prefixOwner("4006381").call() == env.acct(MAKER)
    with pytest.raises(InputError, match="6 to 12 digits"):
        svc.assign_prefix(env.w3, env.drugs, env.acct(COUNCIL), "40063", env.acct(MAKER))


def test_import_of_another_batchs_tree_is_refused(
    env: Env, maker_store: sqlite3.Connection, pharmacy_store: sqlite3.Connection
) -> None:
    commission(env, maker_store)
    dump = svc.export_tree(maker_store, batch_id(GTIN, LOT))
    with pytest.raises(InputError, match="not \\(GTIN"):
        svc.import_tree(pharmacy_store, dump, GTIN, "OTHER-LOT")


def test_export_of_unknown_batch_is_an_input_error(maker_store: sqlite3.Connection) -> None:
    with pytest.raises(InputError, match="no serial tree"):
        svc.export_tree(maker_store, batch_id(GTIN, "NOPE"))


def test_dispense_without_proof_says_how_to_get_one(
    env: Env, maker_store: sqlite3.Connection, pharmacy_store: sqlite3.Connection
) -> None:
    commission(env, maker_store)
    distribute(env, maker_store)
    with pytest.raises(InputError, match="receive the shipment with its serial list"):
        svc.dispense(env.w3, env.drugs, env.acct(PHARMACY), scan("SN000007"), store=pharmacy_store)


# ---- custody ----


def test_short_receipt_is_a_discrepancy(env: Env, maker_store: sqlite3.Connection) -> None:
    commission(env, maker_store)
    bid = batch_id(GTIN, LOT)
    shipped = svc.ship(
        env.w3,
        env.drugs,
        env.acct(MAKER),
        batch=bid,
        to=env.acct(DISTRIBUTOR),
        quantity=10,
        store=maker_store,
    )
    assert (shipped.shipment_id, shipped.sender, shipped.quantity) == (1, env.acct(MAKER), 10)
    assert shipped.serials == tuple(SERIALS[:10])
    got = svc.receive(env.w3, env.drugs, env.acct(DISTRIBUTOR), shipment_id=1, quantity=8)
    assert (got.shipped, got.received, got.lost) == (10, 8, 2)
    view = svc.batch_view(env.drugs, bid)
    assert (view.in_transit, view.lost) == (0, 2)
    kinds = [h.kind for h in svc.trace(env.w3, env.drugs, GTIN, LOT)]
    assert kinds == ["commission", "ship", "receive", "discrepancy"]


def test_receive_of_unknown_shipment_is_an_input_error(env: Env) -> None:
    with pytest.raises(InputError, match="does not exist"):
        svc.receive(env.w3, env.drugs, env.acct(DISTRIBUTOR), shipment_id=99)


def test_ship_of_unknown_batch_is_an_input_error(env: Env, maker_store: sqlite3.Connection) -> None:
    with pytest.raises(InputError, match="not on chain"):
        svc.ship(
            env.w3,
            env.drugs,
            env.acct(MAKER),
            batch=batch_id(GTIN, "NOPE"),
            to=env.acct(PHARMACY),
            quantity=1,
            store=maker_store,
        )


def test_ship_by_a_non_member_is_an_input_error(env: Env, maker_store: sqlite3.Connection) -> None:
    commission(env, maker_store)
    with pytest.raises(InputError, match="not a consortium member"):
        svc.ship(
            env.w3,
            env.drugs,
            env.acct(STRANGER),
            batch=batch_id(GTIN, LOT),
            to=env.acct(PHARMACY),
            quantity=1,
            store=maker_store,
        )


# ---- dispensing and the consumer view ----


def test_duplicate_dispense_is_reported_not_raised(env: Env, maker_store: sqlite3.Connection) -> None:
    commission(env, maker_store)
    distribute(env, maker_store)
    svc.dispense(env.w3, env.drugs, env.acct(PHARMACY), scan("SN000001"), store=maker_store)
    again = svc.dispense(env.w3, env.drugs, env.acct(PHARMACY), scan("SN000001"), store=maker_store)
    assert (again.first, again.duplicate_count) == (False, 1)


def test_dispense_accepts_element_strings_and_explicit_codes(
    env: Env, maker_store: sqlite3.Connection
) -> None:
    commission(env, maker_store)
    distribute(env, maker_store)
    hri = build_element_string(DrugCode(gtin=GTIN, lot=LOT, serial="SN000002", expiry=EXPIRY))
    assert svc.dispense(env.w3, env.drugs, env.acct(PHARMACY), hri, store=maker_store).first
    explicit = svc.dispense(
        env.w3, env.drugs, env.acct(PHARMACY), gtin=GTIN, lot=LOT, serial="SN000003", store=maker_store
    )
    assert explicit.first


def test_dispense_with_mismatched_expiry_on_the_pack_is_refused(
    env: Env, maker_store: sqlite3.Connection
) -> None:
    commission(env, maker_store)
    distribute(env, maker_store)
    with pytest.raises(InputError, match="expiry"):
        svc.dispense(
            env.w3,
            env.drugs,
            env.acct(PHARMACY),
            scan("SN000002", EXPIRY + dt.timedelta(days=1)),
            store=maker_store,
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("81234567890123456789", "China drug trace code"),
        (build_digital_link(DrugCode(gtin=GTIN, lot=LOT)), "no serial"),
        ("(01)09506000134353(10)L1(21)S1", "check digit"),
    ],
)
def test_malformed_scans_are_one_line_input_errors(env: Env, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        svc.dispense(env.w3, env.drugs, env.acct(PHARMACY), text)
    assert "\n" not in str(err.value)


def test_lookup_of_unknown_pack(env: Env) -> None:
    status = svc.lookup(env.w3, env.drugs, GTIN, "NO-SUCH-LOT", "SN1")
    assert (status.found, status.genuine, status.expiry, status.journey) == (False, None, None, [])
    assert status.contract == env.drugs.address


def test_lookup_of_fresh_pack_with_and_without_proof(env: Env, maker_store: sqlite3.Connection) -> None:
    commission(env, maker_store)
    with_proof = svc.lookup(env.w3, env.drugs, GTIN, LOT, "SN000009", store=maker_store)
    assert (with_proof.found, with_proof.genuine, with_proof.dispensed) == (True, True, False)
    assert (with_proof.manufacturer, with_proof.manufacturer_name) == (env.acct(MAKER), "Jiangxi Pharma")
    assert (with_proof.expiry, with_proof.quantity, with_proof.product_name) == (
        EXPIRY,
        40,
        "Amoxicillin 500 mg",
    )
    assert with_proof.commission_tx is not None and with_proof.commission_block is not None
    without = svc.lookup(env.w3, env.drugs, GTIN, LOT, "SN000009")
    assert without.genuine is None
    forged = svc.lookup(
        env.w3,
        env.drugs,
        GTIN,
        LOT,
        "FORGED01",
        proof=svc.stored_proof(maker_store, batch_id(GTIN, LOT), "SN000009"),
    )
    assert forged.genuine is False


def test_lookup_of_dispensed_pack_shows_where_when_and_path(
    env: Env, maker_store: sqlite3.Connection
) -> None:
    commission(env, maker_store)
    distribute(env, maker_store)
    bid = batch_id(GTIN, LOT)
    other = svc.ship(
        env.w3,
        env.drugs,
        env.acct(MAKER),
        batch=bid,
        to=env.acct(HOSPITAL),
        serials=["SN000004"],
        store=maker_store,
    )  # fmt: skip  (SN000004 listed a second time: a cloned code)
    svc.receive(env.w3, env.drugs, env.acct(HOSPITAL), shipment_id=other.shipment_id, store=maker_store)
    done = svc.dispense(env.w3, env.drugs, env.acct(PHARMACY), scan("SN000004"), store=maker_store)
    svc.dispense(env.w3, env.drugs, env.acct(HOSPITAL), scan("SN000004"), store=maker_store)  # a cloned code
    status = svc.lookup(env.w3, env.drugs, GTIN, LOT, "SN000004")
    assert (status.genuine, status.dispensed, status.duplicate_scans) == (True, True, 1)
    assert (status.dispensed_by, status.dispensed_by_name) == (env.acct(PHARMACY), "Pharmacy No. 1")
    assert status.dispensed_at == env.w3.eth.get_block(done.block)["timestamp"]
    assert (status.last_duplicate_by, status.last_duplicate_by_name) == (
        env.acct(HOSPITAL),
        "People's Hospital",
    )
    # the path manufacturer -> distributor -> pharmacy only (not the hospital's delivery)
    steps = [(h.kind, h.from_name, h.to_name) for h in status.journey]
    assert steps == [
        ("commission", None, "Jiangxi Pharma"),
        ("ship", "Jiangxi Pharma", "Nanchang Distribution"),
        ("receive", "Jiangxi Pharma", "Nanchang Distribution"),
        ("ship", "Nanchang Distribution", "Pharmacy No. 1"),
        ("receive", "Nanchang Distribution", "Pharmacy No. 1"),
        ("dispense", "Pharmacy No. 1", None),
        ("duplicate", "People's Hospital", None),
    ]
    assert all(h.timestamp > 0 and h.tx_hash.startswith("0x") and h.epcis_hash for h in status.journey)
    every = svc.trace(env.w3, env.drugs, GTIN, LOT, "SN000004", path_only=False)
    assert sum(h.kind == "ship" for h in every) == 3


def test_lookup_of_recalled_and_expired_batch(env: Env, maker_store: sqlite3.Connection) -> None:
    commission(env, maker_store)
    result = svc.recall(
        env.w3, env.drugs, env.acct(COUNCIL), batch=batch_id(GTIN, LOT), notice=b"contamination"
    )
    assert result.reason_hash == "0x" + hashlib.sha256(b"contamination").hexdigest()
    assert result.by == env.acct(COUNCIL)
    status = svc.lookup(env.w3, env.drugs, GTIN, LOT, "SN000001", store=maker_store)
    assert (status.recalled, status.recall_reason_hash, status.expired) == (True, result.reason_hash, False)
    assert status.journey[-1].kind == "recall"
    assert status.journey[-1].from_name == "Health Commission"
    env.w3.provider.make_request("evm_increaseTime", [500 * 86400])  # type: ignore[arg-type]
    env.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert svc.lookup(env.w3, env.drugs, GTIN, LOT, "SN000001").expired is True


def test_lookup_rejects_malformed_input(env: Env) -> None:
    with pytest.raises(InputError):
        svc.lookup(env.w3, env.drugs, "09506000134353", LOT, "SN1")
    with pytest.raises(InputError):
        svc.lookup(env.w3, env.drugs, GTIN, LOT, "bad serial")


def test_resolve_batch_forms(env: Env) -> None:
    bid = batch_id(GTIN, LOT)
    assert svc.resolve_batch("0x" + bid.hex()) == bid
    assert svc.resolve_batch(f"{GTIN}/{LOT}") == bid
    assert svc.resolve_batch(f"(01){GTIN}(10){LOT}") == bid
    assert svc.resolve_batch(build_digital_link(DrugCode(gtin=GTIN, lot=LOT))) == bid
    with pytest.raises(InputError, match="names no batch"):
        svc.resolve_batch(f"(01){GTIN}")
