"""ConsentRegistry service: signed consent (build, sign offline, file, verify, relay), direct grants and
revocations, status, history from events, guardians, break-glass, and the gas profile for `make bench`.

Every function takes the registry as a web3 `Contract` (`Suite.consent`, or `web3.eth.contract(address,
abi=load_abi("ConsentRegistry"))` under brownie) and, for transactions, a `medchain.chain.Signer`. Reverts
raise `ContractRevert` named after the custom error; bad input raises `InputError` before anything is sent.

Signed-consent file (``medchain-signed-consent``, version 1), UTF-8 JSON::

    {
      "format": "medchain-signed-consent",
      "version": 1,
      "typedData": {                       # exactly what a wallet signs (eth_signTypedData_v4 input)
        "types": {"EIP712Domain": [...], "ConsentGrant": [...]},   # or ConsentRevoke
        "primaryType": "ConsentGrant",
        "domain": {"name": "MedChain ConsentRegistry", "version": "1", "chainId": 31337,
                   "verifyingContract": "0x…"},
        "message": {"patient": "0x…", "grantee": "0x…", "purpose": 2, "dataClasses": 24,
                    "validFrom": 0, "validUntil": 0, "nonce": 0, "deadline": 1767225600}
      },
      "signature": "0x…",                  # 65 bytes r || s || v, hex with 0x (ERC-1271 wallets: any bytes)
      "signer": "0x…"                      # who signed: the patient or its guardian (checked on load)
    }

Addresses are EIP-55 checksummed; integers are JSON numbers (decimal or 0x-hex strings are accepted on
load, as wallets emit both). `format`, `version` and `signer` may be absent (a bare ``{typedData,
signature}`` document is read too); when `signer` is present the signature must recover to it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt, Wei

from medchain import signing, tx
from medchain.addresses import checked_address
from medchain.chain import BlockTimes, Signer, latest_time, signer_address
from medchain.codes import ALL_CLASSES, PURPOSE_NAMES, PURPOSES, class_names
from medchain.errors import ChainError, ConfigError, InputError
from medchain.signing import ConsentGrant, ConsentMessage, ConsentRevoke, Domain
from medchain.text import check_json_depth
from medchain.timefmt import iso

__all__ = [
    "FILE_FORMAT",
    "FILE_VERSION",
    "ConsentGas",
    "GasSample",
    "ConsentState",
    "HistoryEntry",
    "Opening",
    "Review",
    "SignedConsent",
    "build_grant",
    "build_revoke",
    "close_emergency",
    "consent_state",
    "domain_of",
    "gas_profile",
    "get_opening",
    "grant",
    "guardian_of",
    "history",
    "invalidate_nonce",
    "normalise_v",
    "open_emergency",
    "overdue",
    "relay",
    "remove_guardian",
    "review_emergency",
    "revoke",
    "set_guardian",
    "sign_consent",
    "status",
]

FILE_FORMAT = "medchain-signed-consent"
FILE_VERSION = 1
EMERGENCY = PURPOSES["EMERGENCY"]
DEFAULT_TTL = 7 * 86_400  # a signature's default lifetime (deadline = now + this)

#: events with an indexed `patient`, read by `history`
PATIENT_EVENTS = (
    "ConsentGranted",
    "ConsentRevoked",
    "NonceInvalidated",
    "GuardianActed",
    "GuardianSet",
    "GuardianRemoved",
    "EmergencyOpened",
    "EmergencyClosed",
    "EmergencyReviewed",
)


class Review(IntEnum):
    """IConsentRegistry.Review."""

    PENDING = 0
    JUSTIFIED = 1
    UNJUSTIFIED = 2


# ---- signed consent ----


def domain_of(registry: Contract) -> Domain:
    """The registry's EIP-712 domain as the chain reports it (`eip712Domain()`), checked against §6.4."""
    _fields, name, version, chain_id, verifying, _salt, _ext = registry.functions.eip712Domain().call()
    if Web3.to_checksum_address(verifying) != registry.address:
        raise ConfigError(f"{registry.address} reports verifyingContract {verifying}: not a ConsentRegistry?")
    try:
        return Domain(int(chain_id), verifying, name, version)
    except InputError as exc:
        raise ConfigError(f"{registry.address}: {exc}") from None


