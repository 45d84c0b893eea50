"""medchain.claims on a real Anvil: pre-flight reasons, idempotent submission through the journal (re-runs,
crashes between intent/send/receipt, a lost journal), and the insurer/holder/council operations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD

from medchain import claims as cs
from medchain import tx
from medchain.claimfile import ClaimEntry, load_claims, parse_claims
from medchain.codes import PURPOSES, ROLE_BITS
from medchain.contracts import Suite
from medchain.deploy import deploy_all, write_manifest
from medchain.errors import ContractRevert, InputError
from medchain.hashing import patient_commitment, record_leaf
from medchain.node import Anvil
from medchain.store import open_store

DAY = 86_400
LAB, IMAGING = 3, 4
_serial = count(1)


@dataclass
class Env:
    url: str
    w3: Web3
    suite: Suite
    manifest: Path
    council: str
    hospital: str
    hospital_b: str
    insurer: str
    insurer_b: str
    operator: str
    holder: str
    holder2: str
    stranger: str

    def send(self, fn: Any, sender: str) -> Any:
        return tx.send(self.w3, fn, sender)

    def anchor(self, holder: str | None = None, data_class: int = LAB) -> dict[str, Any]:
        """A fresh record of `holder` anchored by `hospital`; returned as a claim-file evidence item."""
        n = next(_serial)
        record, salt = keccak(text=f"svc record {n}"), keccak(text=f"svc salt {n}")
        leaf = record_leaf(record, patient_commitment(holder or self.holder, salt), data_class)
        self.send(self.suite.require("records").functions.anchor(record, leaf), self.hospital)
        return {"recordHash": Web3.to_hex(record), "salt": Web3.to_hex(salt), "dataClass": data_class}

    def policy(self, holder: str | None = None, insurer: str | None = None, coverage: int = 100_000) -> int:
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        fn = self.suite.require("claims").functions.createPolicy(
            holder or self.holder, coverage, now, now + 400 * DAY
        )
        receipt = self.send(fn, insurer or self.insurer)
        return int(
            self.suite.claims.events.PolicyCreated().process_receipt(receipt, errors=DISCARD)[0]["args"][
                "policyId"
            ]
        )  # type: ignore[union-attr]

    def sleep(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def claim_count(self) -> int:
        return int(self.suite.require("claims").functions.claimCount().call())


def admit(env_w3: Web3, suite: Suite, council: str, member: str, role: str, name: str) -> None:
    c = suite.consortium
    receipt = tx.send(env_w3, c.functions.propose(1, member, ROLE_BITS[role], name, ""), council)
    proposal_id = c.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["proposalId"]
    tx.send(env_w3, c.functions.execute(proposal_id), council)


def make_env(anvil: Anvil, directory: Path) -> Env:
    """The suite deployed on `anvil`: hospitals 3 and 4, insurers 5 and 6 (5 funded with 1,000,000.00 tCNY and
    operator key 11), holders 14 and 15 consenting to both insurers for purpose CLAIM."""
    w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))
    a = w3.eth.accounts
    manifest = deploy_all(w3, a[0], [a[0]], ["Council"], 1, write=False)
    path = directory / "manifest.json"
    write_manifest(manifest, path)
    suite = Suite.load(w3, manifest)
    env = Env(anvil.url, w3, suite, path, a[0], a[3], a[4], a[5], a[6], a[11], a[14], a[15], a[13])
    for member, role, name in [
        (a[3], "HOSPITAL", "Hospital A"),
        (a[4], "HOSPITAL", "Hospital B"),
        (a[5], "INSURER", "Insurer X"),
        (a[6], "INSURER", "Insurer Y"),
    ]:
        admit(w3, suite, a[0], member, role, name)
    env.send(suite.consortium.functions.offerOperator(env.operator, "0x" + "00" * 20), env.insurer)
    env.send(suite.consortium.functions.acceptOperator(env.insurer), env.operator)
    token, claims = suite.require("token"), suite.require("claims")
    for insurer in (env.insurer, env.insurer_b):
        env.send(token.functions.mint(insurer, 100_000_000), insurer)
        env.send(token.functions.approve(claims.address, 2**256 - 1), insurer)
    env.send(claims.functions.depositReserve(env.insurer, 100_000_000), env.insurer)
    for holder in (env.holder, env.holder2):
        for insurer in (env.insurer, env.insurer_b):
            env.send(
                suite.require("consent").functions.grant(insurer, PURPOSES["CLAIM"], 0x7FF, 0, 0), holder
            )
    return env


@pytest.fixture(scope="module")
def env(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Env:
    return make_env(anvil, tmp_path_factory.mktemp("claims-env"))


@pytest.fixture
def journal(env: Env, tmp_path: Path) -> cs.ClaimJournal:
    return cs.ClaimJournal(open_store(tmp_path / "store.sqlite"), env.suite.require("claims").address)


def claim_doc(
    env: Env, policy: int, evidence: list[dict[str, Any]], ref: str | None = None, **kw: Any
) -> dict[str, Any]:
    doc = {
        "reference": ref or f"REF-{next(_serial)}",
        "policyId": policy,
        "amount": "100.00",
        "currency": "tCNY",
        "evidence": evidence,
    }
    return doc | kw


def entries(*docs: dict[str, Any]) -> list[ClaimEntry]:
    result = parse_claims(list(docs), "test.json")
    assert not result.problems, result.problems
    return result.entries


def submit(
    env: Env, journal: cs.ClaimJournal, *docs: dict[str, Any], sender: str | None = None
) -> list[cs.SubmitResult]:
    return cs.submit_claims(env.suite, entries(*docs), sender or env.hospital, journal)


# ---- pre-flight ----


def test_preflight_accepts_good_claim(env: Env) -> None:
    policy = env.policy()
    (entry,) = entries(claim_doc(env, policy, [env.anchor(), env.anchor(data_class=IMAGING)]))
    pre = cs.preflight(env.suite, entry.claim, env.hospital)
    assert pre.ok, pre.problems
    assert (pre.amount, pre.claimant, pre.policy.id if pre.policy else None) == (10_000, env.hospital, policy)
    assert [e.anchored for e in pre.evidence] == [True, True]
    assert pre.evidence[0].hospital == env.hospital and pre.evidence[1].data_class == "IMAGING"


def test_preflight_names_every_problem(env: Env, journal: cs.ClaimJournal) -> None:
    policy = env.policy(coverage=5_000)
    taken = env.anchor()
    submit(env, journal, claim_doc(env, policy, [taken], amount="1.00"))
    foreign = env.anchor(holder=env.holder2)
    doc = claim_doc(env, policy, [taken, foreign], amount="60.005", currency="USD", holder=env.holder2)
    (entry,) = entries(doc)
    problems = cs.preflight(env.suite, entry.claim, env.stranger).problems
    assert problems[0] == "currency 'USD' is not the settlement token tCNY"
    assert problems[1] == "amount 60.005 has more than 2 decimal places"
    assert problems[2] == f"policy {policy} belongs to {env.holder}, not to holder {env.holder2}"
    assert (
        problems[3] == f"{env.stranger} may not submit on policy {policy}: not its holder nor a HOSPITAL key"
    )
    assert problems[4].startswith(f"evidence[0] record {taken['recordHash']} already backs live claim ")
    assert problems[5].startswith(
        f"evidence[1] record {foreign['recordHash']} (LAB) is not anchored for the policy"
    )
    assert len(problems) == 6


def test_preflight_coverage_consent_and_policy(env: Env) -> None:
    policy = env.policy(holder=env.holder2, insurer=env.insurer_b, coverage=5_000)
    env.send(env.suite.require("consent").functions.revoke(env.insurer_b, PURPOSES["CLAIM"]), env.holder2)
    (entry,) = entries(claim_doc(env, policy, [env.anchor(holder=env.holder2)], amount="50.01"))
    problems = cs.preflight(env.suite, entry.claim, env.holder2).problems
    assert problems == [
        f"amount 50.01 tCNY exceeds the coverage left on policy {policy}: 50.00 tCNY",
        f"holder {env.holder2} has no consent in force letting insurer {env.insurer_b} use LAB "
        "for purpose CLAIM",
    ]
    env.send(
        env.suite.require("consent").functions.grant(env.insurer_b, PURPOSES["CLAIM"], 0x7FF, 0, 0),
        env.holder2,
    )
    (missing,) = entries(claim_doc(env, 9999, [env.anchor()]))
    assert cs.preflight(env.suite, missing.claim, env.hospital).problems == ["there is no policy 9999"]


def test_preflight_another_hospital_needs_the_holders_claim_consent(env: Env) -> None:
    policy = env.policy()
    (entry,) = entries(claim_doc(env, policy, [env.anchor()]))  # anchored by hospital A
    problems = cs.preflight(env.suite, entry.claim, env.hospital_b).problems
    assert problems == [
        f"hospital {env.hospital_b} did not anchor every evidence record and holds no consent of holder "
        f"{env.holder} for purpose CLAIM covering LAB: ask the holder for it, or let them submit"
    ]
    assert cs.preflight(env.suite, entry.claim, env.holder).ok  # the holder submits its own records


def test_the_same_document_hashed_the_other_way_is_refused(
    env: Env, journal: cs.ClaimJournal, tmp_path: Path
) -> None:
    """SECURITY.md: the duplicate guard keys on the record hash; one FHIR file has two (bytes, canonical
    JSON). A claim tool that anchored the file in its own store knows both and refuses the second claim."""
    from medchain import records as rs
    from medchain.hashing import hash_file

    svc = rs.RecordService.open(env.w3, env.suite.require("records"), env.suite.consortium, journal.conn,
                                env.hospital)  # fmt: skip
    path = tmp_path / "observation.json"
    path.write_text(json.dumps({"resourceType": "Observation", "id": "o1", "status": "final",
                                "text": {"div": "narrative"}}, indent=1))  # fmt: skip
    fhir, raw = hash_file(path, mode="fhir"), hash_file(path, mode="raw")
    assert fhir.record_hash != raw.record_hash
    rs.anchor_files(svc, [fhir], env.holder, "LAB")
    rs.anchor_files(svc, [raw], env.holder, "LAB")  # the same file again, as bytes: another record hash
    policy = env.policy()

    def evidence(result: Any) -> dict[str, Any]:
        opening = rs.opening_of(svc, rs.one(svc.journal, "0x" + result.record_hash.hex()))
        return {
            "recordHash": "0x" + opening.record_hash.hex(),
            "salt": "0x" + opening.salt.hex(),
            "dataClass": 3,
        }

    (first,) = submit(env, journal, claim_doc(env, policy, [evidence(fhir)]))
    assert first.outcome == "submitted"
    (second,) = submit(env, journal, claim_doc(env, policy, [evidence(raw)]))
    assert second.outcome == "refused"
    assert second.problems == [
        f"evidence[0] record 0x{raw.record_hash.hex()} is the same document as record "
        f"0x{fhir.record_hash.hex()} (hashed the other way, DESIGN §6.6), which already backs live claim "
        f"{first.claim_id}"
    ]


# ---- submission and idempotency ----


def write(directory: Path, name: str, content: Any) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(content if isinstance(content, str) else json.dumps(content))


def test_partial_directory_then_rerun_submits_nothing_twice(
    env: Env, journal: cs.ClaimJournal, tmp_path: Path
) -> None:
    policy = env.policy()
    d = tmp_path / "claims"
    write(d, "a.json", claim_doc(env, policy, [env.anchor()], ref="A"))
    ev1, ev2 = env.anchor(), env.anchor(data_class=IMAGING)
    csv = "reference,policyId,amount,currency,recordHash,salt,dataClass\n" + "".join(
        f"{ref},{policy},12.34,tCNY,{e['recordHash']},{e['salt']},{e['dataClass']}\n"
        for ref, e in (("B", ev1), ("C", ev2))
    )
    write(d, "b.csv", csv)
    write(d, "c.json", "{broken")
    write(d, "d.json", claim_doc(env, policy, [{**env.anchor(), "salt": "0x" + "99" * 32}], ref="D"))
    before = env.claim_count()
    loaded = load_claims([d])
    results = cs.submit_claims(env.suite, loaded.entries, env.hospital, journal)
    assert [(r.reference, r.outcome) for r in results] == [
        ("A", "submitted"),
        ("B", "submitted"),
        ("C", "submitted"),
        ("D", "refused"),
    ]
    assert [p.source for p in loaded.problems] == ["c.json"]
    assert "is not anchored for the policy holder" in results[3].problems[0]
    assert env.claim_count() == before + 3
    assert results[1].amount == "12.34 tCNY" and results[1].gas_used
    again = cs.submit_claims(env.suite, load_claims([d]).entries, env.hospital, journal)
    assert [(r.reference, r.outcome, r.claim_id) for r in again] == [
        ("A", "already-submitted", results[0].claim_id),
        ("B", "already-submitted", results[1].claim_id),
        ("C", "already-submitted", results[2].claim_id),
        ("D", "refused", None),
    ]
    assert env.claim_count() == before + 3
    rows = {r["reference"]: r for r in journal.rows()}
    assert set(rows) == {"A", "B", "C"} and all(r["status"] == "submitted" for r in rows.values())


def test_submission_records_refs_and_invoice_hash_on_chain(env: Env, journal: cs.ClaimJournal) -> None:
    policy = env.policy()
    (result,) = submit(
        env, journal, claim_doc(env, policy, [env.anchor()], ref="INV-REF", invoiceNumber="INV-9")
    )
    (event,) = [e for e in cs.history(env.suite, result.claim_id or 0) if e.event == "ClaimSubmitted"]
    assert event.args["claimRef"] == Web3.to_hex(keccak(text="INV-REF"))
    assert event.args["invoiceHash"] == Web3.to_hex(keccak(text="INV-9"))
    row = journal.get("INV-REF")
    assert row is not None and row["invoice_hash"] == Web3.to_hex(keccak(text="INV-9"))
    assert "INV-9" not in json.dumps(dict(row))


def test_reference_reused_with_other_content_is_refused(env: Env, journal: cs.ClaimJournal) -> None:
    policy = env.policy()
    ev = env.anchor()
    (first,) = submit(env, journal, claim_doc(env, policy, [ev], ref="SAME"))
    (second,) = submit(env, journal, claim_doc(env, policy, [ev], ref="SAME", amount="99.00"))
    assert second.outcome == "refused"
    assert second.problems == [
        f"reference 'SAME' was used for claim {first.claim_id} with different content (test.json [0]); "
        "give a corrected claim a new reference"
    ]


def test_crash_after_intent_before_send_resends_once(env: Env, journal: cs.ClaimJournal) -> None:
    """The process died after writing the intent row and before the node got the transaction."""
    policy = env.policy()
    (entry,) = entries(claim_doc(env, policy, [env.anchor()], ref="CRASH-1"))
    journal.intent(entry, 10_000, env.hospital)
    before = env.claim_count()
    (result,) = cs.submit_claims(env.suite, [entry], env.hospital, journal)
    assert result.outcome == "submitted" and env.claim_count() == before + 1
    row = journal.get("CRASH-1")
    assert row is not None and row["attempts"] == 2 and row["status"] == "submitted"


def test_crash_after_send_takes_the_receipt_not_a_new_tx(env: Env, journal: cs.ClaimJournal) -> None:
    """The transaction went out (hash journaled) but the process died before the receipt."""
    policy = env.policy()
    (entry,) = entries(claim_doc(env, policy, [env.anchor()], ref="CRASH-2"))
    claim = entry.claim
    fn = env.suite.require("claims").functions.submitClaim(
        policy, 10_000, [e.as_arg() for e in claim.evidence], claim.invoice_hash, claim.claim_ref
    )
    journal.intent(entry, 10_000, env.hospital)
    tx_hash = tx.submit(env.w3, fn, env.hospital)
    journal.sent("CRASH-2", tx_hash)
    before = env.claim_count()
    (result,) = cs.submit_claims(env.suite, [entry], env.hospital, journal)
    assert (result.outcome, result.tx_hash) == ("already-submitted", Web3.to_hex(tx_hash))
    assert result.claim_id == before and env.claim_count() == before


def test_lost_journal_finds_the_claim_on_chain(env: Env, tmp_path: Path) -> None:
    """Another machine (or a lost store) submitted it: the ClaimSubmitted event's claimRef stops a resend."""
    policy = env.policy()
    doc = claim_doc(env, policy, [env.anchor()], ref="ELSEWHERE")
    first_journal = cs.ClaimJournal(open_store(tmp_path / "one.sqlite"), env.suite.claims.address)  # type: ignore[union-attr]
    (first,) = submit(env, first_journal, doc)
    fresh = cs.ClaimJournal(open_store(tmp_path / "two.sqlite"), env.suite.claims.address)  # type: ignore[union-attr]
    before = env.claim_count()
    (again,) = submit(env, fresh, doc)
    assert (again.outcome, again.claim_id) == ("already-submitted", first.claim_id)
    assert env.claim_count() == before
    row = fresh.get("ELSEWHERE")
    assert row is not None and row["status"] == "submitted" and row["claim_id"] == first.claim_id


