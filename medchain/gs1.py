"""GS1 identifiers of a drug pack: parse any scan, build the Digital Link URI and element strings.

DESIGN §6.7 (external format, kept exactly): GTIN-14, lot (AI 10, ≤ 20 chars), serial (AI 21, ≤ 20
chars), expiry (AI 17, ``YYMMDD``). The QR payload is the GS1 Digital Link URI
``https://<resolver>/01/<GTIN-14>/10/<lot>/21/<serial>?17=<YYMMDD>``; the bracketed element string
``(01)…(17)…(10)…(21)…`` is accepted as input too.

`parse_scan` takes whatever a scanner or a person hands us and says which form it was:

- ``hri``: bracketed element string ``(01)09506000134352(17)261231(10)LOT42(21)SN0001`` (AIs in any
  order; spaces between elements are ignored, a space inside a value is refused like any character
  outside GS1's set);
- ``raw``: a scanner's output, FNC1 sent as GS (0x1D), e.g. ``]d2010950600013435217261231`` +
  ``10LOT42`` + GS + ``21SN0001``;
- ``element-string``: the same without identifier or GS, e.g. ``01095060001343521726123110LOT42``;
- ``digital-link``: ``https://id.medchain.example/01/09506000134352/10/LOT42/21/SN0001?17=261231``;
- ``cn-trace-code``: China's 20-digit drug trace code, e.g. ``81234567890123456789``.

A raw scan is one with a symbology identifier (``]d2`` GS1 DataMatrix, ``]Q3`` GS1 QR, ``]C1`` GS1-128,
...) or a group separator. Where a scan was pasted as text, the separator may also be written as
``<GS>``, ``␝`` (U+241D) or the four characters ``\\x1d``; all three mean GS.

China's 20-digit consumer drug trace code (药品追溯码: 7-digit drug identification code, 9-digit serial,
4 check digits set by the issuing platform) is not GS1: it carries no GTIN, lot or serial in our sense,
so it parses to a separate `ChinaTraceCode` rather than a `DrugCode` with empty fields. Only its format
is validated; the check digits are not recomputed (their algorithm is the issuer's). Callers that need
a GTIN use `parse_drug_code`, which rejects a trace code with a one-line `InputError`. A 20-digit
string that starts with ``01`` and reads as a valid GS1 element string (GTIN check digit included) is
taken as GS1; a ``]C0`` (plain Code 128) prefix forces the trace-code reading.

Every malformed scan raises `medchain.errors.InputError` with a one-line message naming the problem.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal
from urllib.parse import quote, unquote, urlsplit

from medchain.errors import InputError
from medchain.text import is_digits

if TYPE_CHECKING:
    from biip.gs1_element_strings import GS1ElementStrings

# biip (the GS1 parser) takes ~50 ms to import, most of it its GS1 prefix table: it is imported in the
# functions that parse, so a CLI that only needs the constants here (`--help`, defaults) starts fast.

__all__ = [
    "AI_EXPIRY",
    "AI_GTIN",
    "AI_LOT",
    "AI_SERIAL",
    "DEFAULT_RESOLVER",
    "ChinaTraceCode",
    "DrugCode",
    "ScanSource",
    "build_digital_link",
    "build_element_string",
    "gtin_check_digit",
    "parse_drug_code",
    "parse_scan",
]

AI_GTIN: Final = "01"
AI_EXPIRY: Final = "17"
AI_LOT: Final = "10"
AI_SERIAL: Final = "21"
DEFAULT_RESOLVER: Final = "id.medchain.example"
MAX_LOT: Final = 20
MAX_SERIAL: Final = 20
GS: Final = "\x1d"

ScanSource = Literal["hri", "raw", "element-string", "digital-link", "cn-trace-code"]

_NAMES: Final = {AI_GTIN: "GTIN", AI_LOT: "lot", AI_SERIAL: "serial", AI_EXPIRY: "expiry date"}
# GS1 AI encodable character set 82 (GS1 General Specifications §7.11, figure 7.11-1).
_CSET82: Final = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*")
_GS_ALIASES: Final = ("<GS>", "\u241d", "\\x1d", "\\u001d")
_TRACE_CODE: Final = re.compile(r"[0-9]{20}")
_HRI_PAIR: Final = re.compile(r"\s*\(([0-9]+)\)([^(]*)")


@dataclass(frozen=True)
class DrugCode:
    """One drug pack (or, without a serial, one batch) identified the GS1 way.

    Constructing one validates it: 14-digit GTIN with a correct check digit, lot and serial of 1–20
    GS1 CSET 82 characters. ``expiry`` is the date AI 17 names (``YYMMDD`` with day ``00`` = last day
    of the month, as GS1 specifies; such a date is rebuilt with its real day).
    """

    gtin: str
    lot: str | None = None
    serial: str | None = None
    expiry: dt.date | None = None
    source: str = "element-string"
    symbology: str | None = None  # e.g. "]d2" when the scanner sent a symbology identifier

    def __post_init__(self) -> None:
        _check_gtin(self.gtin)
        if self.lot is not None:
            _check_text(AI_LOT, self.lot)
        if self.serial is not None:
            _check_text(AI_SERIAL, self.serial)
        if self.expiry is not None and not isinstance(self.expiry, dt.date):
            raise InputError(f"expiry must be a date, got {type(self.expiry).__name__}")

    @property
    def is_pack(self) -> bool:
        """True when the code names one pack (GTIN, lot and serial all present)."""
        return self.lot is not None and self.serial is not None

    @property
    def expiry_yymmdd(self) -> str | None:
        return None if self.expiry is None else format_yymmdd(self.expiry)

    def hri(self) -> str:
        """Bracketed element string, e.g. ``(01)09506000134352(17)261231(10)LOT42(21)SN0001``."""
        return build_element_string(self)


@dataclass(frozen=True)
class ChinaTraceCode:
    """China's 20-digit consumer drug trace code (药品追溯码). Format-checked only; no checksum math."""

    code: str
    source: str = "cn-trace-code"
    symbology: str | None = None

    def __post_init__(self) -> None:
        if not _TRACE_CODE.fullmatch(self.code):
            raise InputError(f"China drug trace code must be 20 digits, got {self.code!r}")

    @property
    def drug_id(self) -> str:
        """药品标识码: the 7-digit drug identification code."""
        return self.code[:7]

    @property
    def serial(self) -> str:
        """单品序列号: the 9-digit pack serial."""
        return self.code[7:16]

    @property
    def check(self) -> str:
        """校验位: the 4 check digits, kept as printed (their algorithm belongs to the issuer)."""
        return self.code[16:]


