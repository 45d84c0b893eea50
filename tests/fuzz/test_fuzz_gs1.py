"""Fuzzing GS1 scans (medchain.gs1.parse_scan / parse_drug_code and `medchain drugs qr`): random text, and
valid bracketed HRI, raw scanner output, element strings, Digital Link URIs and China trace codes with a few
random edits. A scan parses to a valid code or is refused with one line; a refused scan writes no file."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
from fuzzkit import call, fuzz, mutate_text, rejected, run, unchanged
from hypothesis import given
from hypothesis import strategies as st

from medchain.errors import MedchainError
from medchain.gs1 import (
    GS,
    ChinaTraceCode,
    DrugCode,
    build_digital_link,
    build_element_string,
    gtin_check_digit,
    parse_drug_code,
    parse_scan,
)

CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
#: characters that matter to the scan grammar, plus a few that never belong in a scan
SCAN_NOISE = st.sampled_from(
    list("0123456789()/%?=&#:.-_ ]dQC") + [GS, "<GS>", "\\x1d", "\u241d", "é", "\x00", "\n"]
)


@st.composite
def drug_codes(draw: st.DrawFn) -> DrugCode:
    first13 = draw(st.text("0123456789", min_size=13, max_size=13))
    gtin = first13 + str(gtin_check_digit(first13))
    lot = draw(st.none() | st.text(CSET82, min_size=1, max_size=20))
    serial = draw(st.none() | st.text(CSET82, min_size=1, max_size=20))
    expiry = draw(st.none() | st.dates(dt.date(2000, 1, 1), dt.date(2049, 12, 31)))
    return DrugCode(gtin, lot, serial, expiry)


@st.composite
def scans(draw: st.DrawFn) -> str:
    """A valid scan in one of the accepted forms."""
    form = draw(st.sampled_from(["hri", "raw", "element-string", "digital-link", "trace-code"]))
    if form == "trace-code":
        return draw(st.from_regex(r"\A8[0-9]{19}\Z"))
    code = draw(drug_codes())
    if form == "hri":  # '(' and ')' in a value make the bracketed form ambiguous (see the report): not here
        code = DrugCode(code.gtin, _no_parens(code.lot), _no_parens(code.serial), code.expiry)
        return build_element_string(code)
    if form == "digital-link":
        if code.lot in (".", "..") or code.serial in (".", ".."):
            code = DrugCode(code.gtin, expiry=code.expiry)
        return build_digital_link(code)
    body = build_element_string(code, hri=False)
    if form == "raw":
        return draw(st.sampled_from(["]d2", "]Q3", "]C1", ""])) + body + ("" if body.endswith(GS) else "")
    return body



def _no_parens(value: str | None) -> str | None:
    return None if value is None else value.replace("(", "A").replace(")", "B")


def check_code(result: object) -> None:
    """An accepted scan is a well-formed code: GS1 constraints hold and it survives a round trip."""
    if isinstance(result, MedchainError):
        return
    if isinstance(result, ChinaTraceCode):
        assert len(result.code) == 20 and result.code.isdecimal()
        return
    assert isinstance(result, DrugCode)
    assert len(result.gtin) == 14 and result.gtin.isdecimal()
    assert int(result.gtin[-1]) == gtin_check_digit(result.gtin[:13])
    for part in (result.lot, result.serial):
        assert part is None or (1 <= len(part) <= 20 and set(part) <= set(CSET82))
    again = parse_scan(build_element_string(result, hri=False))
    assert isinstance(again, DrugCode)
    assert (again.gtin, again.lot, again.serial, again.expiry) == (
        result.gtin,
        result.lot,
        result.serial,
        result.expiry,
    )


@fuzz(300)
@given(text=st.text(max_size=80))
def test_random_text(text: str) -> None:
    check_code(call(parse_scan, text))
    result = call(parse_drug_code, text)
    assert not isinstance(result, ChinaTraceCode)
    check_code(result)


@fuzz(200)
@given(scan=scans())
def test_valid_scans_parse(scan: str) -> None:
    result = parse_scan(scan)
    check_code(result)


@fuzz(500)
@given(data=st.data(), scan=scans())
def test_mutated_scans(data: st.DataObject, scan: str) -> None:
    mutated = mutate_text(data.draw, scan, SCAN_NOISE | st.characters(max_codepoint=0x2FFF))
    check_code(call(parse_scan, mutated))
    check_code(call(parse_drug_code, mutated))


@fuzz(30)
@given(data=st.data(), scan=scans())
def test_cli_qr_refuses_bad_scans_without_writing(data: st.DataObject, scan: str) -> None:
    """`medchain drugs qr --out FILE -- SCAN`: a refused scan is one line on stderr and no file."""
    mutated = mutate_text(data.draw, scan, SCAN_NOISE)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "code.png"
        expected = call(parse_drug_code, mutated)
        if isinstance(expected, MedchainError):
            with unchanged(Path(tmp)):
                line = rejected(run("drugs", "qr", f"--out={out}", "--", mutated))
            assert str(expected) in line
        else:
            result = run("drugs", "qr", f"--out={out}", "--", mutated)
            if result.exit_code == 0:
                assert out.is_file()
            else:  # the code is a GS1 code but cannot travel in a Digital Link (e.g. a '.' lot)
                rejected(result)
                assert not out.exists()


#: characters outside GS1 CSET 82 (GS and its pasted spellings are separators, not data)
NOT_CSET82 = st.characters(max_codepoint=0x2FFF).filter(lambda c: c not in CSET82 and c not in (GS, "\u241d"))


@fuzz(200)
@given(data=st.data(), code=drug_codes(), bad=NOT_CSET82)
def test_a_character_outside_cset82_inside_a_value_is_refused(
    data: st.DataObject, code: DrugCode, bad: str
) -> None:
    """Issue 12 item 12: a lot or serial with a character outside CSET 82 is refused in every form; it is
    never accepted as a different value (the bracketed form used to drop spaces: 'A B' became 'AB')."""
    lot = _no_parens(code.lot if code.lot and len(code.lot) >= 2 else "L1")
    assert lot is not None
    cut = data.draw(st.integers(1, len(lot) - 1))
    dirty = lot[:cut] + bad + lot[cut:]
    clean = DrugCode(code.gtin, lot, _no_parens(code.serial), code.expiry)
    form = data.draw(st.sampled_from(["hri", "raw", "digital-link"]))
    if form == "hri":
        scan = build_element_string(clean).replace(f"(10){lot}", f"(10){dirty}")
    elif form == "raw":
        scan = build_element_string(clean, hri=False).replace(f"10{lot}", f"10{dirty}", 1)
    else:  # the path built by hand: build_digital_link validates its input
        tail = build_digital_link(DrugCode(code.gtin, None, clean.serial, code.expiry)).split(code.gtin, 1)[1]
        scan = f"https://id.medchain.example/01/{code.gtin}/10/{quote(dirty, safe='')}{tail}"
    result = call(parse_scan, scan)
    assert isinstance(result, MedchainError), f"{scan!r} accepted as {result!r}"
    assert "\n" not in str(result)


# ---- regressions of findings (each was a crash or a wrong result before it was fixed) ----


@pytest.mark.parametrize("scan", ["]", " ]", "]\x1d", "]<GS>"])
def test_g1_lone_symbology_flag_is_an_input_error(scan: str) -> None:
    assert isinstance(call(parse_scan, scan), MedchainError)


@pytest.mark.parametrize(
    "scan",
    ["https://id.med]chain.example/01/09506000134352", "]d2https://[::1/01/09506000134352/21/1"],
)
def test_g2_unbalanced_brackets_in_a_digital_link_host_are_an_input_error(scan: str) -> None:
    assert isinstance(call(parse_scan, scan), MedchainError)
