"""CreatioEntitySensor and CreatioEntityTrigger against the emulator.

A background "agent" changes the data only after the emulator has answered the sensor's first look, so every
test proves that the sensor saw the old state, kept waiting, and then saw the change (no timing assumptions).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_creatio._compat import AirflowException, AirflowFailException, TaskDeferred
from airflow_provider_creatio.sensors.entity import CreatioEntitySensor
from airflow_provider_creatio.testing.connection import connection_env_name, connection_json
from airflow_provider_creatio.testing.emulator.seed import CASE_STATUS_IDS
from airflow_provider_creatio.triggers.entity import CreatioEntityTrigger

pytestmark = pytest.mark.creatio_every_site

RESOLVED, CLOSED, CANCELED = (CASE_STATUS_IDS[name] for name in ("Resolved", "Closed", "Canceled"))


class Agent:
    """Runs ``change`` in a thread once the emulator has served ``looks`` GETs whose path contains ``path``."""

    def __init__(self, emulator: Any, path: str, change: Callable[[], None], looks: int = 1) -> None:
        self.emulator, self.path, self.change, self.looks = emulator, path, change, looks
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + 20
        while self.emulator.count("GET", self.path) < self.looks:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        self.change()
        self.done.set()

    def __enter__(self) -> Agent:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(25)


@pytest.fixture
def case(creatio_connection: Any) -> dict[str, Any]:
    return creatio_connection.store.insert("Case", {"Subject": "Printer on fire", "Number": "SR-1"})


def sensor(**kwargs: Any) -> CreatioEntitySensor:
    defaults: dict[str, Any] = {"task_id": "wait", "entity": "Case", "poke_interval": 0.05, "timeout": 20}
    return CreatioEntitySensor(**{**defaults, **kwargs})


def resolve(emulator: Any, case_id: str, status: str = RESOLVED) -> Callable[[], None]:
    return lambda: emulator.store.update("Case", case_id, {"StatusId": status})


def test_poke_mode_waits_until_the_case_is_resolved_and_returns_it(
    creatio_connection: Any, case: dict[str, Any]
) -> None:
    emulator = creatio_connection
    waiting = sensor(
        record_id=case["Id"],
        success_values={"Status/Id": [RESOLVED, CLOSED]},
        failure_values={"Status/Id": CANCELED},
        deferrable=False,
    )
    with Agent(emulator, f"Case({case['Id']})", resolve(emulator, case["Id"])) as agent:
        record = waiting.execute(context={})
    assert agent.done.is_set()
    assert record["Id"] == case["Id"] and record["StatusId"] == RESOLVED
    assert emulator.count("GET", f"Case({case['Id']})") >= 2
    assert emulator.login_count + emulator.token_request_count == 1  # one session for the whole wait


def test_a_failure_state_fails_at_once(creatio_connection: Any, case: dict[str, Any]) -> None:
    creatio_connection.store.update("Case", case["Id"], {"StatusId": CANCELED})
    waiting = sensor(
        record_id=case["Id"], success_values={"Status/Id": RESOLVED}, failure_values={"Status/Id": CANCELED}
    )
    with pytest.raises(AirflowFailException, match="failure state"):
        waiting.execute(context={})
    assert creatio_connection.count("GET", f"Case({case['Id']})") == 1


def test_a_record_that_disappears_fails_at_once(creatio_connection: Any, case: dict[str, Any]) -> None:
    emulator = creatio_connection
    waiting = sensor(record_id=case["Id"], success_values={"Status/Id": RESOLVED}, deferrable=False)
    agent = Agent(emulator, f"Case({case['Id']})", lambda: emulator.store.delete("Case", case["Id"]))
    with agent, pytest.raises(AirflowFailException, match="does not exist or has been deleted"):
        waiting.execute(context={})
    assert emulator.count("GET", f"Case({case['Id']})") == 2


def test_lookup_names_through_expand_and_a_callable_condition(
    creatio_connection: Any, case: dict[str, Any]
) -> None:
    emulator = creatio_connection
    waiting = sensor(
        record_id=case["Id"],
        success_values={"Status/Name": "Resolved"},
        predicate=lambda record: record["Subject"].startswith("Printer"),
        deferrable=False,
    )
    with Agent(emulator, f"Case({case['Id']})", resolve(emulator, case["Id"])):
        record = waiting.execute(context={})
    assert record["Status"]["Name"] == "Resolved"
    assert all(
        "$expand=Status" in r.query for r in emulator.requests if r.path.endswith(f"Case({case['Id']})")
    )


def test_query_mode_waits_for_a_matching_record_to_appear(
    creatio_connection: Any, case: dict[str, Any]
) -> None:
    emulator = creatio_connection
    waiting = sensor(
        entity="Activity", filter={"Case/Id": case["Id"]}, orderby="CreatedOn desc", deferrable=False
    )

    def log_activity() -> None:
        emulator.store.insert("Activity", {"Title": "Called the customer", "CaseId": case["Id"]})

    with Agent(emulator, "/Activity", log_activity):
        record = waiting.execute(context={})
    assert record["Title"] == "Called the customer"


def test_deferrable_mode_finishes_without_deferring_when_already_resolved(
    creatio_connection: Any, case: dict[str, Any]
) -> None:
    creatio_connection.store.update("Case", case["Id"], {"StatusId": CLOSED})
    waiting = sensor(record_id=case["Id"], success_values={"Status/Id": [RESOLVED, CLOSED]}, deferrable=True)
    assert waiting.execute(context={})["StatusId"] == CLOSED


def test_deferrable_mode_checks_once_then_defers_to_a_serializable_trigger(
    creatio_connection: Any, case: dict[str, Any]
) -> None:
    waiting = sensor(
        record_id=case["Id"],
        success_values={"Status/Id": [RESOLVED, CLOSED]},
        failure_values={"Status/Id": CANCELED},
        select=["Subject"],
        deferrable=True,
        timeout=600,
    )
    with pytest.raises(TaskDeferred) as deferred:
        waiting.execute(context={})
    [look] = [entry for entry in creatio_connection.requests if f"Case({case['Id']})" in entry.path]
    assert creatio_connection.count("GET", f"Case({case['Id']})") == 1
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout.total_seconds() == 600
    classpath, kwargs = deferred.value.trigger.serialize()
    assert classpath.endswith("triggers.entity.CreatioEntityTrigger")
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert kwargs["watch"]["select"] == ["Subject", "Id", "StatusId"]
    assert kwargs["success_values"] == {"Status/Id": [RESOLVED, CLOSED]}
    # The trigger's first look is due one poke interval after the sensor's own, as in poke mode.
    assert kwargs["first_look_at"] >= look.timestamp + waiting.poke_interval


async def collect(trigger: CreatioEntityTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


def trigger_for(case_id: str, **kwargs: Any) -> CreatioEntityTrigger:
    defaults: dict[str, Any] = {
        "creatio_conn_id": "creatio_default",
        "watch": {"entity": "Case", "record_id": case_id, "top": 1},
        "success_values": {"Status/Id": [RESOLVED, CLOSED]},
        "failure_values": {"Status/Id": [CANCELED]},
        "poll_interval": 0.05,
    }
    return CreatioEntityTrigger(**{**defaults, **kwargs})


def test_the_trigger_polls_on_the_async_client_until_the_case_is_resolved(
    creatio_connection: Any, creatio_auth_type: str, case: dict[str, Any]
) -> None:
    emulator = creatio_connection
    with Agent(emulator, f"Case({case['Id']})", resolve(emulator, case["Id"]), looks=2):
        events = asyncio.run(collect(trigger_for(case["Id"])))
    assert len(events) == 1 and events[0]["status"] == "success"
    assert events[0]["record"]["StatusId"] == RESOLVED
    assert emulator.count("GET", f"Case({case['Id']})") >= 3
    assert emulator.login_count + emulator.token_request_count == 1  # one session for every look
    # The async client was closed: a forms session is logged out (a bearer token has nothing to end).
    assert emulator.count("POST", "AuthService.svc/Logout") == (creatio_auth_type == "forms")


def test_a_forced_expiry_while_the_trigger_waits_costs_one_new_session(
    creatio_connection: Any, case: dict[str, Any]
) -> None:
    """The trigger's async client renews the session (or the OAuth token) exactly once after an expiry."""
    emulator = creatio_connection
    expire = Agent(emulator, f"Case({case['Id']})", emulator.expire_sessions, looks=2)
    with expire, Agent(emulator, f"Case({case['Id']})", resolve(emulator, case["Id"]), looks=4):
        events = asyncio.run(collect(trigger_for(case["Id"])))
    assert expire.done.is_set()
    assert events[0]["status"] == "success"
    assert emulator.login_count + emulator.token_request_count == 2
    assert [r.status for r in emulator.requests if r.path.endswith(f"Case({case['Id']})")].count(401) == 1


