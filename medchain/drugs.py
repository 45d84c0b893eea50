"""DrugTrace service functions: products, batches, custody hand-overs, dispensing, recalls, journeys and the
one-call consumer lookup (`lookup` -> `DrugStatus`, what the verification page shows).

Conventions
- GTINs are GTIN-14 strings off chain (check digit validated here) and numbers on chain.
- Expiry: a GS1 date (AI 17) means "use up to and including that day"; on chain it is the last second of that
  day in UTC (`expiry_to_unix`), and a batch is expired once block time is past it.
- Every state-changing call first builds its EPCIS 2.0 document (medchain.epcis), stores it in the local
  SQLite store when one is given, and sends its sha256 as `epcisHash`.
- Serial trees: `commission_batch` builds the tree (medchain.serials, OZ StandardMerkleTree) and stores it —
  flat nodes + leaf order + one row per serial — **before** the transaction is sent, so proofs survive a
  crash; re-running a commission that already reached the chain is a no-op. A pharmacy gets proofs from the
  serial lists of the shipments it received; for a whole-batch shipment, and for the consumer check, from the
  batch tree the manufacturer published (medchain.serial_publish: fetched from the manufacturer's member URI,
  checked against the on-chain root, cached in the store), or from an imported ``standard-v1`` dump
  (`import_tree`, offline), or an explicit proof.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import EventData, TxReceipt

from medchain import drug_shipments, epcis, serial_publish, tx
from medchain.abi import load_abi
from medchain.addresses import ZERO_ADDRESS
from medchain.chain import BlockTimes, Signer, signer_address
from medchain.consortium import get_member
from medchain.errors import InputError, MedchainError
from medchain.gs1 import ChinaTraceCode, DrugCode, parse_scan
from medchain.serials import (
    SERIAL_LEAF_ENCODING,
    SerialSet,
    SerialTree,
    batch_id,
    gtin14,
    gtin_number,
    serial_leaf,
    serial_set,
    whole_source,
)
from medchain.store import Connection
from medchain.store.serials import SerialTrees

__all__ = [
    "BatchView",
    "CommissionResult",
    "MotionResult",
    "DispenseResult",
    "DrugStatus",
    "JourneyHop",
    "ReceiveResult",
    "RecallResult",
    "ShipResult",
    "UnshipResult",
    "assign_prefix",
    "batch_view",
    "cancel_shipment",
    "commission_batch",
    "dispense",
    "expiry_from_unix",
    "expiry_to_unix",
    "export_tree",
    "import_tree",
    "lookup",
    "member_or_none",
    "published_tree",
    "parse_pack",
    "recall",
    "receive",
    "reassign_product",
    "register_product",
    "resolve_batch",
    "return_shipment",
    "ship",
    "stored_proof",
    "trace",
    "tree_uri_of",
]

BATCH_STATUS = ("NONE", "ACTIVE", "RECALLED")
SHIPMENT_STATUS = ("NONE", "IN_TRANSIT", "RECEIVED", "CANCELLED", "RETURNED")


# ---------------------------------------------------------------------------------------------------
# Types the consumer page codes against


@dataclass(frozen=True)
class JourneyHop:
    """One step of a batch's journey, rebuilt from DrugTrace events (oldest first).

    kind: "commission" | "ship" | "receive" | "discrepancy" | "dispense" | "duplicate" | "recall".
    Addresses are member (institution) addresses, checksummed; names come from the Consortium.
    """

    kind: str
    from_address: str | None
    to_address: str | None
    from_name: str | None
    to_name: str | None
    quantity: int
    timestamp: int  # unix seconds (block time of the event)
    tx_hash: str  # 0x-prefixed
    block: int
    shipment_id: int | None = None
    epcis_hash: str | None = None  # 0x-prefixed bytes32 of the EPCIS 2.0 event document


@dataclass(frozen=True)
class DrugStatus:
    """Everything a consumer page needs about one scanned pack, from one `lookup` call."""

    found: bool  # the batch (gtin, lot) exists on chain
    genuine: bool | None  # serial proven in the batch's serial root; None when no proof is available
    gtin: str  # GTIN-14 (14 digits)
    lot: str
    serial: str
    expiry: _dt.date | None  # None when not found
    quantity: int  # units commissioned in the batch
    manufacturer: str | None  # member address
    manufacturer_name: str | None
    recalled: bool
    recall_reason_hash: str | None  # 0x bytes32 or None
    expired: bool
    dispensed: bool
    dispensed_at: int | None  # unix seconds
    dispensed_by: str | None  # member address of the pharmacy/hospital
    dispensed_by_name: str | None
    duplicate_scans: int  # dispense attempts after the first
    journey: list[JourneyHop] = field(default_factory=list)
    contract: str = ""  # DrugTrace address
    commission_tx: str | None = None
    commission_block: int | None = None
    # extras (not required by the page, handy for display)
    batch_id: str | None = None  # 0x bytes32 = keccak256(abi.encode(uint64 gtin, string lot))
    product_name: str | None = None
    certificate_hash: str | None = None
    recalled_at: int | None = None
    last_duplicate_by: str | None = None  # member address of the last duplicate dispense attempt
    last_duplicate_by_name: str | None = None
    last_duplicate_at: int | None = None
    # the serial against the batch's serial tree: "proven" (in the tree), "absent" (the tree was read and the
    # serial is not in it: found is False), "unavailable" (no tree could be read: see serial_note), None (an
    # explicit proof was checked, or the batch is not on chain)
    serial_check: str | None = None
    serial_note: str | None = None  # e.g. "cannot check the serial: tree unavailable at URI …"
    tree_uri: str | None = None  # where the batch's published serial tree is (the manufacturer's member URI)


# ---------------------------------------------------------------------------------------------------
# Results of the service functions


@dataclass(frozen=True)
class CommissionResult:
    batch_id: str
    gtin: str
    lot: str
    expiry: _dt.date
    quantity: int
    serial_root: str
    epcis_hash: str
    tx_hash: str | None  # None when the batch was already on chain (a resumed run)
    block: int | None
    tree_seconds: float  # time to build the serial tree
    already_commissioned: bool = False


@dataclass(frozen=True)
class ShipResult:
    shipment_id: int
    batch_id: str
    sender: str  # member
    to: str
    quantity: int
    epcis_hash: str
    tx_hash: str
    block: int
    source: int = 0  # 0: the batch tree, else the received shipment the serials came from
    serial_root: str = ""
    serials: tuple[str, ...] = ()  # the shipped serials (the whole source's when it was forwarded whole)


@dataclass(frozen=True)
class UnshipResult:
    """A shipment cancelled by its sender or returned by its recipient before receipt."""

    shipment_id: int
    batch_id: str
    sender: str
    to: str
    quantity: int
    status: str  # CANCELLED or RETURNED
    epcis_hash: str
    tx_hash: str
    block: int


@dataclass(frozen=True)
class MotionResult:
    """One council approval of a prefix assignment or product move."""

    motion_id: str
    done: bool  # this approval reached the threshold and executed it
    approvals: int  # approving members that are active COUNCIL now
    threshold: int
    tx_hash: str
    block: int


@dataclass(frozen=True)
class ReceiveResult:
    shipment_id: int
    batch_id: str
    sender: str
    to: str
    shipped: int
    received: int
    lost: int
    epcis_hash: str
    tx_hash: str
    block: int
    serials_known: bool = (
        False  # the serial list is stored (checked against the chain): dispensable from here
    )


@dataclass(frozen=True)
class DispenseResult:
    batch_id: str
    gtin: str
    lot: str
    serial: str
    first: bool  # False: the serial was dispensed before and this attempt was flagged as a duplicate
    duplicate_count: int
    member: str
    epcis_hash: str
    tx_hash: str
    block: int
    shipment_id: int = 0  # the received shipment the proof came from


@dataclass(frozen=True)
class RecallResult:
    batch_id: str
    by: str
    reason_hash: str
    epcis_hash: str
    tx_hash: str
    block: int


@dataclass(frozen=True)
class BatchView:
    """A batch as stored on chain, decoded."""

    batch_id: str
    status: str  # NONE | ACTIVE | RECALLED
    gtin: str
    lot: str
    expiry: _dt.date | None
    expired: bool
    quantity: int
    in_transit: int
    lost: int
    manufacturer: str | None
    product_name: str
    commissioned_at: int
    recalled_at: int
    serial_root: str
    certificate_hash: str
    recall_reason_hash: str


# ---------------------------------------------------------------------------------------------------
# Small conversions


def expiry_to_unix(day: _dt.date) -> int:
    """The last second (UTC) of the expiry day: the batch may be dispensed through that whole day."""
    end = _dt.datetime.combine(day, _dt.time(23, 59, 59), tzinfo=_dt.UTC)
    return int(end.timestamp())


def expiry_from_unix(value: int) -> _dt.date:
    try:
        return _dt.datetime.fromtimestamp(int(value), tz=_dt.UTC).date()
    except (OverflowError, OSError, ValueError):  # a uint64 past year 9999 (set by a contract caller)
        return _dt.date.max


def parse_pack(scan: str) -> DrugCode:
    """A GS1 scan of one pack (GTIN, lot and serial required; expiry optional) via medchain.gs1."""
    code = parse_scan(scan)
    if isinstance(code, ChinaTraceCode):
        raise InputError(
            f"{code.code} is a China drug trace code, not a GS1 code: DrugTrace packs are identified by "
            "GTIN, "
            "lot and serial (scan the GS1 DataMatrix / Digital Link QR)"
        )
    if not code.lot:
        raise InputError(f"scan {scan!r} has no lot (AI 10)")
    if not code.serial:
        raise InputError(f"scan {scan!r} has no serial (AI 21)")
    return code


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _bytes32(value: bytes | str, what: str) -> bytes:
    if isinstance(value, str):
        text = value[2:] if value.startswith(("0x", "0X")) else value
        try:
            value = bytes.fromhex(text)
        except ValueError:
            raise InputError(f"{what} {value!r} is not hex") from None
    if len(value) != 32:
        raise InputError(f"{what} must be 32 bytes, got {len(value)}")
    return bytes(value)


def _struct(fn_abi: dict[str, Any], value: Any) -> dict[str, Any]:
    """A returned struct (tuple) as a dict by the ABI's component names, nested structs included."""
    return _named(fn_abi["outputs"][0], value)