def test_failed_attempt_is_retried(env: Env, journal: cs.ClaimJournal) -> None:
    policy = env.policy()
    (entry,) = entries(claim_doc(env, policy, [env.anchor()], ref="RETRY"))
    journal.intent(entry, 10_000, env.hospital)
    journal.failed("RETRY", "ClaimEvidenceAlreadyClaimed(...)")
    (result,) = cs.submit_claims(env.suite, [entry], env.hospital, journal)
    assert result.outcome == "submitted"


def test_dry_run_sends_nothing(env: Env, journal: cs.ClaimJournal) -> None:
    policy = env.policy()
    before = env.claim_count()
    results = cs.submit_claims(
        env.suite, entries(claim_doc(env, policy, [env.anchor()])), env.hospital, journal, dry_run=True
    )
    assert [r.outcome for r in results] == ["checked"]
    assert env.claim_count() == before and journal.rows() == []


def test_holder_submits_own_claim(env: Env, journal: cs.ClaimJournal) -> None:
    policy = env.policy()
    (result,) = submit(env, journal, claim_doc(env, policy, [env.anchor()]), sender=env.holder)
    assert result.outcome == "submitted"
    assert cs.get_claim(env.suite, result.claim_id or 0).claimant == env.holder


# ---- insurer, council, holder operations ----


