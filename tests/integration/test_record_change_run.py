"""CreatioRecordChangeTrigger's ``run()``, the path of Airflow 3.0 to 3.2 (no shared streams), against the
emulator: the mark lives in memory and moves after each event. Nothing here needs Airflow 3.3."""

from __future__ import annotations

import asyncio
from typing import Any

from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger


def add_cases(emulator: Any, count: int, **values: Any) -> list[str]:
    return [emulator.store.insert("Case", {"Subject": f"case {n}", **values})["Id"] for n in range(count)]


async def next_payload(events: Any) -> dict[str, Any]:
    return (await asyncio.wait_for(events.__anext__(), 20)).payload  # type: ignore[no-any-return]


async def test_run_moves_the_mark_after_each_event(creatio_connection: Any) -> None:
    events = CreatioRecordChangeTrigger(entity="Case", since="2031-01-01T00:00:00Z", poll_interval=0.02).run()
    one = add_cases(creatio_connection, 2, ModifiedOn="2031-02-01T00:00:00Z")
    first = await next_payload(events)
    two = add_cases(creatio_connection, 1, ModifiedOn="2031-03-01T00:00:00Z")
    second = await next_payload(events)
    await events.aclose()
    assert sorted(first["ids"]) == sorted(one) and first["count"] == 2
    assert second["ids"] == two and second["count"] == 1


async def test_run_without_since_delivers_only_later_changes(creatio_connection: Any) -> None:
    add_cases(creatio_connection, 2)
    events = CreatioRecordChangeTrigger(entity="Case", poll_interval=0.02).run()
    waiting = asyncio.ensure_future(next_payload(events))
    start = creatio_connection.count("GET", "/Case")
    for _ in range(2000):  # until the start's look and two polls were answered
        if creatio_connection.count("GET", "/Case") >= start + 3:
            break
        await asyncio.sleep(0.01)
    assert not waiting.done()
    later = add_cases(creatio_connection, 1)
    payload = await waiting
    await events.aclose()
    assert payload["ids"] == later
