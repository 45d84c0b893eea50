"""`medchain store backup | restore | check`: a consistent copy while another process writes, a kill -9
mid-copy that leaves the store intact and no complete-looking file, and a restored store that anchors
nothing twice on a real Anvil, every proof still verifying."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import make_files
from typer.testing import CliRunner
from web3 import Web3
from web3.logs import DISCARD

from medchain import records as rs
from medchain.cli import app
from medchain.contracts import Suite
from medchain.deploy import deploy_all, write_manifest
from medchain.errors import InputError
from medchain.merkle import RECORD_LEAF_ENCODING, StandardMerkleTree
from medchain.node import Anvil
from medchain.store import backup as store_backup
from medchain.store import open_store
from medchain.store.records import Item, Journal
from medchain.store.schema import SCHEMA_VERSION

REGISTRY = "0x" + "11" * 20
HOSPITAL = "0x" + "22" * 20
PATIENT = "0x" + "ab" * 20


def _fill(path: Path, batches: int, size: int) -> int:
    journal = Journal(open_store(path), 1337, REGISTRY)
    for _ in range(batches):
        items = [Item(os.urandom(32), os.urandom(32), 1, "raw", "x" * 40) for _ in range(size)]
        tree = StandardMerkleTree.of([it.value for it in items], RECORD_LEAF_ENCODING)
        journal.create("batch", HOSPITAL, items, tree=tree)
    journal.conn.close()
    return batches * size


def _counts(path: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return tuple(  # type: ignore[return-value]
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("record_submissions", "record_items", "record_trees")
        )
    finally:
        conn.close()


def _consistent(path: Path) -> None:
    """Every submission in the copy has all its items and its tree: no write was caught half-way."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert [r[0] for r in conn.execute("PRAGMA integrity_check")] == ["ok"]
        rows = conn.execute(
            "SELECT s.id, s.leaf_count, (SELECT COUNT(*) FROM record_items i WHERE i.submission_id = s.id),"
            " (SELECT LENGTH(nodes) FROM record_trees t WHERE t.submission_id = s.id)"
            " FROM record_submissions s"
        ).fetchall()
    finally:
        conn.close()
    assert rows
    for sub_id, leaf_count, items, nodes in rows:
        assert items == leaf_count, sub_id
        assert nodes in (None, (2 * leaf_count - 1) * 32), sub_id


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medchain.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_backup_is_a_checked_copy_and_never_overwrites(tmp_path: Path) -> None:
    store = tmp_path / "medchain.sqlite"
    records = _fill(store, 3, 400)
    out = tmp_path / "b.sqlite"
    info = store_backup.backup(store, out)
    assert info["records"] == records and info["schemaVersion"] == SCHEMA_VERSION
    assert _counts(out) == _counts(store) and not Path(f"{out}-wal").exists()
    with pytest.raises(InputError, match="already exists"):
        store_backup.backup(store, out)
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []


def test_kill_9_during_a_backup_leaves_the_store_intact_and_no_complete_looking_file(tmp_path: Path) -> None:
    store = tmp_path / "medchain.sqlite"
    _fill(store, 4, 5000)  # several MiB: many backup steps
    before = _counts(store)
    out = tmp_path / "backup.sqlite"
    result = _cli("store", "backup", "--store", str(store), "--out", str(out),
                  env={"MEDCHAIN_FAULT": "store-backup-step"})  # fmt: skip
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".backup.sqlite.partial-")]
    assert _counts(store) == before
    _consistent(store)
    result = _cli("store", "backup", "--store", str(store), "--out", str(out))  # the next run is whole
    assert result.returncode == 0, result.stderr
    assert _counts(out) == before


def test_a_backup_taken_while_another_process_writes_is_consistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "medchain.sqlite"
    _fill(store, 2, 3000)
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(store), str(stop)], env=os.environ.copy(), stdout=subprocess.PIPE
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == b"writing"
        monkeypatch.setattr(store_backup, "STEP_PAGES", 16)  # many steps: the writer lands between them
        started = _counts(store)[0]
        seen: list[tuple[int, int]] = []

        def progress(done: int, total: int) -> None:
            seen.append((done, total))
            time.sleep(0.02)  # a slow copy: the writer commits between its steps

        store_backup.backup(store, tmp_path / "b.sqlite", progress=progress)
    finally:
        stop.touch()
        writer.wait(timeout=60)
    assert writer.returncode == 0
    assert any(later[0] <= earlier[0] for earlier, later in zip(seen, seen[1:], strict=False)), (
        seen
    )  # restarted
    _consistent(tmp_path / "b.sqlite")
    assert _counts(tmp_path / "b.sqlite")[0] >= 2
    assert _counts(store)[0] > started  # the writer wrote while the copy ran


_WRITER = """
import os, sys, time
from pathlib import Path
os.environ["MEDCHAIN_INSECURE_STORE"] = "1"
from medchain.merkle import RECORD_LEAF_ENCODING, StandardMerkleTree
from medchain.store import open_store
from medchain.store.records import Item, Journal
from medchain.store.schema import SCHEMA_VERSION
journal = Journal(open_store(sys.argv[1]), 1337, "0x" + "11" * 20)
print("writing", flush=True)
stop = Path(sys.argv[2])
while not stop.exists():
    items = [Item(os.urandom(32), os.urandom(32), 1, "raw") for _ in range(200)]
    tree = StandardMerkleTree.of([it.value for it in items], RECORD_LEAF_ENCODING)
    journal.create("batch", "0x" + "22" * 20, items, tree=tree)
"""


