"""Record hashes (DESIGN §6.6), patient commitments (§6.3) and record leaves (§6.5).

Record hash
    ``sha256`` of the file's bytes, or, for a FHIR JSON resource, ``sha256`` of its RFC 8785 (JCS) canonical
    JSON in FHIR's ``#static`` view (top-level ``text`` and ``meta`` dropped, so the hash survives a move
    between servers and a narrative regeneration). The result always says which method produced it.

    JCS is applied to the JSON *as received*: it is parsed the way ECMAScript's ``JSON.parse`` parses it
    (numbers as IEEE doubles, exactly what RFC 8785 §3.2.2.3 serialises), never round-tripped through a FHIR
    model (``fhir.resources`` rewrites decimals, e.g. ``6.50`` -> ``6.5``, and adds or reorders nothing we
    want to depend on). Like any JCS implementation, ``6.50`` and ``6.5`` canonicalise alike; JSON that JCS
    cannot represent (NaN/Infinity, integers beyond 2^53, duplicate keys, lone surrogates) is refused.
    Structure validation with ``fhir.resources`` is optional (``validate=True``) and never changes the hash.

Patient commitment and leaf
    Encoded with ``eth_abi`` and hashed with Keccak-256: nothing is concatenated by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import rfc8785
from eth_utils import is_address, to_canonical_address

from medchain.errors import InputError
from medchain.merkle import RECORD_LEAF_ENCODING, abi_encode, keccak256, leaf_hash
from medchain.text import MAX_JSON_DEPTH, check_json_depth

__all__ = [
    "METHOD_BYTES",
    "METHOD_FHIR",
    "HashResult",
    "canonical_fhir",
    "hash_bytes",
    "hash_file",
    "hash_fhir_line",
    "parse_hash",
    "patient_commitment",
    "patient_commitments",
    "random_salt",
    "record_leaf",
]

HashMethod = Literal["sha256", "sha256+fhir-jcs-static"]
METHOD_BYTES: HashMethod = "sha256"
"""sha256 of the file's bytes, as stored."""
METHOD_FHIR: HashMethod = "sha256+fhir-jcs-static"
"""sha256 of the FHIR resource's RFC 8785 canonical JSON, #static view (top-level text and meta dropped)."""

STATIC_VIEW_DROPS = ("text", "meta")
MAX_DATA_CLASS = 10


@dataclass(frozen=True)
class HashResult:
    """A record hash and how it was made."""

    record_hash: bytes
    method: HashMethod
    source: str  # file path (or "<bytes>")
    size: int  # bytes read
    resource_type: str | None = None  # FHIR resourceType when method is METHOD_FHIR
    fhir_validated: bool = False  # structure checked with fhir.resources

    @property
    def hex(self) -> str:
        return "0x" + self.record_hash.hex()

    def as_dict(self) -> dict[str, Any]:
        return {
            "recordHash": self.hex,
            "method": self.method,
            "source": self.source,
            "size": self.size,
            "resourceType": self.resource_type,
            "fhirValidated": self.fhir_validated,
        }


# ---- record hashes ----


def hash_bytes(
    data: bytes, *, source: str = "<bytes>", mode: str = "auto", validate: bool = False
) -> HashResult:
    """Hashes record content. ``mode``: ``auto`` (FHIR JSON if it is a JSON object with a ``resourceType``,
    else the bytes), ``json`` (must be valid JSON; FHIR if it has a ``resourceType``, else the bytes),
    ``fhir`` (must be a FHIR JSON resource) or ``raw`` (the bytes, always)."""
    if mode not in ("auto", "json", "fhir", "raw"):
        raise InputError(f"unknown hash mode {mode!r} (auto, json, fhir, raw)")
    resource = (
        None
        if mode == "raw"
        else _fhir_resource(data, source, json_required=mode != "auto", fhir_required=mode == "fhir")
    )
    if resource is None:
        return HashResult(hashlib.sha256(data).digest(), METHOD_BYTES, source, len(data))
    if validate:
        _validate_fhir(resource, source)
    digest = hashlib.sha256(canonical_fhir(resource, source=source)).digest()
    return HashResult(digest, METHOD_FHIR, source, len(data), str(resource["resourceType"]), validate)


