"""DrugTrace test helpers: batch factory, dispensing with proofs, enum values, quantity conservation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brownie import chain
from eth_utils import keccak

from medchain.serials import SerialTree, batch_id, gtin_number

YEAR = 365 * 24 * 3600
ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = "0x" + "00" * 32

# IDrugTrace.BatchStatus / ShipmentStatus
NONE, ACTIVE, RECALLED = 0, 1, 2
IN_TRANSIT, RECEIVED = 1, 2

GTIN = "09506000134352"  # GS1's example GTIN-14 (valid check digit)
GTIN2 = "04006381333931"  # an EAN-13 as GTIN-14
GTIN_N = gtin_number(GTIN)
GTIN2_N = gtin_number(GTIN2)


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


def ship_and_receive(drugs: Any, batch: BatchFixture, sender: Any, recipient: Any, quantity: int) -> int:
    tx = drugs.ship(batch.id, recipient, quantity, h("ship"), {"from": sender})
    drugs.receiveShipment(tx.return_value, quantity, h("receive"), {"from": recipient})
    return int(tx.return_value)


def dispense(drugs: Any, batch: BatchFixture, serial: str, who: Any, epcis: str = h("dispense")) -> Any:
    return drugs.dispense(batch.id, serial, batch.proof(serial), epcis, {"from": who})


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
