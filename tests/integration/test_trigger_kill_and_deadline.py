"""What a trigger does when the task's execution_timeout passes while it waits, and when a user kills the deferred
task (``BaseTrigger.on_kill``, Airflow 3.3): against the emulator, on the async client."""

from __future__ import annotations

import time
from typing import Any

from airflow_provider_creatio.testing.emulator.process_log import ProcessStatus
from airflow_provider_creatio.testing.emulator.process_routes import engine_for
from airflow_provider_creatio.testing.emulator.seed import CASE_STATUS_IDS
from airflow_provider_creatio.triggers.entity import CreatioEntityTrigger
from airflow_provider_creatio.triggers.process import CreatioProcessTrigger

APPROVAL = "UsrApprovalProcess"  # waits until someone runs its element: never ends on its own
CANCEL_PATH = "ProcessEngineService.svc/CancelExecution"


async def first_event(trigger: Any) -> dict[str, Any]:
    [event] = [event.payload async for event in trigger.run()]
    return event


def process_trigger(process_id: str, **kwargs: Any) -> CreatioProcessTrigger:
    return CreatioProcessTrigger(
        creatio_conn_id="creatio_default", process_id=process_id, poll_interval=0.05, **kwargs
    )


async def test_a_process_wait_ends_with_an_execution_timeout_event_at_the_tasks_deadline(
    creatio_connection: Any,
) -> None:
    running = engine_for(creatio_connection.state).start(APPROVAL, {"RequestName": "deadline"})
    # A deadline far enough off for a first look however busy the machine: the trigger looks until then.
    event = await first_event(process_trigger(running.id, task_deadline=time.time() + 2))
    assert event["status"] == "execution_timeout"
    assert event["process_id"] == running.id
    assert event["entry"]["state"] == "Running"  # the last look, for the task's message
    assert creatio_connection.count("GET", "SysProcessLog") >= 1  # it looked until the deadline...
    assert creatio_connection.count("POST", CANCEL_PATH) == 0  # ...and cancels nothing itself: the task does
    assert running.status is ProcessStatus.RUNNING


async def test_a_deadline_already_past_ends_the_wait_without_a_look(creatio_connection: Any) -> None:
    case_id = creatio_connection.store.insert("Case", {"Subject": "never resolved"})["Id"]
    trigger = CreatioEntityTrigger(
        creatio_conn_id="creatio_default",
        watch={"entity": "Case", "record_id": case_id, "top": 1},
        success_values={"Status/Id": CASE_STATUS_IDS["Resolved"]},
        poll_interval=0.05,
        task_deadline=time.time() - 1,
    )
    assert (await first_event(trigger))["status"] == "execution_timeout"
    assert creatio_connection.count("GET", "/Case(") == 0


async def test_an_event_that_comes_before_the_deadline_wins(creatio_connection: Any) -> None:
    done = engine_for(creatio_connection.state).start("UsrLongProcess", {"DurationSeconds": 0})
    assert done.wait(10)
    event = await first_event(process_trigger(done.id, task_deadline=time.time() + 60))
    assert event["status"] == "success"


async def test_on_kill_cancels_the_process_when_the_operator_asked_for_it(creatio_connection: Any) -> None:
    running = engine_for(creatio_connection.state).start(APPROVAL, {"RequestName": "killed"})
    await process_trigger(running.id, cancel_on_kill=True).on_kill()
    assert running.wait(10) and running.status is ProcessStatus.CANCELED


async def test_on_kill_of_a_watching_trigger_cancels_nothing(creatio_connection: Any) -> None:
    running = engine_for(creatio_connection.state).start(APPROVAL, {"RequestName": "only watched"})
    await process_trigger(running.id).on_kill()  # a sensor's trigger: cancel_on_kill defaults to False
    assert creatio_connection.requests == []
    assert running.status is ProcessStatus.RUNNING


def test_the_new_fields_survive_serialization() -> None:
    trigger = process_trigger(
        "0a7f5a5e-5d0b-4b0e-9c8b-2f1e0c6b1a01", task_deadline=123.5, cancel_on_kill=True
    )
    classpath, kwargs = trigger.serialize()
    assert (kwargs["task_deadline"], kwargs["cancel_on_kill"]) == (123.5, True)
    assert CreatioProcessTrigger(**kwargs).serialize() == (classpath, kwargs)
