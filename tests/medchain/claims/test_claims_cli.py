"""`medchain claims ...` through the root CLI (CliRunner, in process) on a real Anvil: the submission tool on
malformed files and a partly failing directory (re-run submits nothing twice), then the insurer, council and
holder commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from test_claims_service import DAY, IMAGING, Env, claim_doc, write
from test_claims_service import env as env  # noqa: F401 - a fixture, re-exported for this module
from typer.testing import CliRunner

from medchain import consortium
from medchain.cli import MedchainGroup
from medchain.cli import claims as claims_cli
from medchain.cli import root as root_callback

HOSPITAL, INSURER, INSURER_B, COUNCIL, OPERATOR, HOLDER, HOLDER2 = "3", "5", "6", "0", "11", "14", "15"


def _app() -> typer.Typer:
    """The root app's options and error handling, with the claims group."""
    app = typer.Typer(cls=MedchainGroup, pretty_exceptions_enable=False)
    app.callback()(root_callback)
    app.add_typer(claims_cli.app, name="claims")
    return app


class Claims:
    def __init__(self, env: Env, store: Path) -> None:
        self.env, self.store, self.app, self.runner = env, store, _app(), CliRunner()

    def __call__(self, *args: str, account: str = HOSPITAL) -> Any:
        base = ["--rpc-url", self.env.url, "--manifest", str(self.env.manifest), "--account", account]
        return self.runner.invoke(self.app, [*base, "claims", *args], catch_exceptions=False)

    def json(self, *args: str, account: str = HOSPITAL, code: int = 0) -> Any:
        result = self(*args, "--json", account=account)
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)

    def submit(self, *paths: Path, account: str = HOSPITAL, code: int = 0) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.json(
            "submit", *map(str, paths), "--store", str(self.store), account=account, code=code
        )
        return data

    def fails(self, *args: str, account: str = HOSPITAL) -> str:
        result = self(*args, account=account)
        assert result.exit_code == 1, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in result.output, result.output
        return lines[0]


@pytest.fixture
def cli(env: Env, tmp_path: Path) -> Claims:  # noqa: F811 - the imported fixture
    return Claims(env, tmp_path / "store.sqlite")


# ---- the submission tool ----


def test_partial_directory_good_go_through_bad_reported_rerun_sends_nothing(
    cli: Claims, env: Env, tmp_path: Path
) -> None:
    policy = env.policy()
    d = tmp_path / "inbox"
    write(d, "01-good.json", claim_doc(env, policy, [env.anchor(), env.anchor(data_class=IMAGING)], ref="G1"))
    ev = env.anchor()
    csv = "reference,policyId,amount,currency,recordHash,salt,dataClass\n"
    write(d, "02-good.csv", csv + f"G2,{policy},5.00,tCNY,{ev['recordHash']},{ev['salt']},LAB\n")
    write(
        d,
        "03-malformed.json",
        json.dumps(claim_doc(env, policy, [{"recordHash": "0x12", "salt": "x"}], ref="M")),
    )
    write(
        d, "04-unanchored.json", claim_doc(env, policy, [{**env.anchor(), "salt": "0x" + "77" * 32}], ref="U")
    )
    before = env.claim_count()
    results = cli.submit(d, code=1)
    outcomes = {(r["source"], r["outcome"]) for r in results}
    assert outcomes == {
        ("03-malformed.json", "invalid"),
        ("01-good.json", "submitted"),
        ("02-good.csv row 2", "submitted"),
        ("04-unanchored.json", "refused"),
    }
    malformed = [p for r in results if r["outcome"] == "invalid" for p in r["problems"]]
    assert "evidence[0].recordHash: must be 0x followed by 64 hex digits (32 bytes)" in malformed
    assert "evidence[0].dataClass: is required" in malformed
    assert env.claim_count() == before + 2
    again = cli.submit(d, code=1)
    assert {r["reference"]: r["outcome"] for r in again if r["reference"]} == {
        "G1": "already-submitted",
        "G2": "already-submitted",
        "U": "refused",
    }
    assert env.claim_count() == before + 2
    journal = cli.json("journal", "--store", str(cli.store))
    assert sorted(row["reference"] for row in journal) == ["G1", "G2"]


