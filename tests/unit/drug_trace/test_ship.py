"""DrugTrace.ship: holders send listed serials to eligible members; in-transit accounting; serial roots proven
against the source; recall/expiry quarantine."""

import pytest
from brownie import chain
from drug_helpers import (
    IN_TRANSIT,
    YEAR,
    ZERO_ADDRESS,
    assert_conserved,
    b32,
    commission,
    commitment,
    h,
    held,
    make_batch,
    ship,
    ship_and_receive,
)
from helpers import SUSPEND, add_operator, reverts_with

from medchain.serials import SerialTree, serial_set, whole_source


def test_ship_moves_stock_to_in_transit(drugs, batch, manufacturer, distributor):
    ship(drugs, batch, manufacturer, distributor, 10, h("ship"))
    assert held(drugs, batch.id, manufacturer) == 6
    assert held(drugs, batch.id, distributor) == 0
    assert drugs.getBatch(batch.id)["inTransit"] == 10
    assert_conserved(drugs, batch.id, [manufacturer, distributor])


def test_ship_stores_shipment(drugs, batch, manufacturer, distributor):
    tx = ship(drugs, batch, manufacturer, distributor, 10, h("ship"))
    s = drugs.getShipment(tx.return_value)
    assert s["status"] == IN_TRANSIT
    assert s["batchId"] == batch.id
    assert (s["from"], s["to"]) == (manufacturer, distributor)
    assert (s["quantity"], s["quantityReceived"]) == (10, 0)
    assert (s["shippedAt"], s["receivedAt"]) == (tx.timestamp, 0)
    assert s["serialCommitment"] == commitment(batch.id, batch.shipments[1][2].root)


def test_ship_returns_sequential_ids(drugs, batch, manufacturer, distributor, pharmacy):
    first = ship(drugs, batch, manufacturer, distributor, 1, h("s1")).return_value
    second = ship(drugs, batch, manufacturer, pharmacy, 1, h("s2")).return_value
    assert (first, second) == (1, 2)
    assert drugs.shipmentCount() == 2


def test_ship_emits_drug_shipped(drugs, batch, manufacturer, distributor):
    tx = ship(drugs, batch, manufacturer, distributor, 10, h("ship-doc"))
    assert tx.events["DrugShipped"] == {
        "batchId": batch.id,
        "shipmentId": 1,
        "from": manufacturer,
        "to": distributor,
        "quantity": 10,
        "source": 0,
        "serialRoot": "0x" + batch.shipments[1][2].root.hex(),
        "epcisHash": h("ship-doc"),
    }


@pytest.mark.parametrize("recipient", ["distributor", "pharmacy", "hospital"])
def test_ship_to_each_holding_role(drugs, batch, manufacturer, recipient, request):
    to = request.getfixturevalue(recipient)
    ship_and_receive(drugs, batch, manufacturer, to, 2)
    assert held(drugs, batch.id, to) == 2


def test_ship_onward_by_a_holder(drugs, stocked, distributor, distributor2, pharmacy, hospital):
    ship_and_receive(drugs, stocked, distributor, distributor2, 3)
    ship_and_receive(drugs, stocked, pharmacy, hospital, 1)  # pharmacy -> hospital transfer
    assert held(drugs, stocked.id, distributor2) == 3
    assert held(drugs, stocked.id, hospital) == 4


def test_ship_by_operator_key_ships_member_stock(drugs, consortium, stocked, distributor, pharmacy, operator):
    add_operator(consortium, distributor, operator)
    tx = ship(drugs, stocked, operator, pharmacy, 2, h("ship"), source=1)
    assert tx.events["DrugShipped"]["from"] == distributor
    assert held(drugs, stocked.id, distributor) == 1


def test_ship_by_non_member_reverts(drugs, batch, stranger, distributor):
    with reverts_with("DrugTraceNotMember", stranger):
        ship(drugs, batch, stranger, distributor, 1, h("ship"))