def _named(entry: dict[str, Any], value: Any) -> Any:
    if entry.get("type") != "tuple":
        return value
    return {c["name"]: _named(c, v) for c, v in zip(entry["components"], value, strict=True)}


def _call_struct(contract: Contract, name: str, *args: Any) -> dict[str, Any]:
    fn = getattr(contract.functions, name)(*args)
    return _struct(fn.abi, tx.call(fn))


def member_or_none(address: str) -> str | None:
    """A checksummed member address, None for the zero address."""
    return _member(address)


def _member(address: str | None) -> str | None:
    if address is None or int(address, 16) == 0:
        return None
    return to_checksum_address(address)


# ---------------------------------------------------------------------------------------------------
# Local store: serial trees and EPCIS documents


def _save_tree(conn: Connection, tree: SerialTree, gtin: str, lot: str, source: str) -> None:
    """The tree and one row per serial, in one SQLite transaction (replacing an earlier copy)."""
    SerialTrees(conn).save_tree(tree, gtin, lot, source)


def _save_document(
    conn: Connection | None, doc: epcis.EpcisDocument, batch: bytes | None, tx_hash: str | None = None
) -> None:
    if conn is None:
        return
    SerialTrees(conn).save_document(doc.hash, doc.kind, batch, doc.to_json(indent=None), _raw(tx_hash))


def _raw(tx_hash: str | None) -> bytes | None:
    return None if tx_hash is None else bytes.fromhex(tx_hash[2:])


def stored_proof(conn: Connection, batch: bytes, serial: str) -> list[bytes] | None:
    """The serial's proof from the stored tree, read node by node (None if this store has no such serial)."""
    return SerialTrees(conn).proof(batch, serial)


