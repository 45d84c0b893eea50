"""`medchain deploy` against a real Anvil: manifest per chain, no accidental redeploy, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from medchain.cli import app


def test_deploy_writes_a_manifest_per_chain(cli, medchain_home: Path) -> None:
    manifest = cli.json("--account", "0", "deploy")
    path = medchain_home / "deployments" / f"{manifest['chainId']}.json"
    assert json.loads(path.read_text()) == manifest
    assert set(manifest["contracts"]) == {
        "Consortium", "ConsentRegistry", "RecordRegistry", "SettlementToken", "ClaimsManager", "DrugTrace"
    }
    assert manifest["compiler"].startswith("0.8.28")
    assert manifest["testToken"] is True
    assert all(entry["sourceSha1"] for entry in manifest["contracts"].values())


def test_redeploy_over_a_live_manifest_is_refused_unless_forced(cli) -> None:
    first = cli.json("--account", "0", "deploy")
    again = cli("--account", "0", "deploy")
    assert again.exit_code == 1
    assert "already has a live deployment" in again.stderr and "--force" in again.stderr
    second = cli.json("--account", "0", "deploy", "--force")
    assert second["contracts"]["Consortium"]["address"] != first["contracts"]["Consortium"]["address"]
    shown = cli.json("deploy", "show")
    assert shown == second


def test_council_and_threshold(cli, anvil) -> None:
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(anvil.url))
    members = ",".join(w3.eth.accounts[1:4])
    manifest = cli.json(
        "--account", "0", "deploy", "--council", members, "--names", "A,B,C", "--threshold", "2"
    )
    assert manifest["threshold"] == 2 and manifest["council"] == w3.eth.accounts[1:4]


def test_bad_threshold_is_an_input_error(cli) -> None:
    result = cli("--account", "0", "deploy", "--threshold", "3")
    assert result.exit_code == 1
    assert "threshold 3 must be between 1 and the council size 1" in result.stderr


def test_malformed_council_address(cli) -> None:
    result = cli("--account", "0", "deploy", "--council", "0x1234")
    assert result.exit_code == 1
    assert "council member '0x1234' is not a 20-byte hex address" in result.stderr


def test_bad_checksum_address(cli) -> None:
    bad = "0x5aEDA56215b167893e80B4fE645BA6d5Bab767DE"  # EIP-55 checksum broken on purpose (2nd char)
    result = cli("--account", "0", "deploy", "--council", bad)
    assert result.exit_code == 1 and "wrong checksum" in result.stderr


def test_missing_key_is_one_line(cli, monkeypatch) -> None:
    for var in ("MEDCHAIN_PRIVATE_KEY", "MEDCHAIN_KEYSTORE", "MEDCHAIN_ACCOUNT"):
        monkeypatch.delenv(var, raising=False)
    result = cli("deploy")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: no signing key")
    assert "Traceback" not in result.output


def test_show_without_deployment(cli) -> None:
    result = cli("deploy", "show")
    assert result.exit_code == 1 and "no deployment for chain" in result.stderr


def test_unreachable_rpc() -> None:
    result = CliRunner().invoke(app, ["--rpc-url", "http://127.0.0.1:9", "deploy", "show"])
    assert result.exit_code == 1
    assert "cannot reach an EVM node at http://127.0.0.1:9" in result.stderr


def test_unknown_network() -> None:
    result = CliRunner().invoke(app, ["--network", "atlantis", "deploy", "show"])
    assert result.exit_code == 1 and "unknown network 'atlantis'" in result.stderr


def test_debug_shows_the_traceback() -> None:
    result = CliRunner().invoke(app, ["--debug", "--rpc-url", "http://127.0.0.1:9", "deploy", "show"])
    assert result.exit_code == 1 and result.exception is not None
