"""Watching one record or a query until it meets a condition: shared by the sensor and the trigger.

The sensor (sync client) and the trigger (async client) build the same request (:func:`watch_call`) and judge its
answer with the same code (:func:`evaluate`), so the two modes cannot drift apart. What to watch
(:class:`WatchSpec`) and when to stop (:class:`RecordCondition`) are plain JSON data, so a trigger can carry them.
Nothing here sends bytes itself, and nothing imports Airflow.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_creatio.client import odata, responses, validation
from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.client.http import ApiResponse, Call

_MISSING = object()


def value_at(record: Mapping[str, Any], path: str) -> Any:
    """The value at a column path: ``Name``, or ``Status/Name`` through an expanded lookup. ``Status/Id`` falls back
    to the flat ``StatusId`` column that records carry without ``$expand``. Returns a private sentinel when the
    path is not in the record (see :func:`has_path`)."""
    current: Any = record
    parts = path.split("/")
    for position, part in enumerate(parts):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
            continue
        if position == 0 and len(parts) == 2 and parts[1] == "Id" and f"{part}Id" in record:
            return record[f"{part}Id"]
        return _MISSING
    return current


def has_path(record: Mapping[str, Any], path: str) -> bool:
    return value_at(record, path) is not _MISSING


def values_equal(actual: Any, expected: Any) -> bool:
    """Equality as Creatio means it: GUIDs in any case or brace form, numbers by value (never a bool as a number)."""
    if validation.is_guid(actual) and validation.is_guid(expected):
        return validation.parse_guid(actual, "value") == validation.parse_guid(expected, "value")
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    return bool(actual == expected)


def _accepted_values(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple, set, frozenset)):
        values = list(value)
        if not values:
            raise CreatioValidationError("a condition's list of values is empty; no record can match it")
        return values
    return [value]


@dataclass(frozen=True)
class RecordCondition:
    """Field conditions on a record: every path must hold one of its accepted values (a list means "one of").

    ``success`` says when the wait is over, ``failure`` when it can never end well (the record reached a
    failure state). Both are plain JSON data, so a trigger can carry them."""

    success: Mapping[str, list[Any]] = field(default_factory=dict)
    failure: Mapping[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, success: Mapping[str, Any] | None = None, failure: Mapping[str, Any] | None = None
    ) -> RecordCondition:
        return cls(_normalise(success, "success_values"), _normalise(failure, "failure_values"))

    @property
    def paths(self) -> list[str]:
        return list(dict.fromkeys([*self.success, *self.failure]))

    def expands(self) -> list[str]:
        """Navigation properties to ``$expand`` so that every path can be read (``Status/Id`` needs none)."""
        return list(
            dict.fromkeys(path.split("/")[0] for path in self.paths if "/" in path and not _flat_lookup(path))
        )

    def columns(self) -> list[str]:
        """Columns to keep in a ``$select`` so that every path can be read (``Status/Id`` reads ``StatusId``;
        ``Status/Name`` comes with the expanded lookup, which ``$select`` does not restrict)."""
        flat = [
            path.replace("/", "") if _flat_lookup(path) else path
            for path in self.paths
            if "/" not in path or _flat_lookup(path)
        ]
        return list(dict.fromkeys(flat))

    def missing_paths(self, record: Mapping[str, Any]) -> list[str]:
        return [path for path in self.paths if not has_path(record, path)]

    @staticmethod
    def _holds(conditions: Mapping[str, list[Any]], record: Mapping[str, Any]) -> bool:
        return all(
            any(values_equal(value_at(record, path), accepted) for accepted in values)
            for path, values in conditions.items()
        )

    def is_success(self, record: Mapping[str, Any]) -> bool:
        return self._holds(self.success, record)

    def is_failure(self, record: Mapping[str, Any]) -> bool:
        return bool(self.failure) and self._holds(self.failure, record)


def _flat_lookup(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 2 and parts[1] == "Id"


def _normalise(conditions: Mapping[str, Any] | None, argument: str) -> dict[str, list[Any]]:
    if conditions is None:
        return {}
    if not isinstance(conditions, Mapping):
        raise CreatioValidationError(
            f"{argument} must map column paths to a value or a list of values, got {type(conditions).__name__}"
        )
    normalised: dict[str, list[Any]] = {}
    for path, value in conditions.items():
        validation.check_column_path(path, f"{argument} key")
        if path.count("/") > 1:
            raise CreatioValidationError(
                f"{argument} key {path!r} goes through more than one lookup; one level (Status/Name) is supported"
            )
        normalised[path] = [
            validation.to_json_value(item, f"{argument}[{path!r}]") for item in _accepted_values(value)
        ]
    return normalised


@dataclass(frozen=True)
class WatchSpec:
    """What a sensor or trigger looks at: one record by Id, or the first ``top`` records of a query."""

    entity: str
    record_id: str | None = None
    filter: str | None = None
    select: list[str] | None = None
    expand: list[str] | None = None
    orderby: str | None = None
    top: int = 1

    @classmethod
    def build(
        cls,
        entity: str,
        *,
        record_id: str | uuid.UUID | None = None,
        filter: str | Mapping[str, Any] | None = None,
        select: str | Sequence[str] | None = None,
        expand: str | Sequence[str] | None = None,
        orderby: str | Sequence[str] | None = None,
        top: int = 1,
        condition: RecordCondition | None = None,
    ) -> WatchSpec:
        """Validated and normalised; the columns and lookups the condition reads are added to select/expand."""
        validation.check_entity_name(entity)
        if (record_id is None) == (filter is None):
            raise CreatioValidationError("watch either one record (record_id) or a query (filter), not both")
        condition = condition or RecordCondition()
        selected = _split(odata.select_option(select))
        if selected:
            selected = list(dict.fromkeys([*selected, "Id", *condition.columns()]))
        expanded = list(dict.fromkeys([*_split(odata.expand_option(expand)), *condition.expands()]))
        return cls(
            entity=entity,
            record_id=None if record_id is None else validation.parse_guid(record_id, "record_id"),
            filter=odata.build_filter(filter) if filter is not None else None,
            select=selected or None,
            expand=expanded or None,
            orderby=odata.orderby_option(orderby),
            top=validation.check_count(top, "top"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "record_id": self.record_id,
            "filter": self.filter,
            "select": self.select,
            "expand": self.expand,
            "orderby": self.orderby,
            "top": self.top,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WatchSpec:
        top = data.get("top", 1)
        return cls(
            entity=str(data["entity"]),
            record_id=data.get("record_id"),
            filter=data.get("filter"),
            select=data.get("select"),
            expand=data.get("expand"),
            orderby=data.get("orderby"),
            top=validation.check_count(top, "top"),
        )

    @property
    def describe(self) -> str:
        if self.record_id is not None:
            return f"{self.entity}({self.record_id})"
        return f"{self.entity} where {self.filter or 'any'}"


def _split(rendered: str | None) -> list[str]:
    return rendered.split(",") if rendered else []


@dataclass(frozen=True)
class WatchSnapshot:
    """One look: the records seen (empty for an empty query), or ``missing`` when the watched record is gone."""

    records: list[dict[str, Any]]
    missing: bool = False
    server_message: str | None = None


def watch_call(spec: WatchSpec) -> Call[WatchSnapshot]:
    """The one request of a poke. A 404 of the watched record is an answer here, not an error: the sensor and
    the trigger both turn it into "the record disappeared"."""
    if spec.record_id is not None:
        base = odata.get_record(spec.entity, spec.record_id, spec.select, spec.expand)

        def parse_record(response: ApiResponse) -> WatchSnapshot:
            if response.status == 404:
                return WatchSnapshot([], missing=True, server_message=responses.server_message(response))
            return WatchSnapshot([base.parse(response)])

        return Call(base.request, parse_record, accept_statuses=frozenset({404}))
    query = odata.query_records(
        spec.entity,
        filter=spec.filter,
        select=spec.select,
        expand=spec.expand,
        orderby=spec.orderby,
        top=spec.top,
    )
    return Call(query.request, lambda response: WatchSnapshot(query.parse(response).records))


class WatchState(str, enum.Enum):
    """The verdict of one look. The values of SUCCESS and FAILURE are also the trigger event's ``status``."""

    SUCCESS = "success"
    FAILURE = "failure"
    WAITING = "waiting"


