"""The suite's codes (DESIGN §6.1, §6.2): role ids, purposes of use, data classes, by name and number."""

from __future__ import annotations

from eth_utils import keccak

from medchain.errors import InputError
from medchain.text import is_digits

ROLE_NAMES: tuple[str, ...] = (
    "COUNCIL",
    "HOSPITAL",
    "INSURER",
    "MANUFACTURER",
    "DISTRIBUTOR",
    "PHARMACY",
    "AUDITOR",
)
#: role name -> bytes32 id = keccak256("<NAME>")
ROLES: dict[str, bytes] = {name: keccak(text=name) for name in ROLE_NAMES}
#: role name -> bit in the Consortium's role bitmap (contracts/libraries/Roles.sol)
ROLE_BITS: dict[str, int] = {name: 1 << i for i, name in enumerate(ROLE_NAMES)}

#: purpose of use (after HL7 v3 PurposeOfUse); 0 is invalid
PURPOSES: dict[str, int] = {
    "TREATMENT": 1,
    "CLAIM": 2,
    "RESEARCH": 3,
    "EMERGENCY": 4,
    "PUBLIC_HEALTH": 5,
}
PURPOSE_NAMES: dict[int, str] = {v: k for k, v in PURPOSES.items()}

#: data class -> bit index in the uint64 bitmap; a record has exactly one class
DATA_CLASSES: dict[str, int] = {
    "SUMMARY": 0,
    "OUTPATIENT": 1,
    "INPATIENT": 2,
    "LAB": 3,
    "IMAGING": 4,
    "PRESCRIPTION": 5,
    "BILLING": 6,
    "GENOMIC": 7,
    "MENTAL_HEALTH": 8,
    "REPRODUCTIVE": 9,
    "INFECTIOUS_DISEASE": 10,
}
DATA_CLASS_NAMES: dict[int, str] = {v: k for k, v in DATA_CLASSES.items()}

#: claim rejection reason codes (uint16 on chain; any 1..65535 is accepted, these have names)
REJECT_REASONS: dict[str, int] = {
    "NOT_COVERED": 1,
    "INSUFFICIENT_EVIDENCE": 2,
    "DUPLICATE": 3,
    "POLICY_EXCLUSION": 4,
    "LIMIT_EXCEEDED": 5,
    "NOT_MEDICALLY_NECESSARY": 6,
    "FRAUD_SUSPECTED": 7,
    "OTHER": 99,
}
REASON_NAMES: dict[int, str] = {v: k for k, v in REJECT_REASONS.items()}
ALL_CLASSES = (1 << len(DATA_CLASSES)) - 1


def _lookup(kind: str, table: dict[str, int], text: str | int, numbers: range | None = None) -> int:
    """A code from its name in `table` or its number: a number in `table`, or any in `numbers` when given
    (codes whose every value is valid and only some have names)."""
    if isinstance(text, int) or is_digits(str(text).strip()):
        value = int(str(text).strip())  # (int() does not strip everything str.strip() does, e.g. "\x1f")
        if numbers is not None:
            if value in numbers:
                return value
            raise InputError(f"{kind} code {value} must be {numbers.start}..{numbers.stop - 1}")
        if value in table.values():
            return value
        raise InputError(f"unknown {kind} {value} (known: {', '.join(f'{k}={v}' for k, v in table.items())})")
    key = str(text).strip().upper().replace("-", "_").replace(" ", "_")
    if key not in table:
        more = ", or a number" if numbers is not None else ""
        raise InputError(f"unknown {kind} {text!r} (known: {', '.join(table)}{more})")
    return table[key]


def parse_purpose(text: str | int) -> int:
    """Purpose code from a name (``CLAIM``) or number (``2``)."""
    return _lookup("purpose", PURPOSES, text)


def parse_reason(text: str | int) -> int:
    """A claim rejection reason code from a name (``NOT_COVERED``) or any number 1..65535."""
    return _lookup("reason", REJECT_REASONS, text, range(1, 0x10000))


def parse_data_class(text: str | int) -> int:
    """Data-class bit index from a name (``LAB``) or number (``3``)."""
    return _lookup("data class", DATA_CLASSES, text)


def parse_classes(text: str) -> int:
    """Data-class bitmap from a comma list (``LAB,IMAGING``) or ``ALL``."""
    items = [t for t in (p.strip() for p in text.split(",")) if t]
    if not items:
        raise InputError("no data class given (e.g. --classes LAB,IMAGING or ALL)")
    if [i.upper() for i in items] == ["ALL"]:
        return ALL_CLASSES
    mask = 0
    for item in items:
        mask |= 1 << parse_data_class(item)
    return mask


def class_names(bitmap: int) -> list[str]:
    """Names of the data classes set in a bitmap."""
    return [name for name, bit in DATA_CLASSES.items() if bitmap >> bit & 1]


def parse_roles(text: str) -> int:
    """Role bitmap from a comma list of role names (``HOSPITAL,AUDITOR``)."""
    mask = 0
    for item in (p.strip().upper() for p in text.split(",") if p.strip()):
        if item not in ROLE_BITS:
            raise InputError(f"unknown role {item!r} (known: {', '.join(ROLE_NAMES)})")
        mask |= ROLE_BITS[item]
    if mask == 0:
        raise InputError("no role given (e.g. --roles HOSPITAL)")
    return mask


def role_names(bitmap: int) -> list[str]:
    """Names of the roles set in a role bitmap."""
    return [name for name, bit in ROLE_BITS.items() if bitmap & bit]
