"""Bulk writes through ``$batch``: create, update, upsert or delete many records, an outcome for each.

:func:`bulk` takes a *client* (:class:`~.http.CallExecutor`); the ``$batch`` requests and their parsers come from
:mod:`batch`, the existence lookup of an upsert too. Nothing here sends bytes itself, and nothing imports Airflow.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_creatio.client import batch, responses, validation
from airflow_provider_creatio.client.bulk_operation import BulkOperation
from airflow_provider_creatio.client.errors import CreatioConflictError, CreatioValidationError
from airflow_provider_creatio.client.filter_nodes import DEFAULT_MAX_FILTER_NODES
from airflow_provider_creatio.client.http import CallExecutor

# The actions of a record outcome that leave the record as the task asked: what a task wrote, for its asset
# events and lineage.
WRITTEN_ACTIONS = frozenset({"created", "updated", "deleted", "existed"})
FAILURES_NAMED = 10  # failed records named, one line each, in a task's error


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
class BulkTally:
    """What a bulk run did, counted as its outcomes come: records per action, batch calls, and the first
    :data:`FAILURES_NAMED` failures as lines with Creatio's words. The bulk operator tallies its report; the load
    from object storage tallies chunk after chunk, never holding more than one chunk's outcomes. Both tasks'
    XCom is :meth:`summary`."""

    operation: BulkOperation
    entity: str
    actions: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    batch_calls: int = 0
    first_failures: list[str] = field(default_factory=list)

    def add(self, outcome: RecordOutcome, source: str | None = None) -> None:
        """Count one outcome; ``source`` (the input file) starts its failure line."""
        self.actions[outcome.action] += 1
        if outcome.ok:
            return
        self.failed += 1
        if len(self.first_failures) < FAILURES_NAMED:
            status = f", HTTP {outcome.status}" if outcome.status is not None else ""
            reason = f": {outcome.error}" if outcome.error else ""
            where = f"{source} " if source else ""
            self.first_failures.append(
                f"{where}record #{outcome.index} (Id {outcome.record_id or '-'}): {outcome.action}{status}{reason}"
            )

    @property
    def count(self) -> int:
        return sum(self.actions.values())

    @property
    def written(self) -> int:
        """The records left as the task asked (:data:`WRITTEN_ACTIONS`), for lineage."""
        return sum(self.actions[action] for action in WRITTEN_ACTIONS)

    def summary(self) -> dict[str, Any]:
        """The task's XCom: small and JSON-able, counts only (no per-record detail)."""
        return {
            "operation": self.operation.value,
            "entity": self.entity,
            "count": self.count,
            "succeeded": self.count - self.failed,
            "failed": self.failed,
            "actions": dict(sorted(self.actions.items())),
            "batch_calls": self.batch_calls,
        }

    def describe_failures(self) -> str:
        """The first failures, one line each, and how many more there were."""
        more = self.failed - len(self.first_failures)
        return "\n".join([*self.first_failures, *([f"... and {more} more"] if more > 0 else [])])


