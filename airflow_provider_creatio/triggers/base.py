"""What the triggers that look at Creatio until a verdict share: serialization from their fields, one shared async
client, the delay of the first look and the sleep between looks. A trigger says what one look is and what its
error event says."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_creatio._compat import BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow_provider_creatio.client.errors import CreatioError
    from airflow_provider_creatio.hooks._async import AsyncCreatioCalls


class CreatioPollingTrigger(BaseTrigger):  # type: ignore[misc]
    """Look at Creatio every ``poll_interval`` seconds, from ``first_look_at`` on, until :meth:`look` returns an
    event; yield that one event. A :class:`CreatioError` ends the wait with :meth:`error_event`, and the task's
    ``execution_timeout`` (``task_deadline``, a UNIX time: Airflow does not enforce it while a task is deferred)
    with an ``execution_timeout`` event.

    ``serialized_fields`` names the attributes :meth:`serialize` hands Airflow (each an ``__init__`` argument).
    """

    serialized_fields: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        *,
        creatio_conn_id: str,
        poll_interval: float,
        hook_params: dict[str, Any] | None = None,
        first_look_at: float | None = None,
        task_deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.creatio_conn_id = creatio_conn_id
        self.poll_interval = float(poll_interval)
        self.hook_params = hook_params
        self.first_look_at = first_look_at
        self.task_deadline = task_deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        classpath = f"{type(self).__module__}.{type(self).__qualname__}"
        return classpath, {name: getattr(self, name) for name in self.serialized_fields}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_creatio.client import api_calls

        with api_calls.counted_here() as spent:  # this trigger's share of the shared client's calls
            event = await self._poll()
        yield TriggerEvent({**event, api_calls.KEY: spent.value})

    async def _poll(self) -> dict[str, Any]:
        from airflow_provider_creatio.client.errors import CreatioError
        from airflow_provider_creatio.hooks.creatio import CreatioHook

        try:
            async with CreatioHook.shared_async_calls(
                self.creatio_conn_id, **(self.hook_params or {})
            ) as creatio:
                await self._sleep_until(self.first_look_at)
                while not self._past_deadline():
                    if (event := await self.look(creatio)) is not None:
                        return event
                    await self._sleep_until(time.time() + self.poll_interval)
                return self.event("execution_timeout", "the task's execution_timeout passed while it waited")
        except CreatioError as err:
            return self.error_event(err)

    async def _sleep_until(self, timestamp: float | None) -> None:
        """Sleep until the UNIX time ``timestamp``, or the task's deadline if that comes first (not at all when it
        is None or past, e.g. in a trigger that a new triggerer took over).

        The first look waits for ``first_look_at``: a deferring task looks once on its worker before it defers; a
        trigger that looked again at once would ask Creatio twice within a second, and, when the wait ends at
        that look, resume the task while Airflow 3.3's scheduler may not yet have seen the deferring workload end
        (it then fails the re-queued task)."""
        if timestamp is not None and self.task_deadline is not None:
            timestamp = min(timestamp, self.task_deadline)
        if timestamp is not None:
            await asyncio.sleep(max(0.0, timestamp - time.time()))

    def _past_deadline(self) -> bool:
        return self.task_deadline is not None and time.time() >= self.task_deadline

    async def look(self, creatio: AsyncCreatioCalls) -> dict[str, Any] | None:
        """One look: the event that ends the wait, or None to look again after ``poll_interval``."""
        raise NotImplementedError

    def event(self, status: str, message: str) -> dict[str, Any]:
        """An event of this trigger's shape that says only ``status`` and ``message``."""
        raise NotImplementedError

    def error_event(self, err: CreatioError) -> dict[str, Any]:
        raise NotImplementedError