def build_grant(
    registry: Contract,
    patient: str,
    grantee: str,
    purpose: int,
    data_classes: int,
    *,
    valid_from: int = 0,
    valid_until: int = 0,
    deadline: int | None = None,
    nonce: int | None = None,
) -> tuple[ConsentGrant, Domain]:
    """A ConsentGrant with the domain and (unless given) the nonce read from the chain; the deadline defaults
    to the latest block's time + DEFAULT_TTL."""
    domain = domain_of(registry)
    nonce = nonce_of(registry, patient) if nonce is None else nonce
    deadline = latest_time(registry.w3) + DEFAULT_TTL if deadline is None else deadline
    msg = ConsentGrant(patient, grantee, purpose, data_classes, valid_from, valid_until, nonce, deadline)
    return msg, domain


def build_revoke(
    registry: Contract,
    patient: str,
    grantee: str,
    purpose: int,
    *,
    deadline: int | None = None,
    nonce: int | None = None,
) -> tuple[ConsentRevoke, Domain]:
    """A ConsentRevoke with domain and nonce from the chain (see `build_grant`)."""
    domain = domain_of(registry)
    nonce = nonce_of(registry, patient) if nonce is None else nonce
    deadline = latest_time(registry.w3) + DEFAULT_TTL if deadline is None else deadline
    return ConsentRevoke(patient, grantee, purpose, nonce, deadline), domain


@dataclass(frozen=True)
class SignedConsent:
    """A consent message, its domain and a signature: the content of a signed-consent file."""

    message: ConsentMessage
    domain: Domain
    signature: bytes
    signer: str | None = None  # the ECDSA signer (patient or guardian); None if unknown (ERC-1271)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "typedData": signing.typed_data(self.message, self.domain),
            "signature": Web3.to_hex(self.signature),
        }
        if self.signer is not None:
            doc["signer"] = self.signer
        return doc

    @classmethod
    def from_json(cls, doc: Any) -> SignedConsent:
        """Parse and check a signed-consent document; a present `signer` must match the signature."""
        if not isinstance(doc, dict) or "typedData" not in doc or "signature" not in doc:
            raise InputError("a signed consent is a JSON object with typedData and signature")
        if doc.get("format", FILE_FORMAT) != FILE_FORMAT or doc.get("version", FILE_VERSION) != FILE_VERSION:
            raise InputError(
                f"unsupported file format {doc.get('format')!r} version {doc.get('version')!r} "
                f"(expected {FILE_FORMAT!r} version {FILE_VERSION})"
            )
        message, domain = signing.from_typed_data(doc["typedData"])
        signature = normalise_v(_hex_bytes(doc["signature"], "signature"))
        signer = doc.get("signer")
        if signer is not None:
            signer = checked_address(signer, "signer")
            recovered = signing.recover(message, domain, signature)
            if recovered != signer:
                raise InputError(f"the signature was made by {recovered}, not by the stated signer {signer}")
        return cls(message, domain, signature, signer)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> SignedConsent:
        try:
            text = Path(path).read_text()
            check_json_depth(text, str(path))
            doc = json.loads(text)
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from None
        except ValueError:
            raise InputError(f"{path} is not JSON") from None
        return cls.from_json(doc)


