"""DrugTrace.commissionBatch: the product's manufacturer only, parameter checks, stored batch, stock."""

import pytest
from brownie import chain
from drug_helpers import (
    ACTIVE,
    GTIN2_N,
    GTIN_N,
    YEAR,
    ZERO32,
    b32,
    commission,
    h,
    held,
    make_batch,
    role,
    stock,
)
from helpers import add_operator, reverts_with

ROOT = h("root")


def _commission(drugs, who, gtin=GTIN_N, lot="L1", expiry=None, quantity=5, root=ROOT):
    expiry = chain.time() + YEAR if expiry is None else expiry
    return drugs.commissionBatch(gtin, lot, expiry, quantity, root, h("cert"), h("epcis"), {"from": who})


def test_commission_batch_returns_batch_id(drugs, manufacturer):
    batch = commission(drugs, manufacturer, make_batch(lot="A1"))
    assert batch.tx.return_value == batch.id == drugs.batchIdOf(GTIN_N, "A1")


def test_commission_batch_stores_batch(drugs, manufacturer):
    batch = commission(drugs, manufacturer, make_batch(lot="A1", count=7))
    b = drugs.getBatch(batch.id)
    assert b["status"] == ACTIVE
    assert b["gtin"] == GTIN_N
    assert b["lot"] == "A1"
    assert b["expiry"] == batch.expiry
    assert b["quantity"] == 7
    assert (b["inTransit"], b["lost"]) == (0, 0)
    assert b["manufacturer"] == manufacturer
    assert b["commissionedAt"] == batch.tx.timestamp
    assert b["recalledAt"] == 0
    assert b["serialRoot"] == "0x" + batch.tree.root.hex()
    assert b["certificateHash"] == h("certificate")
    assert b["recallReasonHash"] == ZERO32


def test_commission_batch_gives_manufacturer_the_stock(drugs, manufacturer):
    batch = commission(drugs, manufacturer, make_batch(lot="A1", count=7))
    assert stock(drugs, batch.id, manufacturer) == (7, 0)


def test_commission_batch_emits_batch_commissioned(drugs, manufacturer):
    batch = commission(drugs, manufacturer, make_batch(lot="A1", count=3), epcis=h("c-doc"))
    assert batch.tx.events["BatchCommissioned"] == {
        "batchId": batch.id,
        "gtin": GTIN_N,
        "manufacturer": manufacturer,
        "lot": "A1",
        "expiry": batch.expiry,
        "quantity": 3,
        "serialRoot": "0x" + batch.tree.root.hex(),
        "certificateHash": h("certificate"),
        "epcisHash": h("c-doc"),
    }


def test_commission_batch_by_operator_key_belongs_to_member(drugs, consortium, manufacturer, operator):
    add_operator(consortium, manufacturer, operator)
    tx = _commission(drugs, operator)
    assert drugs.getBatch(tx.return_value)["manufacturer"] == manufacturer
    assert held(drugs, tx.return_value, manufacturer) == 5


def test_commission_batch_of_another_manufacturers_product_reverts(drugs, manufacturer, maker2):
    with reverts_with("DrugTraceNotManufacturer", manufacturer, manufacturer, maker2):
        _commission(drugs, manufacturer, gtin=GTIN2_N)


@pytest.mark.parametrize("who", ["pharmacy", "distributor", "council", "stranger"])
def test_commission_batch_without_manufacturer_role_reverts(drugs, who, request):
    account = request.getfixturevalue(who)
    with reverts_with("DrugTraceUnauthorized", account, role("MANUFACTURER")):
        _commission(drugs, account)


def test_commission_batch_of_unknown_product_reverts(drugs, manufacturer):
    with reverts_with("DrugTraceUnknownProduct", 5012345678900):
        _commission(drugs, manufacturer, gtin=5012345678900)


@pytest.mark.parametrize("lot", ["", "L" * 21])
def test_commission_batch_with_invalid_lot_reverts(drugs, manufacturer, lot):
    with reverts_with("DrugTraceInvalidLot", lot):
        _commission(drugs, manufacturer, lot=lot)


def test_commission_batch_accepts_20_character_lot(drugs, manufacturer):
    tx = _commission(drugs, manufacturer, lot="L" * 20)
    assert drugs.getBatch(tx.return_value)["lot"] == "L" * 20


def test_commission_batch_with_past_expiry_reverts(drugs, manufacturer):
    with reverts_with("DrugTraceInvalidExpiry"):
        _commission(drugs, manufacturer, expiry=chain[-1].timestamp - 1)


def test_commission_batch_with_expiry_now_reverts_with_values(drugs, manufacturer, web3):
    t = chain[-1].timestamp + 5
    web3.provider.make_request("evm_setNextBlockTimestamp", [t])
    with reverts_with("DrugTraceInvalidExpiry", t, t):
        _commission(drugs, manufacturer, expiry=t)


def test_commission_batch_with_zero_quantity_reverts(drugs, manufacturer):
    with reverts_with("DrugTraceInvalidQuantity", 0):
        _commission(drugs, manufacturer, quantity=0)


def test_commission_batch_with_zero_serial_root_reverts(drugs, manufacturer):
    with reverts_with("DrugTraceInvalidSerialRoot", b32(ZERO32)):
        _commission(drugs, manufacturer, root=ZERO32)


def test_commission_batch_twice_reverts(drugs, manufacturer):
    tx = _commission(drugs, manufacturer)
    with reverts_with("DrugTraceBatchExists", b32(tx.return_value)):
        _commission(drugs, manufacturer, quantity=9)


def test_same_lot_of_two_products_are_two_batches(drugs, manufacturer, maker2):
    a = _commission(drugs, manufacturer, lot="SHARED").return_value
    b = _commission(drugs, maker2, gtin=GTIN2_N, lot="SHARED").return_value
    assert a != b
    assert drugs.getBatch(b)["manufacturer"] == maker2