def _submitted(env: Env, journal: cs.ClaimJournal, policy: int, amount: str = "100.00", n: int = 1) -> int:
    holder = cs.get_policy(env.suite, policy).holder
    evidence = [env.anchor(holder) for _ in range(n)]
    (result,) = submit(env, journal, claim_doc(env, policy, evidence, amount=amount))
    assert result.outcome == "submitted", result.problems
    return result.claim_id or 0


def test_queue_oldest_first_with_evidence_status(env: Env, journal: cs.ClaimJournal) -> None:
    policy = env.policy(insurer=env.insurer_b)
    first = _submitted(env, journal, policy, n=2)
    second = _submitted(env, journal, policy)
    items = cs.queue(env.suite, env.insurer_b)
    mine = [i for i in items if i.claim.policy_id == policy]
    assert [i.claim.id for i in mine] == [first, second]
    assert mine[0].evidence_ok and mine[0].consent_ok and len(mine[0].evidence) == 2
    assert (mine[0].claimed, mine[0].pending_key, mine[0].overdue) == (10_000, None, False)


def test_queue_flags_amended_evidence_and_revoked_consent(env: Env, journal: cs.ClaimJournal) -> None:
    policy = env.policy(holder=env.holder2, insurer=env.insurer_b)
    ev = env.anchor(holder=env.holder2)
    (result,) = submit(env, journal, claim_doc(env, policy, [ev]))
    records = env.suite.require("records")
    leaf = record_leaf(
        bytes.fromhex(ev["recordHash"][2:]),
        patient_commitment(env.holder2, bytes.fromhex(ev["salt"][2:])),
        LAB,
    )
    env.send(records.functions.amend(leaf, keccak(text="amended"), keccak(text="new leaf")), env.hospital)
    env.send(env.suite.require("consent").functions.revoke(env.insurer_b, PURPOSES["CLAIM"]), env.holder2)
    (item,) = [i for i in cs.queue(env.suite, env.insurer_b) if i.claim.id == result.claim_id]
    assert not item.evidence_ok and item.evidence[0].superseded_by is not None
    assert not item.consent_ok
    env.send(
        env.suite.require("consent").functions.grant(env.insurer_b, PURPOSES["CLAIM"], 0x7FF, 0, 0),
        env.holder2,
    )


