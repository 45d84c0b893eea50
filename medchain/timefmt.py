"""Times for people, the one place that formats them: unix seconds as ISO 8601 in UTC (tables, errors,
listings, reports: ``2026-12-04T10:33:55Z``), a date alone where a date is meant, and a local wall-clock time
for pages read by the public.

Imports nothing of the project, so any module may use it.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["MAX_DATE", "iso", "iso_date", "local"]

#: uint64 "never" sentinels and anything past year 9999 are shown as numbers, not dates
MAX_DATE = 253402300799  # 9999-12-31T23:59:59Z


def _moment(seconds: int | None, tz: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """The moment `seconds` names, or None for 0/None and times a calendar cannot show."""
    if not seconds:
        return None
    value = int(seconds)
    if not 0 < value <= MAX_DATE:
        return None
    try:
        return dt.datetime.fromtimestamp(value, tz)
    except (OverflowError, OSError, ValueError):  # 9999-12-31 in a zone east of UTC
        return None


def iso(seconds: int | None) -> str:
    """`1796380435` -> `2026-12-04T10:33:55Z`; None or 0 -> ""; out-of-range values stay numbers."""
    moment = _moment(seconds)
    if moment is None:
        return str(int(seconds)) if seconds else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(seconds: int | None) -> str:
    """`1796380435` -> `2026-12-04` (the UTC date); None or 0 -> ""; out-of-range values stay numbers."""
    return iso(seconds)[:10] if _moment(seconds) is not None else iso(seconds)


def local(seconds: int, tz: dt.tzinfo) -> str:
    """A wall-clock time in zone `tz` with its offset, for people who read local time: ``2026-12-04 18:33
    UTC+8``; out-of-range values stay numbers."""
    moment = _moment(seconds, tz)
    if moment is None:
        return str(int(seconds))
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    label = "UTC"
    if minutes:
        sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
        label += f"{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    return f"{moment:%Y-%m-%d %H:%M} {label}"