def test_the_trigger_reports_failure_states_and_errors(
    creatio_connection: Any, case: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    creatio_connection.store.update("Case", case["Id"], {"StatusId": CANCELED})
    [failure] = asyncio.run(collect(trigger_for(case["Id"])))
    assert failure["status"] == "failure" and "failure state" in failure["message"]

    monkeypatch.setenv(
        connection_env_name("creatio_wrong"),
        connection_json(creatio_connection.url, "Supervisor", "N0t-The-Pa55word"),
    )
    [error] = asyncio.run(collect(trigger_for(case["Id"], creatio_conn_id="creatio_wrong")))
    assert error["status"] == "error" and "N0t-The-Pa55word" not in error["message"]


def test_execute_complete_turns_events_into_results_or_errors() -> None:
    waiting = sensor(record_id="0a7f5a5e-5d0b-4b0e-9c8b-2f1e0c6b1a01", success_values={"Status/Id": RESOLVED})
    assert waiting.execute_complete({}, {"status": "success", "record": {"Id": "x"}, "message": "ok"}) == {
        "Id": "x"
    }
    with pytest.raises(AirflowFailException, match="gone"):
        waiting.execute_complete({}, {"status": "failure", "record": None, "message": "gone"})
    with pytest.raises(AirflowException, match="trigger failed: boom"):
        waiting.execute_complete({}, {"status": "error", "message": "boom"})


async def test_the_trigger_does_not_look_before_its_first_look_is_due(creatio_connection: Any) -> None:
    case = creatio_connection.store.insert("Case", {"Subject": "Done", "StatusId": RESOLVED})
    due = time.time() + 0.5
    events = await collect(trigger_for(case["Id"], first_look_at=due))
    assert [event["status"] for event in events] == ["success"]
    looks = [entry for entry in creatio_connection.requests if f"Case({case['Id']})" in entry.path]
    assert len(looks) == 1 and looks[0].timestamp >= due
