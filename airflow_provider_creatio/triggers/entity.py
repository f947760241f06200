"""CreatioEntityTrigger: watches a record (or a query) from the triggerer, on the async client.

Each look goes through the hook's async calls, which build the request and judge the answer exactly as
:class:`~airflow_provider_creatio.sensors.entity.CreatioEntitySensor`'s hook does on the sync client. Only field
conditions travel here: a Python callable cannot be serialized.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio._compat import BaseTrigger, TriggerEvent
from airflow_provider_creatio.triggers import sleep_until

if TYPE_CHECKING:
    from airflow_provider_creatio.client.watch import RecordCondition, WatchSpec


class CreatioEntityTrigger(BaseTrigger):  # type: ignore[misc]
    """Poll a Creatio record until its field conditions hold, it reaches a failure state, or it disappears.

    :param creatio_conn_id: the Airflow connection of type ``creatio``.
    :param watch: what to look at, as :meth:`WatchSpec.to_dict` gives it.
    :param success_values: column path -> value or list of values; the wait ends when all hold.
    :param failure_values: column path -> value or list of values; the wait fails when all hold.
    :param poll_interval: seconds between two looks.
    :param hook_params: CreatioHook overrides (``retry_attempts``, ``timeout``...), plain JSON values.
    :param first_look_at: a UNIX timestamp before which the trigger does not look: the deferring task has just
        looked on its worker, so the next look is due one poll interval later, as in poke mode (None: at once).

    Yields one event: ``{"status": "success", "record": {...}, "message"}``, ``{"status": "failure",
    "record": {...} | None, "message"}`` or ``{"status": "error", "message"}``.
    """

    def __init__(
        self,
        *,
        creatio_conn_id: str,
        watch: dict[str, Any],
        success_values: dict[str, Any] | None = None,
        failure_values: dict[str, Any] | None = None,
        poll_interval: float = 60.0,
        hook_params: dict[str, Any] | None = None,
        first_look_at: float | None = None,
    ) -> None:
        super().__init__()
        self.creatio_conn_id = creatio_conn_id
        self.watch = watch
        self.success_values = success_values
        self.failure_values = failure_values
        self.poll_interval = float(poll_interval)
        self.hook_params = hook_params
        self.first_look_at = first_look_at

    @classmethod
    def after_first_look(
        cls,
        creatio_conn_id: str,
        spec: WatchSpec,
        condition: RecordCondition,
        *,
        poll_interval: float,
        hook_params: dict[str, Any] | None,
    ) -> CreatioEntityTrigger:
        """The trigger of a task that has just looked on its worker and defers now: it looks next one poll
        interval from now."""
        return cls(
            creatio_conn_id=creatio_conn_id,
            watch=spec.to_dict(),
            success_values=dict(condition.success),
            failure_values=dict(condition.failure),
            poll_interval=poll_interval,
            hook_params=hook_params,
            first_look_at=time.time() + poll_interval,
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "creatio_conn_id": self.creatio_conn_id,
                "watch": self.watch,
                "success_values": self.success_values,
                "failure_values": self.failure_values,
                "poll_interval": self.poll_interval,
                "hook_params": self.hook_params,
                "first_look_at": self.first_look_at,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        yield TriggerEvent(await self._wait())

    async def _wait(self) -> dict[str, Any]:
        from airflow_provider_creatio.client import watch
        from airflow_provider_creatio.client.errors import CreatioError
        from airflow_provider_creatio.hooks.creatio import CreatioHook

        try:
            spec = watch.WatchSpec.from_dict(self.watch)
            condition = watch.RecordCondition.build(self.success_values, self.failure_values)
        except CreatioError as err:
            return {"status": "error", "message": str(err)}
        hook_params = self.hook_params or {}
        try:
            async with CreatioHook.shared_async_calls(self.creatio_conn_id, **hook_params) as creatio:
                await sleep_until(self.first_look_at)
                while True:
                    outcome = await creatio.watch(spec, condition)
                    if outcome.state is not watch.WatchState.WAITING:
                        return {
                            "status": outcome.state.value,
                            "record": outcome.record,
                            "message": outcome.message,
                        }
                    self.log.info("%s; next look in %s s", outcome.message, self.poll_interval)
                    await asyncio.sleep(self.poll_interval)
        except CreatioError as err:
            return {"status": "error", "message": f"watching {spec.describe} failed: {err}"}
