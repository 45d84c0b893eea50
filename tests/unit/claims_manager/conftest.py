"""ClaimsManager fixtures. By default the contract is isolated from its neighbours by two small mocks
(ClaimsMockConsent, ClaimsMockRecords); test_real_registries.py overrides `consent` and `records` with the
real ConsentRegistry and RecordRegistry.

Module scope: token, registries, ClaimsManager, the insurer's funded reserve, and policy 1 (patient, insured
by `insurer`, coverage COVERAGE, consent for every data class). Per test: fresh anchored evidence and claims.
"""

from __future__ import annotations

from typing import Any

import pytest
from claims_helpers import anchored, create_policy, fund, grant_consent, submit


@pytest.fixture(scope="module")
def token(SettlementToken: Any, council: Any) -> Any:
    return SettlementToken.deploy({"from": council})


@pytest.fixture(scope="module")
def consent(ClaimsMockConsent: Any, council: Any) -> Any:
    return ClaimsMockConsent.deploy({"from": council})


@pytest.fixture(scope="module")
def records(ClaimsMockRecords: Any, council: Any) -> Any:
    return ClaimsMockRecords.deploy({"from": council})


@pytest.fixture(scope="module")
def gas_for_patients(council: Any, patient: Any, patient2: Any) -> None:
    """Patients are local keys without ETH: give them some so they can send their own transactions."""
    council.transfer(patient, "10 ether")
    council.transfer(patient2, "10 ether")


@pytest.fixture(scope="module")
def claims(ClaimsManager: Any, consortium: Any, consent: Any, records: Any, token: Any, council: Any) -> Any:
    return ClaimsManager.deploy(consortium, consent, records, token, {"from": council})


@pytest.fixture(scope="module")
def policy(claims: Any, token: Any, consent: Any, insurer: Any, patient: Any, gas_for_patients: None) -> int:
    """Policy of `patient` with `insurer` (funded with RESERVE), consent to `insurer` for every class."""
    fund(token, claims, insurer)
    grant_consent(consent, patient, insurer)
    return create_policy(claims, insurer, patient)


@pytest.fixture
def evidence(records: Any, hospital: Any, patient: Any) -> list:
    """Three records of `patient` anchored by `hospital`."""
    return anchored(records, hospital, patient, 3)


@pytest.fixture
def claim_id(claims: Any, policy: int, evidence: list, patient: Any) -> int:
    """A Submitted claim of 10,000 by the patient on `policy`, backed by all three `evidence` records."""
    return submit(claims, policy, 10_000, evidence, patient).return_value
