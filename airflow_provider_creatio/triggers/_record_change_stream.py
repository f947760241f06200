"""The producer of :class:`~.record_change.CreatioRecordChangeTrigger`'s shared stream (Airflow 3.3+, ack mode).

Imported only by ``create_shared_stream_producer``: ``SharedStreamProducer`` does not exist before Airflow 3.3.

The triggerer calls :meth:`RecordChangeProducer.advance` with a batch of raw events once every trigger event derived
from them is stored in Airflow's database (the asset events), and then only, in the order they were produced.
That is where the mark is written. Until then it lives only in memory, as the position the next poll reads from;
after a restart the poll starts from the written mark and the batches never advanced come again.

Two triggers of one watch share its mark: the old and the new one while a DAG file that changed a tuning argument
(``poll_interval``...) is parsed again, each with a producer of its own. At least once still holds. A producer
writes a mark only once every change up to it was delivered: those after the mark it started from by its own
events (stored, in order), those up to that start mark by induction (it was read from the store, so written on the
same condition, or it is the watch's start). So whichever of the two wrote last, every change up to the stored mark
was delivered, and a producer that starts from it skips nothing; a mark that moves back only brings changes again.
The producer reads the stored mark before writing and does not write an earlier one (the other trigger's may be
later), which saves those redeliveries; the read and the write are not atomic, and a race costs a redelivery only.
Each producer rewinds to the mark it wrote itself, never to the other's. (Delivered means to the assets of the
trigger that wrote the mark: the old and the new trigger watch for the same assets. Two watchers of different
assets with the same watched arguments but other tuning would share the mark as well, and one could restart from
the other's: docs/guides/event-driven.md tells users to give them the same arguments, which makes them one trigger.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_creatio._compat import SharedStreamProducer

if TYPE_CHECKING:
    from airflow.sdk.execution_time.context import AssetStateStoreAccessors
    from airflow.triggers.shared_stream import AdvanceItem

    from airflow_provider_creatio.client.changes import ChangeBatch, Mark
    from airflow_provider_creatio.hooks._async import AsyncCreatioCalls

log = logging.getLogger(__name__)


class Watch(Protocol):
    """What the producer asks of its trigger (:class:`~.record_change.CreatioRecordChangeTrigger`): named here,
    so that this module does not import the trigger's, which imports it."""

    entity: str
    creatio_conn_id: str
    hook_params: dict[str, Any] | None
    poll_interval: float

    async def initial_mark(self, creatio: AsyncCreatioCalls) -> Mark | None: ...

    async def read_changes(self, creatio: AsyncCreatioCalls, mark: Mark | None) -> ChangeBatch: ...


class MarkStore(Protocol):
    """Where a watch's mark survives the triggerer."""

    async def load(self) -> tuple[bool, Mark | None]:
        """(whether a mark was ever written, the mark): a mark may be None, read everything."""

    async def save(self, mark: Mark | None) -> None: ...


class VariableMarkStore:
    """The mark in an Airflow Variable (:mod:`airflow_provider_creatio.marks`), read and written in a worker
    thread."""

    def __init__(self, key: str, entity: str) -> None:
        self.key = key
        self.entity = entity

    async def load(self) -> tuple[bool, Mark | None]:
        from airflow_provider_creatio.client.changes import Mark
        from airflow_provider_creatio.marks import read_mark

        value = await asyncio.to_thread(read_mark, self.key)
        if value is None:
            return False, None
        return True, Mark.from_dict(value.get("mark"))

    def value(self, mark: Mark | None) -> dict[str, Any]:
        return {"entity": self.entity, "mark": None if mark is None else mark.to_dict()}

    async def save(self, mark: Mark | None) -> None:
        from airflow_provider_creatio.marks import write_mark

        description = "CreatioRecordChangeTrigger high-water mark"
        await asyncio.to_thread(write_mark, self.key, self.value(mark), description)


class AssetMarkStore:
    """The mark in the state store of the watched asset (Airflow 3.3+), under the watch's Variable name.

    The first load of a watch upgraded from a provider that kept the mark in the Variable finds nothing here and
    carries the Variable's mark over (written here at once, before any event): the upgrade delivers nothing twice
    and skips nothing. The Variable is left as it was (it is read no more). A trigger that watches several assets
    has no single store to read a mark back from after a restart: it keeps the mark in the Variable.
    """

    def __init__(self, accessors: AssetStateStoreAccessors, variable: VariableMarkStore) -> None:
        self.accessors: AssetStateStoreAccessors | None = accessors
        self.variable = variable

    async def load(self) -> tuple[bool, Mark | None]:
        from airflow_provider_creatio.client.changes import Mark

        if self.accessors is not None:
            try:
                value = await self.accessors.aget(self.variable.key)
            except ValueError:  # several watched assets: AssetStateStoreAccessors names no single one
                log.info(
                    "The %s watch serves several assets: its mark stays in the Variable %s",
                    self.variable.entity,
                    self.variable.key,
                )
                self.accessors = None
            else:
                if isinstance(value, dict):
                    return True, Mark.from_dict(value.get("mark"))
                return await self._carry_over()
        return await self.variable.load()

    async def _carry_over(self) -> tuple[bool, Mark | None]:
        written, mark = await self.variable.load()
        if written:
            log.info(
                "The %s mark moves from the Variable %s to the asset state store: %s",
                self.variable.entity,
                self.variable.key,
                mark,
            )
            await self.save(mark)
        return written, mark

    async def save(self, mark: Mark | None) -> None:
        if self.accessors is None:
            await self.variable.save(mark)
        else:
            await self.accessors.aset(self.variable.key, self.variable.value(mark))


class RecordChangeProducer(SharedStreamProducer):  # type: ignore[misc]
    """Polls Creatio from the durable mark; yields ``(payload, (generation, mark))`` per batch of changes.

    A batch whose event was not stored (its subscriber failed or timed out) must come again, and so must every
    batch after it: the poll rewinds to the durable mark, and a new *generation* marks the batches read after
    the rewind, so that the advances of those read before it are ignored.
    """

    def __init__(self, trigger: Watch, store: MarkStore) -> None:
        self.trigger = trigger
        self.store = store
        self.generation = 0
        self._saved: Mark | None = None  # the durable mark, as this producer last read or advanced it
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
            await self._save(mark)
            self._saved = mark

    async def _save(self, mark: Mark) -> None:
        """Write ``mark`` unless the stored one is later: another trigger of the watch moved it on (module doc)."""
        _, stored = await self.store.load()
        if stored is not None and _before(mark, stored):
            log.info(
                "The %s mark %s is later than this trigger's %s: kept", self.trigger.entity, stored, mark
            )
            return
        await self.store.save(mark)

    def _rewind(self) -> None:
        log.warning(
            "A %s change event was not stored; reading again from %s", self.trigger.entity, self._saved
        )
        self.generation += 1
        self._next = self._saved


def _before(mark: Mark, other: Mark) -> bool:
    """Whether ``mark`` is an earlier time than ``other`` (equal times are told apart by Creatio's Id order, which
    only the server knows: the advance order, which is the order the server answered in, decides those)."""
    from airflow_provider_creatio.client.keyset import parse_date_time

    return parse_date_time(mark.modified_on) < parse_date_time(other.modified_on)
