"""Shared pieces of the fault-injection suite (issue #8 item 4): a private Anvil with the suite deployed and
seeded for records and claims, Anvil fault RPCs, the `medchain` CLI run in process or as a child process, and
the exactly-once / journal-consistency checks every fault test ends with.

Nothing here talks to brownie's chain: each test module starts its own `medchain.node.Anvil`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import helpers
import pytest
from eth_utils import keccak
from typer.testing import CliRunner
from web3 import Web3
from web3.logs import DISCARD

from medchain import tx
from medchain.claims import ClaimJournal
from medchain.cli import app
from medchain.codes import PURPOSES, ROLE_BITS
from medchain.contracts import Suite
from medchain.deploy import deploy_all, write_manifest
from medchain.hashing import patient_commitment, record_leaf
from medchain.journal import Journal
from medchain.merkle import process_proof
from medchain.node import Anvil
from medchain.store import open_store

ROOT = Path(__file__).resolve().parents[2]
FAULT_CLI = Path(__file__).with_name("fault_cli.py")
#: `--account` indexes (unlocked Anvil accounts) the CLI acts with
HOSPITAL_ACCOUNT = "3"
PATIENT = "0x" + "ab" * 20
LAB = 3
ZERO_ADDRESS = "0x" + "00" * 20
_serial = count(1)


@dataclass
class Chain:
    """The suite on one private Anvil: hospital 3, insurer 5 (funded reserve), holder 14 consenting to the
    insurer for purpose CLAIM."""

    node: Anvil
    w3: Web3
    suite: Suite
    manifest: Path
    council: str
    hospital: str
    insurer: str
    holder: str

    @property
    def url(self) -> str:
        return self.node.url

    def rpc(self, method: str, *params: Any) -> Any:
        """A raw JSON-RPC call; raises on a JSON-RPC error so a fault that did not happen fails the test."""
        answer = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        if "error" in answer:
            raise AssertionError(f"{method}{list(params)} failed: {answer['error']}")
        return answer.get("result")

    def send(self, fn: Any, sender: str) -> Any:
        return tx.send(self.w3, fn, sender)

    # ---- chain state used by the checks ----

    def batch_events(self, root: bytes) -> list[Any]:
        records = self.suite.require("records")
        return list(records.events.BatchAnchored().get_logs(argument_filters={"root": root}, from_block=0))

    def record_events(self, leaf: bytes) -> list[Any]:
        records = self.suite.require("records")
        return list(records.events.RecordAnchored().get_logs(argument_filters={"leaf": leaf}, from_block=0))

    def claim_events(self) -> list[Any]:
        claims = self.suite.require("claims")
        return list(claims.events.ClaimSubmitted().get_logs(from_block=0))

    # ---- claims fixtures ----

    def policy(self, coverage: int = 10_000_000) -> int:
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        claims = self.suite.require("claims")
        fn = claims.functions.createPolicy(self.holder, coverage, now, now + 400 * 86_400)
        receipt = self.send(fn, self.insurer)
        (event,) = claims.events.PolicyCreated().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["policyId"])

    def evidence(self) -> dict[str, Any]:
        """A fresh record of the holder anchored by the hospital, as a claim-file evidence item."""
        n = next(_serial)
        record, salt = keccak(text=f"fault record {n} {time.time_ns()}"), keccak(text=f"fault salt {n}")
        leaf = record_leaf(record, patient_commitment(self.holder, salt), LAB)
        self.send(self.suite.require("records").functions.anchor(record, leaf), self.hospital)
        return {"recordHash": Web3.to_hex(record), "salt": Web3.to_hex(salt), "dataClass": "LAB"}

    def claim_file(self, directory: Path, reference: str, policy: int, amount: str = "12.34") -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        doc = {
            "reference": reference,
            "policyId": policy,
            "amount": amount,
            "currency": "tCNY",
            "evidence": [self.evidence()],
        }
        path = directory / f"{reference}.json"
        path.write_text(json.dumps(doc))
        return path


def admit(w3: Web3, suite: Suite, council: str, member: str, role: str, name: str) -> None:
    c = suite.consortium
    receipt = tx.send(w3, c.functions.propose(1, member, ROLE_BITS[role], name, ""), council)
    (event,) = c.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)
    tx.send(w3, c.functions.execute(event["args"]["proposalId"]), council)


def deploy(node: Anvil, directory: Path) -> Chain:
    """Deploy and seed the suite on `node`; the manifest is written to `directory`."""
    w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
    a = w3.eth.accounts
    manifest = deploy_all(w3, a[0], [a[0]], ["Council"], 1, write=False)
    path = directory / "manifest.json"
    write_manifest(manifest, path)
    suite = Suite.load(w3, manifest)
    chain = Chain(node, w3, suite, path, a[0], a[3], a[5], a[14])
    admit(w3, suite, a[0], chain.hospital, "HOSPITAL", "Hospital A")
    admit(w3, suite, a[0], chain.insurer, "INSURER", "Insurer X")
    token, claims = suite.require("token"), suite.require("claims")
    chain.send(token.functions.mint(chain.insurer, 10**12), chain.insurer)
    chain.send(token.functions.approve(claims.address, 2**256 - 1), chain.insurer)
    chain.send(claims.functions.depositReserve(chain.insurer, 10**12), chain.insurer)
    consent = suite.require("consent")
    chain.send(consent.functions.grant(chain.insurer, PURPOSES["CLAIM"], 0x7FF, 0, 0), chain.holder)
    return chain


def reconnect(chain: Chain, node: Anvil) -> Chain:
    """The same deployment seen through a restarted node (same addresses, maybe a new port)."""
    w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
    suite = Suite.from_addresses(w3, chain.suite.addresses())
    return Chain(node, w3, suite, chain.manifest, chain.council, chain.hospital, chain.insurer, chain.holder)


# ---- faults ----


@contextmanager
def automine_off(chain: Chain) -> Iterator[None]:
    """Stall the node: transactions are accepted but not mined until automine is switched back on."""
    chain.rpc("evm_setAutomine", False)
    try:
        yield
    finally:
        chain.rpc("evm_setAutomine", True)


def drop(chain: Chain, tx_hash: str | bytes) -> None:
    """Evict a pending transaction from the node's pool (as a full pool or a restarted peer would)."""
    chain.rpc("anvil_dropTransaction", Web3.to_hex(tx_hash) if isinstance(tx_hash, bytes) else tx_hash)
    with pytest.raises(Exception, match="not found"):
        chain.w3.eth.get_transaction(tx_hash)


