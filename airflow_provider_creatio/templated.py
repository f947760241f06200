"""Templated arguments of the entity operators and sensor, as a task receives them after rendering: the value
itself (from the DAG file or an XComArg), or the JSON text a ``{{ ... }}`` expression rendered it to."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_provider_creatio.client.errors import CreatioValidationError


def _json_text(value: str, argument: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise CreatioValidationError(
            f"{argument} is a string that is not JSON ({value[:60]!r}); pass a dict/list, an XComArg, or JSON text"
        ) from None


def as_mapping(value: object, argument: str) -> Mapping[str, Any]:
    """A record body from a dict, or from JSON text (a rendered ``{{ ... }}`` template)."""
    if isinstance(value, str):
        value = _json_text(value, argument)
    if not isinstance(value, Mapping):
        raise CreatioValidationError(
            f"{argument} must be a mapping of column names to values, got {type(value).__name__}"
        )
    return value


def as_records(value: object, argument: str = "records") -> list[Any]:
    """A list of records (or of Ids) from a list, a tuple, or JSON text."""
    if isinstance(value, str):
        value = _json_text(value, argument)
    if isinstance(value, Mapping) or not isinstance(value, Iterable) or isinstance(value, bytes):
        raise CreatioValidationError(f"{argument} must be a list, got {type(value).__name__}")
    return list(value)


def as_count(value: object, argument: str) -> int:
    """A count of at least 1 from an int, or from the text a ``{{ ... }}`` template rendered it to (``"8"``)."""
    from airflow_provider_creatio.client.validation import check_count

    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return check_count(value, argument)


def as_filter(value: object) -> str | Mapping[str, Any] | None:
    """A filter stays a raw OData string unless it is JSON text of a mapping (a rendered template of a dict)."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        return as_mapping(value, "filter")
    if value is None or isinstance(value, (str, Mapping)):
        return value
    raise CreatioValidationError(f"filter must be an OData string or a mapping, got {type(value).__name__}")


def rendered_names(value: object, argument: str) -> list[str]:
    """The entity names an argument holds once rendered: a list, or text (``"Contact,Account"`` or a JSON list)."""
    from airflow_provider_creatio.client.validation import check_entity_name

    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return rendered_names(json.loads(text), argument)
        names: list[object] = [name.strip() for name in text.split(",") if name.strip()]
    elif isinstance(value, Sequence):  # each item as above: a template in a list may render to "Account,Case"
        return [name for item in value for name in rendered_names(item, argument)]
    else:
        names = [value]
    return [check_entity_name(name, argument) for name in names]
