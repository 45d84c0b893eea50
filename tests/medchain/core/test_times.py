"""medchain.timefmt and medchain.timeparse: the one way times are printed and the one way they are read."""

from __future__ import annotations

import datetime as dt

import pytest

from medchain.errors import InputError
from medchain.timefmt import iso, iso_date, local
from medchain.timeparse import UINT64_MAX, parse_duration, parse_time

NOW = 1_796_380_435  # 2026-12-04T10:33:55Z


def test_iso_is_iso_8601_utc_and_keeps_numbers_it_cannot_show() -> None:
    assert iso(NOW) == "2026-12-04T10:33:55Z"
    assert iso_date(NOW) == "2026-12-04"
    assert iso(0) == iso(None) == iso_date(0) == ""
    assert iso(2**64 - 1) == iso_date(2**64 - 1) == str(2**64 - 1)  # uint64 "never"
    assert iso(2**256 - 1) == str(2**256 - 1)
    assert iso(253402300799) == "9999-12-31T23:59:59Z"


def test_local_time_names_its_offset() -> None:
    assert local(NOW, dt.UTC) == "2026-12-04 10:33 UTC"
    assert local(NOW, dt.timezone(dt.timedelta(hours=8))) == "2026-12-04 18:33 UTC+8"
    assert local(NOW, dt.timezone(dt.timedelta(hours=-5, minutes=-30))) == "2026-12-04 05:03 UTC-5:30"
    assert local(253402300799, dt.timezone(dt.timedelta(hours=8))) == "253402300799"  # past 9999 there


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3600", 3600), ("90s", 90), ("15m", 900), ("+2h", 7200), ("7d", 604_800), ("+1w", 604_800),
     ("1y", 31_536_000), (" 2W ", 1_209_600)],
)  # fmt: skip
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "+", "d", "1.5d", "-1d", "1 d", "1mo", "²d", "9" * 21 + "s"])
def test_bad_durations_name_the_option(text: str) -> None:
    with pytest.raises(InputError, match="^--ttl .* is not N"):
        parse_duration(text, "--ttl")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0), ("1796380435", NOW), ("+30d", NOW + 30 * 86_400), ("+2h", NOW + 7200), ("+15m", NOW + 900),
     ("+1w", NOW + 604_800), ("+0", NOW), ("2030-01-01", 1_893_456_000), ("2030-01-01T00:00Z", 1_893_456_000),
     ("2030-01-01T08:00:00+08:00", 1_893_456_000), ("2030-01-01T00:00:00z", 1_893_456_000),
     (str(UINT64_MAX), UINT64_MAX)],
)  # fmt: skip
def test_moments(text: str, seconds: int) -> None:
    assert parse_time(text, NOW) == seconds


def test_no_text_is_now() -> None:
    assert parse_time(None, NOW) == NOW


@pytest.mark.parametrize("text", ["yesterday", "2030-13-01", "12/31/2030", "-5", "1e9", "²", "now"])
def test_what_is_no_time_is_an_input_error_naming_the_option(text: str) -> None:
    with pytest.raises(InputError, match=r"^--valid-from .* is not unix seconds, \+DURATION \(\+30d"):
        parse_time(text, NOW, "--valid-from")


@pytest.mark.parametrize("text", ["+", "+-5d", "+5x", "+1.5d"])
def test_a_bad_relative_time_shows_the_duration_form(text: str) -> None:
    with pytest.raises(InputError, match=r"^--until .* is not N\[s\|m\|h\|d\|w\|y\]"):
        parse_time(text, NOW, "--until")


@pytest.mark.parametrize("text", [str(2**64), "1969-12-31", "9" * 5000, "+" + "9" * 20 + "s"])
def test_times_a_contract_cannot_store_are_refused(text: str) -> None:
    refused = r"^--until .* is outside the times a contract can store \(1970 \.\. 2\^64-1 s\)$"
    with pytest.raises(InputError, match=refused):
        parse_time(text, NOW, "--until")


def test_a_wider_limit_for_eip712_deadlines() -> None:
    assert parse_time(str(2**256 - 1), NOW, "--deadline", limit=2**256 - 1) == 2**256 - 1
    with pytest.raises(InputError, match=r"2\^256-1"):
        parse_time(str(2**256), NOW, "--deadline", limit=2**256 - 1)
