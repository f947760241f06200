"""The producer of :class:`~.record_change.CreatioRecordChangeTrigger`'s shared stream (Airflow 3.3+, ack mode).

Imported only by ``create_shared_stream_producer``: ``SharedStreamProducer`` does not exist before Airflow 3.3.

The triggerer calls :meth:`RecordChangeProducer.advance` with a batch of raw events once every trigger event derived
from them is stored in Airflow's database (the asset events), and then only, in the order they were produced.
That is where the mark is written. Until then it lives only in memory, as the position the next poll reads from;
after a restart the poll starts from the written mark and the batches never advanced come again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_creatio._compat import SharedStreamProducer

if TYPE_CHECKING:
    from airflow.triggers.shared_stream import AdvanceItem

    from airflow_provider_creatio.client.changes import Mark
    from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

log = logging.getLogger(__name__)


class MarkStore(Protocol):
    """Where a watch's mark survives the triggerer."""

    async def load(self) -> tuple[bool, Mark | None]:
        """(whether a mark was ever written, the mark): a mark may be None, read everything."""

    async def save(self, mark: Mark | None) -> None: ...


class VariableMarkStore:
    """The mark in an Airflow Variable (JSON). The triggerer's supervisor serves Variables; the calls are
    synchronous, so they run in a worker thread, off the event loop that every trigger shares."""

    def __init__(self, key: str, entity: str) -> None:
        self.key = key
        self.entity = entity

    async def load(self) -> tuple[bool, Mark | None]:
        from airflow_provider_creatio._compat import Variable
        from airflow_provider_creatio.client.changes import Mark

        text = await asyncio.to_thread(Variable.get, self.key, None)
        if text is None:
            return False, None
        return True, Mark.from_dict(json.loads(text).get("mark"))

    async def save(self, mark: Mark | None) -> None:
        from airflow_provider_creatio._compat import Variable

        value = json.dumps({"entity": self.entity, "mark": None if mark is None else mark.to_dict()})
        await asyncio.to_thread(Variable.set, self.key, value, "CreatioRecordChangeTrigger high-water mark")


class RecordChangeProducer(SharedStreamProducer):  # type: ignore[misc]
    """Polls Creatio from the durable mark; yields ``(payload, (generation, mark))`` per batch of changes.

    A batch whose event was not stored (its subscriber failed or timed out) must come again, and so must every
    batch after it: the poll rewinds to the durable mark, and a new *generation* marks the batches read after
    the rewind, so that the advances of those read before it are ignored.
    """

    def __init__(self, trigger: CreatioRecordChangeTrigger, store: MarkStore) -> None:
        self.trigger = trigger
        self.store = store
        self.generation = 0
        self._saved: Mark | None = None  # the durable mark, as last read or written
        self._next: Mark | None = None  # where the next poll starts

    async def open_stream(self) -> AsyncIterator[tuple[Any, Any]]:
        from airflow_provider_creatio.client.errors import CreatioError
        from airflow_provider_creatio.hooks.creatio import CreatioHook

        trigger = self.trigger
        hook_params = trigger.hook_params or {}
        async with CreatioHook.shared_async_calls(trigger.creatio_conn_id, **hook_params) as creatio:
            self._saved = self._next = await self._start(creatio)
            while True:
                generation, after = self.generation, self._next
                try:
                    batch = await trigger.read_changes(creatio, after)
                except CreatioError as err:
                    log.warning(
                        "Reading %s changes failed, next poll in %s s: %s",
                        trigger.entity,
                        trigger.poll_interval,
                        err,
                    )
                else:
                    if batch.count and generation == self.generation:
                        self._next = batch.mark
                        yield batch.payload(), (generation, batch.mark)
                await asyncio.sleep(trigger.poll_interval)

    async def _start(self, creatio: Any) -> Mark | None:
        """The durable mark; the first time, the trigger's start (``since``, or the newest record now), written
        at once so that a restart does not take a later "now"."""
        written, mark = await self.store.load()
        if written:
            return mark
        mark = await self.trigger.initial_mark(creatio)
        await self.store.save(mark)
        return mark

    async def advance(self, batch: Sequence[AdvanceItem]) -> None:
        for item in batch:
            generation, mark = item.broker_payload
            if generation != self.generation:
                continue  # read before a rewind: its changes come again
            if not item.outcome.is_clean:
                self._rewind()
                continue
            if self._saved is not None and _before(mark, self._saved):
                log.warning(
                    "Not moving the %s mark back from %s to %s", self.trigger.entity, self._saved, mark
                )
                continue
            await self.store.save(mark)
            self._saved = mark

    def _rewind(self) -> None:
        log.warning(
            "A %s change event was not stored; reading again from %s", self.trigger.entity, self._saved
        )
        self.generation += 1
        self._next = self._saved


def _before(mark: Mark, other: Mark) -> bool:
    """Whether ``mark`` is an earlier time than ``other`` (equal times are told apart by Creatio's Id order, which
    only the server knows: the advance order, which is the order the server answered in, decides those)."""
    return _time(mark.modified_on) < _time(other.modified_on)


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
