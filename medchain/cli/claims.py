"""`medchain claims`: submit claim files (hospital or holder) and run the claim lifecycle (insurer, holder,
council). Thin: every command parses its input, calls one medchain.claims function and prints."""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from medchain.cli.options import (
    CliState,
    JsonOpt,
    MemberNames,
    address_arg,
    console,
    err_console,
    output,
    state,
)
from medchain.errors import ContractRevert, InputError, MedchainError, in_token_units
from medchain.lazy import lazy
from medchain.store import default_store_path, open_store
from medchain.timefmt import iso

if TYPE_CHECKING:
    from medchain import chain, claimfile
    from medchain import claims as svc
else:
    svc = lazy("medchain.claims")
    chain = lazy("medchain.chain")
    claimfile = lazy("medchain.claimfile")


class ClaimsGroup(TyperGroup):
    """Reverts of claims commands show their amounts in token units (`needed=100,000.00 tCNY`)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ContractRevert as exc:
            try:
                money = svc.currency(state(ctx).suite())
            except MedchainError:
                raise exc from None
            raise in_token_units(exc, money.fmt) from None


app = typer.Typer(
    cls=ClaimsGroup, help="Insurance claims: submit claim files, decide, escalate, pay, collect payouts."
)
policy_app = typer.Typer(help="Policies (INSURER keys issue them; anyone may read them).")
reserve_app = typer.Typer(help="An insurer's reserve in the settlement token.")
payouts_app = typer.Typer(help="Payout credits of policy holders (pull payments).")
app.add_typer(policy_app, name="policy")
app.add_typer(reserve_app, name="reserve")
app.add_typer(payouts_app, name="payouts")

#: medchain.claims.REJECT_REASONS, written out so `--help` needs no web3 (a test keeps them equal)
REASONS_HELP = (
    "NOT_COVERED, INSUFFICIENT_EVIDENCE, DUPLICATE, POLICY_EXCLUSION, LIMIT_EXCEEDED, "
    "NOT_MEDICALLY_NECESSARY, FRAUD_SUSPECTED, OTHER"
)

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="submission journal (SQLite; default: per chain in MEDCHAIN_HOME)"),
]
InsurerOpt = Annotated[str | None, typer.Option("--insurer", help="insurer member address (default: yours)")]
ClaimArg = Annotated[int, typer.Argument(help="claim id", min=1)]


# ---- submission ----


@app.command("submit")
def submit_cmd(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="claim files (.json, .csv) or directories of them")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only run the checks; send nothing")] = False,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Validate claim files, check each claim against the chain, and submit the good ones once.

    Re-running the same files never submits a claim twice (the journal is keyed by each claim's reference).
    Invalid files and refused claims are reported; the others still go through. Exit code 1 if any claim
    was not submitted."""
    st = state(ctx, json_out)
    loaded = claimfile.load_claims(paths)
    results: list[dict[str, Any]] = [
        {"source": source, "reference": "", "outcome": "invalid", "problems": problems}
        for source, problems in loaded.problems_by_source().items()
    ]
    if loaded.entries:
        suite, signer = st.suite(), st.signer()
        conn = _store(st, store)
        journal = svc.ClaimJournal(conn, suite.require("claims").address)
        if not dry_run:  # this store's batch records named as evidence go on chain as full records first
            from medchain.claim_evidence import materialise_evidence

            written = materialise_evidence(suite, conn, signer, loaded.entries)
            if written and not st.json:
                err_console().print(
                    f"materialised {len(written)} batch record(s) named as evidence", highlight=False
                )
        results += [r.as_dict() for r in _run(st, suite, loaded.entries, signer, journal, dry_run)]
    _print_results(st, results)
    if any(r["outcome"] not in ("submitted", "already-submitted", "checked") for r in results):
        raise typer.Exit(code=1)


def _store(st: CliState, store: Path | None) -> Any:
    return open_store(store or default_store_path(st.w3().eth.chain_id))


def _run(
    st: CliState, suite: Any, entries: list[claimfile.ClaimEntry], signer: Any, journal: Any, dry_run: bool
) -> list[svc.SubmitResult]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    quiet = st.json or len(entries) < 2
    with Progress(*columns, console=err_console(), transient=True, disable=quiet) as bar:
        task = bar.add_task("claims", total=len(entries))

        def advance(entry: claimfile.ClaimEntry, result: svc.SubmitResult) -> None:
            bar.update(task, advance=1, description=f"{entry.claim.reference}: {result.outcome}")

        start = st.deploy_block("ClaimsManager")
        return svc.submit_claims(
            suite, entries, signer, journal, dry_run=dry_run, progress=advance, from_block=start
        )


