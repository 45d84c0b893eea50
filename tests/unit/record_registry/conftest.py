"""RecordRegistry fixtures: a ConsentRegistry and a RecordRegistry on the shared consortium (module scope)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def consent(ConsentRegistry: Any, consortium: Any, council: Any) -> Any:
    return ConsentRegistry.deploy(consortium, {"from": council})


@pytest.fixture(scope="module")
def records(RecordRegistry: Any, consortium: Any, consent: Any, council: Any) -> Any:
    return RecordRegistry.deploy(consortium, consent, {"from": council})


@pytest.fixture(scope="module")
def funded_patient(patient: Any, council: Any) -> Any:
    """`patient` with ETH to call ConsentRegistry directly."""
    council.transfer(patient, "10 ether")
    return patient
