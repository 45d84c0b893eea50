"""`medchain consent`: patient consent (sign offline, relay, grant, revoke, status, history), guardians and
break-glass. Thin commands over `medchain.consent`; the acting key is the root `--account` (a patient's key
comes from MEDCHAIN_PRIVATE_KEY[_<NAME>] or a keystore, never from an argument).

    medchain --account patient consent sign --grantee 0x… --purpose CLAIM --classes LAB,IMAGING \\
        --chain-id 31337 --contract 0x… --nonce 0 --out consent.json     # no RPC needed
    medchain --account 3 consent relay consent.json                      # a hospital pays the gas
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

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
from medchain.errors import ConfigError, InputError
from medchain.lazy import lazy
from medchain.timefmt import iso
from medchain.timeparse import parse_duration, parse_time

if TYPE_CHECKING:
    import web3
    from eth_account.signers.local import LocalAccount
    from web3.contract import Contract
    from web3.types import TxReceipt

    from medchain import chain, codes, contracts, signing
    from medchain import consent as svc
else:
    web3 = lazy("web3")
    svc = lazy("medchain.consent")
    chain = lazy("medchain.chain")
    codes = lazy("medchain.codes")
    contracts = lazy("medchain.contracts")
    signing = lazy("medchain.signing")

app = typer.Typer(
    help="Patient consent (EIP-712 signed or direct), guardians and break-glass (ConsentRegistry).",
    no_args_is_help=True,
)
guardian_app = typer.Typer(help="Guardians who may grant and revoke for a patient.", no_args_is_help=True)
emergency_app = typer.Typer(help="Break-glass emergency access and its review.", no_args_is_help=True)
app.add_typer(guardian_app, name="guardian")
app.add_typer(emergency_app, name="emergency")

GranteeOpt = Annotated[str, typer.Option("--grantee", help="member institution receiving consent (address)")]
PurposeOpt = Annotated[
    str, typer.Option("--purpose", help="TREATMENT | CLAIM | RESEARCH | EMERGENCY | PUBLIC_HEALTH (or 1..5)")
]
ClassesOpt = Annotated[str, typer.Option("--classes", help="data classes, e.g. LAB,IMAGING or ALL")]
FromOpt = Annotated[
    str, typer.Option("--valid-from", help="start: unix time, ISO date/time (UTC), +30d, or 0 = at once")
]
UntilOpt = Annotated[
    str, typer.Option("--valid-until", help="last second (inclusive): as --valid-from; 0 = no end")
]
PatientOpt = Annotated[
    str | None, typer.Option("--patient", help="act for this patient as its guardian (default: yourself)")
]


def _tx(receipt: TxReceipt) -> dict[str, Any]:
    return {
        "tx": web3.Web3.to_hex(receipt["transactionHash"]),
        "block": int(receipt["blockNumber"]),
        "gasUsed": int(receipt["gasUsed"]),
    }


def _registry(st: CliState) -> Contract:
    return st.suite().require("consent")


def _local_key(st: CliState) -> LocalAccount:
    signer = st.signer()
    if isinstance(signer, str):
        raise ConfigError(
            "signing needs a local key (MEDCHAIN_PRIVATE_KEY_<NAME> or MEDCHAIN_KEYSTORE_<NAME> with "
            "--account NAME); a node account index cannot sign EIP-712 here"
        )
    return signer


def _message_row(signed: svc.SignedConsent) -> dict[str, Any]:
    m = signed.message
    row: dict[str, Any] = {
        "type": m.primary_type,
        "patient": m.patient,
        "grantee": m.grantee,
        "purpose": codes.PURPOSE_NAMES.get(m.purpose, m.purpose),
    }
    if isinstance(m, signing.ConsentGrant):
        row |= {
            "classes": svc.classes_text(m.data_classes),
            "validFrom": iso(m.valid_from) or "at once",
            "validUntil": iso(m.valid_until) or "no end",
        }
    row |= {
        "nonce": m.nonce,
        "deadline": iso(m.deadline),
        "chainId": signed.domain.chain_id,
        "registry": signed.domain.verifying_contract,
        "signer": signed.signer,
    }
    return row


def _state_row(s: svc.ConsentState) -> dict[str, Any]:
    until = iso(s.valid_until) or "no end"
    return {
        "grantee": s.grantee,
        "purpose": s.purpose_name,
        "classes": svc.classes_text(s.data_classes),
        "status": s.status,
        "permitted": "yes" if s.permitted else "no",
        "valid": f"{iso(s.valid_from)} .. {until}" if s.valid_from else f"until {until}",
    }


#: a --valid-from this far before now is "in the past" (not a clock difference between machines)
PAST_SLACK = 300


def _warn_period(start: int, stop: int, now: int) -> None:
    """A warning on stderr (not an error: back-dating may be meant) when the period is already over or starts
    in the past."""
    if stop and stop <= now:
        err_console().print(
            f"warning: --valid-until {iso(stop)} is already past (now {iso(now)}): this consent is expired "
            "as soon as it is recorded", style="yellow", highlight=False, markup=False, soft_wrap=True,
        )  # fmt: skip
    elif start and start < now - PAST_SLACK:
        err_console().print(
            f"warning: --valid-from {iso(start)} is in the past (now {iso(now)}): the consent counts "
            "from then",
            style="yellow", highlight=False, markup=False, soft_wrap=True,
        )  # fmt: skip


# ---- signed consent ----


@app.command("sign")
def sign(
    ctx: typer.Context,
    grantee: GranteeOpt,
    purpose: PurposeOpt,
    classes: Annotated[
        str | None, typer.Option("--classes", help="data classes (grant only), e.g. LAB,IMAGING")
    ] = None,
    valid_from: FromOpt = "0",
    valid_until: UntilOpt = "0",
    revoke_it: Annotated[
        bool, typer.Option("--revoke", help="sign a ConsentRevoke instead of a grant")
    ] = False,
    patient: PatientOpt = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="last second to relay it (as --valid-from)")
    ] = None,
    ttl: Annotated[
        str, typer.Option("--ttl", help="deadline = now + this when no --deadline (e.g. 7d)")
    ] = "7d",
    chain_id: Annotated[int | None, typer.Option("--chain-id", help="offline: the chain id")] = None,
    contract: Annotated[
        str | None, typer.Option("--contract", help="offline: the ConsentRegistry address")
    ] = None,
    nonce: Annotated[
        int | None, typer.Option("--nonce", help="the patient's nonce (default: read on chain)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="write the signed consent here (default: stdout)")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Sign a consent (EIP-712) with your key: as the patient, or as its guardian with --patient. Works with
    no RPC when --chain-id, --contract and --nonce are all given."""
    st = state(ctx, json_out)
    key = _local_key(st)
    who = address_arg(patient, "patient") if patient else key.address
    target = address_arg(grantee, "grantee")
    code = codes.parse_purpose(purpose)
    if chain_id is not None and contract is not None and nonce is not None:  # offline: no RPC at all
        domain = signing.Domain(chain_id, address_arg(contract, "contract"))
        now = svc.now()
    else:
        registry = (
            _registry(st) if contract is None else contracts.contract_at(st.w3(), "ConsentRegistry", contract)
        )
        domain = svc.domain_of(registry)
        if chain_id is not None and chain_id != domain.chain_id:
            raise InputError(f"--chain-id {chain_id} but the node is chain {domain.chain_id}")
        nonce = svc.nonce_of(registry, who) if nonce is None else nonce
        now = svc.now(registry)
    if deadline:  # an EIP-712 deadline is a uint256
        end = parse_time(deadline, now, "--deadline", limit=2**256 - 1)
    else:
        end = now + parse_duration(ttl, "--ttl")
    if revoke_it:
        if classes is not None:
            raise InputError("--revoke takes no --classes")
        message: signing.ConsentGrant | signing.ConsentRevoke = signing.ConsentRevoke(
            who, target, code, nonce, end
        )
    else:
        if classes is None:
            raise InputError("a grant needs --classes (e.g. LAB,IMAGING or ALL)")
        start = parse_time(valid_from, now, "--valid-from")
        stop = parse_time(valid_until, now, "--valid-until")
        _warn_period(start, stop, now)
        classes_bitmap = codes.parse_classes(classes)
        message = signing.ConsentGrant(who, target, code, classes_bitmap, start, stop, nonce, end)
    signed = svc.sign_consent(message, domain, key)
    if out is None and not st.json:
        typer.echo(json.dumps(signed.to_json(), indent=2))
        return
    if out is not None:
        signed.save(out)
    output(st, {**_message_row(signed), "file": str(out) if out else None, "signedConsent": signed.to_json()},
           [_message_row(signed) | {"file": str(out)}], title="signed consent")  # fmt: skip