def hash_file(path: str | os.PathLike[str], *, mode: str = "auto", validate: bool = False) -> HashResult:
    """Hashes a record file (see :func:`hash_bytes`); unreadable files raise InputError."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a record file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if mode == "auto" and p.suffix.lower() == ".json":
        mode = "json"  # a .json file must parse; FHIR if it has a resourceType, else its bytes
    return hash_bytes(data, source=str(p), mode=mode, validate=validate)


# Quick path for FHIR NDJSON lines (hash_fhir_line): the C json encoder writes RFC 8785 output for JSON
# whose keys sort alike by code point and by UTF-16 unit (no character above U+FFFF), whose strings hold no
# lone surrogate and whose integers are safe (at most 15 characters); numbers parsed as doubles are written by
# rfc8785 itself, carried through the encoder as marked strings. A line it cannot vouch for takes hash_bytes.
_QUICK_REFUSES_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_QUICK_REFUSES_ASTRAL = re.compile(rb"[\xf0-\xff]")
_MARK = "\x00"  # never in a parsed string: the refused \u0000 escape is the only way to write it in JSON
_MARK_OPEN, _MARK_CLOSE = b'"\\u0000', b'\\u0000"'
_number_marks: dict[str, str] = {}


def hash_fhir_line(data: bytes, source: str) -> HashResult:
    """``hash_bytes(data, source=source, mode="fhir")``, the same result (or error) about 3x faster for the
    common FHIR resource: one NDJSON line of a bulk export."""
    quick = _quick_fhir(data, source)
    return quick if quick is not None else hash_bytes(data, source=source, mode="fhir")


def _quick_fhir(data: bytes, source: str) -> HashResult | None:
    if data.count(b"{") + data.count(b"[") > MAX_JSON_DEPTH:
        return None  # (all its brackets nesting could not pass check_json_depth either)
    if (b"\\u" in data and _QUICK_REFUSES_ESCAPE.search(data)) or _QUICK_REFUSES_ASTRAL.search(data):
        return None
    try:
        resource = _QUICK_DECODER.decode(data.decode("utf-8"))
    except (ValueError, RecursionError):  # malformed or not canonicalisable: hash_bytes says why
        return None
    if not isinstance(resource, dict):
        return None
    kind = resource.get("resourceType")
    if not isinstance(kind, str) or not kind or _MARK in kind:
        return None
    for key in STATIC_VIEW_DROPS:
        resource.pop(key, None)
    text = _QUICK_ENCODER.encode(resource)
    canonical = text.encode("utf-8").replace(_MARK_OPEN, b"").replace(_MARK_CLOSE, b"")
    return HashResult(hashlib.sha256(canonical).digest(), METHOD_FHIR, source, len(data), kind)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _safe_int(literal: str) -> int:
    if len(literal) > 15:  # maybe beyond 2^53 - 1, which RFC 8785 refuses: hash_bytes decides
        raise ValueError("long integer")
    return int(literal)


def _number_mark(literal: str) -> str:
    """A JSON number with a fraction or exponent, as ``_MARK + its RFC 8785 form + _MARK`` (cached)."""
    mark = _number_marks.get(literal)
    if mark is None:
        mark = _MARK + rfc8785.dumps(float(literal)).decode("ascii") + _MARK  # NaN, +-Infinity: ValueError
        if len(_number_marks) < 65536:
            _number_marks[literal] = mark
    return mark


def canonical_fhir(resource: dict[str, Any], *, source: str = "<resource>") -> bytes:
    """RFC 8785 canonical JSON of a FHIR resource's #static view (top-level ``text`` and ``meta`` dropped)."""
    view = {key: value for key, value in resource.items() if key not in STATIC_VIEW_DROPS}
    try:
        return rfc8785.dumps(view)
    except rfc8785.CanonicalizationError as exc:
        raise InputError(f"{source}: JSON cannot be canonicalised (RFC 8785): {exc}") from None
    except RecursionError:
        raise InputError(f"{source}: JSON nested too deeply to canonicalise") from None


