"""`.medchain/` is found the way git finds `.git`: MEDCHAIN_HOME wins, else the nearest one up."""

from __future__ import annotations

from pathlib import Path

import pytest

from medchain.home import find_home
from medchain.store import state_dir


def test_the_nearest_home_up_the_tree_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDCHAIN_HOME", raising=False)
    project = tmp_path / "project"
    deep = project / "exports" / "2026-11"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert state_dir() == (deep / ".medchain").resolve()  # none yet: here, created on the first write
    (project / ".medchain").mkdir()
    assert state_dir() == (project / ".medchain").resolve()
    (deep / ".medchain").mkdir()
    assert find_home() == (deep / ".medchain").resolve()  # the nearest wins


def test_medchain_home_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".medchain").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEDCHAIN_HOME", str(tmp_path / "elsewhere"))
    assert state_dir() == (tmp_path / "elsewhere").resolve()