def normalise_v(signature: bytes) -> bytes:
    """A 65-byte `r || s || v` signature with v = 0/1 (as some wallets and hardware signers return it) gets
    v = 27/28, the form the contract's ecrecover takes; anything else is returned unchanged. So a file that
    `consent verify` accepts is relayed as verified, instead of reverting with
    ConsentInvalidSignature(recovered=0x0). (An ERC-1271 signature of exactly 65 bytes ending in 0x00/0x01
    would be changed too; signed-consent files hold ECDSA signatures, see DESIGN §6.4.)"""
    if len(signature) == 65 and signature[64] in (0, 1):
        return signature[:64] + bytes([signature[64] + 27])
    return signature


def _hex_bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InputError(f"{what} must be a 0x-prefixed hex string")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise InputError(f"{what} is not valid hex") from None


def sign_consent(message: ConsentMessage, domain: Domain, account: LocalAccount) -> SignedConsent:
    """Sign offline with a local key (the patient's, or its guardian's for a message naming the patient)."""
    return SignedConsent(message, domain, signing.sign(message, domain, account), account.address)


def relay(registry: Contract, signed: SignedConsent, sender: Signer) -> TxReceipt:
    """Relay a signed consent (grantBySig / revokeBySig) from `sender`, who pays the gas. Checks first that
    it is for this chain and registry, still within its deadline and for the patient's current nonce."""
    domain = domain_of(registry)
    if signed.domain != domain:
        raise InputError(
            f"the consent was signed for chain {signed.domain.chain_id} / registry "
            f"{signed.domain.verifying_contract}, not chain {domain.chain_id} / {domain.verifying_contract}"
        )
    msg = signed.message
    current = int(registry.functions.nonces(msg.patient).call())
    if msg.nonce != current:
        state = "already used or invalidated" if msg.nonce < current else "not reached yet"
        raise InputError(f"the consent's nonce {msg.nonce} is {state} (patient's current nonce: {current})")
    if latest_time(registry.w3) > msg.deadline:
        raise InputError(f"the signature expired at {msg.deadline} (unix time)")
    if isinstance(msg, ConsentGrant):
        fn = registry.functions.grantBySig(
            msg.patient, msg.grantee, msg.purpose, msg.data_classes, msg.valid_from, msg.valid_until,
            msg.deadline, signed.signature,
        )  # fmt: skip
    else:
        fn = registry.functions.revokeBySig(
            msg.patient, msg.grantee, msg.purpose, msg.deadline, signed.signature
        )
    return tx.send(registry.w3, fn, sender)


# ---- direct consent ----


def _acting_for(sender: Signer, patient: str | None) -> str | None:
    """None when the sender acts for itself, else the checksum patient it acts for as guardian."""
    if patient is None:
        return None
    patient = checked_address(patient, "patient")
    return None if patient == signer_address(sender) else patient


def grant(
    registry: Contract,
    sender: Signer,
    grantee: str,
    purpose: int,
    data_classes: int,
    valid_from: int = 0,
    valid_until: int = 0,
    patient: str | None = None,
) -> TxReceipt:
    """Grant (or replace) consent directly: as the patient, or for `patient` as its guardian."""
    grantee = checked_address(grantee, "grantee")
    for_patient = _acting_for(sender, patient)
    if for_patient is None:
        fn = registry.functions.grant(grantee, purpose, data_classes, valid_from, valid_until)
    else:
        fn = registry.functions.grantAsGuardian(
            for_patient, grantee, purpose, data_classes, valid_from, valid_until
        )
    return tx.send(registry.w3, fn, sender)


def revoke(
    registry: Contract, sender: Signer, grantee: str, purpose: int, patient: str | None = None
) -> TxReceipt:
    """Revoke consent directly: as the patient, or for `patient` as its guardian."""
    grantee = checked_address(grantee, "grantee")
    for_patient = _acting_for(sender, patient)
    if for_patient is None:
        fn = registry.functions.revoke(grantee, purpose)
    else:
        fn = registry.functions.revokeAsGuardian(for_patient, grantee, purpose)
    return tx.send(registry.w3, fn, sender)


