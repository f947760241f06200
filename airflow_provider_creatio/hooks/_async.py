"""The calls triggers make, on the async client that :meth:`CreatioHook.shared_async_calls` shares.

Each method runs the same request builder and parser as its sync twin on :class:`CreatioHook`, so a trigger and
its sensor or operator cannot disagree about an answer, and no trigger builds a protocol call itself.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_creatio.client.aio import AsyncCreatioClient
    from airflow_provider_creatio.client.process_log import ProcessLogEntry
    from airflow_provider_creatio.client.watch import RecordCondition, WatchOutcome, WatchSpec


class AsyncCreatioCalls:
    """Hook-level async calls on one (shared) :class:`AsyncCreatioClient`."""

    def __init__(self, client: AsyncCreatioClient) -> None:
        self.client = client

    async def get_process_log(self, process_id: str | uuid.UUID) -> ProcessLogEntry:
        """The ``SysProcessLog`` row of one process instance."""
        from airflow_provider_creatio.client import process_log

        return await self.client.execute(process_log.get_process_log(process_id))

    async def watch(self, spec: WatchSpec, condition: RecordCondition) -> WatchOutcome:
        """One look at a watched record or query, and the verdict on it (a vanished record fails the wait)."""
        from airflow_provider_creatio.client import watch

        return watch.evaluate(spec, condition, await self.client.execute(watch.watch_call(spec)))
