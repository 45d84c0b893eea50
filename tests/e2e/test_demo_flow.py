"""The platform's core flow end to end on every local client (DESIGN §4): Anvil, py-evm (the second EVM
implementation), Ganache 7.9.2 and Hardhat 3's node; and the privacy scan over everything the flow left on
chain (storage too where the node can dump it: Anvil)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from medchain.demo import DemoContext, run

QUIET = Console(file=open("/dev/null", "w"))  # noqa: SIM115 - lives as long as the test session


CLIENTS = ["anvil", "pyevm", "ganache", "hardhat"]


@pytest.mark.parametrize("client", CLIENTS)
def test_demo_end_to_end(client: str, tmp_path: Path) -> None:
    """One test per client, so `pytest -n 2` runs each demo once (a module-scoped fixture would run it again
    on every worker that gets one of its tests; brownie's plugin breaks xdist's loadgroup)."""
    ctx = run(chain=client, out_dir=tmp_path / f"demo-{client}", records=64, console=QUIET, keep_running=True)
    try:
        for check in CHECKS:
            check(ctx)
    finally:
        if "node" in ctx.facts:
            ctx.facts["node"].stop()


def check_every_step_ran_and_sent_transactions(flow: DemoContext) -> None:
    assert [s.number for s in flow.steps] == list(range(1, 10))
    assert all(s.txs > 0 for s in flow.steps[:7])


def check_patient_without_eth_gave_consent_by_signature(flow: DemoContext) -> None:
    patient = flow.address("patient")
    assert flow.w3.eth.get_balance(patient) == 0
    assert flow.facts["consent_permitted"] is True
    assert flow.w3.eth.get_transaction_count(patient) == 0  # never sent a transaction itself


def check_evidence_package_verified_and_access_logged(flow: DemoContext) -> None:
    assert flow.facts["evidence_verdict"] in (True, "valid", "ok")
    assert flow.facts["access"]["accessor"] == flow.address("hospital_b")


def check_claim_paid_once_duplicate_refused_dual_control(flow: DemoContext) -> None:
    assert flow.facts["claim_outcome"] == "submitted"
    assert flow.facts["rerun_outcome"] == "already-submitted"
    duplicate = flow.facts["duplicate"]
    assert duplicate.outcome == "refused" and "already backs live claim 1" in duplicate.problems[0]
    assert flow.facts["approvals"] == ("awaiting second key", "approved")
    assert flow.facts["patient_balance"] == 865_000  # 8,650.00 at 2 decimals


def check_drug_dispense_duplicate_and_consumer_pages(flow: DemoContext) -> None:
    assert flow.facts["dispense"] == (True, False, 1)
    pages = flow.facts["pages"]
    assert {state: code for state, (code, _) in pages.items()} == {
        "genuine": 200,
        "dispensed": 200,
        "duplicate": 200,
        "not_found": 404,  # an invented serial on the real lot: the published tree shows it is not there
        "recalled": 200,
    }
    assert "召回" in pages["recalled"][1]  # the recalled banner, in Chinese
    assert "正品 · 未售出" in pages["genuine"][1]  # proven against the published tree, not just "registered"
    saved = (flow.out / "consumer-pages" / "genuine.html").read_text()
    assert "<style>" in saved and "/static/" not in saved  # opens from disk
    assert "未找到该药品" in pages["not_found"][1]
    assert len(list((flow.out / "published" / "trees").glob("0x*.json"))) == 1  # at the maker's member URI
    assert "Recalled" in pages["recalled"][1] or "recalled" in pages["recalled"][1]


def check_break_glass_permits_emergency(flow: DemoContext) -> None:
    assert flow.facts["emergency_permitted"] is True


def check_record_exchange_released_under_consent_refused_after_revocation(flow: DemoContext) -> None:
    assert flow.facts["exchange_fetched"] == 3  # the patient's LAB, IMAGING and BILLING records at hospital A
    assert flow.facts["exchange_refused"] is True
    assert flow.facts["exchange_own"] == 3
    assert len(list((flow.out / "received-by-b").iterdir())) == 3


def check_reports_written(flow: DemoContext) -> None:
    for name in ("gas.md", "gas.json", "evidence-package.json", "claim.json", "drug-journey.json"):
        assert (flow.out / name).is_file(), name


def check_privacy_scan_finds_no_planted_personal_data(flow: DemoContext) -> None:
    assert flow.facts["planted"].needles()  # the records really carry names, IDs, diagnoses, notes
    assert flow.facts["privacy_findings"] == []
    # storage is scanned where the node dumps it (anvil_dumpState); elsewhere the demo says it was not
    assert flow.facts["privacy_storage_scanned"] is (flow.chain == "anvil")


def check_linkage_observer_links_only_opened_records(flow: DemoContext) -> None:
    linked = flow.facts["linkage"]
    assert linked.opened and linked.links == linked.opened and not linked.extra_links
    assert len(linked.opened) == 4  # hospital B's access to one batch record + the claim's 3 evidence records


def check_privacy_scan_would_find_a_leak(flow: DemoContext) -> None:
    """The scan is not blind: a value that is on chain (an institution name, in storage and in the
    MemberAdmitted event) is found, in storage where the node can dump it."""
    from medchain import privacy

    storage = flow.chain == "anvil"
    found = privacy.scan(
        flow.w3, flow.suite.addresses().values(), ["Provincial Audit Office 审计厅"], storage=storage
    )
    assert {f.form for f in found} >= {"raw"}
    assert any(f.where.startswith("event ") for f in found)
    assert any(f.where.startswith("storage ") for f in found) is storage


CHECKS = [
    check_every_step_ran_and_sent_transactions,
    check_patient_without_eth_gave_consent_by_signature,
    check_evidence_package_verified_and_access_logged,
    check_claim_paid_once_duplicate_refused_dual_control,
    check_drug_dispense_duplicate_and_consumer_pages,
    check_break_glass_permits_emergency,
    check_record_exchange_released_under_consent_refused_after_revocation,
    check_reports_written,
    check_privacy_scan_finds_no_planted_personal_data,
    check_privacy_scan_would_find_a_leak,
    check_linkage_observer_links_only_opened_records,
]


def test_second_run_starts_clean(tmp_path: Path) -> None:
    out = tmp_path / "again"
    (out / "stale").mkdir(parents=True)
    (out / "stale" / "old.txt").write_text("x")
    ctx = run(chain="anvil", out_dir=out, records=8, console=QUIET)
    assert not (out / "stale").exists() and ctx.facts["claim_outcome"] == "submitted"
