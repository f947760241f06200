"""A retry of a task that follows its process resumes the run an earlier try started, never a second run.

The operator keeps the id of the process it started in Airflow's task state store until it sees the process end.
Here the store is a dict with the accessor's three methods, and the processes run in the emulator's engine; the
distributed tier (tests/distributed) proves the same with a Celery worker killed mid-wait.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from airflow_provider_creatio._compat import AirflowFailException
from airflow_provider_creatio.client.errors import CreatioProcessError
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.operators.unfinished_process import UNFINISHED_PROCESS
from airflow_provider_creatio.testing.emulator.process_routes import engine_for

LONG = "UsrLongProcess"
START_PATH = "ProcessEngineService.svc/RunProcess"


class StateStore:
    """What the operator uses of ``context["task_state_store"]``; it remembers every key ever set."""

    def __init__(self, **values: Any) -> None:
        self.values = dict(values)
        self.ever_set: list[tuple[str, Any]] = []

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.ever_set.append((key, value))
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


def follow(process_name: str = LONG, parameters: dict[str, Any] | None = None) -> CreatioRunProcessOperator:
    return CreatioRunProcessOperator(
        task_id="follow",
        process_name=process_name,
        parameters=parameters or {"DurationSeconds": 0.5},
        wait_for_completion=True,
        deferrable=False,
        poll_interval=0.2,
    )


def context(store: StateStore | None, try_number: int) -> Any:
    values: dict[str, Any] = {"ti": mock.Mock(try_number=try_number, stats_tags={})}
    if store is not None:
        values["task_state_store"] = store
    return values


def starts(creatio: Any) -> int:
    return int(creatio.count("POST", START_PATH))


def test_a_followed_run_is_kept_until_it_ends(creatio_connection: Any) -> None:
    store = StateStore()
    result = follow().execute(context(store, try_number=1))
    assert result["status"] == "Completed"
    assert store.ever_set == [(UNFINISHED_PROCESS, result["process_id"])]  # kept before the wait...
    assert store.values == {}  # ...and forgotten once the process was seen to end


def test_a_retry_follows_the_run_an_earlier_try_left_running(creatio_connection: Any) -> None:
    running = engine_for(creatio_connection.state).start(LONG, {"DurationSeconds": 1})
    store = StateStore(**{UNFINISHED_PROCESS: running.id})
    result = follow().execute(context(store, try_number=2))
    assert result == {"process_id": running.id, "status": "Completed"}
    assert starts(creatio_connection) == 0
    assert store.values == {}


def test_a_retry_after_the_run_completed_succeeds_without_starting_again(creatio_connection: Any) -> None:
    done = engine_for(creatio_connection.state).start(LONG, {"DurationSeconds": 0})
    assert done.wait(10)
    store = StateStore(**{UNFINISHED_PROCESS: done.id})
    assert follow().execute(context(store, try_number=2)) == {"process_id": done.id, "status": "Completed"}
    assert starts(creatio_connection) == 0
    assert store.values == {}


def test_a_retry_after_the_run_failed_starts_a_new_run(creatio_connection: Any) -> None:
    engine = engine_for(creatio_connection.state)
    failed = engine.start("UsrFailingProcess", {})
    assert failed.wait(10)
    store = StateStore(**{UNFINISHED_PROCESS: failed.id})
    result = follow().execute(context(store, try_number=2))
    assert result["process_id"] != failed.id
    assert result["status"] == "Completed"
    assert starts(creatio_connection) == 1


def test_a_run_cancelled_after_its_timeout_is_forgotten(creatio_connection: Any) -> None:
    store = StateStore()
    operator = follow(parameters={"DurationSeconds": 60})
    operator.timeout = 0.5
    with pytest.raises(CreatioProcessError, match="cancel"):
        operator.execute(context(store, try_number=1))
    assert len(store.ever_set) == 1
    assert store.values == {}


def test_without_a_task_state_store_a_retry_refuses_to_start_again(creatio_connection: Any) -> None:
    with pytest.raises(AirflowFailException, match="no task state store"):
        follow().execute(context(None, try_number=2))
    assert creatio_connection.requests == []  # nothing was sent
    assert follow().execute(context(None, try_number=1))["status"] == "Completed"  # a first try runs as ever


@pytest.mark.parametrize("wait_for_completion", [False, True])
def test_a_run_says_completed_whether_or_not_it_is_followed(
    creatio_connection: Any, wait_for_completion: bool
) -> None:
    """RunProcess's own word for processStatus 2 is "Done", the log's "Completed": a DAG branching on the status
    sees one word either way."""
    operator = CreatioRunProcessOperator(
        task_id="run",
        process_name=LONG,
        parameters={"DurationSeconds": 0},
        method="run",
        wait_for_completion=wait_for_completion,
        deferrable=False,
        poll_interval=0.2,
    )

    result = operator.execute(context(StateStore(), try_number=1))

    assert result["status"] == "Completed"
    assert operator.process_status == "Completed"
