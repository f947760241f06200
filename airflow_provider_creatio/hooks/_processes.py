"""Business-process calls of CreatioHook. Kept in its own module; CreatioHook mixes it in.

Each method is a thin wrapper over :mod:`airflow_provider_creatio.client.process` (ProcessEngineService calls) or
:mod:`airflow_provider_creatio.client.process_log` (the log rows), run on the hook's session. The client modules are
imported inside the methods, so importing the hook stays cheap.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_creatio.client.errors import CreatioError, CreatioProcessError

if TYPE_CHECKING:
    from airflow_provider_creatio.client.http import Call
    from airflow_provider_creatio.client.process import ProcessRun
    from airflow_provider_creatio.client.process_log import ProcessElementEntry, ProcessLogEntry

T = TypeVar("T")
ProcessId = str | uuid.UUID


class ProcessCallsMixin:
    """Start processes, follow their log, execute elements, cancel."""

    if TYPE_CHECKING:

        def call(self, call: Call[T]) -> T: ...

    def execute_process(
        self, name: str, parameters: Mapping[str, Any] | None = None, result_parameter: str | None = None
    ) -> Any:
        """``Execute`` (GET): start the process; with ``result_parameter`` wait and return that output, decoded.
        Not retried once sent (a retry could start the process twice)."""
        from airflow_provider_creatio.client import process

        return self.call(process.execute_process(name, parameters, result_parameter))

    def run_process(
        self,
        name: str,
        parameters: Mapping[str, Any] | None = None,
        result_parameters: str | Sequence[str] = (),
    ) -> ProcessRun:
        """``RunProcess`` (POST): the process id, its status and, when named, its outputs (synchronous then).

        Raises :class:`CreatioProcessError` when the run failed or was refused; the verdict is ``processStatus``,
        and the error carries ``SysProcessLog.ErrorDescription`` when Creatio logged one."""
        from airflow_provider_creatio.client import process

        run = self.call(process.run_process(name, parameters, result_parameters))
        try:
            return run.raise_for_status()
        except CreatioProcessError as err:
            raise self._with_log_description(err) from None

    def get_process_log(self, process_id: ProcessId) -> ProcessLogEntry:
        """The ``SysProcessLog`` row of one process instance."""
        from airflow_provider_creatio.client import process_log

        return self.call(process_log.get_process_log(process_id))

    def get_process_element(self, element_uid: ProcessId) -> ProcessElementEntry:
        """The ``SysProcessElementLog`` row of one element instance."""
        from airflow_provider_creatio.client import process_log

        return self.call(process_log.get_process_element(element_uid))

    def exec_process_element(self, element_uid: ProcessId) -> None:
        """``ExecProcElByUId``: run a waiting element. Creatio answers the same whether or not it ran it."""
        from airflow_provider_creatio.client import process

        self.call(process.exec_process_element(element_uid))

    def cancel_process(self, process_id: ProcessId) -> None:
        """``CancelExecution``; cancelling a finished process changes nothing."""
        from airflow_provider_creatio.client import process

        self.call(process.cancel_process(process_id))

    def process_failure(self, entry: ProcessLogEntry) -> CreatioProcessError:
        """The error for a process instance that ended in Error or Canceled, with its logged description."""
        return CreatioProcessError(
            f"process {entry.name or entry.process_id} ended with status {entry.state.value}",
            process_id=entry.process_id,
            process_status=entry.state.value,
            error_description=entry.error_description,
            operation="follow process",
        )

    def _with_log_description(self, err: CreatioProcessError) -> CreatioProcessError:
        """RunProcess gives a generic message for a failed element; the real text is in SysProcessLog."""
        if not err.process_id:
            return err
        try:
            description = self.get_process_log(err.process_id).error_description
        except CreatioError:
            return err
        if not description or description == err.error_description:
            return err
        generic = f" ({err.error_description})" if err.error_description else ""
        return CreatioProcessError(
            err.message + generic,
            process_id=err.process_id,
            process_status=err.process_status,
            error_description=description,
            operation=err.operation,
        )
