"""medchain.gs1: every scan form DESIGN §6.7 and issue #6 name, the exact Digital Link format, and one-line
errors for malformed scans. Pure Python (no chain)."""

from __future__ import annotations

import datetime as dt

import pytest

from medchain.errors import InputError
from medchain.gs1 import (
    ChinaTraceCode,
    DrugCode,
    build_digital_link,
    build_element_string,
    gtin_check_digit,
    parse_drug_code,
    parse_scan,
)

GTIN = "09506000134352"  # GS1's own example GTIN (Digital Link and General Specifications examples)
PACK = DrugCode(GTIN, lot="ABC123", serial="12345", expiry=dt.date(2027, 6, 30))


# ---- the four GS1 input forms -------------------------------------------------------------------


def test_parse_bracketed_hri_in_design_order():
    code = parse_scan("(01)09506000134352(17)270630(10)ABC123(21)12345")
    assert code == DrugCode(GTIN, "ABC123", "12345", dt.date(2027, 6, 30), source="hri")


def test_parse_hri_in_any_ai_order_with_printed_spaces():
    code = parse_scan("(01) 09506000134352 (10) ABC123 (21) 12345 (17) 270630")
    assert isinstance(code, DrugCode)
    assert (code.gtin, code.lot, code.serial, code.expiry) == (GTIN, "ABC123", "12345", dt.date(2027, 6, 30))


def test_parse_raw_gs1_datamatrix_scan_with_symbology_and_gs():
    code = parse_scan("]d201095060001343521727063010ABC123\x1d2112345")
    assert code == DrugCode(GTIN, "ABC123", "12345", dt.date(2027, 6, 30), source="raw", symbology="]d2")


@pytest.mark.parametrize("separator", ["\x1d", "<GS>", "\u241d", "\\x1d"])
def test_parse_raw_gs1_qr_scan_accepts_separator_spellings(separator):
    code = parse_scan(f"]Q3010950600013435210ABC123{separator}2112345{separator}17270630")
    assert isinstance(code, DrugCode)
    assert (code.lot, code.serial, code.expiry, code.symbology) == (
        "ABC123",
        "12345",
        dt.date(2027, 6, 30),
        "]Q3",
    )


def test_parse_raw_scan_without_symbology_prefix_with_leading_fnc1():
    code = parse_scan("\x1d010950600013435210ABC123\x1d2112345")
    assert isinstance(code, DrugCode)
    assert (code.lot, code.serial, code.source, code.symbology) == ("ABC123", "12345", "raw", None)


def test_parse_plain_element_string_real_world_example():
    # biip's documented real product: GTIN + best-before (15) + lot; (15) is not an expiry date (17).
    code = parse_scan("010703206980498815210526100329")
    assert code == DrugCode("07032069804988", lot="0329", serial=None, expiry=None, source="element-string")


def test_parse_element_string_with_day_00_expiry_means_last_day_of_month():
    code = parse_scan("(01)09506000134352(17)280200(10)L1")
    assert isinstance(code, DrugCode)
    assert code.expiry == dt.date(2028, 2, 29)


def test_parse_digital_link_design_format():
    code = parse_scan("https://id.medchain.example/01/09506000134352/10/ABC123/21/12345?17=270630")
    assert code == DrugCode(GTIN, "ABC123", "12345", dt.date(2027, 6, 30), source="digital-link")


@pytest.mark.parametrize(
    "uri",
    [
        "https://id.gs1.org/01/9506000134352/10/ABC123/21/12345?17=270630",  # GTIN-13, zero-padded to 14
        "https://brand.example.com/products/01/09506000134352/10/ABC123/21/12345?17=270630",  # path prefix
        "HTTPS://ID.GS1.ORG/01/09506000134352/10/ABC123/21/12345?17=270630&linkType=gs1:pip",  # extra param
        "]Q1https://id.gs1.org/01/09506000134352/10/ABC123/21/12345?17=270630",  # scanned QR with identifier
    ],
)
def test_parse_digital_link_variants(uri):
    code = parse_scan(uri)
    assert isinstance(code, DrugCode)
    assert (code.gtin, code.lot, code.serial, code.expiry) == (GTIN, "ABC123", "12345", dt.date(2027, 6, 30))
    assert code.source == "digital-link"


def test_parse_digital_link_decodes_percent_encoded_values():
    code = parse_scan("https://id.gs1.org/01/09506000134352/10/AB%2FC%25/21/x%2Ay%27")
    assert isinstance(code, DrugCode)
    assert (code.lot, code.serial) == ("AB/C%", "x*y'")


def test_parse_product_only_code_has_no_lot_or_serial():
    code = parse_drug_code("https://id.gs1.org/01/09506000134352")
    assert (code.lot, code.serial, code.is_pack) == (None, None, False)


