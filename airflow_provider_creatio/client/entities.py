"""Entity flows that take more than one call: idempotent create, upsert, paged reads, bulk writes, record watching.

Every function here takes a *client*: anything with ``execute(call) -> value`` (the sync
:class:`~airflow_provider_creatio.client.transport.CreatioClient`, or a test double). The request builders and
parsers come from :mod:`odata` and :mod:`batch`; nothing here sends bytes itself, and nothing imports Airflow.

The record-watching half (:class:`WatchSpec`, :class:`RecordCondition`, :func:`watch_call`, :func:`evaluate`) is
shared by the sensor (sync client) and the trigger (async client): both build the same call and judge its answer
with the same code, so the two modes cannot drift apart.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from airflow_provider_creatio.client import batch, odata, responses
from airflow_provider_creatio.client import validation as v
from airflow_provider_creatio.client.bulk_operation import BulkOperation
from airflow_provider_creatio.client.errors import (
    CreatioConflictError,
    CreatioNotFoundError,
    CreatioValidationError,
)
from airflow_provider_creatio.client.http import ApiResponse, Call

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 1000


class CallExecutor(Protocol):
    """What the flows need from a client: run one call on its session and return the parsed value."""

    def execute(self, call: Call[T]) -> T: ...


# --- single records -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateOutcome:
    """A created record. ``existed`` is True when a record with that Id was already there: a retry whose first
    answer was lost, or a rerun of the same create; the record returned is then the stored one."""

    record: dict[str, Any]
    existed: bool = False

    @property
    def record_id(self) -> str:
        return str(self.record["Id"])


def create(
    client: CallExecutor,
    entity: str,
    data: Mapping[str, Any],
    record_id: str | uuid.UUID | None = None,
) -> CreateOutcome:
    """Create a record with a client-chosen Id (``record_id``, else ``data["Id"]``, else a new uuid4).

    The POST carries the Id, so the transport may repeat it after a lost answer. When the repeat, or a rerun, finds
    the Id taken (409, or a duplicate-key 500), the record is read back instead of failing: a create keyed by Id
    is idempotent, and never leaves two records."""
    call = odata.create_record(entity, data, record_id)
    new_id = call.request.json_body["Id"]
    try:
        return CreateOutcome(client.execute(call))
    except CreatioConflictError:
        return CreateOutcome(client.execute(odata.get_record(entity, new_id)), existed=True)


class UpsertAction(str, enum.Enum):
    CREATED = "created"
    UPDATED = "updated"


def upsert(
    client: CallExecutor, entity: str, record_id: str | uuid.UUID, data: Mapping[str, Any]
) -> UpsertAction:
    """Update the record, or create it with that Id when it does not exist (seed 003's update semantics).

    Creatio answers a PATCH of a missing record with 404, so the create is done here. If another writer creates
    the same Id between the two calls, the create conflicts and the record is patched after all."""
    update = odata.update_record(entity, record_id, data)
    try:
        client.execute(update)
    except CreatioNotFoundError:
        try:
            client.execute(odata.create_record(entity, data, record_id))
        except CreatioConflictError:
            client.execute(update)
            return UpsertAction.UPDATED
        return UpsertAction.CREATED
    return UpsertAction.UPDATED


# --- paged reads --------------------------------------------------------------------------------------------------


def stable_orderby(orderby: str | Sequence[str] | None) -> str:
    """The caller's ``$orderby`` with ``Id`` appended as a tie-breaker, so that ``$top``/``$skip`` pages neither
    repeat nor skip records that share a sort value. ``Id`` alone when there is no order."""
    rendered = odata.orderby_option(orderby)
    items = rendered.split(",") if rendered else []
    if not any(item.split(" ")[0] == "Id" for item in items):
        items.append("Id")
    return ",".join(items)


@dataclass
class _PageEnd:
    """Decides whether a page was the last one.

    A page shorter than asked is the end only if it is also shorter than what the server gives at most: Creatio
    sites cap the rows of one answer, and a capped page looks short. The first request asks for ``$count``, which
    settles the question at once; without a count, the first short page is taken as the server's cap and one more
    request confirms the end."""

    total: int | None = None
    cap: int | None = None

    def reached(self, fetched: int, got: int, asked: int) -> bool:
        if got == 0 or (self.total is not None and fetched >= self.total):
            return True
        if got >= asked:
            return False
        if self.total is None and self.cap is not None and got < self.cap:
            return True
        self.cap = got
        return False


def iter_records(
    client: CallExecutor,
    entity: str,
    *,
    filter: str | Mapping[str, Any] | None = None,
    select: str | Sequence[str] | None = None,
    expand: str | Sequence[str] | None = None,
    orderby: str | Sequence[str] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    max_records: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Every matching record, page by page (``$top``/``$skip`` with a stable ``$orderby``), until the end or
    ``max_records``. Only the current page is held: each record is released once the caller has taken it, and the
    next page is requested only when the current one is used up."""
    v.check_count(page_size, "page_size")
    if max_records is not None:
        v.check_count(max_records, "max_records", allow_zero=True)
    conditions = odata.build_filter(filter)
    order = stable_orderby(orderby)
    end = _PageEnd()
    fetched = 0
    while max_records is None or fetched < max_records:
        asked = page_size if max_records is None else min(page_size, max_records - fetched)
        page = client.execute(
            odata.query_records(
                entity,
                filter=conditions,
                select=select,
                expand=expand,
                orderby=order,
                top=asked,
                skip=fetched,
                count=fetched == 0,
            )
        )
        if fetched == 0:
            end.total = page.count
        records = page.records
        del page
        got = len(records)
        fetched += got
        records.reverse()  # pop() from the end hands records out in order and drops each one as it goes
        while records:
            yield records.pop()
        if end.reached(fetched, got, asked):
            return


# --- bulk writes through $batch -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordOutcome:
    """What happened to one input record. ``action``: created, updated, deleted, existed (a create whose Id was
    already taken), absent (a delete of a missing record with ``missing_ok``), failed or skipped (not sent, or
    not executed because the batch stopped)."""

    index: int
    record_id: str | None
    ok: bool
    action: str
    status: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "index": self.index,
            "Id": self.record_id,
            "ok": self.ok,
            "action": self.action,
        }
        if not self.ok:
            item["status"] = self.status
            item["error"] = self.error
        return item


