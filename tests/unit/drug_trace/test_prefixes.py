"""DrugTrace GS1 Company Prefixes (issue 12, item 7): the council assigns prefixes by k-of-n approval,
registerProduct accepts only GTINs inside the caller's prefixes, and the council can move a product."""

import pytest
from brownie import chain
from drug_helpers import (
    ASSIGN_PREFIX,
    GTIN2_N,
    GTIN_N,
    PREFIX,
    REASSIGN_PRODUCT,
    ZERO_ADDRESS,
    b32,
    commission,
    make_batch,
    role,
)
from helpers import ADMIT, SET_THRESHOLD, SUSPEND, add_operator, reverts_with, roles

IN_PREFIX = 9506000999990  # 0 9506000 99999 0: inside PREFIX
OUTSIDE = 5012345678900  # 0 5012345 67890 0: nobody's prefix


def _prefix_of(drugs, gtin):
    manufacturer, digits = drugs.prefixOf(gtin)
    return manufacturer, int(digits)


def _govern(consortium, council, kind, target, value):
    tx = consortium.propose(kind, target, value, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})


@pytest.fixture
def council3(accounts, consortium, council):
    """Two more COUNCIL members and threshold 2: returns the three council members."""
    for account in (accounts[16], accounts[17]):
        tx = consortium.propose(ADMIT, account, roles("COUNCIL"), f"Council {account}", "", {"from": council})
        consortium.execute(tx.return_value, {"from": council})
    _govern(consortium, council, SET_THRESHOLD, ZERO_ADDRESS, 2)
    return council, accounts[16], accounts[17]


# ---- the squatting problem ----


def test_gtin_squatting_is_refused(drugs, maker2):
    """Before the fix any MANUFACTURER key registered any free GTIN, e.g. one of another maker's prefix."""
    with reverts_with("DrugTraceGtinOutsidePrefixes", IN_PREFIX, maker2):
        drugs.registerProduct(IN_PREFIX, "Counterfeit", {"from": maker2})
    with reverts_with("DrugTraceGtinOutsidePrefixes", OUTSIDE, maker2):
        drugs.registerProduct(OUTSIDE, "Unassigned", {"from": maker2})


def test_register_product_inside_own_prefix(drugs, manufacturer):
    drugs.registerProduct(IN_PREFIX, "Ibuprofen", {"from": manufacturer})
    assert drugs.getProduct(IN_PREFIX)["manufacturer"] == manufacturer


def test_prefix_views(drugs, manufacturer, maker2):
    assert drugs.prefixOwner(PREFIX) == manufacturer
    assert _prefix_of(drugs, GTIN_N) == (manufacturer, 7)
    assert _prefix_of(drugs, GTIN2_N) == (maker2, 7)
    assert _prefix_of(drugs, OUTSIDE) == (ZERO_ADDRESS, 0)
    assert drugs.prefixKey("0614141") == 10**7 + 614141


def test_prefix_keeps_leading_zeros_apart(drugs, council, manufacturer, maker2):
    """'061414' and '614141' are different prefixes; the indicator digit is not part of either."""
    drugs.assignPrefix("061414", manufacturer, {"from": council})
    drugs.assignPrefix("614141", maker2, {"from": council})
    assert _prefix_of(drugs, 10614141000001) == (manufacturer, 6)  # indicator 1, GTIN-13 0614141000001
    assert _prefix_of(drugs, 6141410000018) == (maker2, 6)


# ---- assignPrefix ----


def test_assign_prefix_emits_and_stores(drugs, council, maker2):
    tx = drugs.assignPrefix("50123456", maker2, {"from": council})
    assert tx.return_value is True
    assert tx.events["PrefixAssigned"] == {
        "prefix": "50123456",
        "manufacturer": maker2,
        "previous": ZERO_ADDRESS,
    }
    assert tx.events["MotionApproved"]["approvals"] == 1
    drugs.registerProduct(5012345678900, "Now allowed", {"from": maker2})


