"""OData 4 entity calls: build the request, parse the successful answer. No I/O here.

Paths are relative to the OData root (``{base}[/0]/odata/``): ``Contact``, ``Contact(<guid>)``,
``Contact/$count``. Every entity name, record id and column is validated before anything is built.

``$filter`` from a mapping (:func:`build_filter`)::

    {"Name": "O'Brien"}                      Name eq 'O''Brien'
    {"Status/Id": "3e7f420c-..."}            Status/Id eq 3e7f420c-...        (GUIDs are unquoted)
    {"ModifiedOn__ge": datetime(...)}        ModifiedOn ge 2024-01-01T00:00:00Z
    {"Type/Name": ["A", "B"]}                (Type/Name eq 'A' or Type/Name eq 'B')
    {"Name__ne": ["A", "B"]}                 (Name ne 'A' and Name ne 'B')
    {"Email__contains": "@example"}          contains(Email,'@example')
    {"Owner": None}                          Owner eq null

A key is a column path, optionally followed by ``__`` and an operator (``eq`` when absent): ``eq``, ``ne``,
``gt``, ``ge``, ``lt``, ``le``, ``contains``, ``startswith``, ``endswith``. Conditions are joined with
``and``. Values become literals and nothing else: a value can never add a condition or change the filter's
shape. Literal rules are in :func:`filter_literal`. A string filter is the caller's own OData expression and
is sent unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_creatio.client import validation
from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.client.http import (
    ApiRequest,
    ApiResponse,
    Call,
    Idempotency,
    Service,
)
from airflow_provider_creatio.client.responses import decode_json, unreadable

ACCEPT_JSON: Mapping[str, str] = {"Accept": "application/json"}
# IEEE754Compatible lets Creatio read and write Int64/Decimal values as strings without losing digits.
JSON_CONTENT_TYPE = "application/json; charset=utf-8; IEEE754Compatible=true"
SEND_JSON: Mapping[str, str] = {**ACCEPT_JSON, "Content-Type": JSON_CONTENT_TYPE}

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
# What the provider's arguments take for a query option, everywhere: columns as text ("Name,Email") or a list; a
# filter as the caller's own OData expression or a mapping of column paths to values.
Columns = str | Sequence[str] | None
Filter = str | Mapping[str, Any] | None
STRING_FUNCTIONS = frozenset({"contains", "startswith", "endswith"})


# --- query strings and JSON answers, shared with the transports, batch.py and process.py --------------------


def _json_object(response: ApiResponse, operation: str) -> dict[str, Any]:
    document = decode_json(response, operation=operation)
    if not isinstance(document, dict):
        raise unreadable(response, f"expected a JSON object, got {type(document).__name__}", operation)
    return document


def record_from_json(document: Mapping[str, Any]) -> dict[str, Any]:
    """A record without its instance annotations (``@odata.context`` and the like): only columns remain."""
    return {key: value for key, value in document.items() if not key.startswith("@")}


# --- names, ids and bodies ----------------------------------------------------------------------------------


def entity_path(entity: str) -> str:
    """``Contact``: the collection path, after validating the name."""
    return validation.check_entity_name(entity)


def record_path(entity: str, record_id: str | uuid.UUID) -> str:
    """``Contact(<guid>)``: one record's path, after validating both parts (a missing id is an error, never
    the collection)."""
    return f"{validation.check_entity_name(entity)}({validation.parse_guid(record_id, 'record_id')})"


def record_body(data: object, argument: str = "data") -> dict[str, Any]:
    """A record body for a write: a mapping of column names to scalar JSON values (see
    :func:`validation.to_json_value` for conversions). Lookups are written through their flat ``<Name>Id``
    column; nested objects and lists are refused because Creatio columns hold single values."""
    if not isinstance(data, Mapping):
        raise CreatioValidationError(
            f"{argument} must be a mapping of column names to values, got {type(data).__name__}"
        )
    body: dict[str, Any] = {}
    for key, value in data.items():
        column = validation.check_column_name(key, f"{argument} key")
        converted = validation.to_json_value(value, f"{argument}[{column!r}]")
        if isinstance(converted, (dict, list)):
            raise CreatioValidationError(
                f"{argument}[{column!r}] must be a single value, got {type(value).__name__} "
                "(Creatio columns hold one value; write lookups through their <Name>Id column)"
            )
        body[column] = converted
    return body


# --- $select, $expand, $orderby -----------------------------------------------------------------------------


def listed_items(value: Columns, argument: str) -> list[str]:
    """The items of ``$select``, ``$expand`` or ``$orderby`` given as ``"A, B"`` or ``["A", "B"]``: stripped,
    blanks and duplicates dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, Sequence):
        parts = list(value)
    else:
        raise CreatioValidationError(
            f"{argument} must be a comma-separated string or a list of strings, got {type(value).__name__}"
        )
    items: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise CreatioValidationError(f"{argument} items must be strings, got {validation.shown(part)}")
        item = part.strip()
        if item and item not in items:
            items.append(item)
    return items


