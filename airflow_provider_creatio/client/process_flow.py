"""A business process from start to verdict: start it and check the verdict, follow its log row until it is
final or a deadline passes, cancel it. Nothing here imports Airflow.

The decisions are pure functions (:func:`judge`, :func:`failure`, :func:`check_verdict`...), so the sync loop here
(:func:`follow`) and the triggerer's async loop decide alike; only sleeping and sending differ. Every
:class:`CreatioProcessError` of a process run is built in this module. The requests come from :mod:`process`
and :mod:`process_log`; the functions that send take a *client* (:class:`~.http.CallExecutor`).
"""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from airflow_provider_creatio.client import process, process_log
from airflow_provider_creatio.client.errors import CreatioError, CreatioProcessError
from airflow_provider_creatio.client.http import CallExecutor
from airflow_provider_creatio.client.process import ProcessRun
from airflow_provider_creatio.client.process_log import ProcessLogEntry
from airflow_provider_creatio.client.process_state import ProcessState

StartMethod = Literal["auto", "execute", "run"]
ProcessId = str | uuid.UUID


# --- deciding -----------------------------------------------------------------------------------------------


class Look(enum.Enum):
    """The verdict on one look at a process's log row."""

    FINAL = "final"
    TIMED_OUT = "timed out"
    WAIT = "wait"


def deadline(timeout: float | None, now: float) -> float | None:
    """When following must stop (on the clock ``now`` was read from); None: never."""
    return None if timeout is None else now + timeout


def judge(entry: ProcessLogEntry, now: float, end: float | None, poll_interval: float) -> Look:
    """Final, timed out, or worth another look. A look that would come after ``end`` is not made: the wait
    ends one poll interval early rather than one late."""
    if entry.is_final:
        return Look.FINAL
    if end is not None and now + poll_interval > end:
        return Look.TIMED_OUT
    return Look.WAIT


def waiting_note(process_id: str, entry: ProcessLogEntry, poll_interval: float) -> str:
    """The log line of a look that waits on (the same in the worker and in the triggerer)."""
    return f"Process {process_id} is {entry.state.value}; next look in {poll_interval} s"


def uses_execute(
    method: StartMethod, name: str, parameters: Mapping[str, Any], result_names: Sequence[str], follow: bool
) -> bool:
    """Whether to start with ``Execute`` (GET) rather than ``RunProcess``. ``Execute`` gives no process id and
    can return an output even when the process then failed, so ``auto`` uses it only for fire-and-forget
    starts whose parameters fit in a URL."""
    if method != "auto":
        return method == "execute"
    if follow or result_names:
        return False
    return process.fits_in_url(name, parameters)


def check_start_arguments(method: str, follow: bool, poll_interval: float) -> None:
    """Refuse a start that cannot do what is asked, before anything is sent."""
    if method not in ("auto", "execute", "run"):
        raise ValueError(f"method must be 'auto', 'execute' or 'run', got {method!r}")
    if method == "execute" and follow:
        raise ValueError(
            "wait_for_completion needs the process id, which only RunProcess gives: use method='run'"
        )
    if poll_interval <= 0:
        raise ValueError(f"poll_interval must be a positive number of seconds, got {poll_interval!r}")


# --- the errors of a run ------------------------------------------------------------------------------------


def check_verdict(run: ProcessRun) -> ProcessRun:
    """``run`` when it is fine so far; CreatioProcessError when it was not started or refused (``success``
    false), failed or was cancelled: ``success: true`` with processStatus 3 raises too."""
    if run.success and run.status not in (ProcessState.ERROR, ProcessState.CANCELED):
        return run
    if not run.success:
        verdict = "could not be started" if run.process_id is None else "was refused by Creatio"
    elif run.status is ProcessState.ERROR:
        verdict = "finished with an error"
    else:
        verdict = "was cancelled"
    raise CreatioProcessError(
        f"process {run.process_name or '(unnamed)'} {verdict}",
        process_id=run.process_id,
        process_status=run.status.value,
        error_description=run.error_message or run.error_code,
        operation=f"run process {run.process_name}" if run.process_name else None,
    )


