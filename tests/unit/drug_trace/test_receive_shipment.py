"""DrugTrace.receiveShipment: only the recipient, once; partial receipts count the rest as lost."""

from drug_helpers import RECEIVED, assert_conserved, h, held, ship
from helpers import SUSPEND, add_operator, reverts_with


def _ship(drugs, batch, sender, to, quantity=10):
    return ship(drugs, batch, sender, to, quantity, h("ship")).return_value


def test_receive_shipment_moves_units_to_recipient(drugs, batch, manufacturer, distributor):
    sid = _ship(drugs, batch, manufacturer, distributor)
    drugs.receiveShipment(sid, 10, h("recv"), {"from": distributor})
    assert held(drugs, batch.id, distributor) == 10
    b = drugs.getBatch(batch.id)
    assert (b["inTransit"], b["lost"]) == (0, 0)
    assert_conserved(drugs, batch.id, [manufacturer, distributor])


def test_receive_shipment_stores_receipt(drugs, batch, manufacturer, distributor):
    sid = _ship(drugs, batch, manufacturer, distributor)
    tx = drugs.receiveShipment(sid, 10, h("recv"), {"from": distributor})
    s = drugs.getShipment(sid)
    assert s["status"] == RECEIVED
    assert (s["quantity"], s["quantityReceived"], s["receivedAt"]) == (10, 10, tx.timestamp)


def test_receive_shipment_emits_drug_received_only(drugs, batch, manufacturer, distributor):
    sid = _ship(drugs, batch, manufacturer, distributor)
    tx = drugs.receiveShipment(sid, 10, h("recv-doc"), {"from": distributor})
    assert tx.events["DrugReceived"] == {
        "batchId": batch.id,
        "shipmentId": sid,
        "to": distributor,
        "from": manufacturer,
        "quantityReceived": 10,
        "epcisHash": h("recv-doc"),
    }
    assert "DrugReceiptDiscrepancy" not in tx.events


def test_receive_shipment_short_counts_missing_as_lost(drugs, batch, manufacturer, distributor):
    sid = _ship(drugs, batch, manufacturer, distributor)
    tx = drugs.receiveShipment(sid, 7, h("recv"), {"from": distributor})
    assert held(drugs, batch.id, distributor) == 7
    b = drugs.getBatch(batch.id)
    assert (b["inTransit"], b["lost"]) == (0, 3)
    assert tx.events["DrugReceiptDiscrepancy"] == {
        "batchId": batch.id,
        "shipmentId": sid,
        "to": distributor,
        "shipped": 10,
        "received": 7,
        "epcisHash": h("recv"),
    }
    assert_conserved(drugs, batch.id, [manufacturer, distributor])


def test_receive_shipment_of_nothing_loses_everything(drugs, batch, manufacturer, distributor):
    sid = _ship(drugs, batch, manufacturer, distributor)
    drugs.receiveShipment(sid, 0, h("recv"), {"from": distributor})
    assert drugs.getBatch(batch.id)["lost"] == 10
    assert drugs.getShipment(sid)["status"] == RECEIVED


def test_receive_shipment_more_than_shipped_reverts(drugs, batch, manufacturer, distributor):
    sid = _ship(drugs, batch, manufacturer, distributor)
    with reverts_with("DrugTraceReceivedExceedsShipped", sid, 10, 11):
        drugs.receiveShipment(sid, 11, h("recv"), {"from": distributor})


def test_receive_shipment_by_operator_key_of_recipient(
    drugs, consortium, batch, manufacturer, distributor, operator
):
    add_operator(consortium, distributor, operator)
    sid = _ship(drugs, batch, manufacturer, distributor)
    drugs.receiveShipment(sid, 10, h("recv"), {"from": operator})
    assert held(drugs, batch.id, distributor) == 10


def test_receive_shipment_by_other_member_reverts(drugs, batch, manufacturer, distributor, pharmacy):
    sid = _ship(drugs, batch, manufacturer, distributor)
    with reverts_with("DrugTraceNotRecipient", sid, pharmacy, distributor):
        drugs.receiveShipment(sid, 10, h("recv"), {"from": pharmacy})
    with reverts_with("DrugTraceNotRecipient", sid, manufacturer, distributor):
        drugs.receiveShipment(sid, 10, h("recv"), {"from": manufacturer})


def test_receive_shipment_by_non_member_reverts(drugs, batch, manufacturer, distributor, stranger):
    sid = _ship(drugs, batch, manufacturer, distributor)
    with reverts_with("DrugTraceNotMember", stranger):
        drugs.receiveShipment(sid, 10, h("recv"), {"from": stranger})


def test_receive_shipment_by_suspended_recipient_reverts(
    drugs, consortium, council, batch, manufacturer, distributor
):
    sid = _ship(drugs, batch, manufacturer, distributor)
    tx = consortium.propose(SUSPEND, distributor, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts_with("DrugTraceNotMember", distributor):
        drugs.receiveShipment(sid, 10, h("recv"), {"from": distributor})


def test_receive_unknown_shipment_reverts(drugs, distributor):
    with reverts_with("DrugTraceUnknownShipment", 1):
        drugs.receiveShipment(1, 1, h("recv"), {"from": distributor})


def test_receive_shipment_twice_reverts(drugs, batch, manufacturer, distributor):
    sid = _ship(drugs, batch, manufacturer, distributor)
    drugs.receiveShipment(sid, 10, h("recv"), {"from": distributor})
    with reverts_with("DrugTraceShipmentNotInTransit", sid, RECEIVED):
        drugs.receiveShipment(sid, 10, h("recv"), {"from": distributor})


def test_receive_shipment_after_recall_is_allowed(drugs, batch, manufacturer, distributor):
    sid = _ship(drugs, batch, manufacturer, distributor)
    drugs.recall(batch.id, h("reason"), h("recall"), {"from": manufacturer})
    drugs.receiveShipment(sid, 10, h("recv"), {"from": distributor})
    assert held(drugs, batch.id, distributor) == 10


def test_unknown_shipment_view_is_empty(drugs):
    s = drugs.getShipment(99)
    assert s["status"] == 0
    assert s["batchId"] == "0x" + "00" * 32
