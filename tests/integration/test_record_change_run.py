"""CreatioRecordChangeTrigger's ``run()``, the path of Airflow 3.0 to 3.2 (no shared streams), against the
emulator: the mark lives in memory and moves after each event, and never passes a change younger than the clock
margin. Nothing here needs Airflow 3.3. The triggerer's clock is the test's (``triggerer_clock``, 2032-01-01)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from urllib.parse import unquote

import pytest

from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

NOW = dt.datetime(2032, 1, 1, tzinfo=dt.timezone.utc)

pytestmark = pytest.mark.usefixtures("triggerer_clock")


def add_cases(emulator: Any, count: int, **values: Any) -> list[str]:
    return [emulator.store.insert("Case", {"Subject": f"case {n}", **values})["Id"] for n in range(count)]


def stamp(seconds_before_now: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds_before_now)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def polled(emulator: Any, times: int) -> None:
    target = emulator.count("GET", "/Case") + times
    for _ in range(2000):
        if emulator.count("GET", "/Case") >= target:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the trigger stopped polling")


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
    await polled(creatio_connection, 3)  # the start's look and two polls
    assert not waiting.done()
    later = add_cases(creatio_connection, 1)
    payload = await waiting
    await events.aclose()
    assert payload["ids"] == later


async def test_run_reads_a_change_inside_the_margin_at_a_later_poll(
    creatio_connection: Any, triggerer_clock: Any
) -> None:
    """A save stamped 10 s before the poll (margin 30 s), and one stamped before it that commits only after the
    poll: neither is passed over."""
    events = CreatioRecordChangeTrigger(entity="Case", since=stamp(3600), poll_interval=0.02).run()
    old = add_cases(creatio_connection, 1, ModifiedOn=stamp(40))
    recent = add_cases(creatio_connection, 1, ModifiedOn=stamp(10))
    first = await next_payload(events)
    assert first["ids"] == old
    waiting = asyncio.ensure_future(next_payload(events))
    await polled(creatio_connection, 3)
    assert not waiting.done()
    late = add_cases(creatio_connection, 1, ModifiedOn=stamp(20))  # stamped before `recent`, committed now
    triggerer_clock.now = NOW + dt.timedelta(seconds=25)
    second = await waiting
    await events.aclose()
    assert second["ids"] == late + recent and second["after"] == first["mark"]


async def test_run_polls_a_site_refusing_guid_comparison_on_modified_on_alone(
    creatio_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(creatio_connection.settings, "guid_ordering", False)  # a site refusing Id gt <guid>
    creatio_connection.reset()
    events = CreatioRecordChangeTrigger(entity="Case", since="2031-01-01T00:00:00Z", poll_interval=0.02).run()
    one = add_cases(creatio_connection, 2, ModifiedOn="2031-02-01T00:00:00Z")
    first = await next_payload(events)
    waiting = asyncio.ensure_future(next_payload(events))
    await polled(creatio_connection, 3)  # the refused comparison after the mark, then polls without it
    two = add_cases(creatio_connection, 1, ModifiedOn="2031-03-01T00:00:00Z")
    second = await waiting
    await events.aclose()

    reads = [r for r in creatio_connection.requests if r.method == "GET" and "/Case" in r.path]
    refused = [r for r in reads if r.status == 400]
    assert sorted(first["ids"]) == sorted(one) and second["ids"] == two
    assert len(refused) == 1 and "Id gt" in unquote(refused[0].query)
    assert all("Id gt" not in unquote(r.query) for r in reads[reads.index(refused[0]) + 1 :])
