"""`medchain records`: hash record files, anchor them (single, batch), verify, export and check evidence,
follow amendments, and log/list consent-checked accesses. Thin: every command calls medchain.records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from medchain.cli.options import CliState, JsonOpt, console, output, state
from medchain.errors import InputError
from medchain.lazy import lazy
from medchain.text import read_json_file

if TYPE_CHECKING:
    from medchain import codes, hashing, openings
    from medchain import records as svc_mod
else:
    svc_mod = lazy("medchain.records")
    codes = lazy("medchain.codes")
    hashing = lazy("medchain.hashing")
    openings = lazy("medchain.openings")

app = typer.Typer(
    help="Medical-record anchoring (HOSPITAL): hash, anchor, batch, verify, evidence, access log."
)
access_app = typer.Typer(help="Consent-checked record access: log one, list the accounting of disclosures.")
key_app = typer.Typer(
    help="The hospital's record salt key: every record's salt derives from it (back it up, never replace it)."
)
app.add_typer(access_app, name="access")
app.add_typer(key_app, name="key")

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store", help="journal + salt key store (SQLite; default: per chain in MEDCHAIN_HOME)"
    ),
]
PatientOpt = Annotated[str | None, typer.Option("--patient", help="patient address")]
ClassOpt = Annotated[str | None, typer.Option("--class", help="data class name or code (e.g. LAB, 3)")]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="anchor a file this store already anchored for another patient or class"),
]
ModeOpt = Annotated[
    str, typer.Option("--mode", help="auto | fhir | raw: how to hash (auto: FHIR JSON if it is one)")
]


def _service(
    st: CliState, store: Path | None, *, signer: bool = False, write: bool = False
) -> svc_mod.RecordService:
    """The record service on this chain. Only commands that write (`write=True`) create the local store; the
    read-only ones use an empty in-memory one when none exists yet, so a query never leaves a file behind."""
    from medchain.store import default_store_path, open_store  # sqlite3: not for `records --help`

    w3 = st.w3()
    suite = st.suite()
    path = store or default_store_path(w3.eth.chain_id)
    conn = open_store(path if write or path.exists() else ":memory:")
    svc = svc_mod.RecordService.open(
        w3, suite.require("records"), suite.consortium, conn, st.signer() if signer else None
    )
    svc.from_block = st.deploy_block("RecordRegistry")
    return svc


def _checked(patient: str | None = None, data_class: str | None = None, purpose: str | None = None) -> None:
    """Validate the common options before anything is opened or created."""
    if patient is not None:
        svc_mod.checked_address(patient, "patient")
    if data_class is not None:
        codes.parse_data_class(data_class)
    if purpose is not None:
        codes.parse_purpose(purpose)


def _hx(value: Any) -> Any:
    return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray) else value


@app.command("hash")
def hash_cmd(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="record files")],
    mode: ModeOpt = "auto",
    validate: Annotated[bool, typer.Option(help="check FHIR structure with fhir.resources")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Record hashes (sha256 of the bytes, or of a FHIR resource's RFC 8785 canonical JSON) and the method."""
    st = state(ctx, json_out)
    results = [hashing.hash_file(f, mode=mode, validate=validate).as_dict() for f in files]
    output(
        st,
        results,
        [{"file": r["source"], "recordHash": r["recordHash"], "method": r["method"]} for r in results],
    )