# ---------------------------------------------------------------------------------------------------
# Parsing


def parse_scan(text: str) -> DrugCode | ChinaTraceCode:
    """Parse any supported scan (see the module docstring); raise `InputError` naming the problem."""
    if not isinstance(text, str):
        raise InputError(f"scan must be text, got {type(text).__name__}")
    value = _normalise(text)
    if not value:
        raise InputError("empty scan")
    symbology: str | None = None
    if value.startswith("]"):
        symbology, value = _split_symbology(value)
    if re.match(r"https?://", value, flags=re.IGNORECASE):
        return _parse_digital_link(value, symbology)
    if value.startswith("("):
        return _parse_hri(value, symbology)
    digits = re.sub(r"[ \-]", "", value)
    if _TRACE_CODE.fullmatch(digits) and (symbology == "]C0" or not _reads_as_gs1(digits)):
        return ChinaTraceCode(digits, symbology=symbology)
    try:
        return _parse_element_string(value, symbology)
    except InputError as exc:
        if is_digits(digits) and 16 <= len(digits) <= 24 and not digits.startswith(AI_GTIN):
            raise InputError(
                f"unrecognised {len(digits)}-digit code: not a GS1 element string ({exc}) "
                "and not a China drug trace code (20 digits)"
            ) from None
        raise


def parse_drug_code(text: str) -> DrugCode:
    """Like `parse_scan`, but only GS1 forms: a China trace code raises `InputError`."""
    code = parse_scan(text)
    if isinstance(code, ChinaTraceCode):
        raise InputError(
            f"{code.code} is a China drug trace code (drug id {code.drug_id}), not a GS1 code: "
            "it has no GTIN, lot or serial"
        )
    return code


def _normalise(text: str) -> str:
    value = text.strip(" \t\r\n")  # not str.strip(): Python counts GS (0x1D) as whitespace
    for alias in _GS_ALIASES:
        value = value.replace(alias, GS)
    return value.strip(GS) if not value.startswith("]") else value.rstrip(GS)


