"""Reads past Creatio's RAM limit of a read (the emulator's ``max_read_memory_mb``) against the emulator: the refused
page is asked again at half the size from the same position, until it fits or the floor is reached; the size
that fitted serves the rest of the task and is logged once."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from airflow_provider_creatio.client.errors import CreatioMemoryLimitError
from airflow_provider_creatio.client.page_fit import MIN_PAGE_SIZE, SETTING
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.testing.emulator.ram_limit import read_memory_mb
from airflow_provider_creatio.transfers.creatio_to_object_storage import CreatioToObjectStorageOperator
from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

CONTACTS = 20_000
SELECT = ["Name", "Email"]
RAM_WORDS = "RAM consumption limit"


def _limit_between(
    hook: CreatioHook, entity: str, select: list[str], orderby: str, fits: int, filter: str | None = None
) -> float:
    """A limit that a page of ``fits`` rows of this read meets and one of twice as many exceeds."""
    rows = hook.query_page(entity, filter=filter, select=select, orderby=orderby, top=2 * fits).records
    small, large = read_memory_mb(rows[:fits]), read_memory_mb(rows)
    assert 1.9 * small < large  # the rows weigh about the same: every page of ``fits`` rows fits
    return (small + large) / 2


@pytest.fixture
def contacts(creatio_connection: Any) -> Any:
    with creatio_connection.store.lock:
        for number in range(CONTACTS):
            creatio_connection.store.insert(
                "Contact", {"Name": f"Reader {number:06d}", "Email": f"r{number}@example.com"}
            )
    return creatio_connection


def _contact_reads(emulator: Any) -> list[tuple[int, str]]:
    """(status, $top) of each Contact collection read the emulator answered."""
    reads = [
        entry for entry in emulator.requests if entry.method == "GET" and entry.path.endswith("/Contact")
    ]
    return [(entry.status, parse_qs(entry.query)["$top"][0]) for entry in reads]


def _ram_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if SETTING in record.getMessage()]


def test_an_extract_past_the_ram_limit_shrinks_its_page_once_and_reads_every_record_once(
    contacts: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with CreatioHook() as hook:
        contacts.settings.max_read_memory_mb = _limit_between(hook, "Contact", ["Id", *SELECT], "Id", 2_500)
    contacts.state.log.clear()
    operator = CreatioToObjectStorageOperator(
        task_id="extract", entity="Contact", select=SELECT, page_size=5_000, path=f"file://{tmp_path}/"
    )

    with caplog.at_level(logging.WARNING):
        result = operator.execute(context={})

    total = contacts.store.count("Contact")
    ids = [json.loads(line)["Id"] for part in tmp_path.iterdir() for line in part.read_text().splitlines()]
    assert result["count"] == total == len(ids) == len(set(ids))
    pages = total // 2_500 + 1
    assert _contact_reads(contacts) == [(500, "5000")] + [(200, "2500")] * pages
    [warning] = _ram_warnings(caplog)
    assert "pages of 2500" in warning and "Contact" in warning


def test_a_query_with_skip_pages_shrinks_too_and_the_hook_keeps_the_size(contacts: Any) -> None:
    with CreatioHook() as hook:
        contacts.settings.max_read_memory_mb = _limit_between(hook, "Contact", ["Id", *SELECT], "Id", 2_500)
        contacts.state.log.clear()
        read = {"select": ["Id", *SELECT], "page_size": 5_000}
        first = [record["Id"] for record in hook.iter_records("Contact", **read)]
        again = sum(1 for _ in hook.iter_records("Contact", **read))

    total = contacts.store.count("Contact")
    assert len(first) == len(set(first)) == again == total
    tops = [top for status, top in _contact_reads(contacts)]
    assert tops[0] == "5000" and set(tops[1:]) == {"2500"}  # the second read starts at the size that fitted
    assert [status for status, _ in _contact_reads(contacts)].count(500) == 1


def test_a_page_that_does_not_fit_even_at_the_floor_fails_naming_the_setting(
    contacts: Any, tmp_path: Path
) -> None:
    contacts.settings.max_read_memory_mb = 0.001
    operator = CreatioToObjectStorageOperator(
        task_id="extract", entity="Contact", select=SELECT, page_size=5_000, path=f"file://{tmp_path}/"
    )

    with pytest.raises(CreatioMemoryLimitError) as raised:
        operator.execute(context={})

    text = str(raised.value)
    assert SETTING in text and f"a page of {MIN_PAGE_SIZE} Contact records" in text
    assert "reached the RAM consumption limit of 0.001 MB" in text  # Creatio's words
    tops = [int(top) for _, top in _contact_reads(contacts)]
    assert tops == [5000, 2500, 1250, 625, 312, 156, 100]


@pytest.mark.usefixtures("triggerer_clock")
async def test_a_record_change_trigger_read_shrinks_its_page(
    creatio_connection: Any, caplog: pytest.LogCaptureFixture
) -> None:
    for number in range(2_000):
        creatio_connection.store.insert(
            "Case", {"Subject": f"case {number}", "ModifiedOn": "2031-02-01T00:00:00Z"}
        )
    with CreatioHook() as hook:
        limit = _limit_between(
            hook, "Case", ["Id", "ModifiedOn"], "ModifiedOn,Id", 500, "ModifiedOn ge 2031-01-01T00:00:00Z"
        )
    creatio_connection.settings.max_read_memory_mb = limit
    creatio_connection.state.log.clear()
    trigger = CreatioRecordChangeTrigger(
        entity="Case", since="2031-01-01T00:00:00Z", poll_interval=0.02, page_size=1_000, ids_limit=5_000
    )
    events = trigger.run()

    with caplog.at_level(logging.WARNING):
        payload = (await asyncio.wait_for(events.__anext__(), 30)).payload
    await events.aclose()

    assert payload["count"] == 2_000 and len(set(payload["ids"])) == 2_000
    reads = [
        (entry.status, parse_qs(entry.query)["$top"][0])
        for entry in creatio_connection.requests
        if entry.path.endswith("/Case") and "$top" in entry.query and "desc" not in entry.query
    ]
    assert reads[:2] == [(500, "1000"), (200, "500")]
    assert {top for _, top in reads[1:]} == {"500"}
    assert len(_ram_warnings(caplog)) == 1