def reorg_out(chain: Chain, tx_hash: str | bytes) -> None:
    """Replace the blocks from `tx_hash`'s block to the head with empty ones (`anvil_reorg [depth, []]`)."""
    receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
    head = chain.w3.eth.block_number
    depth = head - int(receipt["blockNumber"]) + 1
    chain.rpc("anvil_reorg", depth, [])
    assert chain.w3.eth.block_number == head
    with pytest.raises(Exception, match="not found"):
        chain.w3.eth.get_transaction_receipt(tx_hash)


def cap_receipt_timeout(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """The tools wait up to 120 s for a receipt and the CLI has no option to change that (see the report):
    cap every `medchain.tx.wait` of this process at `seconds`."""
    original = tx.wait

    def wait(w3: Web3, tx_hash: bytes, *, timeout: float = 120.0, **kwargs: Any) -> Any:
        return original(w3, tx_hash, timeout=min(timeout, seconds), **kwargs)

    monkeypatch.setattr(tx, "wait", wait)


# ---- running the CLI ----


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error_line(self) -> str:
        """The one-line error of a failed run (asserts there is exactly one line and no traceback)."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert "Traceback" not in self.stderr + self.stdout, self.stderr
        assert len(lines) == 1, self.stderr
        return lines[0]


def cli(chain: Chain, *args: str, account: str = HOSPITAL_ACCOUNT) -> Run:
    """`medchain --json <args>` in this process (root app, root error handling)."""
    base = ["--rpc-url", chain.url, "--manifest", str(chain.manifest), "--account", account, "--json"]
    result = CliRunner().invoke(app, [*base, *args], catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


def spawn(
    chain: Chain, *args: str, receipt_timeout: float, account: str = HOSPITAL_ACCOUNT
) -> subprocess.Popen[str]:
    """`medchain --json <args>` as a child process (fault_cli.py caps its receipt timeout)."""
    env = {k: v for k, v in os.environ.items() if k != "MEDCHAIN_FAULT"}
    env["MEDCHAIN_TEST_RECEIPT_TIMEOUT"] = str(receipt_timeout)
    base = ["--rpc-url", chain.url, "--manifest", str(chain.manifest), "--account", account, "--json"]
    return subprocess.Popen(
        [sys.executable, str(FAULT_CLI), *base, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> Run:
    stdout, stderr = proc.communicate(timeout=timeout)
    return Run(proc.returncode, stdout, stderr)


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")



def make_files(directory: Path, n: int, tag: str) -> list[Path]:
    """Record files whose content is new to the module's shared chain."""
    return helpers.make_files(directory, n, tag, unique=True)


# ---- reading the journals without the tools ----


def _rows(store: Path, sql: str, *params: Any) -> list[sqlite3.Row]:
    if not store.exists():
        return []
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute(sql, params).fetchall())
    except sqlite3.OperationalError:  # the tables do not exist yet
        return []
    finally:
        conn.close()