def select_option(value: str | Sequence[str] | None) -> str | None:
    """``$select`` from ``"Id, Name"`` or ``["Id", "Name"]``: validated column paths, duplicates dropped."""
    columns = [validation.check_column_path(item, "select") for item in listed_items(value, "select")]
    return ",".join(columns) or None


def expand_option(value: str | Sequence[str] | None) -> str | None:
    """``$expand`` from a string or a list of navigation paths (``Account``, ``Owner``). Nested query options
    such as ``Account($select=Name)`` are not supported here; use a raw OData string in that case."""
    paths = [validation.check_column_path(item, "expand") for item in listed_items(value, "expand")]
    return ",".join(paths) or None


def orderby_option(value: str | Sequence[str] | None) -> str | None:
    """``$orderby`` from ``"Name, CreatedOn desc"`` or ``["Name", "CreatedOn desc"]``. Each item is a column
    path, optionally followed by ``asc`` or ``desc`` (any case; written in lower case)."""
    rendered = []
    for item in listed_items(value, "orderby"):
        path, _, direction = item.partition(" ")
        direction = direction.strip().lower()
        if direction not in ("", "asc", "desc"):
            raise CreatioValidationError(
                f"orderby item {validation.shown(item)} must be a column path optionally followed by asc or desc"
            )
        validation.check_column_path(path, "orderby")
        rendered.append(f"{path} {direction}" if direction else path)
    return ",".join(rendered) or None


# --- $filter ------------------------------------------------------------------------------------------------


def filter_literal(value: object, argument: str = "filter value") -> str:
    """One OData literal. Strings are single-quoted with an inner quote doubled (``'O''Brien'``); a string
    that is a GUID (see :mod:`validation`) and a UUID are written unquoted in lower case; bool ->
    ``true``/``false``; int, float, Decimal -> plain decimal notation; None -> ``null``; datetime -> unquoted
    ISO 8601 UTC with ``Z`` (naive = UTC); date -> ``YYYY-MM-DD``. Anything else is refused."""
    if value is None:
        return "null"
    if (text := validation.scalar_text(value, argument)) is not None:
        return text
    if isinstance(value, str):
        if validation.is_guid(value):
            return validation.parse_guid(value, argument)
        return "'" + value.replace("'", "''") + "'"
    raise CreatioValidationError(
        f"{argument} has type {type(value).__name__}, which has no OData literal "
        "(use str, int, float, Decimal, bool, None, UUID, date or datetime)"
    )


def split_filter_key(key: object) -> tuple[str, str]:
    """A filter mapping's key as ``(column path, operator)``: ``"Name__contains"`` -> ``("Name", "contains")``."""
    if not isinstance(key, str):
        raise CreatioValidationError(f"filter keys must be column paths, got {validation.shown(key)}")
    path, separator, operator = key.rpartition("__")
    if separator and operator.lower() in COMPARISONS | STRING_FUNCTIONS:
        return validation.check_column_path(path, "filter key"), operator.lower()
    return validation.check_column_path(key, "filter key"), "eq"