def _print_results(st: CliState, results: list[dict[str, Any]]) -> None:
    rows = [
        {
            "source": r["source"],
            "reference": r["reference"],
            "outcome": r["outcome"],
            "claim": r.get("claim_id") or "",
            "amount": r.get("amount") or "",
            "gas": r.get("gas_used") or "",
            "problems": "; ".join(r.get("problems") or []),
        }
        for r in results
    ]
    output(st, results, rows, title="claim submissions")


@app.command("journal")
def journal_cmd(ctx: typer.Context, store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """The local submission journal for this chain's ClaimsManager."""
    st = state(ctx, json_out)
    journal = svc.ClaimJournal(_store(st, store), st.suite().require("claims").address)
    rows = journal.rows()
    output(
        st,
        rows,
        [
            {k: r[k] for k in ("reference", "status", "claim_id", "policy_id", "tx_hash", "source")}
            for r in rows
        ],
    )


# ---- policies ----


@policy_app.command("create")
def policy_create(
    ctx: typer.Context,
    holder: Annotated[str, typer.Option("--holder", help="the insured person's address")],
    coverage: Annotated[
        str, typer.Option("--coverage", help="coverage limit in currency units, e.g. 5000.00")
    ],
    valid_from: Annotated[
        str | None, typer.Option("--from", help="start: ISO date/time (UTC), unix time or +30d; default now")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="end, inclusive: as --from (e.g. 2027-12-31 or +365d)")
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", help="length in days instead of --until", min=1)
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Issue a policy from your insurer to HOLDER."""
    st = state(ctx, json_out)
    if (until is None) == (days is None):
        raise InputError("give exactly one of --until and --days")
    suite = st.suite()
    money = svc.currency(suite)
    start, end = svc.policy_window(suite, valid_from, until, days)
    policy = svc.create_policy(
        suite, st.signer(), address_arg(holder, "holder"), money.units(coverage), start, end
    )
    _print_policy(st, policy, money)


@policy_app.command("show")
def policy_show(
    ctx: typer.Context, policy_id: Annotated[int, typer.Argument(min=1)], json_out: JsonOpt = False
) -> None:
    """A policy with its paid, committed and remaining coverage."""
    st = state(ctx, json_out)
    suite = st.suite()
    _print_policy(st, svc.get_policy(suite, policy_id), svc.currency(suite))


@app.command("policies")
def policies_cmd(
    ctx: typer.Context,
    holder: Annotated[str | None, typer.Option("--holder", help="only this holder's policies")] = None,
    insurer: Annotated[str | None, typer.Option("--insurer", help="only this insurer member's")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List policies (a holder's with --holder, an insurer's with --insurer) with what is left of each."""
    from medchain.listings import policies

    st = state(ctx, json_out)
    who = address_arg(holder, "holder") if holder else None
    member = address_arg(insurer, "insurer") if insurer else None
    suite = st.suite()
    money = svc.currency(suite)
    found = policies(suite, who, member, st.deploy_block("ClaimsManager"))
    if st.json:
        output(st, [asdict(p) | {"remaining": p.remaining} for p in found])
        return
    rows = [{
        "policy": p.id, "holder": p.holder, "insurer": p.insurer, "coverage": money.fmt(p.coverage),
        "remaining": money.fmt(p.remaining), "valid from": iso(p.valid_from),
        "valid until": iso(p.valid_until),
    } for p in found]  # fmt: skip
    output(st, rows, title="policies")


def _print_policy(st: CliState, policy: svc.PolicyInfo, money: svc.Currency) -> None:
    data = asdict(policy) | {"remaining": policy.remaining}
    shown = {
        "policy": policy.id,
        "holder": policy.holder,
        "insurer": policy.insurer,
        "coverage": money.fmt(policy.coverage),
        "paid": money.fmt(policy.paid),
        "committed": money.fmt(policy.committed),
        "remaining": money.fmt(policy.remaining),
        "valid": f"{iso(policy.valid_from)} .. {iso(policy.valid_until)}",
    }
    if st.json:
        output(st, data)
    else:
        output(st, shown)


# ---- reserves and settings ----


def _print_reserve(st: CliState, status: dict[str, Any], money: svc.Currency) -> None:
    if st.json:
        output(st, status)
        return
    threshold = status["dualControlThreshold"]
    output(st, {
        "insurer": status["insurer"],
        "reserve": money.fmt(status["reserve"]),
        "owed (approved, unpaid)": money.fmt(status["owed"]),
        "withdrawable": money.fmt(status["withdrawable"]),
        "decision window": f"{status['decisionWindow'] / 86_400:g} days",
        "dual control above": money.fmt(threshold) if threshold else "off",
    })  # fmt: skip


@reserve_app.command("deposit")
def reserve_deposit(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(help="currency units, e.g. 10000.00")],
    insurer: InsurerOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Deposit tokens from your key into an insurer's reserve (approves the ClaimsManager if needed)."""
    st = state(ctx, json_out)
    suite = st.suite()
    money = svc.currency(suite)
    target = address_arg(insurer, "insurer") if insurer else None
    _print_reserve(
        st, svc.deposit_reserve(suite, st.signer(), money.units(amount, limit=svc.UINT128_MAX), target), money
    )


@reserve_app.command("withdraw")
def reserve_withdraw(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(help="currency units")],
    json_out: JsonOpt = False,
) -> None:
    """Withdraw from your insurer's reserve to its member address (only what is not owed)."""
    st = state(ctx, json_out)
    suite = st.suite()
    money = svc.currency(suite)
    _print_reserve(
        st, svc.withdraw_reserve(suite, st.signer(), money.units(amount, limit=svc.UINT128_MAX)), money
    )


@reserve_app.command("release")
def reserve_release(
    ctx: typer.Context,
    insurer: Annotated[str, typer.Argument(help="member address of an insurer that no longer holds INSURER")],
    json_out: JsonOpt = False,
) -> None:
    """(Council) Release a removed or suspended insurer's withdrawable reserve to the insurer."""
    st = state(ctx, json_out)
    suite = st.suite()
    who = address_arg(insurer, "insurer")
    _print_reserve(st, svc.release_reserve(suite, st.signer(), who), svc.currency(suite))


@reserve_app.command("show")
def reserve_show(ctx: typer.Context, insurer: InsurerOpt = None, json_out: JsonOpt = False) -> None:
    """An insurer's reserve, what it owes, what it could withdraw, and its claim settings."""
    st = state(ctx, json_out)
    suite = st.suite()
    me = chain.signer_address
    who = address_arg(insurer, "insurer") if insurer else svc.insurer_of(suite, me(st.signer()))
    _print_reserve(st, svc.reserve_status(suite, who), svc.currency(suite))


@app.command("settings")
def settings_cmd(
    ctx: typer.Context,
    window_days: Annotated[float, typer.Option("--window-days", help="decision window in days (1..365)")],
    dual_above: Annotated[
        str, typer.Option("--dual-above", help="approvals above this amount need two keys; 0 = off")
    ] = "0",
    json_out: JsonOpt = False,
) -> None:
    """Set your insurer's decision window and dual-control threshold (the member address itself only)."""
    st = state(ctx, json_out)
    suite = st.suite()
    money = svc.currency(suite)
    if not math.isfinite(window_days) or not 0 < window_days <= 365:
        raise InputError(f"--window-days {window_days} must be a number of days from 1 to 365")
    threshold = 0 if dual_above.strip() in ("0", "off") else money.units(dual_above)
    _print_reserve(st, svc.set_settings(suite, st.signer(), round(window_days * 86_400), threshold), money)


# ---- queue, show, decisions ----


@app.command("queue")
def queue_cmd(
    ctx: typer.Context,
    insurer: InsurerOpt = None,
    escalated: Annotated[
        bool, typer.Option("--escalated", help="escalated claims (the council's queue)")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Claims awaiting a decision, oldest first, with their evidence re-verified against the chain."""
    st = state(ctx, json_out)
    suite = st.suite()
    who = None
    if not escalated:
        who = (
            address_arg(insurer, "insurer")
            if insurer
            else svc.insurer_of(suite, chain.signer_address(st.signer()))
        )
    items = svc.queue(suite, who, escalated=escalated, from_block=st.deploy_block("ClaimsManager"))
    money = svc.currency(suite)
    names = MemberNames(suite.consortium)
    rows = [_queue_row(item, money) | {"claimant": names.label(item.claim.claimant)} for item in items]
    output(
        st,
        [asdict(i) | {"evidenceOk": i.evidence_ok} for i in items],
        rows,
        title="claims awaiting a decision",
    )


def _queue_row(item: svc.QueueItem, money: svc.Currency) -> dict[str, Any]:
    c = item.claim
    evidence = "ok" if item.evidence_ok else (item.note or "CHECK: " + _evidence_problems(item.evidence))
    return {
        "claim": c.id,
        "policy": c.policy_id,
        "holder": c.holder,
        "amount": money.fmt(item.claimed),
        "submitted": iso(c.submitted_at),
        "decide by": iso(c.decide_by) + (" (overdue)" if item.overdue else ""),
        "evidence": f"{len(item.evidence)} records: {evidence}",
        "consent": "ok" if item.consent_ok else "MISSING",
        "pending 2nd key": item.pending_key or "",
    }


def _evidence_problems(evidence: list[svc.EvidenceStatus]) -> str:
    bad = [e for e in evidence if not e.anchored or e.superseded_by]
    return ", ".join(f"{e.record_hash[:10]}… {'amended' if e.superseded_by else 'not anchored'}" for e in bad)


@app.command("show")
def show_cmd(ctx: typer.Context, claim_id: ClaimArg, json_out: JsonOpt = False) -> None:
    """A claim and its full history from the chain's events."""
    st = state(ctx, json_out)
    suite = st.suite()
    claim = svc.get_claim(suite, claim_id)
    events = svc.history(suite, claim_id, from_block=st.deploy_block("ClaimsManager"))
    if st.json:
        output(st, {"claim": asdict(claim), "history": [asdict(e) for e in events]})
        return
    money = svc.currency(suite)
    names = MemberNames(suite.consortium)
    view = _claim_view(claim, money)
    view["insurer"], view["claimant"] = names.label(claim.insurer), names.label(claim.claimant)
    output(st, view, title=f"claim {claim_id}")
    rows = [_history_row(e, money) for e in events]
    output(st, [], [{**r, "detail": names.annotate(str(r.get("detail", "")))} for r in rows], title="history")


def _claim_view(claim: svc.ClaimInfo, money: svc.Currency) -> dict[str, Any]:
    view = {
        "claim": claim.id,
        "status": claim.status,
        "policy": claim.policy_id,
        "holder": claim.holder,
        "insurer": claim.insurer,
        "claimant": claim.claimant,
        "amount": money.fmt(claim.amount),
        "submitted": iso(claim.submitted_at),
        "decide by": iso(claim.decide_by),
    }
    if claim.reason:
        view["reason"] = f"{claim.reason} {svc.REASON_NAMES.get(claim.reason, '')}".strip()
    return view


def _history_row(event: svc.HistoryEvent, money: svc.Currency) -> dict[str, Any]:
    a = event.args
    detail = {
        "ClaimSubmitted": lambda: f"{money.fmt(a['amount'])} by {a['by']}, {len(a['recordHashes'])} records",
        "ClaimApprovalPending": lambda: f"first approval {money.fmt(a['amount'])} by key {a['key']}",
        "ClaimStatusChanged": lambda: (
            f"{svc.STATUS_NAMES[a['previous']]} -> {svc.STATUS_NAMES[a['status']]} by {a['actor']}"
        ),
        "ClaimApproved": lambda: f"approved {money.fmt(a['amount'])} of {money.fmt(a['claimed'])}",
        "ClaimRejected": lambda: f"reason {a['reason']} {svc.REASON_NAMES.get(a['reason'], '')}".strip(),
        "ClaimPaid": lambda: f"{money.fmt(a['amount'])} credited to {a['holder']}",
    }[event.event]()
    return {"time": iso(event.timestamp), "block": event.block, "event": event.event, "detail": detail}


def _print_decision(st: CliState, decision: Any, suite: Any) -> None:
    if st.json:
        output(st, asdict(decision))
        return
    console().print(f"claim {decision.claim.id}: [bold]{decision.outcome}[/] (tx {decision.tx_hash})")
    output(st, _claim_view(decision.claim, svc.currency(suite)))


@app.command("approve")
def approve_cmd(
    ctx: typer.Context,
    claim_id: ClaimArg,
    amount: Annotated[
        str | None, typer.Option("--amount", help="approve less than claimed (currency units)")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Approve a claim (insurer key; council key for an escalated claim). Above the insurer's dual-control
    threshold a second, different key of the insurer must approve the same amount."""
    st = state(ctx, json_out)
    suite = st.suite()
    units = svc.currency(suite).units(amount) if amount is not None else None
    _print_decision(st, svc.approve(suite, st.signer(), claim_id, units), suite)


@app.command("reject")
def reject_cmd(
    ctx: typer.Context,
    claim_id: ClaimArg,
    reason: Annotated[
        str, typer.Option("--reason", help=f"code 1..65535 or one of {REASONS_HELP}")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Reject a claim with a reason code (insurer key; council key for an escalated claim)."""
    st = state(ctx, json_out)
    suite = st.suite()
    _print_decision(st, svc.reject(suite, st.signer(), claim_id, svc.parse_reason(reason)), suite)


@app.command("escalate")
def escalate_cmd(ctx: typer.Context, claim_id: ClaimArg, json_out: JsonOpt = False) -> None:
    """Escalate an undecided claim to the council after the insurer's decision window (holder/claimant)."""
    st = state(ctx, json_out)
    suite = st.suite()
    _print_decision(st, svc.escalate(suite, st.signer(), claim_id), suite)


@app.command("withdraw")
def withdraw_cmd(ctx: typer.Context, claim_id: ClaimArg, json_out: JsonOpt = False) -> None:
    """Withdraw a submitted or escalated claim (holder/claimant); its evidence is released."""
    st = state(ctx, json_out)
    suite = st.suite()
    _print_decision(st, svc.withdraw(suite, st.signer(), claim_id), suite)


@app.command("pay")
def pay_cmd(ctx: typer.Context, claim_id: ClaimArg, json_out: JsonOpt = False) -> None:
    """Pay an approved claim from the insurer's reserve into the holder's payout credit (anyone)."""
    st = state(ctx, json_out)
    suite = st.suite()
    _print_decision(st, svc.pay(suite, st.signer(), claim_id), suite)


# ---- payouts ----

BeneficiaryOpt = Annotated[str | None, typer.Option("--beneficiary", help="holder address (default: yours)")]


@payouts_app.command("withdraw")
def payouts_withdraw(
    ctx: typer.Context, beneficiary: BeneficiaryOpt = None, json_out: JsonOpt = False
) -> None:
    """Pay the holder's approved claims, then transfer the whole payout credit to the holder. Anyone may run
    it for a holder (a hospital can pay the gas); the tokens only ever go to the holder."""
    st = state(ctx, json_out)
    suite = st.suite()
    who = address_arg(beneficiary, "beneficiary") if beneficiary else None
    result = svc.collect_payouts(suite, st.signer(), who, from_block=st.deploy_block("ClaimsManager"))
    if st.json:
        output(st, result)
        return
    money = svc.currency(suite)
    output(st, {
        "beneficiary": result["beneficiary"],
        "claims paid now": ", ".join(map(str, result["paidClaims"])) or "-",
        "transferred": money.fmt(result["withdrawn"]),
        "not payable yet": "; ".join(f"claim {u['claimId']}: {u['reason']}" for u in result["unpaid"]) or "-",
    })  # fmt: skip


@payouts_app.command("show")
def payouts_show(ctx: typer.Context, beneficiary: BeneficiaryOpt = None, json_out: JsonOpt = False) -> None:
    """A holder's payout credit and approved claims not paid yet."""
    st = state(ctx, json_out)
    suite = st.suite()
    who = address_arg(beneficiary, "beneficiary") if beneficiary else chain.signer_address(st.signer())
    status = svc.payout_status(suite, who, from_block=st.deploy_block("ClaimsManager"))
    if st.json:
        output(st, status)
        return
    money = svc.currency(suite)
    unpaid = ", ".join(f"{c['id']} ({money.fmt(c['amount'])})" for c in status["approvedUnpaid"])
    output(
        st,
        {
            "beneficiary": status["beneficiary"],
            "credit": money.fmt(status["credit"]),
            "approved, unpaid": unpaid or "-",
        },
    )
