"""The process flow's decisions (client/process_flow.py): the pure functions the worker's loop and the trigger
share, the errors of a run, and the sync loop driven by a scripted client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_creatio.client import process_flow
from airflow_provider_creatio.client.errors import CreatioProcessError
from airflow_provider_creatio.client.http import Call
from airflow_provider_creatio.client.process_log import ProcessLogEntry
from airflow_provider_creatio.client.process_state import ProcessState

PID = "5f0c7a3e-8a64-4a43-9a3e-0a8a4a0f3c11"


def entry(state: ProcessState, **fields: Any) -> ProcessLogEntry:
    return ProcessLogEntry(process_id=PID, state=state, **fields)


@pytest.mark.parametrize(
    ("state", "now", "end", "look"),
    [
        pytest.param(ProcessState.COMPLETED, 100.0, 50.0, process_flow.Look.FINAL, id="final-wins-over-late"),
        pytest.param(ProcessState.ERROR, 0.0, None, process_flow.Look.FINAL, id="error-is-final"),
        pytest.param(ProcessState.RUNNING, 0.0, None, process_flow.Look.WAIT, id="no-deadline"),
        pytest.param(ProcessState.RUNNING, 0.0, 10.0, process_flow.Look.WAIT, id="next-look-in-time"),
        pytest.param(ProcessState.RUNNING, 0.5, 10.0, process_flow.Look.TIMED_OUT, id="next-look-too-late"),
    ],
)
def test_judge(state: ProcessState, now: float, end: float | None, look: process_flow.Look) -> None:
    assert process_flow.judge(entry(state), now, end, poll_interval=10.0) is look


def test_deadline() -> None:
    assert process_flow.deadline(None, 5.0) is None
    assert process_flow.deadline(30, 5.0) == 35.0


@pytest.mark.parametrize(
    ("method", "names", "follow", "params", "expected"),
    [
        pytest.param("execute", [], True, {}, True, id="forced-execute"),
        pytest.param("run", [], False, {}, False, id="forced-run"),
        pytest.param("auto", ["Out"], False, {}, False, id="outputs-need-run"),
        pytest.param("auto", [], True, {}, False, id="following-needs-run"),
        pytest.param("auto", [], False, {"A": "x"}, True, id="fire-and-forget"),
        pytest.param("auto", [], False, {"A": "x" * 3000}, False, id="too-long-for-a-url"),
    ],
)
def test_uses_execute(
    method: process_flow.StartMethod, names: list[str], follow: bool, params: dict[str, Any], expected: bool
) -> None:
    assert process_flow.uses_execute(method, "UsrProc", params, names, follow) is expected


def test_failure_names_the_process_and_carries_the_description() -> None:
    failed = entry(ProcessState.ERROR, name="UsrProc", error_description="Budget line 7 is missing.")
    err = process_flow.failure(failed)
    assert err.message == "process UsrProc ended with status Error"
    assert (err.process_id, err.process_status, err.operation) == (PID, "Error", "follow process")
    assert "Budget line 7 is missing." in str(err)
    assert process_flow.failure(failed, "UsrOther").message == "process UsrOther ended with status Error"
    assert (
        process_flow.failure(entry(ProcessState.CANCELED)).message
        == f"process {PID} ended with status Canceled"
    )


def test_completed() -> None:
    done = entry(ProcessState.COMPLETED)
    assert process_flow.completed(done) is done
    with pytest.raises(CreatioProcessError, match="ended with status Canceled"):
        process_flow.completed(entry(ProcessState.CANCELED))


def test_with_log_description_keeps_the_generic_text() -> None:
    err = CreatioProcessError("process P finished with an error", process_id=PID, error_description="generic")
    better = process_flow.with_log_description(err, "the real reason")
    assert better.message == "process P finished with an error (generic)"
    assert better.error_description == "the real reason"
    assert process_flow.with_log_description(err, None) is err
    assert process_flow.with_log_description(err, "generic") is err


def test_a_log_entry_survives_the_trigger_event() -> None:
    import datetime as dt

    original = entry(
        ProcessState.ERROR,
        name="UsrProc",
        error_description="boom",
        start_date=dt.datetime(2024, 5, 1, 8, 0, 1, 250000, tzinfo=dt.timezone.utc),
        status_id="f942c08d-b6e2-df11-971b-001d60e938c6",
    )
    assert ProcessLogEntry.from_dict(original.to_dict()) == original


class ScriptedClient:
    """Answers each log read with the next scripted state and records every call's operation."""

    def __init__(self, states: list[ProcessState]) -> None:
        self.states: Iterator[ProcessState] = iter(states)
        self.operations: list[str] = []

    def execute(self, call: Call[Any]) -> Any:
        self.operations.append(str(call.request.operation))
        if call.request.operation and call.request.operation.startswith("cancel"):
            return None
        return entry(next(self.states))


def test_run_to_end_follows_until_final(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_flow.time, "sleep", lambda seconds: None)
    client = ScriptedClient([ProcessState.RUNNING, ProcessState.RUNNING, ProcessState.COMPLETED])
    notes: list[str] = []
    done = process_flow.run_to_end(
        client, "UsrProc", PID, poll_interval=0.01, timeout=None, note=notes.append
    )
    assert done.state is ProcessState.COMPLETED
    assert notes == [f"Process {PID} is Running; next look in 0.01 s"] * 2


def test_run_to_end_cancels_after_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    client = ScriptedClient([ProcessState.RUNNING])
    with pytest.raises(CreatioProcessError) as err:
        process_flow.run_to_end(client, "UsrProc", PID, poll_interval=5, timeout=1, note=print)
    assert err.value.message == "process UsrProc did not finish within 1 s and was cancelled"
    assert err.value.operation == "wait for process"
    assert client.operations[-1] == f"cancel process {PID}"
