"""brownie against Ganache 7.9.2 through network-config/medchain-networks.yaml's `medchain-ganache` network:
brownie's own deploy and transfer confirm (its development default, gas price 0 below Ganache's base fee,
would resend forever: the subprocess timeout turns such a hang into a failure).

brownie keeps its network list in ~/.brownie: the test imports the project's file into a throw-away HOME.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from medchain.artifacts import project_root
from medchain.node import Ganache


def _brownie(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    brownie = str(Path(sys.executable).with_name("brownie"))
    return subprocess.run([brownie, *args], cwd=project_root(), env=env, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def test_brownie_deploys_and_transfers_on_ganache(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["HOME"] = str(tmp_path)
    env.setdefault("SOLCX_BINARY_PATH", str(Path.home() / ".solcx"))  # the project's solc-js adapter
    imported = _brownie(["networks", "import", "network-config/medchain-networks.yaml"], env, 60)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    with Ganache(chain_id=1337) as node:
        modified = _brownie(["networks", "modify", "medchain-ganache", f"host={node.url}"], env, 60)
        assert modified.returncode == 0, modified.stdout + modified.stderr
        run = _brownie(["run", "scripts/smoke.py", "--network", "medchain-ganache"], env, 120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "smoke ok on medchain-ganache" in run.stdout
