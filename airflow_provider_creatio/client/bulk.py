"""Bulk writes through ``$batch``: create, update, upsert or delete many records, an outcome for each.

:func:`bulk` (a list) and :class:`BulkRun` (a stream, for loads) take a *client* (:class:`~.http.CallExecutor`,
:class:`~.lanes.Lanes` to send several batches at once); the ``$batch`` requests and their parsers come from
:mod:`batch`, the existence lookup of an upsert too. Nothing here sends bytes itself, and nothing imports Airflow.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from airflow_provider_creatio.client import batch, responses, validation
from airflow_provider_creatio.client.bulk_operation import BulkOperation
from airflow_provider_creatio.client.errors import CreatioConflictError, CreatioValidationError
from airflow_provider_creatio.client.filter_nodes import DEFAULT_MAX_FILTER_NODES
from airflow_provider_creatio.client.http import CallExecutor
from airflow_provider_creatio.client.lanes import MAX_CONCURRENCY

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


def _outcome(
    index: int, record_id: str | None, action: str, status: int | None, error: str | None
) -> RecordOutcome:
    return RecordOutcome(index, record_id, action not in ("failed", "skipped"), action, status, error)


def _not_sent(index: int, record_id: str | None) -> RecordOutcome:
    return _outcome(index, record_id, "skipped", None, "not sent: the run stopped")


@dataclass
class _Group:
    """Records validated and looked up together (the whole list of :func:`bulk`, one chunk of a load): their
    outcomes by index, given out once every batch of the group is answered."""

    outcomes: dict[int, RecordOutcome] = field(default_factory=dict)
    unanswered: int = 0  # batches started and not answered yet
    sealed: bool = False  # every batch of the group has been started

    @property
    def done(self) -> bool:
        return self.sealed and not self.unanswered


@dataclass(frozen=True)
class _Answered:
    """What one lane made of one batch: its records' outcomes and the ``$batch`` calls it took."""

    outcomes: list[RecordOutcome]
    calls: int