def invalidate_nonce(registry: Contract, sender: Signer, patient: str | None = None) -> int:
    """Void every outstanding signature for the patient's current nonce; returns the new nonce."""
    who = checked_address(patient, "patient") if patient else signer_address(sender)
    tx.send(registry.w3, registry.functions.invalidateNonce(who), sender)
    return int(registry.functions.nonces(who).call())


# ---- status and history ----


@dataclass(frozen=True)
class ConsentState:
    """One stored consent, decoded, and what `isPermitted` answers for its classes now."""

    patient: str
    grantee: str
    purpose: int
    purpose_name: str
    data_classes: int
    class_names: list[str]
    granted_at: int
    revoked_at: int
    valid_from: int
    valid_until: int
    status: str  # none | active | pending (validFrom ahead) | expired | revoked
    permitted: bool  # isPermitted(patient, grantee, purpose, dataClasses) now (membership included)


def consent_state(registry: Contract, patient: str, grantee: str, purpose: int) -> ConsentState:
    patient, grantee = checked_address(patient, "patient"), checked_address(grantee, "grantee")
    classes, granted_at, revoked_at, valid_from, valid_until = registry.functions.getConsent(
        patient, grantee, purpose
    ).call()
    now = latest_time(registry.w3)
    if not granted_at:
        status = "none"
    elif revoked_at:
        status = "revoked"
    elif valid_from > now:
        status = "pending"
    elif valid_until and now > valid_until:
        status = "expired"
    else:
        status = "active"
    permitted = bool(classes) and bool(
        registry.functions.isPermitted(patient, grantee, purpose, classes).call()
    )
    name = PURPOSE_NAMES.get(purpose, str(purpose))
    return ConsentState(
        patient, grantee, purpose, name, int(classes), class_names(classes), int(granted_at), int(revoked_at),
        int(valid_from), int(valid_until), status, permitted,
    )  # fmt: skip


def status(
    registry: Contract, patient: str, grantee: str | None = None, from_block: int = 0
) -> list[ConsentState]:
    """The patient's consents: to `grantee` (every purpose), or to every grantee it ever granted (found in
    ConsentGranted events). Purposes never granted are left out."""
    patient = checked_address(patient, "patient")
    if grantee is not None:
        grantees = [checked_address(grantee, "grantee")]
    else:
        logs = _logs(registry, "ConsentGranted", patient, from_block)
        grantees = list(dict.fromkeys(Web3.to_checksum_address(log["args"]["grantee"]) for log in logs))
    states = [consent_state(registry, patient, g, p) for g in grantees for p in sorted(PURPOSE_NAMES)]
    return [s for s in states if s.status != "none"]


@dataclass(frozen=True)
class HistoryEntry:
    """One event about a patient, in chain order."""

    block: int
    log_index: int
    timestamp: int
    tx_hash: str
    event: str
    args: dict[str, Any]

    def describe(self) -> str:
        a = self.args
        purpose = PURPOSE_NAMES.get(int(a.get("purpose", 0)), "")
        if self.event == "ConsentGranted":
            start = iso(int(a["validFrom"])) if a["validFrom"] else "at once"
            until = iso(int(a["validUntil"])) if a["validUntil"] else "no end"
            classes = classes_text(int(a["dataClasses"]))
            return f"granted {purpose} to {a['grantee']}: {classes} (from {start}, until {until})"
        if self.event == "ConsentRevoked":
            return f"revoked {purpose} from {a['grantee']}"
        if self.event == "NonceInvalidated":
            return f"signatures for nonce {a['nonce']} invalidated"
        if self.event == "GuardianActed":
            return f"guardian {a['guardian']} acted for the patient"
        if self.event == "GuardianSet":
            return f"guardian {a['guardian']} appointed until {iso(int(a['until']))}"
        if self.event == "GuardianRemoved":
            return f"guardian {a['guardian']} removed"
        if self.event == "EmergencyOpened":
            return f"break-glass #{a['openingId']} opened by {a['hospital']} (reason {a['reasonCode']})"
        if self.event == "EmergencyClosed":
            return f"break-glass #{a['openingId']} closed by {a['hospital']}"
        review = Review(int(a["review"])).name.lower()
        return f"break-glass #{a['openingId']} reviewed {review} by {a['reviewer']}"


