"""DrugTrace consumer views: verify (with proof), serialStatus (without), batchInfo, shipments."""

from brownie import chain
from drug_helpers import (
    ACTIVE,
    GTIN_N,
    IN_TRANSIT,
    NONE,
    RECALLED,
    RECEIVED,
    YEAR,
    ZERO_ADDRESS,
    commission,
    dispense,
    h,
    make_batch,
    ship,
    ship_and_receive,
)


def _verify(drugs, batch, serial, proof_of=None, lot=None):
    return drugs.verify(batch.gtin, lot or batch.lot, serial, batch.proof(proof_of or serial))


def test_verify_genuine_fresh_serial(drugs, batch):
    s = _verify(drugs, batch, "SN000005")
    assert s["batchExists"] is True
    assert s["genuine"] is True
    assert s["batchStatus"] == ACTIVE
    assert (s["recalled"], s["expired"], s["dispensed"]) == (False, False, False)
    assert s["expiry"] == batch.expiry
    assert s["duplicateCount"] == 0
    assert s["lastDuplicateBy"] == ZERO_ADDRESS


def test_verify_with_wrong_proof_is_not_genuine(drugs, batch):
    assert _verify(drugs, batch, "SN000005", proof_of="SN000006")["genuine"] is False


def test_verify_unknown_serial_is_not_genuine(drugs, batch):
    assert drugs.verify(batch.gtin, batch.lot, "COUNTERFEIT", batch.proof("SN000006"))["genuine"] is False


def test_verify_serial_under_wrong_lot_is_not_genuine(drugs, batch, manufacturer):
    other = commission(drugs, manufacturer, make_batch(lot="LOT-B"))
    s = drugs.verify(GTIN_N, "LOT-B", "SN000005", batch.proof("SN000005"))
    assert s["batchExists"] is True
    assert s["genuine"] is False
    assert drugs.verify(GTIN_N, "LOT-B", "SN000005", other.proof("SN000005"))["genuine"] is True


def test_verify_unknown_batch(drugs, batch):
    s = drugs.verify(GTIN_N, "NO-SUCH-LOT", "SN000005", batch.proof("SN000005"))
    assert s["batchExists"] is False
    assert s["genuine"] is False
    assert s["batchStatus"] == NONE
    assert s["expired"] is False


def test_verify_dispensed_serial_shows_when_and_where(drugs, stocked, pharmacy):
    tx = dispense(drugs, stocked, "SN000002", pharmacy)
    s = _verify(drugs, stocked, "SN000002")
    assert (s["genuine"], s["dispensed"]) == (True, True)
    assert (s["dispensedAt"], s["dispensedBy"]) == (tx.timestamp, pharmacy)


def test_verify_duplicate_flags(drugs, stocked, distributor, pharmacy, hospital):
    ship_and_receive(drugs, stocked, distributor, hospital, ["SN000002"], source=1)  # listed twice
    dispense(drugs, stocked, "SN000002", pharmacy)
    tx = dispense(drugs, stocked, "SN000002", hospital)
    s = _verify(drugs, stocked, "SN000002")
    assert (s["duplicateCount"], s["lastDuplicateBy"], s["lastDuplicateAt"]) == (1, hospital, tx.timestamp)


def test_verify_recalled_batch(drugs, batch, council):
    drugs.recall(batch.id, h("reason"), h("recall"), {"from": council})
    s = _verify(drugs, batch, "SN000005")
    assert (s["genuine"], s["recalled"], s["batchStatus"]) == (True, True, RECALLED)


def test_verify_expired_batch(drugs, batch):
    chain.sleep(YEAR + 3600)
    chain.mine()
    s = _verify(drugs, batch, "SN000005")
    assert (s["genuine"], s["expired"], s["recalled"]) == (True, True, False)


def test_serial_status_without_proof(drugs, stocked, pharmacy):
    fresh = drugs.serialStatus(stocked.id, "SN000002")
    assert (fresh["batchExists"], fresh["genuine"], fresh["dispensed"]) == (True, False, False)
    dispense(drugs, stocked, "SN000002", pharmacy)
    done = drugs.serialStatus(stocked.id, "SN000002")
    assert (done["genuine"], done["dispensed"], done["dispensedBy"]) == (True, True, pharmacy)


def test_serial_status_unknown_batch(drugs):
    s = drugs.serialStatus(h("nope"), "SN000005")
    assert (s["batchExists"], s["genuine"], s["expired"], s["recalled"]) == (False, False, False, False)


def test_batch_info(drugs, stocked, manufacturer):
    info = drugs.batchInfo(stocked.id)
    assert info["batchId"] == stocked.id
    assert info["productName"] == "Amoxicillin 500 mg capsules"
    assert info["expired"] is False
    b = info["batch"]
    assert (b["lot"], b["quantity"], b["manufacturer"], b["status"]) == ("LOT42", 16, manufacturer, ACTIVE)


def test_batch_info_expired_and_recalled(drugs, batch, council):
    drugs.recall(batch.id, h("reason"), h("recall"), {"from": council})
    chain.sleep(YEAR + 3600)
    chain.mine()
    info = drugs.batchInfo(batch.id)
    assert info["expired"] is True
    assert info["batch"]["status"] == RECALLED
    assert info["batch"]["recallReasonHash"] == h("reason")


def test_batch_info_unknown_batch(drugs):
    info = drugs.batchInfo(h("nope"))
    assert (info["expired"], info["batch"]["status"], info["productName"]) == (False, NONE, "")


def test_shipment_status_follows_receipt(drugs, batch, manufacturer, distributor):
    sid = ship(drugs, batch, manufacturer, distributor, 3, h("ship")).return_value
    assert drugs.getShipment(sid)["status"] == IN_TRANSIT
    drugs.receiveShipment(sid, 3, h("recv"), {"from": distributor})
    assert drugs.getShipment(sid)["status"] == RECEIVED
