"""DrugTrace.dispense: proof against the serial root, once per serial, duplicates flagged not reverted."""

import pytest
from brownie import chain
from drug_helpers import (
    YEAR,
    ZERO_ADDRESS,
    b32,
    commission,
    dispense,
    h,
    held,
    make_batch,
    role,
    ship_and_receive,
    stock,
)
from helpers import SUSPEND, add_operator, reverts_with


def test_dispense_records_first_dispense(drugs, stocked, pharmacy):
    tx = dispense(drugs, stocked, "SN000003", pharmacy)
    assert tx.return_value is True
    s = drugs.serialStatus(stocked.id, "SN000003")
    assert s["dispensed"] is True
    assert (s["dispensedAt"], s["dispensedBy"]) == (tx.timestamp, pharmacy)
    assert s["duplicateCount"] == 0


def test_dispense_takes_one_unit(drugs, stocked, pharmacy):
    dispense(drugs, stocked, "SN000003", pharmacy)
    assert stock(drugs, stocked.id, pharmacy) == (3, 1)


def test_dispense_emits_drug_dispensed(drugs, stocked, pharmacy):
    tx = dispense(drugs, stocked, "SN000003", pharmacy, epcis=h("dispense-doc"))
    assert tx.events["DrugDispensed"] == {
        "batchId": stocked.id,
        "serialLeaf": drugs.serialLeaf(stocked.id, "SN000003"),
        "member": pharmacy,
        "epcisHash": h("dispense-doc"),
    }
    assert "DuplicateDispenseFlagged" not in tx.events


def test_dispense_by_hospital(drugs, stocked, hospital):
    dispense(drugs, stocked, "SN000001", hospital)
    assert drugs.serialStatus(stocked.id, "SN000001")["dispensedBy"] == hospital
    assert held(drugs, stocked.id, hospital) == 2


def test_dispense_by_operator_key_records_member(drugs, consortium, stocked, pharmacy, operator):
    add_operator(consortium, pharmacy, operator)
    tx = dispense(drugs, stocked, "SN000002", operator)
    assert tx.events["DrugDispensed"]["member"] == pharmacy
    assert held(drugs, stocked.id, pharmacy) == 3


def test_dispense_every_serial_in_a_batch(drugs, batch, manufacturer, pharmacy):
    ship_and_receive(drugs, batch, manufacturer, pharmacy, batch.quantity)
    for serial in batch.serials:
        assert dispense(drugs, batch, serial, pharmacy).return_value is True
    assert stock(drugs, batch.id, pharmacy) == (0, batch.quantity)


# ---- duplicates ----


def test_dispense_twice_flags_duplicate_without_revert(drugs, stocked, pharmacy):
    first = dispense(drugs, stocked, "SN000003", pharmacy)
    tx = dispense(drugs, stocked, "SN000003", pharmacy, epcis=h("second-scan"))
    assert tx.return_value is False
    assert tx.events["DuplicateDispenseFlagged"] == {
        "batchId": stocked.id,
        "serialLeaf": drugs.serialLeaf(stocked.id, "SN000003"),
        "member": pharmacy,
        "duplicateCount": 1,
        "epcisHash": h("second-scan"),
    }
    assert "DrugDispensed" not in tx.events
    s = drugs.serialStatus(stocked.id, "SN000003")
    assert (s["dispensedAt"], s["dispensedBy"]) == (first.timestamp, pharmacy)  # first dispense kept
    assert (s["duplicateCount"], s["lastDuplicateBy"], s["lastDuplicateAt"]) == (1, pharmacy, tx.timestamp)


def test_duplicate_dispense_does_not_take_stock(drugs, stocked, pharmacy):
    dispense(drugs, stocked, "SN000003", pharmacy)
    dispense(drugs, stocked, "SN000003", pharmacy)
    assert stock(drugs, stocked.id, pharmacy) == (3, 1)


def test_duplicate_dispense_counts_and_keeps_last_member(drugs, stocked, pharmacy, hospital):
    dispense(drugs, stocked, "SN000003", pharmacy)
    dispense(drugs, stocked, "SN000003", pharmacy)
    tx = dispense(drugs, stocked, "SN000003", hospital)
    assert tx.events["DuplicateDispenseFlagged"]["duplicateCount"] == 2
    s = drugs.serialStatus(stocked.id, "SN000003")
    assert (s["duplicateCount"], s["lastDuplicateBy"], s["lastDuplicateAt"]) == (2, hospital, tx.timestamp)
    assert s["dispensedBy"] == pharmacy


def test_duplicate_dispense_by_member_without_stock_is_flagged(
    drugs, batch, manufacturer, pharmacy, hospital
):
    """A second scan elsewhere is evidence (cloned code or diverted pack) even where no stock is held."""
    ship_and_receive(drugs, batch, manufacturer, pharmacy, 1)
    dispense(drugs, batch, "SN000000", pharmacy)
    tx = dispense(drugs, batch, "SN000000", hospital)
    assert tx.return_value is False
    assert drugs.serialStatus(batch.id, "SN000000")["lastDuplicateBy"] == hospital


def test_duplicate_dispense_after_recall_is_flagged(drugs, stocked, manufacturer, pharmacy):
    dispense(drugs, stocked, "SN000003", pharmacy)
    drugs.recall(stocked.id, h("reason"), h("recall"), {"from": manufacturer})
    tx = dispense(drugs, stocked, "SN000003", pharmacy)
    assert tx.events["DuplicateDispenseFlagged"]["duplicateCount"] == 1


