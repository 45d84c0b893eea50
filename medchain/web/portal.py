"""The patient portal's chain side: what the page's script asks the server for.

The browser holds the patient's key (an EIP-1193 wallet); this server never sees it. It reads consents,
their history and the accounting of disclosures from the chain, builds the DESIGN §6.4 typed data the wallet
signs (domain and nonce from the chain, `medchain.signing`), builds the calldata of the patient's own
`grant` / `revoke` transaction (web3 ABI encoding), and, when started with a relayer account, relays a
signed consent with `medchain.consent.relay` (the hospital's key pays the gas).

The accounting of disclosures comes from the event index (`medchain.indexer`, SQLite): each request first
brings the index up to the chain head (at most once per `index_interval` seconds; one writer at a time).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from web3 import Web3
from web3.contract import Contract

from medchain import consent, consortium, reports, signing
from medchain.addresses import checked_address
from medchain.chain import Signer, latest_time, signer_address
from medchain.codes import DATA_CLASSES, PURPOSES
from medchain.consent import SignedConsent
from medchain.contracts import Suite
from medchain.errors import ConfigError, InputError
from medchain.indexer import Indexer
from medchain.signing import ConsentGrant, ConsentMessage
from medchain.store import Connection
from medchain.timefmt import iso

__all__ = ["PORTAL_TTL", "PortalService", "SignatureExpired"]

#: Chinese names shown beside DESIGN §6.2's codes
PURPOSE_ZH = {"TREATMENT": "诊疗", "CLAIM": "保险理赔", "RESEARCH": "科研", "PUBLIC_HEALTH": "公共卫生"}
CLASS_ZH = {
    "SUMMARY": "病历摘要",
    "OUTPATIENT": "门诊",
    "INPATIENT": "住院",
    "LAB": "检验",
    "IMAGING": "影像",
    "PRESCRIPTION": "处方",
    "BILLING": "费用",
    "GENOMIC": "基因",
    "MENTAL_HEALTH": "精神健康",
    "REPRODUCTIVE": "生殖健康",
    "INFECTIOUS_DISEASE": "传染病",
}
#: roles that read records under a consent (the grantee choices)
GRANTEE_ROLES = ("HOSPITAL", "INSURER")

#: seconds the member list (names, roles) is reused before the chain is asked again
MEMBERS_TTL = 30.0

#: how long a signature made on the portal may be relayed (deadline = latest block time + this)
PORTAL_TTL = 3600


class SignatureExpired(InputError):
    """The signed consent's deadline has passed: it can no longer be relayed (sign again)."""


