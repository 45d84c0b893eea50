"""Modules imported on first use, so `medchain --help` and a command's `--help` start fast (issue 17 item 9).

`lazy("medchain.records")` returns the module at once and runs it on its first attribute access (importlib's
LazyLoader); the CLI's command modules use it for their services, which import web3 and eth-* packages.
Type checkers see the ordinary import (`if TYPE_CHECKING:`).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy(name: str) -> ModuleType:
    """Module `name`, loaded when first used (at once if it is already loaded)."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
