"""Stateful test: DrugTrace custody is conserved and matches a Python model over ship (listed serials from a
source) / receive / cancel / return / dispense (from a received shipment) / recall / time passing.

Invariant per batch: Σ_members (held + dispensed) + inTransit + lost == quantity, and every counter, shipment
and serial record equals the model's. Each rule predicts from the model whether the contract accepts the call
and, if not, which custom error it reverts with; an accepted call updates the model.
hypothesis' RuleBasedStateMachine is used directly (brownie 1.22.2's state_machine helper is broken); every
run starts from the same chain snapshot. MEDCHAIN_PROFILE=long runs more and longer examples.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from brownie import chain
from helpers import admit, roles
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from web3.exceptions import ContractCustomError, ContractLogicError

from medchain.reverts import decode_revert, register_abi
from medchain.serials import SerialTree, gtin_number, serial_set

LONG = os.environ.get("MEDCHAIN_PROFILE") == "long"
SETTINGS = settings(
    derandomize=not LONG,  # CI: the same sequences every run (a red CI is a regression); long: random
    max_examples=150 if LONG else 10,
    stateful_step_count=50 if LONG else 25,
    deadline=None,
    database=None,
)
DAY = 24 * 3600
LIFETIME_DAYS = 365
GTIN = gtin_number("09506000134352")
LOTS = ("LOT-A", "LOT-B")
SERIALS = tuple(f"SN{i:04d}" for i in range(8))
HASH = b"\x5a" * 32


@dataclass
class BatchModel:
    id: bytes
    tree: SerialTree
    quantity: int
    recalled: bool = False
    in_transit: int = 0
    lost: int = 0
    held: dict[str, int] = field(default_factory=dict)
    dispensed: dict[str, int] = field(default_factory=dict)
    records: dict[str, list[Any]] = field(default_factory=dict)  # serial -> [member, duplicates]


@dataclass
class ShipmentModel:
    batch: int
    sender: str
    to: str
    quantity: int
    received: int | None = None
    tree: SerialTree | None = None
    status: int = 1  # IDrugTrace.ShipmentStatus: 1 in transit, 2 received, 3 cancelled, 4 returned


@pytest.fixture(scope="module")
def drug_consortium(module_isolation: Any, consortium: Any) -> Any:
    """The shared consortium, deployed after brownie's module reset (requested directly by a test, the shared
    fixture can otherwise be set up before `module_isolation` and be wiped by it)."""
    return consortium


def test_custody_is_conserved(
    DrugTrace: Any,
    drug_consortium: Any,
    council: Any,
    manufacturer: Any,
    distributor: Any,
    pharmacy: Any,
    hospital: Any,
    auditor: Any,
    accounts: Any,
    web3: Any,
) -> None:
    consortium = drug_consortium
    distributor2 = accounts[15]
    admit(consortium, council, distributor2, roles("DISTRIBUTOR"), "Distributor B")
    drugs = DrugTrace.deploy(consortium, {"from": council})
    register_abi(drugs.abi)
    contract = web3.eth.contract(address=drugs.address, abi=drugs.abi)  # plain web3: faster than brownie
    maker = str(manufacturer)
    receivers = [str(a) for a in (distributor, distributor2, pharmacy, hospital)]
    dispensers = {str(pharmacy), str(hospital)}
    members = [maker, *receivers]
    everyone = [*members, str(auditor)]  # the auditor is a member that can never hold stock
    drugs.assignPrefix("9506000", manufacturer, {"from": council})
    drugs.registerProduct(GTIN, "Amoxicillin 500 mg", {"from": manufacturer})
    start = chain.time()
    trees = []
    for lot in LOTS:
        tree = SerialTree.build(GTIN, lot, SERIALS)
        drugs.commissionBatch(
            GTIN,
            lot,
            start + LIFETIME_DAYS * DAY,
            len(SERIALS),
            tree.root,
            HASH,
            HASH,
            {"from": manufacturer},
        )
        trees.append(tree)
    chain.snapshot()

    def send(error: str | None, fn: Any, sender: str) -> Any:
        """Send `fn` from unlocked `sender`; it must revert with custom error `error` (None: must succeed)."""
        try:
            receipt = web3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
        except (ContractCustomError, ContractLogicError, ValueError) as exc:
            payload = getattr(exc, "data", None) or (
                exc.args[0] if exc.args else None
            )  # brownie: {"data": ...}
            decoded = decode_revert(payload)
            name = decoded.name if decoded else str(exc)
            assert error is not None, f"unexpected revert {name}"
            assert name == error, f"expected {error}, got {name}"
            return None
        assert error is None, f"expected {error}, but the call succeeded"
        assert receipt.status == 1
        return receipt

    class CustodyMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            chain.revert()
            self.days = 0
            self.batches = [
                BatchModel(t.batch_id, t, len(SERIALS), held={maker: len(SERIALS)}) for t in trees
            ]
            self.shipments: dict[int, ShipmentModel] = {}

        def teardown(self) -> None:
            chain.revert()

        def _expired(self) -> bool:
            return self.days > LIFETIME_DAYS

        def _usable_error(self, b: BatchModel) -> str | None:
            if b.recalled:
                return "DrugTraceBatchRecalled"
            return "DrugTraceBatchExpired" if self._expired() else None

        # ---- helpers ----

        def _pick(self, data: Any, likely: list[str], anyone: list[str], label: str) -> str:
            """Mostly one of `likely` (valid now), sometimes anyone (the invalid paths)."""
            if likely and data.draw(st.integers(min_value=0, max_value=5), label=f"{label}?"):
                return data.draw(st.sampled_from(sorted(likely)), label=label)
            return data.draw(st.sampled_from(anyone), label=label)

        # ---- rules ----

        def _sources(self, batch: int, member: str) -> list[tuple[int, SerialTree]]:
            """(source id, tree) the member can ship serials of the batch from (model)."""
            b = self.batches[batch]
            found = [(0, b.tree)] if member == maker else []
            found += [
                (i, sh.tree)
                for i, sh in sorted(self.shipments.items())
                if sh.batch == batch and sh.to == member and sh.status == 2 and sh.tree is not None
            ]
            return found

        @initialize(first=st.integers(1, len(SERIALS)), second=st.integers(0, 4), third=st.integers(0, 4))
        def distribute(self, first: int, second: int, third: int) -> None:
            """Seed custody so that even short runs dispense: maker → distributor → pharmacy, hospital."""
            for index in range(len(self.batches)):
                sid = self._move(index, maker, str(distributor), 0, list(SERIALS[:first]))
                tree = self.shipments[sid].tree
                assert tree is not None
                taken = 0
                for to, quantity in ((str(pharmacy), second), (str(hospital), third)):
                    if 0 < quantity and taken + quantity <= first:
                        self._move(
                            index, str(distributor), to, sid, list(tree.serials[taken : taken + quantity])
                        )
                        taken += quantity

        def _move(self, batch: int, sender: str, to: str, source: int, serials: list[str]) -> int:
            b = self.batches[batch]
            tree = b.tree if source == 0 else self.shipments[source].tree
            assert tree is not None
            chosen = serial_set(tree, serials, source)
            receipt = send(None, contract.functions.ship(b.id, to, chosen.as_arg(), HASH), sender)
            shipment_id = contract.events.DrugShipped().process_receipt(receipt)[0]["args"]["shipmentId"]
            send(None, contract.functions.receiveShipment(shipment_id, len(serials), HASH), to)
            self.shipments[shipment_id] = ShipmentModel(
                batch, sender, to, len(serials), len(serials), chosen.tree, status=2
            )
            b.held[sender] -= len(serials)
            b.held[to] = b.held.get(to, 0) + len(serials)
            return int(shipment_id)

        @rule(data=st.data(), batch=st.integers(0, len(LOTS) - 1))
        def ship(self, data: Any, batch: int) -> None:
            b = self.batches[batch]
            sender = self._pick(data, [m for m, n in b.held.items() if n], everyone, "sender")
            to = self._pick(data, [m for m in members if m != sender], everyone, "to")
            held = b.held.get(sender, 0)
            sources = self._sources(batch, sender)
            source, tree = data.draw(st.sampled_from(sources), label="source") if sources else (0, b.tree)
            serials = data.draw(
                st.lists(st.sampled_from(tree.serials), min_size=1, max_size=len(tree), unique=True),
                label="serials",
            )
            error = None
            if to == sender:
                error = "DrugTraceInvalidRecipient"
            elif to != maker and self._usable_error(b):
                error = self._usable_error(b)
            elif to not in members:
                error = "DrugTraceInvalidRecipient"
            elif not sources:
                error = "DrugTraceNotManufacturer"
            elif held < len(serials):
                error = "DrugTraceInsufficientStock"
            chosen = serial_set(tree, serials, source)
            receipt = send(error, contract.functions.ship(b.id, to, chosen.as_arg(), HASH), sender)
            if receipt is None:
                return
            shipment_id = contract.events.DrugShipped().process_receipt(receipt)[0]["args"]["shipmentId"]
            self.shipments[shipment_id] = ShipmentModel(batch, sender, to, len(serials), tree=chosen.tree)
            b.held[sender] = held - len(serials)
            b.in_transit += len(serials)

        def _shipment(self, data: Any, pending_only: bool) -> int | None:
            pending = [i for i, sh in self.shipments.items() if sh.status == 1]
            if not pending and (not self.shipments or not data.draw(st.integers(0, 5), label="closed one?")):
                return None
            return int(data.draw(st.sampled_from(pending or sorted(self.shipments)), label="shipment"))

        @rule(data=st.data())
        def receive(self, data: Any) -> None:
            shipment_id = self._shipment(data, True)
            if shipment_id is None:
                return
            sh = self.shipments[shipment_id]
            by = self._pick(data, [sh.to], everyone, "by")
            quantity = data.draw(st.just(sh.quantity) | st.integers(0, sh.quantity + 1), label="received")
            error = None
            if sh.status != 1:
                error = "DrugTraceShipmentNotInTransit"
            elif by != sh.to:
                error = "DrugTraceNotRecipient"
            elif quantity > sh.quantity:
                error = "DrugTraceReceivedExceedsShipped"
            if send(error, contract.functions.receiveShipment(shipment_id, quantity, HASH), by) is None:
                return
            b = self.batches[sh.batch]
            sh.received, sh.status = quantity, 2
            b.in_transit -= sh.quantity
            b.lost += sh.quantity - quantity
            b.held[sh.to] = b.held.get(sh.to, 0) + quantity

        @rule(data=st.data(), cancel=st.booleans())
        def cancel_or_return(self, data: Any, cancel: bool) -> None:
            shipment_id = self._shipment(data, True)
            if shipment_id is None:
                return
            sh = self.shipments[shipment_id]
            by = self._pick(data, [sh.sender if cancel else sh.to], everyone, "by")
            error = None
            if sh.status != 1:
                error = "DrugTraceShipmentNotInTransit"
            elif by != (sh.sender if cancel else sh.to):
                error = "DrugTraceNotSender" if cancel else "DrugTraceNotRecipient"
            fn = contract.functions.cancelShipment if cancel else contract.functions.returnShipment
            if send(error, fn(shipment_id, HASH), by) is None:
                return
            b = self.batches[sh.batch]
            sh.status = 3 if cancel else 4
            b.in_transit -= sh.quantity
            b.held[sh.sender] = b.held.get(sh.sender, 0) + sh.quantity

        @rule(data=st.data(), serial=st.sampled_from(SERIALS))
        def dispense(self, data: Any, serial: str) -> None:
            received = [i for i, sh in self.shipments.items() if sh.status == 2]
            if not received:
                return
            shipment_id = data.draw(st.sampled_from(sorted(received)), label="shipment")
            sh = self.shipments[shipment_id]
            assert sh.tree is not None
            b = self.batches[sh.batch]
            by = self._pick(data, [sh.to] if sh.to in dispensers else [], everyone, "by")
            in_tree = serial in sh.tree.serials
            proof = sh.tree.proof(serial) if in_tree else []
            record = b.records.get(serial)
            error = None
            if by not in dispensers:
                error = "DrugTraceUnauthorized"
            elif by != sh.to:
                error = "DrugTraceNotRecipient"
            elif not in_tree:
                error = "DrugTraceSerialNotInShipment"
            elif record is None and self._usable_error(b):
                error = self._usable_error(b)
            elif record is None and b.held.get(by, 0) == 0:
                error = "DrugTraceInsufficientStock"
            fn = contract.functions.dispense(b.id, shipment_id, serial, proof, HASH)
            if send(error, fn, by) is None:
                return
            if record is not None:
                record[1] += 1
                return
            b.records[serial] = [by, 0]
            b.held[by] -= 1
            b.dispensed[by] = b.dispensed.get(by, 0) + 1

        @rule(data=st.data(), batch=st.integers(0, len(LOTS) - 1))
        def recall(self, data: Any, batch: int) -> None:
            if data.draw(st.integers(0, 3), label="skip recall?"):  # rare: a recall ends most of the story
                return
            b = self.batches[batch]
            by = data.draw(st.sampled_from([str(council), maker, *receivers]), label="by")
            error = None
            if by not in (str(council), maker):
                error = "DrugTraceUnauthorized"
            elif b.recalled:
                error = "DrugTraceBatchRecalled"
            if send(error, contract.functions.recall(b.id, HASH, HASH), by) is not None:
                b.recalled = True

        @rule(days=st.sampled_from([10, 30, 30, 200]))
        def time_passes(self, days: int) -> None:
            chain.sleep(days * DAY)
            chain.mine()
            self.days += days

        # ---- invariants ----

        @invariant()
        def quantities_are_conserved(self) -> None:
            for b in self.batches:
                stored = contract.functions.getBatch(b.id).call()
                quantity, in_transit, lost = stored[2], stored[3], stored[4]
                stocks = [contract.functions.stockOf(b.id, m).call() for m in members]
                assert sum(held + dispensed for held, dispensed in stocks) + in_transit + lost == quantity
                assert (quantity, in_transit, lost) == (b.quantity, b.in_transit, b.lost)
                assert stocks == [(b.held.get(m, 0), b.dispensed.get(m, 0)) for m in members]

        @invariant()
        def batch_status_matches(self) -> None:
            for b in self.batches:
                info = contract.functions.batchInfo(b.id).call()
                assert info[1][0] == (2 if b.recalled else 1)
                assert info[2] == self._expired()

        @invariant()
        def serial_records_match(self) -> None:
            for b in self.batches:
                with web3.batch_requests() as batch:
                    for serial in SERIALS:
                        batch.add(contract.functions.serialStatus(b.id, serial))
                    statuses = batch.execute()
                for serial, status in zip(SERIALS, statuses, strict=True):
                    record = b.records.get(serial)
                    assert status[6] == (record is not None)  # dispensed
                    if record is not None:
                        assert (status[8], status[9]) == (record[0], record[1])  # dispensedBy, duplicateCount

        @invariant()
        def shipments_match(self) -> None:
            assert contract.functions.shipmentCount().call() == len(self.shipments)
            for shipment_id, sh in self.shipments.items():
                stored = contract.functions.getShipment(shipment_id).call()
                assert stored[0] == sh.status
                assert (stored[4], stored[5]) == (sh.quantity, sh.received or 0)

    run_state_machine_as_test(CustodyMachine, settings=SETTINGS)
