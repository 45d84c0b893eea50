"""medchain.qr: QR codes (PNG/SVG) carrying the exact Digital Link URI, decoded back with zxing-cpp; batch
labels; the small PNG reader; the `qr` / `labels` CLI commands. Pure Python (no chain)."""

from __future__ import annotations

import csv
import datetime as dt
import re
import struct
import sys
import zlib
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from medchain.cli import labels as labels_cli
from medchain.errors import ConfigError, InputError
from medchain.gs1 import DrugCode, build_digital_link, parse_scan
from medchain.qr import (
    decode_png,
    hri_text,
    label_filename,
    make_qr,
    read_png,
    read_serials,
    save_qr,
    write_labels,
)

pytest.importorskip("zxingcpp", reason="zxing-cpp decodes the QR codes back (requirements/extras.txt)")

GTIN = "09506000134352"
BATCH = DrugCode(GTIN, lot="LOT/42", expiry=dt.date(2027, 6, 30))
PACK = DrugCode(GTIN, lot="LOT/42", serial="SN%0001", expiry=dt.date(2027, 6, 30))
URI = "https://id.medchain.example/01/09506000134352/10/LOT%2F42/21/SN%250001?17=270630"


def test_png_qr_decodes_to_the_exact_digital_link(tmp_path):
    path = save_qr(PACK, tmp_path / "pack.png")
    assert decode_png(path) == [URI]


def test_png_qr_with_configured_resolver(tmp_path):
    uri = build_digital_link(PACK, "verify.pharma.example.cn")
    path = save_qr(uri, tmp_path / "pack.png", scale=4, error="h")
    assert decode_png(path) == [uri]


def test_decoded_uri_parses_back_to_the_same_pack(tmp_path):
    (text,) = decode_png(save_qr(PACK, tmp_path / "pack.png"))
    assert parse_scan(text) == DrugCode(**{**PACK.__dict__, "source": "digital-link"})


def test_svg_qr_is_well_formed_and_sized_from_the_symbol(tmp_path):
    path = save_qr(PACK, tmp_path / "pack.svg", scale=5, border=4)
    root = ElementTree.parse(path).getroot()
    modules = make_qr(URI).symbol_size(scale=1, border=4)[0]
    assert root.tag.endswith("svg")
    assert int(root.get("width")) == modules * 5
    assert root.find("{http://www.w3.org/2000/svg}title").text == URI


def test_save_qr_rejects_other_formats(tmp_path):
    with pytest.raises(InputError, match=r"must end in \.png or \.svg"):
        save_qr(PACK, tmp_path / "pack.jpg")


def test_write_labels_one_decodable_png_per_serial(tmp_path):
    serials = ["SN0001", "A/B", ".hidden", "x*y"]
    written = write_labels(BATCH, serials, tmp_path / "labels")
    assert [label.serial for label in written] == serials
    for label in written:
        expected = build_digital_link(DrugCode(GTIN, "LOT/42", label.serial, BATCH.expiry))
        assert label.uri == expected
        assert decode_png(label.path) == [expected]
    names = sorted(p.name for p in (tmp_path / "labels").iterdir())
    assert names == sorted(
        ["SN0001.png", "A~2FB.png", "~2Ehidden.png", "x~2Ay.png", "labels.csv", "labels.html"]
    )


def test_write_labels_manifest(tmp_path):
    write_labels(BATCH, ["S1", "S2"], tmp_path)
    with (tmp_path / "labels.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[1] == {
        "file": "S2.png",
        "serial": "S2",
        "element_string": "(01)09506000134352(17)270630(10)LOT/42(21)S2",
        "uri": "https://id.medchain.example/01/09506000134352/10/LOT%2F42/21/S2?17=270630",
    }


def test_write_labels_svg(tmp_path):
    written = write_labels(BATCH, ["S1"], tmp_path, fmt="svg")
    assert written[0].path.name == "S1.svg"
    ElementTree.parse(written[0].path)


def test_hri_text_is_each_element_string_with_its_ai_in_parentheses():
    assert hri_text(PACK) == "(01) 09506000134352 (17) 270630 (10) LOT/42 (21) SN%0001"
    assert hri_text(DrugCode(GTIN, lot="L1")) == "(01) 09506000134352 (10) L1"
    pack = DrugCode("09506000134352", lot="LOT42", serial="SN0001", expiry=dt.date(2027, 12, 31))
    assert hri_text(pack) == "(01) 09506000134352 (17) 271231 (10) LOT42 (21) SN0001"