def record_submissions(store: Path) -> list[sqlite3.Row]:
    return _rows(store, "SELECT * FROM record_submissions ORDER BY id")


def claim_rows(store: Path) -> list[sqlite3.Row]:
    return _rows(store, "SELECT * FROM claim_submissions ORDER BY created_at, reference")


# ---- the checks every fault test ends with ----


def check_records(chain: Chain, store: Path, expected: int) -> None:
    """Every journaled record anchored exactly once, the journal settled and consistent, proofs valid.

    - every submission is ``done`` and every one of its items ``anchored`` (none left ``pending``: no row is
      both pending and done);
    - a leaf is in one live submission only, and there are `expected` of them;
    - a batch root was anchored by exactly one BatchAnchored event, for this hospital, with the journaled leaf
      count, and every journaled proof verifies locally and with RecordRegistry.verifyBatchRecord;
    - a single record has exactly one RecordAnchored event and getRecord names this hospital.
    """
    records = chain.suite.require("records")
    journal = Journal(open_store(store), chain.w3.eth.chain_id, records.address)
    try:
        subs = journal.submissions()
        assert subs, "nothing journaled"
        assert all(s.status == "done" for s in subs), [(s.id, s.status, s.note) for s in subs]
        leaves: list[bytes] = []
        for sub in subs:
            items = journal.items(sub.id)
            assert {it.state for it in items} == {"anchored"}, (sub.id, sorted({it.state for it in items}))
            leaves += [it.leaf for it in items]
            if sub.kind == "batch":
                assert sub.root is not None
                assert len(chain.batch_events(sub.root)) == 1, f"batch {sub.root.hex()} anchored ≠ once"
                hospital, anchored_at, leaf_count = records.functions.getBatch(sub.root).call()
                assert (hospital, leaf_count) == (sub.hospital, sub.leaf_count)
                assert anchored_at == sub.anchored_at
                for it in items:
                    proof = journal.proof(sub.id, it.value_index)
                    assert process_proof(it.leaf, proof) == sub.root
                    args = (sub.root, it.record_hash, it.commitment, it.data_class, proof)
                    assert records.functions.verifyBatchRecord(*args).call()
            else:
                for it in items:
                    assert len(chain.record_events(it.leaf)) == 1
                    assert records.functions.getRecord(it.leaf).call()[0] == sub.hospital
        assert len(leaves) == len(set(leaves)) == expected
    finally:
        journal.conn.close()


def check_claims(chain: Chain, store: Path, references: list[str]) -> None:
    """Every claim submitted exactly once and the claim journal consistent with the chain.

    - one journal row per reference, ``submitted``, with a claim id and a tx hash;
    - exactly one ClaimSubmitted event carries keccak256(reference), in that tx, with that claim id;
    - the claim exists on chain with the journaled policy and amount.
    """
    claims = chain.suite.require("claims")
    journal = ClaimJournal(open_store(store), claims.address)
    try:
        rows = {r["reference"]: r for r in journal.rows()}
    finally:
        journal.conn.close()
    assert sorted(rows) == sorted(references)
    events = chain.claim_events()
    for reference in references:
        row = rows[reference]
        assert row["status"] == "submitted" and row["claim_id"] and row["tx_hash"], dict(row)
        mine = [e for e in events if bytes(e["args"]["claimRef"]) == keccak(text=reference)]
        assert len(mine) == 1, f"{reference}: {len(mine)} ClaimSubmitted events"
        (event,) = mine
        assert int(event["args"]["claimId"]) == row["claim_id"]
        assert Web3.to_hex(event["transactionHash"]) == row["tx_hash"]
        claim = claims.functions.getClaim(row["claim_id"]).call()
        assert claim[2] != 0 and claim[1] == row["policy_id"] and str(claim[4]) == row["amount"]