@app.command("anchor")
def anchor_cmd(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="record files of one patient and class")],
    patient: Annotated[str, typer.Option("--patient", help="patient address (salted; never sent on chain)")],
    data_class: Annotated[str, typer.Option("--class", help="data class name or code (e.g. LAB)")],
    amends: Annotated[
        str | None, typer.Option(help="the record this file amends (file, record hash or leaf)")
    ] = None,
    mode: ModeOpt = "auto",
    validate: Annotated[bool, typer.Option(help="check FHIR structure with fhir.resources")] = False,
    force: ForceOpt = False,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Anchor files one by one (anchor / anchorMany), journaled first; a re-run resumes, never re-anchors."""
    st = state(ctx, json_out)
    _checked(patient, data_class)
    results = [hashing.hash_file(f, mode=mode, validate=validate) for f in files]
    svc = _service(st, store, signer=True, write=True)
    previous = svc_mod.one(svc.journal, amends).leaf if amends else None
    report = svc_mod.anchor_files(svc, results, patient, data_class, amends=previous, force=force)
    _report(st, report)


@app.command("batch")
def batch_cmd(
    ctx: typer.Context,
    source: Annotated[
        Path, typer.Argument(help="a directory of record files, a manifest CSV, or a FHIR Bulk NDJSON export")
    ],
    patient: PatientOpt = None,
    data_class: ClassOpt = None,
    uri: Annotated[
        str, typer.Option(help="where the batch's proofs are served ('' = the member's endpoint)")
    ] = "",
    mode: ModeOpt = "auto",
    force: ForceOpt = False,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Anchor many records as one Merkle batch (constant gas). Resumable: re-run the same command after a
    crash or a node restart and each record is anchored exactly once."""
    st = state(ctx, json_out)
    _checked(patient, data_class)
    if not source.exists():
        raise InputError(f"{source}: no such file or directory")
    svc = _service(st, store, signer=True, write=True)
    hospital = svc.hospital
    with _progress(st) as progress:
        items = svc_mod.collect_batch_inputs(
            svc.journal,
            hospital,
            source,
            patient=patient,
            data_class=data_class,
            mode=mode,
            progress=progress,
        )
        report = svc_mod.anchor_batch(
            svc, items, uri=uri, source=str(source), progress=progress, force=force
        )
    _report(st, report)