def test_all_good_exits_zero_with_a_table(cli: Claims, env: Env, tmp_path: Path) -> None:
    policy = env.policy()
    write(tmp_path, "one.json", claim_doc(env, policy, [env.anchor()], ref="T1"))
    result = cli("submit", str(tmp_path / "one.json"), "--store", str(cli.store))
    assert result.exit_code == 0, result.output
    assert "claim submissions" in result.stdout and "submitted" in result.stdout and "T1" in result.stdout


def test_dry_run_checks_only(cli: Claims, env: Env, tmp_path: Path) -> None:
    policy = env.policy()
    write(tmp_path, "one.json", claim_doc(env, policy, [env.anchor()], ref="DRY"))
    before = env.claim_count()
    (result,) = cli.json("submit", str(tmp_path / "one.json"), "--dry-run", "--store", str(cli.store))
    assert result["outcome"] == "checked" and env.claim_count() == before


def test_only_malformed_files_need_no_chain_writes(cli: Claims, tmp_path: Path) -> None:
    write(tmp_path, "bad.json", '{"reference": "X", "policyId": 1,')
    (result,) = cli.submit(tmp_path / "bad.json", code=1)
    assert result["outcome"] == "invalid"
    assert result["problems"][0].startswith("invalid JSON at line 1 column")


def test_holder_submits_with_own_key(cli: Claims, env: Env, tmp_path: Path) -> None:
    policy = env.policy()
    write(tmp_path, "mine.json", claim_doc(env, policy, [env.anchor()], ref="HOLDER-1"))
    (result,) = cli.submit(tmp_path / "mine.json", account=HOLDER)
    assert result["outcome"] == "submitted"


def test_stranger_is_refused_with_reason(cli: Claims, env: Env, tmp_path: Path) -> None:
    policy = env.policy()
    write(tmp_path, "s.json", claim_doc(env, policy, [env.anchor()], ref="S-1"))
    (result,) = cli.submit(tmp_path / "s.json", account="13", code=1)
    assert result["outcome"] == "refused"
    assert result["problems"] == [
        f"{env.stranger} may not submit on policy {policy}: not its holder nor a HOSPITAL key"
    ]


# ---- insurer / council / holder commands ----


def _submit_one(
    cli: Claims, env: Env, tmp_path: Path, policy: int, amount: str = "100.00", holder: str | None = None
) -> int:
    ref = f"CLI-{env.claim_count()}-{amount}"
    write(tmp_path, f"{ref}.json", claim_doc(env, policy, [env.anchor(holder)], ref=ref, amount=amount))
    (result,) = cli.submit(tmp_path / f"{ref}.json")
    return int(result["claim_id"])


def test_policy_create_and_show(cli: Claims, env: Env) -> None:
    created = cli.json(
        "policy", "create", "--holder", env.holder2, "--coverage", "2500.00", "--days", "365", account=INSURER
    )
    assert (created["holder"], created["insurer"], created["coverage"]) == (env.holder2, env.insurer, 250_000)
    assert created["valid_until"] - created["valid_from"] == 365 * DAY
    shown = cli("policy", "show", str(created["id"]))
    assert shown.exit_code == 0 and "2,500.00 tCNY" in shown.stdout
    assert cli.fails("policy", "create", "--holder", env.holder2, "--coverage", "1", account=INSURER) == (
        "error: give exactly one of --until and --days"
    )
    line = cli.fails(
        "policy", "create", "--holder", env.holder2, "--coverage", "1", "--days", "3", account=HOSPITAL
    )
    assert line.startswith(f"error: ClaimUnauthorized(account={env.hospital}, role=0x")


def test_reserve_and_settings(cli: Claims, env: Env) -> None:
    shown = cli.json("reserve", "show", account=INSURER_B)
    deposited = cli.json("reserve", "deposit", "100.00", account=INSURER_B)
    assert deposited["reserve"] == shown["reserve"] + 10_000
    withdrawn = cli.json("reserve", "withdraw", "40.00", account=INSURER_B)
    assert withdrawn["reserve"] == deposited["reserve"] - 4_000
    settings = cli.json("settings", "--window-days", "7", "--dual-above", "1000.00", account=INSURER_B)
    assert (settings["decisionWindow"], settings["dualControlThreshold"]) == (7 * DAY, 100_000)
    cli.json("settings", "--window-days", "30", account=INSURER_B)
    table = cli("reserve", "show", "--insurer", env.insurer_b)
    assert "dual control above" in table.stdout and "off" in table.stdout


