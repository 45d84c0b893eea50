"""`medchain` as a child process for the fault tests, with every receipt wait capped at
$MEDCHAIN_TEST_RECEIPT_TIMEOUT seconds (the CLI itself has no timeout option; see the fault report)."""

from __future__ import annotations

import os
from typing import Any

from medchain import tx

_CAP = float(os.environ.get("MEDCHAIN_TEST_RECEIPT_TIMEOUT", "120"))
_wait = tx.wait


def _capped_wait(w3: Any, tx_hash: bytes, *, timeout: float = 120.0, **kwargs: Any) -> Any:
    return _wait(w3, tx_hash, timeout=min(timeout, _CAP), **kwargs)


tx.wait = _capped_wait  # type: ignore[assignment]

if __name__ == "__main__":
    from medchain.cli import main

    main()