def export_tree(conn: Connection, batch: bytes) -> dict[str, Any]:
    """The batch's serial tree as an OZ ``standard-v1`` dump (for pharmacies, @openzeppelin/merkle-tree)."""
    stored = SerialTrees(conn).flat_tree(batch)
    if stored is None:
        raise InputError(f"no serial tree for batch {_hex(batch)} in this store")
    nodes, order, serials = stored
    if not serials:
        raise InputError(
            f"this store holds only the published tree of batch {_hex(batch)} (no serials): export it from "
            "the manufacturer's store"
        )
    count = len(order)
    values: list[dict[str, Any]] = [{} for _ in range(count)]
    for serial, tree_index in serials:
        value_index = order[2 * count - 2 - tree_index]  # leaf position -> value index
        values[value_index] = {"value": [_hex(batch), serial], "treeIndex": tree_index}
    return {
        "format": "standard-v1",
        "leafEncoding": list(SERIAL_LEAF_ENCODING),
        "tree": [_hex(nodes[i : i + 32]) for i in range(0, len(nodes), 32)],
        "values": values,
    }


def import_tree(conn: Connection, dump: dict[str, Any], gtin: str, lot: str) -> SerialTree:
    """Store a batch's serial tree received from its manufacturer (an OZ ``standard-v1`` dump), after checking
    every node and that it is the tree of batch (gtin, lot)."""
    tree = SerialTree.load(dump)
    expected = batch_id(gtin, lot)
    if tree.batch_id != expected:
        raise InputError(
            f"the tree is for batch {_hex(tree.batch_id)}, not (GTIN {gtin14(gtin_number(gtin))}, lot {lot})"
        )
    _save_tree(conn, tree, gtin14(gtin_number(gtin)), lot, "imported")
    return tree


# ---------------------------------------------------------------------------------------------------
# Chain helpers


@dataclass
class _Chain:
    """What a service call needs: the node, DrugTrace, the Consortium behind it, the acting key's member."""

    w3: Web3
    drugs: Contract
    consortium: Contract
    names: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def of(cls, w3: Web3, drugs: Contract) -> _Chain:
        address = tx.call(drugs.functions.consortium())
        return cls(
            w3, drugs, w3.eth.contract(address=to_checksum_address(address), abi=load_abi("Consortium"))
        )

    def member_of(self, sender: Signer) -> str:
        account = signer_address(sender)
        member = tx.call(self.consortium.functions.memberOf(account))
        if _member(member) is None:
            raise InputError(f"{account} is not a consortium member or operator key")
        return to_checksum_address(member)

    def name(self, member: str | None) -> str | None:
        """The member's public name (cached per call chain)."""
        if member is None:
            return None
        if member not in self.names:
            self.names[member] = _member_name(self.consortium, member)
        return self.names[member]


def _member_name(consortium: Contract, member: str) -> str | None:
    try:
        name = get_member(consortium, member).name
    except MedchainError:
        return None
    return name or None


def _send(w3: Web3, fn: Any, sender: Signer) -> TxReceipt:
    return tx.send(w3, fn, sender)


def _event(contract: Contract, name: str, receipt: TxReceipt) -> dict[str, Any] | None:
    logs = getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
    return dict(logs[0]["args"]) if logs else None


def _tx_info(receipt: TxReceipt) -> tuple[str, int]:
    return Web3.to_hex(receipt["transactionHash"]), int(receipt["blockNumber"])


def batch_view(drugs: Contract, batch: bytes) -> BatchView:
    """The batch as stored on chain (status NONE if it does not exist)."""
    info = _call_struct(drugs, "batchInfo", batch)
    b = info["batch"]
    exists = int(b["status"]) != 0
    return BatchView(
        batch_id=_hex(batch),
        status=BATCH_STATUS[int(b["status"])],
        gtin=gtin14(b["gtin"]) if exists else "",
        lot=str(b["lot"]),
        expiry=expiry_from_unix(b["expiry"]) if exists else None,
        expired=bool(info["expired"]),
        quantity=int(b["quantity"]),
        in_transit=int(b["inTransit"]),
        lost=int(b["lost"]),
        manufacturer=_member(b["manufacturer"]),
        product_name=str(info["productName"]),
        commissioned_at=int(b["commissionedAt"]),
        recalled_at=int(b["recalledAt"]),
        serial_root=_hex(b["serialRoot"]),
        certificate_hash=_hex(b["certificateHash"]),
        recall_reason_hash=_hex(b["recallReasonHash"]),
    )


def _existing(drugs: Contract, batch: bytes) -> BatchView:
    view = batch_view(drugs, batch)
    if view.status == "NONE":
        raise InputError(f"batch {_hex(batch)} is not on chain")
    return view


# ---------------------------------------------------------------------------------------------------
# Published serial trees (medchain.serial_publish)


def tree_uri_of(consortium: Contract, view: BatchView) -> str | None:
    """Where batch `view`'s serial tree is published: ``<manufacturer member URI>/trees/0x<batchId>.json``."""
    if view.manufacturer is None:
        return None
    try:
        base = get_member(consortium, view.manufacturer).uri
    except MedchainError:
        return None
    return serial_publish.tree_uri(base, bytes.fromhex(view.batch_id[2:]))


def published_tree(
    w3: Web3, drugs: Contract, batch: bytes, store: Connection | None = None
) -> tuple[serial_publish.LeafTree, str | None]:
    """(the batch's serial tree, its URI): the store's copy, else the manufacturer's published tree, checked
    against the on-chain root and cached in `store`. TreeUnavailable / InputError (a refused tree) name the
    URI."""
    view = _existing(drugs, batch)
    return _leaf_tree(_Chain.of(w3, drugs), view, store)


def _leaf_tree(
    chain: _Chain, view: BatchView, store: Connection | None
) -> tuple[serial_publish.LeafTree, str | None]:
    batch = bytes.fromhex(view.batch_id[2:])
    root = bytes.fromhex(view.serial_root[2:])
    local = SerialTrees(store).stored_nodes(batch) if store is not None else None
    uri = None if local is not None and local[2][:32] == root else tree_uri_of(chain.consortium, view)
    tree = serial_publish.obtain(
        store, batch, gtin=view.gtin, lot=view.lot, root=root, quantity=view.quantity, uri=uri
    )
    return tree, uri


# ---------------------------------------------------------------------------------------------------
# Products and batches (MANUFACTURER)