def test_queue_approve_reject_show(cli: Claims, env: Env, tmp_path: Path) -> None:
    policy = env.policy()
    a = _submit_one(cli, env, tmp_path, policy, "300.00")
    b = _submit_one(cli, env, tmp_path, policy, "20.00")
    queue = cli.json("queue", account=OPERATOR)
    mine = [item for item in queue if item["claim"]["id"] in (a, b)]
    assert [item["claim"]["id"] for item in mine] == [a, b]
    assert all(item["evidenceOk"] and item["consent_ok"] for item in mine)
    table = cli("queue", account=INSURER)
    assert table.exit_code == 0 and "claims awaiting a decision" in table.stdout and "ok" in table.stdout
    approved = cli.json("approve", str(a), "--amount", "250.00", account=OPERATOR)
    assert (approved["outcome"], approved["claim"]["amount"]) == ("approved", 25_000)
    rejected = cli.json("reject", str(b), "--reason", "NOT_COVERED", account=INSURER)
    assert (rejected["claim"]["status"], rejected["claim"]["reason"]) == ("Rejected", 1)
    history = cli.json("show", str(a))
    assert [e["event"] for e in history["history"]] == [
        "ClaimSubmitted",
        "ClaimStatusChanged",
        "ClaimApproved",
    ]
    text = cli("show", str(a))
    assert text.exit_code == 0 and "ClaimApproved" in text.stdout and "250.00" in text.stdout  # wrapped table
    assert cli.fails("reject", str(b), "--reason", "MAYBE", account=INSURER).startswith(
        "error: unknown reason 'MAYBE'"
    )
    line = cli.fails("approve", str(b), account=INSURER)
    assert line == f"error: ClaimUnexpectedStatus(claimId={b}, current=3, expected=1)"
    assert cli.fails("approve", str(a), account=INSURER_B).startswith("error: ClaimNotPolicyInsurer")


def test_another_insurer_cannot_decide(cli: Claims, env: Env, tmp_path: Path) -> None:
    policy = env.policy()
    claim = _submit_one(cli, env, tmp_path, policy)
    line = cli.fails("approve", str(claim), account=INSURER_B)
    assert (
        line
        == f"error: ClaimNotPolicyInsurer(claimId={claim}, account={env.insurer_b}, insurer={env.insurer})"
    )


def test_escalate_council_pay_and_collect(cli: Claims, env: Env, tmp_path: Path) -> None:
    policy = env.policy(holder=env.holder2)
    claim = _submit_one(cli, env, tmp_path, policy, "75.00", holder=env.holder2)
    assert cli.fails("escalate", str(claim), account=HOLDER2).startswith("error: ClaimDecisionWindowOpen")
    env.sleep(31 * DAY)
    assert cli.json("escalate", str(claim), account=HOLDER2)["claim"]["status"] == "Escalated"
    escalated = cli.json("queue", "--escalated", account=COUNCIL)
    assert claim in [item["claim"]["id"] for item in escalated]
    assert cli.json("approve", str(claim), account=COUNCIL)["claim"]["status"] == "Approved"
    shown = cli.json("payouts", "show", "--beneficiary", env.holder2, account=HOSPITAL)
    assert claim in [c["id"] for c in shown["approvedUnpaid"]]
    collected = cli.json("payouts", "withdraw", "--beneficiary", env.holder2, account=HOSPITAL)
    assert claim in collected["paidClaims"] and collected["withdrawn"] >= 7_500


def test_withdraw_and_pay_commands(cli: Claims, env: Env, tmp_path: Path) -> None:
    policy = env.policy()
    a = _submit_one(cli, env, tmp_path, policy)
    b = _submit_one(cli, env, tmp_path, policy)
    assert cli.json("withdraw", str(a), account=HOSPITAL)["claim"]["status"] == "Withdrawn"
    cli.json("approve", str(b), account=INSURER)
    assert cli.json("pay", str(b), account=HOLDER)["claim"]["status"] == "Paid"
    assert cli.fails("pay", str(b)) == f"error: ClaimUnexpectedStatus(claimId={b}, current=6, expected=2)"


