"""Column values as Creatio writes them on the wire: lower-case GUIDs, ISO 8601 UTC dates, typed defaults."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

KINDS = ("guid", "text", "int", "float", "bool", "datetime", "lookup")
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
# .NET's DateTime.MinValue: how Creatio writes an empty date (the WSO2 connector reference's BirthDate).
YEAR_ONE = "0001-01-01T00:00:00Z"

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?"
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_TICKS_PER_SECOND = 10_000_000
_EPOCH = datetime(1, 1, 1)

DEFAULTS: dict[str, Any] = {
    "guid": ZERO_GUID,
    "lookup": ZERO_GUID,
    "text": "",
    "int": 0,
    "float": 0.0,
    "bool": False,
    "datetime": YEAR_ONE,
}


def normalize_guid(value: object) -> str | None:
    """The lower-case form of a GUID string, or None if ``value`` is not one."""
    if isinstance(value, str) and _GUID.fullmatch(value):
        return value.lower()
    return None


def sql_server_guid_key(text: str) -> str:
    """How SQL Server orders uniqueidentifiers: the last six bytes first, then bytes 8-9, 6-7, 4-5 and 0-3 (of the
    .NET byte layout, whose first three groups are little-endian). Not the order of the text."""
    # Cut from the lower-case text (two hex digits a byte; comparing them compares the bytes), which is several
    # times faster than parsing a UUID: range reads compare one key per row they walk.
    return (
        text[24:36]
        + text[19:23]
        + text[16:18]
        + text[14:16]
        + text[11:13]
        + text[9:11]
        + text[6:8]
        + text[4:6]
        + text[2:4]
        + text[0:2]
    )


def postgresql_guid_key(text: str) -> str:
    """How PostgreSQL orders uuids: byte by byte, which is the order of the lower-case text."""
    return text


GUID_ORDERS: dict[str, Callable[[str], Any]] = {
    "mssql": sql_server_guid_key,
    "postgresql": postgresql_guid_key,
}


def coerce(kind: str, value: Any) -> Any:
    """The stored form of ``value`` for a column of ``kind``; ValueError (with a reason) if it does not fit.

    Numbers may arrive as digit strings: that is how IEEE754Compatible clients send Int64 and Decimal values.
    """
    if kind == "text":
        if value is None or isinstance(value, str):
            return value or ""
        raise ValueError("expected a string")
    if kind in ("guid", "lookup"):
        if value is None:
            return ZERO_GUID
        guid = normalize_guid(value)
        if guid is None:
            raise ValueError("expected a GUID")
        return guid
    if kind == "bool":
        if value is None or isinstance(value, bool):
            return bool(value)
        raise ValueError("expected true or false")
    if kind == "datetime":
        return None if value is None else normalize_datetime(value)
    return _coerce_number(kind, value)


def _coerce_number(kind: str, value: Any) -> int | float:
    if value is None:
        return 0.0 if kind == "float" else 0
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        text = value.strip()
        value = float(text) if any(mark in text for mark in ".eE") else int(text)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    if kind == "float":
        return float(value)
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("expected an integer")
    return int(value)


def normalize_datetime(value: object) -> str:
    """ISO 8601 in UTC with ``Z`` and at most seven fraction digits, trailing zeros dropped (Creatio's form)."""
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date-time string")
    base, fraction = _parse_datetime(value)
    stamp = (
        f"{base.year:04d}-{base.month:02d}-{base.day:02d}T{base.hour:02d}:{base.minute:02d}:{base.second:02d}"
    )
    return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"


def _parse_datetime(text: str) -> tuple[datetime, str]:
    """UTC date and time to the second (naive), and the fraction digits (up to seven, no trailing zeros)."""
    match = _DATETIME.fullmatch(text.strip())
    if match is None:
        raise ValueError("expected an ISO 8601 date-time")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        base = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        base -= _offset(zone)
    except (ValueError, OverflowError) as exc:
        raise ValueError("date-time out of range") from exc
    return base, (fraction or "")[:7].rstrip("0")


def _offset(zone: str | None) -> timedelta:
    if zone is None or zone == "Z":
        return timedelta(0)
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return -offset if zone[0] == "-" else offset


@lru_cache(maxsize=65536)
def datetime_ticks(text: str) -> int:
    """100 ns ticks since year 1 (.NET's DateTime.Ticks): orders date-times as numbers. Cached: sorts call it often."""
    base, fraction = _parse_datetime(text)
    seconds = (base - _EPOCH) // timedelta(seconds=1)
    return seconds * _TICKS_PER_SECOND + int(fraction.ljust(7, "0"))


def now_iso() -> str:
    """The current UTC time in Creatio's form (seven fraction digits at most)."""
    now = datetime.now(timezone.utc)
    return normalize_datetime(now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
