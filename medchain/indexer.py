"""Event indexer: every event of the suite into SQLite, for audit reports.

- **Paging**: `eth_getLogs` over block ranges. A range the node refuses (an error such as "query returned
  more than 10000 results" / "block range too large", or a timeout) is halved and retried, and never
  asked for again; the first page is one block (a dense chain holds 10,000 events in one) and pages
  double while they stay under a quarter of `max_logs`; a page over `max_logs` scales the next one down.
- **Incremental**: the store remembers the last indexed block per chain; a run continues from there.
- **Reorgs**: every run re-reads the last `confirmations` blocks, and first compares the block hashes it
  stored (each page's last block, each block with events) with the chain. A deeper divergence (a reorg
  beyond the window, an Anvil `evm_revert`, a restarted dev chain) is found by binary search over those
  checkpoints, and everything from the first block that differs is dropped and read again. A page whose
  blocks change while it is read is read again.

Speed: logs are fetched as raw JSON-RPC (no web3 result formatters) and decoded with `eth_abi` from the
ABIs, about ten times faster than `w3.eth.get_logs` + `get_event_data`; one SQLite transaction per page.
Providers that are not JSON-RPC (eth-tester / py-evm in process) use the web3 methods instead.

Schema (shared store, `CREATE TABLE IF NOT EXISTS`): `events` (one row per log; `args` is JSON with
addresses checksummed, bytes as 0x-hex, integers as numbers), `index_txs` (hash and sender of each
transaction with events, shared by its events: anchorMany emits hundreds per transaction),
`event_subjects` (every address / bytes32 argument, array items included, and `name=value` for id
arguments such as `claimId=7`, `policyId=3`, `gtin=9506000134352`), `index_state`, `index_blocks` (hash
checkpoints), and the view `event_log` (events with block hash, tx hash and sender) that queries read.
An index left by an earlier layout of these tables is dropped and rebuilt: it is a cache of the chain.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from eth_abi.exceptions import DecodingError
from eth_utils import event_abi_to_log_topic, to_checksum_address
from web3 import Web3
from web3.exceptions import BlockNotFound, TransactionNotFound, Web3RPCError
from web3.providers import JSONBaseProvider
from web3.types import RPCEndpoint
from web3.utils.abi import filter_abi_by_type

from medchain.contracts import PARTS, Suite
from medchain.errors import ChainError
from medchain.store import Connection
from medchain.store.events import (
    SELECT_EVENTS,
    EventIndex,
    events_by_tx_sender,
    events_named,
    events_touching,
    events_touching_any,
    index_info,
    indexed_chains,
)
from medchain.store.schema import V1 as SCHEMA

__all__ = [  # the event queries are re-exported from medchain.store.events
    "SCHEMA",
    "SELECT_EVENTS",
    "SUITE_PARTS",
    "IndexResult",
    "Indexer",
    "events_by_tx_sender",
    "events_named",
    "events_touching",
    "events_touching_any",
    "index_info",
    "indexed_chains",
]

#: the suite's own contracts (the settlement token is not indexed: on a live network it is a public
#: stablecoin with millions of unrelated transfers)
SUITE_PARTS: tuple[str, ...] = ("consortium", "consent", "records", "claims", "drugs")

ProgressFn = Callable[[int, int, int], None]
"""progress(blocks done, blocks to do, events stored so far)"""


@dataclass
class IndexResult:
    """What one `Indexer.run` did."""

    from_block: int  # first block read (the re-read window included)
    to_block: int  # last block read
    events: int  # events stored by this run (re-read ones included)
    requests: int  # eth_getLogs pages that succeeded
    refused: int  # pages the node refused (then retried with a smaller range)
    reorg_from: int | None = None  # first block whose stored hash differed from the chain, if any
    dropped: int = 0  # stored events dropped before re-reading (window + reorg)
    reset: bool = False  # the suite's addresses changed: the chain's index was rebuilt from scratch
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "fromBlock": self.from_block,
            "toBlock": self.to_block,
            "events": self.events,
            "requests": self.requests,
            "refused": self.refused,
            "reorgFrom": self.reorg_from,
            "dropped": self.dropped,
            "reset": self.reset,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class _EventSpec:
    """How to decode one event of one contract, prepared once."""

    contract: str
    address: str  # checksum
    name: str
    names: tuple[str, ...]  # all arguments in ABI order
    indexed: tuple[tuple[str, str], ...]  # (name, type) of the topics after topic 0
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    subjects: tuple[tuple[str, str], ...]  # (name, kind): kind in addr, b32, addr[], b32[], id

    @classmethod
    def of(cls, contract: str, address: str, entry: dict[str, Any]) -> _EventSpec:
        inputs = entry.get("inputs", [])
        subjects = []
        for arg in inputs:
            kind = _subject_kind(arg["name"], _abi_type(arg))
            if kind:
                subjects.append((arg["name"], kind))
        return cls(
            contract=contract,
            address=address,
            name=entry["name"],
            names=tuple(a["name"] for a in inputs),
            indexed=tuple((a["name"], _abi_type(a)) for a in inputs if a.get("indexed")),
            data_names=tuple(a["name"] for a in inputs if not a.get("indexed")),
            data_types=tuple(_abi_type(a) for a in inputs if not a.get("indexed")),
            subjects=tuple(subjects),
        )


def _abi_type(arg: dict[str, Any]) -> str:
    kind = str(arg["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in arg.get("components", [])) + ")" + kind[len("tuple") :]
    return kind


def _subject_kind(name: str, abi_type: str) -> str | None:
    if abi_type in ("address", "bytes32"):
        return "addr" if abi_type == "address" else "b32"
    if abi_type in ("address[]", "bytes32[]"):
        return "addr[]" if abi_type == "address[]" else "b32[]"
    if abi_type.startswith("uint") and "[" not in abi_type and (name.endswith("Id") or name == "gtin"):
        return "id"
    return None


def _is_dynamic(abi_type: str) -> bool:
    return abi_type in ("string", "bytes") or abi_type.endswith("]") or abi_type.startswith("(")


def _value(value: Any) -> Any:
    """A decoded ABI value as JSON: bytes as 0x-hex, tuples as lists."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    return value


