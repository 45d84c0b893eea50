"""DrugTrace.dispense: proof against a shipment the dispenser received, once per serial, duplicates flagged,
not reverted (only by parties that received the serial)."""

import pytest
from brownie import chain
from drug_helpers import (
    CANCELLED,
    GTIN2_N,
    IN_TRANSIT,
    RETURNED,
    YEAR,
    ZERO_ADDRESS,
    b32,
    commission,
    dispense,
    h,
    held,
    make_batch,
    role,
    ship,
    ship_and_receive,
    shipment_proof,
    stock,
)
from helpers import SUSPEND, add_operator, reverts_with

from medchain.merkle import StandardMerkleTree
from medchain.serials import SERIAL_LEAF_ENCODING, batch_id, multi_proof, serial_inner_hash


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
    dispense(drugs, stocked, "SN000005", hospital)
    assert drugs.serialStatus(stocked.id, "SN000005")["dispensedBy"] == hospital
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


def test_duplicate_dispense_counts_and_keeps_last_member(drugs, stocked, distributor, pharmacy, hospital):
    ship_and_receive(drugs, stocked, distributor, hospital, ["SN000003"], source=1)  # listed a second time
    dispense(drugs, stocked, "SN000003", pharmacy)
    dispense(drugs, stocked, "SN000003", pharmacy)
    tx = dispense(drugs, stocked, "SN000003", hospital)
    assert tx.events["DuplicateDispenseFlagged"]["duplicateCount"] == 2
    s = drugs.serialStatus(stocked.id, "SN000003")
    assert (s["duplicateCount"], s["lastDuplicateBy"], s["lastDuplicateAt"]) == (2, hospital, tx.timestamp)
    assert s["dispensedBy"] == pharmacy


def test_dispense_of_serial_held_elsewhere_reverts(drugs, stocked, pharmacy, hospital):
    """Issue 12 item 8: the pharmacy holds units of the batch, but SN000005 sits at the hospital. Before the
    fix, its batch proof dispensed it, and the hospital's genuine sale was then flagged as a duplicate."""
    with reverts_with("DrugTraceSerialNotInShipment", 2, "SN000005"):
        dispense(drugs, stocked, "SN000005", pharmacy, shipment=2)
    with reverts_with("DrugTraceNotRecipient", 3, pharmacy, hospital):
        dispense(drugs, stocked, "SN000005", pharmacy, shipment=3)
    assert dispense(drugs, stocked, "SN000005", hospital).return_value is True


def test_duplicate_scan_only_by_a_party_that_received_the_serial(drugs, stocked, pharmacy, hospital):
    """A member that never received the serial cannot flag it (flags are evidence, not vandalism)."""
    dispense(drugs, stocked, "SN000000", pharmacy)
    with reverts_with("DrugTraceSerialNotInShipment", 3, "SN000000"):
        dispense(drugs, stocked, "SN000000", hospital, shipment=3)
    assert drugs.serialStatus(stocked.id, "SN000000")["duplicateCount"] == 0


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
    with reverts_with("DrugTraceSerialNotInShipment", 2, "SN000003"):
        drugs.dispense(
            stocked.id, 2, "SN000003", shipment_proof(stocked, 2, "SN000002"), h("d"), {"from": pharmacy}
        )


# ---- proofs ----


def test_dispense_with_proof_of_other_serial_reverts(drugs, stocked, pharmacy):
    with reverts_with("DrugTraceSerialNotInShipment", 2, "SN000003"):
        drugs.dispense(
            stocked.id, 2, "SN000003", shipment_proof(stocked, 2, "SN000002"), h("d"), {"from": pharmacy}
        )


def test_dispense_unknown_serial_reverts(drugs, stocked, pharmacy):
    with reverts_with("DrugTraceSerialNotInShipment", 2, "FAKE0001"):
        drugs.dispense(
            stocked.id, 2, "FAKE0001", shipment_proof(stocked, 2, "SN000002"), h("d"), {"from": pharmacy}
        )


def test_dispense_with_empty_proof_reverts(drugs, stocked, pharmacy):
    with reverts_with("DrugTraceSerialNotInShipment", 2, "SN000003"):
        drugs.dispense(stocked.id, 2, "SN000003", [], h("d"), {"from": pharmacy})