def _condition(path: str, operator: str, value: object) -> str:
    argument = f"filter value for {path}"
    if operator in STRING_FUNCTIONS:
        if not isinstance(value, str):
            raise CreatioValidationError(
                f"{argument} must be a string for {operator}, got {validation.shown(value)}"
            )
        return f"{operator}({path},{filter_literal(value, argument)})"
    if value is None and operator not in ("eq", "ne"):
        raise CreatioValidationError(f"{argument} cannot be null with {operator}; use eq or ne")
    return f"{path} {operator} {filter_literal(value, argument)}"


def _one_of(path: str, operator: str, values: Iterable[object]) -> str:
    argument = f"filter value for {path}"
    if operator not in ("eq", "ne"):
        raise CreatioValidationError(f"{argument} may be a list only with eq or ne, not {operator}")
    conditions = [_condition(path, operator, item) for item in values]
    if not conditions:
        raise CreatioValidationError(f"{argument} is an empty list, which no record can match")
    if len(conditions) == 1:
        return conditions[0]
    joiner = " or " if operator == "eq" else " and "
    return "(" + joiner.join(conditions) + ")"


def build_filter(conditions: Filter) -> str | None:
    """A ``$filter`` expression, or None when there is nothing to filter on (None, a blank string, an empty
    mapping). See the module docstring for the mapping form."""
    if conditions is None:
        return None
    if isinstance(conditions, str):
        return conditions if conditions.strip() else None
    if not isinstance(conditions, Mapping):
        raise CreatioValidationError(
            f"filter must be an OData string or a mapping of column paths to values, got "
            f"{type(conditions).__name__}"
        )
    parts = []
    for key, value in conditions.items():
        path, operator = split_filter_key(key)
        if isinstance(value, (list, tuple)):
            parts.append(_one_of(path, operator, value))
        elif isinstance(value, (set, frozenset)):
            parts.append(_one_of(path, operator, sorted(value, key=repr)))  # a stable order for a stable URL
        else:
            parts.append(_condition(path, operator, value))
    return " and ".join(parts) or None


# --- calls --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryPage:
    """One page of a query: the records (annotations removed) and ``@odata.count`` when it was asked for."""

    records: list[dict[str, Any]]
    count: int | None = None


def create_record(
    entity: str, data: Mapping[str, Any], record_id: str | uuid.UUID | None = None
) -> Call[dict[str, Any]]:
    """POST a new record; the answer (201) is the record as stored.

    The body always carries an ``Id``: ``record_id``, else ``data["Id"]``, else a fresh uuid4. Because of it
    the call is SAFE to retry: if a first try reached Creatio and only its answer was lost, the second try
    cannot add a duplicate (Creatio refuses an existing Id with a conflict; the caller reads that Id back)."""
    path = entity_path(entity)
    body = record_body(data)
    candidates = ((record_id, "record_id"), (body.get("Id"), "data['Id']"))
    given = [validation.parse_guid(value, name) for value, name in candidates if value is not None]
    if len(set(given)) > 1:
        raise CreatioValidationError(f"record_id {given[0]} and data['Id'] {given[1]} disagree")
    new_id = given[0] if given else str(uuid.uuid4())
    body = {"Id": new_id, **{k: value for k, value in body.items() if k != "Id"}}
    operation = f"create {path}({new_id})"

    def parse(response: ApiResponse) -> dict[str, Any]:
        if (
            not response.content.strip()
        ):  # a server that answers 204 / return=minimal: the record is what we sent
            return dict(body)
        return record_from_json(_json_object(response, operation))

    request = ApiRequest(
        "POST",
        Service.ODATA,
        path,
        json_body=body,
        headers=SEND_JSON,
        idempotency=Idempotency.SAFE,
        operation=operation,
    )
    return Call(request, parse)


def get_record(
    entity: str,
    record_id: str | uuid.UUID,
    select: str | Sequence[str] | None = None,
    expand: str | Sequence[str] | None = None,
) -> Call[dict[str, Any]]:
    """GET one record (404 raises not-found in the transport)."""
    path = record_path(entity, record_id)
    params = _options(("$select", select_option(select)), ("$expand", expand_option(expand)))
    operation = f"get {path}"
    request = ApiRequest("GET", Service.ODATA, path, params, headers=ACCEPT_JSON, operation=operation)
    return Call(request, lambda response: record_from_json(_json_object(response, operation)))