def _logs(registry: Contract, event: str, patient: str, from_block: int) -> list[Any]:
    try:
        return list(
            getattr(registry.events, event)().get_logs(
                argument_filters={"patient": patient}, from_block=from_block, to_block="latest"
            )
        )
    except ValueError as exc:  # a node refusing the range
        raise ChainError(f"cannot read {event} logs: {exc}") from None


def history(registry: Contract, patient: str, from_block: int = 0) -> list[HistoryEntry]:
    """Every event about `patient` (consents, signatures, guardians, break-glass), oldest first."""
    patient = checked_address(patient, "patient")
    logs = [log for name in PATIENT_EVENTS for log in _logs(registry, name, patient, from_block)]
    logs.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
    times = BlockTimes(registry.w3)
    entries = []
    for log in logs:
        number = int(log["blockNumber"])
        args = {
            k: Web3.to_hex(bytes(v)) if isinstance(v, (bytes, bytearray)) else v
            for k, v in log["args"].items()
        }
        entries.append(
            HistoryEntry(
                number,
                int(log["logIndex"]),
                times(number),
                Web3.to_hex(log["transactionHash"]),
                str(log["event"]),
                args,
            )  # fmt: skip
        )
    return entries


# ---- guardians ----


def set_guardian(registry: Contract, sender: Signer, guardian: str, until: int) -> TxReceipt:
    """Appoint `guardian` for the sender (the patient) until `until` (inclusive, unix time)."""
    fn = registry.functions.setGuardian(checked_address(guardian, "guardian"), until)
    return tx.send(registry.w3, fn, sender)


def remove_guardian(registry: Contract, sender: Signer) -> TxReceipt:
    return tx.send(registry.w3, registry.functions.removeGuardian(), sender)


def guardian_of(registry: Contract, patient: str) -> dict[str, Any]:
    """{guardian, until, active} (guardian None when there is none)."""
    patient = checked_address(patient, "patient")
    guardian, until = registry.functions.guardianOf(patient).call()
    active = registry.functions.activeGuardian(patient).call()
    none = int(guardian, 16) == 0
    return {"patient": patient, "guardian": None if none else guardian, "until": int(until),
            "active": not none and active == guardian}  # fmt: skip


# ---- break-glass ----


@dataclass(frozen=True)
class Opening:
    """IConsentRegistry.Opening, decoded."""

    id: int
    patient: str
    opened_at: int
    reason_code: int
    review: str  # pending | justified | unjustified
    hospital: str
    expires_at: int
    reviewer: str | None
    reviewed_at: int
    justification_hash: str
    open: bool  # access still running now
    overdue: bool  # unreviewed past the review period


def open_emergency(
    registry: Contract, sender: Signer, patient: str, reason_code: int, justification_hash: bytes
) -> int:
    """Open break-glass access for the sender's hospital; returns the opening id."""
    if not 0 < reason_code < 256:
        raise InputError(f"reason code must be 1..255, got {reason_code}")
    if len(justification_hash) != 32 or not any(justification_hash):
        raise InputError("the justification hash must be 32 non-zero bytes (hash the justification document)")
    patient = checked_address(patient, "patient")
    fn = registry.functions.openEmergency(patient, reason_code, justification_hash)
    receipt = tx.send(registry.w3, fn, sender)
    for log in registry.events.EmergencyOpened().process_receipt(receipt, errors=DISCARD):
        return int(log["args"]["openingId"])
    raise ChainError(f"no EmergencyOpened event in {Web3.to_hex(receipt['transactionHash'])}")


