"""The record gateway's decisions: who may have which record, checked against the chain at each request.

A record is released only when (1) the request is well-formed, for this chain and this RecordRegistry,
unexpired, never answered before, and signed by an operator key of the active HOSPITAL member it names (or
by the record's patient); (2) for a member, a mined ``RecordAccessed`` event with enough confirmations, in the
transaction the request names, names that record, that member and that purpose; and (3) the consent (or
an open emergency opening, for EMERGENCY) still permits it now. The patient's own requests need neither
the log nor a consent. Every refusal is a :class:`Refusal` carrying its HTTP status.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import TransactionNotFound

from medchain import tx
from medchain.addresses import checked_address
from medchain.codes import DATA_CLASS_NAMES, DATA_CLASSES, PURPOSE_NAMES, ROLES
from medchain.errors import ChainError, InputError, MedchainError
from medchain.gateway.catalogue import Catalogue, Source
from medchain.gateway.crypto import CIPHER, b64, encrypt
from medchain.gateway.errors import Refusal
from medchain.gateway.messages import GatewayDomain, ListRequest, RecordRequest, SignedRequest
from medchain.gateway.releases import ReleaseLog
from medchain.journal import Journal, JournalItem
from medchain.openings import RecordOpening
from medchain.records import RecordService, opening_of

__all__ = ["LIST_FORMAT", "RECORD_FORMAT", "RecordGateway", "binary"]

RECORD_FORMAT = "medchain-gateway-record/1"
LIST_FORMAT = "medchain-gateway-list/1"
ZERO32 = b"\x00" * 32
DEFAULT_LIFETIME = 900  # the furthest ahead a request may expire (seconds)
RESCAN_INTERVAL = 2.0  # at most one rescan of the export per this many seconds (on an unknown record)
PRUNE_INTERVAL = 3600  # the release log forgets requests that expired over an hour ago, hourly

try:
    from web3.logs import DISCARD as _DISCARD
except ImportError:  # pragma: no cover
    _DISCARD = None  # type: ignore[assignment]


@dataclass
class Entry:
    """A record this gateway can serve: its journal row, where its bytes are, its opening (lazily)."""

    item: JournalItem
    source: Source
    opening: RecordOpening | None = field(default=None, repr=False)

    @property
    def patient(self) -> str:
        return str(self.item.patient)


def binary(ciphertext: bytes) -> dict[str, Any]:
    """The HTTP response body: a FHIR Binary whose data is the ciphertext."""
    return {"resourceType": "Binary", "contentType": CIPHER, "data": b64(ciphertext)}


class RecordGateway:
    """One hospital's gateway: its journal and export, checked against the chain."""

    def __init__(
        self,
        w3: Web3,
        registry: Contract,
        consortium: Contract,
        consent: Contract,
        journal: Journal,
        member: str,
        catalogue: Catalogue,
        *,
        confirmations: int = 1,
        max_lifetime: int = DEFAULT_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if confirmations < 1:
            raise InputError(
                f"--confirmations must be at least 1 (the block holding the log), not {confirmations}"
            )
        self.w3 = w3
        self.registry = registry
        self.consortium = consortium
        self.consent = consent
        self.journal = journal
        self.member = checked_address(member, "member")
        self.catalogue = catalogue
        self.confirmations = confirmations
        self.max_lifetime = max_lifetime
        self.clock = clock
        self.chain_id = int(w3.eth.chain_id)
        self.domain = GatewayDomain(self.chain_id, registry.address)
        self.releases = ReleaseLog(journal.conn)
        self._svc = RecordService(w3, registry, consortium, journal)
        self._lock = threading.Lock()
        self._view_lock = threading.Lock()
        self._view_block = -1
        self._view: dict[tuple[Any, ...], Any] = {}  # chain answers at block _view_block
        self._logs: dict[bytes, tuple[int, list[Any]]] = {}  # access tx -> (block, RecordAccessed args)
        self._by_leaf: dict[bytes, Entry] = {}
        self._by_hash: dict[bytes, list[bytes]] = {}
        self._by_patient: dict[str, list[bytes]] = {}
        self._unmatched: set[bytes] = set()
        self._scanned_at = 0.0
        self._pruned_at = 0

    # ---- the export ----

    def refresh(self) -> int:
        """Rescans the export and matches its records with this hospital's anchored journal entries; returns
        how many records it serves."""
        with self._lock:
            self._unmatched |= set(self.catalogue.scan())
            for record_hash in sorted(self._unmatched):
                if self._match(record_hash):
                    self._unmatched.discard(record_hash)
            self._scanned_at = time.monotonic()
            return len(self._by_leaf)

    def _match(self, record_hash: bytes) -> bool:
        sources = self.catalogue.sources(record_hash)
        found = False
        for item in self.journal.find(record_hash=record_hash):
            source = next((s for s in sources if s.method == item.method), None)
            if source is None or item.state != "anchored" or item.patient is None:
                continue
            if item.submission.hospital != self.member or item.leaf in self._by_leaf:
                continue
            self._by_leaf[item.leaf] = Entry(item, source)
            self._by_hash.setdefault(item.record_hash, []).append(item.leaf)
            self._by_patient.setdefault(checked_address(item.patient, "patient"), []).append(item.leaf)
            found = True
        return found

    def entry(self, leaf: bytes) -> Entry | None:
        """The record under ``leaf``; an unknown leaf triggers a (throttled) rescan of the export first."""
        found = self._by_leaf.get(bytes(leaf))
        if found is None and self._rescan_due():
            self.refresh()
            found = self._by_leaf.get(bytes(leaf))
        return found

    def _rescan_due(self) -> bool:
        return time.monotonic() - self._scanned_at > RESCAN_INTERVAL

    def opening(self, entry: Entry) -> RecordOpening:
        if entry.opening is None:
            entry.opening = opening_of(self._svc, entry.item)
        return entry.opening

    def served(self) -> int:
        return len(self._by_leaf)

    # ---- requests ----

    def release_record(self, signed: SignedRequest, record_id: str) -> dict[str, Any]:
        """The encrypted record for a RecordRequest, or a Refusal."""
        request = signed.request
        if not isinstance(request, RecordRequest):
            raise Refusal(400, "invalid", "this endpoint takes a RecordRequest")
        wanted = _hash_param(record_id, "record id")
        signer = self._authenticate(signed)
        entry = self.entry(request.leaf)
        if entry is None:
            raise Refusal(404, "not-found", f"record {_hx(request.leaf)} is not served by this gateway")
        if wanted not in (entry.item.leaf, entry.item.record_hash):
            raise Refusal(
                400, "invalid", f"the URL names {_hx(wanted)}, the signed request {_hx(request.leaf)}"
            )
        patient = entry.patient
        block = self._latest()
        if not self._authorise(signer, request.requester, patient, block):
            self._check_access_log(request, entry, block)
            classes = 1 << entry.item.data_class
            if not self._permitted(patient, request.requester, request.purpose, classes, block):
                raise Refusal(
                    403,
                    "forbidden",
                    f"no consent (or open emergency opening) of patient {patient} permits member "
                    f"{request.requester} {_purpose(request.purpose)} access to "
                    f"{DATA_CLASS_NAMES[entry.item.data_class]} records now",
                )
        try:
            content = entry.source.read()
        except OSError as exc:
            message = f"record {_hx(entry.item.leaf)} is no longer in this hospital's export ({exc.strerror})"
            raise Refusal(404, "not-found", message) from None
        envelope = {
            "format": RECORD_FORMAT,
            "requestId": _hx(request.request_id),
            "hospital": self.member,
            "leaf": _hx(entry.item.leaf),
            "recordHash": _hx(entry.item.record_hash),
            "hashMethod": entry.item.method,
            "dataClass": entry.item.data_class,
            "contentType": entry.source.content_type,
            "suffix": entry.source.suffix,
            "content": b64(content),
        }
        self._remember(signed, signer, "record", entry.item.leaf, request.access_tx)
        return binary(encrypt(request.response_key, _json(envelope)))

    def release_list(self, signed: SignedRequest, patient_id: str) -> dict[str, Any]:
        """The encrypted listing for a RecordListRequest, or a Refusal."""
        request = signed.request
        if not isinstance(request, ListRequest):
            raise Refusal(400, "invalid", "this endpoint takes a RecordListRequest")
        try:
            patient = checked_address(patient_id, "patient")
        except InputError as exc:
            raise Refusal(400, "invalid", str(exc)) from None
        if patient != request.patient:
            raise Refusal(
                400, "invalid", f"the URL names patient {patient}, the signed request {request.patient}"
            )
        signer = self._authenticate(signed)
        block = self._latest()
        if self._authorise(signer, request.requester, patient, block):
            classes = list(DATA_CLASSES.values())
        else:
            asked = (request.requester, request.purpose)
            classes = [c for c in DATA_CLASSES.values() if self._permitted(patient, *asked, 1 << c, block)]
            if not classes:
                raise Refusal(
                    403,
                    "forbidden",
                    f"no consent (or open emergency opening) of patient {patient} covers member "
                    f"{request.requester} for {_purpose(request.purpose)}: nothing is listed",
                )
        if self._rescan_due():  # records anchored since the last scan
            self.refresh()
        entries = []
        for leaf in list(self._by_patient.get(patient, ())):
            entry = self._by_leaf[leaf]
            if entry.item.data_class in classes:
                listed = self.opening(entry).as_dict()
                listed.update(hashMethod=entry.item.method, contentType=entry.source.content_type)
                entries.append(listed)
        envelope = {
            "format": LIST_FORMAT,
            "requestId": _hx(request.request_id),
            "hospital": self.member,
            "patient": patient,
            "purpose": _purpose(request.purpose),
            "classes": [DATA_CLASS_NAMES[c] for c in classes],
            "entries": entries,
        }
        self._remember(signed, signer, "list", bytes.fromhex(patient[2:]), None)
        return binary(encrypt(request.response_key, _json(envelope)))

    # ---- checks ----

    def _authenticate(self, signed: SignedRequest) -> str:
        """Domain, expiry, replay and the signature; returns the signer."""
        request = signed.request
        if signed.domain.chain_id != self.chain_id:
            raise Refusal(
                401,
                "security",
                f"request signed for chain {signed.domain.chain_id}; this gateway serves {self.chain_id}",
            )
        if signed.domain.verifying_contract != self.registry.address:
            raise Refusal(
                401,
                "security",
                f"request signed for verifyingContract {signed.domain.verifying_contract}; this gateway's "
                f"RecordRegistry is {self.registry.address}",
            )
        now = int(self.clock())
        if request.expires_at < now:
            raise Refusal(
                401, "expired", f"request expired at {request.expires_at} (now {now}): sign a new one"
            )
        if request.expires_at > now + self.max_lifetime:
            ahead = request.expires_at - now
            raise Refusal(400, "invalid", f"request expires {ahead} s ahead; at most {self.max_lifetime} s")
        if self.releases.seen(request.request_id):
            raise Refusal(409, "duplicate", f"request {_hx(request.request_id)} was answered before (replay)")
        try:
            return signed.signer()
        except InputError as exc:
            raise Refusal(401, "security", str(exc)) from None

    def _authorise(self, signer: str, requester: str, patient: str, block: int) -> bool:
        """True for the patient's own request; for a member's, checks that the signer acts for it."""
        if requester == patient:
            if signer != patient:
                raise Refusal(401, "security", f"request names patient {patient} but is signed by {signer}")
            return True
        member = self._read(block, self.consortium.functions.authorizedMember(signer, ROLES["HOSPITAL"]))
        member = Web3.to_checksum_address(member)
        if int(member, 16) == 0:
            raise Refusal(
                401, "security", f"signer {signer} is not an operator key of an active HOSPITAL member"
            )
        if member != requester:
            raise Refusal(401, "security", f"signer {signer} acts for member {member}, not for {requester}")
        return False

    def _check_access_log(self, request: RecordRequest, entry: Entry, block: int) -> None:
        """A mined RecordAccessed in ``accessTx`` names this leaf, this requester and this purpose."""
        if request.access_tx == ZERO32:
            raise Refusal(
                403, "forbidden", "no access log: log the access on chain first and name its transaction"
            )
        mined, events = self._access_log(request.access_tx)
        depth = block - mined + 1
        if depth < self.confirmations:
            raise Refusal(
                503,
                "transient",
                f"access log {_hx(request.access_tx)} has {depth} of {self.confirmations} confirmations",
                retry_after=1,
            )
        leaf = entry.item.leaf
        for_leaf = [e for e in events if bytes(e["leaf"]) == leaf]
        if not for_leaf:
            raise Refusal(
                403, "forbidden", f"access log {_hx(request.access_tx)} names another record, not {_hx(leaf)}"
            )
        by_requester = [e for e in for_leaf if e["accessor"] == request.requester]
        if not by_requester:
            who = for_leaf[0]["accessor"]
            log = _hx(request.access_tx)
            raise Refusal(403, "forbidden", f"access log {log} was made by {who}, not {request.requester}")
        if not any(int(e["purpose"]) == request.purpose for e in by_requester):
            logged = _purpose(int(by_requester[0]["purpose"]))
            raise Refusal(
                403,
                "forbidden",
                f"access log {_hx(request.access_tx)} is for {logged}, "
                f"the request for {_purpose(request.purpose)}",
            )

    def _access_log(self, access_tx: bytes) -> tuple[int, list[Any]]:
        """(block, RecordAccessed args from this registry) of a mined, successful transaction; remembered,
        since a mined receipt does not change (a reorg deeper than the confirmations is out of scope)."""
        known = self._logs.get(access_tx)
        if known is not None:
            return known
        try:
            receipt = self.w3.eth.get_transaction_receipt(access_tx)  # type: ignore[arg-type]
        except TransactionNotFound:
            raise Refusal(
                403, "forbidden", f"access log {_hx(access_tx)} is not a mined transaction on this chain"
            ) from None
        except Exception as exc:  # the node went away
            raise Refusal(
                503, "transient", f"cannot read the chain ({type(exc).__name__})", retry_after=2
            ) from None
        if receipt["status"] != 1:
            raise Refusal(403, "forbidden", f"access log {_hx(access_tx)} reverted")
        events = [
            log["args"]
            for log in self.registry.events.RecordAccessed().process_receipt(receipt, errors=_DISCARD)
            if log["address"] == self.registry.address
        ]
        found = (int(receipt["blockNumber"]), events)
        if len(self._logs) > 100_000:
            self._logs.clear()
        self._logs[access_tx] = found
        return found

    def _permitted(self, patient: str, grantee: str, purpose: int, classes: int, block: int) -> bool:
        return bool(self._read(block, self.consent.functions.isPermitted(patient, grantee, purpose, classes)))

    def _latest(self) -> int:
        """The chain's latest block number: every answer of one request is read at that block."""
        try:
            return int(self.w3.eth.block_number)
        except Exception as exc:  # requests' connection errors
            raise Refusal(
                503, "transient", f"cannot read the chain ({type(exc).__name__})", retry_after=2
            ) from None

    def _read(self, block: int, fn: Any) -> Any:
        """A view call at ``block``, remembered for requests that see the same latest block (state at a block
        does not change), forgotten when a new block arrives."""
        key = (fn.address, fn.fn_name, *fn.args)
        with self._view_lock:
            if block != self._view_block:
                if block < self._view_block:  # an older view than ours: ask, do not cache
                    return self._call(fn, block)
                self._view_block, self._view = block, {}
            if key in self._view:
                return self._view[key]
        value = self._call(fn, block)
        with self._view_lock:
            if block == self._view_block:
                self._view[key] = value
        return value

    def _call(self, fn: Any, block: int) -> Any:
        try:
            return tx.call(fn, block=block)
        except (ChainError, MedchainError) as exc:
            raise Refusal(503, "transient", f"cannot ask the chain: {exc}", retry_after=2) from None
        except Exception as exc:  # requests' connection errors
            raise Refusal(
                503, "transient", f"cannot ask the chain ({type(exc).__name__})", retry_after=2
            ) from None

    def _remember(
        self, signed: SignedRequest, signer: str, kind: str, subject: bytes, access_tx: bytes | None
    ) -> None:
        request = signed.request
        fresh = self.releases.record(
            request.request_id,
            kind=kind,
            requester=request.requester,
            signer=signer,
            subject=subject,
            purpose=request.purpose,
            access_tx=access_tx if access_tx and access_tx != ZERO32 else None,
            expires_at=request.expires_at,
        )
        if not fresh:
            raise Refusal(409, "duplicate", f"request {_hx(request.request_id)} was answered before (replay)")
        now = int(self.clock())
        if now - self._pruned_at >= PRUNE_INTERVAL:  # an expired request is refused before this lookup
            self._pruned_at = now
            self.releases.prune(now - PRUNE_INTERVAL)


def _hx(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _purpose(code: int) -> str:
    return PURPOSE_NAMES.get(code, str(code))


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


def _hash_param(text: str, what: str) -> bytes:
    value = text[2:] if text[:2].lower() == "0x" else text
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise Refusal(400, "invalid", f"{what} {text!r} is not hex") from None
    if len(raw) != 32:
        raise Refusal(400, "invalid", f"{what} must be 32 bytes (a leaf or record hash), got {len(raw)}")
    return raw
