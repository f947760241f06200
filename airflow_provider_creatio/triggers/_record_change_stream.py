"""The producer of :class:`~.record_change.CreatioRecordChangeTrigger`'s shared stream (Airflow 3.3+, ack mode).

Imported only by ``create_shared_stream_producer``: ``SharedStreamProducer`` does not exist before Airflow 3.3.

The triggerer calls :meth:`RecordChangeProducer.advance` with a batch of raw events once every trigger event derived
from them is stored in Airflow's database (the asset events), and then only, in the order they were produced.
That is where the mark is written. Until then it lives only in memory, as the position the next poll reads from;
after a restart the poll starts from the written mark and the batches never advanced come again. With deletes, the
scan the next one compares with (its snapshot of Ids) is kept the same way, in the same stored state.

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
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from airflow_provider_creatio._compat import SharedStreamProducer

if TYPE_CHECKING:
    from airflow.sdk.execution_time.context import AssetStateStoreAccessors
    from airflow.triggers.shared_stream import AdvanceItem

    from airflow_provider_creatio.client.changes import ChangeBatch, Mark
    from airflow_provider_creatio.hooks._async import AsyncCreatioCalls
    from airflow_provider_creatio.reconciliation import DeletionBatch

log = logging.getLogger(__name__)


class Watch(Protocol):
    """What the producer asks of its trigger (:class:`~.record_change.CreatioRecordChangeTrigger`): named here,
    so that this module does not import the trigger's, which imports it."""

    entity: str
    creatio_conn_id: str
    hook_params: dict[str, Any] | None
    poll_interval: float
    include_deletes: str | None

    async def initial_mark(self, creatio: AsyncCreatioCalls) -> Mark | None: ...

    async def read_changes(self, creatio: AsyncCreatioCalls, mark: Mark | None) -> ChangeBatch: ...

    async def read_deletions(
        self, creatio: AsyncCreatioCalls, previous: Mapping[str, str] | None
    ) -> DeletionBatch | None: ...

    def forget_snapshot(self, scan: Mapping[str, str]) -> None: ...


class WatchStore(Protocol):
    """Where a watch's state survives the triggerer: a JSON object, ``{"entity": ..., "mark": {...} | None}``
    and, with deletes, ``"deletes": {"snapshot": uri, "scanned_at": ...}``."""

    async def load(self) -> dict[str, Any] | None:
        """The state; None when none was ever written."""

    async def save(self, state: dict[str, Any]) -> None: ...


class VariableWatchStore:
    """The state in an Airflow Variable (:mod:`airflow_provider_creatio.marks`), read and written in a worker
    thread."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def load(self) -> dict[str, Any] | None:
        from airflow_provider_creatio.marks import read_mark

        return await asyncio.to_thread(read_mark, self.key)

    async def save(self, state: dict[str, Any]) -> None:
        from airflow_provider_creatio.marks import write_mark

        description = "CreatioRecordChangeTrigger high-water mark"
        await asyncio.to_thread(write_mark, self.key, state, description)


class AssetWatchStore:
    """The state in the state store of the watched asset (Airflow 3.3+), under the watch's Variable name.

    The first load of a watch upgraded from a provider that kept its mark in the Variable finds nothing here and
    carries the Variable's state over (written here at once, before any event): the upgrade delivers nothing twice
    and skips nothing. The Variable is left as it was (it is read no more). A trigger that watches several assets
    has no single store to read a mark back from after a restart: it keeps the Variable.
    """

    def __init__(self, accessors: AssetStateStoreAccessors, variable: VariableWatchStore) -> None:
        self.accessors: AssetStateStoreAccessors | None = accessors
        self.variable = variable

    async def load(self) -> dict[str, Any] | None:
        if self.accessors is not None:
            try:
                value = await self.accessors.aget(self.variable.key)
            except ValueError:  # several watched assets: AssetStateStoreAccessors names no single one
                log.info(
                    "This watch serves several assets: its mark stays in the Variable %s", self.variable.key
                )
                self.accessors = None
            else:
                return dict(value) if isinstance(value, dict) else await self._carry_over()
        return await self.variable.load()

    async def _carry_over(self) -> dict[str, Any] | None:
        state = await self.variable.load()
        if state is not None:
            log.info(
                "The mark moves from the Variable %s to the asset state store: %s", self.variable.key, state
            )
            await self.save(state)
        return state

    async def save(self, state: dict[str, Any]) -> None:
        if self.accessors is None:
            await self.variable.save(state)
        else:
            await self.accessors.aset(self.variable.key, state)


class Delivery(NamedTuple):
    """An event's broker payload: what its advance makes durable."""

    generation: int
    mark: Mark | None  # the changes' new mark; None when the event carries no change
    deletes: dict[str, str] | None  # the scan the next one compares with, when the event carries deletions


