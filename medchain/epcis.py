"""EPCIS 2.0 JSON-LD event documents for DrugTrace, and the hash every DrugTrace event carries.

One `EPCISDocument` with one `ObjectEvent` per chain action (GS1 EPCIS 2.0 / CBV 2.0 vocabulary):

============  ========  ================  =============  ==========================================
kind          action    bizStep           disposition    what
============  ========  ================  =============  ==========================================
commission    ADD       commissioning     active         quantityList (class = GTIN+lot) + ilmd
ship          OBSERVE   shipping          in_transit     epcList (the shipped packs) or quantityList, parties
cancel        OBSERVE   void_shipping     in_progress    quantityList, shipment id (the sender took it back)
return        OBSERVE   shipping          returned       quantityList, shipment id (refused before receipt)
receive       OBSERVE   receiving         in_progress    quantityList (received), shipment id
dispense      OBSERVE   dispensing        dispensed      epcList (the one serialised pack)
recall        OBSERVE   holding           recalled       quantityList (class), recall reason hash
============  ========  ================  =============  ==========================================

Identifiers are GS1 Digital Link URIs on the canonical ``id.gs1.org`` host, which EPCIS 2.0 accepts in place
of EPC URNs (an ``urn:epc:id:sgtin`` would need the GS1 company prefix length, which a GTIN alone does not
give): a pack is ``https://id.gs1.org/01/<GTIN-14>/21/<serial>`` and a lot (the EPC class, LGTIN) is
``https://id.gs1.org/01/<GTIN-14>/10/<lot>``. Parties (source/destination ``owning_party``) are the members'
chain accounts as W3C DIDs of the did:pkh method (CAIP-10): ``did:pkh:eip155:<chainId>:<address>``.
MedChain-specific fields live in the ``medchain:`` namespace declared in ``@context``.

Hash (the ``epcisHash`` of every DrugTrace event): **sha256** of the document's RFC 8785 (JCS) canonical
JSON, the same rule DESIGN §6.6 uses for FHIR records. sha256 rather than keccak256 because the document is
an off-chain GS1 artefact that EPCIS repositories and auditors check with standard tools (``sha256sum``),
without Ethereum libraries. It is not the CBV 2.0 §8.9 "event hash ID" (``ni:///sha-256;...``), which
canonicalises a single event differently; `EpcisDocument.hash_hex` is what goes on chain. Documents are
deterministic given their inputs (pass ``when``), so one can be rebuilt and re-hashed later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote

import rfc8785
from eth_utils import to_checksum_address

from medchain.errors import InputError
from medchain.text import check_json_depth, is_digits

__all__ = [
    "EPCIS_CONTEXT",
    "EpcisDocument",
    "Kind",
    "cancel_event",
    "class_uri",
    "commission_event",
    "dispense_event",
    "epcis_hash",
    "instance_uri",
    "party_uri",
    "recall_event",
    "receive_event",
    "return_event",
    "ship_event",
]

EPCIS_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
MEDCHAIN_NS: Final = "https://medchain.example/ns/epcis#"
GS1_DL_HOST: Final = "https://id.gs1.org"

Kind = Literal["commission", "ship", "receive", "dispense", "recall", "cancel", "return"]


@dataclass(frozen=True)
class EpcisDocument:
    """One EPCIS 2.0 document (JSON-LD) and its on-chain hash."""

    kind: Kind
    document: dict[str, Any]

    @property
    def canonical(self) -> bytes:
        """RFC 8785 (JCS) canonical JSON bytes: what is hashed."""
        return canonical_json(self.document)

    @property
    def hash(self) -> bytes:
        """sha256 of the canonical JSON (32 bytes: the `epcisHash` on chain)."""
        return hashlib.sha256(self.canonical).digest()

    @property
    def hash_hex(self) -> str:
        return "0x" + self.hash.hex()

    def to_json(self, indent: int | None = 2) -> str:
        """Readable JSON (not canonical: hash `canonical`, never this text)."""
        return json.dumps(self.document, indent=indent, ensure_ascii=False)


def canonical_json(document: dict[str, Any]) -> bytes:
    try:
        return bytes(rfc8785.dumps(document))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InputError(f"EPCIS document cannot be canonicalised: {exc}") from None


def epcis_hash(document: dict[str, Any] | str | bytes) -> bytes:
    """sha256 over the RFC 8785 canonical form of an EPCIS document (a dict, or its JSON text)."""
    if isinstance(document, (str, bytes)):
        check_json_depth(document, "EPCIS document")
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise InputError(f"EPCIS document is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InputError("an EPCIS document is a JSON object")
    return hashlib.sha256(canonical_json(document)).digest()


# ---- identifiers ----


def _gtin(gtin: str | int) -> str:
    text = str(gtin).zfill(14)
    if len(text) != 14 or not is_digits(text):
        raise InputError(f"GTIN must be 14 digits, got {gtin!r}")
    return text


def instance_uri(gtin: str | int, serial: str) -> str:
    """A serialised pack (SGTIN) as a GS1 Digital Link URI."""
    return f"{GS1_DL_HOST}/01/{_gtin(gtin)}/21/{quote(serial, safe='')}"


def class_uri(gtin: str | int, lot: str) -> str:
    """A lot of a product (LGTIN, the EPC class of a batch) as a GS1 Digital Link URI."""
    return f"{GS1_DL_HOST}/01/{_gtin(gtin)}/10/{quote(lot, safe='')}"


def party_uri(chain_id: int, address: str) -> str:
    """A member institution as a did:pkh DID (CAIP-10 account id)."""
    return f"did:pkh:eip155:{int(chain_id)}:{to_checksum_address(address)}"


# ---- documents ----


def _time(when: dt.datetime | None) -> str:
    moment = when or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise InputError("EPCIS event times need a time zone")
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _document(kind: Kind, event: dict[str, Any], when: dt.datetime | None) -> EpcisDocument:
    stamp = _time(when)
    body = {"type": "ObjectEvent", "eventTime": stamp, "eventTimeZoneOffset": "+00:00", **event}
    return EpcisDocument(
        kind,
        {
            "@context": [EPCIS_CONTEXT, {"medchain": MEDCHAIN_NS}],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": stamp,
            "epcisBody": {"eventList": [body]},
        },
    )


def _hex(value: bytes | str) -> str:
    raw = (
        bytes.fromhex(value[2:] if value.startswith("0x") else value)
        if isinstance(value, str)
        else bytes(value)
    )
    if len(raw) != 32:
        raise InputError(f"expected a 32-byte hash, got {len(raw)} bytes")
    return "0x" + raw.hex()


def _parties(key: str, chain_id: int, owners: tuple[str, ...]) -> list[dict[str, str]]:
    field = "source" if key == "sourceList" else "destination"
    return [{"type": "owning_party", field: party_uri(chain_id, owner)} for owner in owners]


def commission_event(
    *,
    gtin: str | int,
    lot: str,
    expiry: dt.date,
    quantity: int,
    serial_root: bytes | str,
    manufacturer: str,
    chain_id: int,
    certificate_hash: bytes | str | None = None,
    when: dt.datetime | None = None,
) -> EpcisDocument:
    """The batch is made: `quantity` packs of the lot, with its expiry and serial Merkle root."""
    event: dict[str, Any] = {
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "epcList": [],
        "quantityList": [{"epcClass": class_uri(gtin, lot), "quantity": int(quantity)}],
        "destinationList": _parties("destinationList", chain_id, (manufacturer,)),
        "ilmd": {"cbvmda:itemExpirationDate": expiry.isoformat(), "cbvmda:lotNumber": lot},
        "medchain:serialRoot": _hex(serial_root),
        "medchain:serialLeafEncoding": ["bytes32", "string"],
    }
    if certificate_hash is not None:
        event["medchain:certificateHash"] = _hex(certificate_hash)
    return _document("commission", event, when)


def ship_event(
    *,
    gtin: str | int,
    lot: str,
    quantity: int,
    sender: str,
    recipient: str,
    chain_id: int,
    when: dt.datetime | None = None,
    serials: Sequence[str] = (),
) -> EpcisDocument:
    """`quantity` packs of the lot leave `sender` for `recipient`: the listed `serials` (the epcList, which
    the shipment's serial root commits to), or, when none are listed, a whole source by quantity."""
    event = {
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "epcList": [instance_uri(gtin, serial) for serial in serials],
        "quantityList": [] if serials else [{"epcClass": class_uri(gtin, lot), "quantity": int(quantity)}],
        "sourceList": _parties("sourceList", chain_id, (sender,)),
        "destinationList": _parties("destinationList", chain_id, (recipient,)),
    }
    return _document("ship", event, when)


def receive_event(
    *,
    gtin: str | int,
    lot: str,
    shipped: int,
    received: int,
    sender: str,
    recipient: str,
    shipment_id: int,
    chain_id: int,
    when: dt.datetime | None = None,
) -> EpcisDocument:
    """`recipient` takes in `received` of the `shipped` packs of shipment `shipment_id`."""
    event = {
        "action": "OBSERVE",
        "bizStep": "receiving",
        "disposition": "in_progress",
        "epcList": [],
        "quantityList": [{"epcClass": class_uri(gtin, lot), "quantity": int(received)}],
        "sourceList": _parties("sourceList", chain_id, (sender,)),
        "destinationList": _parties("destinationList", chain_id, (recipient,)),
        "medchain:shipmentId": int(shipment_id),
        "medchain:quantityShipped": int(shipped),
    }
    return _document("receive", event, when)


def dispense_event(
    *,
    gtin: str | int,
    lot: str,
    serial: str,
    dispenser: str,
    chain_id: int,
    when: dt.datetime | None = None,
) -> EpcisDocument:
    """The pack (gtin, serial) of the lot is dispensed by `dispenser` (a pharmacy or hospital member)."""
    event = {
        "action": "OBSERVE",
        "bizStep": "dispensing",
        "disposition": "dispensed",
        "epcList": [instance_uri(gtin, serial)],
        "sourceList": _parties("sourceList", chain_id, (dispenser,)),
        "medchain:lot": lot,
    }
    return _document("dispense", event, when)


def recall_event(
    *,
    gtin: str | int,
    lot: str,
    by: str,
    reason_hash: bytes | str,
    chain_id: int,
    when: dt.datetime | None = None,
) -> EpcisDocument:
    """The whole lot is recalled by `by` (its manufacturer or the council)."""
    event = {
        "action": "OBSERVE",
        "bizStep": "holding",
        "disposition": "recalled",
        "epcList": [],
        "quantityList": [{"epcClass": class_uri(gtin, lot)}],
        "sourceList": _parties("sourceList", chain_id, (by,)),
        "medchain:recallReasonHash": _hex(reason_hash),
    }
    return _document("recall", event, when)


def cancel_event(
    *,
    gtin: str | int,
    lot: str,
    quantity: int,
    sender: str,
    shipment_id: int,
    chain_id: int,
    when: dt.datetime | None = None,
) -> EpcisDocument:
    """`sender` takes shipment `shipment_id` back before receipt (CBV void_shipping)."""
    event = {
        "action": "OBSERVE",
        "bizStep": "void_shipping",
        "disposition": "in_progress",
        "epcList": [],
        "quantityList": [{"epcClass": class_uri(gtin, lot), "quantity": int(quantity)}],
        "sourceList": _parties("sourceList", chain_id, (sender,)),
        "medchain:shipmentId": int(shipment_id),
    }
    return _document("cancel", event, when)


def return_event(
    *,
    gtin: str | int,
    lot: str,
    quantity: int,
    sender: str,
    recipient: str,
    shipment_id: int,
    chain_id: int,
    when: dt.datetime | None = None,
) -> EpcisDocument:
    """`recipient` refuses shipment `shipment_id` before receipt: the packs go back to `sender`."""
    event = {
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "returned",
        "epcList": [],
        "quantityList": [{"epcClass": class_uri(gtin, lot), "quantity": int(quantity)}],
        "sourceList": _parties("sourceList", chain_id, (recipient,)),
        "destinationList": _parties("destinationList", chain_id, (sender,)),
        "medchain:shipmentId": int(shipment_id),
    }
    return _document("return", event, when)
