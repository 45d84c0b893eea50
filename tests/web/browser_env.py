"""A real chain, a real server and a real browser for the portal and check page tests.

- `deploy(anvil)`: the suite on an Anvil (medchain.deploy), Hospital A (node account 3, the portal's
  relayer), Hospital B (4) and Insurer X (5) admitted.
- `serve(app)`: uvicorn in a thread on a free loopback port.
- `browser()`: Debian's Chromium (/usr/bin/chromium) driven by Playwright, never a downloaded browser.
- `wallet_page(...)`: a 390×844 page with the test EIP-1193 wallet (eip1193_wallet.js over ethers v6 from
  node_modules) injected before any page script.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from web3 import Web3
from web3.logs import DISCARD

from medchain import tx
from medchain.codes import ROLE_BITS
from medchain.contracts import Suite
from medchain.deploy import deploy_all
from medchain.node import Anvil

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "reports" / "screens"
ETHERS = ROOT / "node_modules" / "ethers" / "dist" / "ethers.umd.min.js"
WALLET_JS = Path(__file__).with_name("eip1193_wallet.js")
VENDOR = ROOT / "medchain" / "web" / "static" / "vendor" / "canonicalize.js"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTH, HEIGHT = 390, 844
INSTALL = "apt-get install -y chromium fonts-noto-cjk, then make bootstrap (ethers, canonicalize, playwright)"


def require_browser() -> None:
    """Skip (with the fix) when the browser, the fonts or the npm/PyPI pieces are missing."""
    missing = [
        what
        for what, ok in (
            ("/usr/bin/chromium", Path(CHROMIUM).is_file()),
            ("ethers (node_modules)", ETHERS.is_file()),
            ("medchain/web/static/vendor/canonicalize.js", VENDOR.is_file()),
            ("a Chinese font", _has_cjk_font()),
        )
        if not ok
    ]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (PyPI)")
    if missing:
        pytest.skip(f"missing {', '.join(missing)}: {INSTALL}")


def _has_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    found = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


@dataclass
class Chain:
    anvil: Anvil
    w3: Web3
    suite: Suite
    manifest: dict[str, Any]
    council: str
    hospital: str
    hospital_b: str
    insurer: str

    def deploy_block(self) -> int:
        return min(int(e["block"]) for e in self.manifest["contracts"].values())


def admit(w3: Web3, suite: Suite, council: str, member: str, role: str, name: str) -> None:
    c = suite.consortium
    receipt = tx.send(w3, c.functions.propose(1, member, ROLE_BITS[role], name, ""), council)
    proposal_id = c.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["proposalId"]
    tx.send(w3, c.functions.execute(proposal_id), council)


def deploy(anvil: Anvil) -> Chain:
    w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))
    acc = w3.eth.accounts
    manifest = deploy_all(w3, acc[0], [acc[0]], ["卫生健康委员会 Health Commission"], 1, write=False)
    suite = Suite.load(w3, manifest)
    admit(w3, suite, acc[0], acc[3], "HOSPITAL", "第一医院 Hospital A")
    admit(w3, suite, acc[0], acc[4], "HOSPITAL", "第二医院 Hospital B")
    admit(w3, suite, acc[0], acc[5], "INSURER", "平安保险 Insurer X")
    return Chain(anvil, w3, suite, manifest, acc[0], acc[3], acc[4], acc[5])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app on http://127.0.0.1:<free port> (uvicorn in a thread) for the duration of the block."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def wallet_page(chromium: Any, *, key: str, chain_id: int, rpc: str) -> Any:
    """A fresh phone-sized page whose window.ethereum is the test wallet."""
    context = chromium.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN")

    def forward(method: str, params: list[Any]) -> Any:
        """The wallet's JSON-RPC to the node, outside the page (as a wallet extension does)."""
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        return httpx.post(rpc, json=body, timeout=60).json()

    context.expose_function("__walletRpc", forward)
    context.add_init_script("window.__walletConfig = " + json.dumps({"key": key, "chainId": chain_id}) + ";")
    context.add_init_script(path=str(ETHERS))
    context.add_init_script(path=str(WALLET_JS))
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save reports/screens/<name>.png (ignored by git) and return its path; the page must fit the phone's
    width (nothing scrolls sideways)."""
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= WIDTH, f"{name}: the page is {overflow} px wide on a {WIDTH} px phone"
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
