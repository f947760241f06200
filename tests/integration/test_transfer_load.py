"""ObjectStorageToCreatioOperator against the emulator, with files on file:// and on a real S3-compatible server
(moto's server mode): request counts from the emulator's log, round trips, outcome reports, refusals."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio import formats
from airflow_provider_creatio._compat import AirflowException
from airflow_provider_creatio.client.errors import CreatioUnknownColumnError
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.entity import CreatioQueryEntitiesOperator
from airflow_provider_creatio.testing.connection import emulator_connection_json
from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_creatio.testing.emulator.seed import API_ACCOUNT_ID
from airflow_provider_creatio.testing.example_site import CUSTOM_ENTITIES
from airflow_provider_creatio.transfers.object_storage_to_creatio import ObjectStorageToCreatioOperator

ENTITY = "UsrContactCopy"
NAMESPACE = uuid.UUID("0d7e3c52-5b8e-4f0a-9d3c-2a1b4c5d6e7f")
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
COLUMNS = ["Id", "Name", "Email", "Phone", "JobTitle", "AccountId", "SourceModifiedOn"]


class FakeTI:
    """The one piece of the task context the operator uses: pushing its report when it fails."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


@pytest.fixture(scope="module")
def site() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorSettings(custom_entities=CUSTOM_ENTITIES)) as server:
        yield server


