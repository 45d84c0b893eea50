"""`medchain drugs`: products, batches (serial trees), ship / receive, dispense by scan, recall, trace and the
consumer status of a pack. Thin: every command calls one medchain.drugs function and prints its result."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from medchain.cli.options import CliState, JsonOpt, address_arg, console, err_console, output, state
from medchain.errors import InputError
from medchain.lazy import lazy
from medchain.text import check_json_depth, is_digits
from medchain.timefmt import iso

if TYPE_CHECKING:
    from medchain import drugs as svc
    from medchain import qr as qr_mod
    from medchain import serials as serials_mod
    from medchain.store import Connection
else:
    svc = lazy("medchain.drugs")
    qr_mod = lazy("medchain.qr")
    serials_mod = lazy("medchain.serials")

app = typer.Typer(help="Drug traceability: products, batches, custody, dispensing, recalls, trace.")
product_app = typer.Typer(help="GTIN products (MANUFACTURER).")
batch_app = typer.Typer(
    help="Batches and their serial trees (MANUFACTURER publishes, others fetch or import)."
)
prefix_app = typer.Typer(help="GS1 Company Prefixes of manufacturers (COUNCIL, k-of-n approvals).")
app.add_typer(product_app, name="product")
app.add_typer(batch_app, name="batch")
app.add_typer(prefix_app, name="prefix")

StoreOpt = Annotated[
    Path | None, typer.Option("--store", help="local store (SQLite; default: per chain in MEDCHAIN_HOME)")
]
BatchArg = Annotated[str, typer.Argument(help="batch: 0x id, GTIN/LOT, or a GS1 scan with (01) and (10)")]
ScanArg = Annotated[str, typer.Argument(help="pack scan: Digital Link URI, (01)…(17)…(10)…(21)…, raw scan")]


def _drugs(st: CliState) -> Any:
    return st.suite().require("drugs")


def _store(st: CliState, path: Path | None) -> Connection:
    from medchain.store import default_store_path, open_store

    return open_store(path or default_store_path(st.w3().eth.chain_id))


def _expiry(text: str) -> dt.date:
    value = text.strip()
    if len(value) == 6 and is_digits(value):
        from medchain.gs1 import parse_yymmdd  # (biip loads in ~50 ms: only when a date is parsed)

        return parse_yymmdd(value)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"expiry {text!r}: expected YYMMDD or YYYY-MM-DD") from None


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None


def _data(result: Any) -> dict[str, Any]:
    return dataclasses.asdict(result)


def _hops(hops: list[svc.JourneyHop]) -> list[dict[str, Any]]:
    return [
        {
            "when": iso(h.timestamp),
            "step": h.kind,
            "from": h.from_name or h.from_address or "",
            "to": h.to_name or h.to_address or "",
            "qty": h.quantity or "",
            "shipment": h.shipment_id or "",
            "block": h.block,
            "tx": h.tx_hash[:12] + "…",
        }
        for h in hops
    ]


# ---- products ----


@product_app.command("register")
def product_register(
    ctx: typer.Context,
    gtin: Annotated[str, typer.Argument(help="GTIN-14 (or GTIN-8/12/13, zero-padded); check digit verified")],
    name: Annotated[str, typer.Option(help="public product name, as printed on the pack")],
    json_out: JsonOpt = False,
) -> None:
    """Register a GTIN as a product of your member (MANUFACTURER key)."""
    st = state(ctx, json_out)
    tx_hash, block = svc.register_product(st.w3(), _drugs(st), st.signer(), gtin, name)
    number = serials_mod.gtin14(serials_mod.gtin_number(gtin))
    output(st, {"gtin": number, "name": name, "tx": tx_hash, "block": block})


@app.command("products")
def products_cmd(
    ctx: typer.Context,
    manufacturer: Annotated[str | None, typer.Option(help="only this manufacturer member's")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List registered products with their manufacturer now."""
    from medchain.drug_listings import products

    st = state(ctx, json_out)
    who = address_arg(manufacturer, "manufacturer") if manufacturer else None
    rows = products(_drugs(st), st.suite().consortium, who, st.deploy_block("DrugTrace"))
    output(st, rows, title="products")