def _split_symbology(value: str) -> tuple[str, str]:
    from biip import ParseError
    from biip.symbology import SymbologyIdentifier

    try:
        ident = SymbologyIdentifier.extract(value)
    except (ParseError, IndexError, ValueError):  # biip raises IndexError on a lone "]"
        raise InputError(f"unknown symbology identifier {value[:3]!r}") from None
    return ident.value, value[len(ident) :].strip(GS)


def _reads_as_gs1(digits: str) -> bool:
    try:
        _parse_element_string(digits, None)
    except InputError:
        return False
    return True


def _parse_hri(value: str, symbology: str | None) -> DrugCode:
    from biip import ParseError
    from biip.gs1_messages import GS1Message

    # Whitespace around an element is layout and is dropped; inside a value it is data, which
    # _check_element refuses (not in CSET 82) rather than silently joining 'A B' into 'AB'.
    matches = list(_HRI_PAIR.finditer(value))
    if not matches or "".join(m.group(0) for m in matches) != value:
        raise InputError(f"malformed bracketed element string {value!r}: expected (AI)value(AI)value...")
    pairs = [(m.group(1), m.group(2).strip()) for m in matches]
    for ai, data in pairs:
        _check_element(ai, data)
    hri = "".join(f"({ai}){data}" for ai, data in pairs)
    try:
        message = GS1Message.parse_hri(hri)
    except ParseError as exc:
        raise InputError(_explain(exc)) from None
    return _from_elements(message.element_strings, "hri", symbology)


def _parse_element_string(value: str, symbology: str | None) -> DrugCode:
    from biip import ParseError
    from biip.gs1_messages import GS1Message

    if not is_digits(value[:1]):
        raise InputError(f"unrecognised scan {_clip(value)}: not a GS1 element string, URI or trace code")
    bad = next((c for c in value if c != GS and not _CSET82.fullmatch(c)), None)
    if bad is not None:
        raise InputError(f"scan {_clip(value)} contains {bad!r}, not in the GS1 character set 82")
    try:
        message = GS1Message.parse(value)
    except ParseError as exc:
        hint = (
            "" if GS in value else " (a lot or serial longer than 20 characters, or a missing GS separator?)"
        )
        raise InputError(_explain(exc) + hint) from None
    for element in message.element_strings:
        _check_element(element.ai.ai, element.value)
    source = "raw" if symbology is not None or GS in value else "element-string"
    return _from_elements(message.element_strings, source, symbology)


def _parse_digital_link(value: str, symbology: str | None) -> DrugCode:
    from biip import ParseError
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI

    try:
        parts = urlsplit(value)
    except ValueError as exc:  # e.g. an unbalanced "[" or "]" in the host ("Invalid IPv6 URL")
        raise InputError(f"malformed Digital Link URI ({exc}): {_clip(value)}") from None
    if not parts.netloc:
        raise InputError(f"Digital Link URI without a host: {_clip(value)}")
    if "#" in value:  # a raw '#' would end the path: lot 'A#B' read as 'A'
        raise InputError(
            f"'#' in a Digital Link URI: not in the GS1 character set 82, and a URI fragment is not "
            f"part of a GS1 code (a '#' elsewhere must be written %23): {_clip(value)}"
        )
    for item in parts.query.split("&") if parts.query else ():
        if "=" not in item:  # a raw '?' in a lot or serial would start the query: 'A?B' read as 'A'
            raise InputError(
                f"Digital Link query item {item!r} is not key=value (a '?' in a lot or serial "
                "must be written %3F)"
            )
    segments = parts.path.split("/")
    try:
        start = segments.index(AI_GTIN)
    except ValueError:
        raise InputError(
            f"not a GS1 Digital Link URI for a GTIN (no /01/ in the path): {_clip(value)}"
        ) from None
    path = segments[start:]
    if len(path) % 2:
        raise InputError(f"Digital Link path has an AI without a value: {parts.path!r}")
    for ai, raw in zip(path[::2], path[1::2], strict=True):
        if ai not in (AI_GTIN, "22", AI_LOT, AI_SERIAL, "235"):
            raise InputError(
                f"unexpected AI {ai!r} in the Digital Link path (GTIN qualifiers: 22, 10, 21, 235)"
            )
        try:
            data = unquote(raw, errors="strict") if ai != AI_GTIN else raw.zfill(14)
        except UnicodeDecodeError:
            raise InputError(f"bad percent-encoding in the Digital Link path segment {raw!r}") from None
        _check_element(ai, data)
    expiry = [v for k, v in _query_pairs(parts.query) if k == AI_EXPIRY]
    for data in expiry:
        _check_element(AI_EXPIRY, data)
    try:
        link = GS1DigitalLinkURI.parse(value)
    except (ParseError, UnicodeDecodeError) as exc:
        raise InputError(_explain(exc)) from None
    return _from_elements(link.element_strings, "digital-link", symbology)


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for item in query.split("&"):
        key, sep, data = item.partition("=")
        if sep:
            pairs.append((unquote(key), unquote(data.replace("+", " "))))
    return pairs


