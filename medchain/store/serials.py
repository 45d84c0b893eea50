"""Drug serial trees, shipments' serial lists and EPCIS documents (tables ``drug_batches``,
``drug_serials``, ``drug_epcis``, ``drug_shipments``); :mod:`medchain.drugs` and
:mod:`medchain.drug_shipments` drive them."""

from __future__ import annotations

import json
import sqlite3
import time
from array import array
from collections.abc import Iterator

from medchain.merkle import proof_from_reader
from medchain.serials import SerialTree
from medchain.store import transaction
from medchain.store.schema import migrate

__all__ = ["SerialTrees"]


class SerialTrees:
    """The serial trees and shipments one store keeps."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        migrate(conn)

    # ---- batch trees ----

    def save_tree(self, tree: SerialTree, gtin: str, lot: str, source: str) -> None:
        """The tree and one row per serial, in one transaction (replacing an earlier copy)."""
        order = array("I", tree.tree.order)
        rows = [(tree.batch_id, serial, tree.tree.tree_index(i)) for i, serial in enumerate(tree.serials)]
        with transaction(self.conn) as conn:
            conn.execute("DELETE FROM drug_serials WHERE batch_id = ?", (tree.batch_id,))
            conn.execute(
                "INSERT OR REPLACE INTO drug_batches"
                " (batch_id, gtin, lot, serial_root, nodes, leaf_order, source, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (tree.batch_id, gtin, lot, tree.root, tree.tree.nodes, order.tobytes(), source,
                 int(time.time())),
            )  # fmt: skip
            conn.executemany("INSERT INTO drug_serials (batch_id, serial, tree_index) VALUES (?, ?, ?)", rows)

    def save_leaves(self, batch: bytes, gtin: str, lot: str, nodes: bytes) -> None:
        """A batch tree without its serials (a published tree, checked against the chain by the caller): the
        flat nodes only, no leaf order and no serial rows; replaces an earlier copy."""
        with transaction(self.conn) as conn:
            conn.execute("DELETE FROM drug_serials WHERE batch_id = ?", (batch,))
            conn.execute(
                "INSERT OR REPLACE INTO drug_batches"
                " (batch_id, gtin, lot, serial_root, nodes, leaf_order, source, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'imported', ?)",
                (batch, gtin, lot, nodes[:32], nodes, b"", int(time.time())),
            )

    def cache_leaves(self, batch: bytes, gtin: str, lot: str, nodes: bytes) -> bool:
        """`save_leaves` as a cache: never over a stored tree that has its serials, and a failed write (e.g. a
        concurrent fetch writing the same row) is not an error. True if written."""
        if self.serials(batch):
            return False
        try:
            self.save_leaves(batch, gtin, lot, nodes)
        except sqlite3.Error:
            return False
        return True

    def stored_nodes(self, batch: bytes) -> tuple[str, str, bytes] | None:
        """(GTIN, lot, flat nodes) of the stored tree of `batch`, with or without its serials, or None."""
        row = self.conn.execute(
            "SELECT gtin, lot, nodes FROM drug_batches WHERE batch_id = ?", (batch,)
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), bytes(row[2]))

    def set_commission_tx(self, batch: bytes, tx_hash: bytes | None) -> None:
        self.conn.execute("UPDATE drug_batches SET tx_hash = ? WHERE batch_id = ?", (tx_hash, batch))

    def proof(self, batch: bytes, serial: str) -> list[bytes] | None:
        """The serial's proof from the stored tree, read node by node (None: no such serial here)."""
        row = self.conn.execute(
            "SELECT s.tree_index, b.rowid FROM drug_serials s JOIN drug_batches b ON b.batch_id = s.batch_id "
            "WHERE s.batch_id = ? AND s.serial = ?",
            (batch, serial),
        ).fetchone()
        if row is None:
            return None
        tree_index, rowid = int(row[0]), int(row[1])
        with self.conn.blobopen("drug_batches", "nodes", rowid, readonly=True) as blob:

            def read(index: int) -> bytes:
                blob.seek(index * 32)
                return blob.read(32)

            return proof_from_reader(read, tree_index)

    def flat_tree(self, batch: bytes) -> tuple[bytes, array, list[tuple[str, int]]] | None:
        """(nodes, leaf order, [(serial, tree index)]) of a stored batch tree, or None."""
        row = self.conn.execute(
            "SELECT nodes, leaf_order FROM drug_batches WHERE batch_id = ?", (batch,)
        ).fetchone()
        if row is None:
            return None
        order = array("I")
        order.frombytes(bytes(row[1]))
        serials = self.conn.execute(
            "SELECT serial, tree_index FROM drug_serials WHERE batch_id = ?", (batch,)
        )
        return bytes(row[0]), order, [(str(s), int(i)) for s, i in serials]

    def serials(self, batch: bytes) -> list[str]:
        """The serials of a stored batch tree (empty: none stored)."""
        rows = self.conn.execute("SELECT serial FROM drug_serials WHERE batch_id = ?", (batch,))
        return [str(r[0]) for r in rows]

    # ---- EPCIS documents ----

    def save_document(
        self, doc_hash: bytes, kind: str, batch: bytes | None, document: str, tx_hash: bytes | None
    ) -> None:
        self.conn.execute(
            "INSERT INTO drug_epcis (hash, kind, batch_id, document, tx_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (hash) DO UPDATE SET tx_hash = COALESCE(excluded.tx_hash, drug_epcis.tx_hash)",
            (doc_hash, kind, batch, document, tx_hash, int(time.time())),
        )

    # ---- shipments' serial lists ----

    def save_shipment(self, shipment_id: int, tree: SerialTree, source: int) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO drug_shipments"
            " (shipment_id, batch_id, source, serial_root, serials, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (shipment_id, tree.batch_id, source, tree.root, json.dumps(list(tree.serials)), int(time.time())),
        )

    def shipment(self, shipment_id: int) -> tuple[bytes, list[str], int] | None:
        """(batch id, serials, source) of a stored shipment, or None."""
        row = self.conn.execute(
            "SELECT batch_id, serials, source FROM drug_shipments WHERE shipment_id = ?", (shipment_id,)
        ).fetchone()
        return None if row is None else (bytes(row[0]), list(json.loads(row[1])), int(row[2]))

    def shipments_of(self, batch: bytes) -> Iterator[tuple[int, list[str]]]:
        """(shipment id, serials) of every stored shipment of `batch`, oldest first."""
        rows = self.conn.execute(
            "SELECT shipment_id, serials FROM drug_shipments WHERE batch_id = ? ORDER BY shipment_id",
            (batch,),
        ).fetchall()
        for shipment_id, serials in rows:
            yield int(shipment_id), json.loads(serials)

    def shipped_from(self, batch: bytes, source: int) -> Iterator[tuple[int, list[str]]]:
        """(shipment id, serials) of the stored shipments out of `source` (0: the batch tree)."""
        rows = self.conn.execute(
            "SELECT shipment_id, serials FROM drug_shipments WHERE batch_id = ? AND source = ?",
            (batch, source),
        ).fetchall()
        for shipment_id, serials in rows:
            yield int(shipment_id), json.loads(serials)
