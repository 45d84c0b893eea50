"""FHIR Bulk Data NDJSON exports (one FHIR resource per line) as record inputs, read as a stream.

Each non-blank line is one record: hashed as canonical FHIR (DESIGN §6.6, ``sha256+fhir-jcs-static``) from
the line's own bytes, which is what a record gateway serves for it. A line that is not a FHIR JSON resource
stops the whole file with a one-line error naming the file and the line, before anything is journaled.

A big export is hashed by two worker processes (forked), a few chunks of lines at a time, in file order; its
records, errors and line numbers are the same as from one process.

When the caller gives no data class, a resource's class comes from its ``resourceType``
(:data:`DEFAULT_CLASSES`); a type not listed there needs ``--class``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from medchain.codes import DATA_CLASSES
from medchain.errors import InputError
from medchain.hashing import METHOD_FHIR, HashResult, hash_fhir_line

__all__ = ["DEFAULT_CLASSES", "SUFFIXES", "class_of", "is_ndjson", "resources"]

SUFFIXES = (".ndjson",)
PARALLEL_FROM = 4_000_000  # bytes (~20,000 lines): below this, starting workers costs more than it saves
_CHUNK = 2048  # lines per worker task

#: FHIR resourceType -> data class, for exports given without --class
DEFAULT_CLASSES: dict[str, int] = {
    "Observation": DATA_CLASSES["LAB"],
    "DiagnosticReport": DATA_CLASSES["LAB"],
    "Specimen": DATA_CLASSES["LAB"],
    "ImagingStudy": DATA_CLASSES["IMAGING"],
    "Media": DATA_CLASSES["IMAGING"],
    "MedicationRequest": DATA_CLASSES["PRESCRIPTION"],
    "MedicationDispense": DATA_CLASSES["PRESCRIPTION"],
    "MedicationStatement": DATA_CLASSES["PRESCRIPTION"],
    "MedicationAdministration": DATA_CLASSES["PRESCRIPTION"],
    "Encounter": DATA_CLASSES["OUTPATIENT"],
    "Claim": DATA_CLASSES["BILLING"],
    "ExplanationOfBenefit": DATA_CLASSES["BILLING"],
    "Coverage": DATA_CLASSES["BILLING"],
    "Patient": DATA_CLASSES["SUMMARY"],
    "Condition": DATA_CLASSES["SUMMARY"],
    "AllergyIntolerance": DATA_CLASSES["SUMMARY"],
    "Immunization": DATA_CLASSES["SUMMARY"],
    "Procedure": DATA_CLASSES["SUMMARY"],
    "MolecularSequence": DATA_CLASSES["GENOMIC"],
}


def is_ndjson(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in SUFFIXES


def resources(path: Path, *, workers: int | None = None) -> Iterator[tuple[int, HashResult]]:
    """``(line number, hash)`` for every non-blank line, streamed, in file order; InputError naming the first
    bad line. A big export (over :data:`PARALLEL_FROM` bytes) is hashed by ``workers`` processes (default: up
    to 2 CPUs) in chunks of lines, with a bounded number of chunks in flight."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with handle:
        if workers is None:
            workers = min(2, os.cpu_count() or 1) if path.stat().st_size > PARALLEL_FROM else 1
        if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            for number, line in _lines(handle):
                yield number, _hash_line(path, number, line)
            return
        yield from _pooled(path, _lines(handle), workers)


def _lines(handle: BinaryIO) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(handle, start=1):
        line = raw.rstrip(b"\r\n")
        if line.strip():
            yield number, line


def _hash_line(path: Path, number: int, line: bytes) -> HashResult:
    try:
        return hash_fhir_line(line, f"{path} line {number}")
    except InputError as exc:
        raise InputError(f"{exc} (nothing from {path.name} anchored; fix it and re-run)") from None


def _pooled(path: Path, lines: Iterator[tuple[int, bytes]], workers: int) -> Iterator[tuple[int, HashResult]]:
    """The hashes of ``lines`` from a pool of forked workers, in order. The workers ignore Ctrl-C (the parent
    handles it) and the pool is shut down however the stream ends: done, a bad line, an error or Ctrl-C."""
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_init
    )
    try:
        pending: deque[Future[list[_Hashed]]] = deque()
        chunks = iter(lambda: list(islice(lines, _CHUNK)), [])
        for chunk in islice(chunks, 2 * workers):
            pending.append(pool.submit(_hash_chunk, path, chunk))
        while pending:
            try:
                done = pending.popleft().result()
            except InputError as exc:  # raised in a worker: the same one line, without the remote traceback
                raise InputError(str(exc)) from None
            for chunk in islice(chunks, 1):
                pending.append(pool.submit(_hash_chunk, path, chunk))
            for number, digest, kind, size in done:
                yield number, HashResult(digest, METHOD_FHIR, f"{path} line {number}", size, kind)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_Hashed = tuple[int, bytes, str | None, int]  # what a worker sends back per line: less to pickle


def _hash_chunk(path: Path, chunk: list[tuple[int, bytes]]) -> list[_Hashed]:
    out: list[_Hashed] = []
    for number, line in chunk:
        result = _hash_line(path, number, line)
        out.append((number, result.record_hash, result.resource_type, result.size))
    return out


def class_of(result: HashResult, given: int | None) -> int:
    """The record's data class: ``given``, else the default for its resourceType."""
    if given is not None:
        return given
    klass = DEFAULT_CLASSES.get(result.resource_type or "")
    if klass is None:
        raise InputError(
            f"{result.source}: no default data class for FHIR {result.resource_type}: give --class "
            f"(defaults exist for {', '.join(sorted(DEFAULT_CLASSES))})"
        )
    return klass