_json = json.JSONEncoder(separators=(",", ":")).encode


def _hex(value: Any) -> str:
    """0x-hex, lower case, of a raw (str) or web3-formatted (bytes/HexBytes) value."""
    if isinstance(value, str):
        return value.lower()
    return "0x" + bytes(value).hex()


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class _RangeRefused(Exception):
    """The node refused an eth_getLogs range (or timed out on it)."""


class _Reorged(Exception):
    """A block changed while a page was read: start over from the hash checkpoints."""


class _Rpc:
    """The few calls the indexer makes. Raw JSON-RPC for JSON providers (HTTP, IPC, WebSocket-less); the
    web3 methods otherwise (eth-tester's in-process provider takes Python-style parameters)."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.raw = isinstance(w3.provider, JSONBaseProvider)

    def _request(self, method: str, params: list[Any]) -> Any:
        try:
            response = self.w3.provider.make_request(RPCEndpoint(method), params)
        except requests.exceptions.Timeout as exc:
            raise _RangeRefused(f"timeout: {exc}") from None
        except (requests.exceptions.ConnectionError, OSError) as exc:
            raise ChainError(f"cannot reach the node: {exc}") from None
        except (Web3RPCError, ValueError) as exc:  # providers that raise on an error response
            raise _RangeRefused(str(exc)) from None
        if "error" in response:
            error = response["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise _RangeRefused(str(message))
        return response.get("result")

    def get_logs(self, start: int, end: int, addresses: list[str]) -> list[Any]:
        """Logs of `addresses` (checksum) in blocks start..end."""
        if self.raw:
            query = {"fromBlock": hex(start), "toBlock": hex(end), "address": [a.lower() for a in addresses]}
            return list(self._request("eth_getLogs", [query]) or [])
        try:
            params = {"fromBlock": start, "toBlock": end, "address": addresses}
            return list(self.w3.eth.get_logs(params))  # type: ignore[arg-type]
        except (Web3RPCError, ValueError) as exc:
            raise _RangeRefused(str(exc)) from None

    def blocks(self, numbers: Sequence[int]) -> dict[int, tuple[str, int] | None]:
        """{number: (hash, timestamp) or None when the chain has no such block}."""
        out: dict[int, tuple[str, int] | None] = {}
        if not numbers:
            return out
        if self.raw:
            results = self._batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
            for n, block in zip(numbers, results, strict=True):
                out[n] = None if not block else (_hex(block["hash"]), _int(block["timestamp"]))
            return out
        for n in numbers:
            try:
                block = self.w3.eth.get_block(n)
                out[n] = (_hex(block["hash"]), int(block["timestamp"]))
            except BlockNotFound:
                out[n] = None
        return out

    def senders(self, tx_hashes: Sequence[str]) -> dict[str, str | None]:
        """{tx hash: sender (lower case)}."""
        if self.raw:
            results = self._batch([("eth_getTransactionByHash", [h]) for h in tx_hashes])
            return {h: (_hex(t["from"]) if t else None) for h, t in zip(tx_hashes, results, strict=True)}
        out: dict[str, str | None] = {}
        for h in tx_hashes:
            try:
                out[h] = _hex(self.w3.eth.get_transaction(h)["from"])  # type: ignore[arg-type]
            except TransactionNotFound:
                out[h] = None
        return out

    def _batch(self, calls: list[tuple[str, list[Any]]], chunk: int = 100) -> list[Any]:
        batch = getattr(self.w3.provider, "make_batch_request", None)
        if batch is None:
            return [self._request(m, p) for m, p in calls]
        results: list[Any] = []
        for i in range(0, len(calls), chunk):
            part = calls[i : i + chunk]
            try:
                responses = batch([(RPCEndpoint(m), p) for m, p in part])
            except requests.exceptions.RequestException as exc:
                raise ChainError(f"cannot reach the node: {exc}") from None
            if isinstance(responses, dict) or len(responses) != len(part):  # batching unsupported
                results += [self._request(m, p) for m, p in part]
                continue
            for response in sorted(responses, key=lambda r: r.get("id", 0)):
                if "error" in response:
                    raise ChainError(f"node error: {response['error']}")
                results.append(response.get("result"))
        return results


class Indexer:
    """Indexes the suite's events of one chain into a store.

    `from_block` is where a first run starts (the deployment block; later runs continue from the store).
    `senders=False` skips looking up each transaction's sender (one batched `eth_getTransactionByHash`
    per transaction), which `audit member` uses to attribute events that name no actor (RecordAnchored).
    """

    def __init__(
        self,
        w3: Web3,
        suite: Suite,
        conn: Connection,
        confirmations: int = 12,
        *,
        from_block: int = 0,
        span: int = 1,
        max_span: int = 100_000,
        max_logs: int = 10_000,
        senders: bool = True,
    ) -> None:
        if confirmations < 0 or span < 1 or max_span < 1 or max_logs < 1:
            raise ValueError("confirmations must be >= 0; span, max_span and max_logs >= 1")
        self.w3 = w3
        self.conn = conn
        self.confirmations = confirmations
        self.from_block = max(0, from_block)
        self.span = span
        self.max_span = max_span
        self.max_logs = max_logs
        self.with_senders = senders
        self.chain_id = int(w3.eth.chain_id)
        self.rpc = _Rpc(w3)
        self.index = EventIndex(conn, self.chain_id)
        self.names: dict[str, str] = {}  # checksum address -> contract name
        self.specs: dict[tuple[str, str], _EventSpec] = {}  # (lower address, topic0 hex) -> spec
        for part in SUITE_PARTS:
            contract = getattr(suite, part, None)
            if contract is None:
                continue
            address = to_checksum_address(contract.address)
            name = PARTS[part]
            self.names[address] = name
            for entry in filter_abi_by_type("event", contract.abi):
                if entry.get("anonymous"):
                    continue
                topic = "0x" + event_abi_to_log_topic(entry).hex()
                self.specs[(address.lower(), topic)] = _EventSpec.of(name, address, dict(entry))
        if not self.names:
            raise ChainError("the suite has no contract to index")
        self._senders: dict[str, str | None] = {}

    # ---- state ----

    def last_block(self) -> int:
        return self.index.last_block()

    def _state(self) -> tuple[list[str], int, int] | None:
        return self.index.state()

    # ---- running ----

    def run(self, to_block: int | None = None, progress: ProgressFn | None = None) -> IndexResult:
        """Index up to `to_block` (default: the chain head); returns what was done."""
        started = time.perf_counter()
        result = IndexResult(0, -1, 0, 0, 0)
        for _attempt in range(5):
            try:
                self._run(to_block, progress, result)
                break
            except _Reorged:
                continue  # the chain moved under a page: re-check the checkpoints and go on
        else:
            raise ChainError("the chain kept reorganising while it was indexed; try again")
        result.seconds = time.perf_counter() - started
        return result

    def _run(self, to_block: int | None, progress: ProgressFn | None, result: IndexResult) -> None:
        head = int(self.w3.eth.block_number)
        end_block = head if to_block is None else min(int(to_block), head)
        addresses = sorted(self.names)
        state = self._state()
        first = self.from_block
        if state is not None and state[0] != addresses:
            result.dropped += self._forget_from(
                0
            )  # another deployment on this chain id (a restarted dev chain, --force)
            result.reset = True
            state = None
        if state is None:
            start = first
        else:
            first, last = state[1], state[2]
            diverged = self._divergence()
            if diverged is not None:
                result.reorg_from = (
                    diverged if result.reorg_from is None else min(result.reorg_from, diverged)
                )
            start = min(last + 1 - self.confirmations, diverged if diverged is not None else last + 1)
            start = max(first, start)
        result.dropped += self._forget_from(start, first=first, addresses=addresses)
        if result.to_block < 0:
            result.from_block = start
        result.to_block = end_block
        span = self.span
        ceiling = self.max_span  # never grow back to a range size the node refused
        block = start
        total = max(0, end_block - start + 1)
        while block <= end_block:
            end = min(end_block, block + span - 1)
            try:
                stored, count = self._page(block, end)
            except _RangeRefused as exc:
                result.refused += 1
                if end == block:
                    raise ChainError(f"the node refuses eth_getLogs even for block {block}: {exc}") from None
                span = max(1, (end - block + 1) // 2)
                ceiling = min(ceiling, span)
                continue
            result.requests += 1
            result.events += stored
            if progress is not None:
                progress(end - start + 1, total, result.events)
            if count > self.max_logs:  # aim the next page at about max_logs results
                span = max(1, (end - block + 1) * self.max_logs // count)
            elif count < self.max_logs // 4:
                span = min(span * 2, ceiling)
            block = end + 1
        if total == 0 and progress is not None:
            progress(0, 0, result.events)

    def _divergence(self) -> int | None:
        """The first stored block whose hash the chain no longer has (None: the stored chain still holds)."""
        checkpoints = self.index.checkpoints()
        if not checkpoints:
            return None

        def holds(i: int) -> bool:
            number, stored = int(checkpoints[i][0]), str(checkpoints[i][1])
            found = self.rpc.blocks([number])[number]
            return found is not None and found[0] == stored

        if holds(len(checkpoints) - 1):
            return None
        lo, hi = -1, len(checkpoints) - 1  # invariant: lo holds (or is before the first), hi does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if holds(mid):
                lo = mid
            else:
                hi = mid
        return int(checkpoints[lo][0]) + 1 if lo >= 0 else int(checkpoints[0][0])

    def _page(self, start: int, end: int) -> tuple[int, int]:
        """Read blocks start..end and store their events in one transaction; (stored, logs returned)."""
        end_info = self.rpc.blocks([end])[end]
        if end_info is None:
            raise _Reorged()
        logs = self.rpc.get_logs(start, end, list(self.names))
        specs = self.specs
        block_hashes: dict[int, str] = {end: end_info[0]}
        missing_time: set[int] = set()
        # (block, log index, tx hash, timestamp or None, spec, args) per suite log
        decoded: list[tuple[int, int, str, int | None, _EventSpec, dict[str, Any]]] = []
        for log in logs:
            topics = log["topics"]
            if not topics or log.get("removed"):
                continue
            spec = specs.get((log["address"], topics[0])) if self.rpc.raw else None
            if spec is None:  # not lower-case hex strings (web3-formatted logs), or not ours
                spec = specs.get((_hex(log["address"]), _hex(topics[0])))
                if spec is None:
                    continue
            number = _int(log["blockNumber"])
            block_hash = _hex(log["blockHash"])
            if block_hashes.setdefault(number, block_hash) != block_hash:
                raise _Reorged()
            stamp = log.get("blockTimestamp")
            if stamp is None:
                missing_time.add(number)
            else:
                stamp = _int(stamp)
            args = self._decode(spec, topics, log["data"])
            decoded.append((number, _int(log["logIndex"]), _hex(log["transactionHash"]), stamp, spec, args))
        timestamps: dict[int, int] = {}
        if missing_time:
            for number, info in self.rpc.blocks(sorted(missing_time)).items():
                if info is None or info[0] != block_hashes[number]:
                    raise _Reorged()
                timestamps[number] = info[1]
        tx_blocks = {tx_hash: number for number, _, tx_hash, _, _, _ in decoded}
        if self.with_senders:
            unknown = [h for h in tx_blocks if h not in self._senders]
            if unknown:
                self._senders.update(self.rpc.senders(unknown))
        rows: list[tuple[Any, ...]] = []
        subjects: list[tuple[int, str, str]] = []
        chain_id = self.chain_id
        with self.index.writing():
            self.index.add_txs({h: (n, self._senders.get(h)) for h, n in tx_blocks.items()})
            tx_ids = self.index.tx_ids(list(tx_blocks))
            next_id = self.index.next_event_id()
            for number, log_index, tx_hash, stamp, spec, args in decoded:
                when = stamp if stamp is not None else timestamps[number]
                rows.append(
                    (next_id, chain_id, number, log_index, tx_ids[tx_hash], when, spec.contract, spec.name,
                     _json(args))
                )  # fmt: skip
                if spec.subjects:
                    subjects.extend((next_id, n, v) for n, v in _subjects(spec, args))
                next_id += 1
            self.index.add_events(rows, subjects, block_hashes, end)
        if len(self._senders) > 50_000:
            self._senders = {}
        return len(rows), len(logs)

    def _decode(self, spec: _EventSpec, topics: Sequence[Any], data: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if len(topics) - 1 != len(spec.indexed):
            raise ChainError(f"{spec.contract}.{spec.name}: log has {len(topics) - 1} indexed topics")
        codec = self.w3.codec
        for (name, abi_type), topic in zip(spec.indexed, topics[1:], strict=True):
            word = _hex(topic)
            if abi_type == "bytes32" or _is_dynamic(abi_type):
                values[name] = word  # a dynamic indexed value is only its keccak hash
            else:
                values[name] = _value(codec.decode([abi_type], bytes.fromhex(word[2:]))[0])
        if spec.data_types:
            raw = bytes.fromhex(_hex(data)[2:])
            try:
                decoded = codec.decode(list(spec.data_types), raw)
            except DecodingError as exc:
                raise ChainError(f"{spec.contract}.{spec.name}: cannot decode log data: {exc}") from None
            values.update(zip(spec.data_names, (_value(v) for v in decoded), strict=True))
        args = {name: values[name] for name in spec.names}
        for name, kind in spec.subjects:  # addresses checksummed, as web3 gives them
            if kind == "addr":
                args[name] = to_checksum_address(args[name])
            elif kind == "addr[]":
                args[name] = [to_checksum_address(a) for a in args[name]]
        return args

    def _forget_from(
        self, block: int, *, first: int | None = None, addresses: list[str] | None = None
    ) -> int:
        """Drop what was indexed from `block` on; with `first`/`addresses`, (re)write the state row so
        the next page continues at `block`. Returns the number of events dropped."""
        return self.index.forget_from(block, first=first, addresses=addresses)


def _subjects(spec: _EventSpec, args: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for name, kind in spec.subjects:
        value = args[name]
        if kind in ("addr", "b32"):
            yield name, str(value).lower()
        elif kind in ("addr[]", "b32[]"):
            for item in value:
                yield name, str(item).lower()
        else:
            yield name, f"{name}={int(value)}"
