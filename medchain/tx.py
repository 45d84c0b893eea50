"""Sending transactions: local nonces, EIP-1559 or legacy/zero-gas fees, receipts with a timeout,
and reverts decoded to the custom error's name and arguments."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hexbytes import HexBytes
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout as RequestsTimeout
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import Nonce, TxParams, TxReceipt, Wei

from medchain.chain import Signer, signer_address
from medchain.errors import ChainError, ContractRevert, MedchainError, NodeLost
from medchain.reverts import decode_revert

_nonce_lock = threading.Lock()
_NonceKey = tuple[str, int, str]  # (node, chain id, sender)
_next_nonce: dict[_NonceKey, int] = {}
#: nonces this process handed out and not yet seen mined: nonce -> tx hash (None while being broadcast)
_outstanding: dict[_NonceKey, dict[int, bytes | None]] = {}


@contextmanager
def _node_errors(w3: Web3, doing: str) -> Iterator[None]:
    """A node that goes away (connection refused or reset, a timed-out request) is a ChainError, one line."""
    try:
        yield
    except (RequestsConnectionError, RequestsTimeout, ConnectionError) as exc:
        where = getattr(w3.provider, "endpoint_uri", None) or "the EVM node"
        raise NodeLost(f"lost the connection to {where} while {doing} ({type(exc).__name__})") from None


def _revert_from(exc: Exception) -> MedchainError:
    """Turn a web3/node exception about a revert into a decoded ContractRevert (or a ChainError)."""
    for candidate in (getattr(exc, "data", None), *exc.args, str(exc)):
        decoded = decode_revert(candidate)
        if decoded is not None:
            return decoded
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, ContractLogicError):
        return ContractRevert("Reverted", {"reason": message})
    return ChainError(f"node refused the transaction: {message}")


def call(fn: ContractFunction, sender: str | None = None, block: Any = "latest") -> Any:
    """Call a view (or dry-run a transaction) with reverts decoded."""
    try:
        return fn.call({"from": sender} if sender else {}, block_identifier=block)
    except (ContractCustomError, ContractLogicError, Web3RPCError, ValueError) as exc:
        raise _revert_from(exc) from None


def _fees(w3: Web3) -> TxParams:
    """EIP-1559 fees when the chain has a base fee, else a legacy gas price (0 on free-gas consortia)."""
    latest = w3.eth.get_block("latest")
    base = latest.get("baseFeePerGas")
    if base is None or type(w3).__module__.startswith("brownie"):
        # brownie's web3 carries a gas-price middleware that refuses EIP-1559 fields
        return {"gasPrice": w3.eth.gas_price}
    if int(base) == 0:
        # a free-gas chain (Besu zeroBaseFee + min-gas-price 0, Anvil --base-fee 0): pay nothing
        return {"maxFeePerGas": Wei(0), "maxPriorityFeePerGas": Wei(0)}
    try:
        tip = w3.eth.max_priority_fee
    except (Web3RPCError, ValueError):
        tip = Wei(0)
    return {"maxFeePerGas": Wei(2 * int(base) + int(tip)), "maxPriorityFeePerGas": Wei(int(tip))}


def _node_key(w3: Web3) -> str:
    """Identifies the node a nonce cache belongs to (two Anvils may share a chain id)."""
    return str(getattr(w3.provider, "endpoint_uri", None) or id(w3.provider))


def _reserve_nonce(w3: Web3, address: str) -> int:
    """The next nonce for `address`: the node's pending count, or past it when this process has sent (or is
    sending) transactions the node does not count yet. If one of those is gone from the node (dropped from
    its pool, or reorged out), the nonces after it would never be mined: start again at the node's count."""
    key = (_node_key(w3), w3.eth.chain_id, address)
    with _nonce_lock:
        pending = w3.eth.get_transaction_count(address, "pending")  # type: ignore[arg-type]
        mine = _outstanding.setdefault(key, {})
        for nonce in [n for n in mine if n < pending]:
            del mine[nonce]  # mined (or replaced): no longer ours to track
        cached = _next_nonce.get(key, 0)
        if cached > pending and not all(_still_known(w3, mine.get(n, b"")) for n in range(pending, cached)):
            for nonce in [n for n in mine if n >= pending and mine[n] is not None]:
                del mine[nonce]
            cached = pending
        nonce = max(pending, cached)
        _next_nonce[key] = nonce + 1
        mine[nonce] = None
        return nonce


