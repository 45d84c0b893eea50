"""The record exchange's flows on the requester's side: find the gateways in Consortium, list, log the access
on chain (no log, no data), fetch, verify, store.

- :func:`fetch_one` one record from one hospital (``records fetch``);
- :func:`fetch_all` everything a patient's consent covers at every hospital that lists a record of theirs
  (``records fetch-all``), all access logs in one ``logAccessMany`` per 256 records;
- :func:`patient_records` / :func:`download_own` the patient's own records (no consent, no log), for the
  patient portal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from medchain import consortium as members_mod
from medchain import records as records_mod
from medchain.addresses import checked_address
from medchain.codes import PURPOSE_NAMES, parse_purpose
from medchain.errors import InputError, MedchainError
from medchain.gateway.client import (
    Fetched,
    Gateway,
    GatewayClient,
    Listed,
    check_anchored,
    store_record,
)
from medchain.gateway.errors import GatewayRefused
from medchain.gateway.messages import GatewayDomain
from medchain.hashing import parse_hash
from medchain.openings import RecordOpening

__all__ = [
    "ExchangeReport",
    "download_own",
    "fetch_all",
    "fetch_one",
    "hospital_gateways",
    "patient_records",
    "resolve_gateway",
]

Progress = Callable[[str, int, int], None]


def domain_of(w3: Web3, registry: Contract) -> GatewayDomain:
    return GatewayDomain(int(w3.eth.chain_id), registry.address)


# ---- finding gateways ----


def hospital_gateways(consortium: Contract, from_block: int = 0) -> list[Gateway]:
    """Every active HOSPITAL member that publishes an endpoint URI, in admission order."""
    return [
        Gateway(m.address, m.uri, m.name)
        for m in members_mod.members(consortium, from_block)
        if m.status == "ACTIVE" and "HOSPITAL" in m.role_names and m.uri.startswith(("http://", "https://"))
    ]


def resolve_gateway(consortium: Contract, hospital: str, from_block: int = 0) -> Gateway:
    """The gateway of a HOSPITAL member named by address or by (case-insensitive) name."""
    if Web3.is_address(hospital):
        member = members_mod.get_member(consortium, checked_address(hospital, "hospital"))
        candidates = [member] if member.status != "NONE" else []
    else:
        wanted = hospital.strip().casefold()
        candidates = [m for m in members_mod.members(consortium, from_block) if m.name.casefold() == wanted]
    if not candidates:
        raise InputError(f"{hospital}: no Consortium member has that address or name")
    member = candidates[0]
    if member.status != "ACTIVE" or "HOSPITAL" not in member.role_names:
        who = member.name or member.address
        raise InputError(f"{who} is not an active HOSPITAL member ({member.status})")
    if not member.uri.startswith(("http://", "https://")):
        raise InputError(
            f"{member.name or member.address} publishes no gateway endpoint (uri {member.uri!r}): the member "
            "sets it with `medchain council profile --uri URL`"
        )
    return Gateway(member.address, member.uri, member.name)


# ---- one record ----


def find_listed(listed: Sequence[Listed], record: str) -> Listed:
    """The listed record whose leaf or record hash is ``record`` (0x-hex)."""
    wanted = parse_hash(record, "record (leaf or record hash)")
    found = [x for x in listed if wanted in (x.opening.leaf, x.opening.record_hash)]
    if not found:
        raise InputError(
            f"record {record} is not among the {len(listed)} record(s) this gateway lists for the patient "
            "and purpose (not there, or of a data class the consent does not cover)"
        )
    return found[0]


def fetch_one(
    svc: records_mod.RecordService,
    client: GatewayClient,
    gateway: Gateway,
    record: str,
    patient: str,
    purpose: int | str,
    out_dir: Path,
    *,
    opening: RecordOpening | None = None,
    hash_method: str | None = None,
) -> dict[str, Any]:
    """Logs the access (unless the requester is the patient), fetches, verifies and stores one record."""
    patient = checked_address(patient, "patient")
    code = parse_purpose(purpose)
    if opening is None or hash_method is None:
        listed = find_listed(client.list(gateway, patient, code), record)
    else:
        listed = Listed(gateway, opening, hash_method)
    access: dict[str, Any] | None = None
    if client.requester != patient:
        access = records_mod.log_access(svc, listed.opening, code)
    fetched = client.fetch(listed, code, _tx_bytes(access))
    check_anchored(svc.registry, fetched.opening, gateway.hospital)
    path = store_record(fetched, out_dir)
    return _row(fetched, path, access)


# ---- everything a consent covers ----


@dataclass
class ExchangeReport:
    """What ``fetch-all`` did: records stored, gateways that failed or refused, the access logs' gas."""

    stored: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    gateways: int = 0
    access_gas: int = 0
    access_txs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        logged = len(self.stored) or 1
        return {
            "stored": self.stored,
            "failures": self.failures,
            "gateways": self.gateways,
            "accessTxs": self.access_txs,
            "accessGas": self.access_gas,
            "gasPerRecord": round(self.access_gas / logged) if self.stored else 0,
        }