def test_ship_by_suspended_member_reverts(drugs, consortium, council, stocked, distributor, pharmacy):
    tx = consortium.propose(SUSPEND, distributor, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts_with("DrugTraceNotMember", distributor):
        ship(drugs, stocked, distributor, pharmacy, 1, h("ship"))


def test_ship_of_unknown_batch_reverts(drugs, batch, manufacturer, distributor):
    with reverts_with("DrugTraceUnknownBatch", b32(h("nope"))):
        ship(drugs, batch, manufacturer, distributor, 1, batch_id_=h("nope"))


def test_ship_no_serials_without_proof_reverts(drugs, batch, manufacturer, distributor):
    with reverts_with("MerkleProofInvalidMultiproof"):
        ship(drugs, batch, manufacturer, distributor, 0, h("ship"))


def test_ship_whole_source_of_nothing_reverts(drugs, batch, manufacturer, distributor, pharmacy):
    sid = ship(drugs, batch, manufacturer, distributor, 3).return_value
    drugs.receiveShipment(sid, 0, h("nothing arrived"), {"from": distributor})
    whole = whole_source(batch.shipments[sid][2], sid)
    with reverts_with("DrugTraceInvalidQuantity", 0):
        drugs.ship(batch.id, pharmacy, whole.as_arg(), h("ship"), {"from": distributor})


def test_ship_whole_batch_at_fixed_cost(drugs, batch, manufacturer, distributor):
    tx = drugs.ship(
        batch.id, distributor, whole_source(batch.tree).as_arg(), h("ship"), {"from": manufacturer}
    )
    assert tx.events["DrugShipped"]["quantity"] == batch.quantity
    assert tx.events["DrugShipped"]["serialRoot"] == "0x" + batch.tree.root.hex()
    assert held(drugs, batch.id, manufacturer) == 0


def test_forward_whole_received_shipment(drugs, batch, manufacturer, distributor, pharmacy):
    sid = ship(drugs, batch, manufacturer, distributor, 5).return_value
    drugs.receiveShipment(sid, 4, h("one missing"), {"from": distributor})
    tree = batch.shipments[sid][2]
    tx = drugs.ship(batch.id, pharmacy, whole_source(tree, sid).as_arg(), h("ship"), {"from": distributor})
    assert tx.events["DrugShipped"]["quantity"] == 4  # what arrived
    assert (
        drugs.getShipment(tx.return_value)["serialCommitment"] == drugs.getShipment(sid)["serialCommitment"]
    )


def test_whole_batch_once_shipped_from_cannot_go_whole_again(drugs, batch, manufacturer, distributor):
    ship(drugs, batch, manufacturer, distributor, 1)
    with reverts_with("DrugTraceInsufficientStock", b32(batch.id), manufacturer, 15, 16):
        drugs.ship(
            batch.id, distributor, whole_source(batch.tree).as_arg(), h("ship"), {"from": manufacturer}
        )


def test_ship_more_than_held_reverts(drugs, batch, manufacturer, distributor):
    """Serials already shipped are still leaves of the batch tree: the stock count bounds what goes out."""
    ship(drugs, batch, manufacturer, distributor, 10, h("ship"))
    again = list(batch.serials[9:])  # SN000009 is on its way already
    with reverts_with("DrugTraceInsufficientStock", b32(batch.id), manufacturer, 6, 7):
        ship(drugs, batch, manufacturer, distributor, again, h("ship"))


def test_ship_without_stock_reverts(drugs, batch, manufacturer, distributor, pharmacy):
    sid = ship_and_receive(drugs, batch, manufacturer, distributor, 2)
    ship(drugs, batch, distributor, pharmacy, 2, source=sid)
    with reverts_with("DrugTraceInsufficientStock", b32(batch.id), distributor, 0, 1):
        ship(drugs, batch, distributor, pharmacy, ["SN000000"], source=sid)


def test_ship_units_in_transit_cannot_be_shipped_again(drugs, batch, manufacturer, distributor, pharmacy):
    sid = ship(drugs, batch, manufacturer, distributor, 16, h("ship")).return_value
    with reverts_with("DrugTraceInsufficientStock", b32(batch.id), manufacturer, 0, 1):
        ship(drugs, batch, manufacturer, pharmacy, ["SN000000"], h("ship"))
    with reverts_with("DrugTraceShipmentNotReceived", sid, IN_TRANSIT):
        ship(drugs, batch, distributor, pharmacy, ["SN000000"], h("ship"), source=sid)


@pytest.mark.parametrize("recipient", ["insurer", "auditor", "council", "maker2", "stranger"])
def test_ship_to_member_without_holding_role_reverts(drugs, batch, manufacturer, recipient, request):
    to = request.getfixturevalue(recipient)
    with reverts_with("DrugTraceInvalidRecipient", b32(batch.id), to):
        ship(drugs, batch, manufacturer, to, 1, h("ship"))


def test_ship_to_zero_address_reverts(drugs, batch, manufacturer):
    with reverts_with("DrugTraceInvalidRecipient", b32(batch.id), ZERO_ADDRESS):
        ship(drugs, batch, manufacturer, ZERO_ADDRESS, 1, h("ship"))


def test_ship_to_self_reverts(drugs, stocked, distributor):
    with reverts_with("DrugTraceInvalidRecipient", b32(stocked.id), distributor):
        ship(drugs, stocked, distributor, distributor, 1, h("ship"))


def test_ship_to_operator_key_reverts(drugs, consortium, batch, manufacturer, pharmacy, operator):
    """Stock is held by member addresses; an operator key is not a recipient."""
    add_operator(consortium, pharmacy, operator)
    with reverts_with("DrugTraceInvalidRecipient", b32(batch.id), operator):
        ship(drugs, batch, manufacturer, operator, 1, h("ship"))


def test_ship_to_suspended_member_reverts(drugs, consortium, council, batch, manufacturer, pharmacy):
    tx = consortium.propose(SUSPEND, pharmacy, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts_with("DrugTraceInvalidRecipient", b32(batch.id), pharmacy):
        ship(drugs, batch, manufacturer, pharmacy, 1, h("ship"))


def test_ship_recalled_batch_reverts(drugs, stocked, manufacturer, distributor, pharmacy):
    tx = drugs.recall(stocked.id, h("reason"), h("recall"), {"from": manufacturer})
    with reverts_with("DrugTraceBatchRecalled", b32(stocked.id), tx.timestamp):
        ship(drugs, stocked, distributor, pharmacy, 1, h("ship"))


def test_ship_recalled_batch_back_to_manufacturer(drugs, stocked, manufacturer, pharmacy):
    drugs.recall(stocked.id, h("reason"), h("recall"), {"from": manufacturer})
    ship_and_receive(drugs, stocked, pharmacy, manufacturer, 4)
    assert held(drugs, stocked.id, manufacturer) == 6 + 4


def test_ship_expired_batch_reverts(drugs, stocked, distributor, pharmacy):
    chain.sleep(YEAR + 3600)
    chain.mine()
    with reverts_with("DrugTraceBatchExpired", b32(stocked.id), stocked.expiry):
        ship(drugs, stocked, distributor, pharmacy, 1, h("ship"))


def test_ship_expired_batch_back_to_manufacturer(drugs, stocked, manufacturer, distributor):
    chain.sleep(YEAR + 3600)
    chain.mine()
    ship_and_receive(drugs, stocked, distributor, manufacturer, 3)
    assert held(drugs, stocked.id, manufacturer) == 9


def test_ship_return_to_suspended_manufacturer_reverts(
    drugs, consortium, council, stocked, manufacturer, pharmacy
):
    tx = consortium.propose(SUSPEND, manufacturer, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts_with("DrugTraceInvalidRecipient", b32(stocked.id), manufacturer):
        ship(drugs, stocked, pharmacy, manufacturer, 1, h("ship"))


def test_ship_to_other_manufacturer_is_not_a_return(drugs, stocked, maker2, pharmacy):
    with reverts_with("DrugTraceInvalidRecipient", b32(stocked.id), maker2):
        ship(drugs, stocked, pharmacy, maker2, 1, h("ship"))


# ---- serials and their source (issue 12, item 8) ----


def test_ship_root_is_the_standard_tree_of_the_serials(drugs, batch, manufacturer, distributor):
    serials = ["SN000007", "SN000002", "SN000011"]
    tx = ship(drugs, batch, manufacturer, distributor, serials)
    expected = SerialTree.of(bytes.fromhex(batch.id[2:]), serials).root
    assert drugs.getShipment(tx.return_value)["serialCommitment"] == commitment(batch.id, expected)
    assert tx.events["DrugShipped"]["serialRoot"] == "0x" + expected.hex()
    assert tx.events["DrugShipped"]["quantity"] == 3


def test_ship_whole_batch_root_equals_batch_root(drugs, batch, manufacturer, distributor):
    tx = ship(drugs, batch, manufacturer, distributor, list(batch.serials))
    assert tx.events["DrugShipped"]["serialRoot"] == "0x" + batch.tree.root.hex()


def test_reship_draws_from_a_received_shipment(drugs, stocked, distributor, pharmacy):
    tx = ship(drugs, stocked, distributor, pharmacy, ["SN000008", "SN000009"], source=1)
    assert tx.events["DrugShipped"]["source"] == 1


def test_reship_of_serial_not_received_reverts(drugs, stocked, distributor, pharmacy):
    """SN000012 never reached the distributor: it is not in shipment 1 (the multiproof fails)."""
    received = SerialTree.of(bytes.fromhex(stocked.id[2:]), list(stocked.serials[:9]) + ["SN000012"])
    forged = serial_set(received, ["SN000012"], 1)
    with reverts_with("DrugTraceSerialsNotInSource", b32(stocked.id), 1):
        drugs.ship(stocked.id, pharmacy, forged.as_arg(), h("ship"), {"from": distributor})


def test_ship_from_batch_tree_by_non_manufacturer_reverts(
    drugs, stocked, distributor, manufacturer, pharmacy
):
    with reverts_with("DrugTraceNotManufacturer", distributor, distributor, manufacturer):
        ship(drugs, stocked, distributor, pharmacy, ["SN000013"], source=0)


def test_ship_from_shipment_of_another_member_reverts(drugs, stocked, distributor, pharmacy, hospital):
    with reverts_with("DrugTraceNotRecipient", 3, pharmacy, hospital):
        ship(drugs, stocked, pharmacy, distributor, ["SN000004"], source=3)


def test_ship_from_shipment_of_another_batch_reverts(drugs, stocked, manufacturer, distributor, pharmacy):
    other = commission(drugs, manufacturer, make_batch(lot="LOT-B"))
    sid = ship_and_receive(drugs, other, manufacturer, distributor, 2)
    serials = serial_set(other.shipments[sid][2], ["SN000000"], sid)
    with reverts_with("DrugTraceWrongBatch", sid, b32(other.id), b32(stocked.id)):
        drugs.ship(stocked.id, pharmacy, serials.as_arg(), h("ship"), {"from": distributor})


def test_ship_unsorted_or_repeated_serials_reverts(drugs, batch, manufacturer, distributor):
    good = serial_set(batch.tree, ["SN000001", "SN000002", "SN000003"])
    source, hashes, proof, flags = good.as_arg()
    with reverts_with("DrugTraceSerialsNotSorted", 1):
        drugs.ship(
            batch.id,
            distributor,
            (source, [hashes[1], hashes[0], hashes[2]], proof, flags),
            h("s"),
            {"from": manufacturer},
        )
    with reverts_with("DrugTraceSerialsNotSorted", 2):
        drugs.ship(
            batch.id,
            distributor,
            (source, [hashes[0], hashes[1], hashes[1]], proof, flags),
            h("s"),
            {"from": manufacturer},
        )


def test_ship_internal_node_as_serial_reverts(drugs, batch, manufacturer, distributor):
    """Shipments list inner hashes: an internal node of the tree (standing for many serials) never passes."""
    node = batch.tree.tree.node(1)
    proof = [batch.tree.tree.node(2)]
    with reverts_with("DrugTraceSerialsNotInSource", b32(batch.id), 0):
        drugs.ship(batch.id, distributor, (0, [node], proof, [False]), h("s"), {"from": manufacturer})