def _still_known(w3: Web3, tx_hash: bytes | None) -> bool:
    """True for a transaction being broadcast now (None) or one the node still has (pool or chain)."""
    if tx_hash is None:
        return True
    if not tx_hash:
        return False
    try:
        w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return False
    return True


def _sent(w3: Web3, address: str, nonce: int, tx_hash: bytes | None) -> None:
    """Record the broadcast of `nonce` (its hash), or forget the reservation when it was refused (None)."""
    key = (_node_key(w3), w3.eth.chain_id, address)
    with _nonce_lock:
        mine = _outstanding.setdefault(key, {})
        if tx_hash is None:
            mine.pop(nonce, None)
        else:
            mine[nonce] = tx_hash


def forget_nonces() -> None:
    """Drop the local nonce cache (after a node restart or a reorg)."""
    with _nonce_lock:
        _next_nonce.clear()
        _outstanding.clear()


def build(w3: Web3, fn: ContractFunction, sender: Signer, value: int = 0) -> TxParams:
    """Estimate and fill a transaction for `fn` from `sender`; a doomed call raises ContractRevert here."""
    address = signer_address(sender)
    params: TxParams = {"from": address, "value": value}  # type: ignore[typeddict-item]
    try:
        gas = fn.estimate_gas(params)
    except (ContractCustomError, ContractLogicError, Web3RPCError, ValueError) as exc:
        raise _revert_from(exc) from None
    params.update(_fees(w3))
    params["gas"] = int(gas * 1.2) + 10_000
    params["chainId"] = w3.eth.chain_id
    return fn.build_transaction(params)


def send(
    w3: Web3, fn: ContractFunction, sender: Signer, *, timeout: float = 120.0, value: int = 0
) -> TxReceipt:
    """Send `fn` from `sender` and wait for its receipt; raises ContractRevert on a revert."""
    return wait(w3, submit(w3, fn, sender, value=value), timeout=timeout, fn=fn, sender=sender)


def submit(w3: Web3, fn: ContractFunction, sender: Signer, *, value: int = 0) -> bytes:
    """Sign (or hand to the node) and broadcast; returns the tx hash without waiting."""
    with _node_errors(w3, "sending a transaction"):
        tx = build(w3, fn, sender, value)
        nonce: int | None = None
        try:
            if isinstance(sender, str):
                tx.pop("nonce", None)
                return bytes(w3.eth.send_transaction(tx))
            nonce = _reserve_nonce(w3, sender.address)
            tx["nonce"] = Nonce(nonce)
            signed = sender.sign_transaction(tx)  # type: ignore[arg-type]
            tx_hash = bytes(w3.eth.send_raw_transaction(signed.raw_transaction))
            _sent(w3, sender.address, nonce, tx_hash)
            return tx_hash
        except (Web3RPCError, ValueError) as exc:
            forget_nonces()
            raise _revert_from(exc) from None
        except BaseException:
            if nonce is not None and not isinstance(sender, str):
                _sent(w3, sender.address, nonce, None)  # not broadcast: the next reservation sees the gap
            raise


def wait(
    w3: Web3,
    tx_hash: bytes,
    *,
    timeout: float = 120.0,
    fn: ContractFunction | None = None,
    sender: Signer | None = None,
) -> TxReceipt:
    """Wait for a receipt; a failed status is replayed as a call to decode its revert."""
    try:
        with _node_errors(w3, f"waiting for the receipt of {Web3.to_hex(tx_hash)}"):
            receipt = w3.eth.wait_for_transaction_receipt(
                HexBytes(tx_hash), timeout=timeout, poll_latency=0.1
            )
    except TimeExhausted:
        raise ChainError(f"no receipt for {Web3.to_hex(tx_hash)} within {timeout:.0f} s") from None
    if receipt["status"] == 1:
        return receipt
    if fn is not None:
        call(fn, signer_address(sender) if sender is not None else None, receipt["blockNumber"])
    raise ContractRevert("Reverted", {"tx": Web3.to_hex(tx_hash)})
