"""FHIR Bulk Data NDJSON exports (one FHIR resource per line) as record inputs, read as a stream.

Each non-blank line is one record: hashed as canonical FHIR (DESIGN §6.6, ``sha256+fhir-jcs-static``) from
the line's own bytes, which is what a record gateway serves for it. A line that is not a FHIR JSON resource
stops the whole file with a one-line error naming the file and the line, before anything is journaled.

When the caller gives no data class, a resource's class comes from its ``resourceType``
(:data:`DEFAULT_CLASSES`); a type not listed there needs ``--class``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from medchain.codes import DATA_CLASSES
from medchain.errors import InputError
from medchain.hashing import HashResult, hash_fhir_line

__all__ = ["DEFAULT_CLASSES", "SUFFIXES", "class_of", "is_ndjson", "resources"]

SUFFIXES = (".ndjson",)

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


def resources(path: Path) -> Iterator[tuple[int, HashResult]]:
    """``(line number, hash)`` for every non-blank line, streamed; InputError naming the first bad line."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            where = f"{path} line {number}"
            try:
                result = hash_fhir_line(line, where)
            except InputError as exc:
                raise InputError(f"{exc} (nothing from {path.name} anchored; fix it and re-run)") from None
            yield number, result


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
