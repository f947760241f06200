"""Argument checks and value conversions shared by the protocol modules.

Everything here runs before a request is built, so a bad argument fails with a
:class:`CreatioValidationError` that names the argument and the bad value, and nothing reaches Creatio.

Rules (they are the provider's contract, docs/reliability-bad-input.md repeats them):

* GUIDs: the canonical 8-4-4-4-12 hexadecimal form, any letter case, optionally inside one pair of braces
  (``{...}``, the .NET "B" format people paste from SQL tools), with surrounding whitespace ignored (templated
  values often end in a newline). A :class:`uuid.UUID` is accepted as is. The normal form is lower case
  without braces. Anything else (32 bare hex digits, ``urn:uuid:``, one brace) is rejected: it is more likely
  a mix-up than a GUID.
* Schema names (entities, columns, processes, process parameters): an ASCII letter, then ASCII letters, digits
  or underscores. This is what Creatio's designer allows, and it keeps every name safe to put in a URL path.
* Column paths: schema names joined by ``/`` (``Name``, ``Status/Id``, ``Account/PrimaryContact/Name``).
* JSON values: see :func:`to_json_value`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import uuid
from collections.abc import Mapping
from typing import Any

from airflow_provider_creatio.client.errors import CreatioValidationError

_GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SHOWN_CHARS = 80  # a bad value is quoted in the error, cut to this length


def shown(value: object) -> str:
    """The ``repr`` of a rejected value, short enough for an error message."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _guid_text(value: object) -> str | None:
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return text.lower() if _GUID_RE.fullmatch(text) else None


def is_guid(value: object) -> bool:
    """True when :func:`parse_guid` would accept ``value``."""
    return _guid_text(value) is not None


def parse_guid(value: object, argument: str) -> str:
    """``value`` as a GUID in normal form (lower case, no braces); else an error naming ``argument``."""
    text = _guid_text(value)
    if text is None:
        raise CreatioValidationError(
            f"{argument} must be a GUID like 3f2504e0-4f89-11d3-9a0c-0305e82c3301, got {shown(value)}"
        )
    return text


def check_count(
    value: object,
    argument: str,
    *,
    allow_zero: bool = False,
    maximum: int | None = None,
    minimum: int | None = None,
) -> int:
    """A number of records, requests or bytes (a page size, a limit, ``$top``, ``$skip``, a chunk size): an integer
    of at least 1 (0 with ``allow_zero``, or ``minimum``) and at most ``maximum``. A bool is refused although
    Python counts it as an int: ``True`` is a mistake, not a count of one."""
    low = minimum if minimum is not None else 0 if allow_zero else 1
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (maximum is not None and value > maximum)
    ):
        if maximum is not None:
            wanted = f"an integer between {low:,} and {maximum:,}"
        else:
            wanted = "a non-negative integer" if allow_zero else "a positive integer"
        raise CreatioValidationError(f"{argument} must be {wanted}, got {shown(value)}")
    return value


def _check_name(value: object, argument: str, what: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise CreatioValidationError(
            f"{argument} must be a Creatio {what}: an ASCII letter followed by letters, digits or "
            f"underscores (no spaces, '/', '?', '(' or quotes), got {shown(value)}"
        )
    return value


def check_entity_name(value: object, argument: str = "entity") -> str:
    """An entity (object schema) name such as ``Contact`` or ``UsrInvoice``."""
    return _check_name(value, argument, "object name")


def check_column_name(value: object, argument: str = "column") -> str:
    """A single column name, as written in a record body (``Name``, ``AccountId``)."""
    return _check_name(value, argument, "column name")


def check_code(value: object, argument: str) -> str:
    """A process schema name or a process parameter code (the ``Code`` property in the designer)."""
    return _check_name(value, argument, "code")


def check_column_path(value: object, argument: str = "column") -> str:
    """A column path for queries: column names joined by ``/`` (``Name``, ``Status/Id``, ``Account/Name``)."""
    if isinstance(value, str) and all(_NAME_RE.fullmatch(part) for part in value.split("/")):
        return value
    raise CreatioValidationError(
        f"{argument} must be a column path such as Name, Status/Id or Account/Name "
        f"(column names joined by '/'), got {shown(value)}"
    )


def utc_iso(value: dt.datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, the way Creatio writes dates. A naive datetime is taken to be UTC already
    (Airflow's own convention), so it is written unchanged."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text + "Z"


def scalar_text(value: object, argument: str) -> str | None:
    """A bool, number, UUID or date as Creatio writes it in a URL, a filter or a process parameter (``true``, plain
    decimal notation, a lower-case GUID, ISO 8601 in UTC with ``Z`` or a bare date); None for any other value,
    which each caller writes its own way (a string, None, a list)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, decimal.Decimal)):
        return plain_number(value, argument)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return utc_iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return None


def plain_number(value: float | decimal.Decimal, argument: str) -> str:
    """A finite number in positional notation (no exponent), which every .NET number parser accepts."""
    number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(repr(value))
    if not number.is_finite():
        raise CreatioValidationError(f"{argument} must be a finite number, got {shown(value)}")
    return format(number, "f")


def _decimal_to_json(value: decimal.Decimal, argument: str) -> float | int | str:
    text = plain_number(value, argument)
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    # A float that reads back as the same decimal loses nothing; otherwise send the exact digits as a string,
    # which OData accepts for Edm.Decimal under IEEE754Compatible=true.
    return as_float if decimal.Decimal(repr(as_float)) == value else text


def to_json_value(value: Any, argument: str) -> Any:
    """``value`` as plain JSON data (dict, list, str, int, float, bool, None), or a validation error.

    Conversions: datetime -> ISO 8601 UTC with ``Z`` (naive = UTC); date -> ``YYYY-MM-DD``; time ->
    ``HH:MM:SS``; UUID -> its string; Decimal -> int when whole, float when the float is exact, else its
    digits as a string; tuple -> list. NaN and infinities are rejected (JSON has no literal for them), and so
    are sets (no order), bytes and any other object. Mapping keys must be strings.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CreatioValidationError(f"{argument} must be a finite number, got {value!r}")
        return value
    converted = _convert_scalar(value, argument)
    if converted is not None:
        return converted
    if isinstance(value, Mapping):
        return _mapping_to_json(value, argument)
    if isinstance(value, (list, tuple)):
        return [to_json_value(item, f"{argument}[{index}]") for index, item in enumerate(value)]
    raise CreatioValidationError(
        f"{argument} has a value of type {type(value).__name__}, which cannot be sent as JSON "
        "(use str, int, float, bool, None, Decimal, UUID, date, datetime, list or dict)"
    )


def _convert_scalar(value: object, argument: str) -> object | None:
    if isinstance(value, dt.datetime):
        return utc_iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return _decimal_to_json(value, argument)
    return None


def _mapping_to_json(value: Mapping[Any, Any], argument: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise CreatioValidationError(f"{argument} has a key {shown(key)} that is not a string")
        result[key] = to_json_value(item, f"{argument}[{key!r}]")
    return result
