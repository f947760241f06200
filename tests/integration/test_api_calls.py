"""The API calls a task spends, counted by the client as Creatio counts them, against the emulator's count of the
same task (``api_calls`` in its stats); ``max_api_calls`` refuses a load that needs more, before any write."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio._compat import TaskDeferred
from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.operators.base import SPENT_BEFORE_DEFERRING
from airflow_provider_creatio.operators.entity import CreatioBulkEntityOperator
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.sensors.entity import CreatioEntitySensor
from airflow_provider_creatio.transfers.creatio_to_object_storage import CreatioToObjectStorageOperator
from airflow_provider_creatio.transfers.object_storage_to_creatio import ObjectStorageToCreatioOperator
from airflow_provider_creatio.triggers.entity import CreatioEntityTrigger


class FakeTI:
    def xcom_push(self, key: str, value: Any) -> None:
        pass


def counted(emulator: Any) -> int:
    """Every call the emulator counted since the test's last clear, all users and days."""
    return sum(sum(days.values()) for days in emulator.stats()["api_calls"].values())


def contacts(count: int) -> list[dict[str, Any]]:
    return [{"Id": str(uuid.uuid4()), "Name": f"Quota {n:04d}"} for n in range(count)]


def writes(emulator: Any) -> int:
    return sum(1 for entry in emulator.requests if entry.method != "GET" and "$batch" in entry.path)


def bulk(records: list[dict[str, Any]], **kwargs: Any) -> CreatioBulkEntityOperator:
    options: dict[str, Any] = {"operation": "create", "include_results": False, **kwargs}
    return CreatioBulkEntityOperator(task_id="load", entity="Contact", records=records, **options)


def test_a_bulk_create_reports_each_record_of_its_batches_as_creatio_counts_them(
    creatio_connection: Any,
) -> None:
    creatio_connection.state.log.clear()

    result = bulk(contacts(250), batch_size=100).execute(context={"ti": FakeTI()})

    assert result["succeeded"] == 250 and result["batch_calls"] == 3
    assert result["api_calls"] == counted(creatio_connection) == 250 + 1  # and the schema read


def test_the_calls_of_every_lane_count_with_a_session_per_lane(creatio_connection: Any) -> None:
    creatio_connection.state.settings.session_mode = "blocking"
    creatio_connection.state.log.clear()

    operator = bulk(contacts(400), batch_size=50, concurrency=4, session_mode="blocking")
    result = operator.execute(context={"ti": FakeTI()})

    assert creatio_connection.stats()["logins"] > 1  # lanes with sessions of their own
    assert result["api_calls"] == counted(creatio_connection) == 400 + 1


def test_a_bulk_upsert_counts_its_lookups_and_max_api_calls_is_exact(creatio_connection: Any) -> None:
    existing = contacts(30)
    for record in existing:
        creatio_connection.store.insert("Contact", record)
    records = [*existing, *contacts(30)]
    creatio_connection.state.log.clear()
    exact = 60 + 3 + 1  # 60 writes, 3 lookup GETs of 20 Ids, the schema read

    result = bulk(records, operation="upsert", max_api_calls=exact).execute(context={"ti": FakeTI()})

    assert result["succeeded"] == 60
    assert result["api_calls"] == counted(creatio_connection) == exact


def test_a_bulk_load_over_max_api_calls_fails_before_writing_and_names_the_count(
    creatio_connection: Any,
) -> None:
    creatio_connection.state.log.clear()

    with pytest.raises(CreatioValidationError) as refused:
        bulk(contacts(250), max_api_calls=250).execute(context={"ti": FakeTI()})

    assert "needs 251 API calls" in str(refused.value) and "max_api_calls=250" in str(refused.value)
    assert writes(creatio_connection) == 0


def _jsonl(folder: Path, records: list[dict[str, Any]]) -> str:
    path = folder / "contacts.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return f"file://{path}"


def test_an_object_storage_load_counts_its_input_first_when_max_api_calls_is_set(
    creatio_connection: Any, tmp_path: Path
) -> None:
    source = _jsonl(tmp_path, contacts(120))
    creatio_connection.state.log.clear()

    def load(limit: int) -> Any:
        return ObjectStorageToCreatioOperator(
            task_id="load", entity="Contact", operation="create", source=source, max_api_calls=limit
        ).execute(context={"ti": FakeTI()})

    with pytest.raises(CreatioValidationError) as refused:
        load(100)
    assert "needs 121 API calls" in str(refused.value) and writes(creatio_connection) == 0
    creatio_connection.state.log.clear()

    result = load(121)

    assert result["succeeded"] == 120
    assert result["api_calls"] == counted(creatio_connection) == 121


