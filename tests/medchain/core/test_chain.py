"""Signers come from the environment or a keystore, never from arguments; bad setups fail in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account

from medchain.chain import connect, load_signer, signer_address
from medchain.errors import ChainError, ConfigError

KEY = "0x" + "4c" * 32


def test_private_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCHAIN_PRIVATE_KEY", KEY)
    signer = load_signer()
    assert signer_address(signer) == Account.from_key(KEY).address


def test_named_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCHAIN_PRIVATE_KEY_HOSPITAL_A", KEY)
    assert signer_address(load_signer("hospital-a")) == Account.from_key(KEY).address


def test_missing_key_names_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MEDCHAIN_PRIVATE_KEY", "MEDCHAIN_KEYSTORE"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match="set MEDCHAIN_PRIVATE_KEY"):
        load_signer()


def test_invalid_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCHAIN_PRIVATE_KEY", "0x1234")
    with pytest.raises(ConfigError, match="not a valid private key"):
        load_signer()


@pytest.fixture(scope="module")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ks") / "key.json"
    # a light scrypt cost keeps the test fast; real keystores use the default (n=262144)
    path.write_text(json.dumps(Account.encrypt(KEY, "s3cret", kdf="scrypt", iterations=2**10)))
    return path


def test_keystore_with_password(monkeypatch: pytest.MonkeyPatch, keystore: Path) -> None:
    monkeypatch.delenv("MEDCHAIN_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("MEDCHAIN_KEYSTORE", str(keystore))
    monkeypatch.setenv("MEDCHAIN_KEYSTORE_PASSWORD", "s3cret")
    assert signer_address(load_signer()) == Account.from_key(KEY).address


def test_keystore_wrong_password(monkeypatch: pytest.MonkeyPatch, keystore: Path) -> None:
    monkeypatch.delenv("MEDCHAIN_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("MEDCHAIN_KEYSTORE", str(keystore))
    monkeypatch.setenv("MEDCHAIN_KEYSTORE_PASSWORD", "wrong")
    with pytest.raises(ConfigError, match="wrong password"):
        load_signer()


def test_keystore_without_password(monkeypatch: pytest.MonkeyPatch, keystore: Path) -> None:
    monkeypatch.delenv("MEDCHAIN_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("MEDCHAIN_KEYSTORE_PASSWORD", raising=False)
    monkeypatch.setenv("MEDCHAIN_KEYSTORE", str(keystore))
    with pytest.raises(ConfigError, match="no MEDCHAIN_KEYSTORE_PASSWORD"):
        load_signer()


def test_keystore_missing_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MEDCHAIN_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("MEDCHAIN_KEYSTORE", str(tmp_path / "nope.json"))
    monkeypatch.setenv("MEDCHAIN_KEYSTORE_PASSWORD", "x")
    with pytest.raises(ConfigError, match="cannot read keystore"):
        load_signer()


def test_unreachable_rpc_is_a_chain_error() -> None:
    with pytest.raises(ChainError, match="cannot reach an EVM node at http://127.0.0.1:9"):
        connect("http://127.0.0.1:9", timeout=2)


def test_rpc_url_scheme_checked() -> None:
    with pytest.raises(ConfigError, match="must start with http"):
        connect("ws://localhost:1")


def test_unknown_brownie_network() -> None:
    with pytest.raises(ConfigError, match="unknown network 'nowhere'"):
        connect(network="nowhere")
