"""DrugTrace.registerProduct: who may register, GTIN range, once per GTIN, events."""

import pytest
from drug_helpers import GTIN2_N, GTIN_N, ZERO_ADDRESS, role
from helpers import SUSPEND, add_operator, reverts_with

NEW_GTIN = 9506000999990  # 09506000999990: inside PREFIX, the manufacturer's


def test_register_product_stores_product(drugs, manufacturer):
    tx = drugs.registerProduct(NEW_GTIN, "Ibuprofen 200 mg", {"from": manufacturer})
    p = drugs.getProduct(NEW_GTIN)
    assert p["manufacturer"] == manufacturer
    assert p["registeredAt"] == tx.timestamp
    assert p["name"] == "Ibuprofen 200 mg"


def test_register_product_emits_product_registered(drugs, manufacturer):
    tx = drugs.registerProduct(NEW_GTIN, "Ibuprofen 200 mg", {"from": manufacturer})
    assert tx.events["ProductRegistered"] == {
        "gtin": NEW_GTIN,
        "manufacturer": manufacturer,
        "name": "Ibuprofen 200 mg",
    }


def test_register_product_by_operator_key_belongs_to_member(drugs, consortium, manufacturer, operator):
    add_operator(consortium, manufacturer, operator)
    drugs.registerProduct(NEW_GTIN, "X", {"from": operator})
    assert drugs.getProduct(NEW_GTIN)["manufacturer"] == manufacturer


@pytest.mark.parametrize("who", ["pharmacy", "distributor", "hospital", "council", "stranger"])
def test_register_product_without_manufacturer_role_reverts(drugs, who, request):
    account = request.getfixturevalue(who)
    with reverts_with("DrugTraceUnauthorized", account, role("MANUFACTURER")):
        drugs.registerProduct(NEW_GTIN, "X", {"from": account})


def test_register_product_by_suspended_manufacturer_reverts(drugs, consortium, council, manufacturer):
    tx = consortium.propose(SUSPEND, manufacturer, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts_with("DrugTraceUnauthorized", manufacturer, role("MANUFACTURER")):
        drugs.registerProduct(NEW_GTIN, "X", {"from": manufacturer})


@pytest.mark.parametrize("gtin", [0, 10**14, 2**64 - 1])
def test_register_product_with_invalid_gtin_reverts(drugs, manufacturer, gtin):
    with reverts_with("DrugTraceInvalidGtin", gtin):
        drugs.registerProduct(gtin, "X", {"from": manufacturer})


def test_register_product_accepts_largest_gtin(drugs, council, manufacturer):
    drugs.assignPrefix("999999", manufacturer, {"from": council})
    drugs.registerProduct(10**14 - 1, "X", {"from": manufacturer})
    assert drugs.getProduct(10**14 - 1)["manufacturer"] == manufacturer


def test_register_product_twice_reverts(drugs, manufacturer, maker2):
    with reverts_with("DrugTraceProductExists", GTIN_N, manufacturer):
        drugs.registerProduct(GTIN_N, "again", {"from": manufacturer})
    with reverts_with("DrugTraceProductExists", GTIN2_N, maker2):
        drugs.registerProduct(GTIN2_N, "taken", {"from": manufacturer})


def test_unregistered_product_view_is_empty(drugs):
    p = drugs.getProduct(NEW_GTIN)
    assert p["manufacturer"] == ZERO_ADDRESS
    assert p["name"] == ""
