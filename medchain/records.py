"""Record anchoring services (RecordRegistry): hash, anchor, batch, settle after a crash, verify, evidence,
lineage, access log.

Every function takes a ``Web3`` and contract handles (or a :class:`RecordService`) and returns plain data, so
the CLI, scripts and tests share one code path. Anything sent on chain is journaled first
(:mod:`medchain.journal`); :func:`settle` is the one place that turns a journaled submission into chain state,
asking the chain before every send so a re-run after a crash never anchors twice.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import TransactionNotFound
from web3.types import TxReceipt

from medchain import ndjson, tx
from medchain.addresses import ZERO_ADDRESS, checked_address
from medchain.chain import BlockTimes, Signer, signer_address
from medchain.codes import DATA_CLASS_NAMES, PURPOSE_NAMES, ROLES, parse_data_class, parse_purpose
from medchain.errors import ChainError, ContractRevert, InputError, NodeLost
from medchain.hashing import (
    METHOD_BYTES,
    METHOD_FHIR,
    HashResult,
    hash_file,
    parse_hash,
    patient_commitment,
    patient_commitments,
    record_leaf,
)
from medchain.journal import Item, Journal, JournalItem, Submission, fault_point
from medchain.merkle import RECORD_LEAF_ENCODING, StandardMerkleTree, hash_leaves, process_proof
from medchain.openings import RecordOpening
from medchain.salts import derive_salt, derive_salts
from medchain.timefmt import iso

__all__ = [
    "EVIDENCE_FORMAT",
    "RecordService",
    "access_events",
    "anchor_batch",
    "anchor_files",
    "build_evidence",
    "collect_batch_inputs",
    "find_anchors",
    "lineage",
    "log_access",
    "log_access_many",
    "opening_of",
    "materialise",
    "record_status",
    "resolve",
    "settle",
    "verify_evidence",
]

EVIDENCE_FORMAT = "medchain-record-evidence/1"
ZERO32 = b"\x00" * 32
ORIGINS = {0: "none", 1: "single", 2: "batch"}
MANY_CHUNK = 200  # records per anchorMany transaction (~5.2 M gas)
MAX_ACCESS_CHUNK = 256  # RecordRegistry.MAX_ACCESS_BATCH
_EXPORT_CHUNK = 4096  # export records whose salts and commitments are encoded together

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class RecordService:
    """What anchoring needs: the chain, the registry (and Consortium), the acting key, the journal."""

    w3: Web3
    registry: Contract
    consortium: Contract
    journal: Journal
    signer: Signer | None = None
    receipt_timeout: float = 120.0
    from_block: int = 0  # where log searches start (the registry's deployment block when known)
    _hospital: str | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls, w3: Web3, registry: Contract, consortium: Contract, conn: Any, signer: Signer | None = None
    ) -> RecordService:
        return cls(w3, registry, consortium, Journal(conn, w3.eth.chain_id, registry.address), signer)

    @property
    def hospital(self) -> str:
        """The member address the signer anchors for; InputError unless it holds HOSPITAL."""
        if self._hospital is None:
            if self.signer is None:
                raise InputError("this command needs an acting hospital key (--account)")
            key = signer_address(self.signer)
            member = tx.call(self.consortium.functions.authorizedMember(key, ROLES["HOSPITAL"]))
            if int(member, 16) == 0:
                raise InputError(f"account {key} does not act for an active HOSPITAL member")
            self._hospital = to_checksum_address(member)
        return self._hospital

    def send(self, fn: Any) -> bytes:
        if self.signer is None:
            raise InputError("this command needs an acting hospital key (--account)")
        return tx.submit(self.w3, fn, self.signer)


# ---- inputs ----


def item_for(
    journal: Journal,
    hospital: str,
    result: HashResult,
    patient: str,
    data_class: int,
    cache: dict[str, str] | None = None,
) -> Item:
    """An Item for a hashed file: the patient's commitment with the record's own salt (DESIGN §6.3 v2),
    derived from the hospital's salt key (created on the first anchoring into a fresh store). ``cache``
    (patient text -> checked address) saves address checks for repeat patients."""
    address = cache.get(patient) if cache is not None else None
    if address is None:
        address = checked_address(patient, "patient")
        if cache is not None:
            cache[patient] = address
    salt = derive_salt(journal.salt_key(hospital), address, result.record_hash, data_class)
    return Item(
        record_hash=result.record_hash,
        commitment=patient_commitment(address, salt),
        data_class=data_class,
        method=result.method,
        source=result.source,
        patient=address,
    )


def collect_batch_inputs(
    journal: Journal,
    hospital: str,
    target: Path | str,
    *,
    patient: str | None = None,
    data_class: int | str | None = None,
    mode: str = "auto",
    progress: Progress | None = None,
) -> list[Item]:
    """The records of a directory (every regular file below it; ``patient``/``data_class`` apply to all) or of
    a manifest CSV with columns ``file`` or ``record_hash`` (+ ``method``), ``patient``, ``class`` (per row,
    defaulting to the options). Raises InputError on the first bad input; nothing is written."""
    target = Path(target)
    if ndjson.is_ndjson(target) or (target.is_dir() and any(ndjson.is_ndjson(p) for p in target.rglob("*"))):
        return collect_export_inputs(journal, hospital, target, patient=patient, data_class=data_class,
                                     mode=mode, progress=progress)  # fmt: skip
    if target.is_dir():
        files = sorted(p for p in target.rglob("*") if p.is_file())
        if not files:
            raise InputError(f"{target}: directory has no record files")
        if patient is None or data_class is None:
            raise InputError("a directory batch needs --patient and --class (or use a manifest CSV)")
        rows: list[dict[str, str]] = [{"file": str(p.relative_to(target))} for p in files]  # joined once
        base = target
    elif target.is_file():
        rows = _read_manifest(target)
        base = target.parent
    else:
        raise InputError(f"{target}: no such file or directory")
    klass = parse_data_class(data_class) if data_class is not None else None
    items: list[Item] = []
    cache: dict[str, str] = {}
    for number, row in enumerate(rows, start=1):
        items.append(_row_item(journal, hospital, row, number, base, patient, klass, mode, cache))
        if progress is not None and (number % 256 == 0 or number == len(rows)):
            progress("hash", number, len(rows))
    return items


def collect_export_inputs(
    journal: Journal,
    hospital: str,
    target: Path,
    *,
    patient: str | None,
    data_class: int | str | None = None,
    mode: str = "auto",
    progress: Progress | None = None,
) -> list[Item]:
    """The records of a FHIR Bulk Data export (:mod:`medchain.ndjson`): an NDJSON file, or a directory whose
    ``*.ndjson`` files give one record per line (streamed) and whose other files are one record each. One
    patient for all; the class is ``data_class``, else by resourceType for NDJSON lines. A malformed line
    stops everything with a one-line error naming it; nothing is written."""
    if patient is None:
        raise InputError("a FHIR Bulk export batch needs --patient (a patient-level export)")
    klass = parse_data_class(data_class) if data_class is not None else None
    files = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
    total = sum(_line_count(p) if ndjson.is_ndjson(p) else 1 for p in files)
    address = checked_address(patient, "patient")
    items: list[Item] = []
    pending: list[tuple[HashResult, int]] = []  # hashed lines whose salts and commitments come in one go
    for path in files:
        if not ndjson.is_ndjson(path):
            if klass is None:
                raise InputError(f"{path}: not NDJSON, so it needs --class (the class of such files)")
            items += _export_items(journal, hospital, address, pending)
            pending = []
            items.append(item_for(journal, hospital, hash_file(path, mode=mode), address, klass))
            continue
        for _, result in ndjson.resources(path):
            pending.append((result, ndjson.class_of(result, klass)))
            if len(pending) == _EXPORT_CHUNK:
                items += _export_items(journal, hospital, address, pending)
                pending = []
                if progress is not None:
                    progress("hash", len(items), total)
    items += _export_items(journal, hospital, address, pending)
    if not items:
        raise InputError(f"{target}: the export has no resources")
    if progress is not None:
        progress("hash", len(items), len(items))
    return items


def _export_items(
    journal: Journal, hospital: str, patient: str, pending: Sequence[tuple[HashResult, int]]
) -> list[Item]:
    """:func:`item_for` of many hashed records of one (checked) patient: salts and commitments ABI-encoded
    in one call each."""
    if not pending:
        return []
    salts = derive_salts(journal.salt_key(hospital), patient, [(r.record_hash, k) for r, k in pending])
    commitments = patient_commitments(patient, salts)
    return [
        Item(r.record_hash, commitment, k, r.method, r.source, patient)
        for (r, k), commitment in zip(pending, commitments, strict=True)
    ]


def _line_count(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def _read_manifest(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = {f.strip().lower() for f in reader.fieldnames or []}
            if not fields & {"file", "record_hash"}:
                raise InputError(
                    f"{path}: a manifest needs a 'file' or 'record_hash' column (CSV with a header)"
                )
            rows = [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in reader]
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: not a UTF-8 CSV manifest ({exc})") from None
    if not rows:
        raise InputError(f"{path}: manifest has no rows")
    return rows


def _row_item(
    journal: Journal,
    hospital: str,
    row: dict[str, str],
    number: int,
    base: Path,
    patient: str | None,
    klass: int | None,
    mode: str,
    cache: dict[str, str],
) -> Item:
    where = f"row {number}"
    who = row.get("patient") or patient
    if not who:
        raise InputError(f"{where}: no patient (column 'patient' or --patient)")
    cls_text = row.get("class") or row.get("data_class")
    data_class = parse_data_class(cls_text) if cls_text else klass
    if data_class is None:
        raise InputError(f"{where}: no data class (column 'class' or --class)")
    if row.get("record_hash"):
        method = METHOD_FHIR if row.get("method") == METHOD_FHIR else METHOD_BYTES
        if row.get("method") not in (None, "", METHOD_BYTES, METHOD_FHIR):
            raise InputError(f"{where}: unknown hash method {row['method']!r}")
        result = HashResult(parse_hash(row["record_hash"]), method, row.get("file", ""), 0)
    else:
        path = Path(row["file"])
        result = hash_file(path if path.is_absolute() else base / path, mode=mode)
    return item_for(journal, hospital, result, who, data_class, cache)


# ---- anchoring ----


@dataclass
class AnchorReport:
    """What one command did: submissions settled (resumed or new) and records skipped as already journaled."""

    settled: list[Submission] = field(default_factory=list)
    resumed: int = 0
    skipped: int = 0  # records already in the journal (anchored or on their way)

    def as_dict(self) -> dict[str, Any]:
        return {
            "resumed": self.resumed,
            "skipped": self.skipped,
            "submissions": [_submission_dict(s) for s in self.settled],
        }


def refuse_anchored_elsewhere(journal: Journal, items: Sequence[Item]) -> None:
    """InputError when this store already journaled one of ``items``' files for another patient or data class
    (issue 17 item 8: usually a wrong --patient or --class; `--force` anchors it again)."""
    for item in items:
        for other in journal.find(record_hash=item.record_hash):
            if other.state == "conflict" or other.leaf == item.leaf:
                continue
            same_patient = (other.patient or "").lower() == (item.patient or "").lower()
            was = f"as {DATA_CLASS_NAMES.get(other.data_class, other.data_class)}"
            now = f"as {DATA_CLASS_NAMES.get(item.data_class, item.data_class)}"
            if not same_patient:
                was, now = f"for patient {other.patient} {was}", f"for {item.patient} {now}"
            what = item.source or "0x" + item.record_hash.hex()
            raise InputError(
                f"{what}: this store already anchored it {was} (submission {other.submission.id}): "
                f"check --patient/--class, or pass --force to anchor it {now} too"
            )


def resume(svc: RecordService, progress: Progress | None = None) -> list[Submission]:
    """Settles every unfinished submission of this journal (after a crash or a node restart)."""
    pending = svc.journal.unfinished()
    return [settle(svc, sub, progress) for sub in pending]


def anchor_files(
    svc: RecordService,
    results: Sequence[HashResult],
    patient: str,
    data_class: int | str,
    *,
    amends: bytes | None = None,
    force: bool = False,
) -> AnchorReport:
    """Anchors hashed files of one patient and class (anchor/anchorMany, or amend of ``amends``). A file this
    store anchored for another patient or class is refused unless ``force``."""
    report = AnchorReport()
    klass = parse_data_class(data_class)
    items = [item_for(svc.journal, svc.hospital, r, patient, klass) for r in results]
    if not force:
        refuse_anchored_elsewhere(svc.journal, items)
    recheck(svc, [i.leaf for i in items])
    resumed = resume(svc)
    report.resumed = len(resumed)
    report.settled += resumed
    fresh, _ = _drop_journaled(svc.journal, items, report)
    if amends is not None:
        if len(items) != 1:
            raise InputError("an amendment anchors exactly one file")
        if not fresh:
            return report
        sub = svc.journal.create("amend", svc.hospital, fresh, previous=amends, source=fresh[0].source)
        report.settled.append(settle(svc, sub))
        return report
    for start in range(0, len(fresh), MANY_CHUNK):
        chunk = fresh[start : start + MANY_CHUNK]
        sub = svc.journal.create(
            "records", svc.hospital, chunk, source=", ".join(i.source for i in chunk[:3])
        )
        report.settled.append(settle(svc, sub))
    return report


def anchor_batch(
    svc: RecordService,
    items: Sequence[Item],
    *,
    uri: str = "",
    source: str = "",
    progress: Progress | None = None,
    force: bool = False,
) -> AnchorReport:
    """Anchors records as one Merkle batch: resume first, drop what is journaled, build the tree, journal it,
    then send (constant gas whatever the size). A record this store anchored for another patient or class is
    refused unless ``force``."""
    report = AnchorReport()
    if not force:
        refuse_anchored_elsewhere(svc.journal, items)
    if progress is not None:
        progress("tree", 0, len(items))
    all_leaves = hash_leaves([i.value for i in items], RECORD_LEAF_ENCODING)
    recheck(svc, all_leaves)
    resumed = resume(svc, progress)
    report.resumed = len(resumed)
    report.settled += resumed
    fresh, leaves = _drop_journaled(svc.journal, items, report, all_leaves)
    if not fresh:
        return report
    tree = StandardMerkleTree.from_leaf_hashes(leaves)
    if progress is not None:
        progress("tree", len(items), len(items))
    existing = svc.journal.by_root(tree.root)
    if existing is not None:  # the same set journaled before (all its leaves conflicted): settle it again
        report.settled.append(settle(svc, existing, progress))
        return report
    sub = svc.journal.create("batch", svc.hospital, fresh, tree=tree, uri=uri, source=source, leaves=leaves)
    fault_point("after-journal")
    report.settled.append(settle(svc, sub, progress))
    return report


def recheck(svc: RecordService, leaves: Sequence[bytes]) -> list[Submission]:
    """Checks the ``done`` submissions holding ``leaves`` against the chain. One the chain no longer has (a
    reorg removed its transaction) is reopened, so the `resume` that follows anchors it again; one that
    landed again in another block gets its block and time refreshed. Returns the reopened submissions."""
    reopened = []
    for sub in svc.journal.done_holding(leaves):
        if sub.kind == "batch":
            assert sub.root is not None
            batch = _get_batch(svc.registry, sub.root)
            if batch["hospital"] == sub.hospital:
                if batch["anchoredAt"] != sub.anchored_at:
                    _finish(svc, sub, None)
                continue
        else:
            receipt = _known_receipt(svc, sub.tx_hash) if sub.tx_hash is not None else None
            if receipt is not None and receipt["status"] == 1:
                if receipt["blockNumber"] != sub.block_number:
                    _finish(svc, sub, receipt)
                continue
            anchored = [_get_record(svc.registry, it.leaf)["hospital"] for it in svc.journal.items(sub.id)]
            if ZERO_ADDRESS not in anchored:
                continue  # on chain (the transaction was not ours to know, e.g. found on chain earlier)
        svc.journal.reopen(sub.id, "the chain no longer has this anchoring (reorg); anchoring again")
        reopened.append(sub)
    return reopened


def journal_vs_chain(svc: RecordService) -> dict[str, Any]:
    """`medchain store check`: every submission the journal says is done is anchored on chain by its
    hospital (a batch: its root, leaf count, and its first record's stored proof verified by the registry;
    single records and amendments: each record it marks anchored). Returns counts and one line per problem."""
    problems: list[str] = []
    checked = records = 0
    for sub in svc.journal.submissions():
        if sub.status != "done":
            continue
        checked += 1
        if sub.kind == "batch":
            assert sub.root is not None
            batch = _get_batch(svc.registry, sub.root)
            records += sub.leaf_count
            if batch["hospital"] != sub.hospital or batch["leafCount"] != sub.leaf_count:
                root = Web3.to_hex(sub.root)
                problems.append(f"submission {sub.id}: batch {root} is not on chain as journaled")
                continue
            first = svc.journal.item(sub.id, 0)
            proof = svc.journal.proof(sub.id, first.value_index)
            fn = svc.registry.functions.verifyBatchRecord(
                sub.root, first.record_hash, first.commitment, first.data_class, proof
            )
            if not tx.call(fn):
                problems.append(f"submission {sub.id}: the stored proof of value {first.value_index} fails")
            continue
        for item in svc.journal.items(sub.id):
            if item.state != "anchored":
                continue
            records += 1
            if _get_record(svc.registry, item.leaf)["hospital"] != sub.hospital:
                problems.append(f"submission {sub.id}: record {Web3.to_hex(item.leaf)} is not on chain")
    return {"submissions": checked, "records": records, "problems": problems}


def _drop_journaled(
    journal: Journal, items: Sequence[Item], report: AnchorReport, leaves: Sequence[bytes] | None = None
) -> tuple[list[Item], list[bytes]]:
    """Items not yet journaled (first occurrence of each leaf only), with their leaves."""
    leaves = list(leaves) if leaves is not None else [i.leaf for i in items]
    known = journal.journaled(leaves)
    fresh: list[Item] = []
    fresh_leaves: list[bytes] = []
    for item, leaf in zip(items, leaves, strict=True):
        if leaf in known:
            report.skipped += 1
            continue
        known.add(leaf)
        fresh.append(item)
        fresh_leaves.append(leaf)
    return fresh, fresh_leaves


def settle(svc: RecordService, sub: Submission, progress: Progress | None = None) -> Submission:
    """Drives a journaled submission to ``done`` (or ``conflict``): receipt if its tx is known, else the chain
    state, and a (re-)send only of what the chain does not have yet."""
    if sub.status in ("done", "conflict"):
        return sub
    if sub.status == "sent" and sub.tx_hash is not None:
        receipt = _known_receipt(svc, sub.tx_hash)
        if receipt is not None and receipt["status"] == 1:
            return _finish(svc, sub, receipt)
    if sub.kind == "batch":
        return _settle_batch(svc, sub, progress)
    return _settle_records(svc, sub)


def _settle_batch(svc: RecordService, sub: Submission, progress: Progress | None) -> Submission:
    assert sub.root is not None
    batch = _get_batch(svc.registry, sub.root)
    if batch["hospital"] != ZERO_ADDRESS:
        return _finish(svc, sub, None)
    fn = svc.registry.functions.anchorBatch(sub.root, sub.leaf_count, sub.uri)
    receipt = _send_and_wait(svc, sub, fn, progress)
    return _finish(svc, sub, receipt)


def _settle_records(svc: RecordService, sub: Submission) -> Submission:
    items = svc.journal.items(sub.id)
    missing = [it for it in items if _get_record(svc.registry, it.leaf)["hospital"] == ZERO_ADDRESS]
    if not missing:
        return _finish(svc, sub, None)
    if sub.kind == "amend":
        assert sub.previous is not None
        fn = svc.registry.functions.amend(sub.previous, *_args(missing[0]))
    elif len(missing) == 1:
        fn = svc.registry.functions.anchor(*_args(missing[0]))
    else:
        cols = list(zip(*(_args(it) for it in missing), strict=True))
        fn = svc.registry.functions.anchorMany(list(cols[0]), list(cols[1]))
    receipt = _send_and_wait(svc, sub, fn, None)
    return _finish(svc, sub, receipt)


def _args(item: JournalItem) -> tuple[bytes, bytes]:
    """What anchoring publishes: the record hash and the leaf (never the commitment or the class)."""
    return (item.record_hash, item.leaf)


def _send_and_wait(
    svc: RecordService, sub: Submission, fn: Any, progress: Progress | None
) -> TxReceipt | None:
    """Send (the journal already holds the intent), record the hash, wait. A revert saying the work is already
    on chain (a previous, unrecorded attempt) is not an error: the chain state decides in `_finish`."""
    fault_point("before-send")
    if progress is not None:
        progress("send", 0, 1)
    try:
        tx_hash = svc.send(fn)
    except ContractRevert as exc:
        if exc.name in ("RecordBatchAlreadyAnchored", "RecordAlreadyAnchored"):
            return None
        raise
    fault_point("after-send")
    svc.journal.mark_sent(sub.id, tx_hash)
    fault_point("after-mark-sent")
    try:
        receipt = tx.wait(svc.w3, tx_hash, timeout=svc.receipt_timeout, fn=fn, sender=svc.signer)
    except ContractRevert as exc:
        if exc.name in ("RecordBatchAlreadyAnchored", "RecordAlreadyAnchored"):
            return None
        raise
    fault_point("after-receipt")
    if progress is not None:
        progress("send", 1, 1)
    return receipt


def _known_receipt(svc: RecordService, tx_hash: bytes) -> TxReceipt | None:
    """The receipt of a transaction we sent before, waiting if the node still has it pending; None if the node
    does not know it (dropped, or the node restarted from older state)."""
    try:
        return svc.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        pass
    try:
        svc.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return None
    try:
        return tx.wait(svc.w3, tx_hash, timeout=svc.receipt_timeout)
    except NodeLost:
        raise
    except (ChainError, ContractRevert):
        return None


def _finish(svc: RecordService, sub: Submission, receipt: TxReceipt | None) -> Submission:
    """Marks a submission from the chain state (the truth), using the receipt only for tx hash and block."""
    tx_hash = bytes(receipt["transactionHash"]) if receipt is not None else None
    block = int(receipt["blockNumber"]) if receipt is not None else None
    if sub.kind == "batch":
        assert sub.root is not None
        batch = _get_batch(svc.registry, sub.root)
        if batch["hospital"] == ZERO_ADDRESS:
            raise ChainError(f"batch {Web3.to_hex(sub.root)} is not on chain after its transaction")
        if batch["hospital"] != sub.hospital:
            svc.journal.mark_conflict(sub.id, f"root anchored first by {batch['hospital']}")
            return svc.journal.get(sub.id)
        if tx_hash is None:
            tx_hash, block = _find_log(svc, svc.registry.events.BatchAnchored, {"root": sub.root})
        svc.journal.mark_done(sub.id, tx_hash=tx_hash, block_number=block, anchored_at=batch["anchoredAt"])
        return svc.journal.get(sub.id)
    anchored: list[int] = []
    conflicts: list[int] = []
    times: list[int] = []
    for it in svc.journal.items(sub.id):
        record = _get_record(svc.registry, it.leaf)
        if record["hospital"] == ZERO_ADDRESS:
            raise ChainError(f"record {Web3.to_hex(it.leaf)} is not on chain after its transaction")
        (anchored if record["hospital"] == sub.hospital else conflicts).append(it.value_index)
        times.append(record["anchoredAt"])
    note = f"{len(conflicts)} record(s) anchored first by another hospital" if conflicts else ""
    svc.journal.mark_done(
        sub.id,
        tx_hash=tx_hash,
        block_number=block,
        anchored_at=max(times) if times else None,
        anchored=anchored,
        conflicts=conflicts,
        note=note,
    )
    return svc.journal.get(sub.id)


# ---- chain reads ----


def _get_record(registry: Contract, leaf: bytes) -> dict[str, Any]:
    hospital, anchored_at, origin = tx.call(registry.functions.getRecord(leaf))
    return {
        "hospital": to_checksum_address(hospital),
        "anchoredAt": int(anchored_at),
        "origin": ORIGINS.get(int(origin), str(origin)),
    }


def _get_batch(registry: Contract, root: bytes) -> dict[str, Any]:
    hospital, anchored_at, leaf_count = tx.call(registry.functions.getBatch(root))
    return {
        "hospital": to_checksum_address(hospital),
        "anchoredAt": int(anchored_at),
        "leafCount": int(leaf_count),
    }


def _find_log(svc: RecordService, event: Any, args: dict[str, Any]) -> tuple[bytes | None, int | None]:
    """The (tx hash, block) of the first matching event, or (None, None)."""
    logs = event().get_logs(argument_filters=args, from_block=svc.from_block)
    if not logs:
        return None, None
    first = logs[0]
    return bytes(first["transactionHash"]), int(first["blockNumber"])


# ---- finding and verifying records ----


def find_anchors(
    w3: Web3, registry: Contract, record_hash: bytes, *, from_block: int = 0
) -> list[dict[str, Any]]:
    """Every record stored on chain under ``record_hash``, from the file alone: the RecordAnchored logs that
    name the hash (single anchors, amendments and materialised batch records), each with its hospital, time,
    origin, transaction and what supersedes it. A batch record that was never materialised is not found here:
    its evidence package (Merkle proof) proves it."""
    logs = registry.events.RecordAnchored().get_logs(
        argument_filters={"recordHash": bytes(record_hash)}, from_block=from_block
    )
    times = BlockTimes(w3)
    out = []
    for lg in logs:
        leaf = bytes(lg["args"]["leaf"])
        record = _get_record(registry, leaf)
        out.append(
            {
                "recordHash": bytes(record_hash),
                "leaf": leaf,
                "hospital": record["hospital"],
                "anchoredAt": record["anchoredAt"],
                "origin": record["origin"],
                "txHash": Web3.to_hex(lg["transactionHash"]),
                "blockNumber": int(lg["blockNumber"]),
                "blockTime": times(lg["blockNumber"]),
                "supersededBy": _superseded(registry, leaf),
            }
        )
    return out


def resolve(
    journal: Journal, record: str, *, patient: str | None = None, data_class: int | str | None = None
) -> list[JournalItem]:
    """Journaled records matching a file path, a record hash or a leaf (narrowed by patient / class)."""
    path = Path(record)
    if path.exists():
        value = hash_file(path).record_hash
        found = journal.find(record_hash=value)
    else:
        value = parse_hash(record, "record (file, record hash or leaf)")
        found = journal.find(leaf=value) or journal.find(record_hash=value)
    if patient is not None:
        who = checked_address(patient, "patient")
        found = [f for f in found if f.patient == who]
    if data_class is not None:
        klass = parse_data_class(data_class)
        found = [f for f in found if f.data_class == klass]
    live = [f for f in found if f.state != "conflict"] or found
    unique: dict[bytes, JournalItem] = {}
    for f in live:
        unique.setdefault(f.leaf, f)
    return list(unique.values())


def _one(journal: Journal, record: str, patient: str | None, data_class: int | str | None) -> JournalItem:
    found = resolve(journal, record, patient=patient, data_class=data_class)
    if not found:
        raise InputError(
            f"{record}: not in this hospital's journal (anchor it first, or give --patient/--class)"
        )
    if len(found) > 1:
        raise InputError(
            f"{record}: {len(found)} journaled records match; narrow with --patient and/or --class"
        )
    return found[0]


def record_status(svc: RecordService, item: JournalItem) -> dict[str, Any]:
    """On-chain status of a journaled record: anchored? when, by whom, single or batch, proof valid on chain,
    superseded?"""
    sub = item.submission
    record = _get_record(svc.registry, item.leaf)
    out: dict[str, Any] = {
        "recordHash": item.record_hash,
        "leaf": item.leaf,
        "dataClass": DATA_CLASS_NAMES.get(item.data_class, str(item.data_class)),
        "journal": f"{sub.kind} #{sub.id} ({sub.status})",
        "anchored": record["hospital"] != ZERO_ADDRESS,
        "hospital": record["hospital"] if record["hospital"] != ZERO_ADDRESS else None,
        "anchoredAt": record["anchoredAt"] or None,
        "origin": record["origin"],
        "batchRoot": None,
        "proofValid": None,
        "supersededBy": _superseded(svc.registry, item.leaf),
    }
    if sub.kind == "batch" and sub.root is not None:
        batch = _get_batch(svc.registry, sub.root)
        proof = svc.journal.proof(sub.id, item.value_index)
        values = (item.record_hash, item.commitment, item.data_class)
        valid = bool(tx.call(svc.registry.functions.verifyBatchRecord(sub.root, *values, proof)))
        out.update(batchRoot=sub.root, proofValid=valid)
        if not out["anchored"] and batch["hospital"] != ZERO_ADDRESS and valid:
            out.update(
                anchored=True, hospital=batch["hospital"], anchoredAt=batch["anchoredAt"], origin="batch"
            )
    return out


def _superseded(registry: Contract, leaf: bytes) -> bytes | None:
    nxt = bytes(tx.call(registry.functions.supersededBy(leaf)))
    return None if nxt == ZERO32 else nxt


def lineage(svc: RecordService, leaf: bytes) -> list[dict[str, Any]]:
    """The amendment chain through ``leaf``: earlier versions (from RecordAmended events), then later ones
    (``supersededBy``), oldest first."""
    earlier: list[bytes] = []
    current = leaf
    seen = {leaf}
    while True:
        logs = svc.registry.events.RecordAmended().get_logs(
            argument_filters={"leaf": current}, from_block=svc.from_block
        )
        if not logs:
            break
        current = bytes(logs[0]["args"]["previousLeaf"])
        if current in seen:
            break
        seen.add(current)
        earlier.append(current)
    chain = list(reversed(earlier)) + [leaf]
    nxt = _superseded(svc.registry, leaf)
    while nxt is not None and nxt not in seen:
        seen.add(nxt)
        chain.append(nxt)
        nxt = _superseded(svc.registry, nxt)
    out = []
    for version, node in enumerate(chain, start=1):
        record = _get_record(svc.registry, node)
        out.append(
            {
                "version": version,
                "leaf": node,
                "hospital": record["hospital"],
                "anchoredAt": record["anchoredAt"],
                "supersededBy": _superseded(svc.registry, node),
                "this": node == leaf,
            }
        )
    return out


# ---- evidence packages ----


def build_evidence(svc: RecordService, item: JournalItem, *, reveal: bool = False) -> dict[str, Any]:
    """A self-contained evidence package for one record; ``reveal`` adds the commitment opening (patient and
    the record's own salt), which links this one record to the patient for whoever reads the file."""
    sub = item.submission
    record = _get_record(svc.registry, item.leaf)
    anchor: dict[str, Any]
    if sub.kind == "batch" and sub.root is not None:
        batch = _get_batch(svc.registry, sub.root)
        if batch["hospital"] == ZERO_ADDRESS:
            raise InputError(
                f"batch {Web3.to_hex(sub.root)} is not anchored on this chain yet (journal: {sub.status})"
            )
        tx_hash, block = _find_log(svc, svc.registry.events.BatchAnchored, {"root": sub.root})
        anchor = {
            "origin": "batch",
            "hospital": batch["hospital"],
            "anchoredAt": batch["anchoredAt"],
            "batch": {
                "root": _hex(sub.root),
                "leafCount": batch["leafCount"],
                "treeIndex": svc.journal.tree_index(sub.id, item.value_index),
                "proof": [_hex(p) for p in svc.journal.proof(sub.id, item.value_index)],
                "uri": sub.uri,
            },
            "materialised": record["origin"] == "batch",
        }
    else:
        if record["hospital"] == ZERO_ADDRESS:
            raise InputError(
                f"record {_hex(item.leaf)} is not anchored on this chain (journal: {sub.status})"
            )
        tx_hash, block = _find_log(svc, svc.registry.events.RecordAnchored, {"leaf": item.leaf})
        anchor = {
            "origin": record["origin"],
            "hospital": record["hospital"],
            "anchoredAt": record["anchoredAt"],
        }
    block_time = int(svc.w3.eth.get_block(block)["timestamp"]) if block is not None else None
    anchor.update(txHash=_hex(tx_hash) if tx_hash else None, blockNumber=block, blockTimestamp=block_time)
    opening = None
    if reveal:
        if item.patient is None:
            raise InputError(
                "the journal has no patient for this record: cannot reveal the commitment opening"
            )
        opened = opening_of(svc, item)
        opening = {"patient": opened.patient, "salt": _hex(opened.salt)}
    return {
        "format": EVIDENCE_FORMAT,
        "chainId": svc.w3.eth.chain_id,
        "contract": svc.registry.address,
        "record": {
            "recordHash": _hex(item.record_hash),
            "hashMethod": item.method,
            "file": Path(item.source).name if item.source else None,
            "dataClass": item.data_class,
            "dataClassName": DATA_CLASS_NAMES.get(item.data_class),
        },
        "patientCommitment": _hex(item.commitment),
        "commitmentOpening": opening,
        "leaf": _hex(item.leaf),
        "anchor": anchor,
        "supersededBy": _hex(s) if (s := _superseded(svc.registry, item.leaf)) else None,
        "createdAt": int(time.time()),
    }


def verify_evidence(w3: Web3, evidence: dict[str, Any], *, file: Path | None = None) -> dict[str, Any]:
    """Checks an evidence package against the chain it names; returns every check and an overall verdict."""
    from medchain.abi import load_abi

    checks: list[dict[str, Any]] = []

    def check(name: str, ok: bool, detail: str = "") -> bool:
        checks.append({"check": name, "ok": bool(ok), "detail": detail})
        return bool(ok)

    try:
        if evidence.get("format") != EVIDENCE_FORMAT:
            raise InputError(f"not a MedChain evidence package (format {evidence.get('format')!r})")
        rec, anchor = evidence["record"], evidence["anchor"]
        record_hash = parse_hash(rec["recordHash"])
        commitment = parse_hash(evidence["patientCommitment"], "patient commitment")
        data_class = int(rec["dataClass"])
        leaf = parse_hash(evidence["leaf"], "leaf")
        address = checked_address(evidence["contract"], "contract")
        chain_id = int(evidence["chainId"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"malformed evidence package: {type(exc).__name__} {exc}") from None
    check("chain id", w3.eth.chain_id == chain_id, f"node {w3.eth.chain_id}, evidence {chain_id}")
    if not w3.eth.get_code(address):
        check("contract", False, f"no code at {address}")
        return {"ok": False, "checks": checks}
    registry = w3.eth.contract(address=address, abi=load_abi("RecordRegistry"))
    check("leaf", record_leaf(record_hash, commitment, data_class) == leaf, "leaf = H(H(abi.encode(values)))")
    opening = evidence.get("commitmentOpening")
    if opening:
        ok = patient_commitment(opening["patient"], parse_hash(opening["salt"], "salt")) == commitment
        check("commitment opening", ok, f"patient {opening['patient']}")
    if file is not None:
        mode = "fhir" if rec.get("hashMethod") == METHOD_FHIR else "raw"
        check("file hash", hash_file(file, mode=mode).record_hash == record_hash, str(file))
    if anchor.get("batch"):
        batch = anchor["batch"]
        root = parse_hash(batch["root"], "root")
        proof = [parse_hash(p, "proof node") for p in batch["proof"]]
        check("proof (local)", process_proof(leaf, proof) == root, f"{len(proof)} nodes")
        on_chain = bool(
            tx.call(registry.functions.verifyBatchRecord(root, record_hash, commitment, data_class, proof))
        )
        check("proof (on chain)", on_chain, "RecordRegistry.verifyBatchRecord")
        stored = _get_batch(registry, root)
        log_args: dict[str, Any] = {"root": root}
        event = registry.events.BatchAnchored
    else:
        stored = _get_record(registry, leaf)
        log_args = {"leaf": leaf}
        event = registry.events.RecordAnchored
    check("hospital", stored["hospital"] == anchor.get("hospital"), f"on chain {stored['hospital']}")
    when = f"{stored['anchoredAt']} ({iso(stored['anchoredAt'])})"
    check("anchoredAt", stored["anchoredAt"] == anchor.get("anchoredAt"), f"on chain {when}")
    _check_tx(w3, registry, event, log_args, anchor, check)
    nxt = _superseded(registry, leaf)
    return {
        "ok": all(c["ok"] for c in checks),
        "checks": checks,
        "supersededBy": _hex(nxt) if nxt else None,
    }


def _check_tx(
    w3: Web3,
    registry: Contract,
    event: Any,
    args: dict[str, Any],
    anchor: dict[str, Any],
    check: Callable[..., bool],
) -> None:
    if not anchor.get("txHash"):
        check("transaction", False, "no transaction hash in the package")
        return
    try:
        receipt = w3.eth.get_transaction_receipt(anchor["txHash"])
    except TransactionNotFound:
        check("transaction", False, f"{anchor['txHash']} unknown to this node")
        return
    logs = event().process_receipt(receipt, errors=_DISCARD)
    matched = [lg for lg in logs if lg["address"] == registry.address and all(
        bytes(lg["args"][k]) == v for k, v in args.items())]  # fmt: skip
    check(
        "transaction",
        receipt["status"] == 1 and bool(matched),
        f"{anchor['txHash']} emits the anchoring event",
    )
    check(
        "block", int(receipt["blockNumber"]) == anchor.get("blockNumber"), f"block {receipt['blockNumber']}"
    )
    block_time = int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    shown = f"block time {block_time} ({iso(block_time)})"
    check("timestamp", block_time == anchor.get("blockTimestamp"), shown)


try:  # web3 7: silence logs of other events when processing a receipt for one event
    from web3.logs import DISCARD as _DISCARD
except ImportError:  # pragma: no cover
    _DISCARD = None  # type: ignore[assignment]


# ---- openings, materialising, access log ----


def opening_of(svc: RecordService, item: JournalItem, *, patient: str | None = None) -> RecordOpening:
    """The opening of a journaled record: its salt derived from the anchoring hospital's key (this store), and
    for a batch record the root and proof."""
    who = checked_address(patient or item.patient or "", "patient")
    sub = item.submission
    salt = svc.journal.salt(sub.hospital, who, item.record_hash, item.data_class)
    batch = sub.kind == "batch" and sub.root is not None
    opening = RecordOpening(
        record_hash=item.record_hash,
        patient=who,
        salt=salt,
        data_class=item.data_class,
        root=sub.root if batch else None,
        proof=tuple(svc.journal.proof(sub.id, item.value_index)) if batch else (),
    )
    opening.check_leaf(item.leaf)
    return opening


def materialise(svc: RecordService, opening: RecordOpening) -> dict[str, Any]:
    """Writes a batch record as a full record (with its proof), so that it can be accessed, claimed or
    amended; a no-op for a record already stored. Publishes this one record's commitment and data class (not
    its patient): the tools do it only as part of an opening."""
    leaf = opening.leaf
    stored = _get_record(svc.registry, leaf)
    if stored["hospital"] != ZERO_ADDRESS:
        return {"leaf": leaf, "materialised": False, "origin": stored["origin"], "txHash": None}
    if opening.root is None:
        raise InputError(
            f"record {_hex(leaf)} is not on chain: if it was anchored in a batch, give its evidence package "
            "(with the proof); if its anchoring is unfinished, re-run `medchain records anchor` at its "
            "hospital"
        )
    if _get_batch(svc.registry, opening.root)["hospital"] == ZERO_ADDRESS:
        raise InputError(
            f"batch {_hex(opening.root)} is not anchored on this chain: re-run `medchain records batch`"
        )
    fn = svc.registry.functions.materialise(
        opening.root, opening.record_hash, opening.commitment, opening.data_class, list(opening.proof)
    )
    try:
        receipt = tx.wait(svc.w3, svc.send(fn), timeout=svc.receipt_timeout, fn=fn, sender=svc.signer)
    except ContractRevert as exc:
        if exc.name != "RecordAlreadyAnchored":  # materialised by someone else meanwhile
            raise
        return {"leaf": leaf, "materialised": False, "origin": "batch", "txHash": None}
    return {
        "leaf": leaf,
        "materialised": True,
        "origin": "batch",
        "txHash": Web3.to_hex(receipt["transactionHash"]),
    }


def log_access(svc: RecordService, opening: RecordOpening, purpose: int | str) -> dict[str, Any]:
    """Logs a consent-checked access to one record (the caller's hospital is the accessor); a batch record is
    materialised first."""
    return log_access_many(svc, [opening], purpose)[0]


def log_access_many(
    svc: RecordService, openings: Sequence[RecordOpening], purpose: int | str
) -> list[dict[str, Any]]:
    """Logs accesses to records of one patient: one ``logAccess`` for one record, ``logAccessMany`` (one
    consent check, chunks of ``MAX_ACCESS_CHUNK``) for several. Batch records are materialised first."""
    code = parse_purpose(purpose)
    if not openings:
        raise InputError("no records to log an access for")
    patients = {o.patient for o in openings}
    if len(patients) != 1:
        raise InputError(f"one access log covers one patient's records, not {len(patients)} patients'")
    for opening in openings:
        materialise(svc, opening)
    out: list[dict[str, Any]] = []
    for start in range(0, len(openings), MAX_ACCESS_CHUNK):
        chunk = openings[start : start + MAX_ACCESS_CHUNK]
        first = chunk[0]
        if len(chunk) == 1:
            fn = svc.registry.functions.logAccess(
                first.record_hash, first.patient, first.salt, first.data_class, code
            )
        else:
            fn = svc.registry.functions.logAccessMany(
                first.patient, code, [(o.record_hash, o.salt, o.data_class) for o in chunk]
            )
        receipt = tx.wait(svc.w3, svc.send(fn), timeout=svc.receipt_timeout, fn=fn, sender=svc.signer)
        gas = int(receipt["gasUsed"])
        for log in svc.registry.events.RecordAccessed().process_receipt(receipt, errors=_DISCARD):
            event = log["args"]
            out.append(
                {
                    "leaf": bytes(event["leaf"]),
                    "patient": event["patient"],
                    "accessor": event["accessor"],
                    "purpose": PURPOSE_NAMES.get(int(event["purpose"]), str(event["purpose"])),
                    "by": event["by"],
                    "txHash": Web3.to_hex(receipt["transactionHash"]),
                    "blockNumber": int(receipt["blockNumber"]),
                    "gasUsed": gas,
                }
            )
    return out


def access_events(
    svc: RecordService, *, patient: str | None = None, accessor: str | None = None, leaf: bytes | None = None
) -> list[dict[str, Any]]:
    """The accounting of disclosures: RecordAccessed events, filtered by patient, accessor and/or record."""
    filters: dict[str, Any] = {}
    if patient:
        filters["patient"] = checked_address(patient, "patient")
    if accessor:
        filters["accessor"] = checked_address(accessor, "accessor")
    if leaf is not None:
        filters["leaf"] = leaf
    logs = svc.registry.events.RecordAccessed().get_logs(argument_filters=filters, from_block=svc.from_block)
    times = BlockTimes(svc.w3)
    out = []
    for lg in logs:
        args = lg["args"]
        out.append(
            {
                "blockNumber": int(lg["blockNumber"]),
                "time": times(lg["blockNumber"]),
                "leaf": bytes(args["leaf"]),
                "patient": args["patient"],
                "accessor": args["accessor"],
                "purpose": PURPOSE_NAMES.get(int(args["purpose"]), str(args["purpose"])),
                "by": args["by"],
                "txHash": Web3.to_hex(lg["transactionHash"]),
            }
        )
    return out


# ---- helpers ----


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + bytes(value).hex()


def _submission_dict(sub: Submission) -> dict[str, Any]:
    return {
        "id": sub.id,
        "kind": sub.kind,
        "status": sub.status,
        "records": sub.leaf_count,
        "root": _hex(sub.root),
        "txHash": _hex(sub.tx_hash),
        "blockNumber": sub.block_number,
        "anchoredAt": sub.anchored_at,
        "attempts": sub.attempts,
        "note": sub.note,
    }


def submission_dict(sub: Submission) -> dict[str, Any]:
    """A submission as plain JSON-able data."""
    return _submission_dict(sub)


def one(
    journal: Journal, record: str, patient: str | None = None, data_class: int | str | None = None
) -> JournalItem:
    """Exactly one journaled record matching ``record`` (file, record hash or leaf), else InputError."""
    return _one(journal, record, patient, data_class)


def failures(reports: Iterable[Submission]) -> list[Submission]:
    return [s for s in reports if s.status == "conflict"]


__all__ += ["AnchorReport", "checked_address", "failures", "item_for", "one", "resume", "submission_dict"]
