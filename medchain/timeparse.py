"""Times and durations given by people (CLI options, forms): one reading everywhere.

A moment is unix seconds (``1796430835``; ``0`` stays 0, which contracts read as "at once" or "no end"), a
time relative to now (``+30d``, ``+2h``, ``+15m``, ``+1w``, ``+1y``, ``+90s``, ``+3600``), or an ISO 8601 date
or date-time (``2027-01-31`` is UTC midnight; ``2027-01-31T12:00``, ``…Z`` and ``…+08:00`` are read with
their zone, UTC when none is given). The result must fit the contracts' uint64 times (1970 .. 2^64-1 s).
"""

from __future__ import annotations

import datetime as dt
import re

from medchain.errors import InputError
from medchain.text import is_digits

__all__ = ["UINT64_MAX", "parse_duration", "parse_time"]

UINT64_MAX = 2**64 - 1
_DURATION = re.compile(r"\+?([0-9]{1,20})([smhdwy]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 365 * 86_400}
_SHAPES = "unix seconds, +DURATION (+30d, +2h, +15m, +1w) or an ISO date (2027-01-31, 2027-01-31T12:00Z)"


def parse_duration(text: str, what: str = "duration") -> int:
    """Seconds from ``3600``, ``90s``, ``15m``, ``12h``, ``7d``, ``2w``, ``1y`` (365 days); a leading ``+`` is
    allowed. InputError naming `what` otherwise."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match:
        raise InputError(f"{what} {text!r} is not N[s|m|h|d|w|y] (e.g. 7d, 12h, 15m)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_time(text: str | None, now: int, what: str = "time", *, limit: int = UINT64_MAX) -> int:
    """Unix seconds of a moment given as unix seconds, ``+DURATION`` after `now`, or an ISO date/date-time;
    None means `now`. InputError naming `what` when it is none of these or outside 0 .. `limit` (the
    contracts keep times in uint64; an EIP-712 deadline is a uint256)."""
    if text is None:
        return now
    value = text.strip()
    if value.startswith("+"):
        return _in_range(now + parse_duration(value, what), what, text, limit)
    if is_digits(value):
        if len(value) > len(str(limit)):  # int() of thousands of digits is slow, then refused
            return _in_range(limit + 1, what, text, limit)
        return _in_range(int(value), what, text, limit)
    try:
        moment = dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        seconds = int(moment.timestamp())
    except (ValueError, OverflowError):
        raise InputError(f"{what} {text!r} is not {_SHAPES}") from None
    return _in_range(seconds, what, text, limit)


def _in_range(seconds: int, what: str, text: str, limit: int) -> int:
    """A unix time the contract can store: not before 1970, not past `limit`."""
    if not 0 <= seconds <= limit:
        bound = f"2^{limit.bit_length()}-1" if limit == 2 ** limit.bit_length() - 1 else str(limit)
        raise InputError(f"{what} {text!r} is outside the times a contract can store (1970 .. {bound} s)")
    return seconds