def register_product(w3: Web3, drugs: Contract, sender: Signer, gtin: str, name: str) -> tuple[str, int]:
    """Register GTIN `gtin` (check digit validated) as the sender's member's product; (tx hash, block)."""
    number = gtin_number(gtin)
    return _tx_info(_send(w3, drugs.functions.registerProduct(number, name), sender))


def commission_batch(
    w3: Web3,
    drugs: Contract,
    sender: Signer,
    *,
    gtin: str,
    lot: str,
    expiry: _dt.date,
    serials: Sequence[str],
    certificate: bytes | None = None,
    store: Connection | None = None,
    when: _dt.datetime | None = None,
) -> CommissionResult:
    """Commission batch (gtin, lot): build the serial tree, store it (and the EPCIS document) locally, then
    send `commissionBatch` with the tree root. `certificate` is the release certificate's bytes (its sha256
    goes on chain). A batch already on chain with the same root is reported, not sent again."""
    started = time.perf_counter()
    tree = SerialTree.build(gtin, lot, serials)
    seconds = time.perf_counter() - started
    gtin_text = gtin14(gtin_number(gtin))
    chain = _Chain.of(w3, drugs)
    member = chain.member_of(sender)
    certificate_hash = hashlib.sha256(certificate).digest() if certificate is not None else bytes(32)
    doc = epcis.commission_event(
        gtin=gtin_text,
        lot=lot,
        expiry=expiry,
        quantity=len(tree),
        serial_root=tree.root,
        manufacturer=member,
        chain_id=w3.eth.chain_id,
        certificate_hash=certificate_hash if certificate is not None else None,
        when=when,
    )
    if store is not None:
        _save_tree(store, tree, gtin_text, lot, "commissioned")
        _save_document(store, doc, tree.batch_id)
    result = dict(
        batch_id=_hex(tree.batch_id),
        gtin=gtin_text,
        lot=lot,
        expiry=expiry,
        quantity=len(tree),
        serial_root=_hex(tree.root),
        epcis_hash=doc.hash_hex,
        tree_seconds=seconds,
    )
    on_chain = batch_view(drugs, tree.batch_id)
    if on_chain.status != "NONE":
        if on_chain.serial_root != _hex(tree.root):
            raise InputError(f"batch {_hex(tree.batch_id)} is already on chain with another serial root")
        return CommissionResult(**result, tx_hash=None, block=None, already_commissioned=True)  # type: ignore[arg-type]
    fn = drugs.functions.commissionBatch(
        gtin_number(gtin), lot, expiry_to_unix(expiry), len(tree), tree.root, certificate_hash, doc.hash
    )
    tx_hash, block = _tx_info(_send(w3, fn, sender))
    if store is not None:
        SerialTrees(store).set_commission_tx(tree.batch_id, _raw(tx_hash))
        _save_document(store, doc, tree.batch_id, tx_hash)
    return CommissionResult(**result, tx_hash=tx_hash, block=block)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# Custody


def _shipment(drugs: Contract, shipment_id: int) -> dict[str, Any]:
    s = _call_struct(drugs, "getShipment", shipment_id)
    if int(s["status"]) == 0:
        raise InputError(f"shipment {shipment_id} does not exist")
    return s


def _received_by(drugs: Contract, shipment_id: int, member: str) -> bool:
    s = _call_struct(drugs, "getShipment", shipment_id)
    return SHIPMENT_STATUS[int(s["status"])] == "RECEIVED" and to_checksum_address(s["to"]) == member


def _closed(drugs: Contract, store: Connection, batch: bytes) -> set[int]:
    """Stored shipments of the batch that were cancelled or returned (their serials are back at source)."""
    return {
        sid
        for sid, _ in drug_shipments.shipments_of(store, batch)
        if SHIPMENT_STATUS[int(_call_struct(drugs, "getShipment", sid)["status"])]
        in ("CANCELLED", "RETURNED")
    }


def _batch_tree(store: Connection, batch: bytes) -> SerialTree | None:
    serials = SerialTrees(store).serials(batch)
    return SerialTree.of(batch, serials) if serials else None


def _sources(
    drugs: Contract, store: Connection, view: BatchView, member: str
) -> list[tuple[int, SerialTree]]:
    """Where the member can ship serials of the batch from: the batch tree (its manufacturer, if this store
    has the tree), then the stored shipments the member received."""
    batch = bytes.fromhex(view.batch_id[2:])
    found: list[tuple[int, SerialTree]] = []
    tree = _batch_tree(store, batch) if view.manufacturer == member else None
    if tree is not None:
        found.append((0, tree))
    for sid, serials in drug_shipments.shipments_of(store, batch):
        if _received_by(drugs, sid, member):
            found.append((sid, SerialTree.of(batch, serials)))
    return found


def _serial_set(
    drugs: Contract,
    store: Connection,
    view: BatchView,
    member: str,
    *,
    serials: Sequence[str] | None,
    quantity: int | None,
    whole: bool,
    source: int | None,
) -> SerialSet:
    """The SerialSet to ship: the listed serials, `quantity` not yet shipped ones, or a whole source."""
    batch = bytes.fromhex(view.batch_id[2:])
    sources = [(sid, tree) for sid, tree in _sources(drugs, store, view, member) if source in (None, sid)]
    if not sources:
        where = "the batch tree" if source == 0 else (f"shipment {source}" if source else "any source")
        raise InputError(
            f"this store has no serials of batch {view.lot} your member holds from {where}: commission the "
            "batch here, or receive your shipments with their serial lists (drugs receive ID --serials FILE)"
        )
    if whole:
        sid, tree = sources[0]
        return whole_source(tree, sid)
    if serials is not None:
        wanted = list(serials)
        for sid, tree in sources:
            if set(wanted) <= set(tree.serials):
                return serial_set(tree, wanted, sid)
        missing = next(s for s in wanted if not any(s in t.serials for _, t in sources))
        raise InputError(
            f"serial {missing!r} is not in one source your member holds"
            if missing is not None
            else "the serials come from two sources: ship each source's serials in its own shipment"
        )
    count = int(quantity or 0)
    if count < 1:
        raise InputError("ship needs serials (a list or file), a quantity of at least 1, or --all")
    closed = _closed(drugs, store, batch)
    for sid, tree in sources:
        gone = drug_shipments.shipped_from(store, batch, sid, closed)
        free = [s for s in tree.serials if s not in gone]
        if len(free) >= count:
            return serial_set(tree, free[:count], sid)
    raise InputError(f"no single source holds {count} serials of batch {view.lot} not yet shipped: list them")


