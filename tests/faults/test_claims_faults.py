"""Fault injection for `medchain claims submit` against a private Anvil (issue #8 item 4).

The claim journal is keyed by each claim's own reference, so re-running the same files must never submit a
claim twice. Faults hit the node while the tool runs (the tool itself is not killed; the colleague's
tests/medchain/claims/test_claims_service.py covers crashes between intent, send and receipt):

(a) the node restarts from its saved state while the tool waits for a claim's receipt;
(b) the node drops the pending submitClaim transaction;
(c) a reorg (`anvil_reorg`, or `evm_snapshot`/`evm_revert`) removes a submission the tool recorded;
(d) the node stalls (automine off) past the tool's receipt timeout.

After each, the same command leaves every claim submitted exactly once and the journal consistent with the
chain (`faultkit.check_claims`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from faultkit import (
    Chain,
    automine_off,
    cap_receipt_timeout,
    check_claims,
    claim_rows,
    cli,
    deploy,
    drop,
    finish,
    reconnect,
    reorg_out,
    spawn,
    wait_until,
)

from medchain.node import Anvil

TIMEOUT = 1.5


def submit_args(source: Path, store: Path) -> list[str]:
    return ["claims", "submit", str(source), "--store", str(store)]


def outcomes(run_json: list[dict]) -> dict[str, str]:
    return {r["reference"]: r["outcome"] for r in run_json}


def test_stalled_node_reports_the_timeout_then_rerun_submits_once(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(d) automine off: each claim gives up after the receipt timeout with a one-line problem and the command
    exits 1, leaving the rows `sent`; once the node mines again the same command finds both receipts and
    sends nothing new."""
    policy = chain.policy()
    refs = ["STALL-1", "STALL-2"]
    for ref in refs:
        chain.claim_file(tmp_path / "in", ref, policy)
    store = tmp_path / "store.sqlite"
    cap_receipt_timeout(monkeypatch, TIMEOUT)
    with automine_off(chain):
        stalled = cli(chain, *submit_args(tmp_path / "in", store))
        assert stalled.exit_code == 1 and "Traceback" not in stalled.stderr
        results = stalled.json()
        assert outcomes(results) == {ref: "failed" for ref in refs}
        for r in results:
            (problem,) = r["problems"]
            assert problem.startswith("no receipt for 0x") and "\n" not in problem
        assert [(r["reference"], r["status"]) for r in claim_rows(store)] == [(ref, "sent") for ref in refs]
    again = cli(chain, *submit_args(tmp_path / "in", store))
    assert again.exit_code == 0, again.stdout
    assert outcomes(again.json()) == {ref: "already-submitted" for ref in refs}
    assert all(r["attempts"] == 1 for r in claim_rows(store))  # no second transaction
    check_claims(chain, store, refs)


def test_dropped_submission_is_sent_again_once(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(b) automine off, submit, the node drops the pending transaction, automine on: the same command learns
    the transaction is unknown, submits again, and the claim exists once."""
    policy = chain.policy()
    chain.claim_file(tmp_path / "in", "DROP-1", policy)
    store = tmp_path / "store.sqlite"
    cap_receipt_timeout(monkeypatch, TIMEOUT)
    with automine_off(chain):
        first = cli(chain, *submit_args(tmp_path / "in", store))
        assert first.exit_code == 1 and outcomes(first.json()) == {"DROP-1": "failed"}
        (row,) = claim_rows(store)
        assert row["status"] == "sent"
        drop(chain, row["tx_hash"])
    again = cli(chain, *submit_args(tmp_path / "in", store))
    assert again.exit_code == 0, again.stdout
    assert outcomes(again.json()) == {"DROP-1": "submitted"}
    (row,) = claim_rows(store)
    assert row["attempts"] == 2
    check_claims(chain, store, ["DROP-1"])
    third = cli(chain, *submit_args(tmp_path / "in", store))
    assert third.exit_code == 0 and outcomes(third.json()) == {"DROP-1": "already-submitted"}
    check_claims(chain, store, ["DROP-1"])


@pytest.mark.parametrize("how", ["anvil_reorg", "evm_revert"])
def test_reorged_out_submission_is_detected_and_submitted_again(
    chain: Chain, tmp_path: Path, how: str
) -> None:
    """(c) the submitClaim transaction disappears in a reorg after the journal recorded the claim id: the same
    command must notice the claim is not on chain and submit it again, once."""
    policy = chain.policy()
    ref = f"REORG-{how}"
    chain.claim_file(tmp_path / "in", ref, policy)
    store = tmp_path / "store.sqlite"
    snapshot = chain.rpc("evm_snapshot") if how == "evm_revert" else None
    first = cli(chain, *submit_args(tmp_path / "in", store))
    assert first.exit_code == 0 and outcomes(first.json()) == {ref: "submitted"}
    check_claims(chain, store, [ref])
    if snapshot is not None:  # taken after the policy and the evidence: only the submission is undone
        assert chain.rpc("evm_revert", snapshot) is True
    else:
        reorg_out(chain, claim_rows(store)[0]["tx_hash"])
    again = cli(chain, *submit_args(tmp_path / "in", store))
    assert again.exit_code == 0, again.stdout
    check_claims(chain, store, [ref])


def test_node_restart_from_saved_state_while_a_claim_waits(tmp_path: Path) -> None:
    """(a) the claim was sent and the tool waits for its receipt (node not mining) when the node stops and
    restarts from its state file without the pending transaction: the tool ends with exit 1 and one line; the
    same command against the restarted node submits the claim once."""
    state = tmp_path / "anvil-state.json"
    node = Anvil(state_file=state).start()
    try:
        chain = deploy(node, tmp_path)
        source = chain.claim_file(tmp_path / "in", "RESTART-1", chain.policy())
        store = tmp_path / "store.sqlite"
        chain.rpc("evm_setAutomine", False)
        proc = spawn(chain, *submit_args(source, store), receipt_timeout=60)
        try:
            wait_until(lambda: [r for r in claim_rows(store) if r["status"] == "sent"], 60, "the claim sent")
        finally:
            node.stop()  # graceful: the state is dumped on exit (the records test covers a hard kill too)
        interrupted = finish(proc, timeout=90)
        assert interrupted.exit_code == 1, (interrupted.stdout, interrupted.stderr)
        assert interrupted.error_line().startswith("error: ")
        assert [r["status"] for r in claim_rows(store)] == ["sent"]
    finally:
        node.stop()
    restarted = Anvil(state_file=state).start()
    try:
        chain = reconnect(chain, restarted)
        again = cli(chain, *submit_args(source, store))
        assert again.exit_code == 0, again.stdout
        assert outcomes(again.json()) == {"RESTART-1": "submitted"}
        check_claims(chain, store, ["RESTART-1"])
    finally:
        restarted.stop()