def fetch_all(
    svc: records_mod.RecordService,
    client: GatewayClient,
    gateways: Sequence[Gateway],
    patient: str,
    purpose: int | str,
    out_dir: Path,
    progress: Progress | None = None,
) -> ExchangeReport:
    """Lists at every gateway, logs every listed record's access in as few transactions as possible, then
    fetches, verifies and stores each. A gateway that is down or refuses is reported, not fatal."""
    patient = checked_address(patient, "patient")
    code = parse_purpose(purpose)
    gateways = [g for g in gateways if g.hospital != client.requester]  # a hospital has its own records
    report = ExchangeReport(gateways=len(gateways))
    listed: list[Listed] = []
    for number, gateway in enumerate(gateways, start=1):
        try:
            listed += client.list(gateway, patient, code)
        except GatewayRefused as exc:
            if exc.status != 403:  # 403: no consent covers this requester there (nothing to list)
                report.failures.append({"gateway": gateway.label, "error": str(exc)})
        except MedchainError as exc:
            report.failures.append({"gateway": gateway.label, "error": str(exc)})
        if progress is not None:
            progress("list", number, len(gateways))
    unique = list({x.opening.leaf: x for x in listed}.values())
    tx_of: dict[bytes, bytes | None] = {}
    if unique and client.requester != patient:
        if progress is not None:
            progress("log", 0, 1)
        logs = records_mod.log_access_many(svc, [x.opening for x in unique], code)
        for log in logs:
            tx_of[log["leaf"]] = bytes.fromhex(log["txHash"][2:])
        seen: dict[str, int] = {log["txHash"]: int(log["gasUsed"]) for log in logs}
        report.access_txs = list(seen)
        report.access_gas = sum(seen.values())
        if progress is not None:
            progress("log", 1, 1)
    for number, item in enumerate(unique, start=1):
        try:
            fetched = client.fetch(item, code, tx_of.get(item.opening.leaf))
            check_anchored(svc.registry, fetched.opening, item.gateway.hospital)
            path = store_record(fetched, out_dir)
            logged = tx_of.get(item.opening.leaf)
            access = {"txHash": "0x" + logged.hex(), "purpose": PURPOSE_NAMES[code]} if logged else None
            report.stored.append(_row(fetched, path, access))
        except MedchainError as exc:
            report.failures.append({"gateway": item.gateway.label, "error": str(exc)})
        if progress is not None:
            progress("fetch", number, len(unique))
    return report


# ---- the patient's own records (portal) ----


def patient_records(
    w3: Web3,
    registry: Contract,
    gateway: Gateway,
    patient_key: LocalAccount,
    purpose: int | str = "TREATMENT",
) -> list[Listed]:
    """The patient's own records at one hospital (signed with the patient's key; no consent needed)."""
    client = GatewayClient(domain_of(w3, registry), patient_key, patient_key.address)
    try:
        return client.list(gateway, patient_key.address, purpose)
    finally:
        client.close()


def download_own(
    w3: Web3,
    registry: Contract,
    gateway: Gateway,
    patient_key: LocalAccount,
    record: str | None = None,
    purpose: int | str = "TREATMENT",
) -> list[Fetched]:
    """Patient self-access: the patient's own records at ``gateway`` (all of them, or the one whose leaf or
    record hash is ``record``), each decrypted and checked against its anchor on chain. Nothing is written:
    the caller (a portal, ``records fetch``) decides where the bytes go."""
    client = GatewayClient(domain_of(w3, registry), patient_key, patient_key.address)
    try:
        listed = client.list(gateway, patient_key.address, purpose)
        chosen = [find_listed(listed, record)] if record is not None else listed
        out = []
        for item in chosen:
            fetched = client.fetch(item, purpose, None)
            check_anchored(registry, fetched.opening, gateway.hospital)
            out.append(fetched)
        return out
    finally:
        client.close()


def _tx_bytes(access: dict[str, Any] | None) -> bytes | None:
    return None if access is None else bytes.fromhex(str(access["txHash"])[2:])


def _row(fetched: Fetched, path: Path, access: dict[str, Any] | None) -> dict[str, Any]:
    opening = fetched.opening
    row: dict[str, Any] = {
        "file": str(path),
        "hospital": fetched.gateway.hospital,
        "leaf": "0x" + opening.leaf.hex(),
        "recordHash": "0x" + opening.record_hash.hex(),
        "hashMethod": fetched.hash_method,
        "dataClass": opening.data_class,
        "verified": True,
    }
    if access is not None:
        row["accessTx"] = access["txHash"]
        row["purpose"] = access["purpose"]
    return row
