"""CreatioRecordChangeTrigger: start DAGs when records of a Creatio entity are created or modified.

For ``AssetWatcher(name=..., trigger=CreatioRecordChangeTrigger(...))`` on an ``Asset``. Each poll reads every
record modified after the trigger's high-water mark, in the incremental extract's keyset order (``ModifiedOn``,
then ``Id``; :class:`~airflow_provider_creatio.client.keyset.KeysetCursor`), and one batch of changes is one event.

Delivery (docs/guides/event-driven.md):

- Airflow 3.3+: a shared stream in ack mode. The producer (:mod:`._record_change_stream`) polls from a durable mark
  kept in an Airflow Variable, and writes a batch's mark there only after Airflow has stored the asset event that
  carries it. After a triggerer restart, the batches not yet stored come again: at least once, none skipped.
- Airflow 3.0 to 3.2 (no shared streams): :meth:`run` keeps the mark in memory and moves it after yielding the
  event. A triggerer restart starts again from ``since``, or, without it, from the newest record at that moment:
  changes made while no triggerer ran are then passed over.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Hashable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio._compat import BaseEventTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import SharedStreamProducer
    from airflow_provider_creatio.client.changes import ChangeBatch, Mark
    from airflow_provider_creatio.hooks._async import AsyncCreatioCalls

MARK_VARIABLE_PREFIX = "creatio_record_change_mark__"


class CreatioRecordChangeTrigger(BaseEventTrigger):  # type: ignore[misc]
    """Watch an entity for records created or modified after a high-water mark; one event per batch of changes.

    :param entity: the entity to watch (``Case``).
    :param creatio_conn_id: the Airflow connection of type ``creatio``.
    :param filter: only records matching it: a mapping of column paths to values (quoted and escaped for you, as
        for the query operator: ``{"Priority/Name": "High"}``) or a raw OData expression.
    :param since: where the watch starts, an ISO 8601 date-time with a zone: changes from then on (included).
        None: only changes after the trigger first runs. Its first poll takes the newest matching record as the
        mark; on Airflow 3.3+ the mark is kept from then on, so a restart does not move it forward.
    :param poll_interval: seconds between two polls.
    :param ids_limit: at most this many Ids in one event's ``ids`` (``truncated`` says when there were more).
    :param page_size: records per request (keyset pages, never ``$skip``), at most 20,000.
    :param hook_params: CreatioHook overrides (``retry_attempts``, ``timeout``...), plain JSON values.

    Event payload (the asset event's ``extra["payload"]``): ``{"count": n, "ids": [...], "truncated": bool,
    "after": {"ModifiedOn": "...", "Id": "..."} | None, "mark": {"ModifiedOn": "...", "Id": "..."}}``: the batch
    is the changes after ``after`` (the previous mark) up to ``mark`` (the last change's). No change, no event.
    Every argument is part of the watch's identity: changing one starts a new watch (from ``since``).
    """

    def __init__(
        self,
        *,
        entity: str,
        creatio_conn_id: str = "creatio_default",
        filter: Mapping[str, Any] | str | None = None,
        since: str | None = None,
        poll_interval: float = 60.0,
        ids_limit: int = 100,
        page_size: int = 1000,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        from airflow_provider_creatio.client import keyset, odata, validation
        from airflow_provider_creatio.client.changes import Mark

        validation.check_entity_name(entity)
        odata.build_filter(filter)  # a bad filter fails the DAG file, not the triggerer
        if since is not None:
            keyset.check_date_time(since, "since")
        validation.check_count(ids_limit, "ids_limit", allow_zero=True)
        keyset.check_page_size(page_size)
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}")
        self.entity = entity
        self.creatio_conn_id = creatio_conn_id
        self.filter = dict(filter) if isinstance(filter, Mapping) else filter
        self.since = since
        self.poll_interval = float(poll_interval)
        self.ids_limit = ids_limit
        self.page_size = page_size
        self.hook_params = hook_params
        self._start: Mark | None = None if since is None else Mark(since)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "entity": self.entity,
                "creatio_conn_id": self.creatio_conn_id,
                "filter": self.filter,
                "since": self.since,
                "poll_interval": self.poll_interval,
                "ids_limit": self.ids_limit,
                "page_size": self.page_size,
                "hook_params": self.hook_params,
            },
        )

    # ------------------------------------------------------------------ identity

    def identity(self) -> str:
        """A stable digest of the class and every argument: the shared stream's key and the mark's name."""
        return watch_identity(self.serialize())

    def mark_variable(self) -> str:
        """The Airflow Variable that holds this watch's durable high-water mark (Airflow 3.3+)."""
        return MARK_VARIABLE_PREFIX + self.identity()

    # ------------------------------------------------------------------ Airflow 3.3+: shared stream, ack mode

    def shared_stream_key(self) -> Hashable | None:
        # Unique per watch: one trigger per key (Airflow stores one trigger per class and arguments), so no
        # subscriber joins a stream late and misses an event broadcast before it came.
        return ("creatio-record-change", self.identity())

    @classmethod
    def create_shared_stream_producer(cls, kwargs: dict[str, Any]) -> SharedStreamProducer:
        from airflow_provider_creatio.triggers._record_change_stream import (
            RecordChangeProducer,
            VariableMarkStore,
        )

        trigger = cls(**kwargs)
        return RecordChangeProducer(trigger, VariableMarkStore(trigger.mark_variable(), trigger.entity))

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        # Pulling the next raw event closes the last one's binding window: yield each event before pulling on.
        async for payload in shared_stream:
            yield TriggerEvent(payload)

    # ------------------------------------------------------------------ Airflow 3.0-3.2: the mark in memory

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_creatio.client.errors import CreatioError
        from airflow_provider_creatio.hooks.creatio import CreatioHook

        async with CreatioHook.shared_async_calls(
            self.creatio_conn_id, **(self.hook_params or {})
        ) as creatio:
            mark = await self.initial_mark(creatio)
            while True:
                try:
                    batch = await self.read_changes(creatio, mark)
                except CreatioError as err:
                    self.log.warning(
                        "Reading %s changes failed, next poll in %s s: %s",
                        self.entity,
                        self.poll_interval,
                        err,
                    )
                else:
                    if batch.count:
                        yield TriggerEvent(batch.payload())
                        mark = batch.mark  # moved on only once the event left
                await asyncio.sleep(self.poll_interval)

    # ------------------------------------------------------------------ polling, for both paths

    async def initial_mark(self, creatio: AsyncCreatioCalls) -> Mark | None:
        """``since``; without it the newest matching record (None when none matches: every later one is new)."""
        if self._start is not None:
            return self._start
        return await creatio.last_change(self.entity, conditions=self._conditions())

    async def read_changes(self, creatio: AsyncCreatioCalls, mark: Mark | None) -> ChangeBatch:
        """One poll: every change after ``mark``, summed up as one batch."""
        return await creatio.read_changes(
            self.entity,
            conditions=self._conditions(),
            after=mark,
            ids_limit=self.ids_limit,
            page_size=self.page_size,
        )

    def _conditions(self) -> str | None:
        from airflow_provider_creatio.client import odata

        return odata.build_filter(self.filter)


def watch_identity(serialized: tuple[str, dict[str, Any]]) -> str:
    classpath, kwargs = serialized
    text = json.dumps([classpath, kwargs], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