def test_svg_label_prints_the_hri_beneath_the_symbol(tmp_path):
    written = write_labels(BATCH, ["A&B<1>"], tmp_path, fmt="svg", scale=4)
    ns = "{http://www.w3.org/2000/svg}"
    root = ElementTree.parse(written[0].path).getroot()
    symbol = root.find(f"{ns}svg")
    text = root.find(f"{ns}text")
    assert symbol is not None and text is not None
    assert text.text == "(01) 09506000134352 (17) 270630 (10) LOT/42 (21) A&B<1>"  # escaped in the file
    side = int(symbol.get("height"))
    assert side == make_qr(written[0].uri).symbol_size(scale=4, border=4)[1]
    assert float(text.get("y")) > side and int(root.get("height")) > side  # beneath, inside the label
    assert int(text.get("textLength")) <= int(root.get("width"))  # fits the label's width
    assert root.find(f"{ns}title").text == written[0].uri


def test_png_label_prints_the_hri_beneath_the_symbol_and_still_scans(tmp_path):
    written = write_labels(BATCH, ["S1"], tmp_path, scale=6)
    label = written[0]
    assert decode_png(label.path) == [label.uri]
    side = make_qr(label.uri).symbol_size(scale=6, border=4)[1]
    image = read_png(label.path)
    assert image.height > side + 10  # a text band beneath the symbol
    band = [image.rgb(x, y) for y in range(side, image.height) for x in range(image.width)]
    dark = sum(1 for pixel in band if pixel[0] < 128)
    assert 0.02 < dark / len(band) < 0.5  # ink, as text has, not an empty or black band
    chunks = {
        bytes(body).split(b"\0", 1)[0]: bytes(body).split(b"\0", 1)[1].decode("latin-1")
        for body in _text_chunks(label.path)
    }
    assert chunks[b"Description"] == "(01) 09506000134352 (17) 270630 (10) LOT/42 (21) S1"
    assert chunks[b"Comment"] == label.uri


def test_png_label_of_a_long_lot_and_serial_wraps_in_two_lines(tmp_path):
    batch = DrugCode(GTIN, lot="L" * 20, expiry=dt.date(2027, 6, 30))
    short = write_labels(BATCH, ["S1"], tmp_path / "a")[0]
    long = write_labels(batch, ["S" * 20], tmp_path / "b")[0]
    assert decode_png(long.path) == [long.uri]
    assert read_png(long.path).height > read_png(short.path).height  # a second line of text


def test_label_sheet_lays_out_every_label_with_its_hri(tmp_path):
    write_labels(BATCH, ["S1", "S2"], tmp_path)
    sheet = (tmp_path / "labels.html").read_text(encoding="utf-8")
    for serial in ("S1", "S2"):
        assert (
            f'<img src="{serial}.png" alt="(01) 09506000134352 (17) 270630 (10) LOT/42 (21) {serial}"'
            in sheet
        )


def _text_chunks(path):
    data = path.read_bytes()[8:]
    while data:
        length, kind = struct.unpack(">I4s", data[:8])
        if kind == b"tEXt":
            yield data[8 : 8 + length]
        data = data[12 + length :]


