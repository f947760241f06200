"""Business-process calls of CreatioHook. Kept in its own module; CreatioHook mixes it in.

Each method hands its arguments to one function: a request builder of :mod:`airflow_provider_creatio.client.process`
or :mod:`~airflow_provider_creatio.client.process_log` whose call runs on the hook's session, or a step of the
process flow (:mod:`~airflow_provider_creatio.client.process_flow`: start and verdict, following, cancel, the
errors) given the hook's client. The client modules are imported inside the methods, so importing the hook stays
cheap.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_creatio.deprecated import warn_renamed

if TYPE_CHECKING:
    from airflow_provider_creatio.client.errors import CreatioProcessError
    from airflow_provider_creatio.client.http import Call
    from airflow_provider_creatio.client.process import ProcessRun
    from airflow_provider_creatio.client.process_flow import StartMethod
    from airflow_provider_creatio.client.process_log import ProcessElementEntry, ProcessLogEntry
    from airflow_provider_creatio.client.transport import CreatioClient

T = TypeVar("T")
ProcessId = str | uuid.UUID


class ProcessCallsMixin:
    """Start processes, follow their log, execute elements, cancel."""

    if TYPE_CHECKING:

        @property
        def client(self) -> CreatioClient: ...

        def call(self, call: Call[T]) -> T: ...

    def execute_process(
        self, name: str, parameters: Mapping[str, Any] | None = None, result_parameter: str | None = None
    ) -> Any:
        """``Execute`` (GET): start the process; with ``result_parameter`` wait and return that output, decoded.
        Not retried once sent (a retry could start the process twice)."""
        from airflow_provider_creatio.client import process

        return self.call(process.execute_process(name, parameters, result_parameter))

    def start_process(
        self,
        name: str,
        parameters: Mapping[str, Any] | None = None,
        result_parameters: str | Sequence[str] = (),
    ) -> ProcessRun:
        """Start a process through ``RunProcess`` (POST): the process id, its status and, when named, its outputs
        (the process runs synchronously then). To follow a run to its end, use :meth:`wait_for_process`.

        Raises :class:`CreatioProcessError` when the run failed or was refused; the verdict is ``processStatus``,
        and the error carries ``SysProcessLog.ErrorDescription`` when Creatio logged one."""
        from airflow_provider_creatio.client import process_flow

        return process_flow.start(self.client, name, parameters, result_parameters)

    def run_process(self, *args: Any, **kwargs: Any) -> ProcessRun:
        """Deprecated: the old name of :meth:`start_process` (it only ever started the process)."""
        warn_renamed("CreatioHook.run_process", "CreatioHook.start_process")
        return self.start_process(*args, **kwargs)

    @staticmethod
    def uses_execute(
        method: StartMethod,
        name: str,
        parameters: Mapping[str, Any],
        result_names: Sequence[str],
        follow: bool,
    ) -> bool:
        """Whether a start goes through ``Execute`` rather than ``RunProcess`` (:func:`process_flow.uses_execute`)."""
        from airflow_provider_creatio.client import process_flow

        return process_flow.uses_execute(method, name, parameters, result_names, follow)

    def wait_for_process(
        self,
        name: str,
        process_id: str,
        *,
        poll_interval: float,
        timeout: float | None,
        note: Callable[[str], None],
    ) -> ProcessLogEntry:
        """The Completed log row of a started process, looked at every ``poll_interval`` seconds. A process that
        ends in Error or Canceled raises :class:`CreatioProcessError`; one still running after ``timeout``
        seconds is cancelled and raises it too."""
        from airflow_provider_creatio.client import process_flow

        return process_flow.run_to_end(
            self.client, name, process_id, poll_interval=poll_interval, timeout=timeout, note=note
        )

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

    def check_process_running(self, element_uid: str, process_id: str) -> None:
        """Raise :class:`CreatioProcessError` unless the process of ``element_uid`` is Running."""
        from airflow_provider_creatio.client import process_flow
        from airflow_provider_creatio.client.process_state import ProcessState

        entry = self.get_process_log(process_id)
        if entry.state is not ProcessState.RUNNING:
            raise process_flow.not_running(element_uid, entry)

    def cancel_process(self, process_id: ProcessId) -> None:
        """``CancelExecution``; cancelling a finished process changes nothing."""
        from airflow_provider_creatio.client import process_flow

        process_flow.cancel(self.client, process_id)

    def cancel_after_timeout(self, name: str, process_id: str, timeout: float | None) -> CreatioProcessError:
        """Cancel a process that outlived its wait; returns the error to raise."""
        from airflow_provider_creatio.client import process_flow

        return process_flow.cancel_after_timeout(self.client, name, process_id, timeout)

    @staticmethod
    def process_failure(entry: ProcessLogEntry, name: str | None = None) -> CreatioProcessError:
        """The error of a process instance that ended in Error or Canceled, with its logged description."""
        from airflow_provider_creatio.client import process_flow

        return process_flow.failure(entry, name)
