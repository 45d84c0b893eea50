"""The README's per-role walkthrough runs as written, top to bottom, against a fresh `medchain sandbox`.

Convention: a ```bash block right after a `<!-- walkthrough -->` line is runnable; every such block runs
in one bash (`set -euo pipefail`), in order, in an empty folder with the checkout's .venv linked in (and
the brownie project's files, so `brownie run scripts/…` works there as in the clone), so placeholders are
the `$PATIENT`-style variables `.medchain/sandbox.env` exports. A block after
`<!-- walkthrough: background, wait URL -->` is a server: it runs in the background until URL answers, the
blocks after it talk to it, and it is stopped at the end. Every other ```bash block must say visibly why it
is not run: its first line is `# not run by the walkthrough test: <why>`.

The README's fixed ports (the servers' 8080/8081/8090) are swapped for free ones in the script: the machine
is shared and the test runs beside others; the sandbox's own port comes from MEDCHAIN_SANDBOX_PORT."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from medchain.artifacts import project_root
from medchain.node import free_port

MARKER = re.compile(
    r"<!-- walkthrough(?:: background, wait (?P<url>\S+))? -->\n```bash\n(?P<body>.*?)\n```", re.S
)
ANY_BASH = re.compile(r"^```bash\n(?P<body>.*?)\n```", re.S | re.M)
NOT_RUN = "# not run by the walkthrough test: "
#: what `brownie run` needs of the checkout to find the project (build/ is current after `brownie compile`)
BROWNIE_PROJECT = ("brownie-config.yaml", "contracts", "interfaces", "scripts", "build", "node_modules")
WAIT_SECONDS = 60


@dataclass(frozen=True)
class Block:
    """A walkthrough block: its commands and, for a server, the URL that answers once it is ready."""

    body: str
    wait: str | None = None


def walkthrough_blocks(readme: str) -> list[Block]:
    """The bash blocks that follow a walkthrough marker, in README order."""
    return [Block(m["body"], m["url"]) for m in MARKER.finditer(readme)]


def unmarked_blocks(readme: str) -> list[str]:
    """Bash blocks that are neither run nor say why not (the README should have none)."""
    run = {m.start("body") for m in MARKER.finditer(readme)}
    blocks = [m for m in ANY_BASH.finditer(readme) if m.start("body") not in run]
    return [m["body"] for m in blocks if not m["body"].startswith(NOT_RUN)]


def script_lines(blocks: list[Block], logs: Path) -> list[str]:
    """One bash script: each block in order; a server block in the background (its own process group, so the
    EXIT trap stops it and its children), then a wait until its URL answers or the server has died."""
    lines = [
        "set -euo pipefail",
        "set -m",  # job control: every background server leads its own process group
        "servers=()",
        # SIGTERM to each server's group; a server still up 10 s later gets SIGKILL; then the sandbox stops
        "stop() {",
        '  for pid in "${servers[@]}"; do kill -TERM -- -"$pid" 2>/dev/null || true; done',
        '  for pid in "${servers[@]}"; do',
        '    for _ in $(seq 50); do kill -0 -- -"$pid" 2>/dev/null || break; sleep 0.2; done',
        '    kill -KILL -- -"$pid" 2>/dev/null || true',
        "  done",
        "  wait 2>/dev/null || true",
        "  medchain sandbox stop >/dev/null 2>&1 || true",
        "}",
        "trap stop EXIT",
    ]
    for number, block in enumerate(blocks, start=1):
        lines.append(f'echo ">>> walkthrough block {number} (at $SECONDS s)"')
        if block.wait is None:
            lines.append(block.body)
            continue
        log = logs / f"server-{number}.log"
        lines += [
            f"{{\n{block.body}\n}} >{log} 2>&1 &",
            'servers+=("$!")',
            f"for _ in $(seq {WAIT_SECONDS * 5}); do",
            f"  curl -fsS -o /dev/null {block.wait} 2>/dev/null && break",
            f'  kill -0 "$!" 2>/dev/null || {{ echo "server of block {number} died:"; cat {log}; exit 1; }}',
            "  sleep 0.2",
            "done",
            f"curl -fsS -o /dev/null {block.wait}",
        ]
    return lines


def free_ports(blocks: list[Block]) -> dict[str, str]:
    """A free local port for each port the README's servers listen on."""
    ports = {re.search(r":(\d+)/", b.wait).group(1) for b in blocks if b.wait}  # type: ignore[union-attr]
    return {port: str(free_port()) for port in sorted(ports)}


def with_ports(text: str, ports: dict[str, str]) -> str:
    for readme_port, port in ports.items():
        text = re.sub(rf"(?<=[:\s]){readme_port}\b", port, text)
    return text


