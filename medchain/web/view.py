"""What the consumer page says about one scanned pack: the banner state and the facts, in zh + en.

Pure functions over `medchain.drugs.DrugStatus` (duck-typed: any object with its fields works), so
the wording and the state precedence are tested without a web server.

Banner precedence (the first that applies wins; the others become secondary alerts):
not found (no such batch, or the batch's serial tree was read and the serial is not in it) > recalled >
serial not in batch (an explicit proof failed) > expired > dispensed with duplicate scans > dispensed >
unchecked (the batch's serial tree could not be read: the page says so and where it looked) >
genuine (serial proven) > registered (batch on chain, serial not individually proven).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final

from medchain.gs1 import DrugCode
from medchain.timefmt import local

# state -> tone; the tone picks the banner colour (see static/verify.css)
STATES: Final = {
    "not_found": "danger",
    "recalled": "danger",
    "not_genuine": "danger",
    "expired": "danger",
    "duplicate": "warn",
    "dispensed": "info",
    "unchecked": "warn",
    "genuine": "ok",
    "registered": "ok",
}

# Banner colours (CSS background of .banner.<tone>); the screenshot tests sample them.
TONE_RGB: Final = {
    "ok": (0x1A, 0x7F, 0x37),
    "info": (0x0B, 0x5C, 0xAD),
    "warn": (0xB3, 0x59, 0x00),
    "danger": (0xB4, 0x23, 0x18),
}

HOP_KINDS: Final = {
    "commission": ("生产赋码", "Commissioned"),
    "ship": ("发货", "Shipped"),
    "receive": ("收货", "Received"),
    "discrepancy": ("数量差异", "Quantity discrepancy"),
    "dispense": ("售出", "Dispensed"),
    "duplicate": ("重复扫码", "Duplicate sale scan"),
    "recall": ("召回", "Recalled"),
}


@dataclass(frozen=True)
class Text:
    zh: str
    en: str


@dataclass(frozen=True)
class Alert:
    tone: str
    title: Text
    detail: Text


@dataclass(frozen=True)
class Hop:
    kind_id: str  # "commission", "ship", ... (CSS class); "other" for kinds this page does not know
    kind: Text
    parties: str  # "A → B" (names, else short addresses)
    quantity: int | None
    when: str
    tx_hash: str
    block: int | None
    epcis_hash: str | None


@dataclass(frozen=True)
class PageView:
    state: str
    banner: Alert
    alerts: list[Alert] = field(default_factory=list)
    facts: list[tuple[Text, str]] = field(
        default_factory=list
    )  # product + batch data to compare with the box
    journey: list[Hop] = field(default_factory=list)
    proof: list[tuple[str, str]] = field(default_factory=list)  # (label, value) on-chain references


def classify(status: Any | None) -> str:
    """The banner state of a lookup result (None = nothing on chain)."""
    if status is None or not status.found:
        return "not_found"
    if status.recalled:
        return "recalled"
    if status.genuine is False:
        return "not_genuine"
    if status.expired:
        return "expired"
    if status.dispensed and status.duplicate_scans > 0:
        return "duplicate"
    if status.dispensed:
        return "dispensed"
    if getattr(status, "serial_check", None) == "unavailable" and not status.genuine:
        return "unchecked"
    return "genuine" if status.genuine else "registered"


def build_view(code: DrugCode, status: Any | None, *, tz: dt.tzinfo = dt.UTC) -> PageView:
    state = classify(status)
    if status is None or state == "not_found":
        return PageView(state, _banner(state, status, tz), facts=_code_facts(code))
    alerts = [_banner(s, status, tz) for s in _secondary_states(status, state)]
    if code.expiry is not None and status.expiry is not None and code.expiry != status.expiry:
        alerts.append(_expiry_mismatch(code.expiry, status.expiry))
    return PageView(
        state=state,
        banner=_banner(state, status, tz),
        alerts=alerts,
        facts=_status_facts(status),
        journey=[_hop(h, tz) for h in status.journey],
        proof=_proof(status),
    )


def _secondary_states(status: Any, primary: str) -> list[str]:
    flags = {
        "recalled": bool(status.recalled),
        "expired": bool(status.expired),
        "duplicate": bool(status.dispensed and status.duplicate_scans > 0),
    }
    return [s for s, on in flags.items() if on and s != primary]


def _banner(state: str, status: Any, tz: dt.tzinfo) -> Alert:
    tone = STATES[state]
    if state == "not_found":
        return Alert(
            tone,
            Text("未找到该药品", "Not found"),
            Text(
                "区块链上没有此药品的登记记录。请核对包装上的代码;如有疑问,请勿使用并咨询药房。",
                "There is no record of this pack on the blockchain. Check the code on the box; "
                "if in doubt, do not use it and ask your pharmacy.",
            ),
        )
    if state == "recalled":
        return Alert(
            tone,
            Text("已召回", "Recalled"),
            Text(
                "生产企业或监管部门已召回该批次药品。请勿使用,并联系药房。",
                "This batch has been recalled by the manufacturer or the regulator. "
                "Do not use it; contact your pharmacy.",
            ),
        )
    if state == "not_genuine":
        return Alert(
            tone,
            Text("序列号不属于该批次", "Serial number not in this batch"),
            Text(
                "该批次已登记,但此序列号不在生产企业登记的清单中,可能是假冒药品。请勿使用并举报。",
                "The batch is registered, but this serial number is not among the serials the manufacturer "
                "registered. The pack may be counterfeit: do not use it, and report it.",
            ),
        )
    if state == "expired":
        expiry = _date(status.expiry) if status is not None else "—"
        return Alert(
            tone,
            Text("已过期", "Expired"),
            Text(
                f"有效期至 {expiry},已过期。请勿使用。",
                f"The expiry date ({expiry}) has passed. Do not use it.",
            ),
        )
    if state == "duplicate":
        n = int(status.duplicate_scans)
        when, where = _dispense_when_where(status, tz)
        return Alert(
            tone,
            Text(
                f"警告:此药已被重复售出 {n} 次",
                f"Warning: already dispensed {n} more time{'s' if n != 1 else ''}",
            ),
            Text(
                f"首次售出:{when},{where.zh}。同一追溯码之后又被扫码销售 {n} 次,"
                "可能是假冒或回流药品。请咨询药房或向药监部门举报。",
                f"First dispensed {when} by {where.en}. The same code was scanned for sale {n} more "
                f"time{'s' if n != 1 else ''} afterwards: the pack may be counterfeit or resold. "
                "Ask your pharmacy or report it to the drug regulator.",
            ),
        )
    if state == "dispensed":
        when, where = _dispense_when_where(status, tz)
        return Alert(
            tone,
            Text("正品 · 已售出", "Genuine · dispensed"),
            Text(
                f"该药品于 {when} 由 {where.zh} 售出。如果您是在该处购买的,这是正常的。",
                f"This pack was dispensed {when} by {where.en}. If that is where you got it, all is well.",
            ),
        )
    if state == "unchecked":
        note = getattr(status, "serial_note", None) or "cannot check the serial: tree unavailable"
        return Alert(
            tone,
            Text("无法核验序列号", "Serial number not checked"),
            Text(
                "该批次已在区块链登记,此药盒尚未售出;但无法读取生产企业发布的序列号树,未能核验序列号。"
                "请稍后再试或咨询药房。",
                "The batch is registered on the blockchain and this pack has not been dispensed, but the "
                "manufacturer's serial tree could not be read, so the serial number was not checked "
                f"({note}). Try again later, or ask your pharmacy.",
            ),
        )
    if state == "genuine":
        return Alert(
            tone,
            Text("正品 · 未售出", "Genuine · not yet dispensed"),
            Text(
                "此药品已在区块链登记,序列号属于该批次,尚未售出。",
                "Registered on the blockchain; the serial number belongs to this batch "
                "and has not been dispensed.",
            ),
        )
    return Alert(
        tone,
        Text("批次已登记 · 未售出", "Batch registered · not yet dispensed"),
        Text(
            "该批次已由生产企业在区块链登记,尚未售出。本服务无法单独核验此序列号。",
            "The manufacturer registered this batch on the blockchain and this pack has not been dispensed. "
            "This service cannot check the serial number on its own.",
        ),
    )


def _dispense_when_where(status: Any, tz: dt.tzinfo) -> tuple[str, Text]:
    when = local(status.dispensed_at, tz) if status.dispensed_at else "—"
    name = status.dispensed_by_name or _short(status.dispensed_by) or "—"
    return when, Text(name, name)


def _expiry_mismatch(on_code: dt.date, on_chain: dt.date) -> Alert:
    return Alert(
        "warn",
        Text("有效期不一致", "Expiry date does not match"),
        Text(
            f"包装代码上的有效期为 {_date(on_code)},登记的有效期为 {_date(on_chain)}。",
            f"The code on the box says {_date(on_code)}; the registered batch says {_date(on_chain)}.",
        ),
    )


def _status_facts(status: Any) -> list[tuple[Text, str]]:
    manufacturer = status.manufacturer_name or ""
    if status.manufacturer:
        manufacturer = (
            f"{manufacturer} ({_short(status.manufacturer)})" if manufacturer else status.manufacturer
        )
    facts = [
        (Text("药品名称", "Product"), getattr(status, "product_name", None) or "—"),
        (Text("商品条码 GTIN", "GTIN"), status.gtin),
        (Text("批号", "Lot"), status.lot),
        (Text("序列号", "Serial"), status.serial),
        (Text("有效期至", "Expiry"), _date(status.expiry)),
        (Text("批次数量", "Batch size"), str(status.quantity)),
        (Text("生产企业", "Manufacturer"), manufacturer or "—"),
    ]
    return facts


def _code_facts(code: DrugCode) -> list[tuple[Text, str]]:
    return [
        (Text("商品条码 GTIN", "GTIN"), code.gtin),
        (Text("批号", "Lot"), code.lot or "—"),
        (Text("序列号", "Serial"), code.serial or "—"),
        (Text("有效期至", "Expiry"), _date(code.expiry)),
    ]


def _hop(hop: Any, tz: dt.tzinfo) -> Hop:
    zh, en = HOP_KINDS.get(hop.kind, (hop.kind, hop.kind))
    source = hop.from_name or _short(hop.from_address)
    target = hop.to_name or _short(hop.to_address)
    parties = " → ".join(p for p in (source, target) if p)
    return Hop(
        kind_id=hop.kind if hop.kind in HOP_KINDS else "other",
        kind=Text(zh, en),
        parties=parties or "—",
        quantity=hop.quantity if hop.quantity else None,
        when=local(hop.timestamp, tz),
        tx_hash=hop.tx_hash,
        block=hop.block,
        epcis_hash=getattr(hop, "epcis_hash", None),
    )


def _proof(status: Any) -> list[tuple[str, str]]:
    rows = [("DrugTrace contract", status.contract or "—")]
    optional = [
        ("Batch id", getattr(status, "batch_id", None)),
        ("Commission tx", status.commission_tx),
        ("Commission block", status.commission_block),
        ("Certificate hash", getattr(status, "certificate_hash", None)),
        ("Recall reason hash", status.recall_reason_hash),
    ]
    rows += [(label, str(value)) for label, value in optional if value not in (None, "")]
    return rows


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else "—"


def _short(address: str | None) -> str:
    if not address:
        return ""
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address
