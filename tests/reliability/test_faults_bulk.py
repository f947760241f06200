"""A 1,000-record bulk upsert under a 10% rate of mixed transient faults: exactly 1,000 records, no duplicates,
no lost updates. And the seeded fault sequence is reproducible."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.testing.connection import connection_json
from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings

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


def test_bulk_upsert_of_1000_records_under_faults(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
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
        report = hook.bulk_records("upsert", ENTITY, records, batch_size=20)
    server.settings.faults = {}
    injected = server.state.chaos.counts
    assert sum(injected.values()) >= 3, f"too few faults to mean anything: {injected}"
    assert not report.tally().failed, report.tally().describe_failures()
    rows = server.store.rows(ENTITY)
    assert len(rows) == 1000
    assert len({row["Id"] for row in rows}) == 1000
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