@pytest.mark.parametrize("prefix", ["12345", "1234567890123", "12345a", "", "123 456"])
def test_assign_malformed_prefix_reverts(drugs, council, manufacturer, prefix):
    with reverts_with("DrugTraceInvalidPrefix", prefix):
        drugs.assignPrefix(prefix, manufacturer, {"from": council})


@pytest.mark.parametrize("prefix", ["950600", "95060001", "950600012345"])
def test_assign_nested_prefix_reverts(drugs, council, maker2, prefix):
    with reverts_with("DrugTracePrefixOverlaps", prefix):
        drugs.assignPrefix(prefix, maker2, {"from": council})


def test_unassigned_prefix_frees_its_range(drugs, council, manufacturer, maker2):
    drugs.assignPrefix(PREFIX, ZERO_ADDRESS, {"from": council})
    assert drugs.prefixOwner(PREFIX) == ZERO_ADDRESS
    drugs.assignPrefix("95060001", maker2, {"from": council})  # no longer nested in an assigned prefix
    assert drugs.getProduct(GTIN_N)["manufacturer"] == manufacturer  # products stay until reassigned


def test_assign_prefix_to_non_manufacturer_reverts(drugs, council, pharmacy, stranger):
    for who in (pharmacy, stranger):
        with reverts_with("DrugTraceNotAManufacturer", who):
            drugs.assignPrefix("123456", who, {"from": council})


def test_assign_prefix_to_operator_key_reverts(drugs, consortium, council, manufacturer, operator):
    add_operator(consortium, manufacturer, operator)
    with reverts_with("DrugTraceNotAManufacturer", operator):
        drugs.assignPrefix("123456", operator, {"from": council})


def test_assign_prefix_without_change_reverts(drugs, council, manufacturer):
    key = drugs.prefixKey(PREFIX)
    with reverts_with("DrugTraceNoChange", ASSIGN_PREFIX, key, manufacturer):
        drugs.assignPrefix(PREFIX, manufacturer, {"from": council})


@pytest.mark.parametrize("who", ["manufacturer", "pharmacy", "stranger"])
def test_assign_prefix_needs_council(drugs, maker2, who, request):
    account = request.getfixturevalue(who)
    with reverts_with("DrugTraceUnauthorized", account, role("COUNCIL")):
        drugs.assignPrefix("123456", maker2, {"from": account})


# ---- k-of-n ----


def test_assign_prefix_waits_for_threshold(drugs, council3, maker2):
    a, b, _ = council3
    first = drugs.assignPrefix("123456", maker2, {"from": a})
    assert first.return_value is False and "PrefixAssigned" not in first.events
    assert drugs.prefixOwner("123456") == ZERO_ADDRESS
    motion = drugs.motionId(ASSIGN_PREFIX, drugs.prefixKey("123456"), maker2)
    assert drugs.motionApprovers(motion) == [a]
    second = drugs.assignPrefix("123456", maker2, {"from": b})
    assert second.return_value is True
    assert second.events["MotionApproved"]["approvals"] == 2
    assert drugs.prefixOwner("123456") == maker2
    assert drugs.motionApprovers(motion) == []


def test_assign_prefix_twice_by_one_member_reverts(drugs, consortium, council3, maker2, operator):
    a, _, _ = council3
    add_operator(consortium, a, operator)
    tx = drugs.assignPrefix("123456", maker2, {"from": a})
    motion = tx.events["MotionApproved"]["motionId"]
    with reverts_with("DrugTraceAlreadyApproved", b32(motion), a):
        drugs.assignPrefix("123456", maker2, {"from": operator})


def test_approval_of_suspended_council_member_does_not_count(drugs, consortium, council3, maker2):
    a, b, c = council3
    drugs.assignPrefix("123456", maker2, {"from": b})
    _govern_k(consortium, a, c, SUSPEND, b, 0)
    tx = drugs.assignPrefix("123456", maker2, {"from": a})
    assert tx.return_value is False  # b's approval no longer counts
    assert tx.events["MotionApproved"]["approvals"] == 1
    assert drugs.assignPrefix("123456", maker2, {"from": c}).return_value is True