def test_an_extract_reports_its_calls(creatio_connection: Any, tmp_path: Path) -> None:
    for record in contacts(1_200):
        creatio_connection.store.insert("Contact", record)
    creatio_connection.state.log.clear()

    result = CreatioToObjectStorageOperator(
        task_id="extract", entity="Contact", select=["Name"], page_size=500, path=f"file://{tmp_path}/"
    ).execute(context={})

    assert result["api_calls"] == counted(creatio_connection) > 3


def test_a_process_run_reports_its_calls(creatio_connection: Any) -> None:
    creatio_connection.state.log.clear()
    start = CreatioRunProcessOperator(
        task_id="start", process_name="UsrFullNameProcess", parameters={"UserName": "Ada"}, method="run"
    )

    start.execute(context={"ti": FakeTI()})

    assert start.api_calls_spent == counted(creatio_connection) >= 1


def test_a_sensor_poke_reports_its_calls(creatio_connection: Any) -> None:
    case = creatio_connection.store.insert("Case", {"Subject": "Printer on fire"})
    creatio_connection.state.log.clear()
    waiting = CreatioEntitySensor(
        task_id="wait",
        entity="Case",
        record_id=case["Id"],
        success_values={"Subject": "Printer on fire"},
        poke_interval=0.05,
        timeout=20,
        deferrable=False,
    )

    record = waiting.execute(context={})

    assert "api_calls" not in record  # the XCom is the record, left as Creatio sent it
    assert waiting.api_calls_spent == counted(creatio_connection) >= 1


def test_a_deferred_sensor_reports_its_looks_before_in_and_after_the_trigger(creatio_connection: Any) -> None:
    """The worker's first look, every look of the trigger (on the triggerer's shared client) and the resumed
    method: one report, equal to what the emulator counted."""
    case = creatio_connection.store.insert("Case", {"Subject": "open"})
    creatio_connection.state.log.clear()
    waiting = CreatioEntitySensor(
        task_id="wait",
        entity="Case",
        record_id=case["Id"],
        success_values={"Subject": "done"},
        poke_interval=0.05,
        timeout=60,
        deferrable=True,
    )
    with pytest.raises(TaskDeferred) as deferral:
        waiting.execute(context={})
    assert deferral.value.kwargs == {SPENT_BEFORE_DEFERRING: 1}

    async def close_later() -> None:
        await looked_at(creatio_connection, [case["Id"]], 3)  # the worker's look and two of the trigger's
        creatio_connection.store.update("Case", case["Id"], {"Subject": "done"})

    async def wait() -> list[dict[str, Any]]:
        trigger = deferral.value.trigger
        events, _ = await asyncio.gather(collect(trigger), close_later())
        return events

    [event] = asyncio.run(wait())
    assert event["status"] == "success" and event["api_calls"] >= 3
    resumed = CreatioEntitySensor(
        task_id="wait",
        entity="Case",
        record_id=case["Id"],
        success_values={"Subject": "done"},
        deferrable=True,
    )
    record = resumed.execute_complete({}, event=event, **deferral.value.kwargs)
    assert record["Subject"] == "done"
    assert 1 + event["api_calls"] == counted(creatio_connection)


def test_triggers_sharing_a_client_each_count_their_own_looks(creatio_connection: Any) -> None:
    cases = [creatio_connection.store.insert("Case", {"Subject": "open"}) for _ in range(2)]
    creatio_connection.state.log.clear()
    triggers = [
        CreatioEntityTrigger(
            creatio_conn_id="creatio_default",
            watch={"entity": "Case", "record_id": case["Id"], "top": 1},
            success_values={"Subject": ["done"]},
            poll_interval=0.02 * (n + 1),  # the two look at different rates
        )
        for n, case in enumerate(cases)
    ]

    async def close_later() -> None:
        await looked_at(creatio_connection, [case["Id"] for case in cases], 2)
        for case in cases:
            creatio_connection.store.update("Case", case["Id"], {"Subject": "done"})

    async def both() -> list[list[dict[str, Any]]]:
        *events, _ = await asyncio.gather(*(collect(trigger) for trigger in triggers), close_later())
        return events

    [[first], [second]] = asyncio.run(both())
    looks = [creatio_connection.count("GET", f"Case({case['Id']})") for case in cases]
    assert [first["api_calls"], second["api_calls"]] == looks
    assert min(looks) >= 3
    assert sum(looks) == counted(creatio_connection)


async def collect(trigger: Any) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


async def looked_at(emulator: Any, case_ids: list[str], looks: int) -> None:
    """Return once each case was read ``looks`` times (the emulator's log), whatever the machine's speed."""
    while any(emulator.count("GET", f"Case({case_id})") < looks for case_id in case_ids):
        await asyncio.sleep(0.01)