@pytest.mark.parametrize(
    ("serials", "message"),
    [
        (["S1", "S2", "S1"], "duplicate serial: 'S1' and 'S1'"),
        (["abc", "ABC"], "serials differ only by letter case"),
        (["S1", "S" * 21], "serial #2: serial too long"),
        (["S1", "S 2"], "serial #2: serial 'S 2' contains ' '"),
        ([], "no serials given"),
    ],
)
def test_write_labels_bad_serials_write_nothing(tmp_path, serials, message):
    with pytest.raises(InputError, match=re.escape(message)):
        write_labels(BATCH, serials, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_write_labels_needs_a_batch_without_serial(tmp_path):
    with pytest.raises(InputError, match="already carries a serial"):
        write_labels(PACK, ["S1"], tmp_path)
    with pytest.raises(InputError, match="needs a lot"):
        write_labels(DrugCode(GTIN), ["S1"], tmp_path)


@pytest.mark.parametrize("serial", ["..", ".", "a/../b", "C:\\x", "x*y?", "%41", "~"])
def test_label_filename_is_safe_and_reversible(serial):
    name = label_filename(serial)
    assert re.fullmatch(r"[A-Za-z0-9_.~\-]+\.png", name)
    assert not name.startswith(".")
    stem = name.removesuffix(".png")
    assert re.sub(r"~([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), stem) == serial


def test_read_serials_skips_blanks_and_comments(tmp_path):
    path = tmp_path / "serials.txt"
    path.write_text("# batch L42\nS1\n\n  S2  # second\nA/B\n", encoding="utf-8")
    assert read_serials(path) == ["S1", "S2", "A/B"]


def test_decode_png_without_zxing_is_a_config_error(tmp_path, monkeypatch):
    path = save_qr(PACK, tmp_path / "pack.png")
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    with pytest.raises(ConfigError, match="zxing-cpp"):
        decode_png(path)


# ---- the PNG reader against every filter type and colour type ---------------------------------------


def _png(width: int, height: int, colour: int, rows: list[bytes], filters: list[int], bpp: int) -> bytes:
    """A minimal PNG encoder for the test: applies the given filter type per row."""
    raw, previous = bytearray(), bytes(len(rows[0]))
    for row, kind in zip(rows, filters, strict=True):
        out = bytearray()
        for i, value in enumerate(row):
            left = row[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            else:
                pred = [0, left, up, (left + up) // 2][kind]
            out.append((value - pred) & 0xFF)
        raw += bytes([kind]) + out
        previous = row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("colour", "channels"), [(0, 1), (2, 3), (6, 4)])
def test_read_png_undoes_every_filter(tmp_path, colour, channels):
    width, height = 5, 5
    rows = [
        bytes((x * 37 + y * 91 + c * 13) % 256 for x in range(width) for c in range(channels))
        for y in range(height)
    ]
    path = tmp_path / "t.png"
    path.write_bytes(_png(width, height, colour, rows, [0, 1, 2, 3, 4], channels))
    image = read_png(path)
    assert (image.width, image.height, image.channels) == (width, height, channels)
    assert image.pixels == b"".join(rows)


def test_read_png_of_segno_output_is_black_and_white(tmp_path):
    image = read_png(save_qr(PACK, tmp_path / "pack.png", scale=2, border=4))
    assert image.grey()[0] == 255  # quiet zone
    assert set(image.grey()) == {0, 255}
    assert image.rgb(8, 8) == (0, 0, 0)  # top-left finder pattern


# ---- CLI --------------------------------------------------------------------------------------------


def test_cli_qr_writes_png_for_any_scan_form(tmp_path):
    out = tmp_path / "pack.png"
    result = CliRunner().invoke(
        labels_cli.app,
        ["qr", "]d201095060001343521727063010LOT/42<GS>21SN%0001", "--out", str(out), "--json"],
    )
    assert result.exit_code == 0, result.output
    assert URI in result.output
    assert decode_png(out) == [URI]


def test_cli_qr_refuses_a_space_in_the_lot_and_writes_nothing(tmp_path):
    """Issue 12 item 12: `drugs qr '(01)…(10)A B(21)S'` encoded lot 'AB'; now one line and no file."""
    out = tmp_path / "pack.png"
    result = CliRunner().invoke(
        labels_cli.app, ["qr", "(01)06901234567892(17)271231(10)A B(21)S", "--out", str(out)]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)
    assert str(result.exception) == "lot 'A B' contains ' ', not in the GS1 character set 82"
    assert not out.exists()


def test_cli_labels_with_expiry_option_and_verify(tmp_path):
    serials = tmp_path / "serials.txt"
    serials.write_text("S1\nS2\nS3\n", encoding="utf-8")
    result = CliRunner().invoke(
        labels_cli.app,
        [
            "labels",
            "(01)09506000134352(10)LOT/42",
            "--serials",
            str(serials),
            "--out",
            str(tmp_path / "o"),
            "--expiry",
            "270630",
            "--verify",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"labels": 3' in result.output
    assert decode_png(tmp_path / "o" / "S3.png") == [URI.replace("SN%250001", "S3")]


def test_cli_labels_without_expiry_fails_with_one_line(tmp_path):
    serials = tmp_path / "serials.txt"
    serials.write_text("S1\n", encoding="utf-8")
    result = CliRunner().invoke(
        labels_cli.app,
        ["labels", "(01)09506000134352(10)L1", "--serials", str(serials), "--out", str(tmp_path)],
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)
    assert "has no expiry" in str(result.exception)