def test_approvals_lapse_after_proposal_lifetime(drugs, consortium, council3, maker2):
    a, b, _ = council3
    drugs.assignPrefix("123456", maker2, {"from": a})
    chain.sleep(consortium.proposalLifetime() + 1)
    tx = drugs.assignPrefix("123456", maker2, {"from": b})
    assert tx.return_value is False
    assert drugs.motionApprovers(tx.events["MotionApproved"]["motionId"]) == [b]


def test_approvals_of_an_old_motion_lapse_when_the_prefix_changes(drugs, council3, manufacturer, maker2):
    a, b, _ = council3
    drugs.assignPrefix("123456", maker2, {"from": a})  # motion X (maker2), 1 of 2
    drugs.assignPrefix("123456", manufacturer, {"from": a})
    drugs.assignPrefix("123456", manufacturer, {"from": b})  # executed: the round moved on
    assert drugs.assignPrefix("123456", maker2, {"from": b}).return_value is False  # a's old approval is gone


def _govern_k(consortium, a, b, kind, target, value):
    tx = consortium.propose(kind, target, value, "", "", {"from": a})
    consortium.approve(tx.return_value, {"from": b})
    consortium.execute(tx.return_value, {"from": a})


# ---- reassignProduct and suspension ----


def test_reassign_product_moves_future_batches(drugs, council, manufacturer, maker2):
    old = commission(drugs, manufacturer, make_batch(lot="OLD"))
    tx = drugs.reassignProduct(GTIN_N, maker2, {"from": council})
    assert tx.events["ProductReassigned"] == {
        "gtin": GTIN_N,
        "manufacturer": maker2,
        "previous": manufacturer,
    }
    assert drugs.getProduct(GTIN_N)["manufacturer"] == maker2
    with reverts_with("DrugTraceNotManufacturer", manufacturer, manufacturer, maker2):
        commission(drugs, manufacturer, make_batch(lot="NEW"))
    commission(drugs, maker2, make_batch(lot="NEW"))
    assert drugs.getBatch(old.id)["manufacturer"] == manufacturer  # history stays


def test_reassign_unknown_product_reverts(drugs, council, maker2):
    with reverts_with("DrugTraceUnknownProduct", OUTSIDE):
        drugs.reassignProduct(OUTSIDE, maker2, {"from": council})


def test_reassign_product_to_owner_reverts(drugs, council, manufacturer):
    with reverts_with("DrugTraceNoChange", REASSIGN_PRODUCT, GTIN_N, manufacturer):
        drugs.reassignProduct(GTIN_N, manufacturer, {"from": council})


def test_reassign_product_needs_council(drugs, manufacturer, maker2):
    with reverts_with("DrugTraceUnauthorized", maker2, role("COUNCIL")):
        drugs.reassignProduct(GTIN_N, maker2, {"from": maker2})


def test_reassign_product_needs_threshold(drugs, council3, maker2):
    a, b, _ = council3
    assert drugs.reassignProduct(GTIN_N, maker2, {"from": a}).return_value is False
    assert drugs.reassignProduct(GTIN_N, maker2, {"from": b}).return_value is True


def test_suspended_manufacturer_cannot_commission_or_register(drugs, consortium, council, manufacturer):
    _govern(consortium, council, SUSPEND, manufacturer, 0)
    with reverts_with("DrugTraceUnauthorized", manufacturer, role("MANUFACTURER")):
        commission(drugs, manufacturer, make_batch(lot="AFTER"))
    with reverts_with("DrugTraceUnauthorized", manufacturer, role("MANUFACTURER")):
        drugs.registerProduct(IN_PREFIX, "X", {"from": manufacturer})


def test_suspended_manufacturer_is_not_a_reassignment_target(
    drugs, consortium, council, manufacturer, maker2
):
    _govern(consortium, council, SUSPEND, maker2, 0)
    with reverts_with("DrugTraceNotAManufacturer", maker2):
        drugs.reassignProduct(GTIN_N, maker2, {"from": council})
