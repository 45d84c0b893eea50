"""Event indexer: every event of the suite into SQLite, for audit reports.

Pages `eth_getLogs` by block ranges that halve when the node refuses a range (too many results, too
large a range) and grow again after successes; resumes from the last indexed block; re-reads a
confirmation window of recent blocks on every run so a reorg of those blocks is repaired.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eth_utils import event_abi_to_log_topic
from hexbytes import HexBytes
from web3 import Web3
from web3._utils.events import get_event_data
from web3.exceptions import Web3RPCError
from web3.utils.abi import filter_abi_by_type

from medchain.contracts import PARTS, Suite
from medchain.errors import ChainError

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    contract TEXT NOT NULL,
    address TEXT NOT NULL,
    event TEXT NOT NULL,
    args TEXT NOT NULL,
    UNIQUE (chain_id, block_hash, log_index)
);
CREATE INDEX IF NOT EXISTS events_block ON events (chain_id, block_number);
CREATE INDEX IF NOT EXISTS events_name ON events (chain_id, contract, event);
-- every address / bytes32 / id argument of an event, so "all events touching X" is one indexed lookup
CREATE TABLE IF NOT EXISTS event_subjects (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    arg TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS subjects_value ON event_subjects (value);
CREATE TABLE IF NOT EXISTS index_state (
    chain_id INTEGER PRIMARY KEY,
    addresses TEXT NOT NULL,
    last_block INTEGER NOT NULL
);
"""


@dataclass
class IndexResult:
    from_block: int
    to_block: int
    events: int
    requests: int
    refused: int


def _value(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, HexBytes)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    return value


def _subject_values(args: dict[str, Any]) -> Iterable[tuple[str, str]]:
    for name, value in args.items():
        if isinstance(value, str) and value.startswith("0x") and len(value) in (42, 66):
            yield name, value.lower()
        elif isinstance(value, int) and not isinstance(value, bool) and name.endswith("Id"):
            yield name, f"{name}={value}"


