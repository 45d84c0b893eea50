"""`medchain council`: k-of-n governance (propose, approve, execute, cancel), members, operator keys.

Thin commands over `medchain.consortium`; the acting key is the root `--account`. An operator key joins in
two steps: the member address offers it (`operator add` / `operator rotate`), then the key accepts
(`--account KEY council operator accept MEMBER`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from medchain.cli.options import CliState, JsonOpt, address_arg, output, state
from medchain.lazy import lazy
from medchain.timefmt import iso

if TYPE_CHECKING:
    import web3
    from web3.contract import Contract
    from web3.types import TxReceipt

    from medchain import chain
    from medchain import consortium as svc
else:
    web3 = lazy("web3")
    svc = lazy("medchain.consortium")
    chain = lazy("medchain.chain")

app = typer.Typer(
    help="Council governance, members and operator keys (the Consortium).", no_args_is_help=True
)
operator_app = typer.Typer(
    help="Operator (staff) keys: the member offers, the key accepts.", no_args_is_help=True
)
app.add_typer(operator_app, name="operator")

IdArg = Annotated[int, typer.Argument(help="proposal id", min=1)]


def _consortium(st: CliState) -> Contract:
    return st.suite().consortium


def _tx(receipt: TxReceipt) -> str:
    return web3.Web3.to_hex(receipt["transactionHash"])


def _proposal_data(p: svc.Proposal) -> dict[str, Any]:
    return {**asdict(p), "executable": p.executable}


def _proposal_row(p: svc.Proposal) -> dict[str, Any]:
    return {
        "id": p.id,
        "kind": p.kind.lower().replace("_", "-"),
        "target": "" if p.kind == "SET_THRESHOLD" else p.target,
        "value": p.value_text,
        "approvals": f"{p.counted}/{p.threshold}"
        + (f" ({p.approvals} recorded)" if p.counted != p.approvals else ""),
        "status": "EXPIRED" if p.status == "PENDING" and p.expired else p.status,
        "expires": iso(p.expires_at),
        "name": p.name,
    }


def _show_proposal(st: CliState, p: svc.Proposal, **extra: Any) -> None:
    data = {**_proposal_data(p), **extra}
    rows = None if st.json else [{**_proposal_row(p), **extra}]
    output(st, data, rows, title=f"proposal {p.id}")


# ---- governance ----


@app.command("propose")
def propose(
    ctx: typer.Context,
    kind: Annotated[
        str, typer.Argument(help="admit | suspend | reinstate | set-roles | set-threshold | remove-operator")
    ],
    target: Annotated[
        str | None,
        typer.Option(help="the member concerned (the operator key for remove-operator; not set-threshold)"),
    ] = None,
    roles: Annotated[
        str | None, typer.Option(help="roles for admit/set-roles, e.g. HOSPITAL,INSURER")
    ] = None,
    name: Annotated[str | None, typer.Option(help="institution name (admit)")] = None,
    uri: Annotated[str | None, typer.Option(help="institution endpoint URI (admit)")] = None,
    threshold: Annotated[int | None, typer.Option(help="new threshold (set-threshold)")] = None,
    execute_now: Annotated[
        bool, typer.Option("--execute", help="execute at once when the approvals already suffice")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Propose a membership, key or threshold change; your member approves it at once."""
    st = state(ctx, json_out)
    request = svc.proposal_request(kind, target, roles, threshold, name, uri)
    c = _consortium(st)
    pid = svc.propose(c, st.signer(), request)
    p = svc.get_proposal(c, pid)
    if execute_now and p.executable:
        svc.execute(c, st.signer(), pid)
        p = svc.get_proposal(c, pid)
    _show_proposal(st, p)


@app.command("approve")
def approve(ctx: typer.Context, proposal_id: IdArg, json_out: JsonOpt = False) -> None:
    """Approve a pending proposal for your council member."""
    st = state(ctx, json_out)
    c = _consortium(st)
    svc.approve(c, st.signer(), proposal_id)
    _show_proposal(st, svc.get_proposal(c, proposal_id))


@app.command("execute")
def execute(ctx: typer.Context, proposal_id: IdArg, json_out: JsonOpt = False) -> None:
    """Execute a proposal that has enough approvals from members who are active council members now."""
    st = state(ctx, json_out)
    c = _consortium(st)
    receipt = svc.execute(c, st.signer(), proposal_id)
    _show_proposal(st, svc.get_proposal(c, proposal_id), tx=_tx(receipt))


@app.command("cancel")
def cancel(ctx: typer.Context, proposal_id: IdArg, json_out: JsonOpt = False) -> None:
    """Cancel a pending proposal your member made, or one whose proposer is no longer active council."""
    st = state(ctx, json_out)
    c = _consortium(st)
    receipt = svc.cancel(c, st.signer(), proposal_id)
    _show_proposal(st, svc.get_proposal(c, proposal_id), tx=_tx(receipt))


@app.command("proposals")
def proposals(
    ctx: typer.Context,
    pending: Annotated[bool, typer.Option("--pending", help="only open, unexpired proposals")] = False,
    json_out: JsonOpt = False,
) -> None:
    """List proposals, newest first."""
    st = state(ctx, json_out)
    c = _consortium(st)
    found = svc.proposals(c, pending_only=pending)
    gov = svc.governance(c)
    title = f"threshold {gov.threshold} of {gov.council_count} council members"
    output(st, [_proposal_data(p) for p in found], [_proposal_row(p) for p in found], title=title)