def ship(
    w3: Web3,
    drugs: Contract,
    sender: Signer,
    *,
    batch: bytes,
    to: str,
    serials: Sequence[str] | None = None,
    quantity: int | None = None,
    whole: bool = False,
    source: int | None = None,
    store: Connection,
    when: _dt.datetime | None = None,
) -> ShipResult:
    """Ship serials of `batch` from the sender's member to member `to`: the listed `serials`, else `quantity`
    serials not yet shipped, else (`whole`) a whole source. The serials come from the batch tree (its
    manufacturer) or from one shipment the member received, both read from `store`; the shipment's serials are
    stored there too (give the list to the recipient: it is the ship EPCIS document's epcList)."""
    view = _existing(drugs, batch)
    chain = _Chain.of(w3, drugs)
    member = chain.member_of(sender)
    recipient = to_checksum_address(to)
    chosen = _serial_set(
        drugs, store, view, member, serials=serials, quantity=quantity, whole=whole, source=source
    )
    listed = chosen.tree.serials if chosen.serial_hashes else ()
    doc = epcis.ship_event(
        gtin=view.gtin,
        lot=view.lot,
        quantity=len(listed) or len(chosen.tree),
        sender=member,
        recipient=recipient,
        chain_id=w3.eth.chain_id,
        when=when,
        serials=listed,
    )
    _save_document(store, doc, batch)
    receipt = _send(w3, drugs.functions.ship(batch, recipient, chosen.as_arg(), doc.hash), sender)
    tx_hash, block = _tx_info(receipt)
    _save_document(store, doc, batch, tx_hash)
    shipped = _event(drugs, "DrugShipped", receipt) or {}
    shipment_id = int(shipped.get("shipmentId", 0))
    drug_shipments.save(store, shipment_id, chosen.tree, chosen.source)
    return ShipResult(
        shipment_id,
        _hex(batch),
        member,
        recipient,
        int(shipped.get("quantity", 0)),
        doc.hash_hex,
        tx_hash,
        block,
        chosen.source,
        _hex(chosen.tree.root),
        chosen.tree.serials,
    )


def receive(
    w3: Web3,
    drugs: Contract,
    sender: Signer,
    *,
    shipment_id: int,
    quantity: int | None = None,
    serials: Sequence[str] | None = None,
    store: Connection | None = None,
    when: _dt.datetime | None = None,
) -> ReceiveResult:
    """Confirm shipment `shipment_id`: `quantity` units arrived (default: all that were shipped). `serials`
    (or the store's copy) is checked against the shipment's on-chain commitment before anything is sent, then
    stored: the packs can then be dispensed or shipped on from this store."""
    s = _shipment(drugs, shipment_id)
    batch = bytes(s["batchId"])
    view = _existing(drugs, batch)
    tree = SerialTree.of(batch, list(serials)) if serials else None
    if tree is None and store is not None:
        tree = drug_shipments.tree_of(store, shipment_id)
    if tree is not None and drug_shipments.commitment(batch, tree.root) != bytes(s["serialCommitment"]):
        raise InputError(
            f"the serial list does not match shipment {shipment_id} on chain: "
            "ask the sender for the list it shipped"
        )
    shipped = int(s["quantity"])
    received = shipped if quantity is None else int(quantity)
    doc = epcis.receive_event(
        gtin=view.gtin,
        lot=view.lot,
        shipped=shipped,
        received=received,
        sender=s["from"],
        recipient=s["to"],
        shipment_id=shipment_id,
        chain_id=w3.eth.chain_id,
        when=when,
    )
    _save_document(store, doc, batch)
    receipt = _send(w3, drugs.functions.receiveShipment(shipment_id, received, doc.hash), sender)
    tx_hash, block = _tx_info(receipt)
    _save_document(store, doc, batch, tx_hash)
    if tree is not None and store is not None:
        drug_shipments.save(store, shipment_id, tree, 0 if serials else _stored_source(store, shipment_id))
    return ReceiveResult(
        shipment_id,
        _hex(batch),
        to_checksum_address(s["from"]),
        to_checksum_address(s["to"]),
        shipped,
        received,
        shipped - received,
        doc.hash_hex,
        tx_hash,
        block,
        tree is not None and store is not None,
    )


def _stored_source(store: Connection, shipment_id: int) -> int:
    return drug_shipments.source_of(store, shipment_id)


def _unship(
    w3: Web3,
    drugs: Contract,
    sender: Signer,
    shipment_id: int,
    kind: str,
    store: Connection | None,
    when: _dt.datetime | None,
) -> UnshipResult:
    s = _shipment(drugs, shipment_id)
    batch = bytes(s["batchId"])
    view = _existing(drugs, batch)
    quantity, chain_id = int(s["quantity"]), w3.eth.chain_id
    if kind == "cancel":
        doc = epcis.cancel_event(
            gtin=view.gtin, lot=view.lot, quantity=quantity, sender=s["from"], shipment_id=shipment_id,
            chain_id=chain_id, when=when,
        )  # fmt: skip
        fn = drugs.functions.cancelShipment(shipment_id, doc.hash)
    else:
        doc = epcis.return_event(
            gtin=view.gtin, lot=view.lot, quantity=quantity, sender=s["from"], recipient=s["to"],
            shipment_id=shipment_id, chain_id=chain_id, when=when,
        )  # fmt: skip
        fn = drugs.functions.returnShipment(shipment_id, doc.hash)
    _save_document(store, doc, batch)
    tx_hash, block = _tx_info(_send(w3, fn, sender))
    _save_document(store, doc, batch, tx_hash)
    return UnshipResult(
        shipment_id,
        _hex(batch),
        to_checksum_address(s["from"]),
        to_checksum_address(s["to"]),
        int(s["quantity"]),
        "CANCELLED" if kind == "cancel" else "RETURNED",
        doc.hash_hex,
        tx_hash,
        block,
    )


