"""Claim files: the JSON (one claim, a list, or ``{"claims": [...]}``) and CSV formats that hospital and
insurer staff submit with ``medchain claims submit``. Validated with pydantic before anything touches the
chain; every problem is reported with the file, the claim and the field path
(``claims.json: evidence[1].salt: ...``).

JSON, one claim::

    {
      "reference": "HOSP-A-2026-000123",        # your own claim id: the idempotency key (never re-submitted)
      "policyId": 7,
      "amount": "1234.50",                      # decimal string in currency units
      "currency": "tCNY",                       # must be the settlement token's symbol
      "invoiceNumber": "INV-2026-0001",         # optional; only its keccak256 leaves this machine
      "holder": "0x...",                        # optional cross-check: the policy holder's address
      "evidence": [{"recordHash": "0x<64 hex>", "salt": "0x<64 hex>", "dataClass": "LAB"}]
    }

CSV, one row per evidence record; rows with the same ``reference`` form one claim (claim columns may be left
empty after the claim's first row, and must agree when repeated)::

    reference,policyId,amount,currency,invoiceNumber,holder,recordHash,salt,dataClass

Field names are accepted in camelCase or snake_case. The invoice number and the reference are hashed
(keccak256) before they go on chain; the local journal keeps the reference (it is the idempotency key) and
the invoice hash, never the invoice number.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

from eth_utils import keccak
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from medchain.addresses import address_problem, checked_address
from medchain.codes import parse_data_class
from medchain.errors import InputError, one_line
from medchain.money import scaled_units
from medchain.text import MAX_JSON_DEPTH, json_depth

__all__ = [
    "MAX_EVIDENCE",
    "ClaimEntry",
    "ClaimFileError",
    "ClaimModel",
    "ClaimProblem",
    "EvidenceModel",
    "LoadResult",
    "load_claims",
    "load_file",
    "parse_claims",
]

MAX_EVIDENCE = 32  # ClaimsManager.MAX_EVIDENCE
SUFFIXES = (".json", ".csv")
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]+)?$")
CLAIM_COLUMNS = ("reference", "policyId", "amount", "currency", "invoiceNumber", "holder")
EVIDENCE_COLUMNS = ("recordHash", "salt", "dataClass")


# ---- field types ----


def _bytes32(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)) and len(value) == 32:
        return bytes(value)
    if not isinstance(value, str) or not _HEX32.match(value.strip()):
        raise ValueError("must be 0x followed by 64 hex digits (32 bytes)")
    return bytes.fromhex(value.strip()[2:])


def _data_class(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("must be a data class name (LAB, IMAGING, ...) or its number 0..10")
    try:
        return parse_data_class(value)
    except InputError as exc:
        raise ValueError(str(exc)) from None


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError('give the amount as a string (e.g. "1234.50") so no digit is lost')
    text = str(value).strip() if isinstance(value, (int, str)) else None
    if text is None or not _AMOUNT.match(text):
        raise ValueError('must be a positive decimal number like "1234.50"')
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already guards this
        raise ValueError("is not a decimal number") from None
    if amount <= 0:
        raise ValueError("must be more than 0")
    return amount


def _address(value: Any) -> str:
    problem = address_problem(str(value) if isinstance(value, (str, int)) else value)
    if problem is not None:
        raise ValueError(problem)
    return checked_address(str(value))


Bytes32 = Annotated[bytes, BeforeValidator(_bytes32)]
DataClass = Annotated[int, BeforeValidator(_data_class)]
Amount = Annotated[Decimal, BeforeValidator(_amount)]
Address = Annotated[str, BeforeValidator(_address)]


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
    )


class EvidenceModel(_Model):
    """One evidence record: an anchored record of the policy holder."""

    record_hash: Bytes32
    salt: Bytes32
    data_class: DataClass

    @field_validator("record_hash")
    @classmethod
    def _non_zero(cls, value: bytes) -> bytes:
        if value == bytes(32):
            raise ValueError("must not be zero")
        return value

    def as_arg(self) -> tuple[bytes, bytes, int]:
        """The `(recordHash, salt, dataClass)` tuple submitClaim takes."""
        return (self.record_hash, self.salt, self.data_class)


class ClaimModel(_Model):
    """One claim as the file gives it (validated and normalised)."""

    reference: str = Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")
    policy_id: int = Field(ge=1, lt=2**64)
    amount: Amount
    currency: str = Field(min_length=1, max_length=16)
    invoice_number: str | None = Field(default=None, min_length=1, max_length=128)
    holder: Address | None = None
    evidence: list[EvidenceModel] = Field(min_length=1, max_length=MAX_EVIDENCE)

    @model_validator(mode="after")
    def _distinct_records(self) -> ClaimModel:
        seen: dict[bytes, int] = {}
        for i, item in enumerate(self.evidence):
            if item.record_hash in seen:
                raise _DuplicateEvidence(i, seen[item.record_hash])
            seen[item.record_hash] = i
        return self

    # ---- what goes on chain ----

    def amount_units(self, decimals: int) -> int:
        """The amount in token base units; InputError if it has more decimals than the token."""
        return scaled_units(self.amount, decimals)

    @property
    def claim_ref(self) -> bytes:
        """keccak256 of the reference: the on-chain trace of the idempotency key."""
        return keccak(text=self.reference)

    @property
    def invoice_hash(self) -> bytes:
        """keccak256 of the invoice number (trimmed, UTF-8), or 32 zero bytes."""
        return keccak(text=self.invoice_number) if self.invoice_number else bytes(32)

    @property
    def data_classes(self) -> int:
        """Bitmap of the evidence's data classes."""
        mask = 0
        for item in self.evidence:
            mask |= 1 << item.data_class
        return mask

    def fingerprint(self) -> str:
        """A hash of everything that decides the transaction: notices a reference reused for other content."""
        body = {
            "policyId": self.policy_id,
            "amount": str(self.amount.normalize()),
            "currency": self.currency.upper(),
            "invoiceHash": "0x" + self.invoice_hash.hex(),
            "evidence": [
                ["0x" + e.record_hash.hex(), "0x" + e.salt.hex(), e.data_class] for e in self.evidence
            ],
        }
        return "0x" + keccak(text=json.dumps(body, sort_keys=True, separators=(",", ":"))).hex()