@app.command("status")
def status(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Threshold, council size, proposal count and lifetime."""
    st = state(ctx, json_out)
    c = _consortium(st)
    output(st, {"consortium": c.address, **asdict(svc.governance(c))})


# ---- members ----


def _member_row(m: svc.Member) -> dict[str, Any]:
    return {
        "address": m.address,
        "name": m.name,
        "roles": ",".join(m.role_names),
        "status": m.status,
        "operators": m.operator_count,
        "uri": m.uri,
    }


@app.command("members")
def members(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Every member ever admitted (from events) with its current roles and status."""
    st = state(ctx, json_out)
    found = svc.members(_consortium(st), from_block=st.deploy_block("Consortium"), with_operators=st.json)
    output(st, [asdict(m) for m in found], [_member_row(m) for m in found], title="members")


@app.command("member")
def member(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="member address (an operator key shows its member)")],
    json_out: JsonOpt = False,
) -> None:
    """One member: roles, status, times, profile and current operator keys."""
    st = state(ctx, json_out)
    c = _consortium(st)
    account = address_arg(address, "address")
    owner = svc.member_of(c, account)
    m = svc.get_member(c, owner or account, with_operators=True, from_block=st.deploy_block("Consortium"))
    data = {**asdict(m), "admitted": iso(m.admitted_at), "updated": iso(m.updated_at)}
    if owner != account:
        data["queried"] = account  # an operator key (shows its member) or an unknown address
    if st.json:
        output(st, data)
        return
    shown = {**_member_row(m), "admitted": data["admitted"], "updated": data["updated"], "keys": m.operators}
    output(st, shown, title=f"member {m.address}" if owner else f"{account}: not a member")


@app.command("profile")
def profile(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="new public name (default: unchanged)")] = None,
    uri: Annotated[str | None, typer.Option(help="new endpoint URI (default: unchanged)")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Update the acting member address's public name and endpoint URI."""
    st = state(ctx, json_out)
    c = _consortium(st)
    me = chain.signer_address(st.signer())
    current = svc.get_member(c, me)
    new_name = current.name if name is None else name
    receipt = svc.update_profile(c, st.signer(), new_name, current.uri if uri is None else uri)
    updated = svc.get_member(c, me)
    output(st, {"member": me, "name": updated.name, "uri": updated.uri, "tx": _tx(receipt)})


# ---- operator keys ----


def _operator_result(st: CliState, action: str, receipt: TxReceipt, **keys: str) -> None:
    output(st, {"member": chain.signer_address(st.signer()), "action": action, **keys, "tx": _tx(receipt)})


def _accept_hint(st: CliState, key: str) -> str:
    return (
        "the key accepts: medchain --account <"
        f"{key}> council operator accept {chain.signer_address(st.signer())}"
    )


@operator_app.command("add")
def operator_add(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="staff key address")],
    json_out: JsonOpt = False,
) -> None:
    """Offer a key a place acting with your member's roles (sign with the member address); it joins when
    the key accepts (`operator accept`)."""
    st = state(ctx, json_out)
    key = address_arg(key, "key")
    receipt = svc.offer_operator(_consortium(st), st.signer(), key)
    _operator_result(st, "offered", receipt, key=key, next=_accept_hint(st, key))


@operator_app.command("accept")
def operator_accept(
    ctx: typer.Context,
    member_address: Annotated[str, typer.Argument(help="the member address that offered this key")],
    json_out: JsonOpt = False,
) -> None:
    """Accept a member's offer (sign with the offered key itself: its consent); the key joins at once."""
    st = state(ctx, json_out)
    member = address_arg(member_address, "member")
    receipt = svc.accept_operator(_consortium(st), st.signer(), member)
    key = chain.signer_address(st.signer())
    output(st, {"member": member, "action": "accepted", "key": key, "tx": _tx(receipt)})


@operator_app.command("withdraw")
def operator_withdraw(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="key address of the open offer")],
    json_out: JsonOpt = False,
) -> None:
    """Withdraw your open offer to a key."""
    st = state(ctx, json_out)
    key = address_arg(key, "key")
    _operator_result(st, "withdrawn", svc.withdraw_operator_offer(_consortium(st), st.signer(), key), key=key)


@operator_app.command("remove")
def operator_remove(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="operator key address")],
    json_out: JsonOpt = False,
) -> None:
    """Remove one of your operator keys; it keeps no role."""
    st = state(ctx, json_out)
    key = address_arg(key, "key")
    _operator_result(st, "removed", svc.remove_operator(_consortium(st), st.signer(), key), key=key)


@operator_app.command("rotate")
def operator_rotate(
    ctx: typer.Context,
    old_key: Annotated[str, typer.Argument(help="operator key to retire")],
    new_key: Annotated[str, typer.Argument(help="its replacement")],
    json_out: JsonOpt = False,
) -> None:
    """Offer a new key as the replacement of an operator key; the swap happens in one transaction when the
    new key accepts (`operator accept`), and the old key works until then."""
    st = state(ctx, json_out)
    old, new = address_arg(old_key, "old key"), address_arg(new_key, "new key")
    receipt = svc.rotate_operator(_consortium(st), st.signer(), old, new)
    _operator_result(st, "rotation offered", receipt, old_key=old, new_key=new, next=_accept_hint(st, new))


@operator_app.command("list")
def operator_list(
    ctx: typer.Context,
    member_address: Annotated[
        str | None, typer.Argument(help="member address (default: the acting one)")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Current operator keys of a member (from events), and its open offers."""
    st = state(ctx, json_out)
    who = address_arg(member_address, "member") if member_address else chain.signer_address(st.signer())
    c, since = _consortium(st), st.deploy_block("Consortium")
    keys = svc.operators(c, who, since)
    offers = svc.operator_offers(c, who, since)
    rows = [{"key": k, "state": "active", "replaces": ""} for k in keys]
    rows += [{"key": k, "state": "offered", "replaces": old or ""} for k, old in offers.items()]
    output(st, {"member": who, "operators": keys, "offers": offers}, rows, title=f"operators of {who}")