def failure(entry: ProcessLogEntry, name: str | None = None) -> CreatioProcessError:
    """The error of a process instance that ended in Error or Canceled, with its logged description."""
    return CreatioProcessError(
        f"process {name or entry.name or entry.process_id} ended with status {entry.state.value}",
        process_id=entry.process_id,
        process_status=entry.state.value,
        error_description=entry.error_description,
        operation="follow process",
    )


def completed(entry: ProcessLogEntry, name: str | None = None) -> ProcessLogEntry:
    """``entry`` when the process Completed; its :func:`failure` otherwise."""
    if entry.state is not ProcessState.COMPLETED:
        raise failure(entry, name)
    return entry


def timed_out(name: str, process_id: str, timeout: float | None) -> CreatioProcessError:
    return CreatioProcessError(
        f"process {name} did not finish within {timeout} s and was cancelled",
        process_id=process_id,
        operation="wait for process",
    )


def not_running(element_uid: str, entry: ProcessLogEntry) -> CreatioProcessError:
    """The error for an element whose process is no longer Running, so it cannot run."""
    return CreatioProcessError(
        f"element {element_uid} cannot run: its process is {entry.state.value}, not Running",
        process_id=entry.process_id,
        process_status=entry.state.value,
        error_description=entry.error_description,
        operation="execute process element",
    )


def with_log_description(err: CreatioProcessError, description: str | None) -> CreatioProcessError:
    """RunProcess gives a generic message for a failed element; the real text is in SysProcessLog."""
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


# --- sending ------------------------------------------------------------------------------------------------


def start(
    client: CallExecutor,
    name: str,
    parameters: Mapping[str, Any] | None,
    result_parameters: str | Sequence[str],
) -> ProcessRun:
    """``RunProcess`` and its verdict; a failed run's error carries ``SysProcessLog.ErrorDescription``."""
    run = client.execute(process.run_process(name, parameters, result_parameters))
    try:
        return check_verdict(run)
    except CreatioProcessError as err:
        raise _described(client, err) from None


def _described(client: CallExecutor, err: CreatioProcessError) -> CreatioProcessError:
    if not err.process_id:
        return err
    try:
        entry = client.execute(process_log.get_process_log(err.process_id))
    except CreatioError:
        return err
    return with_log_description(err, entry.error_description)


def follow(
    client: CallExecutor,
    process_id: str,
    *,
    poll_interval: float,
    timeout: float | None,
    note: Callable[[str], None],
) -> ProcessLogEntry | None:
    """Look at the log row until the process is final; None when ``timeout`` seconds passed first."""
    end = deadline(timeout, time.monotonic())
    while True:
        entry = client.execute(process_log.get_process_log(process_id))
        look = judge(entry, time.monotonic(), end, poll_interval)
        if look is not Look.WAIT:
            return entry if look is Look.FINAL else None
        note(waiting_note(process_id, entry, poll_interval))
        time.sleep(poll_interval)


def run_to_end(
    client: CallExecutor,
    name: str,
    process_id: str,
    *,
    poll_interval: float,
    timeout: float | None,
    note: Callable[[str], None],
) -> ProcessLogEntry:
    """The Completed log row of a followed process; a failed one raises, and one still running after
    ``timeout`` seconds is cancelled and raises."""
    entry = follow(client, process_id, poll_interval=poll_interval, timeout=timeout, note=note)
    if entry is None:
        raise cancel_after_timeout(client, name, process_id, timeout)
    return completed(entry)


def cancel(client: CallExecutor, process_id: ProcessId) -> None:
    client.execute(process.cancel_process(process_id))


def cancel_after_timeout(
    client: CallExecutor, name: str, process_id: str, timeout: float | None
) -> CreatioProcessError:
    """Cancel a process that outlived its wait; the error to raise."""
    cancel(client, process_id)
    return timed_out(name, process_id, timeout)
