"""CreatioRecordChangeTrigger: start DAGs when records of a Creatio entity are created or modified.

For ``AssetWatcher(name=..., trigger=CreatioRecordChangeTrigger(...))`` on an ``Asset``. Each poll reads every
record modified after the trigger's high-water mark and more than ``clock_margin`` before the poll (on the
triggerer's clock), in the incremental extract's keyset order (``ModifiedOn``, then ``Id``;
:class:`~airflow_provider_creatio.client.keyset.KeysetCursor`), and one batch of changes is one event. The margin
keeps the mark behind every save that may still be committing: Creatio stamps ``ModifiedOn`` before the commit
(docs/creatio-notes/modifiedon-is-stamped-before-the-commit.md).

Delivery (docs/guides/event-driven.md):

- Airflow 3.3+: a shared stream in ack mode. The producer (:mod:`._record_change_stream`) polls from a durable mark
  kept in the watched asset's state store (carried over from the Variable earlier versions kept it in), and writes
  a batch's mark there only after Airflow has stored the asset event that carries it. After a triggerer restart,
  the batches not yet stored come again: at least once, none skipped.
- Airflow 3.0 to 3.2 (no shared streams): :meth:`run` keeps the mark in memory and moves it after yielding the
  event. A triggerer restart starts again from ``since``, or, without it, from the newest record at that moment:
  changes made while no triggerer ran are then passed over.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Hashable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio._compat import BaseEventTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow.sdk.execution_time.context import AssetStateStoreAccessors

    from airflow_provider_creatio._compat import SharedStreamProducer
    from airflow_provider_creatio.client.changes import ChangeBatch, Mark
    from airflow_provider_creatio.hooks._async import AsyncCreatioCalls
    from airflow_provider_creatio.reconciliation import DeletionBatch

MARK_VARIABLE_PREFIX = "creatio_record_change_mark__"
DEFAULT_CLOCK_MARGIN = dt.timedelta(seconds=30)
# The arguments that say what is watched: they name the durable mark. The others (poll_interval, clock_margin,
# ids_limit, page_size, hook_params) only tune how, so changing one continues the watch from its mark.
WATCHED_ARGUMENTS = ("creatio_conn_id", "entity", "filter", "since")
# The state stores of the assets each trigger watches, by the trigger's identity (Airflow 3.3+). The triggerer
# gives them to the trigger instance, but builds the shared stream's producer from the trigger's kwargs alone
# (create_shared_stream_producer); both run in the one trigger-runner process, so the producer finds them here.
_WATCHED_ASSET_STORES: dict[str, AssetStateStoreAccessors] = {}


class CreatioRecordChangeTrigger(BaseEventTrigger):  # type: ignore[misc]
    """Watch an entity for records created or modified after a high-water mark; one event per batch of changes.

    :param entity: the entity to watch (``Case``).
    :param creatio_conn_id: the Airflow connection of type ``creatio``.
    :param filter: only records matching it: a mapping of column paths to values (quoted and escaped for you, as
        for the query operator: ``{"Priority/Name": "High"}``) or a raw OData expression.
    :param since: where the watch starts, an ISO 8601 date-time with a zone: changes from then on (included).
        None: only changes after the trigger first runs. Its first poll takes the newest matching record stamped
        before its margin as the mark; on Airflow 3.3+ the mark is kept from then on, so a restart does not move
        it forward.
    :param poll_interval: seconds between two polls.
    :param clock_margin: how far before the poll's time (on the triggerer's clock) a change must have been stamped
        to be read, a ``datetime.timedelta`` or seconds (default 30 s). Creatio stamps ``ModifiedOn`` before the
        save commits, so a save stamped just before the poll may not be visible yet: the mark never passes a time
        this recent, and such a save is read by a later poll. It must cover the longest save (stamp to commit) and
        the drift between the triggerer's clock and Creatio's application servers' clocks (and theirs). A change
        is delivered within about ``clock_margin + poll_interval``.
    :param ids_limit: at most this many Ids in one event's ``ids`` (``truncated`` says when there were more).
    :param page_size: records per request (keyset pages, never ``$skip``), at most 20,000.
    :param hook_params: CreatioHook overrides (``retry_attempts``, ``timeout``...), plain JSON values.
    :param include_deletes: None (the default) or ``"reconcile"``: also report the records deleted, found by a
        key-only scan of the matching Ids every ``deletes_interval`` seconds, compared with the snapshot of Ids the
        last scan kept under ``snapshot_path`` (Airflow 3.3+: the snapshot moves on only once Airflow stored the
        event that reports its deletions). ``"event_log"`` is refused, as by the extract.
    :param deletes_interval: seconds between two scans for deletions (the first comes with the first poll).
    :param snapshot_path: the folder (an ``ObjectStoragePath`` URI) for the Id snapshots and the lists of deleted
        Ids; needed with ``include_deletes``.
    :param storage_conn_id: the Airflow connection for ``snapshot_path`` (None: the scheme's default).

    Event payload (the asset event's ``extra["payload"]``): ``{"count": n, "ids": [...], "truncated": bool,
    "after": {"ModifiedOn": "...", "Id": "..."} | None, "mark": {"ModifiedOn": "...", "Id": "..."}}``: the batch
    is the changes after ``after`` (the previous mark) up to ``mark`` (the last change's). No change, no event.
    With ``include_deletes``, every payload also has ``deleted_count``, ``deleted_ids`` (at most ``ids_limit``),
    ``deleted_truncated``, ``deleted_after`` and ``deleted_mark`` (when the scans before and of this batch began)
    and ``deleted_uri`` (a gzip file of every deleted Id, one per line, or None): the records deleted between the
    two scans. A scan that finds deletions makes an event even with no change (``count`` 0).
    ``creatio_conn_id``, ``entity``, ``filter`` and ``since`` say what is watched and name the durable mark:
    changing one starts a new watch. The other arguments tune it: changing one continues from the stored mark.
    """

    def __init__(
        self,
        *,
        entity: str,
        creatio_conn_id: str = "creatio_default",
        filter: Mapping[str, Any] | str | None = None,
        since: str | None = None,
        poll_interval: float = 60.0,
        clock_margin: dt.timedelta | float = DEFAULT_CLOCK_MARGIN,
        ids_limit: int = 100,
        page_size: int = 1000,
        hook_params: dict[str, Any] | None = None,
        include_deletes: str | None = None,
        deletes_interval: float = 3600.0,
        snapshot_path: str | None = None,
        storage_conn_id: str | None = None,
    ) -> None:
        super().__init__()
        from airflow_provider_creatio.client import keyset, odata, validation
        from airflow_provider_creatio.client.changes import Mark
        from airflow_provider_creatio.reconciliation import check_deletes

        check_deletes(include_deletes, "include_deletes")
        if include_deletes is not None:
            _check_deletes_arguments(deletes_interval, snapshot_path)

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
        self.clock_margin = _margin(clock_margin)
        self.ids_limit = ids_limit
        self.page_size = page_size
        self.hook_params = hook_params
        self.include_deletes = include_deletes
        self.deletes_interval = float(deletes_interval)
        self.snapshot_path = None if snapshot_path is None else snapshot_path.rstrip("/")
        self.storage_conn_id = storage_conn_id
        self._start: Mark | None = None if since is None else Mark(since)
        self._failed_scan: dt.datetime | None = (
            None  # when this instance's last scan for deletions began, if failed
        )
        # Whether polls page with GUID comparison: until the site refuses it once, then never again in this run.
        self._guid_comparison = True

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "entity": self.entity,
                "creatio_conn_id": self.creatio_conn_id,
                "filter": self.filter,
                "since": self.since,
                "poll_interval": self.poll_interval,
                "clock_margin": self.clock_margin.total_seconds(),  # JSON: the trigger row keeps kwargs
                "ids_limit": self.ids_limit,
                "page_size": self.page_size,
                "hook_params": self.hook_params,
                "include_deletes": self.include_deletes,
                "deletes_interval": self.deletes_interval,
                "snapshot_path": self.snapshot_path,
                "storage_conn_id": self.storage_conn_id,
            },
        )

    # ------------------------------------------------------------------ identity

    def identity(self) -> str:
        """A stable digest of the class and every argument: the shared stream's key."""
        return watch_identity(self.serialize())

    def mark_variable(self) -> str:
        """The key of this watch's durable high-water mark (Airflow 3.3+) in the asset state store, and the name of
        the Variable that held it before (and holds it for a trigger of several assets). Named by what is watched
        only (:data:`WATCHED_ARGUMENTS`): a trigger tuned differently continues from the same mark."""
        classpath, kwargs = self.serialize()
        watched = {name: kwargs[name] for name in WATCHED_ARGUMENTS}
        return MARK_VARIABLE_PREFIX + watch_identity((classpath, watched))

    # ------------------------------------------------------------------ Airflow 3.3+: shared stream, ack mode

    _asset_state_store: AssetStateStoreAccessors | None = None

    @property
    def asset_state_store(self) -> AssetStateStoreAccessors | None:
        """The watched assets' state stores, set by the triggerer (Airflow 3.3+); kept for this watch's producer."""
        return self._asset_state_store

    @asset_state_store.setter
    def asset_state_store(self, accessors: AssetStateStoreAccessors | None) -> None:
        self._asset_state_store = accessors
        if accessors is not None:  # None comes from BaseEventTrigger.__init__, before the arguments are set
            _WATCHED_ASSET_STORES[self.identity()] = accessors

    def shared_stream_key(self) -> Hashable | None:
        # Every argument, not only the watched ones: one trigger per key (Airflow stores one trigger per class and
        # arguments), so no subscriber joins a stream late and misses an event broadcast before it came. Two
        # triggers of one watch (tuned apart) run two producers, which share the durable mark only.
        return ("creatio-record-change", self.identity())

    @classmethod
    def create_shared_stream_producer(cls, kwargs: dict[str, Any]) -> SharedStreamProducer:
        from airflow_provider_creatio.triggers._record_change_stream import (
            AssetWatchStore,
            RecordChangeProducer,
            VariableWatchStore,
            WatchStore,
        )

        trigger = cls(**kwargs)
        variable = VariableWatchStore(trigger.mark_variable())
        accessors = _WATCHED_ASSET_STORES.get(trigger.identity())
        store: WatchStore = variable if accessors is None else AssetWatchStore(accessors, variable)
        return RecordChangeProducer(trigger, store)

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
        """``since``; without it the newest matching record stamped before the margin (None when none is: every
        later one is new)."""
        if self._start is not None:
            return self._start
        return await creatio.last_change(self.entity, filter=self.poll_filter(utc_now()))

    async def read_changes(self, creatio: AsyncCreatioCalls, mark: Mark | None) -> ChangeBatch:
        """One poll: every change after ``mark`` stamped before the margin, summed up as one batch. Once the site
        has refused to compare GUIDs, polls page on ``ModifiedOn`` alone."""
        batch = await creatio.read_changes(
            self.entity,
            filter=self.poll_filter(utc_now()),
            after=mark,
            ids_limit=self.ids_limit,
            page_size=self.page_size,
            guid_comparison=self._guid_comparison,
        )
        self._guid_comparison = batch.guid_comparison
        return batch

    async def read_deletions(
        self, creatio: AsyncCreatioCalls, previous: Mapping[str, str] | None
    ) -> DeletionBatch | None:
        """A scan for deletions, when ``include_deletes`` asks for one and ``deletes_interval`` has passed since
        the last one kept (``previous``) and since this instance's last failed one: every matching Id, compared with
        the snapshot of ``previous``. None when none is due. The first scan (no ``previous``) finds none."""
        from airflow_provider_creatio.client import odata
        from airflow_provider_creatio.client.validation import utc_iso
        from airflow_provider_creatio.reconciliation import DeletionBatch, compare_with_snapshot, id_sorter

        now = utc_now()
        if self.include_deletes is None or not self._scan_due(previous, now):
            return None
        self._failed_scan = now  # until it ends well: a scan that fails is tried again an interval later
        name = f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        batch = DeletionBatch(
            mark=utc_iso(now),
            snapshot=f"{self.snapshot_path}/ids-{name}.txt.gz",
            listing=f"{self.snapshot_path}/deleted-{name}.txt.gz",
            after=None if previous is None else previous["scanned_at"],
            ids_limit=self.ids_limit,
        )
        with id_sorter() as seen:
            filter = odata.build_filter(self.filter)
            async for ids in creatio.iter_ids(
                self.entity, filter=filter, guid_comparison=self._guid_comparison
            ):
                for value in ids:
                    seen.add(value)
            snapshot = None if previous is None else previous["snapshot"]
            await asyncio.to_thread(compare_with_snapshot, seen, snapshot, batch, self.storage_conn_id)
        self._failed_scan = None
        return batch

    def _scan_due(self, previous: Mapping[str, str] | None, now: dt.datetime) -> bool:
        from airflow_provider_creatio.client.keyset import parse_date_time

        interval = dt.timedelta(seconds=self.deletes_interval)
        last = [self._failed_scan] if self._failed_scan is not None else []
        if previous is not None:
            last.append(parse_date_time(previous["scanned_at"]))
        return not last or now >= max(last) + interval

    def forget_snapshot(self, scan: Mapping[str, str]) -> None:
        """Remove the snapshot of a scan no later scan compares with."""
        from airflow_provider_creatio.formats.location import storage_path

        storage_path(scan["snapshot"], self.storage_conn_id).unlink(missing_ok=True)

    def poll_filter(self, now: dt.datetime) -> str:
        """The ``$filter`` of a poll at ``now``: the watch's filter and ``ModifiedOn lt <now - clock_margin>``."""
        from airflow_provider_creatio.client import odata
        from airflow_provider_creatio.client.changes import changed_before

        return changed_before(odata.build_filter(self.filter), now - self.clock_margin)


def utc_now() -> dt.datetime:
    """The triggerer's clock, which the margin is taken from (tests set it)."""
    return dt.datetime.now(dt.timezone.utc)


def _check_deletes_arguments(interval: float, snapshot_path: str | None) -> None:
    if not hasattr(BaseEventTrigger, "create_shared_stream_producer"):
        raise ValueError(
            "include_deletes needs Airflow 3.3 or later: it keeps its snapshot of Ids only once Airflow stored the "
            "event that reports the deletions, which takes a shared stream in ack mode"
        )
    if not snapshot_path:
        raise ValueError(
            "include_deletes needs snapshot_path: the folder where the snapshots of Ids are kept"
        )
    if interval <= 0:
        raise ValueError(f"deletes_interval must be positive, got {interval}")


def _margin(value: dt.timedelta | float) -> dt.timedelta:
    if isinstance(value, bool) or not isinstance(value, (dt.timedelta, int, float)):
        raise TypeError(f"clock_margin must be a datetime.timedelta or seconds, got {value!r}")
    margin = value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=value)
    if margin < dt.timedelta(0):
        raise ValueError(f"clock_margin must not be negative, got {value!r}")
    return margin


def watch_identity(serialized: tuple[str, dict[str, Any]]) -> str:
    classpath, kwargs = serialized
    text = json.dumps([classpath, kwargs], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