class RecordChangeProducer(SharedStreamProducer):  # type: ignore[misc]
    """Polls Creatio from the durable mark (and, with deletes, scans the Ids at the trigger's longer interval);
    yields ``(payload, Delivery)`` per batch.

    A batch whose event was not stored (its subscriber failed or timed out) must come again, and so must every
    batch after it: the poll rewinds to the durable mark and scan, and a new *generation* marks the batches read
    after the rewind, so that the advances of those read before it are ignored.
    """

    def __init__(self, trigger: Watch, store: WatchStore) -> None:
        self.trigger = trigger
        self.store = store
        self.generation = 0
        self._saved: Mark | None = None  # the durable mark, as this producer last read or advanced it
        self._next: Mark | None = None  # where the next poll starts
        self._saved_scan: dict[str, str] | None = None  # the durable scan (deletes), likewise
        self._next_scan: dict[str, str] | None = None  # what the next scan compares with

    async def open_stream(self) -> AsyncIterator[tuple[Any, Any]]:
        from airflow_provider_creatio.hooks.creatio import CreatioHook

        trigger = self.trigger
        hook_params = trigger.hook_params or {}
        async with CreatioHook.shared_async_calls(trigger.creatio_conn_id, **hook_params) as creatio:
            await self._start(creatio)
            while True:
                generation = self.generation
                batch = await self._poll(creatio)
                deletions = await self._scan(creatio)
                if generation == self.generation:
                    event = await self._event(generation, batch, deletions)
                    if event is not None:
                        yield event
                await asyncio.sleep(trigger.poll_interval)

    async def _poll(self, creatio: AsyncCreatioCalls) -> ChangeBatch | None:
        from airflow_provider_creatio.client.errors import CreatioError

        try:
            return await self.trigger.read_changes(creatio, self._next)
        except CreatioError as err:
            log.warning(
                "Reading %s changes failed, next poll in %s s: %s",
                self.trigger.entity,
                self.trigger.poll_interval,
                err,
            )
            return None

    async def _scan(self, creatio: AsyncCreatioCalls) -> DeletionBatch | None:
        """A scan for deletions when one is due, and only while none waits for its event to be stored (so a scan
        that finds none can be kept at once: every deletion before it was delivered)."""
        from airflow_provider_creatio.client.errors import CreatioError

        if self._next_scan != self._saved_scan:
            return None
        try:
            return await self.trigger.read_deletions(creatio, self._saved_scan)
        except (CreatioError, OSError) as err:
            log.error("Looking for deleted %s records failed: %s", self.trigger.entity, err)
            return None

    async def _event(
        self, generation: int, batch: ChangeBatch | None, deletions: DeletionBatch | None
    ) -> tuple[dict[str, Any], Delivery] | None:
        """The event of one poll (None when it found nothing to deliver); a scan that found no deletion is kept
        at once, as there is nothing to wait for."""
        changed = batch is not None and batch.count > 0
        if deletions is not None:
            self._next_scan = deletions.state()
            if not deletions.count:  # nothing to deliver, and no scan waits (_scan)
                await self._keep_scan(deletions.state())
        if not changed and not (deletions is not None and deletions.count):
            return None
        payload = self._payload(batch, deletions)
        mark = batch.mark if batch is not None and changed else None
        if mark is not None:
            self._next = mark
        scan = deletions.state() if deletions is not None and deletions.count else None
        return payload, Delivery(generation, mark, scan)

    def _payload(self, batch: ChangeBatch | None, deletions: DeletionBatch | None) -> dict[str, Any]:
        from airflow_provider_creatio.client.changes import ChangeBatch
        from airflow_provider_creatio.reconciliation import no_deletions

        if batch is None or not batch.count:  # deletions only: the changes' mark stays where it is
            batch = ChangeBatch(after=self._next, mark=self._next)
        payload = batch.payload()
        if deletions is not None:
            payload.update(deletions.payload())
        elif self.trigger.include_deletes:  # changes only: no scan since the last one
            payload.update(no_deletions(None if self._next_scan is None else self._next_scan["scanned_at"]))
        return payload

    async def _start(self, creatio: Any) -> None:
        """The durable mark and scan; the first time, the trigger's start (``since``, or the newest record now),
        written at once so that a restart does not take a later "now"."""
        from airflow_provider_creatio.client.changes import Mark

        state = await self.store.load()
        if state is None:
            mark = await self.trigger.initial_mark(creatio)
            await self.store.save({"entity": self.trigger.entity, "mark": _dict(mark)})
        else:
            mark = Mark.from_dict(state.get("mark"))
            self._saved_scan = self._next_scan = state.get("deletes")
        self._saved = self._next = mark

    async def advance(self, batch: Sequence[AdvanceItem]) -> None:
        for item in batch:
            delivery: Delivery = item.broker_payload
            if delivery.generation != self.generation:
                continue  # read before a rewind: its changes come again
            if not item.outcome.is_clean:
                await self._rewind()
                continue
            if delivery.mark is not None:
                await self._advance_mark(delivery.mark)
            if delivery.deletes is not None:
                await self._keep_scan(delivery.deletes)

    async def _advance_mark(self, mark: Mark) -> None:
        """Write ``mark`` unless it is earlier than this producer's durable one, or than the stored one (another
        trigger of the watch moved it on: module doc)."""
        from airflow_provider_creatio.client.changes import Mark

        if self._saved is not None and _before(mark, self._saved):
            log.warning("Not moving the %s mark back from %s to %s", self.trigger.entity, self._saved, mark)
            return
        state = await self.store.load() or {}
        stored = Mark.from_dict(state.get("mark"))
        if stored is not None and _before(mark, stored):
            log.info(
                "The %s mark %s is later than this trigger's %s: kept", self.trigger.entity, stored, mark
            )
        else:
            await self.store.save({**state, "entity": self.trigger.entity, "mark": mark.to_dict()})
        self._saved = mark

    async def _keep_scan(self, scan: dict[str, str]) -> None:
        """Make ``scan`` the one the next scans compare with, and remove the snapshot it replaces."""
        state = await self.store.load() or {"entity": self.trigger.entity, "mark": _dict(self._saved)}
        await self.store.save({**state, "deletes": scan})
        replaced, self._saved_scan = self._saved_scan, scan
        if replaced is not None and replaced["snapshot"] != scan["snapshot"]:
            await asyncio.to_thread(self.trigger.forget_snapshot, replaced)

    async def _rewind(self) -> None:
        log.warning(
            "A %s change event was not stored; reading again from %s", self.trigger.entity, self._saved
        )
        self.generation += 1
        self._next = self._saved
        pending, self._next_scan = self._next_scan, self._saved_scan
        if pending is not None and pending != self._saved_scan:
            await asyncio.to_thread(self.trigger.forget_snapshot, pending)


def _dict(mark: Mark | None) -> dict[str, Any] | None:
    return None if mark is None else mark.to_dict()


def _before(mark: Mark, other: Mark) -> bool:
    """Whether ``mark`` is an earlier time than ``other`` (equal times are told apart by Creatio's Id order, which
    only the server knows: the advance order, which is the order the server answered in, decides those)."""
    from airflow_provider_creatio.client.keyset import parse_date_time

    return parse_date_time(mark.modified_on) < parse_date_time(other.modified_on)
