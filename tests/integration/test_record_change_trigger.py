"""CreatioRecordChangeTrigger against the emulator: what one poll reads (batches, keyset pages, filter, ids limit,
ModifiedOn ties, the clock margin and a late commit) and the ack-mode producer's durable mark (written only on
advance, only forward, redelivery of what was never advanced after a restart, shared by triggers tuned apart).

The triggerer's clock is the test's (``triggerer_clock``): 2032-01-01 unless a test moves it, after every stamp
written here, so that with the default 30 s margin a poll sees every change."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, unquote

import pytest
from airflow.triggers.shared_stream import AdvanceItem, AdvanceOutcome

from airflow_provider_creatio.client.changes import Mark
from airflow_provider_creatio.client.keyset import parse_date_time
from airflow_provider_creatio.testing.emulator.seed import CASE_PRIORITY_IDS
from airflow_provider_creatio.triggers._record_change_stream import RecordChangeProducer
from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

HIGH = CASE_PRIORITY_IDS["High"]
TIE = "2031-05-01T10:00:00.1234567Z"
ACKED = AdvanceOutcome(acked=1, failed=0)
FAILED = AdvanceOutcome(acked=0, failed=1)
NOW = dt.datetime(2032, 1, 1, tzinfo=dt.timezone.utc)  # the triggerer's clock, as the fixture sets it

pytestmark = pytest.mark.usefixtures("triggerer_clock")


class MemoryMarkStore:
    """The watch's durable state, in memory: ``written``, its ``mark`` and ``deletes``, and every mark saved."""

    def __init__(self) -> None:
        self.written = False
        self.mark: Mark | None = None
        self.deletes: dict[str, str] | None = None
        self.saves: list[Mark | None] = []

    async def load(self) -> dict[str, Any] | None:
        if not self.written:
            return None
        state: dict[str, Any] = {"entity": "Case", "mark": None if self.mark is None else self.mark.to_dict()}
        return state if self.deletes is None else {**state, "deletes": self.deletes}

    async def save(self, state: dict[str, Any]) -> None:
        self.written, self.mark = True, Mark.from_dict(state["mark"])
        self.deletes = state.get("deletes")
        self.saves.append(self.mark)


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