def test_approve_reject_and_history(env: Env, journal: cs.ClaimJournal) -> None:
    policy = env.policy()
    a, b = _submitted(env, journal, policy), _submitted(env, journal, policy)
    decision = cs.approve(env.suite, env.insurer, a, 6_000)
    assert (decision.outcome, decision.claim.status, decision.claim.amount) == ("approved", "Approved", 6_000)
    rejected = cs.reject(env.suite, env.operator, b, cs.parse_reason("insufficient-evidence"))
    assert (rejected.claim.status, rejected.claim.reason) == ("Rejected", 2)
    events = [e.event for e in cs.history(env.suite, a)]
    assert events == ["ClaimSubmitted", "ClaimStatusChanged", "ClaimApproved"]
    with pytest.raises(ContractRevert) as info:
        cs.approve(env.suite, env.insurer, b)
    assert info.value.name == "ClaimUnexpectedStatus" and str(info.value).startswith(
        f"ClaimUnexpectedStatus(claimId={b}, current=3, expected=1)"
    )


def test_dual_control_through_the_service(env: Env, journal: cs.ClaimJournal) -> None:
    policy = env.policy()
    claim = _submitted(env, journal, policy, amount="500.00")
    cs.set_settings(env.suite, env.insurer, 30 * DAY, 20_000)
    try:
        first = cs.approve(env.suite, env.operator, claim)
        assert (first.outcome, first.claim.status) == ("awaiting second key", "Submitted")
        (item,) = [i for i in cs.queue(env.suite, env.insurer) if i.claim.id == claim]
        assert item.pending_key == env.operator
        with pytest.raises(ContractRevert, match="ClaimDualControlSameKey"):
            cs.approve(env.suite, env.operator, claim)
        second = cs.approve(env.suite, env.insurer, claim)
        assert (second.outcome, second.claim.status) == ("approved", "Approved")
        assert [e.event for e in cs.history(env.suite, claim)][1] == "ClaimApprovalPending"
    finally:
        cs.set_settings(env.suite, env.insurer, 30 * DAY, 0)