class _DuplicateEvidence(ValueError):
    def __init__(self, index: int, first: int) -> None:
        self.index, self.first = index, first
        super().__init__(f"same record as evidence[{first}]")


# ---- problems and results ----


@dataclass(frozen=True)
class ClaimProblem:
    """One thing wrong with a claim file: where (file, claim/row) and which field."""

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return one_line(f"{where}: {self.message}")


class ClaimFileError(InputError):
    """A claim file (or several) failed validation; `problems` lists every problem found."""

    def __init__(self, problems: list[ClaimProblem]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__("; ".join(str(p) for p in problems[:3]) + more)


@dataclass(frozen=True)
class ClaimEntry:
    """A valid claim and where it came from (``a.json``, ``many.json [2]``, ``batch.csv rows 2-4``)."""

    source: str
    claim: ClaimModel


@dataclass
class LoadResult:
    """Claims that validated, and problems with the rest (a bad claim never blocks the good ones)."""

    entries: list[ClaimEntry]
    problems: list[ClaimProblem]

    def problems_by_source(self) -> dict[str, list[str]]:
        """Problems grouped by file (and claim/row), each as ``path: message``, in the order found."""
        grouped: dict[str, list[str]] = {}
        for p in self.problems:
            grouped.setdefault(p.source, []).append(f"{p.path}: {p.message}" if p.path else p.message)
        return grouped

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ClaimFileError(self.problems)


# ---- parsing ----


def _path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = str(part)  # an unknown key is quoted as given, escaped: a problem stays one line
            out += ("." if out else "") + (to_camel(name) if name.isidentifier() else repr(name))
    return out


def _problems(exc: ValidationError, source: str, where: Any = None) -> list[ClaimProblem]:
    """pydantic errors as ClaimProblems; `where(loc)` may rewrite (source, path) (CSV rows)."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _DuplicateEvidence):
            loc = (*loc, "evidence", ctx_error.index, "recordHash")
        if err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling)"
        elif err["type"] == "missing":
            message = "is required"
        src, path = where(loc) if where else (source, _path(loc))
        problems.append(ClaimProblem(src, path, message))
    return problems


def parse_claims(data: Any, source: str) -> LoadResult:
    """Validate decoded JSON: one claim object, a list of them, or ``{"claims": [...]}``."""
    if isinstance(data, dict) and set(data) == {"claims"}:
        data = data["claims"]
    if isinstance(data, dict):
        items, labels = [data], [source]
    elif isinstance(data, list) and data:
        items, labels = data, [f"{source} [{i}]" for i in range(len(data))]
    else:
        expected = 'expected a claim object, a list of claims or {"claims": [...]}'
        return LoadResult([], [ClaimProblem(source, "", expected)])
    result = LoadResult([], [])
    for item, label in zip(items, labels, strict=True):
        if not isinstance(item, dict):
            result.problems.append(ClaimProblem(label, "", "a claim must be a JSON object"))
            continue
        try:
            result.entries.append(ClaimEntry(label, ClaimModel.model_validate(item)))
        except ValidationError as exc:
            result.problems += _problems(exc, label)
    return result


def _csv_key(name: str) -> str:
    key = to_camel(name.strip().replace(" ", "_").replace("-", "_"))
    return key[:1].lower() + key[1:]


def parse_csv(text: str, source: str) -> LoadResult:
    """Validate a CSV of claims: one row per evidence record, grouped by `reference`."""
    try:
        return _parse_csv(text, source)
    except csv.Error as exc:  # e.g. a field longer than csv.field_size_limit()
        return LoadResult([], [ClaimProblem(source, "", f"unreadable CSV: {exc}")])


def _parse_csv(text: str, source: str) -> LoadResult:
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        return LoadResult([], [ClaimProblem(source, "", "empty CSV (a header row is required)")])
    columns = {name: _csv_key(name) for name in reader.fieldnames}
    unknown = [n for n, k in columns.items() if k not in CLAIM_COLUMNS + EVIDENCE_COLUMNS]
    missing = [c for c in ("reference", *EVIDENCE_COLUMNS) if c not in columns.values()]
    if unknown or missing:
        why = [f"unknown column {n!r}" for n in unknown] + [f"missing column {c!r}" for c in missing]
        return LoadResult([], [ClaimProblem(source, "header", "; ".join(why))])
    groups: dict[str, tuple[dict[str, Any], list[int]]] = {}
    conflicted: set[str] = set()
    result = LoadResult([], [])
    for row_number, row in enumerate(reader, start=2):
        values = {columns[k]: (v or "").strip() for k, v in row.items() if k is not None}
        reference = values.get("reference", "")
        if not reference:
            result.problems.append(ClaimProblem(f"{source} row {row_number}", "reference", "is required"))
            continue
        claim, rows = groups.setdefault(reference, ({"reference": reference, "evidence": []}, []))
        for column in CLAIM_COLUMNS[1:]:
            value = values.get(column, "")
            if not value:
                continue
            if column in claim and claim[column] != value:
                conflicted.add(reference)
                result.problems.append(ClaimProblem(
                    f"{source} row {row_number}", column,
                    f"{value!r} differs from {claim[column]!r} given earlier for reference {reference!r}",
                ))  # fmt: skip
            claim.setdefault(column, value)
        claim["evidence"].append({c: values[c] for c in EVIDENCE_COLUMNS})
        rows.append(row_number)
    for reference, (claim, rows) in groups.items():
        if reference in conflicted:
            continue
        label = f"{source} rows {rows[0]}-{rows[-1]}" if len(rows) > 1 else f"{source} row {rows[0]}"
        if re.fullmatch(r"[0-9]+", claim.get("policyId", "")):
            claim["policyId"] = int(claim["policyId"])

        def where(loc: tuple[Any, ...], rows: list[int] = rows) -> tuple[str, str]:
            if len(loc) >= 3 and loc[0] == "evidence" and isinstance(loc[1], int) and loc[1] < len(rows):
                return f"{source} row {rows[loc[1]]}", _path(loc[2:])
            return f"{source} row {rows[0]}", _path(loc)

        try:
            result.entries.append(ClaimEntry(label, ClaimModel.model_validate(claim)))
        except ValidationError as exc:
            result.problems += _problems(exc, label, where)
    if not groups and not result.problems:
        result.problems.append(ClaimProblem(source, "", "no claims in the file"))
    return result


def load_file(path: Path) -> LoadResult:
    """Read and validate one .json or .csv claim file."""
    source = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        return LoadResult([], [ClaimProblem(source, "", f"cannot read the file: {exc.strerror}")])
    except UnicodeDecodeError:
        return LoadResult([], [ClaimProblem(source, "", "is not UTF-8 text")])
    if path.suffix.lower() == ".csv":
        return parse_csv(text, source)
    if json_depth(text) > MAX_JSON_DEPTH:
        return LoadResult([], [ClaimProblem(source, "", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        return LoadResult([], [ClaimProblem(source, "", where)])
    except RecursionError:
        return LoadResult([], [ClaimProblem(source, "", "JSON nested too deeply to be a claim file")])
    return parse_claims(data, source)


def load_claims(paths: Iterable[Path]) -> LoadResult:
    """Validate every claim in `paths` (files, or directories whose *.json/*.csv files are read by name).

    Bad files and bad claims become problems; the rest are returned. A reference used twice is a problem for
    every use after the first.
    """
    files: list[Path] = []
    result = LoadResult([], [])
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not found:
                result.problems.append(ClaimProblem(str(path), "", "no .json or .csv claim files here"))
            files += found
        elif path.is_file():
            files.append(path)
        else:
            result.problems.append(ClaimProblem(str(path), "", "no such file or directory"))
    seen: dict[str, str] = {}
    for file in files:
        loaded = load_file(file)
        result.problems += loaded.problems
        for entry in loaded.entries:
            first = seen.setdefault(entry.claim.reference, entry.source)
            if first != entry.source:
                result.problems.append(ClaimProblem(
                    entry.source, "reference", f"{entry.claim.reference!r} is already used by {first}"
                ))  # fmt: skip
                continue
            result.entries.append(entry)
    return result