def stamp(seconds_before_now: float) -> str:
    """A ``ModifiedOn`` that many seconds before :data:`NOW`."""
    return (NOW - dt.timedelta(seconds=seconds_before_now)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    payload, delivery = await waiting
    mark = delivery.mark
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
    payload, delivery = await next_event(stream)
    mark = delivery.mark
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
    older = broker._replace(mark=Mark("2031-02-01T00:00:00Z", broker[1].id))
    await producer.advance([AdvanceItem(older, ACKED)])
    assert store.saves == [broker[1]]
    await stream.aclose()


def test_the_stream_is_named_by_every_argument_the_mark_by_what_is_watched() -> None:
    high = trigger(filter={"Priority/Name": "High"})
    same, tuned, other = (
        trigger(filter={"Priority/Name": "High"}),
        trigger(filter={"Priority/Name": "High"}, poll_interval=5, clock_margin=1, ids_limit=7, page_size=9),
        trigger(),
    )
    assert high.shared_stream_key() == same.shared_stream_key() != tuned.shared_stream_key()
    assert high.mark_variable() == same.mark_variable() == tuned.mark_variable() != other.mark_variable()
    assert trigger(since=TIE).mark_variable() != trigger().mark_variable()
    assert CreatioRecordChangeTrigger(**tuned.serialize()[1]).serialize() == tuned.serialize()


# ---------------------------------------------------------------------- the clock margin


async def test_a_change_inside_the_margin_waits_for_a_later_poll(
    creatio_connection: Any, store: MemoryMarkStore, triggerer_clock: Any
) -> None:
    store.written, store.mark = True, Mark(stamp(3600))
    [recent] = add_cases(creatio_connection, 1, ModifiedOn=stamp(10))  # 10 s before the poll, margin 30 s
    stream = RecordChangeProducer(trigger(), store).open_stream()
    waiting = asyncio.ensure_future(next_event(stream))
    await polled(creatio_connection, 3)
    assert not waiting.done()
    bound = f"ModifiedOn lt {stamp(30)}"
    assert all(bound in query["$filter"][0] for query in case_queries(creatio_connection))
    triggerer_clock.now = NOW + dt.timedelta(seconds=25)  # the change is 35 s old now
    payload, _ = await waiting
    assert payload["ids"] == [recent]
    await stream.aclose()


@pytest.mark.parametrize("clock_margin", [30, 0])
async def test_a_late_commit_behind_a_later_stamp(
    creatio_connection: Any, store: MemoryMarkStore, triggerer_clock: Any, clock_margin: float
) -> None:
    """Save L is stamped 10 s before the poll but commits after it, while a save stamped after L (5 s before
    the poll) is already visible. Without a margin the poll delivers that later save, the mark passes L's stamp,
    and L is never delivered: the scenario is real. With a 30 s margin the poll delivers only what is older than
    30 s, so the mark stays before L, and L comes with the next poll that sees it."""
    store.written, store.mark = True, Mark(stamp(3600))
    producer = RecordChangeProducer(trigger(clock_margin=clock_margin), store)
    old = add_cases(creatio_connection, 1, ModifiedOn=stamp(40))
    later = add_cases(creatio_connection, 1, ModifiedOn=stamp(5))
    stream = producer.open_stream()
    payload, delivery = await next_event(stream)
    mark = delivery.mark
    assert parse_date_time(mark.modified_on) < NOW - dt.timedelta(seconds=clock_margin)  # behind the bound
    late = add_cases(creatio_connection, 1, ModifiedOn=stamp(10))  # its commit comes after the poll
    triggerer_clock.now = NOW + dt.timedelta(seconds=60)
    if clock_margin:
        assert payload["ids"] == old
        payload, _ = await next_event(stream)
        assert payload["ids"] == late + later  # in ModifiedOn order
    else:
        assert payload["ids"] == old + later
        waiting = asyncio.ensure_future(next_event(stream))
        await polled(creatio_connection, 3)
        assert not waiting.done()  # L is behind the mark: passed over
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
    await stream.aclose()


async def test_the_start_without_since_is_the_newest_change_before_the_margin(
    creatio_connection: Any, store: MemoryMarkStore, triggerer_clock: Any
) -> None:
    [older] = add_cases(creatio_connection, 1, ModifiedOn=stamp(40))
    [recent] = add_cases(creatio_connection, 1, ModifiedOn=stamp(10))
    stream = RecordChangeProducer(trigger(), store).open_stream()
    waiting = asyncio.ensure_future(next_event(stream))
    await polled(creatio_connection, 3)
    assert store.saves[0] is not None and store.saves[0].id == older
    assert not waiting.done()
    triggerer_clock.now = NOW + dt.timedelta(seconds=25)
    payload, _ = await waiting
    assert payload["ids"] == [recent]  # it was inside the margin at the start: a change after the start
    await stream.aclose()


# ---------------------------------------------------------------------- triggers tuned apart share the mark


async def test_a_retuned_trigger_continues_from_the_stored_mark(
    creatio_connection: Any, store: MemoryMarkStore
) -> None:
    store.written, store.mark = True, Mark("2031-01-01T00:00:00Z")
    first = RecordChangeProducer(trigger(), store)
    stream = first.open_stream()
    add_cases(creatio_connection, 1, ModifiedOn="2031-02-01T00:00:00Z")
    _, broker = await next_event(stream)
    await first.advance([AdvanceItem(broker, ACKED)])
    await stream.aclose()  # the DAG file now says poll_interval=0.03: Airflow replaces the trigger

    made_between = add_cases(creatio_connection, 1, ModifiedOn="2031-03-01T00:00:00Z")
    retuned = trigger(poll_interval=0.03, clock_margin=10, ids_limit=5)
    assert retuned.mark_variable() == trigger().mark_variable()
    again = RecordChangeProducer(retuned, store).open_stream()
    payload, _ = await next_event(again)
    assert payload["ids"] == made_between and payload["after"] == broker[1].to_dict()
    await again.aclose()


async def test_the_old_trigger_does_not_move_back_the_new_ones_mark(
    creatio_connection: Any, store: MemoryMarkStore
) -> None:
    """The old and the new trigger run at once for a while: the old one's advance comes after the new one
    stored a later mark, and leaves it (moving it back would only bring changes again)."""
    store.written, store.mark = True, Mark("2031-01-01T00:00:00Z")
    old = RecordChangeProducer(trigger(), store)
    new = RecordChangeProducer(trigger(poll_interval=0.03), store)
    old_stream, new_stream = old.open_stream(), new.open_stream()
    add_cases(creatio_connection, 1, ModifiedOn="2031-02-01T00:00:00Z")
    _, old_broker = await next_event(old_stream)
    payload, new_first = await next_event(new_stream)
    assert payload["ids"] == [old_broker[1].id]  # both deliver it: at least once
    two = add_cases(creatio_connection, 1, ModifiedOn="2031-03-01T00:00:00Z")
    _, new_second = await next_event(new_stream)
    await new.advance([AdvanceItem(new_first, ACKED), AdvanceItem(new_second, ACKED)])
    await old.advance([AdvanceItem(old_broker, ACKED)])
    assert store.mark == new_second[1] and store.saves[-1] == new_second[1]
    await old_stream.aclose()
    await new_stream.aclose()

    restarted = RecordChangeProducer(trigger(), store).open_stream()
    waiting = asyncio.ensure_future(next_event(restarted))
    three = add_cases(creatio_connection, 1, ModifiedOn="2031-04-01T00:00:00Z")
    payload, _ = await waiting
    assert payload["ids"] == three and two[0] == new_second[1].id
    await restarted.aclose()


async def test_a_site_refusing_guid_comparison_is_polled_on_modified_on_alone_from_its_first_refusal(
    creatio_connection: Any, store: MemoryMarkStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(creatio_connection.settings, "guid_ordering", False)  # a site refusing Id gt <guid>
    creatio_connection.reset()
    first = [add_cases(creatio_connection, 1, ModifiedOn=f"2031-02-0{day}T00:00:00Z")[0] for day in (1, 2, 3)]
    store.written, store.mark = True, Mark("2031-01-01T00:00:00Z")
    producer = RecordChangeProducer(trigger(page_size=2), store)
    stream = producer.open_stream()

    payload, broker = await next_event(stream)  # the second page's comparison is refused: read again without
    await producer.advance([AdvanceItem(broker, ACKED)])
    later = add_cases(creatio_connection, 1, ModifiedOn="2031-02-04T00:00:00Z")
    again, _ = await next_event(stream)
    await stream.aclose()

    refused = [r for r in creatio_connection.requests if "/Case" in r.path and r.status == 400]
    after_refusal = case_queries(creatio_connection)[len(refused) + 1 :]
    assert payload["ids"] == first and payload["count"] == 3
    assert again["ids"] == later and again["after"] == payload["mark"]
    assert len(refused) == 1 and "Id gt" in unquote(refused[0].query)
    assert all("Id gt" not in query.get("$filter", [""])[0] for query in after_refusal)
    assert any(
        "ModifiedOn gt 2031-02-03T00:00:00" in query.get("$filter", [""])[0] for query in after_refusal
    )
