"""QR codes carrying the GS1 Digital Link URI of a pack (DESIGN §6.7), single and per batch.

`save_qr` writes one QR (PNG or SVG by the file suffix); `write_labels` writes one label per serial of a
batch plus a ``labels.csv`` manifest (file, serial, element string, URI) and a ``labels.html`` print sheet.
Each label shows the Human Readable Interpretation under its QR, as GS1 labels print it (GS1 General
Specifications §4.15 and the GS1 HRI Implementation Guide: the element strings the symbol carries, each
Application Identifier in parentheses, e.g. ``(01) 09506000134352 (17) 271231 (10) LOT42 (21) SN0001``):
each label (PNG or SVG) draws it beneath the symbol; ``labels.html`` lays the labels out for printing.
`decode_png` reads a PNG back with zxing-cpp (an optional, test-time dependency) so a print run can be
checked before it ships.

The QR holds the URI exactly as `medchain.gs1.build_digital_link` writes it, in byte mode, error
correction level M (15 %; a fair default for printed cartons — pass ``error="q"`` for rough surfaces),
with the 4-module quiet zone the QR standard asks for.
"""

from __future__ import annotations

import csv
import html
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import segno

from medchain.errors import ConfigError, InputError
from medchain.gs1 import (
    AI_EXPIRY,
    AI_GTIN,
    AI_LOT,
    AI_SERIAL,
    DEFAULT_RESOLVER,
    DrugCode,
    build_digital_link,
    build_element_string,
    format_yymmdd,
)

__all__ = [
    "Label",
    "PngImage",
    "decode_png",
    "hri_text",
    "label_filename",
    "make_qr",
    "read_png",
    "read_serials",
    "save_qr",
    "write_labels",
]

FORMATS: Final = ("png", "svg")
MANIFEST: Final = "labels.csv"
SHEET: Final = "labels.html"
_SAFE: Final = re.compile(r"[A-Za-z0-9_.\-]")


@dataclass(frozen=True)
class Label:
    serial: str
    uri: str
    path: Path


def make_qr(data: str, *, error: str = "m") -> segno.QRCode:
    """A QR code (never a Micro QR) holding `data` byte for byte."""
    if not data:
        raise InputError("nothing to encode in the QR code")
    try:
        return segno.make_qr(data, error=error, boost_error=False, encoding="utf-8")
    except (ValueError, segno.DataOverflowError) as exc:
        raise InputError(f"cannot make a QR code: {exc}") from None


def save_qr(
    data: str | DrugCode,
    out: Path,
    *,
    resolver: str = DEFAULT_RESOLVER,
    scale: int = 8,
    border: int = 4,
    error: str = "m",
) -> Path:
    """Write a QR of `data` (a URI, or a `DrugCode` as its Digital Link) to a ``.png`` or ``.svg`` file."""
    uri = build_digital_link(data, resolver) if isinstance(data, DrugCode) else data
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(f"QR output must end in .png or .svg, got {out.name!r}")
    if scale < 1 or border < 0:
        raise InputError(f"bad QR geometry: scale {scale} (>= 1), border {border} (>= 0)")
    out.parent.mkdir(parents=True, exist_ok=True)
    qr = make_qr(uri, error=error)
    if fmt == "svg":
        qr.save(str(out), kind="svg", scale=scale, border=border, xmldecl=True, title=uri)
    else:
        qr.save(str(out), kind="png", scale=scale, border=border)
    return out


def hri_text(code: DrugCode) -> str:
    """The Human Readable Interpretation printed under the symbol: each element string as ``(AI) data``,
    in the order the code carries them (DESIGN §6.7: 01, 17, 10, 21), separated by spaces."""
    elements = [(AI_GTIN, code.gtin)]
    if code.expiry is not None:
        elements.append((AI_EXPIRY, format_yymmdd(code.expiry)))
    if code.lot is not None:
        elements.append((AI_LOT, code.lot))
    if code.serial is not None:
        elements.append((AI_SERIAL, code.serial))
    return " ".join(f"({ai}) {data}" for ai, data in elements)


