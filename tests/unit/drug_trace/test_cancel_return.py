"""DrugTrace.cancelShipment / returnShipment (issue 12, item 9): units no longer stay in transit for ever."""

import pytest
from drug_helpers import (
    CANCELLED,
    IN_TRANSIT,
    RECEIVED,
    RETURNED,
    assert_conserved,
    h,
    held,
    ship,
    ship_and_receive,
)
from helpers import SUSPEND, add_operator, reverts_with


@pytest.fixture
def in_transit(drugs, batch, manufacturer, distributor):
    """Shipment 1: 10 units of `batch` from the manufacturer to the distributor, not yet received."""
    return int(ship(drugs, batch, manufacturer, distributor, 10).return_value)


def test_units_in_transit_had_no_way_back(drugs, batch, in_transit, manufacturer):
    """The problem: before the fix nothing but receipt ended a shipment. Now the sender can take it back."""
    assert drugs.getBatch(batch.id)["inTransit"] == 10
    drugs.cancelShipment(in_transit, h("cancel"), {"from": manufacturer})
    assert drugs.getBatch(batch.id)["inTransit"] == 0


def test_cancel_returns_units_to_sender(drugs, batch, in_transit, manufacturer, distributor):
    tx = drugs.cancelShipment(in_transit, h("cancel-doc"), {"from": manufacturer})
    assert tx.events["ShipmentCancelled"] == {
        "batchId": batch.id,
        "shipmentId": in_transit,
        "from": manufacturer,
        "quantity": 10,
        "epcisHash": h("cancel-doc"),
    }
    s = drugs.getShipment(in_transit)
    assert (s["status"], s["receivedAt"]) == (CANCELLED, tx.timestamp)
    assert held(drugs, batch.id, manufacturer) == 16
    assert_conserved(drugs, batch.id, [manufacturer, distributor])


def test_cancel_by_operator_key_of_sender(drugs, consortium, batch, in_transit, manufacturer, operator):
    add_operator(consortium, manufacturer, operator)
    drugs.cancelShipment(in_transit, h("cancel"), {"from": operator})
    assert drugs.getShipment(in_transit)["status"] == CANCELLED


@pytest.mark.parametrize("who", ["distributor", "pharmacy"])
def test_cancel_by_other_member_reverts(drugs, in_transit, manufacturer, who, request):
    account = request.getfixturevalue(who)
    with reverts_with("DrugTraceNotSender", in_transit, account, manufacturer):
        drugs.cancelShipment(in_transit, h("cancel"), {"from": account})


def test_cancel_by_non_member_reverts(drugs, in_transit, stranger):
    with reverts_with("DrugTraceNotMember", stranger):
        drugs.cancelShipment(in_transit, h("cancel"), {"from": stranger})


def test_cancel_by_suspended_sender_reverts(drugs, consortium, council, in_transit, manufacturer):
    tx = consortium.propose(SUSPEND, manufacturer, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts_with("DrugTraceNotMember", manufacturer):
        drugs.cancelShipment(in_transit, h("cancel"), {"from": manufacturer})


def test_cancel_received_shipment_reverts(drugs, in_transit, manufacturer, distributor):
    drugs.receiveShipment(in_transit, 10, h("recv"), {"from": distributor})
    with reverts_with("DrugTraceShipmentNotInTransit", in_transit, RECEIVED):
        drugs.cancelShipment(in_transit, h("cancel"), {"from": manufacturer})


def test_cancel_unknown_shipment_reverts(drugs, manufacturer):
    with reverts_with("DrugTraceUnknownShipment", 7):
        drugs.cancelShipment(7, h("cancel"), {"from": manufacturer})


def test_return_gives_units_back_to_sender(drugs, batch, in_transit, manufacturer, distributor):
    tx = drugs.returnShipment(in_transit, h("return-doc"), {"from": distributor})
    assert tx.events["ShipmentReturned"] == {
        "batchId": batch.id,
        "shipmentId": in_transit,
        "to": distributor,
        "from": manufacturer,
        "quantity": 10,
        "epcisHash": h("return-doc"),
    }
    s = drugs.getShipment(in_transit)
    assert (s["status"], s["receivedAt"]) == (RETURNED, tx.timestamp)
    assert (held(drugs, batch.id, manufacturer), held(drugs, batch.id, distributor)) == (16, 0)
    assert_conserved(drugs, batch.id, [manufacturer, distributor])


def test_return_by_operator_key_of_recipient(drugs, consortium, in_transit, distributor, operator):
    add_operator(consortium, distributor, operator)
    drugs.returnShipment(in_transit, h("return"), {"from": operator})
    assert drugs.getShipment(in_transit)["status"] == RETURNED


@pytest.mark.parametrize("who", ["manufacturer", "pharmacy"])
def test_return_by_other_member_reverts(drugs, in_transit, distributor, who, request):
    account = request.getfixturevalue(who)
    with reverts_with("DrugTraceNotRecipient", in_transit, account, distributor):
        drugs.returnShipment(in_transit, h("return"), {"from": account})


def test_return_twice_or_after_cancel_reverts(drugs, in_transit, manufacturer, distributor):
    drugs.cancelShipment(in_transit, h("cancel"), {"from": manufacturer})
    with reverts_with("DrugTraceShipmentNotInTransit", in_transit, CANCELLED):
        drugs.returnShipment(in_transit, h("return"), {"from": distributor})
    with reverts_with("DrugTraceShipmentNotInTransit", in_transit, CANCELLED):
        drugs.receiveShipment(in_transit, 10, h("recv"), {"from": distributor})
    with reverts_with("DrugTraceShipmentNotInTransit", in_transit, CANCELLED):
        drugs.cancelShipment(in_transit, h("cancel"), {"from": manufacturer})


def test_returned_units_can_ship_again(drugs, batch, manufacturer, distributor, pharmacy):
    """A distributor's onward shipment refused by the pharmacy: its serials are shippable again."""
    sid = ship_and_receive(drugs, batch, manufacturer, distributor, 4)
    out = ship(drugs, batch, distributor, pharmacy, 2, source=sid).return_value
    drugs.returnShipment(out, h("return"), {"from": pharmacy})
    assert held(drugs, batch.id, distributor) == 4
    again = ship(drugs, batch, distributor, pharmacy, ["SN000000", "SN000001"], source=sid)
    assert again.events["DrugShipped"]["quantity"] == 2
    assert drugs.getShipment(out)["status"] == RETURNED
    assert drugs.getBatch(batch.id)["inTransit"] == 2
    assert IN_TRANSIT == drugs.getShipment(again.return_value)["status"]
