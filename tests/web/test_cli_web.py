"""`web serve` wiring: the app it hands to uvicorn asks `medchain.drugs.lookup(w3, drugs_contract, ...)`.
uvicorn and the chain are stubbed; no server, no node."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from typer.testing import CliRunner
from web_helpers import STATES, pack_path

from medchain import drugs
from medchain.cli import web as web_cli
from medchain.cli.options import CliState
from medchain.errors import ConfigError

with warnings.catch_warnings():  # starlette 1.x nudges towards httpx2; httpx is what requirements pin
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient


class _Suite:
    def __init__(self, drugs_contract: Any) -> None:
        self.drugs = drugs_contract


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    captured: dict[str, Any] = {"calls": []}
    w3, contract = object(), object()
    monkeypatch.setattr(CliState, "w3", lambda self: w3)
    monkeypatch.setattr(CliState, "suite", lambda self: _Suite(captured.get("contract", contract)))

    def fake_lookup(w3_: Any, contract_: Any, gtin: str, lot: str, serial: str, *, store: Any = None) -> Any:
        captured["calls"].append((w3_ is w3, contract_ is contract, gtin, lot, serial))
        captured["store"] = store
        return STATES["dispensed"][0]

    def fake_run(app: Any, **kwargs: Any) -> None:
        captured["app"], captured["kwargs"] = app, kwargs

    monkeypatch.setattr(drugs, "lookup", fake_lookup, raising=False)
    monkeypatch.setattr("uvicorn.run", fake_run)
    return captured


def test_serve_builds_a_read_only_app_over_drugs_lookup(served, tmp_path):
    store = tmp_path / "store.sqlite"
    result = CliRunner().invoke(
        web_cli.app,
        [
            "serve",
            "--port",
            "9123",
            "--resolver",
            "verify.example.cn",
            "--utc-offset",
            "8",
            "--store",
            str(store),
        ],
    )
    assert result.exit_code == 0, result.output
    assert served["kwargs"]["host"] == "127.0.0.1" and served["kwargs"]["port"] == 9123
    client = TestClient(served["app"])
    page = client.get(pack_path("S1"))
    assert served["calls"] == [(True, True, "09506000134352", "LOT/42", "S1")]
    assert served["store"] is not None  # published serial trees are cached in the store
    missing = client.get("/trees/0x" + "ab" * 32 + ".json")  # served from the store: none there
    assert missing.status_code == 404
    assert "2026-01-31 08:00 UTC+8" in page.text
    assert "https://verify.example.cn/01/09506000134352/10/LOT%2F42/21/S1?17=270630" in page.text


def test_serve_without_drugtrace_is_a_config_error(served):
    served["contract"] = None
    result = CliRunner().invoke(web_cli.app, ["serve"])
    assert isinstance(result.exception, ConfigError)
    assert "app" not in served