class Indexer:
    """Indexes the suite's events of one chain into a store."""

    def __init__(self, w3: Web3, suite: Suite, conn: sqlite3.Connection, confirmations: int = 12) -> None:
        self.w3 = w3
        self.conn = conn
        self.confirmations = confirmations
        self.chain_id = w3.eth.chain_id
        conn.executescript(SCHEMA)
        self.names: dict[str, str] = {}
        self.decoders: dict[tuple[str, bytes], dict[str, Any]] = {}
        for field, name in PARTS.items():
            contract = getattr(suite, field)
            if contract is None:
                continue
            address = Web3.to_checksum_address(contract.address)
            self.names[address] = name
            for entry in filter_abi_by_type("event", contract.abi):
                self.decoders[(address, event_abi_to_log_topic(entry))] = dict(entry)
        self._timestamps: dict[int, int] = {}

    def last_block(self) -> int:
        row = self.conn.execute("SELECT last_block FROM index_state WHERE chain_id = ?", (self.chain_id,)).fetchone()
        return int(row[0]) if row else -1

    def run(
        self,
        to_block: int | None = None,
        span: int = 5_000,
        progress: Callable[[int, int], None] | None = None,
    ) -> IndexResult:
        """Index up to `to_block` (default: the chain head); returns what was done."""
        head = self.w3.eth.block_number if to_block is None else to_block
        start = max(0, self.last_block() + 1 - self.confirmations)
        self._forget_from(start)
        result = IndexResult(start, head, 0, 0, 0)
        block = start
        while block <= head:
            end = min(head, block + span - 1)
            try:
                logs = self._get_logs(block, end)
            except _RangeRefused:
                result.refused += 1
                if span == 1:
                    raise ChainError(f"the node refuses eth_getLogs even for block {block}") from None
                span = max(1, span // 2)
                continue
            result.requests += 1
            result.events += self._store(logs)
            self._set_last(end)
            if progress is not None:
                progress(end - start + 1, head - start + 1)
            block = end + 1
            span = min(span * 2, 100_000)
        return result

    def _get_logs(self, start: int, end: int) -> list[Any]:
        try:
            return list(
                self.w3.eth.get_logs(
                    {"fromBlock": start, "toBlock": end, "address": list(self.names)}  # type: ignore[typeddict-item]
                )
            )
        except (Web3RPCError, ValueError) as exc:
            raise _RangeRefused(str(exc)) from None

    def _timestamp(self, block_number: int) -> int:
        if block_number not in self._timestamps:
            self._timestamps[block_number] = int(self.w3.eth.get_block(block_number)["timestamp"])
        return self._timestamps[block_number]

    def _store(self, logs: list[Any]) -> int:
        stored = 0
        with self.conn:  # one transaction per page
            for log in logs:
                address = Web3.to_checksum_address(log["address"])
                if not log["topics"]:
                    continue
                entry = self.decoders.get((address, bytes(log["topics"][0])))
                if entry is None:
                    continue
                decoded = get_event_data(self.w3.codec, entry, log)  # type: ignore[arg-type]
                args = {k: _value(v) for k, v in decoded["args"].items()}
                cursor = self.conn.execute(
                    "INSERT OR IGNORE INTO events (chain_id, block_number, block_hash, tx_hash, log_index,"
                    " timestamp, contract, address, event, args) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        self.chain_id,
                        log["blockNumber"],
                        Web3.to_hex(log["blockHash"]),
                        Web3.to_hex(log["transactionHash"]),
                        log["logIndex"],
                        self._timestamp(log["blockNumber"]),
                        self.names[address],
                        address,
                        decoded["event"],
                        json.dumps(args),
                    ),
                )
                if cursor.rowcount:
                    self.conn.executemany(
                        "INSERT INTO event_subjects (event_id, arg, value) VALUES (?,?,?)",
                        [(cursor.lastrowid, n, v) for n, v in _subject_values(args)],
                    )
                    stored += 1
        return stored

    def _forget_from(self, block: int) -> None:
        """Drop what was indexed from `block` on (the confirmation window is always re-read)."""
        with self.conn:
            self.conn.execute("DELETE FROM events WHERE chain_id = ? AND block_number >= ?", (self.chain_id, block))

    def _set_last(self, block: int) -> None:
        self.conn.execute(
            "INSERT INTO index_state (chain_id, addresses, last_block) VALUES (?,?,?) "
            "ON CONFLICT(chain_id) DO UPDATE SET last_block = excluded.last_block, addresses = excluded.addresses",
            (self.chain_id, json.dumps(sorted(self.names)), block),
        )


class _RangeRefused(Exception):
    pass


def events_touching(conn: sqlite3.Connection, chain_id: int, value: str) -> list[dict[str, Any]]:
    """Every indexed event with an argument equal to `value` (address, bytes32, or `claimId=7`), in order."""
    rows = conn.execute(
        "SELECT DISTINCT e.* FROM events e JOIN event_subjects s ON s.event_id = e.id "
        "WHERE e.chain_id = ? AND s.value = ? ORDER BY e.block_number, e.log_index",
        (chain_id, value.lower() if value.startswith("0x") else value),
    ).fetchall()
    return [_row(r) for r in rows]


def events_named(conn: sqlite3.Connection, chain_id: int, contract: str, names: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Indexed events of one contract (optionally only some event names), in chain order."""
    names = list(names)
    sql = "SELECT * FROM events WHERE chain_id = ? AND contract = ?"
    params: list[Any] = [chain_id, contract]
    if names:
        sql += f" AND event IN ({','.join('?' * len(names))})"
        params += names
    rows = conn.execute(sql + " ORDER BY block_number, log_index", params).fetchall()
    return [_row(r) for r in rows]


def _row(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "block": row["block_number"],
        "timestamp": row["timestamp"],
        "tx": row["tx_hash"],
        "logIndex": row["log_index"],
        "contract": row["contract"],
        "event": row["event"],
        "args": json.loads(row["args"]),
    }