# ---- China's 20-digit drug trace code -------------------------------------------------------------


def test_parse_china_trace_code():
    code = parse_scan("81234567890123456789")
    assert code == ChinaTraceCode("81234567890123456789")
    assert (code.drug_id, code.serial, code.check, code.source) == (
        "8123456",
        "789012345",
        "6789",
        "cn-trace-code",
    )


def test_parse_china_trace_code_printed_in_groups():
    assert parse_scan("8123 4567 8901 2345 6789") == ChinaTraceCode("81234567890123456789")


def test_twenty_digits_that_read_as_gs1_are_gs1_unless_plain_code128():
    # (01)09506000134352(10)12 is also 20 digits: GS1 wins; ]C0 (plain Code 128) forces the trace code.
    assert isinstance(parse_scan("01095060001343521012"), DrugCode)
    assert parse_scan("]C001095060001343521012") == ChinaTraceCode("01095060001343521012", symbology="]C0")


def test_parse_drug_code_rejects_china_trace_code():
    with pytest.raises(InputError, match=r"China drug trace code \(drug id 8123456\)"):
        parse_drug_code("81234567890123456789")


def test_china_trace_code_validates_format_only():
    with pytest.raises(InputError, match="20 digits"):
        ChinaTraceCode("8123456789012345678X")


# ---- building: the exact DESIGN §6.7 format --------------------------------------------------------


def test_build_digital_link_is_exactly_the_design_format():
    assert (
        build_digital_link(PACK)
        == "https://id.medchain.example/01/09506000134352/10/ABC123/21/12345?17=270630"
    )


def test_build_digital_link_with_configured_resolver():
    assert build_digital_link(PACK, "verify.pharma.example.cn") == (
        "https://verify.pharma.example.cn/01/09506000134352/10/ABC123/21/12345?17=270630"
    )
    assert build_digital_link(PACK, "http://127.0.0.1:8080/") == (
        "http://127.0.0.1:8080/01/09506000134352/10/ABC123/21/12345?17=270630"
    )


def test_build_digital_link_percent_encodes_lot_and_serial():
    code = DrugCode(GTIN, lot="AB/C%1", serial="x*y'(z)&=?", expiry=dt.date(2027, 6, 30))
    assert build_digital_link(code) == (
        "https://id.medchain.example/01/09506000134352/10/AB%2FC%251/21/x%2Ay%27%28z%29%26%3D%3F?17=270630"
    )


def test_build_digital_link_leaves_out_absent_parts():
    assert (
        build_digital_link(DrugCode(GTIN, lot="L1")) == "https://id.medchain.example/01/09506000134352/10/L1"
    )


@pytest.mark.parametrize(
    "code",
    [
        PACK,
        DrugCode(GTIN, lot="AB/C%1", serial="!\"%&'*+,-./:;<=>?_", expiry=dt.date(2030, 1, 1)),
        DrugCode("07032069804988", lot="L" * 20, serial="9" * 20, expiry=dt.date(2026, 12, 31)),
        DrugCode("00614141123452", lot="0329", serial="SN-01"),
    ],
)
def test_round_trip_every_form(code):
    assert parse_scan(build_digital_link(code)) == DrugCode(**{**code.__dict__, "source": "digital-link"})
    assert parse_scan(build_element_string(code)) == DrugCode(**{**code.__dict__, "source": "hri"})
    assert parse_scan(build_element_string(code, hri=False)) == DrugCode(**{**code.__dict__, "source": "raw"})


def test_build_element_string_in_design_order():
    assert build_element_string(PACK) == "(01)09506000134352(17)270630(10)ABC123(21)12345"
    assert PACK.hri() == build_element_string(PACK)


def test_build_raw_element_string_puts_gs_after_variable_length_fields_only():
    assert build_element_string(PACK, hri=False) == "01095060001343521727063010ABC123\x1d2112345"
    no_serial = DrugCode(GTIN, lot="ABC123", expiry=dt.date(2027, 6, 30))
    assert build_element_string(no_serial, hri=False) == "01095060001343521727063010ABC123"


def test_build_refuses_dot_segment_serial():
    with pytest.raises(InputError, match="dot segment"):
        build_digital_link(DrugCode(GTIN, lot="L", serial=".."))


@pytest.mark.parametrize("resolver", ["", "id.example.com?x=1", "bad host", "ftp://x/"])
def test_build_rejects_bad_resolver(resolver):
    with pytest.raises(InputError, match="bad resolver"):
        build_digital_link(PACK, resolver)


def test_gtin_check_digit():
    assert gtin_check_digit("0950600013435") == 2


# ---- malformed scans: one clear line each -----------------------------------------------------------


