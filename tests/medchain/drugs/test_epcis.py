"""medchain.epcis: EPCIS 2.0 documents per DrugTrace action and their sha256-over-JCS hash (no chain)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
import rfc8785

from medchain import epcis
from medchain.errors import InputError

WHEN = dt.datetime(2026, 11, 26, 8, 30, 15, 250000, tzinfo=dt.UTC)
GTIN = "09506000134352"
MAKER = "0x" + "11" * 20
PHARMACY = "0x" + "22" * 20
CHAIN = 31337


def _event(doc: epcis.EpcisDocument) -> dict:
    return doc.document["epcisBody"]["eventList"][0]


def _all() -> list[epcis.EpcisDocument]:
    return [
        epcis.commission_event(
            gtin=GTIN,
            lot="L1",
            expiry=dt.date(2027, 12, 31),
            quantity=10,
            serial_root=b"\x01" * 32,
            manufacturer=MAKER,
            chain_id=CHAIN,
            certificate_hash=b"\x02" * 32,
            when=WHEN,
        ),
        epcis.ship_event(
            gtin=GTIN, lot="L1", quantity=4, sender=MAKER, recipient=PHARMACY, chain_id=CHAIN, when=WHEN
        ),
        epcis.receive_event(
            gtin=GTIN,
            lot="L1",
            shipped=4,
            received=3,
            sender=MAKER,
            recipient=PHARMACY,
            shipment_id=7,
            chain_id=CHAIN,
            when=WHEN,
        ),
        epcis.dispense_event(
            gtin=GTIN, lot="L1", serial="SN1", dispenser=PHARMACY, chain_id=CHAIN, when=WHEN
        ),
        epcis.recall_event(
            gtin=GTIN, lot="L1", by=MAKER, reason_hash=b"\x03" * 32, chain_id=CHAIN, when=WHEN
        ),
    ]


def test_every_document_is_an_epcis_2_document_with_one_object_event():
    for doc in _all():
        d = doc.document
        assert d["@context"][0] == "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
        assert d["@context"][1] == {"medchain": epcis.MEDCHAIN_NS}
        assert (d["type"], d["schemaVersion"]) == ("EPCISDocument", "2.0")
        assert d["creationDate"] == "2026-11-26T08:30:15.250Z"
        (event,) = d["epcisBody"]["eventList"]
        assert event["type"] == "ObjectEvent"
        assert event["eventTime"] == "2026-11-26T08:30:15.250Z"
        assert event["eventTimeZoneOffset"] == "+00:00"
        assert event["epcList"] or event["quantityList"]  # EPCIS: one of them is non-empty


@pytest.mark.parametrize(
    ("index", "kind", "action", "biz_step", "disposition"),
    [
        (0, "commission", "ADD", "commissioning", "active"),
        (1, "ship", "OBSERVE", "shipping", "in_transit"),
        (2, "receive", "OBSERVE", "receiving", "in_progress"),
        (3, "dispense", "OBSERVE", "dispensing", "dispensed"),
        (4, "recall", "OBSERVE", "holding", "recalled"),
    ],
)
def test_cbv_vocabulary_per_kind(index, kind, action, biz_step, disposition):
    doc = _all()[index]
    event = _event(doc)
    assert doc.kind == kind
    assert (event["action"], event["bizStep"], event["disposition"]) == (action, biz_step, disposition)


def test_only_the_add_event_carries_ilmd():
    """EPCIS allows instance/lot master data on ADD events only."""
    docs = _all()
    assert _event(docs[0])["ilmd"] == {"cbvmda:itemExpirationDate": "2027-12-31", "cbvmda:lotNumber": "L1"}
    assert all("ilmd" not in _event(d) for d in docs[1:])


def test_commission_names_lot_class_quantity_root_and_certificate():
    event = _event(_all()[0])
    assert event["quantityList"] == [
        {"epcClass": "https://id.gs1.org/01/09506000134352/10/L1", "quantity": 10}
    ]
    assert event["medchain:serialRoot"] == "0x" + "01" * 32
    assert event["medchain:certificateHash"] == "0x" + "02" * 32
    assert event["destinationList"] == [
        {
            "type": "owning_party",
            "destination": "did:pkh:eip155:31337:0x1111111111111111111111111111111111111111",
        }
    ]


def test_receive_counts_received_units_and_names_the_shipment():
    event = _event(_all()[2])
    assert event["quantityList"][0]["quantity"] == 3
    assert (event["medchain:shipmentId"], event["medchain:quantityShipped"]) == (7, 4)
    assert event["sourceList"][0]["source"].endswith(
        MAKER[2:].upper()[:0] + "1111111111111111111111111111111111111111"
    )


def test_dispense_names_the_serialised_pack():
    event = _event(_all()[3])
    assert event["epcList"] == ["https://id.gs1.org/01/09506000134352/21/SN1"]
    assert "quantityList" not in event


def test_identifiers_are_percent_encoded_digital_links():
    assert epcis.instance_uri(GTIN, "A/B C") == "https://id.gs1.org/01/09506000134352/21/A%2FB%20C"
    assert epcis.class_uri(9506000134352, "L/1") == "https://id.gs1.org/01/09506000134352/10/L%2F1"
    assert (
        epcis.party_uri(1, "0x" + "ab" * 20) == "did:pkh:eip155:1:0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    )


def test_hash_is_sha256_of_rfc8785_canonical_json():
    for doc in _all():
        assert doc.canonical == rfc8785.dumps(doc.document)
        assert doc.hash == hashlib.sha256(doc.canonical).digest()
        assert doc.hash_hex == "0x" + doc.hash.hex()
        assert epcis.epcis_hash(doc.to_json()) == doc.hash  # re-hash from the stored text


def test_hash_ignores_key_order_and_whitespace():
    doc = _all()[1]
    shuffled = json.loads(json.dumps(doc.document, sort_keys=True, indent=4))
    assert epcis.epcis_hash(shuffled) == doc.hash
    assert epcis.epcis_hash(json.dumps(doc.document, indent=None).encode()) == doc.hash


def test_documents_are_deterministic_and_time_sensitive():
    a = epcis.ship_event(
        gtin=GTIN, lot="L1", quantity=4, sender=MAKER, recipient=PHARMACY, chain_id=CHAIN, when=WHEN
    )
    b = epcis.ship_event(
        gtin=GTIN, lot="L1", quantity=4, sender=MAKER, recipient=PHARMACY, chain_id=CHAIN, when=WHEN
    )
    later = epcis.ship_event(
        gtin=GTIN,
        lot="L1",
        quantity=4,
        sender=MAKER,
        recipient=PHARMACY,
        chain_id=CHAIN,
        when=WHEN + dt.timedelta(seconds=1),
    )
    assert a.hash == b.hash != later.hash


def test_event_time_is_converted_to_utc():
    local = WHEN.astimezone(dt.timezone(dt.timedelta(hours=8)))
    doc = epcis.dispense_event(
        gtin=GTIN, lot="L1", serial="S", dispenser=PHARMACY, chain_id=CHAIN, when=local
    )
    assert _event(doc)["eventTime"] == "2026-11-26T08:30:15.250Z"


def test_naive_time_is_rejected():
    with pytest.raises(InputError, match="time zone"):
        epcis.dispense_event(
            gtin=GTIN, lot="L1", serial="S", dispenser=PHARMACY, chain_id=CHAIN, when=dt.datetime(2026, 1, 1)
        )


def test_bad_hash_length_is_rejected():
    with pytest.raises(InputError, match="32-byte"):
        epcis.recall_event(gtin=GTIN, lot="L1", by=MAKER, reason_hash=b"\x01" * 31, chain_id=CHAIN, when=WHEN)


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_epcis_hash_of_non_object_is_rejected(text):
    with pytest.raises(InputError):
        epcis.epcis_hash(text)


def test_bad_gtin_is_rejected():
    with pytest.raises(InputError, match="14 digits"):
        epcis.class_uri("123456789012345", "L1")