class _StopPoint:
    """The number of the last batch a stopped run may send, set by the first failure that stops it (in any lane):
    the batches before it are still sent, as they would have been one after the other."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: int | None = None

    def set(self, last: int) -> None:
        with self._lock:
            self._last = last if self._last is None else min(self._last, last)

    def passed(self, batch_number: int) -> bool:
        """Whether batch ``batch_number`` comes after the stop, so must not be sent."""
        last = self._last
        return last is not None and batch_number > last


class BulkRun:
    """One bulk operation, sent batch by batch on up to ``concurrency`` lanes at once, with an outcome per record.

    Feed it with :meth:`outcomes` (once, or once per input file: the stop and ``batch_calls`` carry over), and use
    it as a context manager, so that its lanes end with it. With ``concurrency`` 1 each batch is sent in the
    calling thread, one after the other. With more, the batches go to a pool of that many threads while the
    calling thread validates the next records and looks up the next upserts; at most ``concurrency`` batches are
    started and not yet collected, so memory stays flat however long the input. ``client`` should then be
    :class:`~.lanes.Lanes` of the same ``concurrency``, which also bounds the requests in flight, lookups
    included. Outcomes, retries and Ids do not depend on the lane count; only which of two writes of one Id in
    one run lands last does."""

    def __init__(
        self,
        client: CallExecutor,
        operation: BulkOperation | str,
        entity: str,
        *,
        continue_on_error: bool = True,
        batch_size: int = batch.MAX_BATCH_SIZE,
        missing_ok: bool = False,
        max_filter_nodes: int = DEFAULT_MAX_FILTER_NODES,
        concurrency: int = 1,
    ) -> None:
        self.client = client
        self.operation = BulkOperation(operation)
        self.entity = validation.check_entity_name(entity)
        self.batch_size = validation.check_count(batch_size, "batch_size", maximum=batch.MAX_BATCH_SIZE)
        self.concurrency = validation.check_count(concurrency, "concurrency", maximum=MAX_CONCURRENCY)
        self.continue_on_error = continue_on_error
        self.missing_ok = missing_ok
        self.max_filter_nodes = max_filter_nodes
        self.batch_calls = 0
        self._stop = _StopPoint()
        self._started = 0  # batches started: the number of the next one
        self._pool = (
            ThreadPoolExecutor(self.concurrency, thread_name_prefix="creatio-lane")
            if self.concurrency > 1
            else None
        )

    def __enter__(self) -> BulkRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Wait for the batches in flight (a failure may leave some uncollected) and end the lanes' threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def outcomes(self, groups: Iterable[Sequence[object]]) -> Iterator[RecordOutcome]:
        """The outcome of every record of ``groups``, in input order, ``index`` counted from 0 over this call. A
        group is validated, and for an upsert looked up, before its first batch starts. A lane's exception is
        raised here when its batch's turn comes, once no new batch will start."""
        waiting: deque[_Group] = deque()  # groups not given out yet, in input order
        in_flight: deque[tuple[_Group, Future[_Answered]]] = deque()
        offset = 0
        for records in groups:
            group = _Group()
            waiting.append(group)
            for chunk in self._batches_of(records, offset, group):
                while len(in_flight) >= self.concurrency:
                    self._collect(*in_flight.popleft())
                    yield from _given_out(waiting)
                group.unanswered += 1
                in_flight.append((group, self._start(chunk)))
            group.sealed = True
            offset += len(records)
            yield from _given_out(waiting)
        while in_flight:
            self._collect(*in_flight.popleft())
            yield from _given_out(waiting)

    def _batches_of(self, records: Sequence[object], offset: int, group: _Group) -> Iterator[list[_Pending]]:
        """The batches of one group; none once the run has stopped. Without continue_on_error one invalid record
        stops the run before any record of its group touches Creatio."""
        if self._stop.passed(self._started):
            group.outcomes.update(
                (offset + n, _not_sent(offset + n, _safe_id(record))) for n, record in enumerate(records)
            )
            return
        pending = self._prepare(records, offset, group)
        if self._stop.passed(self._started):
            group.outcomes.update((item.index, _not_sent(item.index, item.op.record_id)) for item in pending)
            return
        if self.operation is BulkOperation.UPSERT and pending:
            pending = self._decide_upserts(pending)
        for start in range(0, len(pending), self.batch_size):
            yield pending[start : start + self.batch_size]

    def _prepare(self, records: Sequence[object], offset: int, group: _Group) -> list[_Pending]:
        """Every record validated before anything of the group is sent; an invalid one gets its outcome now."""
        pending: list[_Pending] = []
        for index, record in enumerate(records, offset):
            try:
                pending.append(_Pending(index, _prepare(self.operation, self.entity, record)))
            except CreatioValidationError as err:
                group.outcomes[index] = _outcome(index, _safe_id(record), "failed", None, err.message)
                if not self.continue_on_error:
                    self._stop.set(self._started - 1)
        return pending

    def _decide_upserts(self, pending: list[_Pending]) -> list[_Pending]:
        """PATCH for the records that exist, POST with the Id for the others: one lookup for the whole group
        (a ``$batch`` of GETs per 2,000 records at Creatio's default filter limit), not one per batch."""
        ids = [str(item.op.record_id) for item in pending]
        calls = batch.lookup_calls(self.entity, ids, self.max_filter_nodes)
        self.batch_calls += len(calls)
        present = set().union(*(self.client.execute(call) for call in calls))
        return [
            item if item.op.record_id in present else _Pending(item.index, _as_create(item.op))
            for item in pending
        ]

    def _start(self, chunk: list[_Pending]) -> Future[_Answered]:
        """Start the next batch: on a lane, or (one lane) here and now."""
        number, self._started = self._started, self._started + 1
        if self._pool is not None:
            return self._pool.submit(self._send_batch, number, chunk)
        answered: Future[_Answered] = Future()
        answered.set_result(self._send_batch(number, chunk))
        return answered

    def _collect(self, group: _Group, answered: Future[_Answered]) -> None:
        result = answered.result()
        self.batch_calls += result.calls
        group.outcomes.update((outcome.index, outcome) for outcome in result.outcomes)
        group.unanswered -= 1

    def _send_batch(self, number: int, chunk: list[_Pending]) -> _Answered:
        """Batch ``number`` (in a lane's thread), then once more the upserts that raced with another writer. A
        failure that stops the run (or an exception) keeps the batches after this one from starting."""
        if self._stop.passed(number):
            return _Answered([_not_sent(item.index, item.op.record_id) for item in chunk], 0)
        try:
            outcomes, retries = self._send(chunk, allow_retry=self.operation is BulkOperation.UPSERT)
            if retries:
                outcomes += self._send(retries, allow_retry=False)[0]
        except BaseException:
            self._stop.set(number)
            raise
        if not self.continue_on_error and not all(outcome.ok for outcome in outcomes):
            self._stop.set(number)
        return _Answered(outcomes, 2 if retries else 1)

    def _send(
        self, chunk: list[_Pending], *, allow_retry: bool
    ) -> tuple[list[RecordOutcome], list[_Pending]]:
        """One $batch call: the outcomes, and the upserts to send again the other way after a lookup went stale."""
        results = self.client.execute(batch.batch_call([item.op for item in chunk], self.continue_on_error))
        outcomes: list[RecordOutcome] = []
        retries: list[_Pending] = []
        for item, result in zip(chunk, results, strict=True):
            swapped = _swap_after_race(item, result) if allow_retry else None
            if swapped is not None:
                retries.append(swapped)
            else:
                outcomes.append(self._outcome_of(item, result))
        return outcomes, retries

    def _outcome_of(self, item: _Pending, result: batch.BatchResult) -> RecordOutcome:
        """The record's outcome from its part of the batch answer."""
        kind = item.op.kind
        if result.ok:
            return _outcome(item.index, result.record_id, _OK_ACTIONS[kind], result.status, None)
        if self.operation is BulkOperation.CREATE and _is_conflict(result):
            return _outcome(item.index, result.record_id, "existed", result.status, None)
        if kind is batch.BatchKind.DELETE and result.status == 404 and self.missing_ok:
            return _outcome(item.index, result.record_id, "absent", result.status, None)
        action = "skipped" if result.status is None else "failed"
        return _outcome(item.index, result.record_id, action, result.status, result.error)


