"""Consortium fixtures: three-member councils with thresholds 2 and 3, each with a hospital and an insurer."""

from __future__ import annotations

from typing import Any

import pytest
from consortium_helpers import passed
from helpers import ADMIT, roles


def _deploy(Consortium: Any, members: list, threshold: int, hospital: Any, insurer: Any) -> Any:
    c = Consortium.deploy(
        members, ["Commission A", "Commission B", "Commission C"], threshold, {"from": members[0]}
    )
    approvers = tuple(members[1:threshold])
    passed(c, members[0], ADMIT, hospital, roles("HOSPITAL"), approvers, "Hospital A", "https://h.example")
    passed(c, members[0], ADMIT, insurer, roles("INSURER"), approvers, "Insurer X")
    return c


@pytest.fixture(scope="module")
def gov(Consortium: Any, council: Any, council2: Any, council3: Any, hospital: Any, insurer: Any) -> Any:
    """Council {council, council2, council3}, threshold 2; hospital (HOSPITAL), insurer (INSURER) admitted."""
    return _deploy(Consortium, [council, council2, council3], 2, hospital, insurer)


@pytest.fixture(scope="module")
def gov3(Consortium: Any, council: Any, council2: Any, council3: Any, hospital: Any, insurer: Any) -> Any:
    """The same council with threshold 3 (unanimity); hospital and insurer admitted."""
    return _deploy(Consortium, [council, council2, council3], 3, hospital, insurer)
