"""The security gate's wrappers (issue #8) run tools as subprocesses and need no chain: the autouse
`isolation` fixture of tests/conftest.py (brownie's fn_isolation, which snapshots the dev chain) is
replaced by a no-op here."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolation() -> None:
    """No chain snapshot: these tests only run slither and forge."""
