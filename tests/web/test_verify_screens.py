"""Screenshots of the consumer page in headless Chromium at phone size, one per banner state.

The app runs under uvicorn in a thread on a loopback port; Chromium (Debian's ``chromium``, with
``fonts-noto-cjk`` for the Chinese text) takes a 390×844 screenshot of each state. Each PNG must have that
size, must not be blank, and must be dominated by the state's banner colour. Copies are kept in
reports/screens/ for people to look at.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from web_helpers import STATES, lookup_by_serial, pack_path

from medchain.qr import read_png
from medchain.web import create_app
from medchain.web.view import TONE_RGB

WIDTH, HEIGHT = 390, 844
SCREENS = Path(__file__).resolve().parents[2] / "reports" / "screens"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
INSTALL = "apt-get install -y chromium fonts-noto-cjk (the Makefile bootstrap installs them)"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    f"--window-size={WIDTH},{HEIGHT}",
]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=f"headless Chromium not installed: {INSTALL}")


def _has_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    found = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The page on http://127.0.0.1:<free port>, served by uvicorn in a thread."""
    if not _has_cjk_font():
        pytest.skip(f"no Chinese font for Chromium (fonts-noto-cjk): {INSTALL}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(lookup_by_serial, "id.medchain.example"), log_level="warning", lifespan="off"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _screenshot(url: str, out: Path) -> Path:
    assert CHROMIUM is not None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="medchain-chromium-") as profile:
        run = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={out}", url],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert run.returncode == 0, run.stderr[-2000:]
    assert out.is_file(), f"Chromium wrote no screenshot: {run.stderr[-2000:]}"
    return out


def _keep(shot: Path) -> None:
    """A copy for humans in reports/screens/."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, SCREENS / shot.name)


def _colour_share(path: Path) -> tuple[Counter[tuple[int, int, int]], int]:
    image = read_png(path)
    assert (image.width, image.height) == (WIDTH, HEIGHT)
    colours = Counter(image.rgb(x, y) for y in range(0, image.height, 2) for x in range(0, image.width, 2))
    return colours, sum(colours.values())


@pytest.mark.parametrize("state", list(STATES))
def test_screenshot_per_banner_state(server, tmp_path, state):
    _, tone, _, _ = STATES[state]
    expiry = "251231" if state == "expired" else "270630"
    shot = _screenshot(server + pack_path(state, expiry), tmp_path / f"{state}.png")
    colours, total = _colour_share(shot)
    assert len(colours) > 20, "screenshot looks blank"
    assert colours.most_common(1)[0][1] < total * 0.9, "screenshot is (almost) one colour"
    tone_counts = {name: colours[rgb] for name, rgb in TONE_RGB.items()}
    assert max(tone_counts, key=lambda name: tone_counts[name]) == tone, tone_counts
    assert tone_counts[tone] > total * 0.05, f"banner colour {tone} covers too little: {tone_counts}"
    _keep(shot)


def test_screenshot_of_the_scan_form(server, tmp_path):
    shot = _screenshot(server + "/", tmp_path / "home.png")
    colours, _ = _colour_share(shot)
    assert len(colours) > 20, "screenshot looks blank"
    _keep(shot)
