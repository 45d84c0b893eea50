"""Shared fixtures: role accounts (session), the Consortium with every role admitted (module), isolation.

Each contract's own fixtures live beside its tests (tests/unit/<contract>/conftest.py); the full suite
deployment used by integration tests is `suite` below.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from helpers import admit, roles

# Salt keys in test stores may be plaintext (medchain.store.secrets); the tests of sealed keys clear this.
os.environ.setdefault("MEDCHAIN_INSECURE_STORE", "1")
# pytest-xdist's workers export COLUMNS=80; a user's piped `medchain` has none (bash does not export it), and
# the CLI's tables are sized from it. Tests that want a width pass it to the CliRunner themselves.
os.environ.pop("COLUMNS", None)

#: test folders whose tests run against brownie's chain and are reverted after each test
_CHAIN_TEST_DIRS = ("unit", "integration", "stateful")


def _is_chain_test(request: pytest.FixtureRequest) -> bool:
    parts = request.node.path.relative_to(request.config.rootpath).parts
    return len(parts) > 1 and parts[0] == "tests" and parts[1] in _CHAIN_TEST_DIRS


@pytest.fixture(scope="module", autouse=True)
def _module_chain_reset(request: pytest.FixtureRequest) -> None:
    """brownie's module_isolation (chain reset) before any module-scoped deployment of a chain test module."""
    if _is_chain_test(request):
        request.getfixturevalue("module_isolation")


@pytest.fixture(autouse=True)
def isolation(request: pytest.FixtureRequest, _module_chain_reset: None) -> None:
    """brownie's fn_isolation (snapshot/revert) for chain tests only; pure-Python tests skip its cost."""
    if _is_chain_test(request):
        request.getfixturevalue("fn_isolation")


# ---- accounts (Anvil dev accounts, unlocked; patients are local keys that can sign EIP-712) ----


@pytest.fixture(scope="session")
def council(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="session")
def council2(accounts: Any) -> Any:
    return accounts[1]


@pytest.fixture(scope="session")
def council3(accounts: Any) -> Any:
    return accounts[2]


@pytest.fixture(scope="session")
def hospital(accounts: Any) -> Any:
    return accounts[3]


@pytest.fixture(scope="session")
def hospital_b(accounts: Any) -> Any:
    return accounts[4]


@pytest.fixture(scope="session")
def insurer(accounts: Any) -> Any:
    return accounts[5]


@pytest.fixture(scope="session")
def insurer_b(accounts: Any) -> Any:
    return accounts[6]


@pytest.fixture(scope="session")
def manufacturer(accounts: Any) -> Any:
    return accounts[7]


@pytest.fixture(scope="session")
def distributor(accounts: Any) -> Any:
    return accounts[8]


@pytest.fixture(scope="session")
def pharmacy(accounts: Any) -> Any:
    return accounts[9]


@pytest.fixture(scope="session")
def auditor(accounts: Any) -> Any:
    return accounts[10]


@pytest.fixture(scope="session")
def operator(accounts: Any) -> Any:
    """A spare key, e.g. a staff operator key added by a member."""
    return accounts[11]


@pytest.fixture(scope="session")
def operator2(accounts: Any) -> Any:
    return accounts[12]


@pytest.fixture(scope="session")
def stranger(accounts: Any) -> Any:
    return accounts[13]


@pytest.fixture(scope="session")
def patient(accounts: Any) -> Any:
    """A patient key (local, signs EIP-712; holds no ETH)."""
    return accounts.add("0x" + "11" * 32)


@pytest.fixture(scope="session")
def patient2(accounts: Any) -> Any:
    return accounts.add("0x" + "22" * 32)


# ---- contracts ----


@pytest.fixture(scope="module")
def consortium(
    Consortium: Any,
    council: Any,
    hospital: Any,
    hospital_b: Any,
    insurer: Any,
    insurer_b: Any,
    manufacturer: Any,
    distributor: Any,
    pharmacy: Any,
    auditor: Any,
) -> Any:
    """Consortium with a one-member council (threshold 1) and one member per role admitted."""
    c = Consortium.deploy([council], ["Health Commission"], 1, {"from": council})
    admit(c, council, hospital, roles("HOSPITAL"), "Hospital A", "https://fhir.hospital-a.example")
    admit(c, council, hospital_b, roles("HOSPITAL"), "Hospital B", "https://fhir.hospital-b.example")
    admit(c, council, insurer, roles("INSURER"), "Insurer X")
    admit(c, council, insurer_b, roles("INSURER"), "Insurer Y")
    admit(c, council, manufacturer, roles("MANUFACTURER"), "Maker")
    admit(c, council, distributor, roles("DISTRIBUTOR"), "Distributor")
    admit(c, council, pharmacy, roles("PHARMACY"), "Pharmacy")
    admit(c, council, auditor, roles("AUDITOR"), "Auditor")
    return c
