"""DrugTrace test helpers: batch factory, dispensing with proofs, enum values, quantity conservation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brownie import chain
from eth_utils import keccak

from medchain.serials import SerialSet, SerialTree, batch_id, gtin_number, serial_set

YEAR = 365 * 24 * 3600
ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = "0x" + "00" * 32

# IDrugTrace.BatchStatus / ShipmentStatus
NONE, ACTIVE, RECALLED = 0, 1, 2
IN_TRANSIT, RECEIVED, CANCELLED, RETURNED = 1, 2, 3, 4
# IDrugTrace.MotionKind
ASSIGN_PREFIX, REASSIGN_PRODUCT = 1, 2

GTIN = "09506000134352"  # GS1's example GTIN-14 (valid check digit)
GTIN2 = "04006381333931"  # an EAN-13 as GTIN-14
GTIN_N = gtin_number(GTIN)
GTIN2_N = gtin_number(GTIN2)
PREFIX = "9506000"  # GS1's example company prefix: GTIN's GTIN-13 part starts with it
PREFIX2 = "4006381"


def b32(value: str | bytes) -> str:
    """A bytes32 as brownie prints it in a custom-error argument (a Python bytes repr), for reverts_with."""
    raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
    return repr(raw)


def role(name: str) -> str:
    """A role id as a reverts_with argument."""
    return b32(keccak(text=name))


def h(text: str) -> str:
    """A recognisable bytes32 for EPCIS / certificate / reason hashes in tests."""
    return "0x" + text.encode().hex().ljust(64, "0")[:64]


@dataclass
class BatchFixture:
    gtin: int
    lot: str
    expiry: int
    tree: SerialTree
    tx: Any = None
    shipments: dict[int, tuple[Any, Any, SerialTree]] = field(default_factory=dict)  # id -> (from, to, tree)
    used: dict[int, set[str]] = field(default_factory=dict)  # source -> serials shipped out of it

    @property
    def id(self) -> str:
        return "0x" + self.tree.batch_id.hex()

    @property
    def serials(self) -> tuple[str, ...]:
        return self.tree.serials

    @property
    def quantity(self) -> int:
        return len(self.tree)

    def proof(self, serial: str) -> list[str]:
        return ["0x" + p.hex() for p in self.tree.proof(serial)]


def make_batch(gtin: int = GTIN_N, lot: str = "LOT42", count: int = 16, prefix: str = "SN") -> BatchFixture:
    serials = [f"{prefix}{i:06d}" for i in range(count)]
    return BatchFixture(gtin, lot, chain.time() + YEAR, SerialTree.build(gtin, lot, serials))


def commission(drugs: Any, maker: Any, batch: BatchFixture, epcis: str = h("commission")) -> BatchFixture:
    root = "0x" + batch.tree.root.hex()
    batch.tx = drugs.commissionBatch(
        batch.gtin, batch.lot, batch.expiry, batch.quantity, root, h("certificate"), epcis, {"from": maker}
    )
    return batch


def source_tree(batch: BatchFixture, source: int) -> SerialTree:
    return batch.tree if source == 0 else batch.shipments[source][2]


def pick_serials(
    drugs: Any, batch: BatchFixture, sender: Any, quantity: int, source: int | None
) -> SerialSet:
    """`quantity` serials not yet shipped out of `source` (default: the sender's first received shipment with
    enough of them, else the batch tree), as the SerialSet `ship` takes."""
    if source is None:
        received = [
            sid
            for sid, (_, to, tree) in sorted(batch.shipments.items())
            if to == sender
            and int(drugs.getShipment(sid)["status"]) == RECEIVED
            and len(tree) - len(batch.used.get(sid, set())) >= quantity
        ]
        source = received[0] if received else 0
    tree = source_tree(batch, source)
    if quantity == 0:  # no serials and no proof: what the contract refuses; serial_set refuses it off chain
        return SerialSet(source, (), (), (), tree)
    free = [s for s in tree.serials if s not in batch.used.get(source, set())]
    return serial_set(tree, free[:quantity], source)


def ship(
    drugs: Any,
    batch: BatchFixture,
    sender: Any,
    to: Any,
    quantity: int | list[str],
    epcis: str = h("ship"),
    source: int | None = None,
    batch_id_: str | None = None,
) -> Any:
    """Ship `quantity` serials (or the listed ones) of the batch; remembers the shipment's tree."""
    if isinstance(quantity, list):
        serials = serial_set(source_tree(batch, source or 0), quantity, source or 0)
    else:
        serials = pick_serials(drugs, batch, sender, quantity, source)
    tx = drugs.ship(batch_id_ or batch.id, to, serials.as_arg(), epcis, {"from": sender})
    batch.used.setdefault(serials.source, set()).update(serials.tree.serials)
    batch.shipments[int(tx.return_value)] = (sender, to, serials.tree)
    return tx