def _swap_after_race(item: _Pending, result: batch.BatchResult) -> _Pending | None:
    """The record appeared after the lookup (the create conflicts) or vanished (the update answers 404)."""
    if item.op.kind is batch.BatchKind.CREATE and _is_conflict(result):
        return _Pending(item.index, _as_update(item.op))
    if item.op.kind is batch.BatchKind.UPDATE and result.status == 404:
        return _Pending(item.index, _as_create(item.op))
    return None


def _given_out(waiting: deque[_Group]) -> Iterator[RecordOutcome]:
    """The outcomes of the groups at the front of ``waiting`` that are done, in input order."""
    while waiting and waiting[0].done:
        outcomes = waiting.popleft().outcomes
        yield from (outcomes[index] for index in sorted(outcomes))


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
    concurrency: int = 1,
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
    without it the run stops at the first failure and the records not sent are reported as skipped (with
    ``concurrency`` above 1, the batches already in flight still finish). Records are validated before anything
    is sent; an invalid one is reported as failed with the reason and never sent. ``concurrency``: batches in
    flight at once (:class:`BulkRun`)."""
    run = BulkRun(
        client,
        operation,
        entity,
        continue_on_error=continue_on_error,
        batch_size=batch_size,
        missing_ok=missing_ok,
        max_filter_nodes=max_filter_nodes,
        concurrency=concurrency,
    )
    return report(run, records)


def report(run: BulkRun, records: Sequence[object]) -> BulkReport:
    """Every record of one list through ``run``, which ends here: the report of them all."""
    with run:
        if not isinstance(records, Sequence) or isinstance(records, (str, bytes)):
            raise CreatioValidationError(f"records must be a list, got {type(records).__name__}")
        outcomes = list(run.outcomes([records]))
    return BulkReport(run.operation, run.entity, outcomes, run.batch_calls)


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