def cancel_shipment(
    w3: Web3,
    drugs: Contract,
    sender: Signer,
    *,
    shipment_id: int,
    store: Connection | None = None,
    when: _dt.datetime | None = None,
) -> UnshipResult:
    """The sender takes shipment `shipment_id` back before receipt: its units are the sender's stock again."""
    return _unship(w3, drugs, sender, shipment_id, "cancel", store, when)


def return_shipment(
    w3: Web3,
    drugs: Contract,
    sender: Signer,
    *,
    shipment_id: int,
    store: Connection | None = None,
    when: _dt.datetime | None = None,
) -> UnshipResult:
    """The recipient refuses shipment `shipment_id` before receipt: its units return to the sender's stock."""
    return _unship(w3, drugs, sender, shipment_id, "return", store, when)


# ---------------------------------------------------------------------------------------------------
# Dispensing


def dispense(
    w3: Web3,
    drugs: Contract,
    sender: Signer,
    scan: str | None = None,
    *,
    gtin: str | None = None,
    lot: str | None = None,
    serial: str | None = None,
    proof: Sequence[bytes] | None = None,
    shipment_id: int | None = None,
    store: Connection | None = None,
    when: _dt.datetime | None = None,
) -> DispenseResult:
    """Dispense one pack, given as a raw scan (any GS1 form medchain.gs1 reads) or as gtin/lot/serial. The
    proof places the serial in a shipment the dispenser's member received: `proof` with `shipment_id`, or
    found in the store's received shipments. A pack already dispensed is not refused: the chain records a
    duplicate-scan flag and this returns ``first=False``."""
    code = (
        parse_pack(scan)
        if scan is not None
        else DrugCode(gtin=gtin14(gtin_number(gtin or "")), lot=lot, serial=serial)
    )
    if code.lot is None or code.serial is None:
        raise InputError("dispensing needs GTIN, lot and serial")
    batch = batch_id(code.gtin, code.lot)
    view = _existing(drugs, batch)
    if code.expiry is not None and view.expiry is not None and code.expiry != view.expiry:
        raise InputError(f"the pack says expiry {code.expiry}, batch {code.lot} on chain says {view.expiry}")
    chain = _Chain.of(w3, drugs)
    member = chain.member_of(sender)
    if proof is None or shipment_id is None:
        found = _received_proof(drugs, store, batch, code.serial, member) if store is not None else None
        if found is None:
            found = _whole_batch_proof(chain, view, store, code.serial, member)
        if found is None:
            raise InputError(
                f"serial {code.serial!r} of batch {code.lot} is in no shipment your member received in this "
                "store: receive the shipment with its serial list (medchain drugs receive ID --serials FILE)"
            )
        shipment_id, proof = found
    doc = epcis.dispense_event(
        gtin=code.gtin,
        lot=code.lot,
        serial=code.serial,
        dispenser=member,
        chain_id=w3.eth.chain_id,
        when=when,
    )
    _save_document(store, doc, batch)
    receipt = _send(
        w3, drugs.functions.dispense(batch, shipment_id, code.serial, list(proof), doc.hash), sender
    )
    tx_hash, block = _tx_info(receipt)
    _save_document(store, doc, batch, tx_hash)
    flagged = _event(drugs, "DuplicateDispenseFlagged", receipt)
    return DispenseResult(
        _hex(batch),
        code.gtin,
        code.lot,
        code.serial,
        flagged is None,
        int(flagged["duplicateCount"]) if flagged else 0,
        member,
        doc.hash_hex,
        tx_hash,
        block,
        shipment_id,
    )


def _whole_batch_proof(
    chain: _Chain, view: BatchView, store: Connection | None, serial: str, member: str
) -> tuple[int, list[bytes]] | None:
    """(shipment id, proof) of `serial` from the batch tree (the store's, else the published one), for a
    shipment `member` received that carried the whole batch (its serial root is the batch's). None when
    the member received no such shipment; InputError when the serial is not in the batch or no tree can be
    read."""
    batch = bytes.fromhex(view.batch_id[2:])
    whole = drug_shipments.commitment(batch, bytes.fromhex(view.serial_root[2:]))
    received = _logs(chain.drugs, "DrugReceived", 0, {"batchId": batch, "to": member})
    ids = [int(log["args"]["shipmentId"]) for log in received]
    candidates = [
        sid for sid in reversed(ids) if bytes(_shipment(chain.drugs, sid)["serialCommitment"]) == whole
    ]
    if not candidates:
        return None
    try:
        tree, _ = _leaf_tree(chain, view, store)
    except serial_publish.TreeUnavailable as exc:
        raise InputError(f"cannot check the serial: {exc}") from None
    proof = tree.proof(serial)
    if proof is None:
        raise InputError(f"serial {serial!r} is not in batch {view.lot}: the pack is not one of its serials")
    return candidates[0], proof


def _received_proof(
    drugs: Contract, store: Connection, batch: bytes, serial: str, member: str
) -> tuple[int, list[bytes]] | None:
    """(shipment id, proof) of `serial` in the latest stored shipment `member` received that lists it."""
    for sid, serials in reversed(list(drug_shipments.shipments_of(store, batch))):
        if serial in serials and _received_by(drugs, sid, member):
            return sid, SerialTree.of(batch, serials).proof(serial)
    return None


# ---------------------------------------------------------------------------------------------------
# GS1 Company Prefixes and product moves (COUNCIL, k-of-n inside DrugTrace)


def _motion(w3: Web3, drugs: Contract, fn: Any, sender: Signer) -> MotionResult:
    receipt = _send(w3, fn, sender)
    tx_hash, block = _tx_info(receipt)
    approved = _event(drugs, "MotionApproved", receipt) or {}
    return MotionResult(
        _hex(approved.get("motionId", bytes(32))),
        _event(drugs, "PrefixAssigned", receipt) is not None
        or _event(drugs, "ProductReassigned", receipt) is not None,
        int(approved.get("approvals", 0)),
        int(approved.get("threshold", 0)),
        tx_hash,
        block,
    )