def _fhir_resource(
    data: bytes, source: str, *, json_required: bool, fhir_required: bool
) -> dict[str, Any] | None:
    """The parsed FHIR resource; None if the bytes are not one (and need not be); InputError if malformed."""
    if not json_required and data.lstrip()[:1] != b"{":
        return None
    check_json_depth(data, source)  # no FHIR resource nests this deep; as bytes it would hide the problem
    try:
        parsed = json.loads(
            data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant
        )
    except (UnicodeDecodeError, ValueError) as exc:
        if not json_required:
            return None
        raise InputError(f"{source}: malformed JSON: {_first_line(exc)}") from None
    except RecursionError:  # no FHIR resource nests this deep; hashing it as bytes would hide the problem
        raise InputError(f"{source}: JSON nested too deeply (over Python's recursion limit)") from None
    if isinstance(parsed, dict) and isinstance(parsed.get("resourceType"), str) and parsed["resourceType"]:
        return parsed
    if fhir_required:
        raise InputError(f"{source}: malformed FHIR JSON: not a resource (no resourceType)")
    return None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_QUICK_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_keys, parse_float=_number_mark, parse_int=_safe_int, parse_constant=_no_constant
)
_QUICK_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _validate_fhir(resource: dict[str, Any], source: str) -> None:
    """Structure check with fhir.resources (R5 by default; ``MEDCHAIN_FHIR_VERSION=R4B`` for R4B)."""
    version = os.environ.get("MEDCHAIN_FHIR_VERSION", "R5").upper()
    try:
        if version == "R4B":
            from fhir.resources.R4B import get_fhir_model_class
        else:
            from fhir.resources import get_fhir_model_class
        model = get_fhir_model_class(resource["resourceType"])
    except (ImportError, KeyError, ValueError) as exc:
        raise InputError(
            f"{source}: unknown FHIR resourceType {resource['resourceType']!r} ({exc})"
        ) from None
    try:
        model.model_validate(resource)
    except Exception as exc:  # pydantic ValidationError and fhir_core errors: report the first problem
        raise InputError(f"{source}: invalid FHIR {resource['resourceType']}: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " / ".join(lines[:3]) if lines else type(exc).__name__


def parse_hash(value: str | bytes, what: str = "record hash") -> bytes:
    """A 32-byte hash from bytes or 0x-hex; InputError otherwise."""
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        text = value.strip()
        text = text[2:] if text[:2].lower() == "0x" else text
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise InputError(f"{what} {value!r} is not hex") from None
    if len(raw) != 32:
        raise InputError(f"{what} must be 32 bytes, got {len(raw)}")
    return raw


# ---- commitments and leaves ----


def random_salt() -> bytes:
    """A fresh 32-byte salt from the OS CSPRNG."""
    return os.urandom(32)


def patient_commitment(patient: str, salt: bytes) -> bytes:
    """DESIGN §6.3: ``keccak256(abi.encode(address patient, bytes32 salt))``."""
    if not is_address(patient):
        raise InputError(f"patient {patient!r} is not an address")
    # lower case: the same 20 bytes, and the encoder needs no EIP-55 checksum (~110 µs per call saved)
    return keccak256(abi_encode(["address", "bytes32"], [patient.lower(), parse_hash(salt, "salt")]))


def patient_commitments(patient: str, salts: Sequence[bytes]) -> list[bytes]:
    """:func:`patient_commitment` of one patient with each of ``salts``, the same commitments faster (the
    address is checked and converted once and given to the encoder as its 20 bytes)."""
    if not is_address(patient):
        raise InputError(f"patient {patient!r} is not an address")
    address = to_canonical_address(patient)
    types = ["address", "bytes32"]
    return [keccak256(abi_encode(types, [address, parse_hash(salt, "salt")])) for salt in salts]


def record_leaf(record_hash: bytes, commitment: bytes, data_class: int) -> bytes:
    """DESIGN §6.5 leaf (the record's key on chain): OZ StandardMerkleTree leaf of
    ``(recordHash, patientCommitment, dataClass)``."""
    check_data_class(data_class)
    return leaf_hash(
        RECORD_LEAF_ENCODING, (parse_hash(record_hash), parse_hash(commitment, "commitment"), data_class)
    )


def check_data_class(data_class: int) -> int:
    if (
        not isinstance(data_class, int)
        or isinstance(data_class, bool)
        or not 0 <= data_class <= MAX_DATA_CLASS
    ):
        raise InputError(f"unknown data class {data_class!r} (0..{MAX_DATA_CLASS})")
    return data_class
