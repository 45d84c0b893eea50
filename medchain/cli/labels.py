"""`qr SCAN --out FILE.png|.svg` and `labels BATCH --serials FILE --out DIR`: QR codes carrying the GS1
Digital Link URI (DESIGN §6.7). No chain access: the codes come from the scan / batch given."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from medchain.cli.options import JsonOpt, output, state
from medchain.errors import InputError
from medchain.gs1 import DEFAULT_RESOLVER, build_digital_link, parse_drug_code, parse_yymmdd
from medchain.lazy import lazy

if TYPE_CHECKING:
    from medchain import qr as qr_mod
else:
    qr_mod = lazy("medchain.qr")  # segno and the PNG/SVG writers: only when a code is drawn

app = typer.Typer(help="QR codes and pack labels (GS1 Digital Link URIs).")

ResolverOpt = Annotated[
    str, typer.Option(envvar="MEDCHAIN_RESOLVER", help="resolver host in the URI, e.g. id.medchain.example")
]
ScaleOpt = Annotated[int, typer.Option(min=1, max=100, help="pixels per QR module")]
ErrorOpt = Annotated[str, typer.Option("--ec", help="QR error correction level: l, m, q or h")]


@app.command("qr")
def qr(
    ctx: typer.Context,
    scan: Annotated[
        str, typer.Argument(help="any scan: Digital Link URI, (01)…(17)…(10)…(21)…, raw element string")
    ],
    out: Annotated[Path, typer.Option("--out", help="output file, .png or .svg")],
    resolver: ResolverOpt = DEFAULT_RESOLVER,
    scale: ScaleOpt = 8,
    ec: ErrorOpt = "m",
    json_out: JsonOpt = False,
) -> None:
    """Write one QR code holding the scan's GS1 Digital Link URI."""
    st = state(ctx, json_out)
    code = parse_drug_code(scan)
    uri = build_digital_link(code, resolver)
    qr_mod.save_qr(uri, out, scale=scale, error=_ec(ec))
    output(st, {"file": str(out), "uri": uri, "element_string": code.hri()})


@app.command("labels")
def labels(
    ctx: typer.Context,
    batch: Annotated[
        str, typer.Argument(help="the batch: GTIN + lot [+ expiry], e.g. (01)09506000134352(17)271231(10)L42")
    ],
    serials: Annotated[Path, typer.Option("--serials", help="text file, one serial per line (# comments)")],
    out: Annotated[Path, typer.Option("--out", help="output directory (created)")],
    expiry: Annotated[str | None, typer.Option(help="expiry YYMMDD when BATCH carries no (17)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="png or svg")] = "png",
    resolver: ResolverOpt = DEFAULT_RESOLVER,
    scale: ScaleOpt = 8,
    ec: ErrorOpt = "m",
    verify: Annotated[bool, typer.Option(help="decode every PNG back (needs zxing-cpp) and compare")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write one label per serial into DIR (the QR with the GS1 human-readable text beneath it), plus
    labels.csv (file, serial, element string, URI) and labels.html (all labels on one page, for printing)."""
    st = state(ctx, json_out)
    code = parse_drug_code(batch)
    if expiry is not None:
        date = parse_yymmdd(expiry)
        if code.expiry is not None and code.expiry != date:
            raise InputError(f"--expiry {expiry} contradicts the batch's (17) {code.expiry_yymmdd}")
        code = replace(code, expiry=date)
    if code.expiry is None:
        raise InputError("the batch has no expiry: give (17)YYMMDD in BATCH or --expiry YYMMDD")
    written = qr_mod.write_labels(
        code, qr_mod.read_serials(serials), out, resolver=resolver, fmt=fmt.lower(), scale=scale,
        error=_ec(ec),
    )
    if verify:
        if fmt.lower() != "png":
            raise InputError("--verify reads PNG labels only (use --format png)")
        for label in written:
            if qr_mod.decode_png(label.path) != [label.uri]:
                raise InputError(f"label {label.path.name} does not decode back to {label.uri}")
    rows = [{"file": lb.path.name, "serial": lb.serial, "uri": lb.uri} for lb in written]
    summary = {
        "directory": str(out),
        "labels": len(written),
        "manifest": str(out / "labels.csv"),
        "sheet": str(out / "labels.html"),
        "verified": verify,
        "first": rows[0]["uri"],
    }
    output(st, summary if not st.json else {**summary, "items": rows})


def _ec(level: str) -> str:
    value = level.strip().lower()
    if value not in ("l", "m", "q", "h"):
        raise InputError(f"QR error correction level must be l, m, q or h, got {level!r}")
    return value
