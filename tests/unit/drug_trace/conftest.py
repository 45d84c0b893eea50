"""DrugTrace fixtures: the contract on the shared consortium, a second manufacturer and distributor, two
registered products (module scope); a commissioned 16-serial batch and its distribution (per test, inside
the test's isolation snapshot so no state leaks between tests)."""

from __future__ import annotations

from typing import Any

import pytest
from drug_helpers import GTIN2_N, GTIN_N, PREFIX, PREFIX2, BatchFixture, commission, make_batch
from helpers import admit, roles


@pytest.fixture(scope="module")
def maker2(accounts: Any, consortium: Any, council: Any) -> Any:
    """A second MANUFACTURER member."""
    admit(consortium, council, accounts[14], roles("MANUFACTURER"), "Other Maker")
    return accounts[14]


@pytest.fixture(scope="module")
def distributor2(accounts: Any, consortium: Any, council: Any) -> Any:
    """A second DISTRIBUTOR member."""
    admit(consortium, council, accounts[15], roles("DISTRIBUTOR"), "Distributor B")
    return accounts[15]


@pytest.fixture(scope="module")
def drugs(DrugTrace: Any, consortium: Any, council: Any, manufacturer: Any, maker2: Any) -> Any:
    """DrugTrace with GTIN_N registered by `manufacturer` and GTIN2_N by `maker2`, inside their prefixes
    PREFIX and PREFIX2, which the one-member council assigned."""
    contract = DrugTrace.deploy(consortium, {"from": council})
    contract.assignPrefix(PREFIX, manufacturer, {"from": council})
    contract.assignPrefix(PREFIX2, maker2, {"from": council})
    contract.registerProduct(GTIN_N, "Amoxicillin 500 mg capsules", {"from": manufacturer})
    contract.registerProduct(GTIN2_N, "Paracetamol 500 mg tablets", {"from": maker2})
    return contract


@pytest.fixture
def batch(drugs: Any, manufacturer: Any) -> BatchFixture:
    """Lot LOT42 of GTIN_N, 16 serials SN000000..SN000015, expiring in a year, held by the manufacturer."""
    return commission(drugs, manufacturer, make_batch())


@pytest.fixture
def stocked(
    drugs: Any, batch: BatchFixture, manufacturer: Any, distributor: Any, pharmacy: Any, hospital: Any
) -> BatchFixture:
    """`batch` moved on: manufacturer → distributor (10) → pharmacy (4) and hospital (3)."""
    from drug_helpers import ship_and_receive

    ship_and_receive(drugs, batch, manufacturer, distributor, 10)
    ship_and_receive(drugs, batch, distributor, pharmacy, 4)
    ship_and_receive(drugs, batch, distributor, hospital, 3)
    return batch