def _from_elements(elements: GS1ElementStrings, source: str, symbology: str | None) -> DrugCode:
    values: dict[str, str] = {}
    for element in elements:
        ai, data = element.ai.ai, element.value
        if values.setdefault(ai, data) != data:
            raise InputError(f"AI ({ai}) appears twice with different values: {values[ai]!r} and {data!r}")
    if AI_GTIN not in values:
        found = ", ".join(f"({ai})" for ai in values) or "nothing"
        raise InputError(f"no GTIN (AI 01) in the scan (found {found})")
    expiry_element = elements.get(ai=AI_EXPIRY)
    return DrugCode(
        gtin=values[AI_GTIN],
        lot=values.get(AI_LOT),
        serial=values.get(AI_SERIAL),
        expiry=None if expiry_element is None else expiry_element.date,
        source=source,
        symbology=symbology,
    )


# ---------------------------------------------------------------------------------------------------
# Element checks with one-line messages


def _check_element(ai: str, data: str) -> None:
    from biip.gs1_application_identifiers import _GS1_APPLICATION_IDENTIFIERS

    if ai not in _GS1_APPLICATION_IDENTIFIERS:
        raise InputError(f"unknown GS1 AI ({ai})")
    if ai == AI_GTIN:
        _check_gtin(data)
    elif ai in (AI_LOT, AI_SERIAL):
        _check_text(ai, data)
    elif ai == AI_EXPIRY:
        parse_yymmdd(data)


def _check_gtin(gtin: str) -> None:
    from biip.checksums import gs1_standard_check_digit

    if not isinstance(gtin, str) or not re.fullmatch(r"[0-9]{14}", gtin):
        raise InputError(f"GTIN must be 14 digits, got {gtin!r}")
    expected = gs1_standard_check_digit(gtin[:-1])
    if int(gtin[-1]) != expected:
        raise InputError(f"bad GTIN check digit in {gtin}: expected {expected}, got {gtin[-1]}")


def _check_text(ai: str, data: str) -> None:
    name = _NAMES[ai]
    limit = MAX_LOT if ai == AI_LOT else MAX_SERIAL
    if not isinstance(data, str) or not data:
        raise InputError(f"empty {name} (AI {ai})")
    if len(data) > limit:
        raise InputError(f"{name} too long: {len(data)} characters (max {limit}) in {data!r}")
    if not _CSET82.fullmatch(data):
        bad = next(c for c in data if not _CSET82.fullmatch(c))
        raise InputError(f"{name} {data!r} contains {bad!r}, not in the GS1 character set 82")


def gtin_check_digit(first13: str) -> int:
    """GS1 mod-10 check digit of the first 13 digits of a GTIN-14."""
    from biip.checksums import gs1_standard_check_digit

    if not re.fullmatch(r"[0-9]{13}", first13):
        raise InputError(f"expected 13 digits, got {first13!r}")
    return gs1_standard_check_digit(first13)


def parse_yymmdd(text: str) -> dt.date:
    """GS1 date (AI 17): ``YYMMDD``, century by GS1's sliding window, day 00 = last day of the month."""
    from biip import ParseError
    from biip.gs1_element_strings import GS1ElementString

    if not re.fullmatch(r"[0-9]{6}", text):
        raise InputError(f"bad expiry date {text!r}: expected YYMMDD")
    try:
        element = GS1ElementString.parse(AI_EXPIRY + text)
    except ParseError:
        raise InputError(f"bad expiry date {text!r}: not a calendar date (YYMMDD)") from None
    assert element.date is not None
    return element.date


