"""The change watcher and a deferred wait in one triggerer share one async client: one login for both."""

from __future__ import annotations

import asyncio
from typing import Any

from airflow_provider_creatio.triggers._record_change_stream import RecordChangeProducer
from airflow_provider_creatio.triggers.entity import CreatioEntityTrigger
from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger


class MemoryMarkStore:
    def __init__(self) -> None:
        self.state: dict[str, Any] = {"entity": "Contact", "mark": None}  # no mark: every record is a change

    async def load(self) -> dict[str, Any]:
        return self.state

    async def save(self, state: dict[str, Any]) -> None:
        self.state = state


async def first_change(watcher: CreatioRecordChangeTrigger) -> dict[str, Any]:
    stream = RecordChangeProducer(watcher, MemoryMarkStore()).open_stream()
    try:
        payload, _ = await asyncio.wait_for(stream.__anext__(), 30)
        return dict(payload)
    finally:
        await stream.aclose()


async def both(
    emulator: Any, case_id: str, created: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    watcher = CreatioRecordChangeTrigger(
        entity="Contact", filter={"Name": "Watched"}, poll_interval=0.05, clock_margin=0
    )
    wait = CreatioEntityTrigger(
        creatio_conn_id="creatio_default",
        watch={"entity": "Case", "record_id": case_id, "top": 1},
        success_values={"Subject": "done"},
        poll_interval=0.05,
    )

    async def change_later() -> None:
        await asyncio.sleep(0.3)  # both triggers are polling by now
        created.append(emulator.store.insert("Contact", {"Name": "Watched"})["Id"])
        emulator.store.update("Case", case_id, {"Subject": "done"})

    changed, events, _ = await asyncio.gather(first_change(watcher), _events(wait), change_later())
    return changed, events


async def _events(trigger: CreatioEntityTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


def test_the_watcher_and_a_deferred_wait_share_one_login(creatio_connection: Any) -> None:
    emulator = creatio_connection
    case_id = emulator.store.insert("Case", {"Subject": "open"})["Id"]
    created: list[str] = []
    changed, events = asyncio.run(both(emulator, case_id, created))
    assert changed["count"] == 1 and changed["ids"] == created
    assert events[0]["status"] == "success"
    assert emulator.login_count + emulator.token_request_count == 1
