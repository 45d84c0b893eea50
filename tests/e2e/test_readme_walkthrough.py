"""The README's per-role walkthrough runs as written, top to bottom, against a fresh `medchain sandbox`.

Convention: a ```bash block right after a `<!-- walkthrough -->` line is runnable; every such block runs
in one bash (`set -euo pipefail`), in order, in an empty folder with the checkout's .venv linked in, so
placeholders are the `$PATIENT`-style variables `.medchain/sandbox.env` exports. Other blocks are
illustrations (servers, commands that need an earlier claim or proposal) and are not run."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from medchain.artifacts import project_root
from medchain.node import free_port

MARKER = "<!-- walkthrough -->"


def walkthrough_blocks(readme: str) -> list[str]:
    """The bash blocks that follow a walkthrough marker, in README order."""
    pattern = re.compile(re.escape(MARKER) + r"\n```bash\n(.*?)\n```", re.S)
    return pattern.findall(readme)


def test_marker_convention_finds_the_blocks() -> None:
    fence = "```"
    block = f"{fence}bash\necho %s\n{fence}\n"
    text = f"{MARKER}\n" + block % "one" + block % "no" + f"{MARKER}\n" + block % "two"
    assert walkthrough_blocks(text) == ["echo one", "echo two"]


def test_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    root = project_root()
    blocks = walkthrough_blocks((root / "README.md").read_text())
    assert len(blocks) >= 8, "the README lost its walkthrough markers"
    (tmp_path / ".venv").symlink_to(root / ".venv")
    script = ["set -euo pipefail", "trap 'medchain sandbox stop >/dev/null 2>&1 || true' EXIT"]
    for number, block in enumerate(blocks, start=1):
        script += [f"echo '>>> walkthrough block {number}'", block]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDCHAIN_")}
    env["MEDCHAIN_SANDBOX_PORT"] = str(free_port())  # the README's 8545 may be taken on a shared machine
    env["PATH"] = f"{root / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    tail = result.stdout[-4000:] + "\n--- stderr ---\n" + result.stderr[-3000:]
    assert result.returncode == 0, tail
    assert f">>> walkthrough block {len(blocks)}" in result.stdout
    assert (tmp_path / ".medchain" / "sandbox.env").is_file()
    assert (tmp_path / "labels").is_dir() and (tmp_path / "my-disclosures.html").is_file()