def format_yymmdd(date: dt.date) -> str:
    return date.strftime("%y%m%d")


def _explain(exc: Exception) -> str:
    message = str(exc)
    match = re.search(r"Failed to get GS1 Application Identifier from '([^']*)'", message)
    if match:
        rest = match.group(1)
        return f"unknown GS1 AI at {_clip(rest)}"
    match = re.search(r"Unknown GS1 Application Identifier '([0-9]+)'", message)
    if match:
        return f"unknown GS1 AI ({match.group(1)})"
    match = re.search(r"Failed to match '([^']*)' with GS1 AI \(([0-9]+)\)", message)
    if match:
        return f"malformed GS1 element ({match.group(2)}) in {_clip(match.group(1))}"
    return f"malformed GS1 data: {message.splitlines()[0] if message else type(exc).__name__}"


def _clip(text: str, limit: int = 60) -> str:
    shown = text if len(text) <= limit else text[:limit] + "…"
    return repr(shown)


# ---------------------------------------------------------------------------------------------------
# Building


def build_digital_link(code: DrugCode, resolver: str = DEFAULT_RESOLVER) -> str:
    """DESIGN §6.7: ``https://<resolver>/01/<GTIN-14>/10/<lot>/21/<serial>?17=<YYMMDD>``.

    Lot and serial are percent-encoded as GS1 Digital Link requires: every character outside the URI
    unreserved set (``A-Z a-z 0-9 - . _ ~``) becomes ``%XX``, so ``/`` in a lot is ``%2F``. Absent
    parts are left out (``/10/…`` without a lot, ``?17=`` without an expiry). ``resolver`` is a host
    (optionally with a port and a path prefix); a leading ``http://`` or ``https://`` is kept as given
    (local testing), otherwise the scheme is https. A lot or serial that is exactly ``.`` or ``..``
    raises `InputError`: URI normalisation would remove it as a dot segment, even percent-encoded.
    """
    for name, value in (("lot", code.lot), ("serial", code.serial)):
        if value in (".", ".."):
            raise InputError(f"{name} {value!r} cannot travel in a URI path (a dot segment)")
    path = f"/{AI_GTIN}/{code.gtin}"
    if code.lot is not None:
        path += f"/{AI_LOT}/{quote(code.lot, safe='')}"
    if code.serial is not None:
        path += f"/{AI_SERIAL}/{quote(code.serial, safe='')}"
    query = "" if code.expiry is None else f"?{AI_EXPIRY}={format_yymmdd(code.expiry)}"
    return f"{_resolver_base(resolver)}{path}{query}"


def _resolver_base(resolver: str) -> str:
    value = resolver.strip().rstrip("/")
    scheme = "https://"
    for prefix in ("https://", "http://"):
        if value.lower().startswith(prefix):
            scheme, value = prefix, value[len(prefix) :]
    host = value.split("/", 1)[0]
    if not value or not re.fullmatch(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?", host):
        raise InputError(f"bad resolver {resolver!r}: expected a host name, e.g. {DEFAULT_RESOLVER}")
    if any(c in value for c in "?#"):
        raise InputError(f"bad resolver {resolver!r}: no query or fragment allowed")
    return scheme + value


def build_element_string(code: DrugCode, *, hri: bool = True) -> str:
    """Element string in the DESIGN order (01)(17)(10)(21).

    ``hri=True`` gives the bracketed form ``(01)…(17)…(10)…(21)…``; ``hri=False`` the data a GS1
    DataMatrix carries: ``01…17…10<lot><GS>21<serial>`` (a GS only after a variable-length value that is
    not last).
    """
    elements = [(AI_GTIN, code.gtin)]
    if code.expiry is not None:
        elements.append((AI_EXPIRY, format_yymmdd(code.expiry)))
    if code.lot is not None:
        elements.append((AI_LOT, code.lot))
    if code.serial is not None:
        elements.append((AI_SERIAL, code.serial))
    if hri:
        return "".join(f"({ai}){data}" for ai, data in elements)
    out = ""
    for index, (ai, data) in enumerate(elements):
        out += ai + data
        if ai in (AI_LOT, AI_SERIAL) and index < len(elements) - 1:
            out += GS
    return out