@app.command("resume")
def resume_cmd(ctx: typer.Context, store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """Settle every journaled submission left unfinished by a crash or a node restart."""
    st = state(ctx, json_out)
    svc = _service(st, store, signer=True)
    report = svc_mod.AnchorReport(settled=svc_mod.resume(svc))
    report.resumed = len(report.settled)
    _report(st, report)


@app.command("journal")
def journal_cmd(ctx: typer.Context, store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """List this chain's journaled submissions."""
    st = state(ctx, json_out)
    svc = _service(st, store)
    rows = [svc_mod.submission_dict(s) for s in svc.journal.submissions()]
    output(st, rows, title="record journal")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    patient: PatientOpt = None,
    data_class: ClassOpt = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List the records this store anchored on this chain (optionally one patient's or one class's)."""
    from medchain.listings import anchored_records

    st = state(ctx, json_out)
    _checked(patient, data_class)
    svc = _service(st, store)
    who = svc_mod.checked_address(patient, "patient") if patient else None
    klass = codes.parse_data_class(data_class) if data_class is not None else None
    rows = anchored_records(svc.journal, who, klass)
    shown = [{k: v for k, v in r.items() if k != "leaf"} for r in rows]
    output(st, rows, shown, title="records anchored from this store")


@app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    record: Annotated[str, typer.Argument(help="record file, record hash or leaf")],
    patient: PatientOpt = None,
    data_class: ClassOpt = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Is the record anchored? When, by whom, single or batch, proof valid on chain, superseded?"""
    st = state(ctx, json_out)
    _checked(patient, data_class)
    svc = _service(st, store)
    found = svc_mod.resolve(svc.journal, record, patient=patient, data_class=data_class)
    if found:
        rows = [{k: _hx(v) for k, v in svc_mod.record_status(svc, item).items()} for item in found]
    else:  # not this hospital's: what the chain says about the file's hash alone
        path = Path(record)
        record_hash = hashing.hash_file(path).record_hash if path.exists() else hashing.parse_hash(record)
        rows = [
            {k: _hx(v) for k, v in r.items()}
            for r in svc_mod.find_anchors(svc.w3, svc.registry, record_hash, from_block=svc.from_block)
        ]
        if not rows:
            raise InputError(
                f"{record}: not anchored as a single or materialised record on this chain, nor in this "
                "store's journal (check a batch record with its evidence package: `records verify-evidence`)"
            )
    output(st, rows if len(rows) > 1 else rows[0])


@app.command("proof")
def proof_cmd(
    ctx: typer.Context,
    record: Annotated[str, typer.Argument(help="record file, record hash or leaf")],
    out: Annotated[Path, typer.Option("--out", help="evidence JSON file to write")],
    patient: PatientOpt = None,
    data_class: ClassOpt = None,
    reveal: Annotated[
        bool,
        typer.Option(help="include the commitment opening (patient + salt): links the record to the patient"),
    ] = False,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a self-contained evidence package (hash, method, commitment, batch root + proof, tx, block,
    timestamp, contract, chain id)."""
    st = state(ctx, json_out)
    _checked(patient, data_class)
    svc = _service(st, store)
    evidence = svc_mod.build_evidence(
        svc, svc_mod.one(svc.journal, record, patient, data_class), reveal=reveal
    )
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(evidence, indent=2) + "\n")
    tmp.replace(out)
    if st.json:
        output(st, evidence)
    else:
        console().print(f"[green]evidence[/] {out} ({evidence['anchor']['origin']}, leaf {evidence['leaf']})")


@app.command("verify-evidence")
def verify_evidence_cmd(
    ctx: typer.Context,
    evidence_file: Annotated[Path, typer.Argument(help="evidence JSON written by `records proof`")],
    file: Annotated[
        Path | None, typer.Option("--file", help="the record file, to check its hash too")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check an evidence package against the chain it names (exit 1 if any check fails)."""
    st = state(ctx, json_out)
    evidence = read_json_file(evidence_file)
    if not isinstance(evidence, dict):
        raise InputError(f"{evidence_file}: not a MedChain evidence package (a JSON object)")
    result = svc_mod.verify_evidence(st.w3(), evidence, file=file)
    output(st, result, result["checks"], title="evidence " + ("valid" if result["ok"] else "INVALID"))
    if not result["ok"]:
        failed = ", ".join(c["check"] for c in result["checks"] if not c["ok"])
        raise InputError(f"evidence does not hold: {failed}")


@app.command("lineage")
def lineage_cmd(
    ctx: typer.Context,
    record: Annotated[str, typer.Argument(help="record file, record hash or leaf")],
    patient: PatientOpt = None,
    data_class: ClassOpt = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The record's amendment chain, oldest first."""
    st = state(ctx, json_out)
    _checked(patient, data_class)
    svc = _service(st, store)
    leaf = _leaf_of(svc, record, patient, data_class)
    rows = [{k: _hx(v) for k, v in r.items()} for r in svc_mod.lineage(svc, leaf)]
    output(st, rows, title="lineage")


def _leaf_of(svc: svc_mod.RecordService, record: str, patient: str | None, data_class: str | None) -> bytes:
    found = svc_mod.resolve(svc.journal, record, patient=patient, data_class=data_class)
    if len(found) == 1:
        return found[0].leaf
    if not found and not Path(record).exists():

        return hashing.parse_hash(record, "leaf")  # a leaf anchored elsewhere: the chain knows it
    return svc_mod.one(svc.journal, record, patient, data_class).leaf


EvidenceOpt = Annotated[
    Path | None,
    typer.Option("--evidence", help="an evidence package with its opening (`records proof --reveal`)"),
]


def _opening(
    svc: svc_mod.RecordService,
    record: str | None,
    evidence: Path | None,
    patient: str | None,
    data_class: str | None,
) -> openings.RecordOpening:
    """The opening of a record journaled here (salt from this store's key) or of an evidence package."""
    if evidence is not None:
        return openings.RecordOpening.from_evidence(read_json_file(evidence))
    if record is None:
        raise InputError("name the record (file, record hash or leaf journaled here) or give --evidence FILE")
    return svc_mod.opening_of(svc, svc_mod.one(svc.journal, record, patient, data_class), patient=patient)


@access_app.command("log")
def access_log_cmd(
    ctx: typer.Context,
    record: Annotated[
        str | None, typer.Argument(help="record file, record hash or leaf journaled here (or use --evidence)")
    ] = None,
    purpose: Annotated[
        str, typer.Option("--purpose", help="TREATMENT, CLAIM, RESEARCH, EMERGENCY, PUBLIC_HEALTH")
    ] = "TREATMENT",
    evidence: EvidenceOpt = None,
    patient: PatientOpt = None,
    data_class: ClassOpt = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Log a consent-checked access (RecordRegistry.logAccess); a batch record is materialised first. Reverts
    without consent or break-glass."""
    st = state(ctx, json_out)
    _checked(patient, data_class, purpose)
    svc = _service(st, store, signer=True)
    opening = _opening(svc, record, evidence, patient, data_class)
    result = svc_mod.log_access(svc, opening, purpose)
    output(st, {k: _hx(v) for k, v in result.items()})


@app.command("materialise")
def materialise_cmd(
    ctx: typer.Context,
    record: Annotated[
        str | None, typer.Argument(help="record file, record hash or leaf journaled here (or use --evidence)")
    ] = None,
    evidence: EvidenceOpt = None,
    patient: PatientOpt = None,
    data_class: ClassOpt = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a batch record as a full record with its proof (publishes its class, not its patient); access
    logs and claims do this by themselves when they need it."""
    st = state(ctx, json_out)
    _checked(patient, data_class)
    svc = _service(st, store, signer=True)
    result = svc_mod.materialise(svc, _opening(svc, record, evidence, patient, data_class))
    output(st, {k: _hx(v) for k, v in result.items()})


@access_app.command("list")
def access_list_cmd(
    ctx: typer.Context,
    patient: PatientOpt = None,
    accessor: Annotated[str | None, typer.Option(help="accessing member address")] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The accounting of disclosures: logged accesses, by patient and/or accessor."""
    st = state(ctx, json_out)
    _checked(patient)
    if accessor is not None:
        svc_mod.checked_address(accessor, "accessor")
    svc = _service(st, store)
    rows = [
        {k: _hx(v) for k, v in r.items()}
        for r in svc_mod.access_events(svc, patient=patient, accessor=accessor)
    ]
    output(st, rows, title="record accesses")


@key_app.command("init")
def key_init_cmd(ctx: typer.Context, store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """Create the hospital's record salt key in the local store (done by the first anchoring too)."""
    st = state(ctx, json_out)
    svc = _service(st, store, signer=True, write=True)
    svc.journal.keys.create(svc.hospital)
    backup = "medchain records key export --out FILE"
    output(st, {"hospital": svc.hospital, "created": True, "backup": backup})


@key_app.command("export")
def key_export_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="new file for the key backup (written mode 0600)")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Back the salt key up to a file: with the journal it re-derives every salt the hospital made."""
    st = state(ctx, json_out)
    svc = _service(st, store, signer=True)
    output(st, svc.journal.keys.export(svc.hospital, out))


@key_app.command("import")
def key_import_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="a key backup written by `records key export`")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Restore the salt key from a backup (into a new or restored store)."""
    st = state(ctx, json_out)
    svc = _service(st, store, signer=True, write=True)
    output(st, svc.journal.keys.import_file(svc.hospital, file))


# ---- output ----


def _report(st: CliState, report: svc_mod.AnchorReport) -> None:
    data = report.as_dict()
    if st.json:
        output(st, data)
        return
    if report.resumed:
        console().print(f"resumed {report.resumed} unfinished submission(s)")
    if report.skipped:
        console().print(f"{report.skipped} record(s) already journaled: skipped")
    if data["submissions"]:
        output(st, data["submissions"], title="anchored")
    elif not report.skipped:
        console().print("nothing to anchor")


class _progress:
    """A rich progress bar for the batch phases (hash, tree, send); silent with --json."""

    def __init__(self, st: CliState) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.enabled = not st.json
        self.bar = Progress(
            TextColumn("{task.description:<8}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console(),
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> svc_mod.Progress | None:
        if not self.enabled:
            return None
        self.bar.start()
        return self.update

    def update(self, phase: str, done: int, total: int) -> None:
        if phase not in self.tasks:
            self.tasks[phase] = self.bar.add_task(phase, total=total)
        self.bar.update(self.tasks[phase], completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.stop()


# ---- record exchange (docs/RECORD-EXCHANGE.md): `records fetch`, `records fetch-all` ----

from medchain.cli import exchange as _exchange  # noqa: E402  (registers on this group; imports nothing back)

_exchange.register(app)
