"""Times for people: unix seconds as ISO 8601 dates in UTC (tables, errors, listings)."""

from __future__ import annotations

import datetime as dt

#: uint64 "never" sentinels and anything past year 9999 are shown as numbers, not dates
_MAX = 253402300799  # 9999-12-31T23:59:59Z


def iso(seconds: int | None) -> str:
    """`1796430835` -> `2026-12-04T10:33:55Z`; None or 0 -> ""; out-of-range values stay numbers."""
    if not seconds:
        return ""
    value = int(seconds)
    if not 0 < value <= _MAX:
        return str(value)
    return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
