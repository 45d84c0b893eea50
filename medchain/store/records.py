"""The durable record journal (tables ``record_*`` of the local store): what the chain cannot give back later.

Every anchoring goes through a *submission*: its records (leaves), and for a Merkle batch the whole tree, are
written in one SQLite transaction **before** its transaction is sent (status ``prepared``); the tx hash is
recorded as soon as the node accepts it (``sent``); the receipt (or the chain state) marks it ``done``. A
crash or a node restart at any point leaves a submission that :func:`medchain.records.settle` drives to
``done`` by asking the chain first (is the root / are the leaves already anchored?) and sending only what is
missing, so every record is anchored exactly once and every batch proof stays on disk.

Salts are not stored: each record's salt is derived from the hospital's salt key (:mod:`medchain.salts`,
DESIGN §6.3 v2), which :attr:`Journal.keys` (:class:`medchain.store.keys.SaltKeys`) keeps in the same
database, sealed with the store passphrase.

Storage is O(N) per batch: one row per record plus the flat OZ tree as one blob (64 bytes per record); a
proof is read from the blob node by node (``sqlite3.Blob``), never materialised per record.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from eth_utils import to_checksum_address

from medchain.errors import InputError
from medchain.hashing import check_data_class, record_leaf
from medchain.merkle import RECORD_LEAF_ENCODING, StandardMerkleTree, proof_from_reader
from medchain.store import transaction
from medchain.store.keys import SaltKeys
from medchain.store.schema import KEY_PREFIX, migrate

__all__ = ["Item", "Journal", "JournalItem", "Submission", "fault_point"]

Status = Literal["prepared", "sent", "done", "conflict"]
Kind = Literal["records", "amend", "batch"]

_IN_CHUNK = 900  # SQLite's default limit on host parameters is 999


def fault_point(name: str) -> None:
    """Crash-test hook: ``MEDCHAIN_FAULT=<name>`` makes the process SIGKILL itself here (no cleanup)."""
    if os.environ.get("MEDCHAIN_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Item:
    """A record to anchor: its on-chain values plus what the hospital keeps locally."""

    record_hash: bytes
    commitment: bytes
    data_class: int
    method: str
    source: str = ""
    patient: str | None = None

    @property
    def leaf(self) -> bytes:
        return record_leaf(self.record_hash, self.commitment, self.data_class)

    @property
    def value(self) -> tuple[bytes, bytes, int]:
        """The OZ StandardMerkleTree value ``(recordHash, patientCommitment, dataClass)``."""
        return (self.record_hash, self.commitment, self.data_class)


@dataclass(frozen=True)
class Submission:
    id: int
    chain_id: int
    registry: str
    hospital: str
    kind: Kind
    root: bytes | None
    previous: bytes | None
    leaf_count: int
    uri: str
    source: str
    status: Status
    tx_hash: bytes | None
    block_number: int | None
    anchored_at: int | None
    attempts: int
    note: str


@dataclass(frozen=True)
class JournalItem:
    """A journaled record with its submission."""

    submission: Submission
    value_index: int
    leaf: bytes
    record_hash: bytes
    commitment: bytes
    data_class: int
    patient: str | None
    method: str
    source: str
    state: str


class Journal:
    """One chain's and one RecordRegistry's view of the store."""

    def __init__(self, conn: sqlite3.Connection, chain_id: int, registry: str) -> None:
        self.conn = conn
        self.chain_id = int(chain_id)
        self.registry = to_checksum_address(registry)
        migrate(conn)
        self.keys = SaltKeys(conn)
        self._salt_keys: dict[str, bytes] = {}

    # ---- writing ----

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything or nothing reaches the file."""
        with transaction(self.conn) as conn:
            yield conn

    def create(
        self,
        kind: Kind,
        hospital: str,
        items: Sequence[Item],
        *,
        tree: StandardMerkleTree | None = None,
        uri: str = "",
        source: str = "",
        leaves: Sequence[bytes] | None = None,
        previous: bytes | None = None,
    ) -> Submission:
        """Writes a submission in ``prepared`` state with all its records (and tree) in one transaction.

        ``leaves`` may pass precomputed leaf hashes (a batch's tree already has them)."""
        if not items:
            raise InputError("nothing to anchor")
        if kind == "batch" and (tree is None or len(tree) != len(items)):
            raise ValueError("a batch submission needs its tree")
        now = int(time.time())
        root = tree.root if tree is not None else None
        leaf_of = (lambda i: leaves[i]) if leaves is not None else (lambda i: items[i].leaf)
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO record_submissions (chain_id, registry, hospital, kind, root, previous,"
                " leaf_count, uri, source, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'prepared', ?, ?)",
                (
                    self.chain_id,
                    self.registry,
                    hospital,
                    kind,
                    root,
                    previous,
                    len(items),
                    uri,
                    source,
                    now,
                    now,
                ),
            )
            sub_id = int(cursor.lastrowid or 0)
            conn.executemany(
                "INSERT INTO record_items (submission_id, value_index, leaf, record_hash, commitment,"
                " data_class, patient, method, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (sub_id, i, leaf_of(i), it.record_hash, it.commitment, it.data_class, it.patient,
                     it.method, it.source)
                    for i, it in enumerate(items)
                ),
            )  # fmt: skip
            if tree is not None:
                conn.execute(
                    "INSERT INTO record_trees (submission_id, nodes, leaf_order) VALUES (?, ?, ?)",
                    (sub_id, tree.nodes, tree.order.tobytes()),
                )
        return self.get(sub_id)

    def mark_sent(self, sub_id: int, tx_hash: bytes) -> None:
        self.conn.execute(
            "UPDATE record_submissions SET status = 'sent', tx_hash = ?, attempts = attempts + 1,"
            " updated_at = ? WHERE id = ?",
            (bytes(tx_hash), int(time.time()), sub_id),
        )

    def mark_done(
        self,
        sub_id: int,
        *,
        tx_hash: bytes | None,
        block_number: int | None,
        anchored_at: int | None,
        anchored: Iterable[int] | None = None,
        conflicts: Iterable[int] = (),
        note: str = "",
    ) -> None:
        """Marks a submission settled; ``anchored``/``conflicts`` are value indexes (default: all anchored).
        A submission none of whose records we anchored (all taken by another hospital) ends ``conflict``."""
        now = int(time.time())
        anchored_list = None if anchored is None else list(anchored)
        conflict_list = list(conflicts)
        status = "conflict" if anchored_list == [] and conflict_list else "done"
        with self._tx() as conn:
            if anchored_list is None:
                conn.execute("UPDATE record_items SET state = 'anchored' WHERE submission_id = ?", (sub_id,))
            else:
                conn.executemany(
                    "UPDATE record_items SET state = 'anchored' WHERE submission_id = ? AND value_index = ?",
                    ((sub_id, i) for i in anchored_list),
                )
            conn.executemany(
                "UPDATE record_items SET state = 'conflict' WHERE submission_id = ? AND value_index = ?",
                ((sub_id, i) for i in conflict_list),
            )
            conn.execute(
                "UPDATE record_submissions SET status = ?, tx_hash = COALESCE(?, tx_hash), block_number = ?,"
                " anchored_at = ?, note = ?, updated_at = ? WHERE id = ?",
                (status, tx_hash, block_number, anchored_at, note, now, sub_id),
            )

    def mark_conflict(self, sub_id: int, note: str) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE record_items SET state = 'conflict' WHERE submission_id = ?", (sub_id,))
            conn.execute(
                "UPDATE record_submissions SET status = 'conflict', note = ?, updated_at = ? WHERE id = ?",
                (note, int(time.time()), sub_id),
            )

    def reopen(self, sub_id: int, note: str) -> None:
        """Back to ``prepared`` (its items ``pending``): the chain lost what the journal recorded as done (a
        reorg removed the anchoring transaction), so the next settle anchors it again."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE record_items SET state = 'pending' WHERE submission_id = ? AND state = 'anchored'",
                (sub_id,),
            )
            conn.execute(
                "UPDATE record_submissions SET status = 'prepared', note = ?, updated_at = ? WHERE id = ?",
                (note, int(time.time()), sub_id),
            )

    # ---- reading ----

    def done_holding(self, leaves: Sequence[bytes]) -> list[Submission]:
        """The ``done`` submissions that anchored any of ``leaves``, oldest first."""
        rows = self._by_leaves("s.id AS sid", "s.status = 'done' AND i.state = 'anchored'", leaves)
        return [self.get(i) for i in sorted({int(r["sid"]) for r in rows})]

    def _by_leaves(self, columns: str, condition: str, leaves: Sequence[bytes]) -> Iterator[sqlite3.Row]:
        """``i.leaf`` and `columns` of this journal's items (i) joined with their submissions (s) where
        `condition` holds and the leaf is one of `leaves` (queried in chunks under SQLite's variable limit).
        The index holds leaf prefixes (schema version 3): the rows it finds are kept if the whole leaf is
        wanted."""
        for start in range(0, len(leaves), _IN_CHUNK):
            wanted = {bytes(leaf) for leaf in leaves[start : start + _IN_CHUNK]}
            prefixes = sorted({leaf[:KEY_PREFIX] for leaf in wanted})
            marks = ",".join("?" * len(prefixes))
            rows = self.conn.execute(
                # CROSS JOIN: the items are the outer loop, found by leaf prefix (record_items_leaf_prefix);
                # with a plain JOIN SQLite walks every item of the registry for a long list
                f"SELECT i.leaf, {columns} FROM record_items i CROSS JOIN record_submissions s"
                f" ON s.id = i.submission_id WHERE s.chain_id = ? AND s.registry = ? AND {condition}"
                f" AND substr(i.leaf, 1, {KEY_PREFIX}) IN ({marks})",
                (self.chain_id, self.registry, *prefixes),
            )
            yield from (row for row in rows if bytes(row[0]) in wanted)

    def get(self, sub_id: int) -> Submission:
        row = self.conn.execute("SELECT * FROM record_submissions WHERE id = ?", (sub_id,)).fetchone()
        if row is None:
            raise InputError(f"no submission {sub_id} in the journal")
        return _submission(row)

    def by_root(self, root: bytes) -> Submission | None:
        row = self.conn.execute(
            "SELECT * FROM record_submissions WHERE chain_id = ? AND registry = ? AND root = ?",
            (self.chain_id, self.registry, root),
        ).fetchone()
        return _submission(row) if row is not None else None

    def unfinished(self) -> list[Submission]:
        """Submissions not yet settled (prepared or sent), oldest first."""
        rows = self.conn.execute(
            "SELECT * FROM record_submissions WHERE chain_id = ? AND registry = ?"
            " AND status IN ('prepared', 'sent') ORDER BY id",
            (self.chain_id, self.registry),
        ).fetchall()
        return [_submission(r) for r in rows]

    def submissions(self) -> list[Submission]:
        rows = self.conn.execute(
            "SELECT * FROM record_submissions WHERE chain_id = ? AND registry = ? ORDER BY id",
            (self.chain_id, self.registry),
        ).fetchall()
        return [_submission(r) for r in rows]

    def items(self, sub_id: int) -> list[JournalItem]:
        sub = self.get(sub_id)
        rows = self.conn.execute(
            "SELECT * FROM record_items WHERE submission_id = ? ORDER BY value_index", (sub_id,)
        ).fetchall()
        return [_item(sub, r) for r in rows]

    def item(self, sub_id: int, value_index: int) -> JournalItem:
        row = self.conn.execute(
            "SELECT * FROM record_items WHERE submission_id = ? AND value_index = ?", (sub_id, value_index)
        ).fetchone()
        if row is None:
            raise InputError(f"submission {sub_id} has no record {value_index}")
        return _item(self.get(sub_id), row)

    def values(self, sub_id: int) -> list[tuple[bytes, bytes, int]]:
        """A submission's OZ values in value-index order."""
        rows = self.conn.execute(
            "SELECT record_hash, commitment, data_class FROM record_items WHERE submission_id = ?"
            " ORDER BY value_index",
            (sub_id,),
        )
        return [(bytes(a), bytes(b), int(c)) for a, b, c in rows]

    def journaled(self, leaves: Sequence[bytes]) -> set[bytes]:
        """Which of ``leaves`` this journal already holds in a live (not conflicted) submission."""
        return {bytes(r[0]) for r in self._by_leaves("i.state", "i.state != 'conflict'", leaves)}

    def find(self, *, leaf: bytes | None = None, record_hash: bytes | None = None) -> list[JournalItem]:
        """Journaled records by leaf or by record hash (newest submission first)."""
        column, value = ("leaf", leaf) if leaf is not None else ("record_hash", record_hash)
        value = bytes(value or b"")
        rows = self.conn.execute(  # the index holds the prefix (schema version 3), the row the whole value
            f"SELECT i.*, s.id AS sid FROM record_items i JOIN record_submissions s ON s.id = i.submission_id"
            f" WHERE s.chain_id = ? AND s.registry = ? AND substr(i.{column}, 1, {KEY_PREFIX}) = ?"
            f" AND i.{column} = ? ORDER BY s.id DESC",
            (self.chain_id, self.registry, value[:KEY_PREFIX], value),
        ).fetchall()
        return [_item(self.get(int(r["sid"])), r) for r in rows]

    def other_hashes(self, record_hash: bytes) -> set[bytes]:
        """The document's other record hash (DESIGN §6.6: a FHIR JSON file hashes as its bytes or as its
        canonical JSON), from the source files of the journaled records with ``record_hash`` that are still
        readable here; empty when none is."""
        from pathlib import Path

        from medchain.hashing import METHOD_FHIR, hash_file

        others: set[bytes] = set()
        for item in self.find(record_hash=record_hash):
            if not item.source or not Path(item.source).is_file():
                continue
            try:
                other = hash_file(item.source, mode="raw" if item.method == METHOD_FHIR else "fhir")
            except InputError:  # not FHIR JSON: its bytes are its only hash
                continue
            others.add(other.record_hash)
        others.discard(bytes(record_hash))
        return others

    def tree_index(self, sub_id: int, value_index: int) -> int:
        """OZ ``treeIndex`` of a batch value: from the stored leaf order (searched as raw uint32s)."""
        order = self._order(sub_id)
        position = order.index(value_index)
        return 2 * len(order) - 2 - position

    def proof(self, sub_id: int, value_index: int) -> list[bytes]:
        """The batch proof of one record, read node by node from the stored tree (no full load)."""
        tree_index = self.tree_index(sub_id, value_index)
        rowid = self.conn.execute(
            "SELECT rowid FROM record_trees WHERE submission_id = ?", (sub_id,)
        ).fetchone()[0]
        with self.conn.blobopen("record_trees", "nodes", rowid, readonly=True) as blob:

            def read(index: int) -> bytes:
                blob.seek(index * 32)
                return blob.read(32)

            return proof_from_reader(read, tree_index)

    def tree(self, sub_id: int) -> StandardMerkleTree:
        """The whole stored tree of a batch (for bulk proof export)."""
        row = self.conn.execute(
            "SELECT nodes, leaf_order FROM record_trees WHERE submission_id = ?", (sub_id,)
        ).fetchone()
        if row is None:
            raise InputError(f"submission {sub_id} has no stored tree")
        order = array("I")
        order.frombytes(bytes(row["leaf_order"]))
        return StandardMerkleTree.from_nodes(RECORD_LEAF_ENCODING, bytes(row["nodes"]), order)

    def _order(self, sub_id: int) -> array:
        row = self.conn.execute(
            "SELECT leaf_order FROM record_trees WHERE submission_id = ?", (sub_id,)
        ).fetchone()
        if row is None:
            raise InputError(f"submission {sub_id} has no stored tree")
        order = array("I")
        order.frombytes(bytes(row[0]))
        return order

    # ---- salts (DESIGN 6.3 v2: one per record, derived from the hospital's key) ----

    def salt(self, hospital: str, patient: str, record_hash: bytes, data_class: int) -> bytes:
        """The record's own salt (InputError naming the fix if this store has no key for ``hospital``)."""
        return self.keys.salt(hospital, patient, record_hash, data_class)

    def salt_key(self, hospital: str) -> bytes:
        """The hospital's salt key for anchoring: created on the first anchoring into a store that has
        journaled nothing for ``hospital``; a store with journaled records but no key refuses (restore it).
        Remembered per hospital: anchoring asks once per record."""
        key = self._salt_keys.get(hospital) or self.keys.get(hospital)
        if key is not None:
            self._salt_keys[hospital] = key
            return key
        journaled = self.conn.execute(
            "SELECT 1 FROM record_submissions WHERE hospital = ? LIMIT 1", (to_checksum_address(hospital),)
        ).fetchone()
        if journaled is not None:
            return self.keys.require(hospital)  # raises with the restore command
        return self.keys.create(hospital)


def _submission(row: Any) -> Submission:
    return Submission(
        id=int(row["id"]),
        chain_id=int(row["chain_id"]),
        registry=str(row["registry"]),
        hospital=str(row["hospital"]),
        kind=row["kind"],
        root=bytes(row["root"]) if row["root"] is not None else None,
        previous=bytes(row["previous"]) if row["previous"] is not None else None,
        leaf_count=int(row["leaf_count"]),
        uri=str(row["uri"]),
        source=str(row["source"]),
        status=row["status"],
        tx_hash=bytes(row["tx_hash"]) if row["tx_hash"] is not None else None,
        block_number=row["block_number"],
        anchored_at=row["anchored_at"],
        attempts=int(row["attempts"]),
        note=str(row["note"]),
    )


def _item(sub: Submission, row: Any) -> JournalItem:
    return JournalItem(
        submission=sub,
        value_index=int(row["value_index"]),
        leaf=bytes(row["leaf"]),
        record_hash=bytes(row["record_hash"]),
        commitment=bytes(row["commitment"]),
        data_class=check_data_class(int(row["data_class"])),
        patient=row["patient"],
        method=str(row["method"]),
        source=str(row["source"]),
        state=str(row["state"]),
    )
