"""The requester's side of a gateway: signed list and fetch requests over HTTP, decryption, and the check
of every record against its anchor before anyone keeps it.

A fetched record is accepted only if its recomputed hash (bytes or canonical FHIR, DESIGN §6.6) is the
record hash of the opening whose leaf is on chain; anything else raises :class:`TamperedRecord` and
nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from medchain import tx
from medchain.addresses import ZERO_ADDRESS, checked_address
from medchain.codes import parse_purpose
from medchain.errors import InputError
from medchain.gateway.crypto import CIPHER, ResponseKey, unb64
from medchain.gateway.errors import GatewayRefused, GatewayUnavailable, TamperedRecord
from medchain.gateway.messages import (
    GatewayDomain,
    ListRequest,
    RecordRequest,
    SignedRequest,
    expiry,
    new_request_id,
)
from medchain.hashing import METHOD_BYTES, METHOD_FHIR, hash_bytes
from medchain.openings import RecordOpening

__all__ = [
    "Fetched",
    "Gateway",
    "GatewayClient",
    "Listed",
    "check_anchored",
    "store_record",
    "verify_content",
    "wait_ready",
]

ZERO32 = b"\x00" * 32
BINARY = ("Binary", CIPHER)


@dataclass(frozen=True)
class Gateway:
    """A hospital's gateway: the member address and the endpoint URI it publishes in Consortium."""

    hospital: str
    url: str
    name: str = ""

    @property
    def label(self) -> str:
        return f"{self.name or self.hospital} at {self.url}"

    def endpoint(self, path: str) -> str:
        return self.url.rstrip("/") + path


@dataclass(frozen=True)
class Listed:
    """One record a gateway listed: its opening (to log the access) and how its hash was made."""

    gateway: Gateway
    opening: RecordOpening
    hash_method: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.opening.as_dict(), "hashMethod": self.hash_method, "hospital": self.gateway.hospital}


@dataclass(frozen=True)
class Fetched:
    """A record released by a gateway, decrypted and checked against its anchor."""

    gateway: Gateway
    opening: RecordOpening
    hash_method: str
    content: bytes
    suffix: str
    content_type: str


class GatewayClient:
    """Signs requests as ``requester`` (a HOSPITAL member, through one of its operator keys, or a patient
    with their own key) for one chain's gateways."""

    def __init__(
        self,
        domain: GatewayDomain,
        key: LocalAccount,
        requester: str,
        *,
        timeout: float = 30.0,
        wait: float = 60.0,
        lifetime: int = 300,
        http: httpx.Client | None = None,
    ) -> None:
        self.domain = domain
        self.key = key
        self.requester = checked_address(requester, "requester")
        self.timeout = timeout
        self.wait = wait  # how long to retry a gateway's 503 (e.g. waiting for confirmations)
        self.lifetime = lifetime
        self.http = http or httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def list(self, gateway: Gateway, patient: str, purpose: int | str) -> list[Listed]:
        """The records of ``patient`` that ``gateway`` may release to this requester for ``purpose``."""
        patient = checked_address(patient, "patient")
        key = ResponseKey.generate()
        code = parse_purpose(purpose)
        expires = expiry(self.lifetime)
        request = ListRequest(self.requester, patient, code, key.public, new_request_id(), expires)
        body = self._post(gateway, f"/Patient/{patient}/$records", request)
        envelope = _envelope(gateway, key, body, request.request_id, "medchain-gateway-list/1")
        if envelope.get("patient") != patient:
            raise TamperedRecord(f"gateway {gateway.label} listed records of {envelope.get('patient')}")
        out = []
        for raw in envelope.get("entries") or []:
            opening = RecordOpening.from_dict(raw)
            if opening.patient != patient:
                raise TamperedRecord(f"gateway {gateway.label} listed a record of another patient")
            out.append(Listed(gateway, opening, str(raw.get("hashMethod", METHOD_BYTES))))
        return out

    def fetch(self, listed: Listed, purpose: int | str, access_tx: bytes | None) -> Fetched:
        """The record, decrypted and checked against its opening (TamperedRecord if it does not match)."""
        gateway, opening = listed.gateway, listed.opening
        key = ResponseKey.generate()
        request = RecordRequest(
            self.requester,
            opening.leaf,
            parse_purpose(purpose),
            access_tx or ZERO32,
            key.public,
            new_request_id(),
            expiry(self.lifetime),
        )
        body = self._post(gateway, f"/Record/0x{opening.leaf.hex()}/$fetch", request)
        envelope = _envelope(gateway, key, body, request.request_id, "medchain-gateway-record/1")
        method = str(envelope.get("hashMethod", ""))
        content = unb64(str(envelope.get("content", "")), "record content")
        verify_content(gateway, opening, method, content)
        suffix = str(envelope.get("suffix") or "")
        if not (suffix == "" or (suffix.startswith(".") and suffix[1:].isalnum() and len(suffix) <= 12)):
            suffix = ""
        return Fetched(gateway, opening, method, content, suffix, str(envelope.get("contentType", "")))

    def _post(self, gateway: Gateway, path: str, request: ListRequest | RecordRequest) -> dict[str, Any]:
        signed = SignedRequest.sign(request, self.domain, self.key).to_json()
        deadline = time.monotonic() + self.wait
        while True:
            try:
                response = self.http.post(gateway.endpoint(path), json=signed)
            except httpx.HTTPError as exc:
                raise GatewayUnavailable(
                    f"gateway of {gateway.label} is not reachable ({type(exc).__name__}): is "
                    "`medchain gateway serve` running there, and is the member's endpoint URI right?"
                ) from None
            if response.status_code == 503 and time.monotonic() < deadline:
                time.sleep(min(float(response.headers.get("Retry-After", "1") or 1), 5.0))
                continue
            return _body(gateway, response)


