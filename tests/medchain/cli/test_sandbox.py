"""`medchain sandbox`: one command to a free-gas chain with the README's consortium, an env file of named
dev accounts, idempotent re-runs, a one-line refusal when the port is taken, and stop/start keeping state."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web3 import Web3

from medchain import consortium
from medchain.cli import app
from medchain.contracts import Suite
from medchain.deploy import read_manifest
from medchain.node import free_port
from medchain.sandbox import ACCOUNTS, FUNDED, INSURER_FLOAT, running_node, stop_node


def _env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            name, value = line[len("export ") :].split("=", 1)
            values[name] = value
    return values


@pytest.fixture
def sandbox(medchain_home: Path) -> Iterator[tuple[int, dict[str, object]]]:
    port = free_port()
    result = CliRunner().invoke(app, ["sandbox", "--port", str(port), "--json"], catch_exceptions=False)
    try:
        assert result.exit_code == 0, result.output
        yield port, json.loads(result.stdout)
    finally:
        stop_node()


def test_sandbox_is_free_gas_with_every_role_and_an_env_file(sandbox: tuple[int, dict[str, object]]) -> None:
    port, report = sandbox
    assert report["started"] is True and report["deployed"] is True
    env = _env(Path(str(report["envFile"])))
    assert env["MEDCHAIN_RPC_URL"] == f"http://127.0.0.1:{port}"
    assert len(env["MEDCHAIN_STORE_PASSPHRASE"]) == 32  # encrypts the store's salt keys (issue 15)
    w3 = Web3(Web3.HTTPProvider(env["MEDCHAIN_RPC_URL"]))
    assert w3.eth.chain_id == 1337
    assert w3.eth.get_block("latest")["baseFeePerGas"] == 0  # free gas
    assert w3.eth.get_balance(env["PATIENT"]) == 0  # a patient holds no ETH ...
    for account in ACCOUNTS:  # ... and every named key is in the file, matching its address
        key = env[f"MEDCHAIN_PRIVATE_KEY_{account.variable}"]
        assert w3.eth.account.from_key(key).address == env[account.variable]
    suite = Suite.load(w3, read_manifest(1337))
    c = suite.consortium
    assert env["CONSORTIUM"] == c.address and env["CONSENT_REGISTRY"] == suite.require("consent").address
    gov = consortium.governance(c)
    assert gov.threshold == 2 and gov.council_count == 3
    for account in ACCOUNTS:
        member = consortium.get_member(c, env[account.variable])
        if account.role is not None:
            assert member.status == "ACTIVE" and account.role in member.role_names, account.name
        elif account.operator_of is not None:
            assert (
                consortium.member_of(c, env[account.variable])
                == env[account.operator_of.upper().replace("-", "_")]
            )
        elif account.index < 3:
            assert "COUNCIL" in member.role_names, account.name
        else:
            assert member.status == "NONE" and consortium.member_of(c, env[account.variable]) is None
    token = suite.require("token")
    for insurer in ("INSURER_X", "INSURER_Y"):
        assert (
            token.functions.balanceOf(env[insurer]).call()
            == INSURER_FLOAT * 10 ** token.functions.decimals().call()
        )
    # a patient without ETH sends its own transaction on the free-gas chain
    patient = w3.eth.account.from_key(env["MEDCHAIN_PRIVATE_KEY_PATIENT"])
    result = CliRunner().invoke(
        app, ["--account", "patient", "consent", "invalidate"],
        env={"MEDCHAIN_RPC_URL": env["MEDCHAIN_RPC_URL"], "MEDCHAIN_PRIVATE_KEY_PATIENT": patient.key.hex()},
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [sent] = [t for t in w3.eth.get_block("latest", full_transactions=True)["transactions"]
              if t["from"] == patient.address]  # fmt: skip
    assert sent["maxFeePerGas"] == sent["maxPriorityFeePerGas"] == 0  # tx.py's fee choice on a 0 base fee
    assert w3.eth.get_transaction_receipt(sent["hash"])["effectiveGasPrice"] == 0
    # any tool's legacy transaction at gas price 0 (the guardian has no ETH either)
    guardian = w3.eth.account.from_key(env["MEDCHAIN_PRIVATE_KEY_GUARDIAN"])
    assert w3.eth.get_balance(guardian.address) == 0
    legacy = guardian.sign_transaction({
        "to": guardian.address, "value": 0, "gas": 21_000, "gasPrice": 0, "chainId": 1337,
        "nonce": w3.eth.get_transaction_count(guardian.address),
    })  # fmt: skip
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(legacy.raw_transaction))
    assert receipt["status"] == 1 and receipt["effectiveGasPrice"] == 0
    # and the node fills the fees of a node account's eth_sendTransaction that gives none (web3's default)
    filled = w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": guardian.address, "value": 0})
    assert w3.eth.wait_for_transaction_receipt(filled)["status"] == 1
    assert w3.eth.get_balance(env["PATIENT"]) == w3.eth.get_balance(guardian.address) == 0
    assert FUNDED == len(w3.eth.accounts)


def test_a_second_run_changes_nothing(sandbox: tuple[int, dict[str, object]]) -> None:
    port, first = sandbox
    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
    height = w3.eth.block_number
    env_file = Path(str(first["envFile"]))
    passphrase = _env(env_file)["MEDCHAIN_STORE_PASSPHRASE"]
    result = CliRunner().invoke(app, ["sandbox", "--port", str(port), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)
    assert again["started"] is False and again["deployed"] is False
    assert again["admitted"] == [] and again["operators"] == [] and again["minted"] == {}
    assert again["contracts"] == first["contracts"] and again["pid"] == first["pid"]
    assert _env(env_file)["MEDCHAIN_STORE_PASSPHRASE"] == passphrase  # the store stays readable
    assert w3.eth.block_number == height


def test_stop_then_start_keeps_the_state(sandbox: tuple[int, dict[str, object]]) -> None:
    port, first = sandbox
    assert stop_node() == first["pid"] and running_node() is None
    result = CliRunner().invoke(app, ["sandbox", "--port", str(port), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)
    assert again["started"] is True and again["deployed"] is False and again["admitted"] == []
    assert again["contracts"] == first["contracts"]


def test_a_taken_port_is_one_line(medchain_home: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        result = CliRunner().invoke(app, ["sandbox", "--port", str(port)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: port {port} is already in use by another process (not this home's sandbox): stop it or pass "
        "--port N (e.g. `medchain sandbox --port 8546`)"
    ]
    assert running_node() is None


def test_stop_without_a_sandbox_says_so(medchain_home: Path) -> None:
    result = CliRunner().invoke(app, ["sandbox", "stop"])
    assert result.exit_code == 0 and "no sandbox node is running" in result.output


def test_status_names_the_chain_the_manifest_and_the_account_roles(
    sandbox: tuple[int, dict[str, object]],
) -> None:
    port, report = sandbox
    env = _env(Path(str(report["envFile"])))
    keys = {k: v for k, v in env.items() if k.startswith("MEDCHAIN_PRIVATE_KEY_")}
    runner = CliRunner()
    args = ["--rpc-url", env["MEDCHAIN_RPC_URL"], "--account", "officer-1", "status", "--json"]
    result = runner.invoke(app, args, env=keys, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["chainId"] == 1337 and info["deployed"] is True and info["baseFeePerGas"] == 0
    assert info["account"] == f"officer-1 {env['OFFICER_1']}"
    assert info["member"] == f"Insurer X 平安健康 {env['INSURER_X']} (operator key)"
    assert info["roles"] == ["INSURER"] and info["memberStatus"] == "ACTIVE"
    args = ["--rpc-url", env["MEDCHAIN_RPC_URL"], "status", "--json"]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert "account" not in json.loads(result.stdout)


def test_version() -> None:
    from medchain import __version__

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"medchain {__version__}\n"