def close_emergency(registry: Contract, sender: Signer, opening_id: int) -> TxReceipt:
    return tx.send(registry.w3, registry.functions.closeEmergency(opening_id), sender)


def review_emergency(registry: Contract, sender: Signer, opening_id: int, justified: bool) -> TxReceipt:
    return tx.send(registry.w3, registry.functions.reviewEmergency(opening_id, justified), sender)


def get_opening(registry: Contract, opening_id: int) -> Opening:
    o = tx.call(registry.functions.getOpening(opening_id))
    patient, opened_at, reason, review, hospital, expires_at, reviewer, reviewed_at, justification = o
    now = latest_time(registry.w3)
    period = int(registry.functions.REVIEW_PERIOD().call())
    return Opening(
        opening_id, patient, int(opened_at), int(reason), Review(int(review)).name.lower(), hospital,
        int(expires_at), None if int(reviewer, 16) == 0 else reviewer, int(reviewed_at),
        Web3.to_hex(justification), expires_at > now, review == Review.PENDING and now > opened_at + period,
    )  # fmt: skip


def overdue(registry: Contract, page: int = 256) -> list[Opening]:
    """Openings still unreviewed after the review period, paging `overdueOpenings` (bounded calls)."""
    count = int(registry.functions.openingCount().call())
    ids: list[int] = []
    for start in range(1, count + 1, page):
        ids += [int(i) for i in registry.functions.overdueOpenings(start, page).call()]
    return [get_opening(registry, i) for i in ids]


# ---- gas profile (for `make bench`) ----


@dataclass
class GasSample:
    gas: int
    floor: int  # what the same storage writes / calls / calldata cost with no logic at all
    target: int
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.gas <= self.target


@dataclass
class ConsentGas:
    """Gas of the consent hot paths, each beside its floor and the issue #3 target."""

    grant: GasSample
    grant_by_sig_first: GasSample
    grant_by_sig_second: GasSample
    revoke: GasSample
    is_permitted: GasSample  # bare STATICCALL from a contract: cold call + registry + consortium
    is_permitted_solidity_call: GasSample  # `registry.isPermitted(...)` in Solidity, caller encoding included

    def rows(self) -> list[tuple[str, GasSample]]:
        return [
            ("grant (direct, fresh consent slot)", self.grant),
            ("grantBySig, patient's first signature (fresh nonce slot)", self.grant_by_sig_first),
            ("grantBySig, nonce slot exists", self.grant_by_sig_second),
            ("revoke (direct)", self.revoke),
            ("isPermitted from a contract (execution gas)", self.is_permitted),
            ("isPermitted from a contract, Solidity call incl. encoding", self.is_permitted_solidity_call),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {name: asdict(sample) | {"ok": sample.ok} for name, sample in self.rows()}


TX_BASE, FRESH_SLOT, DIRTY_SLOT, COLD_SLOAD, COLD_CALL, ECRECOVER = 21_000, 22_100, 5_000, 2_100, 2_600, 3_000


def _calldata_gas(data: bytes) -> int:
    return sum(4 if b == 0 else 16 for b in data)


def _fund(w3: Web3, funder: Signer, to: str, value: int) -> None:
    if isinstance(funder, str):
        sent = w3.eth.send_transaction({"from": funder, "to": to, "value": Wei(value)})
        w3.eth.wait_for_transaction_receipt(sent)
        return
    params: dict[str, Any] = {
        "to": to, "value": value, "nonce": w3.eth.get_transaction_count(funder.address), "gas": 21_000,
        "chainId": w3.eth.chain_id, "gasPrice": w3.eth.gas_price,
    }  # fmt: skip
    signed = funder.sign_transaction(params)
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))