def save_label_svg(
    code: DrugCode, uri: str, out: Path, *, scale: int = 8, border: int = 4, error: str = "m"
) -> Path:
    """One pack label as SVG: the QR of `uri` with the HRI of `code` in one line beneath it, stretched to the
    symbol's width (OCR-B is GS1's recommended font; a monospace fallback is named after it)."""
    if scale < 1 or border < 0:
        raise InputError(f"bad QR geometry: scale {scale} (>= 1), border {border} (>= 0)")
    qr = make_qr(uri, error=error)
    width, height = qr.symbol_size(scale=scale, border=border)
    text = hri_text(code)
    size = max(8.0, min(3.0 * scale, 1.9 * width / max(len(text), 1)))
    line = round(size * 1.6)
    symbol = qr.svg_inline(scale=scale, border=border, omitsize=False)
    inner = symbol.replace("<svg ", '<svg x="0" y="0" ', 1)
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + line}" '
        f'viewBox="0 0 {width} {height + line}">'
        f"<title>{html.escape(uri)}</title>"
        f'<rect width="{width}" height="{height + line}" fill="#fff"/>'
        f"{inner}"
        f'<text x="{width / 2:g}" y="{height + size * 0.9:g}" font-family="OCR-B, \'OCR B\', monospace" '
        f'font-size="{size:g}" text-anchor="middle" fill="#000" textLength="{width - 2 * scale}" '
        f'lengthAdjust="spacingAndGlyphs">{html.escape(text)}</text>'
        "</svg>\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def hri_lines(code: DrugCode, width: int, size_for: Callable[[str], int]) -> list[str]:
    """The HRI in one line when it fits `width` at the smallest legible size, else split in two lines between
    element strings (GTIN and expiry / lot and serial). `size_for(text)` is the text's width at that size."""
    text = hri_text(code)
    if size_for(text) <= width:
        return [text]
    parts = text.split(" (")
    half = (len(parts) + 1) // 2
    return [" (".join(parts[:half]), "(" + " (".join(parts[half:])]


