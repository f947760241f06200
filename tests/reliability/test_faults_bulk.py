"""A 1,000-record bulk upsert under a 10% rate of mixed transient faults, on one lane and on four, and a
3,000-record load on four: exactly every record, no duplicates, no lost updates, a report line each. And the
seeded fault sequence is reproducible."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_creatio import formats
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.testing.connection import connection_json
from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_creatio.transfers.object_storage_to_creatio import ObjectStorageToCreatioOperator

MIXED_10_PERCENT = {
    "seed": 20261124,
    "rates": {
        "502": 0.02,
        "503": 0.02,
        "504": 0.015,
        "429": 0.015,
        "drop_before": 0.015,
        "drop_after": 0.015,
    },
    "retry_after": 0.001,
}
ENTITY = "UsrLoadTarget"


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    settings = EmulatorSettings(custom_entities={ENTITY: {"Name": "text", "Version": "int"}})
    with EmulatorServer(settings) as emulator:
        yield emulator


@pytest.mark.parametrize("concurrency", [1, 4])
def test_bulk_upsert_of_1000_records_under_faults(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch, concurrency: int
) -> None:
    ids = [str(uuid.UUID(int=i + 1)) for i in range(1000)]
    for record_id in ids[::2]:  # half exist already, with an old version: upsert must update them
        server.store.insert(ENTITY, {"Id": record_id, "Name": "old", "Version": 1})
    monkeypatch.setenv(
        "AIRFLOW_CONN_CREATIO_DEFAULT",
        connection_json(server.url, retry_attempts=10, backoff_initial=0.001, backoff_max=0.01),
    )
    server.settings.faults = MIXED_10_PERCENT
    records = [{"Id": record_id, "Name": f"record {i}", "Version": 2} for i, record_id in enumerate(ids)]
    with CreatioHook() as hook:
        # Batches of 20 make about 55 requests (1 lookup, 50 write batches, retries), so that a 10% rate
        # injects a handful of faults; batches of 100 would make only a dozen.
        report = hook.bulk_records("upsert", ENTITY, records, batch_size=20, concurrency=concurrency)
    server.settings.faults = {}
    injected = server.state.chaos.counts
    assert sum(injected.values()) >= 3, f"too few faults to mean anything: {injected}"
    assert not report.tally().failed, report.tally().describe_failures()
    rows = server.store.rows(ENTITY)
    assert len(rows) == 1000
    assert len({row["Id"] for row in rows}) == 1000
    by_id = {row["Id"]: row for row in rows}
    assert all(by_id[r["Id"]]["Name"] == r["Name"] and by_id[r["Id"]]["Version"] == 2 for r in records)


def test_a_load_on_four_lanes_under_faults_writes_every_record_once(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ids = [str(uuid.UUID(int=i + 1)) for i in range(3000)]
    for record_id in ids[::2]:
        server.store.insert(ENTITY, {"Id": record_id, "Name": "old", "Version": 1})
    records = [{"Id": record_id, "Name": f"record {i}", "Version": 2} for i, record_id in enumerate(ids)]
    source = f"file://{tmp_path}/in.jsonl"
    with formats.open_writer(source, formats.FileFormat.JSONL) as writer:
        writer.write_all(records)
    monkeypatch.setenv(
        "AIRFLOW_CONN_CREATIO_DEFAULT",
        connection_json(server.url, retry_attempts=10, backoff_initial=0.001, backoff_max=0.01),
    )
    server.settings.faults = MIXED_10_PERCENT
    operator = ObjectStorageToCreatioOperator(
        task_id="load", entity=ENTITY, source=source, operation="upsert", batch_size=50, concurrency=4
    )
    value = operator.execute(context={"ti": None})  # type: ignore[arg-type]
    server.settings.faults = {}
    injected = server.state.chaos.counts
    assert sum(injected.values()) >= 3, f"too few faults to mean anything: {injected}"
    assert (value["count"], value["failed"]) == (3000, 0)
    report = list(formats.read_records(f"{source}.report.jsonl", "jsonl"))
    assert [(line["index"], line["Id"], line["ok"]) for line in report] == [
        (i, ids[i], True) for i in range(3000)
    ]
    rows = server.store.rows(ENTITY)
    assert len(rows) == len({row["Id"] for row in rows}) == 3000
    by_id = {row["Id"]: row for row in rows}
    assert all(by_id[r["Id"]]["Name"] == r["Name"] and by_id[r["Id"]]["Version"] == 2 for r in records)


def test_faults_are_reproducible_from_the_seed(server: EmulatorServer) -> None:
    plan = server.state.chaos

    def sequence() -> list[str | None]:
        plan.configure(MIXED_10_PERCENT)
        return [plan.draw("GET", "/0/odata/Contact").kind for _ in range(500)]

    first, second = sequence(), sequence()
    assert first == second
    assert 30 <= sum(kind is not None for kind in first) <= 70  # about 10% of 500