def test_marker_convention_finds_the_blocks() -> None:
    fence = "```"
    block = f"{fence}bash\n%s\n{fence}\n"
    text = (
        "<!-- walkthrough -->\n"
        + block % "echo one"
        + block % "echo no"
        + block % f"{NOT_RUN}why\necho no"
        + "<!-- walkthrough: background, wait http://127.0.0.1:8090/x -->\n"
        + block % "serve --port 8090"
    )
    assert walkthrough_blocks(text) == [
        Block("echo one"),
        Block("serve --port 8090", "http://127.0.0.1:8090/x"),
    ]
    assert unmarked_blocks(text) == ["echo no"]
    ports = free_ports(walkthrough_blocks(text))
    assert list(ports) == ["8090"]
    assert with_ports("curl http://127.0.0.1:8090/x --port 8090 0x8090ab", ports) == (
        f"curl http://127.0.0.1:{ports['8090']}/x --port {ports['8090']} 0x8090ab"
    )


def _run_harness(blocks: list[Block], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    script = with_ports("\n".join(script_lines(blocks, logs)), free_ports(blocks))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDCHAIN_")}
    return subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )


def test_harness_serves_in_the_background_and_stops_the_server(tmp_path: Path) -> None:
    """A server block answers the blocks after it and is gone once the script ends (here Python's own
    http.server stands in for `medchain web serve`, so this check needs no chain)."""
    (tmp_path / "hello.txt").write_text("hello\n")
    blocks = [
        Block("python3 -m http.server 8090 --bind 127.0.0.1", "http://127.0.0.1:8090/hello.txt"),
        Block("curl -fsS http://127.0.0.1:8090/hello.txt -o got.txt"),
    ]
    result = _run_harness(blocks, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "got.txt").read_text() == "hello\n"
    port = re.search(r"Serving HTTP on \S+ port (\d+)", (tmp_path / "logs" / "server-1.log").read_text())
    assert port is not None
    probe = subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port[1]}/"], check=False)
    assert probe.returncode != 0, "the background server outlived the script"


def test_harness_fails_when_a_server_dies_before_it_answers(tmp_path: Path) -> None:
    blocks = [
        Block("echo 'no such gateway' >&2; exit 3", "http://127.0.0.1:8090/metadata"),
        Block("touch ran"),
    ]
    result = _run_harness(blocks, tmp_path)
    assert result.returncode == 1
    assert "server of block 1 died:" in result.stdout and "no such gateway" in result.stdout
    assert not (tmp_path / "ran").exists()


def test_every_readme_command_block_runs_or_says_why_not() -> None:
    readme = (project_root() / "README.md").read_text()
    assert unmarked_blocks(readme) == []


def test_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    root = project_root()
    local = _brownie_network("medchain-local")
    assert local.get("host") == "${MEDCHAIN_RPC_URL}", (
        f"brownie's medchain-local network is {local or 'missing'}: `make bootstrap` imports the networks"
    )
    blocks = walkthrough_blocks((root / "README.md").read_text())
    assert len(blocks) >= 20, "the README lost its walkthrough markers"
    assert sum(b.wait is not None for b in blocks) >= 3, "the README's servers are no longer run"
    (tmp_path / ".venv").symlink_to(root / ".venv")
    for name in BROWNIE_PROJECT:
        (tmp_path / name).symlink_to(root / name)
    logs = tmp_path / "walkthrough-logs"
    logs.mkdir()
    ports = free_ports(blocks)
    script = with_ports("\n".join(script_lines(blocks, logs)), ports)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDCHAIN_")}
    env["MEDCHAIN_SANDBOX_PORT"] = str(free_port())  # the README's 8545 may be taken on a shared machine
    env["PATH"] = f"{root / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    tail = result.stdout[-5000:] + "\n--- stderr ---\n" + result.stderr[-3000:]
    assert result.returncode == 0, tail
    assert f">>> walkthrough block {len(blocks)}" in result.stdout
    assert (tmp_path / ".medchain" / "sandbox.env").is_file()
    assert (tmp_path / "labels").is_dir() and (tmp_path / "my-disclosures.html").is_file()
    # hospital B holds hospital A's record, fetched through A's gateway and checked against its anchor
    assert (tmp_path / "received").is_dir() and (tmp_path / "mine").is_dir()
    fetched = "0xe81ebb84bc3a5a6d0f12959f6514847fcb5c4494de13528d07042acbd9c8a627.txt"
    assert (tmp_path / "received" / fetched).read_text() == "encounter 1\n"
    assert (tmp_path / "mine" / fetched).read_text() == "encounter 1\n"
    # fetch-all: the 3 encounters and the 3 NDJSON observations
    assert len(list((tmp_path / "received").iterdir())) == 6
    # the claims went in once: the brownie re-run found claim-0001 in the journal
    assert '"outcome": "already-submitted"' in result.stdout
    # the consumer server answered the pack's QR link with its page
    assert "GJ2611A" in (tmp_path / "pack-A000001.html").read_text()
    # every server was stopped: no log keeps growing, and each port is free again
    for port in ports.values():
        probe = subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/"], check=False)
        assert probe.returncode != 0, f"a walkthrough server still answers on port {port}"


def _brownie_network(network_id: str) -> dict[str, object]:
    """The network's entry in brownie's per-user network config (what `brownie run --network` reads)."""
    path = Path.home() / ".brownie" / "network-config.yaml"
    if not path.is_file():
        return {}
    config = yaml.safe_load(path.read_text()) or {}
    for group in config.get("live") or []:
        for network in group.get("networks") or []:
            if network.get("id") == network_id:
                return dict(network)
    return {}
