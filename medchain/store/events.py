"""The event index (tables ``index_txs``, ``events``, ``event_subjects``, ``index_state``, ``index_blocks``):
a cache of the suite's events on one chain, written by :class:`medchain.indexer.Indexer` through
:class:`EventIndex` and read by the reports through the query functions below."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eth_utils import to_checksum_address

from medchain.store import transaction
from medchain.store.schema import migrate

__all__ = [
    "SELECT_EVENTS",
    "EventIndex",
    "events_by_tx_sender",
    "events_named",
    "events_touching",
    "events_touching_any",
    "index_info",
    "indexed_chains",
]


class EventIndex:
    """One chain's part of the event index."""

    def __init__(self, conn: sqlite3.Connection, chain_id: int) -> None:
        self.conn = conn
        self.chain_id = int(chain_id)
        migrate(conn)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One page of events is written atomically."""
        with transaction(self.conn):
            yield

    def last_block(self) -> int:
        row = self.conn.execute(
            "SELECT last_block FROM index_state WHERE chain_id = ?", (self.chain_id,)
        ).fetchone()
        return int(row[0]) if row else -1

    def state(self) -> tuple[list[str], int, int] | None:
        """(indexed addresses, first block, last block), or None before the first run."""
        row = self.conn.execute(
            "SELECT addresses, first_block, last_block FROM index_state WHERE chain_id = ?", (self.chain_id,)
        ).fetchone()
        return None if row is None else (json.loads(row[0]), int(row[1]), int(row[2]))

    def checkpoints(self) -> list[tuple[int, str]]:
        """The stored block hashes (reorg checkpoints), oldest first."""
        rows = self.conn.execute(
            "SELECT number, hash FROM index_blocks WHERE chain_id = ? ORDER BY number", (self.chain_id,)
        )
        return [(int(n), str(h)) for n, h in rows]

    def add_txs(self, txs: dict[str, tuple[int, str | None]]) -> None:
        """tx hash -> (block number, sender); already known ones are kept."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO index_txs (chain_id, hash, block_number, sender) VALUES (?,?,?,?)",
            [(self.chain_id, h, n, sender) for h, (n, sender) in txs.items()],
        )

    def tx_ids(self, hashes: list[str]) -> dict[str, int]:
        ids: dict[str, int] = {}
        for i in range(0, len(hashes), 500):
            part = hashes[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self.conn.execute(
                f"SELECT hash, id FROM index_txs WHERE chain_id = ? AND hash IN ({marks})",
                (self.chain_id, *part),
            )
            ids.update((str(h), int(n)) for h, n in rows)
        return ids

    def next_event_id(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]) + 1

    def add_events(
        self,
        rows: Sequence[tuple[Any, ...]],
        subjects: Sequence[tuple[int, str, str]],
        block_hashes: dict[int, str],
        last_block: int,
    ) -> None:
        """A page's events (id, chain id, block, log index, tx id, time, contract, event, args JSON), their
        subjects, the page's block hashes, and the new last indexed block."""
        self.conn.executemany(
            "INSERT INTO events (id, chain_id, block_number, log_index, tx_id, timestamp, contract,"
            " event, args) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
        self.conn.executemany(
            "INSERT OR IGNORE INTO event_subjects (event_id, arg, value) VALUES (?,?,?)", subjects
        )
        self.conn.executemany(
            "INSERT OR REPLACE INTO index_blocks (chain_id, number, hash) VALUES (?,?,?)",
            [(self.chain_id, n, h) for n, h in block_hashes.items()],
        )
        self.conn.execute(
            "UPDATE index_state SET last_block = ?, updated_at = ? WHERE chain_id = ?",
            (last_block, int(time.time()), self.chain_id),
        )

    def forget_from(self, block: int, *, first: int | None = None, addresses: list[str] | None = None) -> int:
        """Drops what was indexed from `block` on; with `addresses`, (re)writes the state row so the next
        page continues at `block` (without, the chain's state row goes). Returns the events dropped."""
        with transaction(self.conn) as conn:
            params = (self.chain_id, block)
            conn.execute(
                "DELETE FROM event_subjects WHERE event_id IN "
                "(SELECT id FROM events WHERE chain_id = ? AND block_number >= ?)",
                params,
            )
            dropped = conn.execute(
                "DELETE FROM events WHERE chain_id = ? AND block_number >= ?", params
            ).rowcount
            conn.execute("DELETE FROM index_txs WHERE chain_id = ? AND block_number >= ?", params)
            conn.execute("DELETE FROM index_blocks WHERE chain_id = ? AND number >= ?", params)
            if addresses is None:
                conn.execute("DELETE FROM index_state WHERE chain_id = ?", (self.chain_id,))
            else:
                conn.execute(
                    "INSERT INTO index_state (chain_id, addresses, first_block, last_block, updated_at) "
                    "VALUES (?,?,?,?,?) ON CONFLICT(chain_id) DO UPDATE SET addresses = excluded.addresses, "
                    "first_block = excluded.first_block, last_block = excluded.last_block, "
                    "updated_at = excluded.updated_at",
                    (self.chain_id, json.dumps(addresses), first if first is not None else block, block - 1,
                     int(time.time())),
                )  # fmt: skip
        return max(0, int(dropped))


# ---- queries (reports build on these) ----


#: the `event_log` view's columns, written out so each query can steer SQLite to its selective index
SELECT_EVENTS = (
    "SELECT e.id, e.chain_id, e.block_number, b.hash AS block_hash, t.hash AS tx_hash, e.log_index, "
    "e.timestamp, e.contract, e.event, e.args, t.sender AS tx_from FROM events e "
    "JOIN index_txs t ON t.id = e.tx_id "
    "LEFT JOIN index_blocks b ON b.chain_id = e.chain_id AND b.number = e.block_number "
)


def indexed_chains(conn: sqlite3.Connection) -> list[int]:
    """Chain ids that have an index in this store."""
    try:
        return [int(r[0]) for r in conn.execute("SELECT chain_id FROM index_state ORDER BY chain_id")]
    except sqlite3.OperationalError:  # no index tables at all
        return []


def index_info(conn: sqlite3.Connection, chain_id: int) -> dict[str, Any] | None:
    """The chain's index state (addresses, first/last block, update time, event count); None if none."""
    try:
        row = conn.execute(
            "SELECT addresses, first_block, last_block, updated_at FROM index_state WHERE chain_id = ?",
            (chain_id,),
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    if row is None:
        return None
    count = conn.execute("SELECT COUNT(*) FROM events WHERE chain_id = ?", (chain_id,)).fetchone()[0]
    return {
        "chainId": chain_id,
        "addresses": json.loads(row[0]),
        "firstBlock": int(row[1]),
        "lastBlock": int(row[2]),
        "updatedAt": int(row[3]),
        "events": int(count),
    }


def events_touching(conn: sqlite3.Connection, chain_id: int, value: str) -> list[dict[str, Any]]:
    """Every indexed event with an argument equal to `value` (address, bytes32, or `claimId=7`), in order."""
    return events_touching_any(conn, chain_id, [value])


def events_touching_any(
    conn: sqlite3.Connection, chain_id: int, values: Iterable[str]
) -> list[dict[str, Any]]:
    """Every indexed event with an argument equal to any of `values`, each once, in chain order."""
    keys = sorted({v.lower() if v.startswith("0x") else v for v in values})
    if not keys:
        return []
    out: dict[int, sqlite3.Row] = {}
    for i in range(0, len(keys), 500):
        part = keys[i : i + 500]
        rows = _query(
            conn,
            SELECT_EVENTS + "WHERE e.id IN (SELECT event_id FROM event_subjects WHERE value IN "
            f"({','.join('?' * len(part))})) AND +e.chain_id = ?",
            (*part, chain_id),
        )
        out.update((int(r["id"]), r) for r in rows)
    return [_row(r) for r in sorted(out.values(), key=lambda r: (r["block_number"], r["log_index"]))]


def events_by_tx_sender(
    conn: sqlite3.Connection, chain_id: int, senders: Iterable[str]
) -> list[dict[str, Any]]:
    """Indexed events of transactions sent by any of `senders` (needs an index built with senders=True)."""
    keys = sorted({s.lower() for s in senders})
    if not keys:
        return []
    rows = _query(
        conn,
        SELECT_EVENTS + "WHERE e.tx_id IN (SELECT id FROM index_txs WHERE chain_id = ? AND sender IN "
        f"({','.join('?' * len(keys))})) AND +e.chain_id = ? ORDER BY e.block_number + 0, e.log_index",
        (chain_id, *keys, chain_id),
    )
    return [_row(r) for r in rows]


def events_named(
    conn: sqlite3.Connection, chain_id: int, contract: str, names: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Indexed events of one contract (optionally only some event names), in chain order."""
    names = list(names)
    sql = SELECT_EVENTS + "WHERE e.chain_id = ? AND e.contract = ?"
    params: list[Any] = [chain_id, contract]
    if names:
        sql += f" AND e.event IN ({','.join('?' * len(names))})"
        params += names
    # `+ 0`: sort after the lookup instead of walking the whole chain in block order
    rows = _query(conn, sql + " ORDER BY e.block_number + 0, e.log_index", params)
    return [_row(r) for r in rows]


def _query(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[sqlite3.Row]:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return list(cursor.execute(sql, params).fetchall())


def _row(row: sqlite3.Row) -> dict[str, Any]:
    sender = row["tx_from"]
    return {
        "block": row["block_number"],
        "blockHash": row["block_hash"],
        "timestamp": row["timestamp"],
        "tx": row["tx_hash"],
        "logIndex": row["log_index"],
        "contract": row["contract"],
        "event": row["event"],
        "args": json.loads(row["args"]),
        "txFrom": to_checksum_address(sender) if sender else None,
    }
