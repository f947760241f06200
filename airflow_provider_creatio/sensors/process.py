"""CreatioProcessSensor: wait for a Creatio process instance to finish (the scheduler API's status check, the Creatio way)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio._compat import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    default_deferrable,
)
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.links import CreatioProcessLogLink, process_log_url
from airflow_provider_creatio.operators.base import CreatioHookMixin, execution_deadline
from airflow_provider_creatio.sensors.base import FirstLookMixin

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context


class CreatioProcessSensor(CreatioHookMixin, FirstLookMixin, BaseSensorOperator):  # type: ignore[misc]
    """Wait until a process instance (``SysProcessLog`` row) is Completed; fail fast on Error or Canceled.

    The scheduler API reports WAITING, RUNNING and SUCCEEDED; Creatio's process log says Running (which may
    also mean waiting on a user task), Completed, Error and Canceled. The sensor succeeds on Completed and fails
    at once, with ``ErrorDescription``, on Error or Canceled.

    :param process_id: the process instance id, usually from XCom:
        ``"{{ ti.xcom_pull(task_ids='start', key='process_id') }}"``. Templated.
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``). The state is checked
        once first; a finished process completes without deferring.
    :param creatio_conn_id: the Airflow connection of type ``creatio``. Templated.
    :param hook_params: CreatioHook overrides.

    Works in ``poke`` and ``reschedule`` modes too. XCom: the process log entry
    (``process_id``, ``state``, ``name``, ``error_description``, ``start_date``, ``complete_date``).
    """

    template_fields: Sequence[str] = ("process_id", "creatio_conn_id")
    operator_extra_links = (CreatioProcessLogLink(),)
    ui_color = "#d8ecfb"

    def __init__(
        self,
        *,
        process_id: str,
        deferrable: bool | None = None,
        creatio_conn_id: str = CreatioHook.default_conn_name,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.process_id = process_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.creatio_conn_id = creatio_conn_id
        self.hook_params = hook_params
        self.process_log_url: str | None = None

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_creatio.client import validation
        from airflow_provider_creatio.client.process_state import ProcessState

        process_id = validation.parse_guid(self.process_id, "process_id")
        self.process_log_url = process_log_url(self.hook.config.base_url, process_id)
        entry = self.hook.get_process_log(process_id)
        if entry.is_final and entry.state is not ProcessState.COMPLETED:
            raise AirflowFailException(str(self.hook.process_failure(entry)))
        self.log.info("Process %s is %s", process_id, entry.state.value)
        return PokeReturnValue(is_done=entry.is_final, xcom_value=entry.to_dict())

    def defer_to_trigger(self, context: Context) -> None:
        from airflow_provider_creatio.triggers.process import CreatioProcessTrigger

        trigger = CreatioProcessTrigger.after_first_look(
            self.creatio_conn_id,
            str(self.process_id),
            poll_interval=self.poke_interval,
            timeout=self.timeout,
            hook_params=self.hook_params,
            task_deadline=execution_deadline(self.execution_timeout, context),
        )
        self.defer(trigger=trigger, method_name="execute_complete")

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        status, message = event.get("status"), str(event.get("message") or "")
        self.process_log_url = process_log_url(self.hook.config.base_url, str(event.get("process_id")))
        if status == "success":
            self.log.info("%s", message)
            return event.get("entry")
        if status == "execution_timeout":
            raise self.timed_out(message)
        failure: type[Exception] = {
            "failure": AirflowFailException,
            "timeout": AirflowSensorTimeout,
        }.get(str(status), AirflowException)
        if self.soft_fail and status in ("failure", "timeout"):
            raise AirflowSkipException(message)
        raise failure(message)
