"""Operators that drive Creatio business processes through ProcessEngineService.svc.

How :class:`CreatioRunProcessOperator` starts a process:

* No ``result_parameters`` and no ``wait_for_completion``: the process is started and the task returns at once
  (Creatio's fire-and-forget ``Execute``).
* ``result_parameters``: Creatio runs the process to its end and the task returns ``{name: value}`` with
  JSON-looking strings decoded (an object-list parameter comes back as a list of dicts).
* ``wait_for_completion``: the process is started with ``RunProcess`` and followed in ``SysProcessLog`` until it
  is Completed, Error or Canceled, polling every ``poll_interval`` seconds (in the triggerer when
  ``deferrable``). After ``timeout`` seconds the process is cancelled and the task fails.

``deferrable`` frees the worker slot only while a run is followed without outputs. Creatio hands outputs back only
in the answer to the call that starts the process (``RunProcess`` or ``Execute``), and that answer comes when the
process ends (or stops at an element that waits), so a task with ``result_parameters`` holds its worker slot for
the whole run, deferrable or not (it says so in its log). For a long process, start it without
``result_parameters`` and follow it with ``wait_for_completion`` and ``deferrable`` (or ``CreatioProcessSensor``),
and let the process write what it produces to a record that a later task reads.

``method="auto"`` uses ``Execute`` (GET, the ProcessEngineService documentation's form) for fire-and-forget starts whose parameters fit in a URL,
and ``RunProcess`` (POST) whenever outputs are asked, the run is followed, or the parameters are large: ``Execute``
can return an output even when the process then failed, and only ``RunProcess`` gives the process id and
``processStatus``. ``method="execute"`` forces the ProcessEngineService documentation's exact GET (one output at most, no verdict). The verdict
is ``processStatus``: a run answering ``success: true`` with status Error fails the task, with
``SysProcessLog.ErrorDescription`` in the message.

Starting a process is not idempotent. It is repeated only when Creatio provably never received the request; if
the answer is lost (read timeout, dropped connection) the task fails without retrying (Airflow retries included),
because the process may be running: look at the process log first.

A task that follows its process (``wait_for_completion``) keeps the process id in Airflow's task state store
(Airflow 3.3 and later) from the start until it sees the process end. A try that ends without seeing it (its worker
died, Creatio was unreachable for longer than the hook's retries) leaves the id there, and the next try of the same
task resumes instead of starting again: it follows the process while it runs, succeeds if it Completed, and starts
a new run only if that one ended in Error or Canceled. An Airflow without the task state store cannot tell a retry
what an earlier try started, so there a retry of a followed run fails at once, naming the process to look at,
rather than risk starting it twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow_provider_creatio._compat import (
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    AirflowTaskTimeout,
    BaseOperator,
    ResumableJobMixin,
    default_deferrable,
)
from airflow_provider_creatio.client.errors import CreatioOutcomeUnknownError, CreatioProcessError
from airflow_provider_creatio.client.process_state import FINAL_STATES, ProcessState
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.links import CreatioProcessLogLink, process_log_url
from airflow_provider_creatio.operators.asset_events import AssetEventsMixin
from airflow_provider_creatio.operators.base import CreatioHookMixin, execution_deadline
from airflow_provider_creatio.operators.unfinished_process import (
    UNFINISHED_PROCESS,
    forget_unfinished,
    refuse_blind_retry,
)
from airflow_provider_creatio.templated import rendered_names

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context

ResultParameters = str | Sequence[str] | None
EntityNames = str | Sequence[str] | None

COMPLETED = ProcessState.COMPLETED.value
# Outputs come only in the answer to the starting call, at the process's end: nothing to defer.
SLOT_HELD = (
    "deferrable=True has no effect here: process %s is asked for outputs (%s), which Creatio returns only when "
    "the process ends (or waits on an element), so this task holds its worker slot until then"
)


class CreatioRunProcessOperator(ResumableJobMixin, AssetEventsMixin, CreatioHookMixin, BaseOperator):  # type: ignore[misc]
    """Start a Creatio business process, optionally wait for it, and return its outputs (see the module's
    docstring for how it starts, waits and defers).

    :param process_name: the process schema code, e.g. ``UsrFullNameProcess``. Templated.
    :param parameters: input parameter code -> value. Lists and dicts are sent as JSON strings (collection and
        object-list parameters). Templated.
    :param result_parameters: output parameter codes: none, one name or a list. Templated.
    :param wait_for_completion: follow the process until it ends.
    :param deferrable: wait in the triggerer instead of a worker slot (default ``[operators] default_deferrable``);
        no effect with ``result_parameters``.
    :param poll_interval: seconds between two looks at the process log.
    :param timeout: seconds to wait for completion before cancelling the process (None: wait forever).
    :param method: ``auto`` (default), ``execute`` or ``run``: which service method starts the process.
    :param entities_read: the entities the process reads (a list of names, or ``"Contact,Account"``), for lineage:
        OpenLineage inputs. Templated.
    :param entities_written: the entities the process writes: once the task has seen the process complete
        (outputs asked, ``wait_for_completion``, or RunProcess answering Completed), it records an event on the asset
        ``creatio://{host}/{entity}`` of each that a DAG mentions (a fire-and-forget start emits none: the process
        has not written yet). OpenLineage outputs. Templated.
    :param cancel_on_kill: cancel the process when the task is killed (marked failed or success, or cleared) while
        it follows the run, in a worker or deferred (default True).
    :param durable: keep the followed run in Airflow 3.3's task state store, so that a retry follows it instead of
        starting another (default True; ``ResumableJobMixin``'s argument).
    :param creatio_conn_id: the Airflow connection of type ``creatio``. Templated.
    :param hook_params: CreatioHook overrides (``retry_attempts``, ``timeout``...).

    XCom: the return value (outputs dict, or ``{"process_id", "status"}`` when started with RunProcess and no outputs
    were asked, or None for fire-and-forget ``Execute``), and ``process_id`` when Creatio gave one. ``status`` is
    Creatio's process-log word (``Running``, ``Completed``...), whether or not the run is followed.

    ``execution_timeout`` holds while the run is followed deferred too: the trigger ends the wait when it passes,
    and the task cancels the process and fails with Airflow's timeout error, as with ``timeout``.
    """

    api_calls_in_xcom = False  # the XCom is the process's output parameters (or its id and status)
    template_fields: Sequence[str] = (
        "process_name",
        "parameters",
        "result_parameters",
        "entities_read",
        "entities_written",
        "creatio_conn_id",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"parameters": "json"}
    operator_extra_links = (CreatioProcessLogLink(),)
    ui_color = "#c9e4f5"
    default_conn_id = CreatioHook.default_conn_name
    external_id_key = UNFINISHED_PROCESS

    def __init__(
        self,
        *,
        process_name: str,
        parameters: Mapping[str, Any] | None = None,
        result_parameters: ResultParameters = None,
        wait_for_completion: bool = False,
        deferrable: bool | None = None,
        poll_interval: float = 10.0,
        timeout: float | None = None,
        method: Literal["auto", "execute", "run"] = "auto",
        entities_read: EntityNames = None,
        entities_written: EntityNames = None,
        cancel_on_kill: bool = True,
        durable: bool = True,
        creatio_conn_id: str = CreatioHook.default_conn_name,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        from airflow_provider_creatio.client.process_flow import check_start_arguments

        super().__init__(durable=durable, **kwargs)
        check_start_arguments(method, wait_for_completion, poll_interval)
        self.process_name = process_name
        self.parameters = parameters
        self.result_parameters = result_parameters
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.method = method
        self.entities_read = entities_read
        self.entities_written = entities_written
        self.cancel_on_kill = cancel_on_kill
        self.creatio_conn_id = creatio_conn_id
        self.hook_params = hook_params
        self.process_id: str | None = None
        self.process_log_url: str | None = None
        self.process_status: str | None = None  # the last state seen, in the process log's words

    def execute(self, context: Context) -> Any:
        try:
            result = self.execute_resumable(context) if self.wait_for_completion else self._start(context)
        except CreatioOutcomeUnknownError as err:
            # The process may be running: an automatic retry could start a second one.
            raise AirflowFailException(str(err)) from err
        finally:
            self.keep_run_facts()
            self.close_hook()
        self._announce_written(context)
        return result

    def _start(self, context: Context) -> Any:
        """Start the process; the outputs, the run's id and state, or None for a fire-and-forget ``Execute``."""
        from airflow_provider_creatio.client import process

        names = process.result_names(self.result_parameters)
        params = dict(self.parameters or {})
        if names and self.deferrable:
            self.log.warning(SLOT_HELD, self.process_name, ", ".join(names))
        if self.hook.uses_execute(self.method, self.process_name, params, names, self.wait_for_completion):
            value = self.hook.execute_process(self.process_name, params, names[0] if names else None)
            if not names:
                self.log.info("Started process %s (fire and forget).", self.process_name)
                return None
            return {names[0]: value}
        run = self.hook.start_process(self.process_name, params, names)
        self.process_status = run.status.value
        if run.process_id:
            self._remember(context, run.process_id)
        if names:
            return {name: run.results.get(name) for name in names}
        return {"process_id": run.process_id, "status": self.process_status}

    def _remember(self, context: Context, process_id: str) -> None:
        """The run this task started or follows: for on_kill, the log link, lineage and the ``process_id`` XCom."""
        self._name_run(process_id)
        context["ti"].xcom_push(key="process_id", value=process_id)
        self.log.info("Process %s: instance %s (%s)", self.process_name, process_id, self.process_log_url)

    def _name_run(self, process_id: str) -> None:
        self.process_id = process_id
        self.process_log_url = process_log_url(self.hook.config.base_url, process_id)

    # ---- ResumableJobMixin: the followed run, which a retry finds in the task state store

    def submit_job(self, context: Context) -> str:
        refuse_blind_retry(context, self.process_name)
        started = self._start(context)
        if not started.get("process_id"):
            raise AirflowException(f"process {self.process_name} gave no process id to follow")
        return str(started["process_id"])

    def get_job_status(self, external_id: Any, context: Context) -> str:
        return self.hook.get_process_log(str(external_id)).state.value

    def is_job_active(self, status: str) -> bool:
        return ProcessState(status) not in FINAL_STATES

    def is_job_succeeded(self, status: str) -> bool:
        return ProcessState(status) is ProcessState.COMPLETED

    def poll_until_complete(self, external_id: Any, context: Context) -> dict[str, Any]:
        """Follow the run to its end, in the worker or deferred; forget it once it ended, either way."""
        process_id = str(external_id)
        if self.process_id != process_id:  # a retry reconnecting to an earlier try's run
            self._remember(context, process_id)
        if self.process_status != COMPLETED:  # RunProcess may have answered Completed already
            self.process_status = self._follow(context, process_id)
        return self.get_job_result(process_id, context)

    def get_job_result(self, external_id: Any, context: Context) -> dict[str, Any]:
        if self.process_id != str(external_id):  # an earlier try's run that has completed
            self._remember(context, str(external_id))
        forget_unfinished(context)
        self.process_status = COMPLETED
        return {"process_id": self.process_id, "status": self.process_status}

    def _follow(self, context: Context, process_id: str) -> str:
        """The state the run ended in (Completed; Error and Canceled raise), deferring when ``deferrable``."""
        if self.deferrable:
            from airflow_provider_creatio.triggers.process import CreatioProcessTrigger

            trigger = CreatioProcessTrigger.after_first_look(
                self.creatio_conn_id,
                process_id,
                poll_interval=self.poll_interval,
                timeout=self.timeout,
                hook_params=self.hook_params,
                task_deadline=execution_deadline(self.execution_timeout, context),
                cancel_on_kill=self.cancel_on_kill,
            )
            self.defer(trigger=trigger, method_name="execute_complete")
        try:
            entry = self.hook.wait_for_process(
                self.process_name,
                process_id,
                poll_interval=self.poll_interval,
                timeout=self.timeout,
                note=self.log.info,
            )
        except CreatioProcessError:  # it ended in Error or Canceled, or was cancelled after the timeout
            forget_unfinished(context)
            raise
        return entry.state.value

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after the trigger: turn its event into the task's result or error."""
        from airflow_provider_creatio.client import process_log

        process_id, status = str(event.get("process_id") or ""), event.get("status")
        self._name_run(process_id)
        try:
            if status not in ("success", "timeout", "failure", "execution_timeout"):
                raise AirflowException(event.get("message") or f"unexpected trigger event {event!r}")
            forget_unfinished(context)
            if status == "timeout":
                raise self.hook.cancel_after_timeout(self.process_name, process_id, self.timeout)
            if status == "execution_timeout":
                self.hook.cancel_process(process_id)
                # Airflow calls on_kill after an AirflowTaskTimeout: it has nothing left to cancel.
                self.process_status = ProcessState.CANCELED.value
                raise AirflowTaskTimeout(f"{event.get('message')}; process {process_id} was cancelled")
            if status == "failure":
                entry = process_log.ProcessLogEntry.from_dict(event["entry"])
                raise self.hook.process_failure(entry, self.process_name)
            self.log.info("%s", event.get("message"))
            self.process_status = (event.get("entry") or {}).get("state")
            self.keep_run_facts()
            self._announce_written(context)
            return {"process_id": process_id, "status": self.process_status}
        finally:
            self.close_hook()

    def _announce_written(self, context: Context) -> None:
        """The asset events of ``entities_written``, once the process is known to have completed."""
        if self.process_status == COMPLETED:
            for entity in rendered_names(self.entities_written, "entities_written"):
                self.emit_written(context, entity, {"process": self.process_name})

    def on_kill(self) -> None:
        """Cancel the process this task follows in a worker, so a killed task leaves nothing running in Creatio
        (a deferred one is cancelled by its trigger's ``on_kill``)."""
        if self.process_id and self.cancel_on_kill and self.process_status not in FINAL_STATES:
            self.log.info("Task killed: cancelling Creatio process %s", self.process_id)
            try:
                self.hook.cancel_process(self.process_id)
            finally:
                self.close_hook()

    def get_openlineage_facets_on_start(self) -> Any:
        """``entities_read`` as inputs, ``entities_written`` as outputs, and the run facet ``creatio_process``
        (process name; instance id, status and log URL once known) (OpenLineage provider)."""
        from airflow_provider_creatio import openlineage

        run = openlineage.CreatioProcessRunFacet(
            processName=self.process_name,
            processId=self.process_id,
            status=self.process_status,
            logUrl=self.process_log_url,
        )
        read = rendered_names(self.entities_read, "entities_read")
        written = rendered_names(self.entities_written, "entities_written")
        return openlineage.process_lineage(self.site_url(), read, written, run)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return self.get_openlineage_facets_on_start()

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        """As on completion: the instance that failed, and its last status, name the run to look at."""
        return self.get_openlineage_facets_on_start()


class CreatioExecElementOperator(CreatioHookMixin, BaseOperator):  # type: ignore[misc]
    """Execute one waiting element of a running process (``ExecProcElByUId``).

    The element UID is checked to be a GUID before anything is sent. Creatio answers the same whether or not it
    ran the element, so the operator reads ``SysProcessElementLog`` before and after and reports what happened:

    * the element was waiting and ran: returns ``{"executed": True, ...}``;
    * the element had already run: nothing changes; ``if_already_executed`` decides: ``"warn"`` (default: log a
      warning and return ``{"executed": False, ...}``), ``"skip"`` (skip the task) or ``"fail"``;
    * the process is not running (finished, failed, cancelled): the task fails, naming the process state.

    :param element_uid: the element instance id (``SysProcessElementLog.Id``). Templated.
    :param if_already_executed: ``warn``, ``skip`` or ``fail``.
    :param creatio_conn_id: the Airflow connection of type ``creatio``. Templated.
    :param hook_params: CreatioHook overrides.
    """

    template_fields: Sequence[str] = ("element_uid", "creatio_conn_id")
    operator_extra_links = (CreatioProcessLogLink(),)
    ui_color = "#c9e4f5"

    def __init__(
        self,
        *,
        element_uid: str,
        if_already_executed: Literal["warn", "skip", "fail"] = "warn",
        creatio_conn_id: str = CreatioHook.default_conn_name,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if if_already_executed not in ("warn", "skip", "fail"):
            raise ValueError(f"if_already_executed must be warn, skip or fail, got {if_already_executed!r}")
        self.element_uid = element_uid
        self.if_already_executed = if_already_executed
        self.creatio_conn_id = creatio_conn_id
        self.hook_params = hook_params
        self.process_log_url: str | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_creatio.client import validation

        uid = validation.parse_guid(self.element_uid, "element_uid")  # before anything is sent
        try:
            before = self.hook.get_process_element(uid)
            if before.process_id:
                self.process_log_url = process_log_url(self.hook.config.base_url, before.process_id)
            if before.is_final:
                return self._already_executed(before.to_dict())
            if before.process_id:
                self.hook.check_process_running(self.element_uid, before.process_id)
            self.hook.exec_process_element(uid)
            after = self.hook.get_process_element(uid)
        finally:
            self.close_hook()
        self.log.info("Element %s: %s -> %s", uid, before.state.value, after.state.value)
        return {**after.to_dict(), "executed": True, "state_before": before.state.value}

    def _already_executed(self, element: dict[str, Any]) -> dict[str, Any]:
        message = (
            f"element {self.element_uid} was already executed ({element['state']}); "
            "Creatio does not run an element twice, so nothing changed"
        )
        if self.if_already_executed == "fail":
            raise AirflowFailException(message)
        if self.if_already_executed == "skip":
            raise AirflowSkipException(message)
        self.log.warning("%s", message)
        return {**element, "executed": False, "state_before": element["state"]}