def outcome_issue(body: Any) -> dict[str, Any]:
    """The first issue of a gateway's FHIR OperationOutcome (its `code` and one-line `diagnostics`), or {}."""
    issues = body.get("issue") if isinstance(body, dict) else None
    first = issues[0] if isinstance(issues, list) and issues else None
    return first if isinstance(first, dict) else {}


def _body(gateway: Gateway, response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200:
        issue = outcome_issue(body)
        detail = issue.get("diagnostics") or response.reason_phrase
        raise GatewayRefused(
            f"gateway of {gateway.label} refused ({response.status_code} {issue.get('code', '')}): {detail}",
            response.status_code,
            str(issue.get("code", "")),
        )
    if not isinstance(body, dict) or (body.get("resourceType"), body.get("contentType")) != BINARY:
        message = f"gateway of {gateway.label} answered something other than an encrypted Binary"
        raise GatewayRefused(message, response.status_code, "")
    return body


def _envelope(gateway: Gateway, key: ResponseKey, body: dict[str, Any], request_id: bytes, fmt: str) -> Any:
    plaintext = key.open(unb64(str(body.get("data", "")), "Binary.data"))
    try:
        envelope = json.loads(plaintext)
    except ValueError:
        raise TamperedRecord(f"gateway of {gateway.label} sent an envelope that is not JSON") from None
    if not isinstance(envelope, dict) or envelope.get("format") != fmt:
        raise TamperedRecord(f"gateway of {gateway.label} sent no {fmt} envelope")
    if envelope.get("requestId") != "0x" + request_id.hex():
        raise TamperedRecord(f"gateway of {gateway.label} answered another request (requestId mismatch)")
    return envelope


def wait_ready(url: str, timeout: float = 30.0) -> None:
    """Returns once a gateway at ``url`` answers ``GET /metadata``; GatewayUnavailable after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url.rstrip("/") + "/metadata", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise GatewayUnavailable(f"no record gateway answers at {url} after {timeout:.0f} s")
        time.sleep(0.1)


def verify_content(gateway: Gateway, opening: RecordOpening, method: str, content: bytes) -> None:
    """TamperedRecord unless ``content`` hashes (with ``method``) to the opening's record hash."""
    if method == METHOD_BYTES:
        digest = hashlib.sha256(content).digest()
    elif method == METHOD_FHIR:
        try:
            digest = hash_bytes(content, mode="fhir").record_hash
        except InputError as exc:
            message = f"gateway of {gateway.label} served a record that is not FHIR ({exc})"
            raise TamperedRecord(message) from None
    else:
        raise TamperedRecord(f"gateway of {gateway.label} names an unknown hash method {method!r}")
    if digest != opening.record_hash:
        raise TamperedRecord(
            f"gateway of {gateway.label} served a record whose hash 0x{digest.hex()} is not the anchored "
            f"0x{opening.record_hash.hex()} (leaf 0x{opening.leaf.hex()}): refused, nothing stored"
        )


def check_anchored(registry: Contract, opening: RecordOpening, hospital: str) -> None:
    """TamperedRecord unless ``hospital`` anchored the opening's leaf (single, materialised, or in a batch
    whose proof the opening carries)."""
    record = tx.call(registry.functions.getRecord(opening.leaf))
    if record[0] != ZERO_ADDRESS:
        if record[0] != hospital:
            message = f"record 0x{opening.leaf.hex()} was anchored by {record[0]}, not by {hospital}"
            raise TamperedRecord(message)
        return
    if opening.root is not None:
        batch = tx.call(registry.functions.getBatch(opening.root))
        proof = list(opening.proof)
        values = (opening.root, opening.record_hash, opening.commitment, opening.data_class, proof)
        if batch[0] == hospital and tx.call(registry.functions.verifyBatchRecord(*values)):
            return
    raise TamperedRecord(f"record 0x{opening.leaf.hex()} is not anchored on this chain by {hospital}")


def store_record(fetched: Fetched, out_dir: Path) -> Path:
    """Writes a verified record as ``<recordHash><suffix>`` in ``out_dir`` (atomically: a temporary file
    renamed into place)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"0x{fetched.opening.record_hash.hex()}{fetched.suffix}"
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        tmp.write_bytes(fetched.content)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{out_dir}: cannot write the record ({exc.strerror or exc})") from None
    return path


ProgressFn = Callable[[str, int, int], None]
