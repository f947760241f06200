"""Process parameters: their types, and how values cross the wire.

``Parameter`` declares a process input or output. ``convert_input`` reads an input sent as query-string text or as a
JSON value into its typed value (``ParameterValueError`` when it does not fit: the process is not started);
``wire_value`` writes an output back the way ProcessEngineService answers it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from airflow_provider_creatio.testing.emulator.values import normalize_datetime, normalize_guid

ParameterType = Literal["text", "int", "float", "bool", "datetime", "guid", "collection"]
PARAMETER_TYPES: tuple[str, ...] = ("text", "int", "float", "bool", "datetime", "guid", "collection")

_INTEGER = re.compile(r"[+-]?\d+")


class ParameterValueError(ValueError):
    """An input value that cannot be converted to its parameter's type: the process is not started."""


@dataclass(frozen=True)
class Parameter:
    """A process parameter: its code (``name``), its type and, for inputs, the value used when none is sent."""

    name: str
    type: ParameterType = "text"
    default: Any = None

    def __post_init__(self) -> None:
        if self.type not in PARAMETER_TYPES:
            raise ValueError(
                f"unknown parameter type {self.type!r}; expected one of {', '.join(PARAMETER_TYPES)}"
            )


def convert_input(parameter: Parameter, value: Any) -> Any:
    """The typed value of an input sent as a query-string text or a JSON value; ParameterValueError if it does not fit.

    Texts are read the way Creatio's string-keyed ``parameterValues`` are: numbers in invariant form,
    ``true``/``false``, ISO 8601 dates, and JSON text for collections (Creatio's guide to the process service).
    """
    try:
        return _CONVERTERS[parameter.type](value)
    except (ValueError, TypeError) as exc:
        raise ParameterValueError(
            f"Value of parameter {parameter.name} cannot be converted to {parameter.type}: {exc}"
        ) from None


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _to_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    raise ValueError("expected an integer")


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    return number


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError("expected true or false")


def _to_guid(value: Any) -> str:
    guid = normalize_guid(value.strip() if isinstance(value, str) else value)
    if guid is None:
        raise ValueError("expected a GUID")
    return guid


def _to_collection(value: Any) -> list[Any]:
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, list):
        raise ValueError("expected a JSON array")
    return parsed


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _to_text,
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "datetime": normalize_datetime,
    "guid": _to_guid,
    "collection": _to_collection,
}


def wire_value(parameter: Parameter | None, value: Any) -> Any:
    """An output value as the service answers it: collections as JSON text (Creatio's ProcessEngineService documentation), the rest as JSON values."""
    if value is None or parameter is None:
        return value
    if parameter.type == "collection":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if parameter.type == "datetime":
        return normalize_datetime(value)
    return value
