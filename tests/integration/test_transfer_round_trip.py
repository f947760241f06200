"""Acceptance: 25,000 records extracted from Creatio into files (file:// and a real S3-compatible server; JSON
Lines, CSV and Parquet), then loaded back, come back with every value equal; the extract never used $skip."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.testing.connection import emulator_connection_json
from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_creatio.testing.emulator.seed import API_ACCOUNT_ID
from airflow_provider_creatio.testing.example_site import CUSTOM_ENTITIES
from airflow_provider_creatio.transfers.creatio_to_object_storage import CreatioToObjectStorageOperator
from airflow_provider_creatio.transfers.object_storage_to_creatio import ObjectStorageToCreatioOperator

ENTITY = "UsrContactCopy"
TOTAL = 25_000
COLUMNS = ["Id", "Name", "Email", "Phone", "JobTitle", "AccountId", "SourceModifiedOn"]
NAMESPACE = uuid.UUID("7b0f3f1e-5a43-4c55-8d9e-1f2a3b4c5d6e")
ZERO_GUID = "00000000-0000-0000-0000-000000000000"


def source_record(number: int) -> dict[str, Any]:
    """Every kind of value the entity holds: unicode, quotes, commas and newlines, empty text, a set and an empty
    lookup, seven fraction digits and an empty date."""
    return {
        "Id": str(uuid.uuid5(NAMESPACE, str(number))),
        "Name": f'Zoë "{number}", Ōsaka\nline two' if number % 7 == 0 else f"Contact {number}",
        "Email": "" if number % 5 == 0 else f"c{number}@example.com",
        "Phone": f"+1555{number:07d}",
        "JobTitle": "Ingénieur, R&D" if number % 3 == 0 else "",
        "AccountId": API_ACCOUNT_ID if number % 2 else ZERO_GUID,
        "SourceModifiedOn": None if number % 4 == 0 else f"2026-11-{1 + number % 28:02d}T10:20:30.1234567Z",
    }


@pytest.fixture(scope="module")
def site() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorSettings(custom_entities=CUSTOM_ENTITIES)) as server:
        yield server


@pytest.fixture(params=["file", "s3"])
def storage_root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "file":
        return f"file://{tmp_path}"
    return str(request.getfixturevalue("s3_bucket"))


def rows(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return sorted(({name: row[name] for name in COLUMNS} for row in emulator.store.rows(ENTITY)), key=str)


@pytest.mark.parametrize("file_format", ["jsonl", "csv", "parquet"])
def test_25000_records_round_trip_with_every_value_equal(
    site: EmulatorServer, monkeypatch: pytest.MonkeyPatch, storage_root: str, file_format: str
) -> None:
    site.reset()
    monkeypatch.setenv("AIRFLOW_CONN_CREATIO_DEFAULT", emulator_connection_json(site))
    with site.store.lock:
        for number in range(TOTAL):
            site.store.insert(ENTITY, source_record(number))
    before = rows(site)
    site.state.log.clear()

    extracted = CreatioToObjectStorageOperator(
        task_id="extract",
        entity=ENTITY,
        select=COLUMNS,
        path=f"{storage_root}/copies/",
        format=file_format,
        max_records_per_file=10_000,
    ).execute(context={})
    extract_reads = [entry for entry in site.requests if entry.path.endswith(f"/{ENTITY}")]
    with site.store.lock:
        for row in before:
            site.store.delete(ENTITY, row["Id"])
    loaded = ObjectStorageToCreatioOperator(
        task_id="load", entity=ENTITY, source=f"{storage_root}/copies/", operation="create"
    ).execute(context={})

    assert extracted["count"] == TOTAL and len(extracted["uris"]) == 3
    assert all("$skip" not in entry.query for entry in extract_reads)
    assert sum(entry.rows_read for entry in extract_reads) <= 1.05 * TOTAL
    assert (loaded["count"], loaded["failed"]) == (TOTAL, 0)
    assert rows(site) == before