def test_escalation_council_decision_and_payout(env: Env, journal: cs.ClaimJournal) -> None:
    policy = env.policy(holder=env.holder2)
    claim = _submitted(env, journal, policy, amount="250.00")
    with pytest.raises(ContractRevert, match="ClaimDecisionWindowOpen"):
        cs.escalate(env.suite, env.holder2, claim)
    env.sleep(31 * DAY)
    assert cs.escalate(env.suite, env.hospital, claim).claim.status == "Escalated"
    assert claim in [i.claim.id for i in cs.queue(env.suite, escalated=True)]
    assert cs.approve(env.suite, env.council, claim).claim.status == "Approved"  # approveEscalated
    status = cs.payout_status(env.suite, env.holder2)
    assert [c["id"] for c in status["approvedUnpaid"]] == [claim]
    token = env.suite.require("token")
    before = token.functions.balanceOf(env.holder2).call()
    collected = cs.collect_payouts(env.suite, env.hospital, env.holder2)
    assert collected["paidClaims"] == [claim] and collected["withdrawn"] == 25_000
    assert token.functions.balanceOf(env.holder2).call() == before + 25_000
    assert cs.get_claim(env.suite, claim).status == "Paid"


def test_collect_payouts_reports_unfunded_insurer(env: Env, journal: cs.ClaimJournal) -> None:
    policy = env.policy(insurer=env.insurer_b)
    claim = _submitted(env, journal, policy)
    cs.approve(env.suite, env.insurer_b, claim)
    result = cs.collect_payouts(env.suite, env.holder, env.holder)
    assert claim not in result["paidClaims"]
    assert result["unpaid"] == [
        {
            "claimId": claim,
            "reason": f"ClaimInsufficientReserve(insurer={env.insurer_b}, available=0, needed=10000)",
        }
    ]


