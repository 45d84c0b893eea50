"""The local store of shipments' serial lists (issue 12): what a sender shipped and a recipient received, so
that a re-shipment can prove its serials against their source and a dispense finds the proof of its serial.

DrugTrace stores per shipment only ``keccak256(abi.encode(batchId, serialRoot))``; the serials travel off
chain (the ship EPCIS document's epcList, or a JSON file) and are checked against that commitment here.
Trees are rebuilt from the stored serial lists (OZ StandardMerkleTree over ``(batchId, serial)``).
"""

from __future__ import annotations

from collections.abc import Iterator

from eth_abi import encode as abi_encode
from eth_utils import keccak

from medchain.serials import SerialTree
from medchain.store import Connection
from medchain.store.serials import SerialTrees

__all__ = ["commitment", "init", "save", "shipments_of", "shipped_from", "source_of", "tree_of"]


def init(conn: Connection) -> Connection:
    """The store's shipment table exists (:mod:`medchain.store.schema` makes it)."""
    SerialTrees(conn)
    return conn


def commitment(batch: bytes, root: bytes) -> bytes:
    """What getShipment returns as serialCommitment: keccak256(abi.encode(batchId, serialRoot))."""
    return keccak(abi_encode(["bytes32", "bytes32"], [batch, root]))


def save(conn: Connection, shipment_id: int, tree: SerialTree, source: int) -> None:
    """Remember shipment `shipment_id`'s serials (one statement: all or nothing)."""
    SerialTrees(conn).save_shipment(shipment_id, tree, source)


def tree_of(conn: Connection, shipment_id: int) -> SerialTree | None:
    """The serial tree of a stored shipment (None if this store does not know it)."""
    found = SerialTrees(conn).shipment(shipment_id)
    return None if found is None else SerialTree.of(found[0], found[1])


def source_of(conn: Connection, shipment_id: int) -> int:
    """Where a stored shipment's serials came from (0: the batch tree, or not stored)."""
    found = SerialTrees(conn).shipment(shipment_id)
    return 0 if found is None else found[2]


def shipments_of(conn: Connection, batch: bytes) -> Iterator[tuple[int, list[str]]]:
    """(shipment id, serials) of every stored shipment of `batch`, oldest first."""
    yield from SerialTrees(conn).shipments_of(batch)


def shipped_from(conn: Connection, batch: bytes, source: int, exclude: set[int]) -> set[str]:
    """Serials this store shipped out of `source` (0: the batch tree), except shipments in `exclude`
    (cancelled or returned ones)."""
    return {
        s
        for shipment_id, serials in SerialTrees(conn).shipped_from(batch, source)
        if shipment_id not in exclude
        for s in serials
    }
