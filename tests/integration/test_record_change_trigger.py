"""CreatioRecordChangeTrigger against the emulator: what one poll reads (batches, keyset pages, filter, ids limit,
ModifiedOn ties) and the ack-mode producer's durable mark (written only on advance, only forward, redelivery of
what was never advanced after a restart)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from airflow.triggers.shared_stream import AdvanceItem, AdvanceOutcome

from airflow_provider_creatio.client.changes import Mark
from airflow_provider_creatio.testing.emulator.seed import CASE_PRIORITY_IDS
from airflow_provider_creatio.triggers._record_change_stream import RecordChangeProducer
from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

HIGH = CASE_PRIORITY_IDS["High"]
TIE = "2031-05-01T10:00:00.1234567Z"
ACKED = AdvanceOutcome(acked=1, failed=0)
FAILED = AdvanceOutcome(acked=0, failed=1)


class MemoryMarkStore:
    """The durable mark, in memory, with every write kept."""

    def __init__(self) -> None:
        self.written = False
        self.mark: Mark | None = None
        self.saves: list[Mark | None] = []

    async def load(self) -> tuple[bool, Mark | None]:
        return self.written, self.mark

    async def save(self, mark: Mark | None) -> None:
        self.written, self.mark = True, mark
        self.saves.append(mark)


def trigger(**kwargs: Any) -> CreatioRecordChangeTrigger:
    return CreatioRecordChangeTrigger(**{"entity": "Case", "poll_interval": 0.02, **kwargs})


def polls(emulator: Any) -> int:
    return emulator.count("GET", "/Case")


def case_queries(emulator: Any) -> list[dict[str, list[str]]]:
    return [
        parse_qs(request.query)
        for request in emulator.requests
        if request.method == "GET" and "/Case" in request.path
    ]


async def polled(emulator: Any, times: int) -> None:
    """Until the emulator has answered ``times`` more Case reads."""
    target = polls(emulator) + times
    for _ in range(2000):
        if polls(emulator) >= target:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the trigger stopped polling")


def add_cases(emulator: Any, count: int, **values: Any) -> list[str]:
    return [emulator.store.insert("Case", {"Subject": f"case {n}", **values})["Id"] for n in range(count)]


async def next_event(stream: AsyncIterator[Any]) -> Any:
    return await asyncio.wait_for(stream.__anext__(), 20)


@pytest.fixture
def store() -> MemoryMarkStore:
    return MemoryMarkStore()


async def test_no_change_no_event_then_one_event_per_batch(
    creatio_connection: Any, store: MemoryMarkStore
) -> None:
    producer = RecordChangeProducer(trigger(), store)
    stream = producer.open_stream()
    waiting = asyncio.ensure_future(next_event(stream))
    await polled(creatio_connection, 4)  # the start's look for the newest case, then polls
    assert not waiting.done()
    created = add_cases(creatio_connection, 3)
    payload, (_, mark) = await waiting
    assert payload["count"] == 3 and payload["truncated"] is False
    assert sorted(payload["ids"]) == sorted(created)
    assert payload["mark"] == mark.to_dict() and mark.id == payload["ids"][-1]
    assert len(store.saves) == 1  # the start, before any event; the event's mark waits for its advance
    await stream.aclose()


async def test_the_start_is_the_newest_record_written_at_once(
    creatio_connection: Any, store: MemoryMarkStore
) -> None:
    [before] = add_cases(creatio_connection, 1)
    stream = RecordChangeProducer(trigger(), store).open_stream()
    waiting = asyncio.ensure_future(next_event(stream))
    await polled(creatio_connection, 3)
    assert store.saves and store.saves[0] is not None and store.saves[0].id == before  # before any event
    [after] = add_cases(creatio_connection, 1)
    payload, _ = await waiting
    assert payload["ids"] == [after]
    await stream.aclose()


async def test_a_poll_reads_past_one_page_with_keyset_pages(
    creatio_connection: Any, store: MemoryMarkStore
) -> None:
    add_cases(creatio_connection, 4)
    store.written = True  # a mark of None: every case is a change
    stream = RecordChangeProducer(trigger(page_size=2), store).open_stream()
    payload, _ = await next_event(stream)
    await stream.aclose()
    total = creatio_connection.store.count("Case")
    assert payload["count"] == total and len(set(payload["ids"])) == total
    queries = case_queries(creatio_connection)
    assert all("$skip" not in query for query in queries)
    assert queries[0]["$orderby"] == ["ModifiedOn,Id"] and queries[0]["$top"] == ["2"]
    assert all(query["$select"] == ["Id,ModifiedOn"] for query in queries)
    assert "Id gt" in queries[1]["$filter"][0]


async def test_filter_ids_limit_and_truncated(creatio_connection: Any, store: MemoryMarkStore) -> None:
    stream = RecordChangeProducer(trigger(filter={"Priority/Name": "High"}, ids_limit=2), store).open_stream()
    waiting = asyncio.ensure_future(next_event(stream))
    await polled(creatio_connection, 3)
    add_cases(creatio_connection, 2)  # Medium: not watched
    high = add_cases(creatio_connection, 3, PriorityId=HIGH)
    payload, _ = await waiting
    assert payload["count"] == 3 and payload["truncated"] is True
    assert len(payload["ids"]) == 2 and set(payload["ids"]) <= set(high)
    assert all("Priority/Name eq 'High'" in query["$filter"][0] for query in case_queries(creatio_connection))
    await stream.aclose()


async def test_changes_sharing_one_modified_on_come_once_each(
    creatio_connection: Any, store: MemoryMarkStore
) -> None:
    tie = add_cases(creatio_connection, 5, ModifiedOn=TIE)
    store.written, store.mark = True, Mark("2031-01-01T00:00:00Z")
    producer = RecordChangeProducer(trigger(page_size=2, ids_limit=10), store)
    stream = producer.open_stream()
    payload, (_, mark) = await next_event(stream)
    assert sorted(payload["ids"]) == sorted(tie) and payload["count"] == 5
    assert mark.modified_on == TIE
    more = add_cases(creatio_connection, 1, ModifiedOn="2031-05-01T10:00:00.1234568Z")
    payload, _ = await next_event(stream)
    assert (
        payload["ids"] == more and payload["after"] == mark.to_dict()
    )  # the batch starts after the last one
    await stream.aclose()


async def test_since_includes_its_own_time(creatio_connection: Any, store: MemoryMarkStore) -> None:
    at = add_cases(creatio_connection, 1, ModifiedOn=TIE)
    add_cases(creatio_connection, 1, ModifiedOn="2031-05-01T09:59:59Z")
    stream = RecordChangeProducer(trigger(since=TIE), store).open_stream()
    payload, _ = await next_event(stream)
    assert payload["ids"] == at and store.saves == [Mark(TIE)]
    await stream.aclose()


async def test_the_mark_moves_on_advance_only_and_a_restart_redelivers(
    creatio_connection: Any, store: MemoryMarkStore
) -> None:
    store.written, store.mark = True, Mark("2031-01-01T00:00:00Z")
    first = RecordChangeProducer(trigger(), store)
    stream = first.open_stream()
    one = add_cases(creatio_connection, 1, ModifiedOn="2031-02-01T00:00:00Z")
    _, broker_one = await next_event(stream)
    two = add_cases(creatio_connection, 1, ModifiedOn="2031-03-01T00:00:00Z")
    payload_two, _ = await next_event(stream)
    assert payload_two["ids"] == two and store.saves == []  # yielded, nothing advanced
    await first.advance([AdvanceItem(broker_one, ACKED)])
    assert store.mark == broker_one[1] and store.mark.id == one[0]  # type: ignore[union-attr]
    await stream.aclose()  # the triggerer dies before the second event is stored

    again = RecordChangeProducer(trigger(), store).open_stream()
    payload, _ = await next_event(again)
    assert payload["ids"] == two  # redelivered from the durable mark, the first one not
    await again.aclose()


async def test_a_failed_event_rewinds_and_later_advances_are_ignored(
    creatio_connection: Any, store: MemoryMarkStore
) -> None:
    start = Mark("2031-01-01T00:00:00Z")
    store.written, store.mark = True, start
    producer = RecordChangeProducer(trigger(), store)
    stream = producer.open_stream()
    one = add_cases(creatio_connection, 1, ModifiedOn="2031-02-01T00:00:00Z")
    _, broker_one = await next_event(stream)
    two = add_cases(creatio_connection, 1, ModifiedOn="2031-03-01T00:00:00Z")
    _, broker_two = await next_event(stream)
    await producer.advance([AdvanceItem(broker_one, FAILED), AdvanceItem(broker_two, ACKED)])
    assert store.saves == [] and store.mark == start  # neither moved the mark
    payload, broker = await next_event(stream)  # read again from the durable mark
    assert payload["ids"] == one + two and broker[0] == broker_one[0] + 1
    await producer.advance([AdvanceItem(broker, ACKED)])
    assert store.mark is not None and store.mark.id == two[0]
    await stream.aclose()


async def test_the_mark_never_moves_back(creatio_connection: Any, store: MemoryMarkStore) -> None:
    store.written, store.mark = True, Mark("2031-01-01T00:00:00Z")
    producer = RecordChangeProducer(trigger(), store)
    stream = producer.open_stream()
    add_cases(creatio_connection, 1, ModifiedOn="2031-03-01T00:00:00Z")
    _, broker = await next_event(stream)
    await producer.advance([AdvanceItem(broker, ACKED)])
    older = (broker[0], Mark("2031-02-01T00:00:00Z", broker[1].id))
    await producer.advance([AdvanceItem(older, ACKED)])
    assert store.saves == [broker[1]]
    await stream.aclose()


def test_identity_names_the_stream_and_the_mark() -> None:
    one, same, other = (
        trigger(filter={"Priority/Name": "High"}),
        trigger(filter={"Priority/Name": "High"}),
        trigger(),
    )
    assert one.shared_stream_key() == same.shared_stream_key() != other.shared_stream_key()
    assert one.mark_variable() == same.mark_variable() != other.mark_variable()
    assert CreatioRecordChangeTrigger(**one.serialize()[1]).serialize() == one.serialize()
