"""Statuses for every banner state of the consumer page, built as real `medchain.drugs.DrugStatus` values
(a fake `lookup` serves them; no chain involved)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from medchain.drugs import DrugStatus, JourneyHop

GTIN = "09506000134352"
LOT = "LOT/42"
EXPIRY = dt.date(2027, 6, 30)
MANUFACTURER = "0x1111111111111111111111111111111111111111"
DISTRIBUTOR = "0x2222222222222222222222222222222222222222"
PHARMACY = "0x3333333333333333333333333333333333333333"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
T0 = 1767225600  # 2026-01-01 00:00 UTC
DAY = 86400


def tx(n: int) -> str:
    return "0x" + f"{n:02x}" * 32


def journey(*, dispensed: bool = False, duplicates: int = 0, recalled: bool = False) -> list[JourneyHop]:
    hops = [
        JourneyHop("commission", None, MANUFACTURER, None, "华润医药 CR Pharma", 1000, T0, tx(1), 101),
        JourneyHop(
            "ship",
            MANUFACTURER,
            DISTRIBUTOR,
            "华润医药 CR Pharma",
            "国药控股 Sinopharm",
            200,
            T0 + 2 * DAY,
            tx(2),
            140,
        ),
        JourneyHop(
            "receive",
            MANUFACTURER,
            DISTRIBUTOR,
            "华润医药 CR Pharma",
            "国药控股 Sinopharm",
            200,
            T0 + 3 * DAY,
            tx(3),
            151,
        ),
        JourneyHop(
            "ship",
            DISTRIBUTOR,
            PHARMACY,
            "国药控股 Sinopharm",
            "老百姓大药房 LBX Pharmacy",
            20,
            T0 + 9 * DAY,
            tx(4),
            210,
        ),
        JourneyHop(
            "receive",
            DISTRIBUTOR,
            PHARMACY,
            "国药控股 Sinopharm",
            "老百姓大药房 LBX Pharmacy",
            20,
            T0 + 10 * DAY,
            tx(5),
            222,
        ),
    ]
    if dispensed:
        hops.append(
            JourneyHop(
                "dispense", PHARMACY, None, "老百姓大药房 LBX Pharmacy", None, 1, T0 + 30 * DAY, tx(6), 400
            )
        )
    for n in range(duplicates):
        hops.append(
            JourneyHop(
                "duplicate",
                PHARMACY,
                None,
                "老百姓大药房 LBX Pharmacy",
                None,
                1,
                T0 + (31 + n) * DAY,
                tx(7 + n),
                420 + n,
            )
        )
    if recalled:
        hops.append(
            JourneyHop(
                "recall", MANUFACTURER, None, "华润医药 CR Pharma", None, 0, T0 + 40 * DAY, tx(20), 500
            )
        )
    return hops


def status(serial: str = "SN0001", **overrides: Any) -> DrugStatus:
    base = DrugStatus(
        found=True,
        genuine=True,
        gtin=GTIN,
        lot=LOT,
        serial=serial,
        expiry=EXPIRY,
        quantity=1000,
        manufacturer=MANUFACTURER,
        manufacturer_name="华润医药 CR Pharma",
        recalled=False,
        recall_reason_hash=None,
        expired=False,
        dispensed=False,
        dispensed_at=None,
        dispensed_by=None,
        dispensed_by_name=None,
        duplicate_scans=0,
        journey=journey(),
        contract=CONTRACT,
        commission_tx=tx(1),
        commission_block=101,
        batch_id="0x" + "ba" * 32,
        product_name="阿莫西林胶囊 Amoxicillin capsules 0.25 g × 24",
        certificate_hash="0x" + "ce" * 32,
    )
    return replace(base, **overrides)


def dispensed(serial: str, duplicates: int = 0, **overrides: Any) -> DrugStatus:
    return status(
        serial,
        dispensed=True,
        dispensed_at=T0 + 30 * DAY,
        dispensed_by=PHARMACY,
        dispensed_by_name="老百姓大药房 LBX Pharmacy",
        duplicate_scans=duplicates,
        journey=journey(dispensed=True, duplicates=duplicates),
        **overrides,
    )


def not_found(serial: str) -> DrugStatus:
    return DrugStatus(
        found=False,
        genuine=None,
        gtin=GTIN,
        lot=LOT,
        serial=serial,
        expiry=None,
        quantity=0,
        manufacturer=None,
        manufacturer_name=None,
        recalled=False,
        recall_reason_hash=None,
        expired=False,
        dispensed=False,
        dispensed_at=None,
        dispensed_by=None,
        dispensed_by_name=None,
        duplicate_scans=0,
    )


#: banner state -> (status served for serial == state, expected tone, expected zh title, expected en title)
STATES: dict[str, tuple[DrugStatus | None, str, str, str]] = {
    "genuine": (status("genuine"), "ok", "正品 · 未售出", "Genuine · not yet dispensed"),
    "registered": (
        status("registered", genuine=None),
        "ok",
        "批次已登记 · 未售出",
        "Batch registered · not yet dispensed",
    ),
    "dispensed": (dispensed("dispensed"), "info", "正品 · 已售出", "Genuine · dispensed"),
    "duplicate": (
        dispensed("duplicate", duplicates=2),
        "warn",
        "警告:此药已被重复售出 2 次",
        "Warning: already dispensed 2 more times",
    ),
    "not_found": (not_found("not_found"), "danger", "未找到该药品", "Not found"),
    "recalled": (
        status(
            "recalled",
            recalled=True,
            recall_reason_hash="0x" + "de" * 32,
            recalled_at=T0 + 40 * DAY,
            journey=journey(recalled=True),
        ),
        "danger",
        "已召回",
        "Recalled",
    ),
    "expired": (status("expired", expired=True, expiry=dt.date(2025, 12, 31)), "danger", "已过期", "Expired"),
    "unchecked": (
        status(
            "unchecked",
            genuine=None,
            serial_check="unavailable",
            serial_note="cannot check the serial: tree unavailable at URI https://maker.example/trees/0x"
            + "ba" * 32
            + ".json: HTTP 404",
        ),
        "warn",
        "无法核验序列号",
        "Serial number not checked",
    ),
    "not_genuine": (
        status("not_genuine", genuine=False),
        "danger",
        "序列号不属于该批次",
        "Serial number not in this batch",
    ),
}


def lookup_by_serial(gtin: str, lot: str, serial: str) -> DrugStatus | None:
    """Fake lookup: the serial names the state; an unknown serial is nothing on chain (None)."""
    entry = STATES.get(serial)
    return None if entry is None else entry[0]


def pack_path(serial: str, expiry: str | None = "270630") -> str:
    return f"/01/{GTIN}/10/LOT%2F42/21/{serial}" + (f"?17={expiry}" if expiry else "")
