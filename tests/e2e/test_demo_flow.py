"""The platform's core flow end to end, on Anvil and on py-evm (the second EVM implementation), and the
privacy scan over everything the flow left on chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from medchain.demo import run

QUIET = Console(file=open("/dev/null", "w"))  # noqa: SIM115 - lives as long as the test session


@pytest.fixture(scope="module", params=["anvil", "pyevm"])
def flow(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp(f"demo-{request.param}")
    ctx = run(chain=request.param, out_dir=out, records=64, console=QUIET, keep_running=True)
    yield ctx
    if "node" in ctx.facts:
        ctx.facts["node"].stop()


def test_every_step_ran_and_sent_transactions(flow) -> None:
    assert [s.number for s in flow.steps] == list(range(1, 10))
    assert all(s.txs > 0 for s in flow.steps[:7])


def test_patient_without_eth_gave_consent_by_signature(flow) -> None:
    patient = flow.address("patient")
    assert flow.w3.eth.get_balance(patient) == 0
    assert flow.facts["consent_permitted"] is True
    assert flow.w3.eth.get_transaction_count(patient) == 0  # never sent a transaction itself


def test_evidence_package_verified_and_access_logged(flow) -> None:
    assert flow.facts["evidence_verdict"] in (True, "valid", "ok")
    assert flow.facts["access"]["accessor"] == flow.address("hospital_b")


def test_claim_paid_once_duplicate_refused_dual_control(flow) -> None:
    assert flow.facts["claim_outcome"] == "submitted"
    assert flow.facts["rerun_outcome"] == "already-submitted"
    duplicate = flow.facts["duplicate"]
    assert duplicate.outcome == "refused" and "already backs live claim 1" in duplicate.problems[0]
    assert flow.facts["approvals"] == ("awaiting second key", "approved")
    assert flow.facts["patient_balance"] == 865_000  # 8,650.00 at 2 decimals


def test_drug_dispense_duplicate_and_consumer_pages(flow) -> None:
    assert flow.facts["dispense"] == (True, False, 1)
    pages = flow.facts["pages"]
    assert {state: code for state, (code, _) in pages.items()} == {
        "genuine": 200, "dispensed": 200, "duplicate": 200, "not_found": 200, "recalled": 200
    }
    assert "召回" in pages["recalled"][1]  # the recalled banner, in Chinese
    assert "Recalled" in pages["recalled"][1] or "recalled" in pages["recalled"][1]


def test_break_glass_permits_emergency(flow) -> None:
    assert flow.facts["emergency_permitted"] is True


def test_record_exchange_released_under_consent_refused_after_revocation(flow) -> None:
    assert flow.facts["exchange_fetched"] == 3  # the patient's LAB, IMAGING and BILLING records at hospital A
    assert flow.facts["exchange_refused"] is True
    assert flow.facts["exchange_own"] == 3
    assert len(list((flow.out / "received-by-b").iterdir())) == 3


def test_reports_written(flow) -> None:
    for name in ("gas.md", "gas.json", "evidence-package.json", "claim.json", "drug-journey.json"):
        assert (flow.out / name).is_file(), name


def test_privacy_scan_finds_no_planted_personal_data(flow) -> None:
    if flow.chain != "anvil":
        pytest.skip("the storage scan reads Anvil's state dump")
    assert flow.facts["planted"].needles()  # the records really carry names, IDs, diagnoses, notes
    assert flow.facts["privacy_findings"] == []


def test_privacy_scan_would_find_a_leak(flow) -> None:
    """The scan is not blind: a value that is on chain (an institution name) is found."""
    from medchain import privacy

    if flow.chain != "anvil":
        pytest.skip("the storage scan reads Anvil's state dump")
    found = privacy.scan(flow.w3, flow.suite.addresses().values(), ["Provincial Audit Office 审计厅"])
    assert {f.form for f in found} >= {"raw"}


def test_second_run_starts_clean(tmp_path: Path) -> None:
    out = tmp_path / "again"
    (out / "stale").mkdir(parents=True)
    (out / "stale" / "old.txt").write_text("x")
    ctx = run(chain="anvil", out_dir=out, records=8, console=QUIET)
    assert not (out / "stale").exists() and ctx.facts["claim_outcome"] == "submitted"
