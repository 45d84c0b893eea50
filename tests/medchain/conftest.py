"""Fixtures for medchain's own tests: a private Anvil per module and a CLI runner bound to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from medchain.cli import app
from medchain.node import Anvil


@pytest.fixture(scope="module")
def anvil() -> Iterator[Anvil]:
    """A fresh Anvil on a free port for this module (not brownie's chain)."""
    with Anvil() as node:
        yield node


@pytest.fixture
def medchain_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty state dir (manifests, journals) for one test."""
    monkeypatch.setenv("MEDCHAIN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MEDCHAIN_DEPLOYMENTS", raising=False)
    return tmp_path / "home"


class Cli:
    """Runs `medchain ...` in-process against one node."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return self.runner.invoke(app, ["--rpc-url", self.url, *args], env=env, catch_exceptions=False)

    def json(self, *args: str, env: dict[str, str] | None = None) -> Any:
        result = self(*args, "--json", env=env)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(anvil: Anvil, medchain_home: Path) -> Cli:
    return Cli(anvil.url)
