"""The calls triggers make, on the async client that :meth:`CreatioHook.shared_async_calls` shares.

Each method runs the same request builder and parser as its sync twin on :class:`CreatioHook`, so a trigger and
its sensor or operator cannot disagree about an answer, and no trigger builds a protocol call itself.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_creatio.client.aio import AsyncCreatioClient
    from airflow_provider_creatio.client.changes import ChangeBatch, Mark
    from airflow_provider_creatio.client.keyset import KeysetCursor
    from airflow_provider_creatio.client.process_log import ProcessLogEntry
    from airflow_provider_creatio.client.watch import RecordCondition, WatchOutcome, WatchSpec


class AsyncCreatioCalls:
    """Hook-level async calls on one (shared) :class:`AsyncCreatioClient`."""

    def __init__(self, client: AsyncCreatioClient) -> None:
        from airflow_provider_creatio.client.page_fit import PageSizes

        self.client = client
        # The client is shared by every trigger of the connection; what the RAM limit allowed is kept per user
        # (one trigger, so one task), as a hook keeps it.
        self.page_sizes = PageSizes()

    async def get_process_log(self, process_id: str | uuid.UUID) -> ProcessLogEntry:
        """The ``SysProcessLog`` row of one process instance."""
        from airflow_provider_creatio.client import process_log

        return await self.client.execute(process_log.get_process_log(process_id))

    async def cancel_process(self, process_id: str | uuid.UUID) -> None:
        """Cancel a running process instance (``CancelExecution``)."""
        from airflow_provider_creatio.client import process

        await self.client.execute(process.cancel_process(process_id))

    async def watch(self, spec: WatchSpec, condition: RecordCondition) -> WatchOutcome:
        """One look at a watched record or query, and the verdict on it (a vanished record fails the wait)."""
        from airflow_provider_creatio.client import watch

        return watch.evaluate(spec, condition, await self.client.execute(watch.watch_call(spec)))

    async def read_changes(
        self,
        entity: str,
        *,
        filter: str | None,
        after: Mark | None,
        ids_limit: int,
        page_size: int,
        guid_comparison: bool = True,
    ) -> ChangeBatch:
        """Every record after the mark in (ModifiedOn, Id) order (all matching ones without a mark), read in
        keyset pages exactly as the sync ``iter_keyset`` reads them (the same cursor and request builder), and
        summed up as one batch; one page is held at a time, of ``Id`` and ``ModifiedOn`` only. ``filter``: the
        rendered ``$filter``. A site that refuses to compare GUIDs makes the read go on without, and the batch
        says so (``guid_comparison``)."""
        from airflow_provider_creatio.client.changes import CHANGE_COLUMN, ChangeBatch
        from airflow_provider_creatio.client.keyset import KeysetCursor

        start = None if after is None else (after.modified_on, after.id)
        cursor = KeysetCursor(CHANGE_COLUMN, page_size, after=start, guid_comparison=guid_comparison)
        batch = ChangeBatch(after=after, ids_limit=ids_limit)
        async for records in self._keyset_pages(entity, cursor, filter):
            batch.add(records)
        batch.guid_comparison = cursor.guid_comparison
        return batch

    async def last_change(self, entity: str, *, filter: str | None) -> Mark | None:
        """The (ModifiedOn, Id) of the last matching record in keyset order: a mark after which only later
        changes come; None when nothing matches."""
        from airflow_provider_creatio.client import paging
        from airflow_provider_creatio.client.changes import CHANGE_COLUMN, Mark

        page = await self.client.execute(paging.last_in_order_call(entity, CHANGE_COLUMN, filter))
        return Mark.of_record(page.records[-1]) if page.records else None

    async def iter_ids(
        self, entity: str, *, filter: str | None, guid_comparison: bool = True
    ) -> AsyncIterator[list[str]]:
        """Every matching Id, a page at a time, read key only in the largest pages Creatio answers and in the key
        order the full extract's reconciliation scan uses (``Id``; ``CreatedOn``, then ``Id``, without GUID
        comparison)."""
        from airflow_provider_creatio.client.keyset import CREATED_COLUMN, MAX_PAGE_SIZE, KeysetCursor

        column = None if guid_comparison else CREATED_COLUMN
        cursor = KeysetCursor(column, MAX_PAGE_SIZE, guid_comparison=guid_comparison)
        async for records in self._keyset_pages(entity, cursor, filter):
            yield [str(record["Id"]) for record in records]

    async def _keyset_pages(
        self, entity: str, cursor: KeysetCursor, filter: str | None
    ) -> AsyncIterator[Sequence[dict[str, Any]]]:
        """The records of each keyset page the cursor asks for, of its columns only, as the sync ``iter_keyset``
        reads them (the same cursor and request builder); a site that refuses to compare GUIDs makes the read go
        on without, and a page refused for the RAM limit is asked again smaller."""
        from airflow_provider_creatio.client import page_fit, paging
        from airflow_provider_creatio.client.errors import CreatioError, CreatioMemoryLimitError

        max_nodes = self.client.config.odata_max_filter_nodes
        paging.check_keyset_filter(cursor, filter, max_nodes)
        shape = page_fit.read_shape(entity, cursor.selected, None)
        cursor.resize(self.page_sizes.size(shape, cursor.page_size))
        while not cursor.done:
            try:
                page = await self.client.execute(
                    paging.keyset_page_call(entity, cursor, filter, cursor.selected)
                )
            except CreatioMemoryLimitError as error:
                paging.shrink_page(cursor, self.page_sizes, shape, error)
                continue
            except CreatioError as error:
                paging.fall_back_or_raise(cursor, error, entity, filter, max_nodes)
                continue
            self.page_sizes.fitted(shape, cursor.page_size)
            yield cursor.take(page.records)