@dataclass
class PortalService:
    """Chain access for the portal. `relayer` None: the portal relays nothing (patients send their own
    transaction). `store` is the event index (`medchain.store.open_store`)."""

    w3: Web3
    suite: Suite
    store: Connection
    relayer: Signer | None = None
    from_block: int = 0
    index_interval: float = 1.0
    ttl: int = PORTAL_TTL
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _indexed_at: float = field(default=0.0, repr=False)
    _members_cache: tuple[float, list[dict[str, Any]]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.suite.consent is None:
            raise ConfigError("ConsentRegistry is not deployed on this chain (no address in the manifest)")
        self.chain_id = int(self.w3.eth.chain_id)
        self._indexer = Indexer(self.w3, self.suite, self.store, 2, from_block=self.from_block, span=1000)

    @property
    def registry(self) -> Contract:
        assert self.suite.consent is not None
        return self.suite.consent

    # ---- reading ----

    def config(self) -> dict[str, Any]:
        """What the page needs before the wallet connects."""
        members = [m for m in self._members() if set(m["roles"]) & set(GRANTEE_ROLES)]
        return {
            "chainId": self.chain_id,
            "chainIdHex": hex(self.chain_id),
            "registry": self.registry.address,
            "relayer": signer_address(self.relayer) if self.relayer is not None else None,
            "purposes": [
                {"code": v, "name": k, "zh": PURPOSE_ZH.get(k, k)}
                for k, v in PURPOSES.items()
                if k != "EMERGENCY"
            ],
            "classes": [{"bit": v, "name": k, "zh": CLASS_ZH.get(k, k)} for k, v in DATA_CLASSES.items()],
            "members": members,
            "ttl": self.ttl,
        }

    def _members(self) -> list[dict[str, Any]]:
        """Active consortium members (possible grantees), named as registered; read again after
        `MEMBERS_TTL` seconds."""
        cached = self._members_cache
        if cached is not None and time.monotonic() - cached[0] < MEMBERS_TTL:
            return cached[1]
        found = consortium.members(self.suite.consortium, from_block=self.from_block)
        active = [
            {"address": m.address, "name": m.name, "roles": m.role_names}
            for m in found
            if m.status == "ACTIVE"
        ]
        self._members_cache = (time.monotonic(), active)
        return active

    def patient(self, patient: str) -> dict[str, Any]:
        """The patient's consents (current state of each grant) and the event history, newest last."""
        who = checked_address(patient, "patient")
        names = {m["address"]: m["name"] for m in self._members()}
        states = consent.status(self.registry, who, from_block=self.from_block)
        history = consent.history(self.registry, who, from_block=self.from_block)
        return {
            "patient": who,
            "nonce": int(self.registry.functions.nonces(who).call()),
            "now": latest_time(self.w3),
            "consents": [asdict(s) | {"granteeName": names.get(s.grantee, "")} for s in states],
            "history": [
                {
                    "block": h.block,
                    "time": h.timestamp,
                    "tx": h.tx_hash,
                    "event": h.event,
                    "summary": _named(h.describe(), names),
                }
                for h in history
            ],
        }

    def disclosures(self, patient: str) -> dict[str, Any]:
        """The accounting of disclosures (`medchain.reports.disclosures`) from a freshly synced index."""
        who = checked_address(patient, "patient")
        self.sync_index()
        report = reports.disclosures(self.store, self.chain_id, who, records=self.suite.records)
        keep = ("time", "timestamp", "block", "tx", "category", "event", "summary", "party", "purpose")
        return {
            "indexedToBlock": report.indexed_to,
            "subject": report.subject,
            "entries": [{k: e.get(k) for k in keep} for e in report.entries],
        }

    def sync_index(self, *, force: bool = False) -> None:
        """Bring the event index to the chain head, unless that was done less than `index_interval` seconds
        ago (many pages polling make one sync)."""
        with self._lock:
            if not force and time.monotonic() - self._indexed_at < self.index_interval:
                return
            self._indexer.run()
            self._indexed_at = time.monotonic()

    # ---- writing ----

    def prepare(self, request: dict[str, Any]) -> dict[str, Any]:
        """The typed data for the wallet (`eth_signTypedData_v4`) and the calldata of the same change as the
        patient's own transaction. Request: action (grant | revoke), patient, grantee, purpose, and for a
        grant dataClasses, validFrom, validUntil (unix seconds, 0 = now / no end)."""
        action = request.get("action")
        patient = checked_address(_text(request, "patient"), "patient")
        grantee = checked_address(_text(request, "grantee"), "grantee")
        purpose = _int(request, "purpose")
        if purpose == PURPOSES["EMERGENCY"]:
            raise InputError("EMERGENCY is break-glass access, not a consent a patient grants")
        deadline = latest_time(self.w3) + self.ttl
        registry = self.registry
        msg: ConsentMessage
        if action == "grant":
            classes, valid_from, valid_until = (
                _int(request, k) for k in ("dataClasses", "validFrom", "validUntil")
            )
            msg, domain = consent.build_grant(
                registry, patient, grantee, purpose, classes,
                valid_from=valid_from, valid_until=valid_until, deadline=deadline,
            )  # fmt: skip
            data = registry.encode_abi("grant", args=[grantee, purpose, classes, valid_from, valid_until])
        elif action == "revoke":
            msg, domain = consent.build_revoke(registry, patient, grantee, purpose, deadline=deadline)
            data = registry.encode_abi("revoke", args=[grantee, purpose])
        else:
            raise InputError(f"action must be 'grant' or 'revoke', got {action!r}")
        return {
            "typedData": signing.typed_data(msg, domain),
            "call": {"from": patient, "to": registry.address, "data": data},
            "deadline": deadline,
        }

    def relay(self, document: dict[str, Any]) -> dict[str, Any]:
        """Relay a signed consent ({typedData, signature}) from the portal's relayer account."""
        if self.relayer is None:
            raise ConfigError(
                "this portal relays no signatures (started without --relay): send the transaction yourself"
            )
        signed = SignedConsent.from_json(document)
        signer = signing.recover(signed.message, signed.domain, signed.signature)
        if signer != signed.message.patient:
            raise InputError(
                f"the signature was made by {signer}, not by the patient {signed.message.patient}"
            )
        now = latest_time(self.w3)
        if now > signed.message.deadline:
            raise SignatureExpired(
                f"the signature expired {now - signed.message.deadline} s ago (deadline "
                f"{iso(signed.message.deadline)}): nothing was relayed; sign again"
            )
        receipt = consent.relay(self.registry, signed, self.relayer)
        self._indexed_at = 0.0  # the next disclosures request syncs the index, so it shows this change
        msg = signed.message
        state = consent.consent_state(self.registry, msg.patient, msg.grantee, msg.purpose)
        return {
            "action": "grant" if isinstance(msg, ConsentGrant) else "revoke",
            "tx": Web3.to_hex(receipt["transactionHash"]),
            "block": int(receipt["blockNumber"]),
            "gasUsed": int(receipt["gasUsed"]),
            "relayer": signer_address(self.relayer),
            "consent": asdict(state),
        }


def _named(text: str, names: dict[str, str]) -> str:
    for address, name in names.items():
        if name:
            text = text.replace(address, f"{name} ({address[:6]}…{address[-4:]})")
    return text


def _text(request: dict[str, Any], key: str) -> str:
    value = request.get(key)
    if not isinstance(value, str):
        raise InputError(f"{key} is missing (a 0x address)")
    return value


def _int(request: dict[str, Any], key: str) -> int:
    value = request.get(key, 0 if key in ("validFrom", "validUntil") else None)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{key} must be a non-negative integer, got {value!r}")
    return value
