"""OpenLineage events of every kind of Creatio operator, and a DAG scheduled on a Creatio asset queued by a
writer's event, inside ``dag.test`` against the emulator.

The OpenLineage provider reads its configuration once per process (and registers its listener when Airflow's
plugins load), so the producer DAG runs in a child process with the file transport configured; it shares this
session's Airflow database and the emulator. Airflow 3.3 (make test; not make test-compat: Airflow 3.0's
dag.test registers no DAG, so no queue, and the OpenLineage provider is pinned for 3.3).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.assets import entity_uri, site_namespace

DAG_FILES = Path(__file__).parent / "dag_files"
PRODUCER = "test_lineage_producer"
CONSUMER = "test_lineage_consumer"
RUN_PRODUCER = """
import json, sys
from airflow_provider_creatio.testing.dagrun import run_dag
result = run_dag(sys.argv[1], sys.argv[2], run_conf=json.loads(sys.argv[3]))
with open(sys.argv[4], "w") as out:
    json.dump({"run_id": result.run_id, "task_states": result.task_states}, out)
"""


@pytest.fixture
def lineage_run(airflow_db: Path, creatio_connection: Any, tmp_path: Path) -> dict[str, Any]:
    """The producer run in a child process with OpenLineage on: its task states, events and requests."""
    events_file = tmp_path / "openlineage.jsonl"
    env = {
        **os.environ,
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FILES),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "creatio-tests",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
    }
    # The folder the consumer DAG mentions (tests/conftest.py), emptied.
    folder, result_file = Path(os.environ["CREATIO_LINEAGE_FOLDER"]), tmp_path / "run.json"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    conf = json.dumps({"folder": str(folder)})
    done = subprocess.run(
        [sys.executable, "-c", RUN_PRODUCER, str(DAG_FILES), PRODUCER, conf, str(result_file)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    run = json.loads(result_file.read_text())
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    return {**run, "events": events, "folder": folder, "emulator": creatio_connection}


def task_event(events: list[dict[str, Any]], task_id: str, event_type: str) -> dict[str, Any]:
    (event,) = [
        e for e in events if e["job"]["name"] == f"{PRODUCER}.{task_id}" and e["eventType"] == event_type
    ]
    return event


def datasets(event: dict[str, Any], side: str) -> list[tuple[str, str]]:
    return [(d["namespace"], d["name"]) for d in event[side]]


def rows(dataset: dict[str, Any]) -> tuple[int | None, int | None]:
    statistics = dataset.get("outputFacets", {}).get("outputStatistics", {})
    return statistics.get("rowCount"), statistics.get("fileCount")


def schema_fields(dataset: dict[str, Any]) -> dict[str, str]:
    return {
        field["name"]: field["type"]
        for field in dataset.get("facets", {}).get("schema", {}).get("fields", [])
    }


def queued_for(dag_id: str) -> list[str]:
    """The URIs of the assets whose events queued a run of ``dag_id``."""
    from airflow.models.asset import AssetDagRunQueue, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return list(
            session.scalars(
                select(AssetModel.uri)
                .join(AssetDagRunQueue, AssetDagRunQueue.asset_id == AssetModel.id)
                .where(AssetDagRunQueue.target_dag_id == dag_id)
            )
        )


def test_openlineage_events_and_the_asset_queue(lineage_run: dict[str, Any]) -> None:
    """One producer run (a child process costs Airflow's start-up) for three checks."""
    check_every_operator_reports_its_datasets(lineage_run)
    check_a_process_reports_its_entities_name_and_instance(lineage_run)
    # A writer's event queues the DAG scheduled on the asset.
    assert queued_for(CONSUMER) == [entity_uri(lineage_run["emulator"].url, "Contact")]


def check_every_operator_reports_its_datasets(lineage_run: dict[str, Any]) -> None:
    events, folder, emulator = lineage_run["events"], lineage_run["folder"], lineage_run["emulator"]
    site, _ = site_namespace(entity_uri(emulator.url, "Contact"))
    contact, account = (site, "Contact"), (site, "Account")
    assert lineage_run["task_states"]["bulk_fails"] == "failed"

    start = task_event(events, "create_contact", "START")
    assert (datasets(start, "inputs"), datasets(start, "outputs")) == ([], [contact])
    assert rows(start["outputs"][0]) == (None, None)
    created = task_event(events, "create_contact", "COMPLETE")
    assert datasets(created, "outputs") == [contact]
    assert rows(created["outputs"][0]) == (1, None)
    assert schema_fields(created["outputs"][0]) == {}  # no column check: the task read no schema

    upserted = task_event(events, "upsert_templated", "COMPLETE")
    assert datasets(upserted, "outputs") == [account]  # the rendered entity

    read = task_event(events, "get_contact", "COMPLETE")
    assert (datasets(read, "inputs"), datasets(read, "outputs")) == ([contact], [])
    fields = schema_fields(read["inputs"][0])  # check_columns read the schema anyway
    assert fields["Id"] == "Edm.Guid" and fields["Name"] == "Edm.String" and "Email" in fields

    queried = task_event(events, "query_contacts", "COMPLETE")
    assert datasets(queried, "inputs") == [contact]
    assert datasets(queried, "outputs") == [("file", f"{folder}/query/contacts.jsonl")]
    assert rows(queried["outputs"][0]) == (1, 1)

    extracted = task_event(events, "extract_contacts", "COMPLETE")
    assert datasets(extracted, "inputs") == [contact]
    assert schema_fields(extracted["inputs"][0])["Email"] == "Edm.String"  # CSV columns come from the schema
    assert datasets(extracted, "outputs") == [("file", f"{folder}/extract")]
    assert rows(extracted["outputs"][0]) == (1, 1)

    loaded = task_event(events, "load_contacts", "COMPLETE")
    assert datasets(loaded, "inputs") == [("file", f"{folder}/extract/part-00000.csv")]
    assert datasets(loaded, "outputs") == [contact]
    assert rows(loaded["outputs"][0]) == (1, None)
    assert "Name" in schema_fields(loaded["outputs"][0])

    failed = task_event(events, "bulk_fails", "FAIL")
    assert datasets(failed, "outputs") == [contact]
    assert rows(failed["outputs"][0]) == (0, None)  # nothing written before the failure

    # Lineage costs no request: $metadata was read only by the tasks that check columns or type CSV cells (not
    # bulk_fails, whose check is off so that Creatio itself refuses its record).
    assert emulator.count("GET", "/$metadata") == 3


def check_a_process_reports_its_entities_name_and_instance(lineage_run: dict[str, Any]) -> None:
    events, emulator = lineage_run["events"], lineage_run["emulator"]
    site, _ = site_namespace(entity_uri(emulator.url, "Contact"))
    start = task_event(events, "process_writes", "START")
    assert start["run"]["facets"]["creatio_process"]["processName"] == "UsrCreateContactProcess"
    assert start["run"]["facets"]["creatio_process"].get("processId") is None

    done = task_event(events, "process_writes", "COMPLETE")
    assert datasets(done, "inputs") == [(site, "Account")]
    assert datasets(done, "outputs") == [(site, "Contact"), (site, "Account")]
    facet = done["run"]["facets"]["creatio_process"]
    assert facet["processName"] == "UsrCreateContactProcess"
    assert facet["status"] == "Completed"
    assert str(uuid.UUID(facet["processId"])) == facet["processId"]
    assert facet["processId"] in facet["logUrl"]


def test_importing_the_operators_imports_no_openlineage() -> None:
    code = """
import sys
import airflow.sdk
from airflow.sdk import BaseOperator
before = {m for m in sys.modules if "openlineage" in m}
import airflow_provider_creatio.operators.entity, airflow_provider_creatio.operators.process
import airflow_provider_creatio.transfers.creatio_to_object_storage
import airflow_provider_creatio.transfers.object_storage_to_creatio
import airflow_provider_creatio.get_provider_info, airflow_provider_creatio.assets
print(sorted({m for m in sys.modules if "openlineage" in m} - before))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
