"""What exists in DrugTrace: products, batches, shipments, prefixes (`medchain drugs
products|batches|shipments`, `medchain drugs product show`, `medchain drugs prefix show`).

Candidates come from the contract's events (filtered on chain by their indexed fields); every row is read back
from the contract's state, so a listing shows what holds now (a reassigned product's manufacturer, a received
shipment's status). Member names come from Consortium.
"""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address
from web3.contract import Contract

from medchain.consortium import get_member
from medchain.drugs import SHIPMENT_STATUS, batch_view, member_or_none
from medchain.errors import InputError, MedchainError
from medchain.serials import gtin14, gtin_number
from medchain.text import is_digits
from medchain.timefmt import iso


class _Names:
    """Member names, looked up once each."""

    def __init__(self, consortium: Contract) -> None:
        self.consortium, self.cache = consortium, dict[str, str]()

    def __call__(self, address: str) -> str:
        if address not in self.cache:
            try:
                self.cache[address] = get_member(self.consortium, address).name
            except MedchainError:
                self.cache[address] = ""
        return self.cache[address]


def products(drugs: Contract, consortium: Contract, manufacturer: str | None = None,
             from_block: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """Registered products (now with `manufacturer`, when given), in registration order."""
    names = _Names(consortium)
    logs = drugs.events.ProductRegistered().get_logs(from_block=from_block)
    rows = []
    for gtin in dict.fromkeys(int(log["args"]["gtin"]) for log in logs):
        owner, registered, name = drugs.functions.getProduct(gtin).call()
        owner = to_checksum_address(owner)
        if manufacturer is not None and owner != manufacturer:
            continue
        rows.append({"gtin": gtin14(gtin), "name": name, "manufacturer": owner,
                     "manufacturerName": names(owner), "registeredAt": iso(registered)})  # fmt: skip
    return rows


def product(drugs: Contract, gtin: str) -> dict[str, Any]:
    """One product: its GTIN-14, name, manufacturer and registration time; InputError if it is not
    registered."""
    number = gtin_number(gtin)
    manufacturer, registered, name = drugs.functions.getProduct(number).call()
    if int(manufacturer, 16) == 0:
        raise InputError(f"GTIN {gtin14(number)} is not registered")
    return {"gtin": gtin14(number), "name": name, "manufacturer": manufacturer, "registeredAt": registered}


def prefix_owner(drugs: Contract, code: str) -> dict[str, Any]:
    """Who owns a GS1 Company Prefix (6-12 digits), or which assigned prefix a GTIN (8, 12, 13 or 14 digits)
    falls in and who owns it."""
    text = code.strip()
    if len(text) in (8, 14) or (len(text) in (12, 13) and _is_gtin(text)):
        owner, digits = drugs.functions.prefixOf(gtin_number(text)).call()
        gtin = gtin14(gtin_number(text))
        prefix = gtin[1 : 1 + int(digits)] if int(digits) else None
        return {"gtin": gtin, "prefix": prefix, "manufacturer": member_or_none(owner)}
    if not is_digits(text) or not 6 <= len(text) <= 12:
        raise InputError(f"{code!r} is neither a 6-12 digit prefix nor a GTIN")
    return {"prefix": text, "manufacturer": member_or_none(drugs.functions.prefixOwner(text).call())}


def _is_gtin(text: str) -> bool:
    try:
        gtin_number(text)
    except InputError:
        return False
    return True


def batches(drugs: Contract, consortium: Contract, gtin: int | None = None,
            from_block: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """Commissioned batches (of product `gtin`, when given) with their state now, in commissioning order."""
    names = _Names(consortium)
    filters = {"gtin": gtin} if gtin is not None else None
    logs = drugs.events.BatchCommissioned().get_logs(from_block=from_block, argument_filters=filters)
    rows = []
    for batch in dict.fromkeys(bytes(log["args"]["batchId"]) for log in logs):
        view = batch_view(drugs, batch)
        maker = view.manufacturer or ""
        rows.append({
            "batchId": view.batch_id, "gtin": view.gtin, "lot": view.lot, "product": view.product_name,
            "expiry": view.expiry.isoformat() if view.expiry else "", "expired": view.expired,
            "status": view.status, "quantity": view.quantity, "inTransit": view.in_transit, "lost": view.lost,
            "manufacturer": maker, "manufacturerName": names(maker) if maker else "",
            "commissionedAt": iso(view.commissioned_at),
        })  # fmt: skip
    return rows


def shipments(drugs: Contract, consortium: Contract, *, to: str | None = None, sender: str | None = None,
              pending: bool = False, from_block: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """Shipments (to member `to` and/or from member `sender`; only those still in transit with `pending`),
    in shipping order."""
    names = _Names(consortium)
    filters = {"from": sender} if sender is not None else None
    logs = drugs.events.DrugShipped().get_logs(from_block=from_block, argument_filters=filters)
    rows = []
    for log in logs:
        args = log["args"]
        if to is not None and to_checksum_address(args["to"]) != to:
            continue
        shipment_id = int(args["shipmentId"])
        s = drugs.functions.getShipment(shipment_id).call()
        status, batch, origin, dest, quantity, received, shipped_at, received_at, _ = s
        state = SHIPMENT_STATUS[int(status)]
        if pending and state != "IN_TRANSIT":
            continue
        view = batch_view(drugs, bytes(batch))
        origin, dest = to_checksum_address(origin), to_checksum_address(dest)
        rows.append({
            "shipment": shipment_id, "status": state, "gtin": view.gtin, "lot": view.lot,
            "expiry": view.expiry.isoformat() if view.expiry else "",
            "quantity": int(quantity), "received": int(received), "from": origin, "fromName": names(origin),
            "to": dest, "toName": names(dest), "shippedAt": iso(shipped_at), "receivedAt": iso(received_at),
        })  # fmt: skip
    return rows

