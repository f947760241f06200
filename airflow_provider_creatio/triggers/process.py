"""CreatioProcessTrigger: follows a process instance's SysProcessLog row from the triggerer, on the async client.

It reads the row through the hook's async calls (the request builder and parser of the sync side) and decides
with the same pure functions as the worker's loop (:func:`client.process_flow.judge`), so the two modes cannot
disagree about a state or a deadline. It never starts anything, and cancels the process only when the user kills the
task (``on_kill``, Airflow 3.3+) and the operator asked for it (``cancel_on_kill``): a restarted triggerer only
polls again, which is harmless.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio.triggers.base import CreatioPollingTrigger

if TYPE_CHECKING:
    from airflow_provider_creatio.client.errors import CreatioError
    from airflow_provider_creatio.client.process_log import ProcessLogEntry
    from airflow_provider_creatio.hooks._async import AsyncCreatioCalls


class CreatioProcessTrigger(CreatioPollingTrigger):
    """Poll ``SysProcessLog`` until the process is Completed, Error or Canceled, or until ``end_time``.

    :param creatio_conn_id: the Airflow connection of type ``creatio``.
    :param process_id: the process instance (``SysProcessLog.Id``, RunProcess's ``processId``).
    :param poll_interval: seconds between two looks.
    :param end_time: a UNIX timestamp after which the trigger gives up with a ``timeout`` event (None: never).
    :param hook_params: CreatioHook overrides (``retry_attempts``, ``timeout``...), plain JSON values.
    :param first_look_at: a UNIX timestamp before which the trigger does not look: the deferring task has just
        looked on its worker, so the next look is due one poll interval later, as in poke mode (None: at once).
    :param task_deadline: the UNIX time at which the task's ``execution_timeout`` runs out (None: never).
    :param cancel_on_kill: cancel the process when a user kills the deferred task (the run operator's choice; a
        sensor only watches).

    Yields one event: ``{"status": "success" | "failure" | "timeout" | "execution_timeout" | "error", "process_id",
    "entry", "message"}``
    where ``entry`` is the last :meth:`ProcessLogEntry.to_dict` read (None if none was).
    """

    serialized_fields = (
        "creatio_conn_id",
        "process_id",
        "poll_interval",
        "end_time",
        "hook_params",
        "first_look_at",
        "task_deadline",
        "cancel_on_kill",
    )

    def __init__(
        self,
        *,
        creatio_conn_id: str,
        process_id: str,
        poll_interval: float = 30.0,
        end_time: float | None = None,
        hook_params: dict[str, Any] | None = None,
        first_look_at: float | None = None,
        task_deadline: float | None = None,
        cancel_on_kill: bool = False,
    ) -> None:
        super().__init__(
            creatio_conn_id=creatio_conn_id,
            poll_interval=poll_interval,
            hook_params=hook_params,
            first_look_at=first_look_at,
            task_deadline=task_deadline,
        )
        self.process_id = process_id
        self.end_time = end_time
        self.cancel_on_kill = cancel_on_kill
        self._entry: dict[str, Any] | None = None  # the last log row read, for the error event

    @classmethod
    def after_first_look(
        cls,
        creatio_conn_id: str,
        process_id: str,
        *,
        poll_interval: float,
        timeout: float | None,
        hook_params: dict[str, Any] | None,
        task_deadline: float | None = None,
        cancel_on_kill: bool = False,
    ) -> CreatioProcessTrigger:
        """The trigger of a task that has just looked at the process on its worker and defers now: it gives up
        ``timeout`` seconds from now (never when None) and looks next one poll interval from now."""
        now = time.time()
        return cls(
            creatio_conn_id=creatio_conn_id,
            process_id=process_id,
            poll_interval=poll_interval,
            end_time=None if timeout is None else now + timeout,
            hook_params=hook_params,
            first_look_at=now + poll_interval,
            task_deadline=task_deadline,
            cancel_on_kill=cancel_on_kill,
        )

    def event(self, status: str, message: str, entry: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "status": status,
            "process_id": self.process_id,
            "entry": entry or self._entry,
            "message": message,
        }

    async def look(self, creatio: AsyncCreatioCalls) -> dict[str, Any] | None:
        from airflow_provider_creatio.client import process_flow

        log_entry = await creatio.get_process_log(self.process_id)
        self._entry = entry = log_entry.to_dict()
        look = process_flow.judge(log_entry, time.time(), self.end_time, self.poll_interval)
        if look is process_flow.Look.FINAL:
            return self._final_event(log_entry, entry)
        if look is process_flow.Look.TIMED_OUT:
            return self.event("timeout", f"process {self.process_id} still running at timeout", entry)
        self.log.info("%s", process_flow.waiting_note(self.process_id, log_entry, self.poll_interval))
        return None

    def error_event(self, err: CreatioError) -> dict[str, Any]:
        return self.event("error", f"following process {self.process_id} failed: {err}", self._entry)

    def _final_event(self, log_entry: ProcessLogEntry, entry: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_creatio.client.process_state import ProcessState

        ok = log_entry.state is ProcessState.COMPLETED
        message = f"process {self.process_id} is {log_entry.state.value}"
        if log_entry.error_description:
            message += f": {log_entry.error_description}"
        return self.event("success" if ok else "failure", message, entry)

    async def on_kill(self) -> None:
        """A user killed the deferred task (marked it failed or success, or cleared it): cancel the process when
        the operator asked for it. Airflow 3.3 calls this; it logs what it raises and moves on."""
        if not self.cancel_on_kill:
            return
        from airflow_provider_creatio.hooks.creatio import CreatioHook

        self.log.info("Task killed: cancelling Creatio process %s", self.process_id)
        async with CreatioHook.shared_async_calls(
            self.creatio_conn_id, **(self.hook_params or {})
        ) as creatio:
            await creatio.cancel_process(self.process_id)