def assign_prefix(
    w3: Web3, drugs: Contract, sender: Signer, prefix: str, manufacturer: str | None
) -> MotionResult:
    """Approve assigning GS1 Company Prefix `prefix` (6-12 digits) to `manufacturer` (None: unassign)."""
    text = prefix.strip()
    if not text.isascii() or not text.isdigit() or not 6 <= len(text) <= 12:
        raise InputError(f"a GS1 Company Prefix has 6 to 12 digits, got {prefix!r}")
    target = to_checksum_address(manufacturer) if manufacturer else ZERO_ADDRESS
    return _motion(w3, drugs, drugs.functions.assignPrefix(text, target), sender)


def reassign_product(w3: Web3, drugs: Contract, sender: Signer, gtin: str, manufacturer: str) -> MotionResult:
    """Approve moving product `gtin` to member `manufacturer` (its future batches)."""
    fn = drugs.functions.reassignProduct(gtin_number(gtin), to_checksum_address(manufacturer))
    return _motion(w3, drugs, fn, sender)


# ---------------------------------------------------------------------------------------------------
# Recall


def recall(
    w3: Web3,
    drugs: Contract,
    sender: Signer,
    *,
    batch: bytes,
    notice: bytes,
    store: Connection | None = None,
    when: _dt.datetime | None = None,
) -> RecallResult:
    """Recall `batch`; `notice` is the recall notice's bytes (its sha256 is the on-chain reason hash)."""
    view = _existing(drugs, batch)
    reason = hashlib.sha256(notice).digest()
    chain = _Chain.of(w3, drugs)
    by = chain.member_of(sender)
    doc = epcis.recall_event(
        gtin=view.gtin, lot=view.lot, by=by, reason_hash=reason, chain_id=w3.eth.chain_id, when=when
    )
    _save_document(store, doc, batch)
    tx_hash, block = _tx_info(_send(w3, drugs.functions.recall(batch, reason, doc.hash), sender))
    _save_document(store, doc, batch, tx_hash)
    return RecallResult(_hex(batch), by, _hex(reason), doc.hash_hex, tx_hash, block)


# ---------------------------------------------------------------------------------------------------
# Journeys (from events)

_BATCH_EVENTS = (
    "BatchCommissioned",
    "DrugShipped",
    "DrugReceived",
    "DrugReceiptDiscrepancy",
    "BatchRecalled",
)
_SERIAL_EVENTS = ("DrugDispensed", "DuplicateDispenseFlagged")


def _logs(drugs: Contract, name: str, from_block: int, filters: dict[str, Any]) -> list[EventData]:
    event = getattr(drugs.events, name)()
    return list(event.get_logs(from_block=from_block, to_block="latest", argument_filters=filters))


def trace(
    w3: Web3,
    drugs: Contract,
    gtin: str,
    lot: str,
    serial: str | None = None,
    *,
    from_block: int = 0,
    path_only: bool = True,
    _chain: _Chain | None = None,
) -> list[JourneyHop]:
    """The batch's journey, oldest first. With a serial: that serial's dispense and duplicate scans only,
    and, when it was dispensed and `path_only`, only the hand-overs that lead to the dispensing member
    (the latest delivery into each holder before the pack left it; units of a batch are not tracked one
    by one)."""
    batch = batch_id(gtin, lot)
    filters: dict[str, Any] = {"batchId": batch}
    logs = [log for name in _BATCH_EVENTS for log in _logs(drugs, name, from_block, filters)]
    serial_filters = dict(filters, serialLeaf=serial_leaf(batch, serial)) if serial is not None else filters
    logs += [log for name in _SERIAL_EVENTS for log in _logs(drugs, name, from_block, serial_filters)]
    logs.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
    if serial is not None and path_only:
        logs = _custody_path(logs)
    chain = _chain or _Chain.of(w3, drugs)
    times = BlockTimes(chain.w3)
    return [_hop(chain, log, logs, times) for log in logs]


def _custody_path(logs: list[EventData]) -> list[EventData]:
    """Keep the hand-overs along the path manufacturer -> ... -> dispensing member (plus everything else that
    is not a hand-over). Without a dispense there is no path: all hand-overs stay."""
    dispensed = next((log for log in logs if log["event"] == "DrugDispensed"), None)
    if dispensed is None:
        return logs
    receipts = [log for log in logs if log["event"] == "DrugReceived"]
    keep: set[int] = set()
    holder, before = str(dispensed["args"]["member"]), _position(dispensed)
    for _ in range(len(receipts)):  # each step moves strictly back in time: bounded
        delivery = next(
            (
                r
                for r in reversed(receipts)
                if str(r["args"]["to"]) == holder
                and _position(r) < before
                and int(r["args"]["quantityReceived"]) > 0
            ),
            None,
        )
        if delivery is None:
            break
        shipment = int(delivery["args"]["shipmentId"])
        keep.add(shipment)
        holder, before = str(delivery["args"]["from"]), _position(delivery)
        ship = next(
            (
                log
                for log in logs
                if log["event"] == "DrugShipped" and int(log["args"]["shipmentId"]) == shipment
            ),
            None,
        )
        if ship is not None:
            before = _position(ship)
    handovers = {"DrugShipped", "DrugReceived", "DrugReceiptDiscrepancy"}
    return [log for log in logs if log["event"] not in handovers or int(log["args"]["shipmentId"]) in keep]


def _position(log: EventData) -> tuple[int, int]:
    return int(log["blockNumber"]), int(log["logIndex"])


def _hop(chain: _Chain, log: EventData, logs: list[EventData], times: BlockTimes) -> JourneyHop:
    args, name = log["args"], log["event"]
    block = int(log["blockNumber"])
    kind, src, dst, quantity, shipment = _hop_fields(name, args, logs)
    return JourneyHop(
        kind=kind,
        from_address=src,
        to_address=dst,
        from_name=chain.name(src),
        to_name=chain.name(dst),
        quantity=quantity,
        timestamp=times(block),
        tx_hash=Web3.to_hex(log["transactionHash"]),
        block=block,
        shipment_id=shipment,
        epcis_hash=_hex(args["epcisHash"]),
    )


