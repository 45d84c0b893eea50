"""Saved consumer pages (what the demo writes to reports/demo/consumer-pages/) open from disk in a real
browser with their styles: `medchain.web.pages.standalone` inlines the stylesheet, so no server and no
network is needed. Debian's Chromium driven by Playwright opens each file:// page; every request must succeed
and the banner must have its state's colour (computed style). The page as served (linking
/static/verify.css) is the control: from disk its stylesheet request fails and the banner is unstyled."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from browser_env import browser, require_browser
from web_helpers import STATES, lookup_by_serial, pack_path

from medchain.web import create_app
from medchain.web.pages import standalone
from medchain.web.view import TONE_RGB

with warnings.catch_warnings():  # starlette 1.x nudges towards httpx2; httpx is what requirements pin
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def chromium() -> Any:
    require_browser()
    with browser() as handle:
        yield handle


def _served(state: str) -> str:
    response = TestClient(create_app(lookup_by_serial, "id.medchain.example")).get(pack_path(state))
    assert "/static/verify.css" in response.text
    return response.text


def _open(chromium: Any, path: Path) -> tuple[str, list[str], list[str]]:
    """(banner background colour, failed requests, requests that left the file) for a page from disk."""
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    failed: list[str] = []
    outside: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on(
        "request",
        lambda request: None if request.url.startswith(("file:", "data:")) else outside.append(request.url),
    )
    page.goto(path.as_uri(), wait_until="load")
    colour = page.eval_on_selector(".banner", "e => getComputedStyle(e).backgroundColor")
    context.close()
    return str(colour), failed, outside


@pytest.mark.parametrize("state", ["genuine", "not_found", "duplicate", "unchecked"])
def test_saved_page_opens_from_disk_with_its_styles(chromium: Any, tmp_path: Path, state: str) -> None:
    saved = tmp_path / f"{state}.html"
    saved.write_text(standalone(_served(state)), encoding="utf-8")
    colour, failed, outside = _open(chromium, saved)
    _, tone, _, _ = STATES[state]
    assert colour == "rgb({}, {}, {})".format(*TONE_RGB[tone])
    assert failed == [] and outside == []
    assert "/static/" not in saved.read_text(encoding="utf-8")


def test_control_the_page_as_served_is_unstyled_from_disk(chromium: Any, tmp_path: Path) -> None:
    saved = tmp_path / "served.html"
    saved.write_text(_served("genuine"), encoding="utf-8")
    colour, failed, _ = _open(chromium, saved)
    assert colour != "rgb({}, {}, {})".format(*TONE_RGB["ok"])
    assert any(url.endswith("/static/verify.css") for url in failed)


def test_label_sheet_and_svg_labels_open_from_disk_and_scan(chromium: Any, tmp_path: Path) -> None:
    """`drugs labels` output in a browser: every image of labels.html loads from disk, and an SVG label as the
    browser draws it still scans to its URI (the HRI text beneath does not disturb the symbol)."""
    import datetime as dt

    from medchain.gs1 import DrugCode
    from medchain.qr import decode_png, write_labels

    batch = DrugCode("09506000134352", lot="LOT42", expiry=dt.date(2027, 12, 31))
    written = write_labels(batch, ["SN0001", "SN0002"], tmp_path, fmt="svg")
    context = chromium.new_context(viewport={"width": 800, "height": 600})
    page = context.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto((tmp_path / "labels.html").as_uri(), wait_until="load")
    loaded = page.eval_on_selector_all("img", "els => els.map(e => [e.alt, e.naturalWidth > 0])")
    assert loaded == [
        ["(01) 09506000134352 (17) 271231 (10) LOT42 (21) SN0001", True],
        ["(01) 09506000134352 (17) 271231 (10) LOT42 (21) SN0002", True],
    ]
    page.goto(written[0].path.as_uri(), wait_until="load")
    text = page.eval_on_selector("text", "e => [e.textContent, e.getBBox().y > 0]")
    assert text == ["(01) 09506000134352 (17) 271231 (10) LOT42 (21) SN0001", True]
    shot = tmp_path / "label.png"
    page.screenshot(path=str(shot))
    assert decode_png(shot) == [written[0].uri]
    assert failed == []
    context.close()
