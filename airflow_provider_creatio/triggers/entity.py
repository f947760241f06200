"""CreatioEntityTrigger: watches a record (or a query) from the triggerer, on the async client.

Each look goes through the hook's async calls, which build the request and judge the answer exactly as
:class:`~airflow_provider_creatio.sensors.entity.CreatioEntitySensor`'s hook does on the sync client. Only field
conditions travel here: a Python callable cannot be serialized.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio.triggers.base import CreatioPollingTrigger

if TYPE_CHECKING:
    from airflow_provider_creatio.client.errors import CreatioError
    from airflow_provider_creatio.client.watch import RecordCondition, WatchSpec
    from airflow_provider_creatio.hooks._async import AsyncCreatioCalls


class CreatioEntityTrigger(CreatioPollingTrigger):
    """Poll a Creatio record until its field conditions hold, it reaches a failure state, or it disappears.

    :param creatio_conn_id: the Airflow connection of type ``creatio``.
    :param watch: what to look at, as :meth:`WatchSpec.to_dict` gives it.
    :param success_values: column path -> value or list of values; the wait ends when all hold.
    :param failure_values: column path -> value or list of values; the wait fails when all hold.
    :param poll_interval: seconds between two looks.
    :param hook_params: CreatioHook overrides (``retry_attempts``, ``timeout``...), plain JSON values.
    :param first_look_at: a UNIX timestamp before which the trigger does not look: the deferring task has just
        looked on its worker, so the next look is due one poll interval later, as in poke mode (None: at once).
    :param task_deadline: the UNIX time at which the task's ``execution_timeout`` runs out (None: never).

    Yields one event: ``{"status": "success", "record": {...}, "message"}``, ``{"status": "failure",
    "record": {...} | None, "message"}``, or ``{"status": "error" | "execution_timeout", "message"}``.
    """

    serialized_fields = (
        "creatio_conn_id",
        "watch",
        "success_values",
        "failure_values",
        "poll_interval",
        "hook_params",
        "first_look_at",
        "task_deadline",
    )

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
        task_deadline: float | None = None,
    ) -> None:
        super().__init__(
            creatio_conn_id=creatio_conn_id,
            poll_interval=poll_interval,
            hook_params=hook_params,
            first_look_at=first_look_at,
            task_deadline=task_deadline,
        )
        self.watch = watch
        self.success_values = success_values
        self.failure_values = failure_values

    @classmethod
    def after_first_look(
        cls,
        creatio_conn_id: str,
        spec: WatchSpec,
        condition: RecordCondition,
        *,
        poll_interval: float,
        hook_params: dict[str, Any] | None,
        task_deadline: float | None = None,
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
            task_deadline=task_deadline,
        )

    async def look(self, creatio: AsyncCreatioCalls) -> dict[str, Any] | None:
        from airflow_provider_creatio.client import watch

        spec, condition = self._watched
        outcome = await creatio.watch(spec, condition)
        if outcome.state is watch.WatchState.WAITING:
            self.log.info("%s; next look in %s s", outcome.message, self.poll_interval)
            return None
        return {"status": outcome.state.value, "record": outcome.record, "message": outcome.message}

    def event(self, status: str, message: str) -> dict[str, Any]:
        return {"status": status, "message": message}

    def error_event(self, err: CreatioError) -> dict[str, Any]:
        from airflow_provider_creatio.client.errors import CreatioError
        from airflow_provider_creatio.client.watch import WatchSpec

        try:
            spec = WatchSpec.from_dict(self.watch)
        except CreatioError:  # the watch itself is what is wrong
            return self.event("error", str(err))
        return self.event("error", f"watching {spec.describe} failed: {err}")

    @cached_property
    def _watched(self) -> tuple[WatchSpec, RecordCondition]:
        """What to look at and what to look for, as the deferring task gave them (a bad one: CreatioError), read
        once for every look."""
        from airflow_provider_creatio.client import watch

        spec = watch.WatchSpec.from_dict(self.watch)
        return spec, watch.RecordCondition.build(self.success_values, self.failure_values)
