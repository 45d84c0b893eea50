"""Text hygiene for user input and for messages that quote it."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from pathlib import Path
from typing import Any

from medchain.errors import InputError, one_line

__all__ = [
    "MAX_JSON_DEPTH",
    "check_json_depth",
    "is_digits",
    "json_depth",
    "one_line",
    "read_json_file",
]


def is_digits(text: str) -> bool:
    """True for a non-empty run of ASCII digits 0-9. ``str.isdigit()`` also accepts superscripts and other
    Unicode digits ("²") that ``int()`` refuses, so parsers test with this before calling ``int()``."""
    return text.isascii() and text.isdigit()


#: deeper than any claim file, FHIR resource, evidence package or keystore nests (FHIR stays under ~20)
MAX_JSON_DEPTH = 100
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_JSON_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(text: str | bytes) -> int:
    """How deep `text`'s arrays and objects nest (brackets inside strings ignored), without parsing it.

    Checked before ``json.loads`` because the parser recurses: a deep document raises RecursionError, and in a
    process where a library has raised the recursion limit (py_ecc sets 100,000) it overflows the C stack and
    kills the interpreter instead."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    brackets = _JSON_BRACKETS.findall(_JSON_STRING.sub(b"", data))
    return max(accumulate(1 if b in (b"[", b"{") else -1 for b in brackets), default=0)


def check_json_depth(text: str | bytes, what: str) -> None:
    """InputError naming `what` when `text` nests deeper than MAX_JSON_DEPTH."""

    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise InputError(f"{what}: JSON nested {depth} levels deep (at most {MAX_JSON_DEPTH})")


def read_json_file(path: str | Path) -> Any:
    """A JSON file's value; InputError (one line, naming the file) if it cannot be read, is not JSON or nests
    too deep."""

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    check_json_depth(text, str(path))
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