@app.command("batches")
def batches_cmd(
    ctx: typer.Context,
    gtin: Annotated[str | None, typer.Option(help="only this product's batches")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List commissioned batches: lot, expiry, status (ACTIVE / RECALLED), quantities."""
    from medchain.drug_listings import batches

    st = state(ctx, json_out)
    number = serials_mod.gtin_number(gtin) if gtin else None
    rows = batches(_drugs(st), st.suite().consortium, number, st.deploy_block("DrugTrace"))
    shown = [{k: v for k, v in r.items() if k not in ("batchId", "manufacturer")} for r in rows]
    output(st, rows, shown, title="batches")


@app.command("shipments")
def shipments_cmd(
    ctx: typer.Context,
    pending: Annotated[bool, typer.Option("--pending", help="only shipments still in transit")] = False,
    to: Annotated[str | None, typer.Option("--to", help="only shipments to this member")] = None,
    sender: Annotated[str | None, typer.Option("--from", help="only shipments from this member")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List shipments (`--pending`: awaiting receipt), with member names and ISO times."""
    from medchain.drug_listings import shipments

    st = state(ctx, json_out)
    dest = address_arg(to, "recipient") if to else None
    origin = address_arg(sender, "sender") if sender else None
    rows = shipments(_drugs(st), st.suite().consortium, to=dest, sender=origin, pending=pending,
                     from_block=st.deploy_block("DrugTrace"))  # fmt: skip
    output(st, rows, title="shipments awaiting receipt" if pending else "shipments")


@product_app.command("show")
def product_show(
    ctx: typer.Context, gtin: Annotated[str, typer.Argument(help="GTIN")], json_out: JsonOpt = False
) -> None:
    """A product's manufacturer and name."""
    from medchain.drug_listings import product

    st = state(ctx, json_out)
    output(st, product(_drugs(st), gtin))


@product_app.command("reassign")
def product_reassign(
    ctx: typer.Context,
    gtin: Annotated[str, typer.Argument(help="registered GTIN")],
    to: Annotated[str, typer.Option("--to", help="manufacturer member address that gets the product")],
    json_out: JsonOpt = False,
) -> None:
    """Approve moving a product to another manufacturer (COUNCIL key; done once the threshold approved)."""
    st = state(ctx, json_out)
    result = svc.reassign_product(st.w3(), _drugs(st), st.signer(), gtin, address_arg(to, "manufacturer"))
    output(st, _data(result))


# ---- GS1 Company Prefixes ----


@prefix_app.command("assign")
def prefix_assign(
    ctx: typer.Context,
    prefix: Annotated[str, typer.Argument(help="GS1 Company Prefix, 6-12 digits (leading zeros count)")],
    to: Annotated[str | None, typer.Option("--to", help="manufacturer member address")] = None,
    unassign: Annotated[bool, typer.Option("--unassign", help="take the prefix away from its owner")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Approve assigning a prefix to a manufacturer (COUNCIL key; done once the threshold approved)."""
    st = state(ctx, json_out)
    if (to is None) == (not unassign):
        raise InputError("give --to MEMBER or --unassign (one of them)")
    target = None if unassign else address_arg(to or "", "manufacturer")
    output(st, _data(svc.assign_prefix(st.w3(), _drugs(st), st.signer(), prefix, target)))


@prefix_app.command("show")
def prefix_show(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="a prefix (6-12 digits) or a GTIN (8, 12, 13 or 14 digits)")],
    json_out: JsonOpt = False,
) -> None:
    """Who owns a prefix, or which assigned prefix a GTIN falls in."""
    from medchain.drug_listings import prefix_owner

    st = state(ctx, json_out)
    output(st, prefix_owner(_drugs(st), code))


# ---- batches ----


@batch_app.command("commission")
def batch_commission(
    ctx: typer.Context,
    gtin: Annotated[str, typer.Option(help="GTIN of a product of yours")],
    lot: Annotated[str, typer.Option(help="lot / batch number (GS1 AI 10, ≤ 20 characters)")],
    expiry: Annotated[str, typer.Option(help="expiry date, YYMMDD (GS1 AI 17) or YYYY-MM-DD")],
    serials: Annotated[Path, typer.Option(help="text file, one serial per line (# comments)")],
    certificate: Annotated[
        Path | None, typer.Option(help="batch release certificate file (its sha256 goes on chain)")
    ] = None,
    publish: Annotated[
        Path | None,
        typer.Option(help="also publish the tree (no serials) to DIR/trees/0x<batch>.json: see publish-tree"),
    ] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Commission a batch: build its serial Merkle tree, store it locally, send the root. Re-running after a
    crash does not commission twice."""
    st = state(ctx, json_out)
    values = qr_mod.read_serials(serials)
    if not values:
        raise InputError(f"{serials} holds no serials")
    result = svc.commission_batch(
        st.w3(),
        _drugs(st),
        st.signer(),
        gtin=gtin,
        lot=lot,
        expiry=_expiry(expiry),
        serials=values,
        certificate=_read(certificate, "certificate") if certificate else None,
        store=_store(st, store),
    )
    data = _data(result)
    if publish is not None:
        data["published"] = str(_publish(st, store, bytes.fromhex(result.batch_id[2:]), publish))
    weak = serials_mod.guessable_serials(values)
    if weak is not None:
        data["warning"] = f"{weak}; use random serials before publishing trees (SECURITY.md)"
        err_console().print(
            f"warning: {data['warning']}", style="yellow", highlight=False, markup=False, soft_wrap=True
        )
    output(st, data)


def _publish(st: CliState, store: Path | None, batch: bytes, folder: Path) -> Path:
    from medchain.serial_publish import publish

    return publish(_store(st, store), batch, folder)


@batch_app.command("publish-tree")
def batch_publish_tree(
    ctx: typer.Context,
    batch: BatchArg,
    out: Annotated[Path, typer.Option("--out", help="document root of your member URI's web server")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Publish the batch's serial tree without its serials (OUT/trees/0x<batch>.json), where pharmacies and
    consumer pages fetch it from: <your member URI>/trees/0x<batch>.json. `medchain web serve --store` serves
    it from the store too."""
    st = state(ctx, json_out)
    batch_id = svc.resolve_batch(batch)
    path = _publish(st, store, batch_id, out)
    output(st, {"file": str(path), "batchId": "0x" + batch_id.hex(), "path": f"/trees/{path.name}"})


@batch_app.command("show")
def batch_show(ctx: typer.Context, batch: BatchArg, json_out: JsonOpt = False) -> None:
    """A batch as stored on chain."""
    st = state(ctx, json_out)
    view = svc.batch_view(_drugs(st), svc.resolve_batch(batch))
    if view.status == "NONE":
        raise InputError(f"batch {batch} is not on chain")
    output(st, _data(view))


@batch_app.command("export-tree")
def batch_export_tree(
    ctx: typer.Context,
    batch: BatchArg,
    out: Annotated[Path, typer.Option("--out", help="output JSON file (OZ standard-v1 dump)")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the batch's serial tree (OpenZeppelin StandardMerkleTree dump) for the batch's recipients."""
    st = state(ctx, json_out)
    batch_id = svc.resolve_batch(batch)
    dump = svc.export_tree(_store(st, store), batch_id)
    out.write_text(json.dumps(dump))
    output(
        st,
        {
            "file": str(out),
            "batchId": "0x" + batch_id.hex(),
            "serials": len(dump["values"]),
            "root": dump["tree"][0],
        },
    )


@batch_app.command("import-tree")
def batch_import_tree(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="the manufacturer's tree dump (JSON)")],
    gtin: Annotated[str, typer.Option(help="GTIN of the batch")],
    lot: Annotated[str, typer.Option(help="lot of the batch")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Store a batch's serial tree so its packs can be dispensed here; checked against the chain's root."""
    st = state(ctx, json_out)
    try:
        text = _read(file, "tree dump")
        check_json_depth(text, str(file))
        dump = json.loads(text)
    except ValueError:
        raise InputError(f"{file} is not JSON") from None
    tree = svc.import_tree(_store(st, store), dump, gtin, lot)
    view = svc.batch_view(_drugs(st), tree.batch_id)
    if view.status != "NONE" and view.serial_root != "0x" + tree.root.hex():
        raise InputError(
            f"the tree's root 0x{tree.root.hex()} is not batch {lot}'s root on chain {view.serial_root}"
        )
    output(
        st,
        {
            "batchId": "0x" + tree.batch_id.hex(),
            "serials": len(tree),
            "root": "0x" + tree.root.hex(),
            "onChain": view.status,
        },
    )


# ---- custody ----


def _serial_list(path: Path) -> list[str]:
    """A serial list file: a JSON list (as `ship --out` writes it) or one serial per line (# comments)."""
    text = _read(path, "serial list").decode("utf-8", errors="replace")
    if text.lstrip().startswith("["):
        check_json_depth(text, str(path))
        try:
            values = json.loads(text)
        except ValueError:
            raise InputError(f"{path} is not a JSON list of serials") from None
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InputError(f"{path} is not a JSON list of serials")
        return values
    return qr_mod.read_serials(path)


@app.command("ship")
def ship_cmd(
    ctx: typer.Context,
    batch: BatchArg,
    to: Annotated[str, typer.Option("--to", help="recipient member address")],
    serial: Annotated[
        list[str] | None, typer.Option("--serial", help="a serial to ship (repeatable)")
    ] = None,
    serials: Annotated[
        Path | None, typer.Option("--serials", help="file of serials to ship (JSON list or one per line)")
    ] = None,
    quantity: Annotated[
        int | None, typer.Option(min=1, help="ship this many serials not yet shipped")
    ] = None,
    whole: Annotated[
        bool, typer.Option("--all", help="forward a whole source (fixed gas at any size)")
    ] = False,
    source: Annotated[
        int | None,
        typer.Option(min=0, help="0 = the batch tree, else a shipment you received (default: found)"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="write the shipped serial list here (JSON) for the recipient")
    ] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Ship serials of a batch you hold to a DISTRIBUTOR / PHARMACY / HOSPITAL member (or back to its maker).
    The shipment commits to its serials; give the recipient the list (--out) for `drugs receive --serials`."""
    st = state(ctx, json_out)
    listed = list(serial or []) + (_serial_list(serials) if serials else [])
    if sum((bool(listed), quantity is not None, whole)) != 1:
        raise InputError("say what to ship: --serial/--serials, --quantity N, or --all (one of them)")
    result = svc.ship(
        st.w3(), _drugs(st), st.signer(), batch=svc.resolve_batch(batch), to=address_arg(to, "recipient"),
        serials=listed or None, quantity=quantity, whole=whole, source=source, store=_store(st, store),
    )  # fmt: skip
    if out is not None:
        try:
            out.write_text(json.dumps(list(result.serials), indent=1) + "\n")
        except OSError as exc:
            raise InputError(
                f"cannot write {out}: {exc.strerror} (the shipment {result.shipment_id} is sent)"
            ) from None
    data = _data(result)
    if not st.json:
        data["serials"] = f"{len(result.serials)} serials" + (f" (written to {out})" if out else "")
    output(st, data)


@app.command("receive")
def receive_cmd(
    ctx: typer.Context,
    shipment: Annotated[int, typer.Argument(min=1, help="shipment id")],
    quantity: Annotated[
        int | None, typer.Option(min=0, help="units that arrived (default: all shipped; fewer = discrepancy)")
    ] = None,
    serials: Annotated[
        Path | None, typer.Option("--serials", help="the shipment's serial list from the sender (ship --out)")
    ] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Confirm a shipment addressed to your member. With its serial list (checked against the chain first) the
    packs can then be dispensed or shipped on from this store."""
    st = state(ctx, json_out)
    result = svc.receive(
        st.w3(), _drugs(st), st.signer(), shipment_id=shipment, quantity=quantity,
        serials=_serial_list(serials) if serials else None, store=_store(st, store),
    )  # fmt: skip
    output(st, _data(result))
    if not st.json:
        if result.lost:
            console().print(
                f"[yellow]discrepancy:[/] {result.lost} of {result.shipped} units recorded as lost"
            )
        if not result.serials_known:
            console().print("[yellow]no serial list stored:[/] ask the sender for it to dispense these packs")


@app.command("cancel")
def cancel_cmd(
    ctx: typer.Context,
    shipment: Annotated[int, typer.Argument(min=1, help="shipment id")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Take back a shipment you sent, before it is received: its units are your stock again."""
    st = state(ctx, json_out)
    result = svc.cancel_shipment(
        st.w3(), _drugs(st), st.signer(), shipment_id=shipment, store=_store(st, store)
    )
    output(st, _data(result))


@app.command("return")
def return_cmd(
    ctx: typer.Context,
    shipment: Annotated[int, typer.Argument(min=1, help="shipment id")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Refuse a shipment addressed to you, before receiving it: its units go back to the sender."""
    st = state(ctx, json_out)
    result = svc.return_shipment(
        st.w3(), _drugs(st), st.signer(), shipment_id=shipment, store=_store(st, store)
    )
    output(st, _data(result))


# ---- dispensing ----


@app.command("dispense")
def dispense_cmd(
    ctx: typer.Context,
    scan: ScanArg,
    proof_file: Annotated[
        Path | None,
        typer.Option(help="JSON list of proof hashes in --shipment's tree (default: from the store)"),
    ] = None,
    shipment: Annotated[int | None, typer.Option(min=1, help="received shipment the proof is for")] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Dispense the scanned pack (PHARMACY / HOSPITAL key). A pack dispensed before is flagged on chain as a
    duplicate scan (not refused) and reported here; exit code 2 then."""
    st = state(ctx, json_out)
    proof = None
    if proof_file is not None:
        try:
            text = _read(proof_file, "proof")
            check_json_depth(text, str(proof_file))
            proof = [bytes.fromhex(p[2:] if p.startswith("0x") else p) for p in json.loads(text)]
        except (ValueError, TypeError, AttributeError):
            raise InputError(f"{proof_file} is not a JSON list of hex hashes") from None
    if (proof is None) != (shipment is None):
        raise InputError("--proof-file and --shipment go together (or leave both out to use the store)")
    result = svc.dispense(
        st.w3(), _drugs(st), st.signer(), scan, proof=proof, shipment_id=shipment, store=_store(st, store)
    )
    output(st, _data(result))
    if not result.first:
        if not st.json:
            console().print(
                f"[bold red]duplicate scan:[/] serial {result.serial} was already dispensed; "
                f"flag #{result.duplicate_count} recorded on chain"
            )
        raise typer.Exit(code=2)


# ---- recall ----


@app.command("recall")
def recall_cmd(
    ctx: typer.Context,
    batch: BatchArg,
    reason: Annotated[str | None, typer.Option(help="recall reason text (its sha256 goes on chain)")] = None,
    notice: Annotated[Path | None, typer.Option(help="recall notice file (its sha256 goes on chain)")] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Recall a batch (its manufacturer, or a COUNCIL key)."""
    st = state(ctx, json_out)
    if (reason is None) == (notice is None):
        raise InputError("give exactly one of --reason and --notice")
    text = reason.encode() if reason is not None else _read(notice, "notice")  # type: ignore[arg-type]
    result = svc.recall(
        st.w3(), _drugs(st), st.signer(), batch=svc.resolve_batch(batch), notice=text, store=_store(st, store)
    )
    output(st, _data(result))


# ---- reading ----


@app.command("trace")
def trace_cmd(
    ctx: typer.Context,
    scan: ScanArg,
    all_hops: Annotated[
        bool, typer.Option(help="every hand-over of the batch, not only the pack's path")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """The journey of the scanned pack: commission → shipments and receipts → dispense (from chain events)."""
    st = state(ctx, json_out)
    code = svc.parse_pack(scan)
    assert code.lot is not None
    hops = svc.trace(
        st.w3(),
        _drugs(st),
        code.gtin,
        code.lot,
        code.serial,
        from_block=st.deploy_block("DrugTrace"),
        path_only=not all_hops,
    )
    if not hops:
        raise InputError(f"batch {code.lot} of GTIN {code.gtin} is not on chain")
    output(
        st,
        [dataclasses.asdict(h) for h in hops],
        _hops(hops),
        title=f"{code.gtin} lot {code.lot} serial {code.serial}",
    )


@app.command("status")
def status_cmd(
    ctx: typer.Context,
    scan: ScanArg,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What a consumer sees for the scanned pack: genuine, recalled, expired, dispensed (when, where),
    duplicate scans."""
    st = state(ctx, json_out)
    code = svc.parse_pack(scan)
    assert code.lot is not None and code.serial is not None
    status = svc.lookup(
        st.w3(),
        _drugs(st),
        code.gtin,
        code.lot,
        code.serial,
        store=_store(st, store),
        from_block=st.deploy_block("DrugTrace"),
    )
    data = _data(status)
    if st.json:
        output(st, data)
        return
    from medchain.web.view import classify  # the consumer page's banner state

    summary = {"verdict": classify(status), **{k: v for k, v in data.items() if k != "journey"}}
    output(st, summary)
    if status.journey:
        output(st, None, _hops(status.journey), title="journey")
