"""CreatioRecordChangeTrigger(include_deletes="reconcile") against the emulator: the ack-mode producer scans the
matching Ids every ``deletes_interval`` and reports the Ids the last kept snapshot has and the scan lacks, as
``deleted_ids`` with a count, a truncation flag, the two scans' times and a file of every deleted Id. The snapshot
moves on only when the event that reports its deletions is stored (advanced), so a failed event or a restart
brings the deletions again; a scan that finds none is kept at once.

The triggerer's clock is the test's (``triggerer_clock``, 2032-01-01): a scan is due again once the test moves it
past ``deletes_interval``."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gzip
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from airflow.triggers.shared_stream import AdvanceItem, AdvanceOutcome
from test_record_change_trigger import MemoryMarkStore

from airflow_provider_creatio.triggers._record_change_stream import RecordChangeProducer
from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

ACKED = AdvanceOutcome(acked=1, failed=0)
FAILED = AdvanceOutcome(acked=0, failed=1)
INTERVAL = 60.0
SUBJECT = "watched for deletes"


@pytest.fixture
def store() -> MemoryMarkStore:
    store = MemoryMarkStore()
    store.written = True  # a mark of None: the watched cases below are changes once, read with the first poll
    return store


@pytest.fixture
def cases(creatio_connection: Any) -> list[str]:
    with creatio_connection.store.lock:
        return [creatio_connection.store.insert("Case", {"Subject": SUBJECT})["Id"] for _ in range(5)]


def watch(folder: Path, **kwargs: Any) -> CreatioRecordChangeTrigger:
    arguments = {
        "entity": "Case",
        "filter": {"Subject": SUBJECT},
        "poll_interval": 0.02,
        "include_deletes": "reconcile",
        "deletes_interval": INTERVAL,
        "snapshot_path": f"file://{folder}/",
        **kwargs,
    }
    return CreatioRecordChangeTrigger(**arguments)


async def next_event(stream: AsyncIterator[Any]) -> Any:
    return await asyncio.wait_for(stream.__anext__(), 20)


async def stop_waiting(waiting: asyncio.Future[Any], stream: AsyncIterator[Any]) -> None:
    """Cancel a pull that got no event, then close the stream (a generator being pulled cannot be closed)."""
    assert not waiting.done()
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    await stream.aclose()  # type: ignore[attr-defined]


async def until(condition: Any) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the producer never got there")


def listed(uri: str) -> list[str]:
    with gzip.open(uri.removeprefix("file://"), "rt") as text:
        return text.read().split()


def delete(emulator: Any, ids: list[str]) -> None:
    for case_id in ids:
        emulator.store.delete("Case", case_id)


def snapshots(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("ids-*.txt.gz"))


async def first_scan(producer: RecordChangeProducer, store: MemoryMarkStore) -> AsyncIterator[Any]:
    """The stream, past its first event (the watched cases as changes) and its first scan (kept at once)."""
    stream = producer.open_stream()
    payload, delivery = await next_event(stream)
    assert payload["count"] == 5 and payload["deleted_count"] == 0 and payload["deleted_after"] is None
    await producer.advance([AdvanceItem(delivery, ACKED)])
    await until(lambda: store.deletes is not None)
    return stream


async def test_deleted_cases_come_as_deleted_ids_once_the_interval_passed(
    creatio_connection: Any, cases: list[str], store: MemoryMarkStore, triggerer_clock: Any, tmp_path: Path
) -> None:
    producer = RecordChangeProducer(watch(tmp_path), store)
    stream = await first_scan(producer, store)
    first = store.deletes
    assert first is not None and snapshots(tmp_path) == [Path(first["snapshot"]).name]

    delete(creatio_connection, cases[:2])
    [created] = [creatio_connection.store.insert("Case", {"Subject": SUBJECT})["Id"]]
    waiting = asyncio.ensure_future(next_event(stream))
    payload, delivery = await waiting  # the new case, as a change; no scan is due yet
    assert payload["ids"] == [created] and payload["deleted_count"] == 0
    assert payload["deleted_mark"] == first["scanned_at"]
    await producer.advance([AdvanceItem(delivery, ACKED)])

    triggerer_clock.now += dt.timedelta(seconds=INTERVAL)
    payload, delivery = await next_event(stream)
    assert payload["count"] == 0 and payload["ids"] == [] and payload["mark"] == payload["after"]
    assert sorted(payload["deleted_ids"]) == sorted(cases[:2]) and payload["deleted_count"] == 2
    assert payload["deleted_truncated"] is False
    assert payload["deleted_after"] == first["scanned_at"] and payload["deleted_mark"] > first["scanned_at"]
    assert sorted(listed(payload["deleted_uri"])) == sorted(cases[:2])
    assert store.deletes == first  # kept only once the event is stored
    await producer.advance([AdvanceItem(delivery, ACKED)])
    assert store.deletes == delivery.deletes and store.deletes["scanned_at"] == payload["deleted_mark"]
    assert snapshots(tmp_path) == [Path(store.deletes["snapshot"]).name]  # the one it replaced is gone
    await stream.aclose()


async def test_a_scan_that_finds_no_deletion_makes_no_event_and_is_kept_at_once(
    creatio_connection: Any, cases: list[str], store: MemoryMarkStore, triggerer_clock: Any, tmp_path: Path
) -> None:
    producer = RecordChangeProducer(watch(tmp_path), store)
    stream = await first_scan(producer, store)
    first = store.deletes
    assert first is not None
    triggerer_clock.now += dt.timedelta(seconds=INTERVAL)
    waiting = asyncio.ensure_future(next_event(stream))
    await until(lambda: store.deletes != first)
    await asyncio.sleep(0.2)
    await stop_waiting(waiting, stream)
    assert len(snapshots(tmp_path)) == 1


@pytest.mark.parametrize("how", ["failed event", "restart"])
async def test_deletions_whose_event_was_not_stored_come_again(
    creatio_connection: Any,
    cases: list[str],
    store: MemoryMarkStore,
    triggerer_clock: Any,
    tmp_path: Path,
    how: str,
) -> None:
    producer = RecordChangeProducer(watch(tmp_path), store)
    stream = await first_scan(producer, store)
    first = store.deletes
    delete(creatio_connection, cases[:3])
    triggerer_clock.now += dt.timedelta(seconds=INTERVAL)
    payload, delivery = await next_event(stream)
    assert sorted(payload["deleted_ids"]) == sorted(cases[:3])
    if how == "failed event":
        await producer.advance([AdvanceItem(delivery, FAILED)])
    else:
        await stream.aclose()  # the triggerer went before the event was stored
        producer = RecordChangeProducer(watch(tmp_path), store)
        stream = producer.open_stream()
    again, delivery = await next_event(stream)
    assert sorted(again["deleted_ids"]) == sorted(cases[:3]) and again["deleted_after"] == first["scanned_at"]
    await producer.advance([AdvanceItem(delivery, ACKED)])
    assert store.deletes == delivery.deletes
    await stream.aclose()


async def test_more_deletions_than_ids_limit_are_counted_and_listed_whole(
    creatio_connection: Any, cases: list[str], store: MemoryMarkStore, triggerer_clock: Any, tmp_path: Path
) -> None:
    producer = RecordChangeProducer(watch(tmp_path, ids_limit=5), store)
    stream = producer.open_stream()
    _, delivery = await next_event(stream)
    await producer.advance([AdvanceItem(delivery, ACKED)])
    await until(lambda: store.deletes is not None)
    more = [creatio_connection.store.insert("Case", {"Subject": SUBJECT})["Id"] for _ in range(3)]
    _, delivery = await next_event(stream)
    await producer.advance([AdvanceItem(delivery, ACKED)])
    first = store.deletes
    triggerer_clock.now += dt.timedelta(seconds=INTERVAL)
    waiting = asyncio.ensure_future(next_event(stream))
    await until(lambda: store.deletes != first)  # the scan that saw ``more``: no deletion, kept at once
    gone = cases + more
    delete(creatio_connection, gone)
    triggerer_clock.now += dt.timedelta(seconds=INTERVAL)
    payload, _ = await waiting
    assert payload["deleted_count"] == 8 and payload["deleted_truncated"] is True
    assert len(payload["deleted_ids"]) == 5 and set(payload["deleted_ids"]) <= set(gone)
    assert sorted(listed(payload["deleted_uri"])) == sorted(gone)
    await stream.aclose()


async def test_a_missing_snapshot_is_an_error_never_a_false_deletion(
    creatio_connection: Any,
    cases: list[str],
    store: MemoryMarkStore,
    triggerer_clock: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    producer = RecordChangeProducer(watch(tmp_path), store)
    stream = await first_scan(producer, store)
    assert store.deletes is not None
    Path(store.deletes["snapshot"].removeprefix("file://")).unlink()
    delete(creatio_connection, cases[:1])
    scans = creatio_connection.count("GET", "/Case")
    triggerer_clock.now += dt.timedelta(seconds=INTERVAL)
    waiting = asyncio.ensure_future(next_event(stream))
    await until(lambda: "is missing" in caplog.text)
    await asyncio.sleep(0.3)  # polls go on; the scan is not tried again before the interval
    await stop_waiting(waiting, stream)
    assert caplog.text.count("is missing") == 1 and "Looking for deleted Case records failed" in caplog.text
    assert creatio_connection.count("GET", "/Case") > scans


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"include_deletes": "event_log", "snapshot_path": "file:///x"},
            "include_deletes='event_log' is not",
        ),
        (
            {"include_deletes": "yes", "snapshot_path": "file:///x"},
            "include_deletes must be None or 'reconcile'",
        ),
        ({"include_deletes": "reconcile"}, "include_deletes needs snapshot_path"),
        (
            {"include_deletes": "reconcile", "snapshot_path": "file:///x", "deletes_interval": 0},
            "deletes_interval must be positive",
        ),
    ],
)
def test_bad_deletes_arguments_fail_the_dag_file(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CreatioRecordChangeTrigger(entity="Case", **arguments)


def test_include_deletes_is_off_by_default() -> None:
    kwargs = CreatioRecordChangeTrigger(entity="Case").serialize()[1]
    assert kwargs["include_deletes"] is None and kwargs["snapshot_path"] is None