def test_reserve_deposit_withdraw_and_settings(env: Env) -> None:
    money = cs.currency(env.suite)
    assert (money.symbol, money.decimals) == ("tCNY", 2)
    status = cs.deposit_reserve(env.suite, env.insurer_b, money.units("1000.00"))
    assert status["insurer"] == env.insurer_b and status["reserve"] >= 100_000
    after = cs.withdraw_reserve(env.suite, env.insurer_b, money.units("400.00"))
    assert after["reserve"] == status["reserve"] - 40_000
    with pytest.raises(ContractRevert, match="ClaimSettingsNotMember"):
        cs.set_settings(env.suite, env.operator, 7 * DAY, 0)
    with pytest.raises(InputError, match="is not a key of an active INSURER member"):
        cs.withdraw_reserve(env.suite, env.hospital, 1)


def test_currency_units_parsing(env: Env) -> None:
    money = cs.currency(env.suite)
    assert money.units("1,234.5") == 123_450 and money.fmt(123_450) == "1,234.50 tCNY"
    for bad in ("0", "-1", "1.001", "abc", "NaN"):
        with pytest.raises(InputError):
            money.units(bad)


def test_unknown_ids_are_input_errors(env: Env) -> None:
    with pytest.raises(InputError, match="there is no claim 424242"):
        cs.get_claim(env.suite, 424242)
    with pytest.raises(InputError, match="unknown reason 'MAYBE'"):
        cs.parse_reason("MAYBE")
