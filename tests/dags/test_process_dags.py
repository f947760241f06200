"""Process acceptance, end to end inside dag.test against the emulator (issue: business processes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.client.process_state import ProcessState
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.testing.dagrun import DagRunResult, run_dag
from airflow_provider_creatio.testing.emulator.process_routes import engine_for

DAG_FILES = Path(__file__).parent / "dag_files"
EXAMPLE_DAGS = Path(__file__).parents[2] / "example_dags"


@pytest.fixture
def dag_folder(airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """dag.test syncs the DAGs folder bundle, which Airflow takes from settings."""
    from airflow import settings

    def use(folder: Path) -> Path:
        monkeypatch.setattr(settings, "DAGS_FOLDER", str(folder))
        return folder

    return use


def states(result: DagRunResult) -> dict[str, str]:
    return {task: state for task, state in result.task_states.items()}


def test_process_example_dags(creatio_connection: Any, dag_folder: Any) -> None:
    folder = dag_folder(EXAMPLE_DAGS)
    results = run_dag(folder, "example_creatio_process_results")
    assert results.succeeded, states(results)
    report = results.xcoms["report"]
    assert report == {
        "greeting": "Hello, Ada Lovelace",
        "contacts_with_phones": 4,
        "order_total": 1194.0,
        "large_order": True,
    }
    long_run = run_dag(folder, "example_creatio_long_process", run_conf={"duration_seconds": 2})
    assert long_run.succeeded, states(long_run)
    assert long_run.xcoms["wait_for_process"]["state"] == "Completed"


def test_processes_succeed(creatio_connection: Any, dag_folder: Any) -> None:
    engine = engine_for(creatio_connection.state)
    result = run_dag(dag_folder(DAG_FILES), "test_process_ok")
    assert result.succeeded, states(result)
    seed000 = result.xcoms["seed000_execute"]["CustomProcessResult"]
    assert isinstance(seed000, list) and len(seed000) == 4
    assert seed000[0] == {
        "Id": "c38d46fd-e405-491a-a508-01bb9760eecc",
        "Name": "Valerie E. Murphy",
        "Phone": "3090",
    }
    assert result.xcoms["two_outputs"] == {"Total": 1200.0, "IsLargeOrder": True}
    # Fire and forget: the task returned while its process (ten minutes long) still runs.
    assert result.xcoms.get("fire_and_forget") is None
    long_runs = [i for i in engine.instances("UsrLongProcess") if i.status == 1]
    assert len(long_runs) == 1
    for task_id in ("wait_poke", "wait_deferrable"):
        assert result.xcoms[task_id]["status"] == "Completed"
    assert result.xcoms["exec_element"]["executed"] is True
    assert result.xcoms["exec_element"]["state"] == "Completed"
    assert result.xcoms["exec_element_again"]["executed"] is False
    approval = engine.instances("UsrApprovalProcess")[0]
    assert approval.status == 2 and approval.outputs["Decision"] == "Approved: Budget 2025"


def test_process_failures_fail_their_tasks(creatio_connection: Any, dag_folder: Any) -> None:
    engine = engine_for(creatio_connection.state)
    result = run_dag(dag_folder(DAG_FILES), "test_process_failures")
    assert result.state == "failed"
    assert set(states(result).values()) == {"failed"}, states(result)
    # The lost answer started the process exactly once: no client retry, no Airflow retry.
    assert engine.start_count("UsrLongProcess") == 2  # lost_answer + timeout_cancels
    slept = [i for i in engine.instances("UsrLongProcess") if i.status == 4]
    assert len(slept) == 1  # timeout_cancels cancelled its process
    # A bad element UID is refused before any request.
    assert creatio_connection.count(path_contains="SysProcessElementLog") == 0


def test_failed_run_carries_the_error_description(creatio_connection: Any) -> None:
    from airflow_provider_creatio.client.errors import CreatioProcessError

    with CreatioHook() as hook, pytest.raises(CreatioProcessError) as err:
        hook.start_process("UsrFailingProcess", {"ErrorText": "Budget line 7 is missing."})
    assert "Budget line 7 is missing." in str(err.value)
    assert err.value.process_status == "Error"
    with CreatioHook() as hook, pytest.raises(CreatioProcessError) as err:
        hook.start_process("UsrPartialResultErrorProcess", result_parameters=["PartialResult"])
    assert "failed after setting PartialResult" in str(err.value)


def test_on_kill_cancels_the_running_process(creatio_connection: Any) -> None:
    with CreatioHook() as hook:
        run = hook.start_process("UsrLongProcess", {"DurationSeconds": 60})
        assert run.process_id
        operator = CreatioRunProcessOperator(
            task_id="k", process_name="UsrLongProcess", wait_for_completion=True
        )
        operator.process_id = run.process_id
        operator.on_kill()
        assert hook.get_process_log(run.process_id).state is ProcessState.CANCELED


def slot_warnings(deferrable: bool, caplog: pytest.LogCaptureFixture) -> list[str]:
    """What a run asking for outputs logs about its worker slot, and checks it still returned the outputs."""
    from unittest import mock

    from structlog.testing import capture_logs

    operator = CreatioRunProcessOperator(
        task_id="outputs",
        process_name="UsrFullNameProcess",
        parameters={"UserName": "Ada", "UserSurname": "Lovelace"},
        result_parameters="FullName",
        deferrable=deferrable,
    )
    caplog.clear()
    with capture_logs() as logs:
        result = operator.execute(context={"ti": mock.Mock()})  # type: ignore[arg-type]
    assert result == {"FullName": "Ada Lovelace"}  # answered in the worker, deferrable or not
    # Airflow 3.1+ logs a task through structlog, 3.0 outside a task runner through the logging module.
    events = [entry["event"] for entry in logs] + caplog.messages
    return sorted({event for event in events if "worker slot" in event})


def test_deferrable_run_with_outputs_says_it_holds_its_worker_slot(
    creatio_connection: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert slot_warnings(deferrable=True, caplog=caplog) == [
        "deferrable=True has no effect here: process UsrFullNameProcess is asked for outputs (FullName), which "
        "Creatio returns only when the process ends (or waits on an element), so this task holds its worker "
        "slot until then"
    ]
    assert slot_warnings(deferrable=False, caplog=caplog) == []


def test_case_escalation_example_by_hand_escalates_nothing(creatio_connection: Any, dag_folder: Any) -> None:
    """Started without an asset event (the examples' deployment test triggers every example DAG by hand), the
    escalation example succeeds and maps over no case."""
    engine = engine_for(creatio_connection.state)
    result = run_dag(dag_folder(EXAMPLE_DAGS), "example_creatio_case_escalation")
    assert result.succeeded, states(result)
    assert result.xcoms["changed_cases"] == []
    assert engine.instances("UsrCaseEscalationProcess") == []


def test_the_escalation_process_escalates_a_case_once(creatio_connection: Any) -> None:
    """A case delivered twice (at least once delivery) is escalated once."""
    from airflow_provider_creatio.testing.emulator.seed import SEED_CASE_ID

    with CreatioHook() as hook:
        runs = [
            hook.start_process(
                "UsrCaseEscalationProcess", {"CaseId": SEED_CASE_ID}, ["Escalated", "ActivityId"]
            )
            for _ in range(2)
        ]
    first, second = (run.results for run in runs)
    assert first["Escalated"] is True and second["Escalated"] is False
    assert first["ActivityId"] == second["ActivityId"]
    activity = creatio_connection.store.get("Activity", first["ActivityId"])
    assert activity["CaseId"] == SEED_CASE_ID and activity["Title"] == "Escalate case SR00000040"


def test_the_hooks_old_run_process_name_still_starts_a_process_with_a_warning(
    creatio_connection: Any,
) -> None:
    with (
        CreatioHook() as hook,
        pytest.warns(DeprecationWarning, match="run_process is deprecated: use CreatioHook.start_process"),
    ):
        run = hook.run_process("UsrFullNameProcess", {"UserName": "Ann", "UserSurname": "Lee"}, ["FullName"])
    assert run.results == {"FullName": "Ann Lee"}