def update_record(entity: str, record_id: str | uuid.UUID, data: Mapping[str, Any]) -> Call[None]:
    """PATCH the given columns of one record (204). ``data`` may repeat the record's own Id, nothing else."""
    path = record_path(entity, record_id)
    body = record_body(data)
    if "Id" in body:
        if validation.parse_guid(body["Id"], "data['Id']") != validation.parse_guid(record_id, "record_id"):
            raise CreatioValidationError(f"data['Id'] {body['Id']} differs from record_id {record_id}")
        del body["Id"]
    if not body:
        raise CreatioValidationError(f"update of {path} has no column to change")
    request = ApiRequest(
        "PATCH", Service.ODATA, path, json_body=body, headers=SEND_JSON, operation=f"update {path}"
    )
    return Call(request, lambda response: None)


def delete_record(entity: str, record_id: str | uuid.UUID, missing_ok: bool = False) -> Call[bool]:
    """DELETE one record: True when deleted; with ``missing_ok`` a 404 is a normal answer and gives False."""
    path = record_path(entity, record_id)
    request = ApiRequest("DELETE", Service.ODATA, path, headers=ACCEPT_JSON, operation=f"delete {path}")
    accepted = frozenset({404}) if missing_ok else frozenset()
    return Call(request, lambda response: response.status != 404, accept_statuses=accepted)


def query_records(
    entity: str,
    *,
    filter: str | Mapping[str, Any] | None = None,
    select: str | Sequence[str] | None = None,
    expand: str | Sequence[str] | None = None,
    orderby: str | Sequence[str] | None = None,
    top: int | None = None,
    skip: int | None = None,
    count: bool = False,
) -> Call[QueryPage]:
    """GET a collection. Creatio documents no ``@odata.nextLink``: page with ``top``/``skip`` and a stable
    ``orderby``."""
    path = entity_path(entity)
    params = _options(
        ("$filter", build_filter(filter)),
        ("$select", select_option(select)),
        ("$expand", expand_option(expand)),
        ("$orderby", orderby_option(orderby)),
        ("$top", None if top is None else str(validation.check_count(top, "top", allow_zero=True))),
        ("$skip", None if skip is None else str(validation.check_count(skip, "skip", allow_zero=True))),
        ("$count", "true" if count else None),
    )
    operation = f"query {path}"

    def parse(response: ApiResponse) -> QueryPage:
        document = _json_object(response, operation)
        rows = document.get("value")
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise unreadable(response, "expected a 'value' list of records", operation)
        total = document.get("@odata.count")
        return QueryPage([record_from_json(row) for row in rows], _as_count(total, response, operation))

    request = ApiRequest("GET", Service.ODATA, path, params, headers=ACCEPT_JSON, operation=operation)
    return Call(request, parse)


def count_records(entity: str, filter: str | Mapping[str, Any] | None = None) -> Call[int]:
    """GET ``Entity/$count``: the number of matching records (a plain-text number, or a JSON one)."""
    name = entity_path(entity)
    params = _options(("$filter", build_filter(filter)))
    operation = f"count {name}"

    def parse(response: ApiResponse) -> int:
        if response.content_type in ("", "text/plain"):
            number: object = response.text.strip()
        else:
            number = decode_json(response, operation=operation)
        total = _as_count(number, response, operation)
        if total is None:
            raise unreadable(response, "expected a count but the body is empty", operation)
        return total

    request = ApiRequest("GET", Service.ODATA, f"{name}/$count", params, operation=operation)
    return Call(request, parse)


def _options(*pairs: tuple[str, str | None]) -> tuple[tuple[str, str], ...]:
    return tuple((key, value) for key, value in pairs if value is not None)


def _as_count(value: object, response: ApiResponse, operation: str) -> int | None:
    """A count as int: IEEE754Compatible servers send Int64 values as strings."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise unreadable(response, f"expected a non-negative count, got {validation.shown(value)}", operation)
