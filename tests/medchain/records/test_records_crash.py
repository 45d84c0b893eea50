"""Crash safety of `medchain records batch`: SIGKILL the command at every step that matters (and at a random
moment), restart Anvil from its saved state, re-run the same command: each record anchored exactly once, every
proof verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_records_service import PATIENT, Env, admit, make_files
from web3 import Web3

from medchain.contracts import Suite
from medchain.deploy import deploy_all, write_manifest
from medchain.journal import Journal
from medchain.merkle import process_proof
from medchain.node import Anvil
from medchain.store import open_store

ROOT = Path(__file__).resolve().parents[3]
MAIN = "from medchain import cli\ncli.main()\n"  # the root CLI, as the `medchain` script runs it


def run_cli(
    url: str, manifest: Path, *args: str, fault: str | None = None, wait: bool = True
) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "MEDCHAIN_FAULT"}
    if fault:
        env["MEDCHAIN_FAULT"] = fault
    cmd = [sys.executable, "-c", MAIN, "--rpc-url", url, "--manifest", str(manifest), "--account", "3",
           "--json", "records", *args]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if wait:
        proc.communicate(timeout=300)
    return proc


def deploy(node: Anvil, tmp: Path) -> Env:
    w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
    acc = w3.eth.accounts
    manifest = deploy_all(w3, acc[0], [acc[0]], ["Council"], 1, write=False)
    path = tmp / "manifest.json"
    write_manifest(manifest, path)
    suite = Suite.load(w3, manifest)
    admit(w3, suite, acc[0], acc[3], "HOSPITAL", "Hospital A")
    return Env(node, w3, suite, path, acc[0], acc[3], acc[4], acc[13])


def check_exactly_once(env: Env, store: Path, expected_records: int) -> None:
    """Every journaled record is in exactly one done batch, each root was anchored by one event, and every
    proof verifies on chain."""
    journal = Journal(open_store(store), env.w3.eth.chain_id, env.suite.records.address)
    subs = journal.submissions()
    assert subs and all(s.status == "done" for s in subs), [(s.id, s.status) for s in subs]
    leaves = [it.leaf for s in subs for it in journal.items(s.id)]
    assert len(leaves) == len(set(leaves)) == expected_records
    for sub in subs:
        logs = env.suite.records.events.BatchAnchored().get_logs(
            argument_filters={"root": sub.root}, from_block=0
        )
        assert len(logs) == 1
        tree = journal.tree(sub.id)
        items = journal.items(sub.id)
        step = max(1, len(items) // 50)  # every proof checked locally, a sample of them on chain too
        for item in items:
            proof = tree.get_proof(item.value_index)
            assert process_proof(item.leaf, proof) == sub.root
            if item.value_index % step == 0:
                assert proof == journal.proof(sub.id, item.value_index)
                args = (sub.root, item.record_hash, item.commitment, item.data_class, proof)
                assert env.suite.records.functions.verifyBatchRecord(*args).call()


@pytest.fixture
def chain(tmp_path: Path) -> Env:
    with Anvil() as node:
        yield deploy(node, tmp_path)


@pytest.mark.parametrize(
    "fault", ["after-journal", "before-send", "after-send", "after-mark-sent", "after-receipt"]
)
def test_sigkill_at_each_step_then_rerun(chain: Env, tmp_path: Path, fault: str) -> None:
    make_files(tmp_path / "in", 30, "k")
    store = tmp_path / "store.sqlite"
    args = ("batch", str(tmp_path / "in"), "--patient", PATIENT, "--class", "LAB", "--store", str(store))
    killed = run_cli(chain.node.url, chain.manifest, *args, fault=fault)
    assert killed.returncode == -signal.SIGKILL
    again = run_cli(chain.node.url, chain.manifest, *args)
    assert again.returncode == 0, again.stderr.read() if again.stderr else ""
    check_exactly_once(chain, store, 30)
    third = run_cli(chain.node.url, chain.manifest, *args)  # and once more: nothing to do
    assert third.returncode == 0
    check_exactly_once(chain, store, 30)


def test_sigkill_at_a_random_moment(chain: Env, tmp_path: Path) -> None:
    seed = int(os.environ.get("MEDCHAIN_CRASH_SEED") or int.from_bytes(os.urandom(4), "big"))
    rng = random.Random(seed)
    again_with = f"seed {seed}: MEDCHAIN_CRASH_SEED={seed} replays this kill"
    rows = ["record_hash,patient,class"]
    rows += [f"0x{rng.randbytes(32).hex()},{PATIENT},LAB" for _ in range(20_000)]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    store = tmp_path / "store.sqlite"
    args = ("batch", str(tmp_path / "m.csv"), "--store", str(store))
    proc = run_cli(chain.node.url, chain.manifest, *args, wait=False)
    delay = rng.uniform(1.0, 3.0)  # hashing, tree, journal or send: any moment will do
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    again = run_cli(chain.node.url, chain.manifest, *args)
    killed = f"{again_with} (killed after {delay:.2f} s)"
    assert again.returncode == 0, (killed, again.stderr.read() if again.stderr else "")
    try:
        check_exactly_once(chain, store, 20_000)
    except AssertionError as exc:
        raise AssertionError(f"{killed}: {exc}") from exc


@pytest.mark.parametrize("node_stop", ["graceful", "hard"])
def test_node_restart_from_saved_state(tmp_path: Path, node_stop: str) -> None:
    """The tool dies right after sending; the node stops too (gracefully: state dumped; hard: only the
    last one-second dump survives) and restarts from its state file on a new port. A re-run anchors once."""
    state = tmp_path / "anvil-state.json"
    node = Anvil(state_file=state).start()
    try:
        env = deploy(node, tmp_path)
        time.sleep(1.5)  # the deployment reaches the state file
        make_files(tmp_path / "in", 12, "restart")
        store = tmp_path / "store.sqlite"
        args = ("batch", str(tmp_path / "in"), "--patient", PATIENT, "--class", "LAB", "--store", str(store))
        killed = run_cli(node.url, env.manifest, *args, fault="after-mark-sent")
        assert killed.returncode == -signal.SIGKILL
    finally:
        node.stop() if node_stop == "graceful" else node.kill()
    node = Anvil(state_file=state).start()
    try:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        addresses = {"Consortium": env.suite.consortium.address, "RecordRegistry": env.suite.records.address}
        suite = Suite.from_addresses(w3, addresses)
        restarted = Env(
            node, w3, suite, env.manifest, env.council, env.hospital, env.hospital_b, env.stranger
        )
        again = run_cli(node.url, env.manifest, *args)
        assert again.returncode == 0, again.stderr.read() if again.stderr else ""
        check_exactly_once(restarted, store, 12)
    finally:
        node.stop()