@dataclass(frozen=True)
class WatchOutcome:
    state: WatchState
    record: dict[str, Any] | None = None
    message: str = ""


def evaluate(
    spec: WatchSpec,
    condition: RecordCondition,
    snapshot: WatchSnapshot,
    predicate: Callable[[dict[str, Any]], bool] | None = None,
) -> WatchOutcome:
    """Judge one look. Failure wins over success; a missing record, or a condition column absent from the record
    (a typo, or a column left out of ``select``), fails at once instead of waiting for ever."""
    if snapshot.missing:
        detail = f" (Creatio says: {snapshot.server_message})" if snapshot.server_message else ""
        return WatchOutcome(
            WatchState.FAILURE, None, f"{spec.describe} does not exist or has been deleted{detail}"
        )
    for record in snapshot.records:
        absent = condition.missing_paths(record)
        if absent:
            return WatchOutcome(
                WatchState.FAILURE,
                record,
                f"{spec.describe}: the record has no {', '.join(absent)} "
                f"(columns: {', '.join(sorted(record)) or 'none'})",
            )
        if condition.is_failure(record):
            return WatchOutcome(
                WatchState.FAILURE,
                record,
                f"{spec.describe} reached a failure state: {_shown_values(record, condition.failure)}",
            )
    for record in snapshot.records:
        if condition.is_success(record) and (predicate is None or predicate(record)):
            return WatchOutcome(WatchState.SUCCESS, record, f"{spec.describe}: condition met")
    seen = (
        _shown_values(snapshot.records[0], condition.success)
        if snapshot.records and condition.success
        else f"{len(snapshot.records)} record(s)"
    )
    return WatchOutcome(WatchState.WAITING, None, f"{spec.describe}: not yet ({seen})")


def _shown_values(record: Mapping[str, Any], conditions: Mapping[str, list[Any]]) -> str:
    return ", ".join(f"{path}={value_at(record, path)!r}" for path in conditions)
