"""Assets inside ``dag.test`` against the emulator: writers record an event on the ``creatio://`` asset (and the
files) they wrote when a DAG mentions it; readers, failed and fire-and-forget tasks emit nothing (on every
Airflow minor: make test-compat runs this file). That a DAG scheduled on the asset is queued by such an event is
in test_openlineage_dags.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.assets import entity_uri
from airflow_provider_creatio.testing.dagrun import DagRunResult, run_dag

DAG_FILES = Path(__file__).parent / "dag_files"
PRODUCER = "test_lineage_producer"


@pytest.fixture
def lineage_dags(airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from airflow import settings

    monkeypatch.setattr(settings, "DAGS_FOLDER", str(DAG_FILES))
    return DAG_FILES


@pytest.fixture
def files() -> Path:
    """The producer's folder, the one the consumer DAG mentions (tests/conftest.py), emptied."""
    folder = Path(os.environ["CREATIO_LINEAGE_FOLDER"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


def dag_test_knows_the_files_assets() -> bool:
    """Whether ``dag.test`` stores the DAG file's DAGs, and so the assets they mention (Airflow 3.1+); Airflow
    3.0's stores none, so there no asset is known and no task records an event."""
    from airflow import __version__

    return tuple(int(part) for part in __version__.split(".")[:2]) >= (3, 1)


def asset_events(run_id: str) -> list[tuple[str, str, dict[str, Any], list[str]]]:
    """(task, asset URI, event extra, source aliases) of every asset event the producer's run emitted."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetEvent, AssetModel.uri)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_dag_id == PRODUCER, AssetEvent.source_run_id == run_id)
        ).all()
        return sorted(
            (event.source_task_id, uri, dict(event.extra or {}), sorted(a.name for a in event.source_aliases))
            for event, uri in rows
        )


def test_writers_record_events_on_the_assets_a_dag_mentions(
    lineage_dags: Path, creatio_connection: Any, files: Path
) -> None:
    emulator = creatio_connection
    contact = entity_uri(emulator.url, "Contact")
    account = entity_uri(emulator.url, "Account")
    result: DagRunResult = run_dag(lineage_dags, PRODUCER, run_conf={"folder": str(files)})

    states = result.task_states
    assert states.pop("bulk_fails") == "failed"
    assert set(states.values()) == {"success"}, states
    process = {"process": "UsrCreateContactProcess"}
    expected = [
        ("create_contact", contact, {"records": 1}, []),
        ("extract_contacts", f"file://{files}/extract", {"files": 1, "records": 1}, []),
        ("load_contacts", contact, {"records": 1}, []),
        ("process_writes", account, process, []),
        ("process_writes", contact, process, []),
        ("query_contacts", f"file://{files}/query/contacts.jsonl", {"records": 1}, []),
        ("upsert_templated", account, {"records": 1}, []),
    ]
    assert asset_events(result.run_id) == (expected if dag_test_knows_the_files_assets() else [])
    # Readers (get, query, extract), a delete of a missing record, a fire-and-forget process and a failed bulk
    # task recorded no Creatio asset event; no event went through an alias.


def test_operators_declare_only_what_the_user_gave_at_parse_time(lineage_dags: Path) -> None:
    from airflow.sdk import AssetAlias

    from airflow_provider_creatio.testing.dagrun import load_dag

    dag = load_dag(lineage_dags, PRODUCER)
    declared = {task.task_id: (list(task.inlets), list(task.outlets)) for task in dag.tasks}
    assert declared.pop("create_contact") == ([], [AssetAlias("contacts-report")])
    assert set(map(str, declared.values())) == {"([], [])"}