@pytest.fixture
def emulator(site: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    site.reset()
    monkeypatch.setenv("AIRFLOW_CONN_CREATIO_DEFAULT", emulator_connection_json(site))
    return site


@pytest.fixture(params=["file", "s3"])
def storage_root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A folder on the local disk (file://) or a bucket on the S3 server."""
    if request.param == "file":
        return f"file://{tmp_path}"
    return str(request.getfixturevalue("s3_bucket"))


def copy_id(number: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"copy-{number}"))


def copy_record(number: int) -> dict[str, Any]:
    """A UsrContactCopy row with every kind of value the entity holds: unicode, quotes, commas and newlines in
    text, empty text, a set and an empty lookup, a date with seven fraction digits and no date."""
    return {
        "Id": copy_id(number),
        "Name": f'Zoë "{number}", Ōsaka\nline two' if number % 7 == 0 else f"Contact {number}",
        "Email": f"c{number}@example.com" if number % 5 else "",
        "Phone": f"+1555{number:07d}",
        "JobTitle": "" if number % 3 else "Ingénieur, R&D",
        "AccountId": ZERO_GUID if number % 2 else API_ACCOUNT_ID,
        "SourceModifiedOn": None if number % 4 == 0 else f"2026-11-{1 + number % 28:02d}T10:20:30.1234567Z",
    }


def write_input(uri: str, records: Any, file_format: str) -> None:
    kinds = formats.kinds_for_entity(schema_of(ENTITY), COLUMNS) if file_format != "jsonl" else None
    with formats.open_writer(uri, file_format, kinds=kinds) as writer:
        writer.write_all(records)


def schema_of(entity: str) -> Any:
    with CreatioHook() as hook:
        return hook.get_entity_schema(entity)


def load(**kwargs: Any) -> tuple[dict[str, Any], FakeTI]:
    ti = FakeTI()
    operator = ObjectStorageToCreatioOperator(task_id="load", entity=ENTITY, **kwargs)
    return operator.execute({"ti": ti}), ti  # type: ignore[arg-type]


def stored(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return sorted(
        ({name: row[name] for name in COLUMNS} for row in emulator.store.rows(ENTITY)), key=lambda r: r["Id"]
    )


def report_lines(uri: str) -> list[dict[str, Any]]:
    return list(formats.read_records(uri, "jsonl"))


def test_a_load_of_25000_records_takes_one_login_one_schema_read_and_a_batch_per_100(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    total = 25_000
    source = f"file://{tmp_path}/contacts.jsonl"
    write_input(source, (copy_record(n) for n in range(total)), "jsonl")
    emulator.state.log.clear()

    result, _ = load(source=source, operation="create")

    assert emulator.state.log.login_count == 1
    assert emulator.count("GET", "$metadata") == 1
    assert emulator.count("POST", "/$batch") == math.ceil(total / 100) == result["batch_calls"]
    assert emulator.count() == 1 + 1 + 250 + emulator.count(path_contains="Logout")
    assert (result["count"], result["succeeded"], result["failed"]) == (total, total, 0)
    assert result["actions"] == {"created": total}
    assert emulator.store.count(ENTITY) == total
    report = f"{source}.report.jsonl"
    assert result["files"] == [{"uri": source, "report": report, "count": total, "failed": 0}]
    lines = report_lines(report)
    assert [line["index"] for line in lines] == list(range(total))
    assert {line["Id"] for line in lines} == {copy_id(n) for n in range(total)}
    assert all(line["ok"] and line["action"] == "created" for line in lines)


def test_an_upsert_of_25000_records_from_parquet_on_s3_adds_one_lookup_per_2000(
    emulator: EmulatorServer, s3_bucket: str
) -> None:
    total = 25_000
    for number in range(0, total, 2):  # half exist, with old values
        emulator.store.insert(ENTITY, {**copy_record(number), "Name": "old"})
    source = f"{s3_bucket}/in/contacts.parquet"
    write_input(source, (copy_record(n) for n in range(total)), "parquet")
    emulator.state.log.clear()

    result, _ = load(source=source, operation="upsert")

    lookups = math.ceil(total / 2_000)  # 100 GETs of 20 Ids (Creatio's 100 $filter nodes) per lookup batch
    assert emulator.state.log.login_count == 1
    assert emulator.count("GET", "$metadata") == 1
    assert emulator.count("POST", "/$batch") == math.ceil(total / 100) + lookups == result["batch_calls"]
    assert result["actions"] == {"created": total // 2, "updated": total // 2}
    assert stored(emulator) == sorted((copy_record(n) for n in range(total)), key=lambda r: r["Id"])
    lines = report_lines(result["files"][0]["report"])
    assert result["files"][0]["report"] == f"{source}.report.jsonl"
    assert [line["action"] for line in lines[:4]] == ["updated", "created", "updated", "created"]
    assert len(lines) == total


@pytest.mark.parametrize("file_format", ["jsonl", "csv", "parquet"])
def test_extract_then_load_gives_back_every_value_unchanged(
    emulator: EmulatorServer, storage_root: str, file_format: str
) -> None:
    for number in range(1000):
        emulator.store.insert(ENTITY, copy_record(number))
    with CreatioHook() as hook:
        extracted = list(hook.iter_records(ENTITY, select=COLUMNS, page_size=500))
    assert len(extracted) == 1000
    source = f"{storage_root}/extract/part-0.{file_format}"
    write_input(source, extracted, file_format)
    emulator.reset()

    result, _ = load(source=source, operation="create")

    assert result["succeeded"] == 1000
    with CreatioHook() as hook:
        reloaded = list(hook.iter_records(ENTITY, select=COLUMNS, page_size=500))
    assert sorted(reloaded, key=lambda r: r["Id"]) == sorted(extracted, key=lambda r: r["Id"])


def test_a_folder_or_a_glob_loads_every_file_once_and_never_a_report(
    emulator: EmulatorServer, storage_root: str
) -> None:
    write_input(f"{storage_root}/in/a.csv", (copy_record(n) for n in range(0, 150)), "csv")
    write_input(f"{storage_root}/in/b.jsonl", (copy_record(n) for n in range(150, 200)), "jsonl")
    write_input(f"{storage_root}/in/_SUCCESS.jsonl", [copy_record(999)], "jsonl")
    write_input(f"{storage_root}/in/older/c.jsonl", [copy_record(998)], "jsonl")  # not directly in the folder

    first, _ = load(source=f"{storage_root}/in", operation="upsert")
    again, _ = load(source=f"{storage_root}/in/*", operation="upsert")  # the reports are there now

    assert [(item["uri"].rsplit("/", 1)[1], item["count"]) for item in first["files"]] == [
        ("a.csv", 150),
        ("b.jsonl", 50),
    ]
    assert again["files"] == first["files"]
    assert again["actions"] == {"updated": 200}
    assert emulator.store.count(ENTITY) == 200

    listed, _ = load(
        source=[f"{storage_root}/in/b.jsonl", f"{storage_root}/in/*.csv", f"{storage_root}/in/"],
        operation="upsert",
    )
    assert [item["uri"].rsplit("/", 1)[1] for item in listed["files"]] == ["b.jsonl", "a.csv"]


def test_failed_records_fail_the_task_after_every_record_was_tried_and_the_report_says_why(
    emulator: EmulatorServer, storage_root: str
) -> None:
    records = [copy_record(n) for n in range(300)]
    records[120]["AccountId"] = "not a guid"  # refused by the bulk flow before sending
    records[250]["SourceModifiedOn"] = "yesterday"  # refused by Creatio
    source = f"{storage_root}/bad.jsonl"
    write_input(source, records, "jsonl")

    with pytest.raises(AirflowException, match=r"2 of 300 records failed") as failure:
        load(source=source, operation="create")

    assert "record #120" in str(failure.value)
    assert "record #250" in str(failure.value)
    assert emulator.store.count(ENTITY) == 298
    lines = report_lines(f"{source}.report.jsonl")
    failed = [line for line in lines if not line["ok"]]
    assert [(line["index"], line["action"]) for line in failed] == [(120, "failed"), (250, "failed")]
    assert failed[1]["status"] == 400 and failed[1]["error"]

    emulator.reset()
    result, _ = load(source=source, operation="create", allow_partial=True)
    assert (result["succeeded"], result["failed"], result["files"][0]["failed"]) == (298, 2, 2)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_without_continue_on_error_the_first_failure_stops_the_load_and_the_rest_is_skipped(
    emulator: EmulatorServer, tmp_path: Path, concurrency: int
) -> None:
    records = [copy_record(n) for n in range(20_500)]
    records[150]["SourceModifiedOn"] = "yesterday"
    source = f"file://{tmp_path}/stop.jsonl"
    write_input(source, records, "jsonl")
    emulator.state.log.clear()

    result, _ = load(
        source=source,
        operation="create",
        continue_on_error=False,
        allow_partial=True,
        concurrency=concurrency,
    )

    sent = emulator.count("POST", "/$batch")
    # The second batch failed. One after the other nothing follows it; with lanes, at most the batches already
    # in flight beside it (concurrency - 1) were sent, and no batch started after it failed.
    assert sent == 2 if concurrency == 1 else 2 <= sent <= 1 + concurrency
    created = 100 * (sent - 1) + 50
    assert result["actions"] == {"created": created, "failed": 1, "skipped": 20_499 - created}
    assert result["batch_calls"] == sent
    assert emulator.store.count(ENTITY) == created
    lines = report_lines(f"{source}.report.jsonl")
    assert [line["index"] for line in lines] == list(range(20_500))
    in_flight = ["created"] * 100 * (sent - 2)
    unsent = ["skipped"] * (20_500 - 100 * sent)
    failed_batch = ["created"] * 50 + ["failed"] + ["skipped"] * 49
    assert [line["action"] for line in lines] == ["created"] * 100 + failed_batch + in_flight + unsent


def test_an_unknown_column_is_refused_before_anything_is_written(
    emulator: EmulatorServer, storage_root: str
) -> None:
    header_typo = f"{storage_root}/typo.csv"
    with formats.open_writer(header_typo) as writer:
        writer.write({"Id": copy_id(1), "Nmae": "A"})
    last_line_typo = f"{storage_root}/typo-late.jsonl"
    write_input(
        last_line_typo, [copy_record(n) for n in range(10)] + [{"Id": copy_id(11), "Emial": "x"}], "jsonl"
    )
    emulator.state.log.clear()

    with pytest.raises(CreatioUnknownColumnError, match="Nmae"):
        load(source=header_typo, operation="create")
    with pytest.raises(CreatioUnknownColumnError, match="Emial"):
        load(source=last_line_typo, operation="create")
    assert emulator.count("POST", "/$batch") == 0
    assert emulator.store.count(ENTITY) == 0


def test_no_input_files_fail_the_task(emulator: EmulatorServer, storage_root: str) -> None:
    with pytest.raises(AirflowException, match="no input files"):
        load(source=f"{storage_root}/nothing/*.csv", operation="create")
    with pytest.raises(AirflowException, match=r"no such file: .*/missing\.csv"):
        load(source=f"{storage_root}/missing.csv", operation="create")
    with pytest.raises(AirflowException, match="no source given"):
        load(source=[], operation="create")


def test_the_query_operator_writes_its_output_to_object_storage(
    emulator: EmulatorServer, s3_bucket: str
) -> None:
    for number in range(1200):
        emulator.store.insert(ENTITY, copy_record(number))
    target = f"{s3_bucket}/exports/copies.jsonl"

    result = CreatioQueryEntitiesOperator(
        task_id="q", entity=ENTITY, select=COLUMNS, page_size=500, output_path=target
    ).execute(context={})  # type: ignore[arg-type]

    assert result == {"path": target, "count": 1200, "api_calls": result["api_calls"]}
    written = sorted(formats.read_records(target), key=lambda record: record["Id"])
    assert written == sorted((copy_record(n) for n in range(1200)), key=lambda record: record["Id"])