def test_unknown_claim_is_one_line(cli: Claims) -> None:
    assert cli.fails("show", "987654") == "error: there is no claim 987654"


def test_policies_lists_a_holders_policies(cli: Claims, env: Env) -> None:
    """Issue 17: `claims policies --holder` (and --insurer), with what is left of each."""
    before = cli.json("policies", "--holder", env.stranger)
    created = cli.json(
        "policy", "create", "--holder", env.stranger, "--coverage", "1234.00", "--days", "30", account=INSURER
    )
    rows = cli.json("policies", "--holder", env.stranger)
    assert [r["id"] for r in rows] == [*(r["id"] for r in before), created["id"]]
    assert rows[-1]["holder"] == env.stranger and rows[-1]["remaining"] == 123_400
    assert created["id"] in [r["id"] for r in cli.json("policies", "--insurer", env.insurer)]
    assert created["id"] not in [r["id"] for r in cli.json("policies", "--insurer", env.insurer_b)]
    table = cli("policies", "--holder", env.stranger)
    assert table.exit_code == 0 and "1,234.00 tCNY" in table.stdout and env.stranger in table.stdout
    assert cli.fails("policies", "--holder", "0x12").startswith("error: ")


def test_errors_show_amounts_in_token_units_and_lists_name_members(
    cli: Claims, env: Env, tmp_path: Path
) -> None:
    """Issue 17: `needed=10000000` was unreadable; the queue and a claim name the members beside addresses."""
    reserve = cli.json("reserve", "show", account=INSURER_B)
    too_much = f"{(reserve['withdrawable'] + 12_345_600) / 100:.2f}"
    line = cli.fails("reserve", "withdraw", too_much, account=INSURER_B)
    assert "needed=" in line and line.rstrip(")").endswith("tCNY"), line
    claim_id = _submit_one(cli, env, tmp_path, env.policy(), "12.00")
    name = consortium.get_member(env.suite.consortium, env.hospital).name
    queue = cli("queue", account=INSURER)
    assert name and f"{name} {env.hospital}" in queue.stdout
    shown = cli("show", str(claim_id))
    assert f"{name} {env.hospital}" in shown.stdout and "12.00 tCNY" in shown.stdout


def test_help_shows_flags_as_flags() -> None:
    from medchain.cli import app

    result = CliRunner().invoke(app, ["claims", "queue", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    json_line = next(line for line in result.stdout.splitlines() if "--json" in line)
    assert "<bool>" not in json_line and "machine-readable" in json_line
    assert "<bool>" not in result.stdout


def test_a_batch_record_of_this_store_is_materialised_for_its_claim(
    cli: Claims, env: Env, tmp_path: Path
) -> None:
    """Issue 17: a batch-anchored record was refused as evidence ("not materialised yet"); the hospital's own
    batch records named in a claim are now materialised first, then the claim goes through."""
    from medchain import records as rs
    from medchain.store import open_store

    folder = tmp_path / "batch"
    folder.mkdir()
    for i in range(3):
        (folder / f"lab-{i}.txt").write_text(f"lab result {i} {tmp_path.name}")
    svc = rs.RecordService.open(env.w3, env.suite.require("records"), env.suite.consortium,
                                open_store(cli.store), env.hospital)  # fmt: skip
    items = rs.collect_batch_inputs(svc.journal, svc.hospital, folder, patient=env.holder, data_class="LAB")
    rs.anchor_batch(svc, items)
    (item,) = svc.journal.find(leaf=items[1].leaf)
    opening = rs.opening_of(svc, item)
    registry = env.suite.require("records")
    assert registry.functions.getRecord(items[1].leaf).call()[0] == "0x" + "00" * 20  # only in the batch
    evidence = {
        "recordHash": "0x" + opening.record_hash.hex(), "salt": "0x" + opening.salt.hex(), "dataClass": "LAB"
    }  # fmt: skip
    write(tmp_path, "batch-claim.json", claim_doc(env, env.policy(), [evidence]))
    (result,) = cli.submit(tmp_path / "batch-claim.json")
    assert result["outcome"] == "submitted", result
    assert registry.functions.getRecord(items[1].leaf).call()[0] == env.hospital