def _hop_fields(
    name: str, args: Any, logs: list[EventData]
) -> tuple[str, str | None, str | None, int, int | None]:
    if name == "BatchCommissioned":
        return "commission", None, _member(args["manufacturer"]), int(args["quantity"]), None
    if name == "DrugShipped":
        return (
            "ship",
            _member(args["from"]),
            _member(args["to"]),
            int(args["quantity"]),
            int(args["shipmentId"]),
        )
    if name == "DrugReceived":
        return (
            "receive",
            _member(args["from"]),
            _member(args["to"]),
            int(args["quantityReceived"]),
            int(args["shipmentId"]),
        )
    if name == "DrugReceiptDiscrepancy":
        shipment = int(args["shipmentId"])
        sent = next(
            (
                log
                for log in logs
                if log["event"] == "DrugShipped" and int(log["args"]["shipmentId"]) == shipment
            ),
            None,
        )
        src = _member(sent["args"]["from"]) if sent is not None else None
        return "discrepancy", src, _member(args["to"]), int(args["shipped"]) - int(args["received"]), shipment
    if name == "DrugDispensed":
        return "dispense", _member(args["member"]), None, 1, None
    if name == "DuplicateDispenseFlagged":
        return "duplicate", _member(args["member"]), None, 0, None
    return "recall", _member(args["by"]), None, 0, None


# ---------------------------------------------------------------------------------------------------
# Consumer lookup


def lookup(
    w3: Web3,
    drug_trace_contract: Contract,
    gtin: str,
    lot: str,
    serial: str,
    *,
    proof: Sequence[bytes] | None = None,
    store: Connection | None = None,
    from_block: int = 0,
) -> DrugStatus:
    """Everything about one pack in one call (views + events). Without an explicit `proof`, the serial is
    checked against the batch's serial tree (the store's copy, else the manufacturer's published tree,
    checked against the on-chain root and cached in `store`): a serial that is not in it is not found
    (``found=False``, ``serial_check="absent"``); one that is gets the chain's `verify` answer as `genuine`.
    When no tree can be read, ``serial_check="unavailable"`` and `serial_note` says why; `genuine` is then
    True only if the serial was dispensed (its dispense checked a proof), else None. Raises InputError for a
    malformed GTIN/lot/serial."""
    drugs = drug_trace_contract
    code = DrugCode(gtin=gtin14(gtin_number(gtin)), lot=lot, serial=serial)
    assert code.lot is not None and code.serial is not None
    batch = batch_id(code.gtin, code.lot)
    view = batch_view(drugs, batch)
    if view.status == "NONE":
        return _not_found(code, drugs.address, batch)
    chain = _Chain.of(w3, drugs)
    check: str | None = None
    note: str | None = None
    uri: str | None = None
    if proof is None:
        try:
            tree, uri = _leaf_tree(chain, view, store)
        except MedchainError as exc:  # unreadable (TreeUnavailable) or refused (InputError): say so
            check, note = "unavailable", f"cannot check the serial: {exc}"
        else:
            proof = tree.proof(code.serial)
            if proof is None:
                return replace(_not_found(code, drugs.address, batch), serial_check="absent", tree_uri=uri)
            check = "proven"
    if proof is not None:
        s = _call_struct(drugs, "verify", gtin_number(code.gtin), code.lot, code.serial, list(proof))
        genuine: bool | None = bool(s["genuine"])
    else:
        s = _call_struct(drugs, "serialStatus", batch, code.serial)
        genuine = True if s["dispensed"] else None
    journey = trace(w3, drugs, code.gtin, code.lot, code.serial, from_block=from_block, _chain=chain)
    commission = next((h for h in journey if h.kind == "commission"), None)
    dispensed_by, last_duplicate_by = _member(s["dispensedBy"]), _member(s["lastDuplicateBy"])
    return DrugStatus(
        found=True,
        genuine=genuine,
        gtin=code.gtin,
        lot=code.lot,
        serial=code.serial,
        expiry=view.expiry,
        quantity=view.quantity,
        manufacturer=view.manufacturer,
        manufacturer_name=chain.name(view.manufacturer),
        recalled=view.status == "RECALLED",
        recall_reason_hash=view.recall_reason_hash if view.status == "RECALLED" else None,
        expired=view.expired,
        dispensed=bool(s["dispensed"]),
        dispensed_at=int(s["dispensedAt"]) if s["dispensed"] else None,
        dispensed_by=dispensed_by,
        dispensed_by_name=chain.name(dispensed_by),
        duplicate_scans=int(s["duplicateCount"]),
        journey=journey,
        contract=drugs.address,
        commission_tx=commission.tx_hash if commission else None,
        commission_block=commission.block if commission else None,
        batch_id=_hex(batch),
        product_name=view.product_name or None,
        certificate_hash=view.certificate_hash if int(view.certificate_hash, 16) else None,
        recalled_at=view.recalled_at or None,
        last_duplicate_by=last_duplicate_by,
        last_duplicate_by_name=chain.name(last_duplicate_by),
        last_duplicate_at=int(s["lastDuplicateAt"]) or None,
        serial_check=check,
        serial_note=note,
        tree_uri=uri,
    )


def _not_found(code: DrugCode, contract: str, batch: bytes) -> DrugStatus:
    return DrugStatus(
        found=False,
        genuine=None,
        gtin=code.gtin,
        lot=code.lot or "",
        serial=code.serial or "",
        expiry=None,
        quantity=0,
        manufacturer=None,
        manufacturer_name=None,
        recalled=False,
        recall_reason_hash=None,
        expired=False,
        dispensed=False,
        dispensed_at=None,
        dispensed_by=None,
        dispensed_by_name=None,
        duplicate_scans=0,
        journey=[],
        contract=contract,
        batch_id=_hex(batch),
    )


def resolve_batch(text: str) -> bytes:
    """A batch given as its 0x id, as ``GTIN/LOT``, or as any GS1 scan carrying (01) and (10)."""
    value = text.strip()
    if value.startswith(("0x", "0X")) and len(value) == 66:
        return _bytes32(value, "batch id")
    if "/" in value and not value.lower().startswith(("http://", "https://")) and "(" not in value:
        gtin, _, lot = value.partition("/")
        DrugCode(gtin=gtin14(gtin_number(gtin)), lot=lot)
        return batch_id(gtin, lot)
    code = parse_scan(value)
    if isinstance(code, ChinaTraceCode) or not code.lot:
        raise InputError(
            f"{text!r} names no batch: give a 0x batch id, GTIN/LOT, or a GS1 code with (01) and (10)"
        )
    return batch_id(code.gtin, code.lot)
