"""ConsentRegistry fixtures: the registry on the shared consortium (module), funded patients, a guardian key,
an ERC-1271 wallet patient and the gas probe."""

from __future__ import annotations

from typing import Any

import pytest
from consent_helpers import JUSTIFICATION


@pytest.fixture(scope="session")
def guardian(accounts: Any) -> Any:
    """A guardian key (local, signs EIP-712)."""
    return accounts.add("0x" + "33" * 32)


@pytest.fixture(scope="session")
def guardian2(accounts: Any) -> Any:
    return accounts.add("0x" + "44" * 32)


@pytest.fixture(scope="module")
def registry(
    ConsentRegistry: Any,
    consortium: Any,
    council: Any,
    patient: Any,
    patient2: Any,
    guardian: Any,
    guardian2: Any,
) -> Any:
    """A ConsentRegistry on the shared consortium; the local-key patients and guardians get gas money."""
    contract = ConsentRegistry.deploy(consortium, {"from": council})
    for account in (patient, patient2, guardian, guardian2):
        council.transfer(account, "10 ether")
    return contract


@pytest.fixture(scope="module")
def wallet(ERC1271WalletMock: Any, registry: Any, patient2: Any, council: Any) -> Any:
    """An ERC-1271 smart-contract wallet owned by patient2's key, used as a patient."""
    return ERC1271WalletMock.deploy(patient2, {"from": council})


@pytest.fixture(scope="module")
def probe(ConsentProbe: Any, council: Any) -> Any:
    return ConsentProbe.deploy({"from": council})


@pytest.fixture
def opened(registry: Any, patient: Any, hospital: Any) -> Any:
    """Break-glass opening #1 by `hospital` for `patient` (reason 1)."""
    return registry.openEmergency(patient, 1, JUSTIFICATION, {"from": hospital})
