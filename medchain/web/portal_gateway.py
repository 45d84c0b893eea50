"""The patient portal's side of the record exchange (docs/RECORD-EXCHANGE.md): which hospitals' gateways a
patient can ask, and a relay that forwards the patient's signed, encrypted-answer requests to them.

The browser builds each request (a fresh ECIES key pair, a random request id), the wallet signs it
(`eth_signTypedData_v4`, with the EIP-712 types this module hands to the page), and the answer is
decrypted and checked in the browser. This server only forwards: it sees the signed request and the
ciphertext, never a record. It forwards only to a gateway a Consortium HOSPITAL member publishes (or the
operator's `--gateway` override for it), only the two request paths, and only a patient's own well-formed
request for this chain's RecordRegistry, signed by that patient: it is no open proxy.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from web3 import Web3

from medchain import consortium, tx
from medchain.addresses import ZERO_ADDRESS, checked_address
from medchain.codes import PURPOSES
from medchain.contracts import Suite
from medchain.errors import InputError
from medchain.gateway.client import BINARY, Gateway, outcome_issue
from medchain.gateway.crypto import CIPHER
from medchain.gateway.errors import GatewayRefused, GatewayUnavailable
from medchain.gateway.exchange import hospital_gateways
from medchain.gateway.messages import (
    EIP712_DOMAIN_TYPE,
    LIST_TYPE,
    RECORD_TYPE,
    GatewayDomain,
    ListRequest,
    RecordRequest,
    SignedRequest,
)
from medchain.hashing import parse_hash, record_leaf

__all__ = ["MAX_ANSWER", "REQUEST_LIFETIME", "PortalGateways"]

#: how long a request signed on the portal is valid (a gateway accepts at most 900 s by default)
REQUEST_LIFETIME: Final = 300
#: the largest gateway answer forwarded (a base64 record in an encrypted envelope)
MAX_ANSWER: Final = 64 * 1024 * 1024
#: seconds the gateway list is reused before Consortium is read again
GATEWAYS_TTL: Final = 30.0
_PATHS: Final[dict[str, type[ListRequest] | type[RecordRequest]]] = {
    "records": ListRequest,
    "fetch": RecordRequest,
}


@dataclass
class PortalGateways:
    """The gateways of this chain's hospitals, as the portal reaches them. `overrides` maps a member address
    to the URL this server uses for it instead of the URI it publishes (an internal address, say)."""

    w3: Web3
    suite: Suite
    from_block: int = 0
    overrides: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    _cache: tuple[float, list[Gateway]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.suite.records is None:
            raise InputError("RecordRegistry is not deployed on this chain: the portal lists no records")
        self.domain = GatewayDomain(int(self.w3.eth.chain_id), self.suite.records.address)
        self.overrides = {checked_address(k, "--gateway member"): _url(v) for k, v in self.overrides.items()}

    def config(self) -> dict[str, Any]:
        """What the page needs to build and sign requests: the EIP-712 domain and types (those the Python
        side signs and checks with), the hospitals, the lifetime and purpose of a self-access request."""
        return {
            "domain": self.domain.as_dict(),
            "types": {
                "EIP712Domain": EIP712_DOMAIN_TYPE,
                "RecordRequest": RECORD_TYPE,
                "RecordListRequest": LIST_TYPE,
            },
            "hospitals": [{"hospital": g.hospital, "name": g.name} for g in self.gateways()],
            "lifetime": REQUEST_LIFETIME,
            "purpose": PURPOSES["TREATMENT"],  # (self-access needs no consent; the gateway lists every class)
        }

    def gateways(self) -> list[Gateway]:
        """Active HOSPITAL members with a gateway (published http(s) URI, or an override), in admission
        order."""
        with self._lock:
            cached = self._cache
            if cached is not None and time.monotonic() - cached[0] < GATEWAYS_TTL:
                return cached[1]
            published = hospital_gateways(self.suite.consortium, self.from_block)
            found = [Gateway(g.hospital, self.overrides.get(g.hospital, g.url), g.name) for g in published]
            for member, url in self.overrides.items():
                if all(g.hospital != member for g in found):
                    m = consortium.get_member(self.suite.consortium, member)
                    if m.status == "ACTIVE" and "HOSPITAL" in m.role_names:
                        found.append(Gateway(member, url, m.name))
            self._cache = (time.monotonic(), found)
            return found

    def gateway(self, hospital: Any) -> Gateway:
        if not isinstance(hospital, str) or not Web3.is_address(hospital):
            raise InputError("hospital is missing (the 0x address of a Consortium hospital)")
        wanted = checked_address(hospital, "hospital")
        for gateway in self.gateways():
            if gateway.hospital == wanted:
                return gateway
        raise InputError(f"{wanted} is not an active Consortium hospital with a record gateway")

    # ---- the relay ----

    def relay(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Forwards the patient's signed request (`kind` records: a RecordListRequest, fetch: a RecordRequest)
        to the hospital's gateway; returns its encrypted FHIR Binary. GatewayUnavailable when the gateway
        cannot be reached, GatewayRefused (its one-line reason) when it answers with an OperationOutcome."""
        gateway = self.gateway(body.get("hospital"))
        signed = SignedRequest.from_json(body)
        request = signed.request
        if not isinstance(request, _PATHS[kind]):
            raise InputError(f"/{kind} takes a {_PATHS[kind].primary_type}, got a {request.primary_type}")
        if signed.domain != self.domain:
            raise InputError(
                f"the request is signed for chain {signed.domain.chain_id} and registry "
                f"{signed.domain.verifying_contract}; this portal's are chain {self.domain.chain_id} and "
                f"{self.domain.verifying_contract}"
            )
        signer = signed.signer()
        if signer != request.requester:
            raise InputError(f"the request names {request.requester} but is signed by {signer}")
        if isinstance(request, ListRequest):
            if request.patient != request.requester:
                raise InputError("this portal relays a patient's own requests only (requester = patient)")
            path = f"/Patient/{request.patient}/$records"
        else:
            if request.access_tx != b"\x00" * 32:
                raise InputError("this portal relays a patient's own requests only (accessTx zero)")
            path = f"/Record/0x{request.leaf.hex()}/$fetch"
        return self._post(gateway, path, signed.to_json())

    def _post(self, gateway: Gateway, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        who = gateway.name or gateway.hospital
        headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
        raw = json.dumps(payload).encode()
        try:
            with (
                httpx.Client(timeout=self.timeout, follow_redirects=False) as http,
                http.stream("POST", gateway.endpoint(path), content=raw, headers=headers) as response,
            ):
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_ANSWER:
                        raise GatewayRefused(
                            f"{who}'s gateway answered over {MAX_ANSWER} bytes", 502, "too-long"
                        )
                status = response.status_code
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(
                f"{who}'s record gateway cannot be reached ({type(exc).__name__}); try again later"
            ) from None
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        if status != 200:
            issue = outcome_issue(answer)
            reason = str(issue.get("diagnostics") or f"HTTP {status}").splitlines()[0]
            raise GatewayRefused(
                f"{who}'s gateway refused ({status}): {reason}", status, str(issue.get("code", ""))
            )
        if not isinstance(answer, dict) or (answer.get("resourceType"), answer.get("contentType")) != BINARY:
            raise GatewayRefused(
                f"{who}'s gateway answered something other than an encrypted Binary", 502, ""
            )
        if not isinstance(answer.get("data"), str):
            raise GatewayRefused(f"{who}'s gateway answered a Binary without data", 502, "")
        return {"resourceType": "Binary", "contentType": CIPHER, "data": answer["data"]}

    # ---- the anchor check of a downloaded record ----

    def anchored(self, body: dict[str, Any]) -> dict[str, Any]:
        """Whether `hospital` anchored the leaf of (recordHash, commitment, dataClass): stored singly, or in
        a batch of that hospital whose proof (root, proof) holds. The browser sends the commitment, never the
        patient's salt."""
        hospital = checked_address(_str(body, "hospital"), "hospital")
        record_hash = parse_hash(_str(body, "recordHash"), "recordHash")
        commitment = parse_hash(_str(body, "commitment"), "commitment")
        data_class = body.get("dataClass")
        if isinstance(data_class, bool) or not isinstance(data_class, int):
            raise InputError("dataClass must be an integer (DESIGN §6.2)")
        leaf = record_leaf(record_hash, commitment, data_class)
        registry = self.suite.records
        assert registry is not None
        stored = tx.call(registry.functions.getRecord(leaf))
        out = {"leaf": "0x" + leaf.hex(), "hospital": hospital}
        if stored[0] != ZERO_ADDRESS:
            return out | {"anchored": stored[0] == hospital, "how": "single", "anchoredBy": stored[0]}
        root = body.get("root")
        if isinstance(root, str) and root:
            root_bytes = parse_hash(root, "root")
            raw_proof = body.get("proof")
            if not isinstance(raw_proof, list) or len(raw_proof) > 64:
                raise InputError("proof must be a list of at most 64 0x-hashes")
            proof = [parse_hash(p, "proof node") for p in raw_proof]
            batch = tx.call(registry.functions.getBatch(root_bytes))
            fn = registry.functions.verifyBatchRecord(root_bytes, record_hash, commitment, data_class, proof)
            ok = batch[0] == hospital and bool(tx.call(fn))
            return out | {"anchored": ok, "how": "batch", "anchoredBy": batch[0]}
        return out | {"anchored": False, "how": "none", "anchoredBy": None}


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise InputError(f"{key} is missing (0x hex)")
    return value


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise InputError(f"--gateway URL must start with http:// or https://, got {value!r}")
    return value.rstrip("/")