@dataclass
class BulkReport:
    """Every outcome of one bulk run, in input order."""

    operation: BulkOperation
    entity: str
    outcomes: list[RecordOutcome] = field(default_factory=list)
    batch_calls: int = 0

    def tally(self) -> BulkTally:
        tally = BulkTally(self.operation, self.entity, batch_calls=self.batch_calls)
        for outcome in self.outcomes:
            tally.add(outcome)
        return tally


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
        return validation.parse_guid(record, "record")
    if not isinstance(record, Mapping):
        allowed = (
            "a mapping of columns or an Id" if operation is BulkOperation.DELETE else "a mapping of columns"
        )
        raise CreatioValidationError(f"each record must be {allowed}, got {type(record).__name__}")
    if record.get("Id") is None:
        if operation is BulkOperation.CREATE:
            return None
        raise CreatioValidationError(f"a record to {operation.value} needs its Id")
    return validation.parse_guid(record["Id"], "Id")


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
    return validation.parse_guid(candidate, "Id") if validation.is_guid(candidate) else None


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
        max_filter_nodes: int,
    ) -> None:
        self.client = client
        self.max_filter_nodes = max_filter_nodes
        self.operation = operation
        self.entity = validation.check_entity_name(entity)
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
                self._set_outcome(index, _safe_id(record), "failed", None, err.message)
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
                    self._set_outcome(
                        item.index, item.op.record_id, "skipped", None, "not sent: the run stopped"
                    )
                continue
            retries = self._send(chunk, allow_retry=upserting)
            if retries:
                self._send(retries, allow_retry=False)

    def _decide_upserts(self, pending: list[_Pending]) -> list[_Pending]:
        """PATCH for the records that exist, POST with the Id for the others: one lookup for the whole run
        (a ``$batch`` of GETs per 2,000 records at Creatio's default filter limit), not one per chunk."""
        ids = [str(item.op.record_id) for item in pending]
        calls = batch.lookup_calls(self.entity, ids, self.max_filter_nodes)
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
                self._apply_result(item, result)
        return retries

    @staticmethod
    def _swap_after_race(item: _Pending, result: batch.BatchResult) -> _Pending | None:
        """The record appeared after the lookup (the create conflicts) or vanished (the update answers 404)."""
        if item.op.kind is batch.BatchKind.CREATE and _is_conflict(result):
            return _Pending(item.index, _as_update(item.op))
        if item.op.kind is batch.BatchKind.UPDATE and result.status == 404:
            return _Pending(item.index, _as_create(item.op))
        return None

    def _apply_result(self, item: _Pending, result: batch.BatchResult) -> None:
        """Set the record's outcome from its part of the batch answer; a failure stops the run unless
        continue_on_error."""
        kind = item.op.kind
        if result.ok:
            self._set_outcome(item.index, result.record_id, _OK_ACTIONS[kind], result.status, None)
        elif self.operation is BulkOperation.CREATE and _is_conflict(result):
            self._set_outcome(item.index, result.record_id, "existed", result.status, None)
        elif kind is batch.BatchKind.DELETE and result.status == 404 and self.missing_ok:
            self._set_outcome(item.index, result.record_id, "absent", result.status, None)
        else:
            action = "skipped" if result.status is None else "failed"
            self._set_outcome(item.index, result.record_id, action, result.status, result.error)
            self.stopped = self.stopped or not self.continue_on_error

    def _set_outcome(
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
    max_filter_nodes: int = DEFAULT_MAX_FILTER_NODES,
) -> BulkReport:
    """Create, update, upsert or delete many records through ``$batch``, ``batch_size`` (at most 100) per call.

    * create: POST with the record's Id, or a new one; an Id already taken is reported as ``existed``.
    * update: PATCH by Id; a missing record fails (404) or is created with that Id, as the site does.
    * upsert: first asks which Ids exist (one ``$batch`` of GETs selecting only the Id, each ``$filter`` within
      ``max_filter_nodes``, the site's ``MaxNodeCount``: 20 Ids per GET, 2,000 per batch at the default of
      100), then sends PATCH or POST-with-Id, one batch per chunk: 1,000 records take 1 + 10 batches. A record
      that appears or vanishes between the lookup and its batch is sent once more the other way.
    * delete: by Id (records may be bare Ids); a missing record fails unless ``missing_ok``.

    With ``continue_on_error`` (``Prefer: continue-on-error``) every record is tried and gets its own outcome;
    without it the run stops at the first failure and the rest are reported as skipped. Records are validated
    before anything is sent; an invalid one is reported as failed with the reason and never sent."""
    kind = BulkOperation(operation)
    if not isinstance(records, Sequence) or isinstance(records, (str, bytes)):
        raise CreatioValidationError(f"records must be a list, got {type(records).__name__}")
    size = validation.check_count(batch_size, "batch_size", maximum=batch.MAX_BATCH_SIZE)
    run = _BulkRun(
        client,
        kind,
        entity,
        continue_on_error=continue_on_error,
        missing_ok=missing_ok,
        max_filter_nodes=max_filter_nodes,
    )
    run.send(run.prepare(records), size)
    return run.finish()


def api_calls_needed(
    operation: BulkOperation | str,
    entity: str,
    records: Sequence[object],
    max_filter_nodes: int = DEFAULT_MAX_FILTER_NODES,
) -> int:
    """The API calls :func:`bulk` spends on ``records``, as Creatio counts them: one per record it sends (each
    operation of a ``$batch`` apart; an invalid record is never sent), and for an upsert one per lookup GET
    (:func:`batch.lookup_ids_per_request` distinct Ids each). Exact, except that a record that appears or
    vanishes between an upsert's lookup and its write is sent once more, and a run without continue_on_error
    that stops early sends fewer."""
    kind = BulkOperation(operation)
    name = validation.check_entity_name(entity)
    ids: set[str | None] = set()
    sent = 0
    for record in records:
        try:
            op = _prepare(kind, name, record)
        except CreatioValidationError:
            continue
        sent += 1
        ids.add(op.record_id)
    if kind is not BulkOperation.UPSERT:
        return sent
    return sent + math.ceil(len(ids) / batch.lookup_ids_per_request(max_filter_nodes))
