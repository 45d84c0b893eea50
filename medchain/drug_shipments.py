"""The local store of shipments' serial lists (issue 12): what a sender shipped and a recipient received, so
that a re-shipment can prove its serials against their source and a dispense finds the proof of its serial.

DrugTrace stores per shipment only ``keccak256(abi.encode(batchId, serialRoot))``; the serials travel off
chain (the ship EPCIS document's epcList, or a JSON file) and are checked against that commitment here.
Trees are rebuilt from the stored serial lists (OZ StandardMerkleTree over ``(batchId, serial)``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator

from eth_abi import encode as abi_encode
from eth_utils import keccak

from medchain.serials import SerialTree

__all__ = ["commitment", "init", "save", "shipments_of", "shipped_from", "tree_of"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS drug_shipments (
    shipment_id INTEGER PRIMARY KEY,           -- DrugTrace shipment id
    batch_id    BLOB    NOT NULL,
    source      INTEGER NOT NULL,              -- 0 = the batch tree, else the shipment the serials came from
    serial_root BLOB    NOT NULL,
    serials     TEXT    NOT NULL,              -- JSON list of the shipped serials
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS drug_shipments_batch ON drug_shipments (batch_id);
"""


def init(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.executescript(_SCHEMA)
    return conn


def commitment(batch: bytes, root: bytes) -> bytes:
    """What getShipment returns as serialCommitment: keccak256(abi.encode(batchId, serialRoot))."""
    return keccak(abi_encode(["bytes32", "bytes32"], [batch, root]))


def save(conn: sqlite3.Connection, shipment_id: int, tree: SerialTree, source: int) -> None:
    """Remember shipment `shipment_id`'s serials (one statement: all or nothing)."""
    init(conn)
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO drug_shipments"
            " (shipment_id, batch_id, source, serial_root, serials, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (shipment_id, tree.batch_id, source, tree.root, json.dumps(list(tree.serials)), int(time.time())),
        )


def tree_of(conn: sqlite3.Connection, shipment_id: int) -> SerialTree | None:
    """The serial tree of a stored shipment (None if this store does not know it)."""
    init(conn)
    row = conn.execute(
        "SELECT batch_id, serials FROM drug_shipments WHERE shipment_id = ?", (shipment_id,)
    ).fetchone()
    return None if row is None else SerialTree.of(bytes(row[0]), json.loads(row[1]))


def shipments_of(conn: sqlite3.Connection, batch: bytes) -> Iterator[tuple[int, list[str]]]:
    """(shipment id, serials) of every stored shipment of `batch`, oldest first."""
    init(conn)
    for shipment_id, serials in conn.execute(
        "SELECT shipment_id, serials FROM drug_shipments WHERE batch_id = ? ORDER BY shipment_id", (batch,)
    ):
        yield int(shipment_id), json.loads(serials)


def shipped_from(conn: sqlite3.Connection, batch: bytes, source: int, exclude: set[int]) -> set[str]:
    """Serials this store shipped out of `source` (0: the batch tree), except shipments in `exclude`
    (cancelled or returned ones)."""
    init(conn)
    rows = conn.execute(
        "SELECT shipment_id, serials FROM drug_shipments WHERE batch_id = ? AND source = ?", (batch, source)
    )
    return {
        s for shipment_id, serials in rows if int(shipment_id) not in exclude for s in json.loads(serials)
    }