def test_restore_refuses_what_is_not_a_good_backup(tmp_path: Path) -> None:
    store = tmp_path / "medchain.sqlite"
    _fill(store, 1, 10)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database" * 100)
    with pytest.raises(InputError, match="not a MedChain store backup"):
        store_backup.restore(junk, store)
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).execute("CREATE TABLE t (x)")
    with pytest.raises(InputError, match="no journal or salt key tables"):
        store_backup.restore(empty, store)
    assert _counts(store) == (1, 10, 1)


# ---- on a chain ----


@pytest.fixture(scope="module")
def chain(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> tuple[Web3, Suite, Path]:
    w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))
    acc = w3.eth.accounts
    manifest = deploy_all(w3, acc[0], [acc[0]], ["Council"], 1, write=False)
    path = tmp_path_factory.mktemp("store-env") / "manifest.json"
    write_manifest(manifest, path)
    suite = Suite.load(w3, manifest)
    from medchain import tx
    from medchain.codes import ROLE_BITS

    c = suite.consortium
    receipt = tx.send(w3, c.functions.propose(1, acc[3], ROLE_BITS["HOSPITAL"], "Hospital A", ""), acc[0])
    proposal_id = c.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["proposalId"]
    tx.send(w3, c.functions.execute(proposal_id), acc[0])
    return w3, suite, path


def _service(w3: Web3, suite: Suite, store: Path) -> rs.RecordService:
    return rs.RecordService.open(w3, suite.records, suite.consortium, open_store(store), w3.eth.accounts[3])


def test_after_a_restore_a_rerun_anchors_nothing_twice_and_every_proof_verifies(
    chain: tuple[Web3, Suite, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w3, suite, manifest = chain
    monkeypatch.delenv("MEDCHAIN_INSECURE_STORE")
    monkeypatch.setenv("MEDCHAIN_STORE_PASSPHRASE", "hospital a")
    store, saved = tmp_path / "medchain.sqlite", tmp_path / "saved.sqlite"
    first = make_files(tmp_path / "first", 6, "first")
    svc = _service(w3, suite, store)
    items = rs.collect_batch_inputs(
        svc.journal, svc.hospital, tmp_path / "first", patient=PATIENT, data_class="LAB"
    )
    (sub,) = rs.anchor_batch(svc, items).settled
    store_backup.backup(store, saved)
    # after the backup the hospital anchors more, then loses the store
    second = make_files(tmp_path / "second", 4, "second")
    items2 = rs.collect_batch_inputs(
        svc.journal, svc.hospital, tmp_path / "second", patient=PATIENT, data_class="LAB"
    )
    (sub2,) = rs.anchor_batch(svc, items2).settled
    svc.journal.conn.close()
    store.unlink()
    Path(f"{store}-wal").unlink(missing_ok=True)
    Path(f"{store}-shm").unlink(missing_ok=True)

    runner = CliRunner()
    base = ["--rpc-url", w3.provider.endpoint_uri, "--manifest", str(manifest), "--json"]  # type: ignore[attr-defined]
    result = runner.invoke(app, [*base, "store", "restore", str(saved), "--store", str(store)])
    assert result.exit_code == 0, result.output
    svc = _service(w3, suite, store)
    events_before = len(suite.records.events.BatchAnchored().get_logs(from_block=0))
    report = rs.anchor_batch(svc, rs.collect_batch_inputs(
        svc.journal, svc.hospital, tmp_path / "first", patient=PATIENT, data_class="LAB"))  # fmt: skip
    assert report.skipped == len(first) and report.settled == []
    # the batch anchored after the backup: same salt key, same leaves, same root: found on chain, not re-sent
    report = rs.anchor_batch(svc, rs.collect_batch_inputs(
        svc.journal, svc.hospital, tmp_path / "second", patient=PATIENT, data_class="LAB"))  # fmt: skip
    (again,) = report.settled
    assert again.root == sub2.root and again.status == "done" and again.attempts == 0
    assert len(suite.records.events.BatchAnchored().get_logs(from_block=0)) == events_before
    for s in (svc.journal.by_root(sub.root), again):  # type: ignore[arg-type]
        assert s is not None
        for item in svc.journal.items(s.id):
            proof = svc.journal.proof(s.id, item.value_index)
            assert suite.records.functions.verifyBatchRecord(
                s.root, item.record_hash, item.commitment, item.data_class, proof
            ).call()
    assert len(second) == 4
    result = runner.invoke(app, [*base, "store", "check", "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert '"ok": true' in result.output and '"submissions": 2' in result.output


def test_check_names_a_journaled_batch_the_chain_does_not_have(
    chain: tuple[Web3, Suite, Path], tmp_path: Path
) -> None:
    w3, suite, manifest = chain
    store = tmp_path / "medchain.sqlite"
    svc = _service(w3, suite, store)
    items = [Item(os.urandom(32), os.urandom(32), 1, "raw") for _ in range(3)]
    tree = StandardMerkleTree.of([it.value for it in items], RECORD_LEAF_ENCODING)
    sub = svc.journal.create("batch", svc.hospital, items, tree=tree)
    svc.journal.mark_done(sub.id, tx_hash=None, block_number=None, anchored_at=None)  # a lie
    base = ["--rpc-url", w3.provider.endpoint_uri, "--manifest", str(manifest)]  # type: ignore[attr-defined]
    result = CliRunner().invoke(app, [*base, "store", "check", "--store", str(store)])
    assert result.exit_code == 1
    assert "not on chain as journaled" in result.output