@dataclass
class BulkReport:
    operation: BulkOperation
    entity: str
    outcomes: list[RecordOutcome] = field(default_factory=list)
    batch_calls: int = 0

    @property
    def failures(self) -> list[RecordOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]

    @property
    def succeeded(self) -> int:
        return len(self.outcomes) - len(self.failures)

    def counts(self) -> dict[str, int]:
        tally: dict[str, int] = {}
        for outcome in self.outcomes:
            tally[outcome.action] = tally.get(outcome.action, 0) + 1
        return dict(sorted(tally.items()))

    def summary(self) -> dict[str, Any]:
        """A small JSON-able summary (no per-record detail)."""
        return {
            "operation": self.operation.value,
            "entity": self.entity,
            "total": len(self.outcomes),
            "succeeded": self.succeeded,
            "failed": len(self.failures),
            "actions": self.counts(),
            "batch_calls": self.batch_calls,
        }

    def describe_failures(self, limit: int = 10) -> str:
        """One line per failed record (the first ``limit``), with Creatio's own message."""
        lines = [
            f"record #{o.index} (Id {o.record_id or '-'}): {o.action}"
            + (f", HTTP {o.status}" if o.status is not None else "")
            + (f": {o.error}" if o.error else "")
            for o in self.failures[:limit]
        ]
        more = len(self.failures) - limit
        if more > 0:
            lines.append(f"... and {more} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Pending:
    """One valid input record on its way into a batch."""

    index: int
    op: batch.BatchOperation


_OK_ACTIONS = {
    batch.BatchKind.CREATE: "created",
    batch.BatchKind.UPDATE: "updated",
    batch.BatchKind.DELETE: "deleted",
}


def _record_id_of(record: object, operation: BulkOperation) -> str | None:
    if operation is BulkOperation.DELETE and isinstance(record, (str, uuid.UUID)):
        return v.parse_guid(record, "record")
    if not isinstance(record, Mapping):
        allowed = (
            "a mapping of columns or an Id" if operation is BulkOperation.DELETE else "a mapping of columns"
        )
        raise CreatioValidationError(f"each record must be {allowed}, got {type(record).__name__}")
    if record.get("Id") is None:
        if operation is BulkOperation.CREATE:
            return None
        raise CreatioValidationError(f"a record to {operation.value} needs its Id")
    return v.parse_guid(record["Id"], "Id")


def _prepare(operation: BulkOperation, entity: str, record: object) -> batch.BatchOperation:
    record_id = _record_id_of(record, operation)
    if operation is BulkOperation.DELETE:
        return batch.BatchOperation.delete(entity, str(record_id))
    data = record if isinstance(record, Mapping) else {}
    if operation is BulkOperation.CREATE:
        return batch.BatchOperation.create(entity, data, record_id)
    # UPDATE, and UPSERT until the existence lookup decides between update and create.
    return batch.BatchOperation.update(entity, str(record_id), data)


def _safe_id(record: object) -> str | None:
    candidate = record.get("Id") if isinstance(record, Mapping) else record
    return v.parse_guid(candidate, "Id") if v.is_guid(candidate) else None


def _as_create(op: batch.BatchOperation) -> batch.BatchOperation:
    return batch.BatchOperation.create(op.entity, op.data or {}, op.record_id)


def _as_update(op: batch.BatchOperation) -> batch.BatchOperation:
    return batch.BatchOperation.update(op.entity, str(op.record_id), op.data or {})


def _is_conflict(result: batch.BatchResult) -> bool:
    """409, or whatever else the shared classification calls a conflict (a duplicate-key 500 on real sites)."""
    if result.status is None or result.status < 400:
        return False
    return isinstance(responses.error_for_response(result.as_response()), CreatioConflictError)


class _BulkRun:
    """Sends one bulk operation batch by batch and keeps an outcome per input record."""

    def __init__(
        self,
        client: CallExecutor,
        operation: BulkOperation,
        entity: str,
        *,
        continue_on_error: bool,
        missing_ok: bool,
    ) -> None:
        self.client = client
        self.operation = operation
        self.entity = v.check_entity_name(entity)
        self.continue_on_error = continue_on_error
        self.missing_ok = missing_ok
        self.report = BulkReport(operation, self.entity)
        self.outcomes: dict[int, RecordOutcome] = {}
        self.stopped = False

    def prepare(self, records: Sequence[object]) -> list[_Pending]:
        """Validate every record before anything is sent. Without continue_on_error one bad record stops the
        whole run before it touches Creatio."""
        pending: list[_Pending] = []
        for index, record in enumerate(records):
            try:
                pending.append(_Pending(index, _prepare(self.operation, self.entity, record)))
            except CreatioValidationError as err:
                self._note(index, _safe_id(record), "failed", None, err.message)
                self.stopped = not self.continue_on_error
        return pending

    def send(self, pending: list[_Pending], batch_size: int) -> None:
        upserting = self.operation is BulkOperation.UPSERT
        if upserting and pending and not self.stopped:
            pending = self._decide_upserts(pending)
        for start in range(0, len(pending), batch_size):
            chunk = pending[start : start + batch_size]
            if self.stopped:
                for item in chunk:
                    self._note(item.index, item.op.record_id, "skipped", None, "not sent: the run stopped")
                continue
            retries = self._send(chunk, allow_retry=upserting)
            if retries:
                self._send(retries, allow_retry=False)

    def _decide_upserts(self, pending: list[_Pending]) -> list[_Pending]:
        """PATCH for the records that exist, POST with the Id for the others: one lookup for the whole run
        (a ``$batch`` of GETs per 10,000 records), not one per chunk."""
        calls = batch.lookup_calls(self.entity, [str(item.op.record_id) for item in pending])
        self.report.batch_calls += len(calls)
        present = set().union(*(self.client.execute(call) for call in calls))
        return [
            item if item.op.record_id in present else _Pending(item.index, _as_create(item.op))
            for item in pending
        ]

    def _send(self, chunk: list[_Pending], *, allow_retry: bool) -> list[_Pending]:
        """One $batch call. Returns the upserts to send again the other way after a lookup went stale."""
        self.report.batch_calls += 1
        results = self.client.execute(batch.batch_call([item.op for item in chunk], self.continue_on_error))
        retries: list[_Pending] = []
        for item, result in zip(chunk, results, strict=True):
            swapped = self._swap_after_race(item, result) if allow_retry else None
            if swapped is not None:
                retries.append(swapped)
            else:
                self._judge(item, result)
        return retries

    @staticmethod
    def _swap_after_race(item: _Pending, result: batch.BatchResult) -> _Pending | None:
        """The record appeared after the lookup (the create conflicts) or vanished (the update answers 404)."""
        if item.op.kind is batch.BatchKind.CREATE and _is_conflict(result):
            return _Pending(item.index, _as_update(item.op))
        if item.op.kind is batch.BatchKind.UPDATE and result.status == 404:
            return _Pending(item.index, _as_create(item.op))
        return None

    def _judge(self, item: _Pending, result: batch.BatchResult) -> None:
        kind = item.op.kind
        if result.ok:
            self._note(item.index, result.record_id, _OK_ACTIONS[kind], result.status, None)
        elif self.operation is BulkOperation.CREATE and _is_conflict(result):
            self._note(item.index, result.record_id, "existed", result.status, None)
        elif kind is batch.BatchKind.DELETE and result.status == 404 and self.missing_ok:
            self._note(item.index, result.record_id, "absent", result.status, None)
        else:
            action = "skipped" if result.status is None else "failed"
            self._note(item.index, result.record_id, action, result.status, result.error)
            self.stopped = self.stopped or not self.continue_on_error

    def _note(
        self, index: int, record_id: str | None, action: str, status: int | None, error: str | None
    ) -> None:
        ok = action not in ("failed", "skipped")
        self.outcomes[index] = RecordOutcome(index, record_id, ok, action, status, error)

    def finish(self) -> BulkReport:
        self.report.outcomes = [self.outcomes[index] for index in sorted(self.outcomes)]
        return self.report


def bulk(
    client: CallExecutor,
    operation: BulkOperation | str,
    entity: str,
    records: Sequence[object],
    *,
    continue_on_error: bool = True,
    batch_size: int = batch.MAX_BATCH_SIZE,
    missing_ok: bool = False,
) -> BulkReport:
    """Create, update, upsert or delete many records through ``$batch``, ``batch_size`` (at most 100) per call.

    * create: POST with the record's Id, or a new one; an Id already taken is reported as ``existed``.
    * update: PATCH by Id; a missing record fails.
    * upsert: first asks which Ids exist (one ``$batch`` of GETs selecting only the Id, per 10,000 records),
      then sends PATCH or POST-with-Id, one batch per chunk: 1,000 records take 1 + 10 batches. A record that
      appears or vanishes between the lookup and its batch is sent once more the other way.
    * delete: by Id (records may be bare Ids); a missing record fails unless ``missing_ok``.

    With ``continue_on_error`` (``Prefer: continue-on-error``) every record is tried and gets its own outcome;
    without it the run stops at the first failure and the rest are reported as skipped. Records are validated
    before anything is sent; an invalid one is reported as failed with the reason and never sent."""
    kind = BulkOperation(operation)
    if not isinstance(records, Sequence) or isinstance(records, (str, bytes)):
        raise CreatioValidationError(f"records must be a list, got {type(records).__name__}")
    size = v.check_count(batch_size, "batch_size", maximum=batch.MAX_BATCH_SIZE)
    run = _BulkRun(
        client,
        kind,
        entity,
        continue_on_error=continue_on_error,
        missing_ok=missing_ok,
    )
    run.send(run.prepare(records), size)
    return run.finish()


# --- watching one record or a query (sensor and trigger) ----------------------------------------------------------

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
    if v.is_guid(actual) and v.is_guid(expected):
        return v.parse_guid(actual, "value") == v.parse_guid(expected, "value")
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
        v.check_column_path(path, f"{argument} key")
        if path.count("/") > 1:
            raise CreatioValidationError(
                f"{argument} key {path!r} goes through more than one lookup; one level (Status/Name) is supported"
            )
        normalised[path] = [
            v.to_json_value(item, f"{argument}[{path!r}]") for item in _accepted_values(value)
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
        v.check_entity_name(entity)
        if (record_id is None) == (filter is None):
            raise CreatioValidationError("watch either one record (record_id) or a query (filter), not both")
        condition = condition or RecordCondition()
        selected = _split(odata.select_option(select))
        if selected:
            selected = list(dict.fromkeys([*selected, "Id", *condition.columns()]))
        expanded = list(dict.fromkeys([*_split(odata.expand_option(expand)), *condition.expands()]))
        return cls(
            entity=entity,
            record_id=None if record_id is None else v.parse_guid(record_id, "record_id"),
            filter=odata.build_filter(filter) if filter is not None else None,
            select=selected or None,
            expand=expanded or None,
            orderby=odata.orderby_option(orderby),
            top=v.check_count(top, "top"),
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
            top=v.check_count(top, "top"),
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
    DONE = "success"
    FAILED = "failure"
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
            WatchState.FAILED, None, f"{spec.describe} does not exist or has been deleted{detail}"
        )
    for record in snapshot.records:
        absent = condition.missing_paths(record)
        if absent:
            return WatchOutcome(
                WatchState.FAILED,
                record,
                f"{spec.describe}: the record has no {', '.join(absent)} "
                f"(columns: {', '.join(sorted(record)) or 'none'})",
            )
        if condition.is_failure(record):
            return WatchOutcome(
                WatchState.FAILED,
                record,
                f"{spec.describe} reached a failure state: {_shown_values(record, condition.failure)}",
            )
    for record in snapshot.records:
        if condition.is_success(record) and (predicate is None or predicate(record)):
            return WatchOutcome(WatchState.DONE, record, f"{spec.describe}: condition met")
    seen = (
        _shown_values(snapshot.records[0], condition.success)
        if snapshot.records and condition.success
        else f"{len(snapshot.records)} record(s)"
    )
    return WatchOutcome(WatchState.WAITING, None, f"{spec.describe}: not yet ({seen})")


def _shown_values(record: Mapping[str, Any], conditions: Mapping[str, list[Any]]) -> str:
    return ", ".join(f"{path}={value_at(record, path)!r}" for path in conditions)