def test_dispense_with_batch_proof_reverts(drugs, stocked, pharmacy):
    """The batch tree's proof does not place a serial in a shipment's tree."""
    with reverts_with("DrugTraceSerialNotInShipment", 2, "SN000003"):
        drugs.dispense(stocked.id, 2, "SN000003", stocked.proof("SN000003"), h("d"), {"from": pharmacy})


def test_dispense_serial_of_other_batch_reverts(drugs, stocked, manufacturer, pharmacy):
    """The leaf binds the batch id: a genuine serial of lot B does not pass in a shipment of lot A."""
    other = commission(drugs, manufacturer, make_batch(lot="LOT-B"))  # same serial numbers, other lot
    assert "SN000003" in other.serials
    with reverts_with("DrugTraceSerialNotInShipment", 2, "SN000003"):
        drugs.dispense(stocked.id, 2, "SN000003", other.proof("SN000003"), h("d"), {"from": pharmacy})


def test_dispense_from_unknown_shipment_reverts(drugs, pharmacy):
    with reverts_with("DrugTraceUnknownShipment", 99):
        drugs.dispense(h("nope"), 99, "SN000003", [], h("d"), {"from": pharmacy})


def test_dispense_from_shipment_in_transit_reverts(drugs, batch, manufacturer, pharmacy):
    sid = ship(drugs, batch, manufacturer, pharmacy, 2).return_value
    with reverts_with("DrugTraceShipmentNotReceived", sid, IN_TRANSIT):
        dispense(drugs, batch, "SN000000", pharmacy)


@pytest.mark.parametrize("how", ["cancel", "return"])
def test_dispense_from_cancelled_or_returned_shipment_reverts(drugs, batch, manufacturer, pharmacy, how):
    sid = ship(drugs, batch, manufacturer, pharmacy, 2).return_value
    if how == "cancel":
        drugs.cancelShipment(sid, h("cancel"), {"from": manufacturer})
    else:
        drugs.returnShipment(sid, h("return"), {"from": pharmacy})
    with reverts_with("DrugTraceShipmentNotReceived", sid, CANCELLED if how == "cancel" else RETURNED):
        dispense(drugs, batch, "SN000000", pharmacy)


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


def test_dispense_without_stock_reverts(drugs, batch, manufacturer, pharmacy):
    """A short receipt: two serials listed, one unit arrived; the second dispense finds no stock."""
    sid = ship(drugs, batch, manufacturer, pharmacy, 2).return_value
    drugs.receiveShipment(sid, 1, h("receive"), {"from": pharmacy})
    dispense(drugs, batch, "SN000000", pharmacy)
    with reverts_with("DrugTraceInsufficientStock", b32(batch.id), pharmacy, 0, 1):
        dispense(drugs, batch, "SN000001", pharmacy)


def test_dispense_more_serials_than_held_reverts(drugs, batch, manufacturer, pharmacy):
    ship_and_receive(drugs, batch, manufacturer, pharmacy, 1)
    dispense(drugs, batch, "SN000000", pharmacy)
    with reverts_with("DrugTraceSerialNotInShipment", 1, "SN000001"):
        dispense(drugs, batch, "SN000001", pharmacy, shipment=1)


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


def test_foreign_leaf_hidden_in_another_batch_tree_does_not_dispense(drugs, stocked, maker2, pharmacy):
    """A manufacturer hides lot A's serial leaf in its own batch's tree, ships it, and a pharmacy holding
    stock of A dispenses it: the shipment's commitment binds its own batch, so the proof fails."""
    own = bytes.fromhex(batch_id(GTIN2_N, "B-1").hex())
    foreign = bytes.fromhex(stocked.id[2:])
    tree = StandardMerkleTree.of([(foreign, "SN000005"), (own, "X1")], SERIAL_LEAF_ENCODING)
    root = "0x" + tree.root.hex()
    drugs.commissionBatch(GTIN2_N, "B-1", chain.time() + YEAR, 2, root, h("c"), h("e"), {"from": maker2})
    index = tree.index_of((foreign, "SN000005"))
    _, proof, flags = multi_proof(tree, [index])
    serials = (0, [serial_inner_hash(foreign, "SN000005")], proof, flags)
    sid = drugs.ship("0x" + own.hex(), pharmacy, serials, h("s"), {"from": maker2}).return_value
    drugs.receiveShipment(sid, 1, h("r"), {"from": pharmacy})
    with reverts_with("DrugTraceSerialNotInShipment", sid, "SN000005"):
        drugs.dispense(stocked.id, sid, "SN000005", [], h("d"), {"from": pharmacy})
