"""DrugTrace.recall: the batch's manufacturer or the council, once; reason hash and event."""

import pytest
from drug_helpers import ACTIVE, RECALLED, b32, h, held, role
from helpers import add_operator, reverts_with


def test_recall_by_manufacturer_marks_batch(drugs, batch, manufacturer):
    tx = drugs.recall(batch.id, h("reason"), h("recall"), {"from": manufacturer})
    b = drugs.getBatch(batch.id)
    assert b["status"] == RECALLED
    assert b["recalledAt"] == tx.timestamp
    assert b["recallReasonHash"] == h("reason")


def test_recall_emits_batch_recalled(drugs, batch, manufacturer):
    tx = drugs.recall(batch.id, h("reason"), h("recall-doc"), {"from": manufacturer})
    assert tx.events["BatchRecalled"] == {
        "batchId": batch.id,
        "by": manufacturer,
        "reasonHash": h("reason"),
        "epcisHash": h("recall-doc"),
    }


def test_recall_by_council(drugs, batch, council):
    tx = drugs.recall(batch.id, h("reason"), h("recall"), {"from": council})
    assert tx.events["BatchRecalled"]["by"] == council
    assert drugs.getBatch(batch.id)["status"] == RECALLED


def test_recall_by_manufacturer_operator_key(drugs, consortium, batch, manufacturer, operator):
    add_operator(consortium, manufacturer, operator)
    tx = drugs.recall(batch.id, h("reason"), h("recall"), {"from": operator})
    assert tx.events["BatchRecalled"]["by"] == manufacturer


def test_recall_by_other_manufacturer_reverts(drugs, batch, manufacturer, maker2):
    with reverts_with("DrugTraceNotManufacturer", maker2, maker2, manufacturer):
        drugs.recall(batch.id, h("reason"), h("recall"), {"from": maker2})


@pytest.mark.parametrize("who", ["pharmacy", "distributor", "hospital", "auditor", "stranger"])
def test_recall_by_others_reverts(drugs, batch, who, request):
    account = request.getfixturevalue(who)
    with reverts_with("DrugTraceUnauthorized", account, role("MANUFACTURER")):
        drugs.recall(batch.id, h("reason"), h("recall"), {"from": account})
    assert drugs.getBatch(batch.id)["status"] == ACTIVE


def test_recall_twice_reverts(drugs, batch, manufacturer, council):
    tx = drugs.recall(batch.id, h("reason"), h("recall"), {"from": manufacturer})
    with reverts_with("DrugTraceBatchRecalled", b32(batch.id), tx.timestamp):
        drugs.recall(batch.id, h("other"), h("recall"), {"from": council})


def test_recall_unknown_batch_reverts(drugs, manufacturer):
    with reverts_with("DrugTraceUnknownBatch", b32(h("nope"))):
        drugs.recall(h("nope"), h("reason"), h("recall"), {"from": manufacturer})


def test_recall_keeps_quantities(drugs, stocked, manufacturer, distributor, pharmacy):
    before = drugs.getBatch(stocked.id)
    before_held = held(drugs, stocked.id, distributor)
    drugs.recall(stocked.id, h("reason"), h("recall"), {"from": manufacturer})
    after = drugs.getBatch(stocked.id)
    assert [after[k] for k in ("quantity", "inTransit", "lost")] == [
        before[k] for k in ("quantity", "inTransit", "lost")
    ]
    assert held(drugs, stocked.id, distributor) == before_held