@app.command("verify")
def verify(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="signed-consent JSON file")],
    json_out: JsonOpt = False,
) -> None:
    """Check a signed-consent file locally (format, DESIGN §6.4 types and domain, signer); no RPC."""
    st = state(ctx, json_out)
    signed = svc.SignedConsent.load(file)
    recovered = signing.recover(signed.message, signed.domain, signed.signature)
    by = (
        "patient" if recovered == signed.message.patient else "not the patient (a guardian? checked on chain)"
    )
    row = _message_row(signed) | {"signer": recovered, "signedBy": by}
    output(st, row, title=str(file))


@app.command("relay")
def relay(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="signed-consent JSON file")],
    json_out: JsonOpt = False,
) -> None:
    """Relay a signed consent (you pay the gas): grantBySig or revokeBySig."""
    st = state(ctx, json_out)
    signed = svc.SignedConsent.load(file)
    registry = _registry(st)
    receipt = svc.relay(registry, signed, st.signer())
    m = signed.message
    after = svc.consent_state(registry, m.patient, m.grantee, m.purpose)
    output(st, {**_message_row(signed), **_tx(receipt), "status": after.status, "permitted": after.permitted})


# ---- direct consent ----


@app.command("grant")
def grant(
    ctx: typer.Context,
    grantee: GranteeOpt,
    purpose: PurposeOpt,
    classes: ClassesOpt,
    valid_from: FromOpt = "0",
    valid_until: UntilOpt = "0",
    patient: PatientOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Grant (or replace) a consent directly from your key (you pay the gas)."""
    st = state(ctx, json_out)
    registry = _registry(st)
    now = svc.now(registry)
    code = codes.parse_purpose(purpose)
    start = parse_time(valid_from, now, "--valid-from")
    stop = parse_time(valid_until, now, "--valid-until")
    _warn_period(start, stop, now)
    receipt = svc.grant(
        registry, st.signer(), address_arg(grantee, "grantee"), code, codes.parse_classes(classes), start,
        stop,
        patient,
    )  # fmt: skip
    who = address_arg(patient, "patient") if patient else chain.signer_address(st.signer())
    s = svc.consent_state(registry, who, grantee, code)
    output(st, {**asdict(s), **_tx(receipt)}, [_state_row(s) | {"tx": _tx(receipt)["tx"]}], title="granted")


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    grantee: GranteeOpt,
    purpose: PurposeOpt,
    patient: PatientOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Revoke a consent directly (the record and its history stay)."""
    st = state(ctx, json_out)
    registry = _registry(st)
    code = codes.parse_purpose(purpose)
    receipt = svc.revoke(registry, st.signer(), address_arg(grantee, "grantee"), code, patient)
    who = address_arg(patient, "patient") if patient else chain.signer_address(st.signer())
    s = svc.consent_state(registry, who, grantee, code)
    output(st, {**asdict(s), **_tx(receipt)}, [_state_row(s) | {"tx": _tx(receipt)["tx"]}], title="revoked")


@app.command("invalidate")
def invalidate(ctx: typer.Context, patient: PatientOpt = None, json_out: JsonOpt = False) -> None:
    """Void every outstanding consent signature (consumes the current nonce)."""
    st = state(ctx, json_out)
    new_nonce = svc.invalidate_nonce(_registry(st), st.signer(), patient)
    who = address_arg(patient, "patient") if patient else chain.signer_address(st.signer())
    output(st, {"patient": who, "nonce": new_nonce})


@app.command("status")
def status(
    ctx: typer.Context,
    patient: Annotated[str, typer.Argument(help="patient address")],
    grantee: Annotated[str | None, typer.Argument(help="only consents to this grantee")] = None,
    json_out: JsonOpt = False,
) -> None:
    """A patient's consents now: classes, validity, revoked or not, and whether isPermitted says yes."""
    st = state(ctx, json_out)
    who = address_arg(patient, "patient")
    target = address_arg(grantee, "grantee") if grantee else None
    states = svc.status(_registry(st), who, target, st.deploy_block("ConsentRegistry"))
    names = MemberNames(st.suite().consortium)
    rows = [_state_row(s) | {"grantee": names.label(s.grantee)} for s in states]
    output(st, [asdict(s) for s in states], rows, title=f"consents of {who}")


@app.command("list")
def history(
    ctx: typer.Context,
    patient: Annotated[str, typer.Argument(help="patient address")],
    json_out: JsonOpt = False,
) -> None:
    """A patient's history from events: grants, revocations, voided signatures, guardians, break-glass."""
    st = state(ctx, json_out)
    who = address_arg(patient, "patient")
    entries = svc.history(_registry(st), who, st.deploy_block("ConsentRegistry"))
    names = MemberNames(st.suite().consortium)
    rows = [
        {"time": iso(e.timestamp), "event": e.event, "what": names.annotate(e.describe()), "tx": e.tx_hash}
        for e in entries
    ]
    output(st, [asdict(e) for e in entries], rows, title=f"history of {who}")


# ---- guardians ----


@guardian_app.command("set")
def guardian_set(
    ctx: typer.Context,
    guardian: Annotated[str, typer.Argument(help="guardian address")],
    until: Annotated[
        str, typer.Option("--until", help="last second of the guardianship (unix, ISO, +1y or +365d)")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Appoint a guardian for yourself (the patient) until a time; replaces any previous guardian."""
    st = state(ctx, json_out)
    registry = _registry(st)
    now = svc.now(registry)
    receipt = svc.set_guardian(
        registry, st.signer(), address_arg(guardian, "guardian"), parse_time(until, now, "--until")
    )
    output(st, {**svc.guardian_of(registry, chain.signer_address(st.signer())), **_tx(receipt)})


@guardian_app.command("remove")
def guardian_remove(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Remove your guardian."""
    st = state(ctx, json_out)
    registry = _registry(st)
    receipt = svc.remove_guardian(registry, st.signer())
    _show_guardian(st, {**svc.guardian_of(registry, chain.signer_address(st.signer())), **_tx(receipt)})


@guardian_app.command("show")
def guardian_show(
    ctx: typer.Context,
    patient: Annotated[str, typer.Argument(help="patient address")],
    json_out: JsonOpt = False,
) -> None:
    """A patient's guardian, its end time, and whether it may act now."""
    st = state(ctx, json_out)
    _show_guardian(st, svc.guardian_of(_registry(st), address_arg(patient, "patient")))


def _show_guardian(st: CliState, info: dict[str, Any]) -> None:
    output(st, info if st.json else info | {"until": iso(info["until"]) or "-"})


# ---- break-glass ----


def _opening_row(o: svc.Opening) -> dict[str, Any]:
    return {
        "id": o.id,
        "patient": o.patient,
        "hospital": o.hospital,
        "reason": o.reason_code,
        "opened": iso(o.opened_at),
        "expires": iso(o.expires_at),
        "open": "yes" if o.open else "no",
        "review": o.review,
        "overdue": "OVERDUE" if o.overdue else "",
    }


def _justification(file: Path | None, digest: str | None) -> bytes:
    if (file is None) == (digest is None):
        raise InputError("give exactly one of --justification-file or --justification-hash")
    if file is not None:
        try:
            return hashlib.sha256(file.read_bytes()).digest()
        except OSError as exc:
            raise InputError(f"cannot read {file}: {exc.strerror}") from None
    assert digest is not None
    text = digest[2:] if digest.startswith("0x") else digest
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise InputError("--justification-hash must be 32 bytes of hex")
    return bytes.fromhex(text)


@emergency_app.command("open")
def emergency_open(
    ctx: typer.Context,
    patient: Annotated[str, typer.Argument(help="patient address")],
    reason: Annotated[int, typer.Option("--reason", help="reason code 1..255", min=1, max=255)],
    justification_file: Annotated[
        Path | None,
        typer.Option("--justification-file", help="justification document (its sha256 goes on chain)"),
    ] = None,
    justification_hash: Annotated[
        str | None, typer.Option("--justification-hash", help="or: the document's 32-byte hash")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Open break-glass access (HOSPITAL key): purpose EMERGENCY, all classes, 24 h, reviewed later."""
    st = state(ctx, json_out)
    registry = _registry(st)
    digest = _justification(justification_file, justification_hash)
    opening_id = svc.open_emergency(registry, st.signer(), address_arg(patient, "patient"), reason, digest)
    o = svc.get_opening(registry, opening_id)
    output(st, asdict(o), [_opening_row(o)], title=f"break-glass #{opening_id}")


@emergency_app.command("close")
def emergency_close(
    ctx: typer.Context,
    opening_id: Annotated[int, typer.Argument(help="opening id", min=1)],
    json_out: JsonOpt = False,
) -> None:
    """End your hospital's emergency access early."""
    st = state(ctx, json_out)
    registry = _registry(st)
    receipt = svc.close_emergency(registry, st.signer(), opening_id)
    o = svc.get_opening(registry, opening_id)
    output(st, {**asdict(o), **_tx(receipt)}, [_opening_row(o)], title=f"break-glass #{opening_id}")


@emergency_app.command("review")
def emergency_review(
    ctx: typer.Context,
    opening_id: Annotated[int, typer.Argument(help="opening id", min=1)],
    justified: Annotated[bool, typer.Option("--justified/--unjustified", help="the review's outcome")],
    json_out: JsonOpt = False,
) -> None:
    """Review an opening once (COUNCIL or AUDITOR key)."""
    st = state(ctx, json_out)
    registry = _registry(st)
    receipt = svc.review_emergency(registry, st.signer(), opening_id, justified)
    o = svc.get_opening(registry, opening_id)
    output(st, {**asdict(o), **_tx(receipt)}, [_opening_row(o)], title=f"break-glass #{opening_id}")


@emergency_app.command("show")
def emergency_show(
    ctx: typer.Context,
    opening_id: Annotated[int, typer.Argument(help="opening id", min=1)],
    json_out: JsonOpt = False,
) -> None:
    """One opening."""
    st = state(ctx, json_out)
    o = svc.get_opening(_registry(st), opening_id)
    output(st, asdict(o), [_opening_row(o)], title=f"break-glass #{opening_id}")


@emergency_app.command("overdue")
def emergency_overdue(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Openings still unreviewed 7 days after they were opened."""
    st = state(ctx, json_out)
    found = svc.overdue(_registry(st))
    if not found and not st.json:
        console().print("no overdue break-glass openings")
        return
    output(st, [asdict(o) for o in found], [_opening_row(o) for o in found], title="overdue openings")