def test_duplicate_dispense_after_expiry_is_flagged(drugs, stocked, pharmacy):
    dispense(drugs, stocked, "SN000003", pharmacy)
    chain.sleep(YEAR + 3600)
    chain.mine()
    tx = dispense(drugs, stocked, "SN000003", pharmacy)
    assert tx.return_value is False


def test_duplicate_dispense_with_bad_proof_reverts(drugs, stocked, pharmacy):
    dispense(drugs, stocked, "SN000003", pharmacy)
    with reverts_with("DrugTraceInvalidSerialProof", b32(stocked.id), "SN000003"):
        drugs.dispense(stocked.id, "SN000003", stocked.proof("SN000004"), h("d"), {"from": pharmacy})


# ---- proofs ----


def test_dispense_with_proof_of_other_serial_reverts(drugs, stocked, pharmacy):
    with reverts_with("DrugTraceInvalidSerialProof", b32(stocked.id), "SN000003"):
        drugs.dispense(stocked.id, "SN000003", stocked.proof("SN000004"), h("d"), {"from": pharmacy})


def test_dispense_unknown_serial_reverts(drugs, stocked, pharmacy):
    with reverts_with("DrugTraceInvalidSerialProof", b32(stocked.id), "FAKE0001"):
        drugs.dispense(stocked.id, "FAKE0001", stocked.proof("SN000004"), h("d"), {"from": pharmacy})


def test_dispense_with_empty_proof_reverts(drugs, stocked, pharmacy):
    with reverts_with("DrugTraceInvalidSerialProof", b32(stocked.id), "SN000003"):
        drugs.dispense(stocked.id, "SN000003", [], h("d"), {"from": pharmacy})


def test_dispense_serial_of_other_batch_reverts(drugs, stocked, manufacturer, pharmacy):
    """The leaf binds the batch id: a genuine serial and proof of lot B do not pass as lot A."""
    other = commission(drugs, manufacturer, make_batch(lot="LOT-B"))  # same serial numbers, other lot
    assert "SN000003" in other.serials
    with reverts_with("DrugTraceInvalidSerialProof", b32(stocked.id), "SN000003"):
        drugs.dispense(stocked.id, "SN000003", other.proof("SN000003"), h("d"), {"from": pharmacy})


def test_dispense_of_unknown_batch_reverts(drugs, pharmacy):
    with reverts_with("DrugTraceUnknownBatch", b32(h("nope"))):
        drugs.dispense(h("nope"), "SN000003", [], h("d"), {"from": pharmacy})


# ---- roles and state ----


@pytest.mark.parametrize("who", ["manufacturer", "distributor", "insurer", "council", "stranger"])
def test_dispense_without_pharmacy_or_hospital_role_reverts(drugs, stocked, who, request):
    account = request.getfixturevalue(who)
    with reverts_with("DrugTraceUnauthorized", account, role("PHARMACY")):
        dispense(drugs, stocked, "SN000003", account)


def test_dispense_by_suspended_pharmacy_reverts(drugs, consortium, council, stocked, pharmacy):
    tx = consortium.propose(SUSPEND, pharmacy, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts_with("DrugTraceUnauthorized", pharmacy, role("PHARMACY")):
        dispense(drugs, stocked, "SN000003", pharmacy)


def test_dispense_without_stock_reverts(drugs, batch, pharmacy):
    with reverts_with("DrugTraceInsufficientStock", b32(batch.id), pharmacy, 0, 1):
        dispense(drugs, batch, "SN000003", pharmacy)


def test_dispense_more_serials_than_held_reverts(drugs, batch, manufacturer, pharmacy):
    ship_and_receive(drugs, batch, manufacturer, pharmacy, 1)
    dispense(drugs, batch, "SN000000", pharmacy)
    with reverts_with("DrugTraceInsufficientStock", b32(batch.id), pharmacy, 0, 1):
        dispense(drugs, batch, "SN000001", pharmacy)


def test_dispense_recalled_batch_reverts(drugs, stocked, manufacturer, pharmacy):
    tx = drugs.recall(stocked.id, h("reason"), h("recall"), {"from": manufacturer})
    with reverts_with("DrugTraceBatchRecalled", b32(stocked.id), tx.timestamp):
        dispense(drugs, stocked, "SN000003", pharmacy)


def test_dispense_expired_batch_reverts(drugs, stocked, pharmacy):
    chain.sleep(YEAR + 3600)
    chain.mine()
    with reverts_with("DrugTraceBatchExpired", b32(stocked.id), stocked.expiry):
        dispense(drugs, stocked, "SN000003", pharmacy)


def test_dispense_on_expiry_second_is_allowed(drugs, stocked, pharmacy, web3):
    """Expired means block.timestamp > expiry: the expiry second itself still dispenses."""
    web3.provider.make_request("evm_setNextBlockTimestamp", [stocked.expiry])
    tx = dispense(drugs, stocked, "SN000003", pharmacy)
    assert tx.timestamp == stocked.expiry
    assert tx.return_value is True


def test_undispensed_serial_has_no_dispenser(drugs, stocked):
    s = drugs.serialStatus(stocked.id, "SN000003")
    assert (s["dispensed"], s["dispensedBy"], s["dispensedAt"]) == (False, ZERO_ADDRESS, 0)
