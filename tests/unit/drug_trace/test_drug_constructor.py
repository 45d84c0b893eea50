"""DrugTrace constructor and static helpers."""

from drug_helpers import GTIN, GTIN_N, ZERO_ADDRESS
from helpers import reverts_with

from medchain.serials import batch_id, serial_leaf


def test_constructor_stores_consortium(drugs, consortium):
    assert drugs.consortium() == consortium


def test_constructor_with_zero_consortium_reverts(DrugTrace, council):
    with reverts_with("DrugTraceZeroAddress"):
        DrugTrace.deploy(ZERO_ADDRESS, {"from": council})


def test_batch_id_of_matches_design_encoding(drugs):
    assert drugs.batchIdOf(GTIN_N, "LOT42") == "0x" + batch_id(GTIN, "LOT42").hex()
    assert drugs.batchIdOf(GTIN_N, "LOT42") != drugs.batchIdOf(GTIN_N, "LOT43")


def test_serial_leaf_matches_standard_merkle_tree_leaf(drugs):
    bid = batch_id(GTIN, "LOT42")
    assert drugs.serialLeaf(bid, "SN000001") == "0x" + serial_leaf(bid, "SN000001").hex()


def test_shipment_count_starts_at_zero(drugs):
    assert drugs.shipmentCount() == 0