@pytest.mark.parametrize(
    ("scan", "message"),
    [
        (
            "(01)09506000134353(17)270630(10)ABC123(21)12345",
            "bad GTIN check digit in 09506000134353: expected 2, got 3",
        ),
        ("https://id.gs1.org/01/09506000134353/10/A/21/B", "bad GTIN check digit"),
        ("]d2010950600013435310A\x1d21B", "bad GTIN check digit"),
        ("(01)09506000134352(10)ABCDEFGHIJKLMNOPQRSTU(21)1", "lot too long: 21 characters (max 20)"),
        (
            "https://id.gs1.org/01/09506000134352/10/A/21/123456789012345678901",
            "serial too long: 21 characters",
        ),
        ("(01)09506000134352(999)1", "unknown GS1 AI (999)"),
        ("(01)09506000134352(17)271345(10)A", "bad expiry date '271345'"),
        (
            "https://id.gs1.org/01/09506000134352/10/A/21/B?17=27063",
            "bad expiry date '27063': expected YYMMDD",
        ),
        ("(01)09506000134352(10)(21)1", "empty lot (AI 10)"),
        ("(01)09506000134352(10)Lé", "lot 'Lé' contains 'é', not in the GS1 character set 82"),
        ("https://id.gs1.org/01/09506000134352/10/A/21/S%201", "serial 'S 1' contains ' '"),
        ("(10)ABC123(21)12345", "no GTIN (AI 01) in the scan"),
        ("(01)09506000134352(10)A(10)B", "AI (10) appears twice with different values"),
        ("(01)0950600013435(10)A", "GTIN must be 14 digits"),
        ("", "empty scan"),
        ("hello world", "unrecognised scan"),
        ("https://id.gs1.org/gtin/09506000134352/lot/ABC", "no /01/ in the path"),
        ("https://id.gs1.org/01/09506000134352/10", "AI without a value"),
        ("https://id.gs1.org/01/09506000134352/99/A", "unexpected AI '99' in the Digital Link path"),
        ("https://id.gs1.org/01/09506000134352/10/A%FF", "bad percent-encoding"),
        ("]%1010950600013435210A", "unknown symbology identifier"),
        ("010950600013435210ABCDEFGHIJKLMNOPQRSTUVW", "longer than 20 characters, or a missing GS separator"),
        ("812345678901234567890", "not a China drug trace code (20 digits)"),
    ],
)
def test_malformed_scan_raises_one_line_input_error(scan, message):
    with pytest.raises(InputError) as info:
        parse_scan(scan)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


# Issue 12 item 12: a character outside GS1 AI encodable character set 82 inside a value is refused in
# every input form; before, the bracketed form dropped spaces and encoded lot 'A B' as 'AB'.
@pytest.mark.parametrize(
    ("scan", "message"),
    [
        (
            "(01)06901234567892(17)271231(10)A B(21)S",
            "lot 'A B' contains ' ', not in the GS1 character set 82",
        ),
        ("(01)06901234567892(10)A\tB", "lot 'A\\tB' contains '\\t', not in the GS1 character set 82"),
        ("(01)06901234567892(10)AB(21)S 1", "serial 'S 1' contains ' ', not in the GS1 character set 82"),
        ("(01)06901234567892(10)A\u00a0B", "contains '\\xa0', not in the GS1 character set 82"),
        ("(01)0690123456 7892(10)AB", "GTIN must be 14 digits, got '0690123456 7892'"),
        ("]d201069012345678921727123110A B\x1d21S", "contains ' ', not in the GS1 character set 82"),
        ("01069012345678921727123110A B<GS>21S", "contains ' ', not in the GS1 character set 82"),
        ("https://id.gs1.org/01/06901234567892/10/A%20B/21/S", "lot 'A B' contains ' '"),
        ("https://id.gs1.org/01/06901234567892/10/A B/21/S", "lot 'A B' contains ' '"),
        ("https://id.gs1.org/01/06901234567892/10/A#B/21/S", "'#' in a Digital Link URI"),
        ("https://id.gs1.org/01/06901234567892/10/A?B/21/S", "query item 'B/21/S' is not key=value"),
    ],
)
def test_character_outside_cset82_is_refused_in_every_form(scan, message):
    with pytest.raises(InputError) as info:
        parse_scan(scan)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_drug_code_validates_on_construction():
    with pytest.raises(InputError, match="bad GTIN check digit"):
        DrugCode("09506000134353")
    with pytest.raises(InputError, match="serial too long"):
        DrugCode(GTIN, lot="L", serial="S" * 21)


def test_non_text_scan_is_an_input_error():
    with pytest.raises(InputError, match="scan must be text"):
        parse_scan(b"0109506000134352")  # type: ignore[arg-type]
