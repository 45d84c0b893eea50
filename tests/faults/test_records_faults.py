"""Fault injection for `medchain records` against a private Anvil (issue #8 item 4).

tests/medchain/records/test_records_crash.py already SIGKILLs the *tool* at every journal step and restarts
the node after such a kill. The faults here hit the *node* while the tool keeps running:

(a) the node restarts from its saved state while the tool waits for its batch receipt;
(b) the node drops the pending anchoring transaction (`anvil_dropTransaction`);
(c) a reorg (`anvil_reorg`, or `evm_snapshot`/`evm_revert`) removes the anchoring after the tool recorded it
    done;
(d) the node stalls (automine off) past the tool's receipt timeout.

After each, re-running the same command must leave every record anchored exactly once, the journal settled
and consistent, and every batch proof valid on chain (`faultkit.check_records`).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from faultkit import (
    PATIENT,
    Chain,
    automine_off,
    cap_receipt_timeout,
    check_records,
    cli,
    deploy,
    drop,
    finish,
    make_files,
    reconnect,
    record_submissions,
    reorg_out,
    spawn,
    wait_until,
)

from medchain.node import Anvil

TIMEOUT = 2.0  # seconds the tool waits for a receipt in these tests (its default is 120)


def anchor_args(kind: str, source: Path, store: Path) -> list[str]:
    """The same command, run again after each fault: a Merkle batch of a directory, or anchorMany of files."""
    files = [str(p) for p in sorted(source.iterdir())] if kind == "anchor" else [str(source)]
    return ["records", kind, *files, "--patient", PATIENT, "--class", "LAB", "--store", str(store)]


@pytest.mark.parametrize("kind", ["batch", "anchor"])
def test_stalled_node_times_out_with_one_line_then_rerun_completes(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """(d) automine off: the tool gives up after its receipt timeout with a one-line error and exit 1, the
    journal holds the sent submission; once the node mines again, the same command settles it without
    sending a second transaction."""
    make_files(tmp_path / "in", 6, f"stall-{kind}")
    store = tmp_path / "store.sqlite"
    args = anchor_args(kind, tmp_path / "in", store)
    cap_receipt_timeout(monkeypatch, TIMEOUT)
    with automine_off(chain):
        stalled = cli(chain, *args)
        assert stalled.exit_code == 1, stalled.stdout
        line = stalled.error_line()
        assert line.startswith("error: no receipt for 0x") and line.endswith(f"within {TIMEOUT:.0f} s"), line
        (sub,) = record_submissions(store)
        assert (sub["status"], sub["attempts"]) == ("sent", 1) and sub["tx_hash"] is not None
    # automine back on: Anvil mines the pending transaction
    again = cli(chain, *args)
    assert again.exit_code == 0, again.stderr
    report = again.json()
    assert report["resumed"] == 1 and report["skipped"] == 6
    ((sub,),) = [report["submissions"]]
    assert sub["status"] == "done" and sub["attempts"] == 1  # the receipt was found: no second transaction
    check_records(chain, store, 6)
    third = cli(chain, *args)
    assert third.exit_code == 0 and third.json()["skipped"] == 6 and third.json()["submissions"] == []
    check_records(chain, store, 6)


@pytest.mark.parametrize("kind", ["batch", "anchor"])
def test_dropped_transaction_is_sent_again_once(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """(b) automine off, the tool sends, the node drops the pending transaction, automine on: the same command
    finds the transaction unknown, sends it again, and everything is anchored exactly once."""
    make_files(tmp_path / "in", 5, f"drop-{kind}")
    store = tmp_path / "store.sqlite"
    args = anchor_args(kind, tmp_path / "in", store)
    cap_receipt_timeout(monkeypatch, TIMEOUT)
    with automine_off(chain):
        first = cli(chain, *args)
        assert first.exit_code == 1 and "no receipt for" in first.error_line()
        (sub,) = record_submissions(store)
        drop(chain, bytes(sub["tx_hash"]))
    again = cli(chain, *args)
    assert again.exit_code == 0, again.stderr
    (sub,) = again.json()["submissions"]
    assert sub["status"] == "done" and sub["attempts"] == 2
    check_records(chain, store, 5)


@pytest.mark.parametrize("kind", ["batch", "anchor"])
@pytest.mark.parametrize("how", ["anvil_reorg", "evm_revert"])
def test_reorg_after_done_is_detected_and_anchored_again(
    chain: Chain, tmp_path: Path, kind: str, how: str
) -> None:
    """(c) the anchoring transaction is reorged out after the tool recorded the submission done: re-running
    the same command must notice the missing chain state and anchor again, once."""
    make_files(tmp_path / "in", 4, f"reorg-{kind}-{how}")
    store = tmp_path / "store.sqlite"
    args = anchor_args(kind, tmp_path / "in", store)
    snapshot = chain.rpc("evm_snapshot") if how == "evm_revert" else None
    first = cli(chain, *args)
    assert first.exit_code == 0, first.stderr
    check_records(chain, store, 4)
    (sub,) = record_submissions(store)
    if snapshot is not None:
        assert chain.rpc("evm_revert", snapshot) is True
    else:
        reorg_out(chain, bytes(sub["tx_hash"]))
    again = cli(chain, *args)
    assert again.exit_code == 0, again.stderr
    check_records(chain, store, 4)


@pytest.mark.parametrize("stop", ["graceful", "hard"])
def test_node_restart_from_saved_state_while_the_batch_waits(tmp_path: Path, stop: str) -> None:
    """(a) the tool has journaled and sent its batch and waits for the receipt (node not mining); the node
    stops (gracefully: state dumped on exit; hard: only its last one-second dump survives) and restarts from
    its state file, without the pending transaction. The tool ends with one line and exit 1; the same
    command against the restarted node sends the batch again and anchors it exactly once."""
    state = tmp_path / "anvil-state.json"
    node = Anvil(state_file=state).start()
    try:
        chain = deploy(node, tmp_path)
        if stop == "hard":  # (a graceful stop dumps the state on exit)
            time.sleep(1.5)  # the deployment reaches the state file (--state-interval 1)
        make_files(tmp_path / "in", 12, f"restart-{stop}")
        store = tmp_path / "store.sqlite"
        args = anchor_args("batch", tmp_path / "in", store)
        chain.rpc("evm_setAutomine", False)
        proc = spawn(chain, *args, receipt_timeout=60)
        try:
            sent = wait_until(
                lambda: [s for s in record_submissions(store) if s["status"] == "sent"], 60, "the batch sent"
            )
        finally:
            node.stop() if stop == "graceful" else node.kill()
        interrupted = finish(proc, timeout=90)
        assert interrupted.exit_code == 1, (interrupted.stdout, interrupted.stderr)
        line = interrupted.error_line()
        assert line.startswith("error: "), line
        assert [s["status"] for s in record_submissions(store)] == ["sent"]  # resumable
    finally:
        node.stop()
    restarted = Anvil(state_file=state).start()
    try:
        chain = reconnect(chain, restarted)
        with pytest.raises(Exception, match="not found"):
            chain.w3.eth.get_transaction(bytes(sent[0]["tx_hash"]))  # the pending tx did not survive
        again = cli(chain, *args)
        assert again.exit_code == 0, again.stderr
        (sub,) = again.json()["submissions"]
        assert sub["status"] == "done" and sub["attempts"] == 2
        check_records(chain, store, 12)
    finally:
        restarted.stop()