def gas_profile(
    registry: Contract,
    probe: Contract,
    funder: Signer,
    relayer: Signer,
    grantee: str,
    grantee2: str,
    new_key: Callable[[], LocalAccount] = Account.create,
) -> ConsentGas:
    """Measure the consent hot paths on a live chain, with fresh patient keys so every slot starts empty.

    `probe` is a deployed contracts/test/ConsentProbe; `grantee`/`grantee2` are active members; `funder`
    gives the direct-grant patient gas money; `relayer` relays the signatures. Gas is `gasUsed` from receipts
    (isPermitted: gas measured inside the probe with both the registry and the consortium cold).
    """
    w3 = registry.w3
    direct = new_key()
    _fund(w3, funder, direct.address, 10**17)
    purpose, classes = PURPOSES["CLAIM"], (1 << 3) | (1 << 4)
    r_grant = tx.send(w3, registry.functions.grant(grantee, purpose, classes, 0, 0), direct)
    r_revoke = tx.send(w3, registry.functions.revoke(grantee, purpose), direct)
    signer = new_key()
    sig_receipts = []
    for who in (grantee, grantee2):
        msg, domain = build_grant(registry, signer.address, who, purpose, classes)
        sig_receipts.append(relay(registry, sign_consent(msg, domain, signer), relayer))
    bare = probe.functions.measure(registry.address, signer.address, grantee, purpose, 1 << 3).call()
    solidity = probe.functions.measureSolidityCall(
        registry.address, signer.address, grantee, purpose, 1 << 3
    ).call()
    if not (bare[0] and solidity[0]):
        raise ChainError("isPermitted answered false where a consent was just granted")

    def calldata(receipt: TxReceipt) -> int:
        return _calldata_gas(bytes(w3.eth.get_transaction(receipt["transactionHash"])["input"]))

    base = TX_BASE + ECRECOVER
    return ConsentGas(
        grant=GasSample(int(r_grant["gasUsed"]), TX_BASE + calldata(r_grant) + FRESH_SLOT, 50_000,
                        "one fresh slot"),
        grant_by_sig_first=GasSample(int(sig_receipts[0]["gasUsed"]),
                                     base + calldata(sig_receipts[0]) + 2 * FRESH_SLOT, 75_000,
                                     "fresh consent + fresh nonce slot, ecrecover"),
        grant_by_sig_second=GasSample(int(sig_receipts[1]["gasUsed"]),
                                      base + calldata(sig_receipts[1]) + FRESH_SLOT + DIRTY_SLOT, 60_000,
                                      "fresh consent slot, nonce update, ecrecover"),
        revoke=GasSample(int(r_revoke["gasUsed"]), TX_BASE + calldata(r_revoke) + DIRTY_SLOT, 30_000,
                         "one cold read + update"),
        is_permitted=GasSample(int(bare[1]), 2 * COLD_CALL + 2 * COLD_SLOAD, 10_000,
                               "two cold calls + two cold reads"),
        is_permitted_solidity_call=GasSample(int(solidity[1]), 2 * COLD_CALL + 2 * COLD_SLOAD, 10_000,
                                             "as above, plus the caller's ABI encoding"),
    )  # fmt: skip


# ---- input and display helpers ----


def classes_text(bitmap: int) -> str:
    """``LAB,IMAGING``, or ``ALL`` for every class."""
    return "ALL" if bitmap == ALL_CLASSES else ",".join(class_names(bitmap))


def check_classes(data_classes: int) -> int:
    if not 0 < data_classes <= ALL_CLASSES:
        raise InputError(f"data classes 0x{data_classes:x} must be a non-empty bitmap of bits 0..10")
    return data_classes


def now(registry: Contract | None = None) -> int:
    """What consent periods and deadlines are measured against: the block time of `registry`'s chain, or
    the local clock with no registry (offline signing, where no block time is available)."""
    return int(time.time()) if registry is None else latest_time(registry.w3)


def nonce_of(registry: Contract, patient: str) -> int:
    """The patient's current EIP-712 nonce: the next signed consent must carry it."""
    return int(registry.functions.nonces(patient).call())
