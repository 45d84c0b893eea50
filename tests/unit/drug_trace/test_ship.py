"""DrugTrace.ship: holders send stock to eligible members; in-transit accounting; recall/expiry quarantine."""

import pytest
from brownie import chain
from drug_helpers import IN_TRANSIT, YEAR, ZERO_ADDRESS, assert_conserved, b32, h, held, ship_and_receive
from helpers import SUSPEND, add_operator, reverts_with


def test_ship_moves_stock_to_in_transit(drugs, batch, manufacturer, distributor):
    drugs.ship(batch.id, distributor, 10, h("ship"), {"from": manufacturer})
    assert held(drugs, batch.id, manufacturer) == 6
    assert held(drugs, batch.id, distributor) == 0
    assert drugs.getBatch(batch.id)["inTransit"] == 10
    assert_conserved(drugs, batch.id, [manufacturer, distributor])


def test_ship_stores_shipment(drugs, batch, manufacturer, distributor):
    tx = drugs.ship(batch.id, distributor, 10, h("ship"), {"from": manufacturer})
    s = drugs.getShipment(tx.return_value)
    assert s["status"] == IN_TRANSIT
    assert s["batchId"] == batch.id
    assert (s["from"], s["to"]) == (manufacturer, distributor)
    assert (s["quantity"], s["quantityReceived"]) == (10, 0)
    assert (s["shippedAt"], s["receivedAt"]) == (tx.timestamp, 0)


def test_ship_returns_sequential_ids(drugs, batch, manufacturer, distributor, pharmacy):
    first = drugs.ship(batch.id, distributor, 1, h("s1"), {"from": manufacturer}).return_value
    second = drugs.ship(batch.id, pharmacy, 1, h("s2"), {"from": manufacturer}).return_value
    assert (first, second) == (1, 2)
    assert drugs.shipmentCount() == 2