def ship_and_receive(
    drugs: Any,
    batch: BatchFixture,
    sender: Any,
    recipient: Any,
    quantity: int | list[str],
    source: int | None = None,
) -> int:
    tx = ship(drugs, batch, sender, recipient, quantity, source=source)
    count = quantity if isinstance(quantity, int) else len(quantity)
    drugs.receiveShipment(tx.return_value, count, h("receive"), {"from": recipient})
    return int(tx.return_value)


def shipment_of(batch: BatchFixture, serial: str, who: Any) -> int:
    """The shipment to dispense `serial` from: one to `who` holding it, else the latest holding it."""
    holding = [sid for sid, (_, _, tree) in sorted(batch.shipments.items()) if serial in tree.serials]
    mine = [sid for sid in holding if batch.shipments[sid][1] == who]
    return (mine or holding or [0])[-1]


def commitment(batch_id_: str, root: bytes) -> str:
    """What getShipment returns as serialCommitment: keccak256(abi.encode(batchId, root))."""
    return "0x" + keccak(bytes.fromhex(batch_id_[2:]) + root).hex()


def shipment_proof(batch: BatchFixture, shipment: int, serial: str) -> list[str]:
    return ["0x" + p.hex() for p in batch.shipments[shipment][2].proof(serial)]


def dispense(
    drugs: Any,
    batch: BatchFixture,
    serial: str,
    who: Any,
    epcis: str = h("dispense"),
    shipment: int | None = None,
) -> Any:
    sid = shipment if shipment is not None else shipment_of(batch, serial, who)
    tree = batch.shipments[sid][2] if sid in batch.shipments else None
    proof = shipment_proof(batch, sid, serial) if tree is not None and serial in tree.serials else []
    return drugs.dispense(batch.id, sid, serial, proof, epcis, {"from": who})


def held(drugs: Any, batch_id_: str, member: Any) -> int:
    """Units of the batch `member` holds."""
    return int(drugs.stockOf(batch_id_, member)["held"])


def stock(drugs: Any, batch_id_: str, member: Any) -> tuple[int, int]:
    """(held, dispensed) of the batch for `member`."""
    s = drugs.stockOf(batch_id_, member)
    return int(s["held"]), int(s["dispensed"])


def dispensed(drugs: Any, batch_id_: str, holders: list[Any]) -> int:
    """Serials of the batch dispensed by `holders`."""
    return sum(int(drugs.stockOf(batch_id_, m)["dispensed"]) for m in holders)


def assert_conserved(drugs: Any, batch_id_: str, holders: list[Any]) -> None:
    """Σ (held + dispensed) over the holders + inTransit + lost == quantity for the batch."""
    b = drugs.getBatch(batch_id_)
    stocks = [drugs.stockOf(batch_id_, m) for m in holders]
    total = sum(s["held"] + s["dispensed"] for s in stocks)
    assert total + b["inTransit"] + b["lost"] == b["quantity"]


__all__ = ["batch_id"]
