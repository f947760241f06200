"""Bulk writes and loads on several lanes, against the emulator's server model (a pool of workers, work per written
record, a session mode): the same outcomes, reports and records as one lane; as many requests at once as lanes,
never more; one session shared on a nonblocking site, a session per lane on a blocking one. Behaviour, not time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio import formats
from airflow_provider_creatio._compat import AirflowException
from airflow_provider_creatio.client.errors import CreatioConfigError, CreatioError, CreatioValidationError
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.entity import CreatioBulkEntityOperator
from airflow_provider_creatio.testing.connection import emulator_connection_json
from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_creatio.transfers.object_storage_to_creatio import ObjectStorageToCreatioOperator

ENTITY = "UsrLaneTarget"
RECORDS = 1_200  # 12 batches of 100: enough for four lanes to overlap several times
# Small work per written record keeps a batch on a worker for 0.2 s: lanes overlap, the tests stay fast.
SERVER_MODEL = {"server_workers": 8, "server_write_work_per_record": 0.002}


class FakeTI:
    def xcom_push(self, key: str, value: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[EmulatorServer]:
    settings = EmulatorSettings(custom_entities={ENTITY: {"Name": "text", "Version": "int"}}, **SERVER_MODEL)
    with EmulatorServer(settings) as server:
        yield server


@pytest.fixture
def emulator(site: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    site.reset()
    monkeypatch.setenv("AIRFLOW_CONN_CREATIO_DEFAULT", emulator_connection_json(site))
    yield site
    site.settings.session_mode = "nonblocking"
    site.settings.faults = {}


def record_id(number: int) -> str:
    return str(uuid.UUID(int=number + 1))


def records(count: int = RECORDS) -> list[dict[str, Any]]:
    return [{"Id": record_id(n), "Name": f"record {n}", "Version": 2} for n in range(count)]


def seed_half(emulator: EmulatorServer, count: int = RECORDS) -> None:
    """Every other record exists already, with an old version: an upsert updates those and creates the rest."""
    for n in range(0, count, 2):
        emulator.store.insert(ENTITY, {"Id": record_id(n), "Name": "old", "Version": 1})


def stored(emulator: EmulatorServer) -> list[tuple[str, str, int]]:
    return sorted((row["Id"], row["Name"], row["Version"]) for row in emulator.store.rows(ENTITY))


def bulk(emulator: EmulatorServer, operation: str, concurrency: int, **kwargs: Any) -> dict[str, Any]:
    """Run the bulk operator; its XCom value (with every outcome) and what the site saw."""
    emulator.reset()
    if operation == "upsert":
        seed_half(emulator)
    value = CreatioBulkEntityOperator(
        task_id="bulk",
        entity=ENTITY,
        operation=operation,
        records=records(),
        concurrency=concurrency,
        **kwargs,
    ).execute(context={"ti": FakeTI()})
    return {
        "value": value,
        "stats": emulator.stats(),
        "rows": stored(emulator),
        "logins": emulator.login_count,
    }


@pytest.mark.parametrize("operation", ["create", "upsert"])
def test_four_lanes_write_as_one_does_with_up_to_four_batches_at_once(
    emulator: EmulatorServer, operation: str
) -> None:
    one, four = bulk(emulator, operation, 1), bulk(emulator, operation, 4)

    assert four["value"] == one["value"]  # every outcome, in input order, and the batch count
    assert four["rows"] == one["rows"] and len(one["rows"]) == RECORDS
    assert one["value"]["batch_calls"] == 12 + (operation == "upsert")  # the lookup, then the writes
    assert one["stats"]["server"]["peak_concurrency"] == 1
    # Four at most (the lanes bound every request, the lookup too); a busy machine may overlap fewer.
    assert 2 <= four["stats"]["server"]["peak_concurrency"] <= 4
    for run in (one, four):  # the lower bound: one login, the schema read, the batches; nothing more
        assert run["logins"] == 1
        assert run["stats"]["requests"] == 1 + 1 + run["value"]["batch_calls"] + 1  # and the logout


def test_nonblocking_lanes_share_the_tasks_one_session(emulator: EmulatorServer) -> None:
    run = bulk(emulator, "create", 4, session_mode="nonblocking")
    server = run["stats"]["server"]
    assert run["logins"] == 1
    assert server["peak_session_concurrency"] == server["peak_concurrency"] >= 2


def test_blocking_lanes_log_in_once_each_and_never_share_a_session(emulator: EmulatorServer) -> None:
    emulator.settings.session_mode = "blocking"
    run = bulk(emulator, "upsert", 4, session_mode="blocking")
    server = run["stats"]["server"]
    assert server["peak_session_concurrency"] == 1
    assert 2 <= server["peak_concurrency"] <= 4
    assert 2 <= run["logins"] <= 4  # one per lane used, at most one per lane
    assert run["value"]["actions"] == {"created": RECORDS // 2, "updated": RECORDS // 2}


def test_the_session_mode_comes_from_the_connection_unless_the_task_says(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.settings.session_mode = "blocking"
    blocking = emulator_connection_json(emulator, session_mode="blocking")
    monkeypatch.setenv("AIRFLOW_CONN_CREATIO_DEFAULT", blocking)
    by_connection = bulk(emulator, "create", 4)
    assert by_connection["stats"]["server"]["peak_session_concurrency"] == 1
    assert by_connection["logins"] >= 2

    overridden = bulk(emulator, "create", 4, session_mode="nonblocking")
    assert overridden["logins"] == 1  # one session: on this blocking site its requests wait for each other
    assert overridden["rows"] == by_connection["rows"]


def test_an_oauth_lane_in_blocking_mode_gets_a_token_of_its_own(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.settings.session_mode = "blocking"
    monkeypatch.setenv("AIRFLOW_CONN_CREATIO_DEFAULT", emulator_connection_json(emulator, "oauth"))
    with CreatioHook() as hook:
        report = hook.bulk_records("create", ENTITY, records(), concurrency=4, session_mode="blocking")
    assert not report.tally().failed
    assert emulator.stats()["server"]["peak_session_concurrency"] == 1  # a token is a session
    assert 2 <= emulator.token_request_count <= 4


def test_an_expired_session_is_renewed_once_for_every_lane_sharing_it(emulator: EmulatorServer) -> None:
    # Every session ends at the 5th $batch, while the other lanes' batches are in flight on the same session.
    emulator.settings.faults = {"expire_every": 5, "limit": 1, "path_regex": r"\$batch"}
    with CreatioHook() as hook:
        report = hook.bulk_records("create", ENTITY, records(), concurrency=4)
        assert hook.client.login_count == 2
    assert emulator.state.chaos.counts == {"expire": 1}
    assert not report.tally().failed and len(stored(emulator)) == RECORDS


def test_a_lanes_error_is_raised_and_no_batch_starts_after_it(emulator: EmulatorServer) -> None:
    # The first $batch the site serves is answered 500, which is not retried: the run ends with that error.
    emulator.settings.faults = {"rates": {"500": 1.0}, "limit": 1, "path_regex": r"\$batch"}
    with CreatioHook() as hook, pytest.raises(CreatioError, match="500"):
        hook.bulk_records("create", ENTITY, records(), concurrency=4)
    # Only the batches in flight beside the failed one were sent, none after it.
    assert emulator.count("POST", "/$batch") <= 4
    assert len(stored(emulator)) <= 300


def test_arguments_are_checked_before_anything_is_sent(emulator: EmulatorServer) -> None:
    with CreatioHook() as hook:
        with pytest.raises(CreatioValidationError, match="between 1 and 16"):
            hook.bulk_records("create", ENTITY, records(1), concurrency=17)
        with pytest.raises(CreatioConfigError, match="nonblocking or blocking"):
            hook.bulk_records("create", ENTITY, records(1), session_mode="serial")
    assert emulator.count("POST", "/$batch") == 0


def load(source: str, operation: str, concurrency: int) -> dict[str, Any]:
    operator = ObjectStorageToCreatioOperator(
        task_id="load", entity=ENTITY, source=source, operation=operation, concurrency=str(concurrency)
    )
    value: dict[str, Any] = operator.execute(context={"ti": FakeTI()})
    return value


@pytest.mark.parametrize("operation", ["create", "upsert"])
def test_a_load_on_four_lanes_writes_the_reports_and_records_of_one_lane(
    emulator: EmulatorServer, tmp_path: Path, operation: str
) -> None:
    count = 4_500  # three chunks of 2,000 (and so three lookups), the last one short
    rows = records(count)
    rows[2_345]["Version"] = "not a number"  # one record Creatio refuses, mid-stream
    source = f"file://{tmp_path}/in.jsonl"
    with formats.open_writer(source, formats.FileFormat.JSONL) as writer:
        writer.write_all(rows)
    results = {}
    for concurrency in (1, 4):
        emulator.reset()
        if operation == "upsert":
            seed_half(emulator, count)
        with pytest.raises(AirflowException, match="1 of 4500 records failed"):
            load(source, operation, concurrency)
        report = list(formats.read_records(f"{source}.report.jsonl", "jsonl"))
        results[concurrency] = (report, stored(emulator), emulator.stats())
    (report_one, rows_one, _), (report_four, rows_four, stats_four) = results[1], results[4]
    assert report_four == report_one and [line["index"] for line in report_one] == list(range(count))
    assert [line["index"] for line in report_one if not line["ok"]] == [2_345]
    assert rows_four == rows_one and len(rows_one) == count - 1
    assert 2 <= stats_four["server"]["peak_concurrency"] <= 4
    assert emulator.login_count == 1