def test_ship_emits_drug_shipped(drugs, batch, manufacturer, distributor):
    tx = drugs.ship(batch.id, distributor, 10, h("ship-doc"), {"from": manufacturer})
    assert tx.events["DrugShipped"] == {
        "batchId": batch.id,
        "shipmentId": 1,
        "from": manufacturer,
        "to": distributor,
        "quantity": 10,
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
    tx = drugs.ship(stocked.id, pharmacy, 2, h("ship"), {"from": operator})
    assert tx.events["DrugShipped"]["from"] == distributor
    assert held(drugs, stocked.id, distributor) == 1


def test_ship_by_non_member_reverts(drugs, batch, stranger, distributor):
    with reverts_with("DrugTraceNotMember", stranger):
        drugs.ship(batch.id, distributor, 1, h("ship"), {"from": stranger})


def test_ship_by_suspended_member_reverts(drugs, consortium, council, stocked, distributor, pharmacy):
    tx = consortium.propose(SUSPEND, distributor, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts_with("DrugTraceNotMember", distributor):
        drugs.ship(stocked.id, pharmacy, 1, h("ship"), {"from": distributor})


def test_ship_of_unknown_batch_reverts(drugs, manufacturer, distributor):
    with reverts_with("DrugTraceUnknownBatch", b32(h("nope"))):
        drugs.ship(h("nope"), distributor, 1, h("ship"), {"from": manufacturer})


def test_ship_zero_quantity_reverts(drugs, batch, manufacturer, distributor):
    with reverts_with("DrugTraceInvalidQuantity", 0):
        drugs.ship(batch.id, distributor, 0, h("ship"), {"from": manufacturer})


def test_ship_more_than_held_reverts(drugs, batch, manufacturer, distributor):
    with reverts_with("DrugTraceInsufficientStock", b32(batch.id), manufacturer, 16, 17):
        drugs.ship(batch.id, distributor, 17, h("ship"), {"from": manufacturer})


def test_ship_without_stock_reverts(drugs, batch, distributor, pharmacy):
    with reverts_with("DrugTraceInsufficientStock", b32(batch.id), distributor, 0, 1):
        drugs.ship(batch.id, pharmacy, 1, h("ship"), {"from": distributor})


def test_ship_units_in_transit_cannot_be_shipped_again(drugs, batch, manufacturer, distributor, pharmacy):
    drugs.ship(batch.id, distributor, 16, h("ship"), {"from": manufacturer})
    with reverts_with("DrugTraceInsufficientStock", b32(batch.id), manufacturer, 0, 1):
        drugs.ship(batch.id, pharmacy, 1, h("ship"), {"from": manufacturer})
    with reverts_with("DrugTraceInsufficientStock", b32(batch.id), distributor, 0, 1):
        drugs.ship(batch.id, pharmacy, 1, h("ship"), {"from": distributor})


@pytest.mark.parametrize("recipient", ["insurer", "auditor", "council", "maker2", "stranger"])
def test_ship_to_member_without_holding_role_reverts(drugs, batch, manufacturer, recipient, request):
    to = request.getfixturevalue(recipient)
    with reverts_with("DrugTraceInvalidRecipient", b32(batch.id), to):
        drugs.ship(batch.id, to, 1, h("ship"), {"from": manufacturer})


def test_ship_to_zero_address_reverts(drugs, batch, manufacturer):
    with reverts_with("DrugTraceInvalidRecipient", b32(batch.id), ZERO_ADDRESS):
        drugs.ship(batch.id, ZERO_ADDRESS, 1, h("ship"), {"from": manufacturer})


def test_ship_to_self_reverts(drugs, stocked, distributor):
    with reverts_with("DrugTraceInvalidRecipient", b32(stocked.id), distributor):
        drugs.ship(stocked.id, distributor, 1, h("ship"), {"from": distributor})


def test_ship_to_operator_key_reverts(drugs, consortium, batch, manufacturer, pharmacy, operator):
    """Stock is held by member addresses; an operator key is not a recipient."""
    add_operator(consortium, pharmacy, operator)
    with reverts_with("DrugTraceInvalidRecipient", b32(batch.id), operator):
        drugs.ship(batch.id, operator, 1, h("ship"), {"from": manufacturer})


def test_ship_to_suspended_member_reverts(drugs, consortium, council, batch, manufacturer, pharmacy):
    tx = consortium.propose(SUSPEND, pharmacy, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts_with("DrugTraceInvalidRecipient", b32(batch.id), pharmacy):
        drugs.ship(batch.id, pharmacy, 1, h("ship"), {"from": manufacturer})


def test_ship_recalled_batch_reverts(drugs, stocked, manufacturer, distributor, pharmacy):
    tx = drugs.recall(stocked.id, h("reason"), h("recall"), {"from": manufacturer})
    with reverts_with("DrugTraceBatchRecalled", b32(stocked.id), tx.timestamp):
        drugs.ship(stocked.id, pharmacy, 1, h("ship"), {"from": distributor})


def test_ship_recalled_batch_back_to_manufacturer(drugs, stocked, manufacturer, pharmacy):
    drugs.recall(stocked.id, h("reason"), h("recall"), {"from": manufacturer})
    ship_and_receive(drugs, stocked, pharmacy, manufacturer, 4)
    assert held(drugs, stocked.id, manufacturer) == 6 + 4


def test_ship_expired_batch_reverts(drugs, stocked, distributor, pharmacy):
    chain.sleep(YEAR + 3600)
    chain.mine()
    with reverts_with("DrugTraceBatchExpired", b32(stocked.id), stocked.expiry):
        drugs.ship(stocked.id, pharmacy, 1, h("ship"), {"from": distributor})


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
        drugs.ship(stocked.id, manufacturer, 1, h("ship"), {"from": pharmacy})


def test_ship_to_other_manufacturer_is_not_a_return(drugs, stocked, maker2, pharmacy):
    with reverts_with("DrugTraceInvalidRecipient", b32(stocked.id), maker2):
        drugs.ship(stocked.id, maker2, 1, h("ship"), {"from": pharmacy})