def save_label_png(
    code: DrugCode, uri: str, out: Path, *, scale: int = 8, border: int = 4, error: str = "m"
) -> Path:
    """One pack label as PNG: the QR of `uri`, and the HRI of `code` beneath it in Pillow's built-in font
    (so the label looks the same everywhere), as large as fits the symbol's width. The HRI is also kept in
    the PNG's ``Description`` text chunk."""
    import io

    from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

    if scale < 1 or border < 0:
        raise InputError(f"bad QR geometry: scale {scale} (>= 1), border {border} (>= 0)")
    buffer = io.BytesIO()
    make_qr(uri, error=error).save(buffer, kind="png", scale=scale, border=border)
    symbol = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    width, height = symbol.size
    room = width - 2 * max(scale, 2)

    def font(size: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        return ImageFont.load_default(size=size)

    def text_width(text: str, size: float) -> int:
        left, _, right, _ = font(size).getbbox(text)
        return int(right - left)

    smallest = 9
    lines = hri_lines(code, room, lambda text: text_width(text, smallest))
    size = float(min(3 * scale, 28))
    while size > smallest and max(text_width(line, size) for line in lines) > room:
        size -= 0.5
    line_height = round(size * 1.35)
    label = Image.new("L", (width, height + line_height * len(lines) + max(scale, 4)), 255)
    label.paste(symbol, (0, 0))
    draw = ImageDraw.Draw(label)
    for number, line in enumerate(lines):
        draw.text((width / 2, height + number * line_height), line, fill=0, font=font(size), anchor="ma")
    info = PngImagePlugin.PngInfo()
    info.add_text("Description", hri_text(code))
    info.add_text("Comment", uri)
    out.parent.mkdir(parents=True, exist_ok=True)
    label.save(out, format="PNG", pnginfo=info, optimize=True)
    return out


def label_filename(serial: str, fmt: str = "png") -> str:
    """A file name for one serial that is safe everywhere and reversible.

    Letters, digits, ``_``, ``-`` and ``.`` stay; every other character becomes ``~XX`` (its hex code;
    ``~`` is outside GS1's character set 82, so it never occurs in a serial). A leading ``.`` is encoded
    too, so no label is a hidden file or ``..``.
    """
    safe = "".join(c if _SAFE.fullmatch(c) else f"~{ord(c):02X}" for c in serial)
    if safe.startswith("."):
        safe = "~2E" + safe[1:]
    return f"{safe}.{fmt}"


def read_serials(path: Path) -> list[str]:
    """Serial numbers from a text file: one per line; blank lines and ``#`` comments are skipped
    (neither a space nor ``#`` can be part of a GS1 serial)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read serials from {path}: {exc}") from None
    serials = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [s for s in serials if s]


def write_labels(
    batch: DrugCode,
    serials: Sequence[str],
    out_dir: Path,
    *,
    resolver: str = DEFAULT_RESOLVER,
    fmt: str = "png",
    scale: int = 8,
    error: str = "m",
) -> list[Label]:
    """One QR per serial of `batch` (GTIN + lot [+ expiry]) in `out_dir`, plus ``labels.csv``.

    Every serial is validated first (length, character set, duplicates, file-name clashes on
    case-insensitive file systems), so a bad list writes nothing.
    """
    if fmt not in FORMATS:
        raise InputError(f"label format must be png or svg, got {fmt!r}")
    if batch.lot is None:
        raise InputError("a batch needs a lot (AI 10) to print pack labels")
    if batch.serial is not None:
        raise InputError(f"the batch code already carries a serial ({batch.serial!r}); give the batch only")
    if not serials:
        raise InputError("no serials given")
    codes = _pack_codes(batch, serials)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels: list[Label] = []
    for code in codes:
        assert code.serial is not None
        path = out_dir / label_filename(code.serial, fmt)
        uri = build_digital_link(code, resolver)
        if fmt == "svg":
            save_label_svg(code, uri, path, scale=scale, error=error)
        else:
            save_label_png(code, uri, path, scale=scale, error=error)
        labels.append(Label(code.serial, uri, path))
    _write_manifest(out_dir / MANIFEST, labels, codes)
    _write_sheet(out_dir / SHEET, labels, codes, batch)
    return labels


def _pack_codes(batch: DrugCode, serials: Iterable[str]) -> list[DrugCode]:
    codes: list[DrugCode] = []
    seen: dict[str, str] = {}
    for line, serial in enumerate(serials, start=1):
        try:
            code = replace(batch, serial=serial, source="label")
        except InputError as exc:
            raise InputError(f"serial #{line}: {exc}") from None
        key = label_filename(serial).casefold()
        if key in seen:
            what = "duplicate serial" if seen[key] == serial else "serials differ only by letter case"
            raise InputError(f"{what}: {seen[key]!r} and {serial!r} (serial #{line})")
        seen[key] = serial
        codes.append(code)
    return codes


def _write_manifest(path: Path, labels: list[Label], codes: list[DrugCode]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "serial", "element_string", "uri"])
        for label, code in zip(labels, codes, strict=True):
            writer.writerow([label.path.name, label.serial, build_element_string(code), label.uri])


def _write_sheet(path: Path, labels: list[Label], codes: list[DrugCode], batch: DrugCode) -> None:
    """A print sheet of every label (each image carries its HRI; the alt text is the HRI too). Relative links:
    keep it beside the images."""
    cells = "".join(
        f'<img src="{html.escape(label.path.name)}" alt="{html.escape(hri_text(code))}" '
        f'title="{html.escape(label.uri)}">\n'
        for label, code in zip(labels, codes, strict=True)
    )
    title = html.escape(f"Pack labels {hri_text(batch)}")
    path.write_text(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>"
        "body{margin:8mm}img{display:inline-block;width:32mm;height:auto;margin:0 4mm 6mm 0;"
        "vertical-align:top;break-inside:avoid}"
        f"</style></head><body>\n{cells}</body></html>\n",
        encoding="utf-8",
    )


# ---------------------------------------------------------------------------------------------------
# Reading PNGs back (tests, print checks, screenshot checks): a small decoder, no Pillow needed.


@dataclass(frozen=True)
class PngImage:
    width: int
    height: int
    channels: int  # 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; 8 bits each
    pixels: bytes  # row-major, no padding

    def pixel(self, x: int, y: int) -> tuple[int, ...]:
        start = (y * self.width + x) * self.channels
        return tuple(self.pixels[start : start + self.channels])

    def rgb(self, x: int, y: int) -> tuple[int, int, int]:
        px = self.pixel(x, y)
        return (px[0], px[0], px[0]) if self.channels < 3 else (px[0], px[1], px[2])

    def grey(self) -> bytes:
        """8-bit luminance, row-major (what zxing-cpp takes)."""
        if self.channels == 1:
            return self.pixels
        if self.channels == 2:
            return self.pixels[::2]
        step, px = self.channels, self.pixels
        return bytes(
            (299 * px[i] + 587 * px[i + 1] + 114 * px[i + 2]) // 1000 for i in range(0, len(px), step)
        )


_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_CHANNELS: Final = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def read_png(path: Path) -> PngImage:
    """Decode a non-interlaced PNG (any colour type, 1–16-bit) to 8-bit pixels."""
    data = path.read_bytes()
    if not data.startswith(_PNG_SIGNATURE):
        raise InputError(f"{path} is not a PNG file")
    chunks = _png_chunks(data)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"][0])
    if interlace or colour not in _CHANNELS:
        raise InputError(f"{path}: unsupported PNG (colour type {colour}, interlace {interlace})")
    raw = zlib.decompress(b"".join(chunks.get(b"IDAT", [])))
    channels = _CHANNELS[colour]
    rows = _unfilter(raw, width, height, channels, depth)
    samples = _unpack_samples(rows, width, channels, depth, scale=colour != 3)
    if colour == 3:
        return _expand_palette(samples, width, height, chunks[b"PLTE"][0], chunks.get(b"tRNS", [b""])[0])
    return PngImage(width, height, channels, samples)


def _png_chunks(data: bytes) -> dict[bytes, list[bytes]]:
    chunks: dict[bytes, list[bytes]] = {}
    offset = len(_PNG_SIGNATURE)
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunks.setdefault(kind, []).append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return chunks


def _unfilter(raw: bytes, width: int, height: int, channels: int, depth: int) -> list[bytes]:
    bpp = max(1, channels * depth // 8)
    stride = (width * channels * depth + 7) // 8
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = row[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            row[i] = (row[i] + _predict(kind, left, up, corner)) & 0xFF
        rows.append(bytes(row))
        previous = row
    return rows


def _predict(kind: int, left: int, up: int, corner: int) -> int:
    if kind == 0:
        return 0
    if kind == 1:
        return left
    if kind == 2:
        return up
    if kind == 3:
        return (left + up) // 2
    if kind == 4:
        p = left + up - corner
        pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
        return left if pa <= pb and pa <= pc else up if pb <= pc else corner
    raise InputError(f"corrupt PNG: unknown filter type {kind}")


def _unpack_samples(rows: list[bytes], width: int, channels: int, depth: int, *, scale: bool) -> bytes:
    if depth == 8:
        return b"".join(rows)
    if depth == 16:
        return b"".join(row[::2] for row in rows)
    count, out = width * channels, bytearray()
    peak = (1 << depth) - 1
    for row in rows:
        bits = int.from_bytes(row, "big")
        total = len(row) * 8
        for i in range(count):
            value = (bits >> (total - (i + 1) * depth)) & peak
            out.append(value * 255 // peak if scale else value)
    return bytes(out)


def _expand_palette(indexes: bytes, width: int, height: int, palette: bytes, alpha: bytes) -> PngImage:
    channels = 4 if alpha else 3
    out = bytearray()
    for index in indexes:
        out += palette[index * 3 : index * 3 + 3]
        if alpha:
            out.append(alpha[index] if index < len(alpha) else 255)
    return PngImage(width, height, channels, bytes(out))


def decode_png(path: Path) -> list[str]:
    """Every QR/barcode text zxing-cpp finds in a PNG (needs the ``zxing-cpp`` package)."""
    try:
        import zxingcpp
    except ImportError:
        raise ConfigError("decoding QR codes needs zxing-cpp (pip install zxing-cpp)") from None
    image = read_png(path)
    view = memoryview(image.grey()).cast("B", (image.height, image.width))
    return [result.text for result in zxingcpp.read_barcodes(view)]
