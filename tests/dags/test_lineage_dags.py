"""Assets inside ``dag.test`` against the emulator: writers emit the concrete ``creatio://`` asset through their
alias, readers and failed or fire-and-forget tasks emit nothing (on every Airflow minor: make test-compat runs this
file). That a DAG scheduled on the concrete asset is queued by such an event is in test_openlineage_dags.py:
Airflow 3.0's dag.test registers no DAG in the database, so only a newer Airflow shows the queue."""

from __future__ import annotations

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


def test_writers_emit_their_entity_assets_through_aliases(
    lineage_dags: Path, creatio_connection: Any, tmp_path: Path
) -> None:
    emulator = creatio_connection
    contact = entity_uri(emulator.url, "Contact")
    account = entity_uri(emulator.url, "Account")
    result: DagRunResult = run_dag(lineage_dags, PRODUCER, run_conf={"folder": str(tmp_path)})

    states = result.task_states
    assert states.pop("bulk_fails") == "failed"
    assert set(states.values()) == {"success"}, states
    events = asset_events(result.run_id)
    assert events == [
        ("create_contact", contact, {"records": 1}, ["creatio:creatio_default:Contact"]),
        (
            "extract_contacts",
            f"file://{tmp_path}/extract",
            {"files": 1, "records": 1},
            ["creatio-files:{{ params.folder }}/extract"],
        ),
        ("load_contacts", contact, {"records": 1}, ["creatio:creatio_default:Contact"]),
        (
            "process_writes",
            account,
            {"process": "UsrCreateContactProcess"},
            ["creatio:creatio_default:{{ params.entity }}"],
        ),
        (
            "process_writes",
            contact,
            {"process": "UsrCreateContactProcess"},
            ["creatio:creatio_default:Contact"],
        ),
        (
            "query_contacts",
            f"file://{tmp_path}/query/contacts.jsonl",
            {"records": 1},
            ["creatio-files:{{ params.folder }}/query/contacts.jsonl"],
        ),
        ("upsert_templated", account, {"records": 1}, ["creatio:creatio_default:{{ params.entity }}"]),
    ]
    # Readers (get, query, extract), a delete of a missing record, a fire-and-forget process and a failed bulk
    # task emitted no Creatio asset event.


def test_operators_declare_aliases_at_parse_time_next_to_the_users(lineage_dags: Path) -> None:
    from airflow_provider_creatio._compat import AssetAlias
    from airflow_provider_creatio.testing.dagrun import load_dag

    dag = load_dag(lineage_dags, PRODUCER)

    def declared(task_id: str) -> tuple[list[Any], list[Any]]:
        task = dag.get_task(task_id)
        return list(task.inlets), list(task.outlets)

    contact = AssetAlias("creatio:creatio_default:Contact")
    templated = AssetAlias("creatio:creatio_default:{{ params.entity }}")
    assert declared("create_contact") == ([], [AssetAlias("contacts-report"), contact])
    assert declared("upsert_templated") == ([], [templated])
    assert declared("get_contact") == ([contact], [])
    assert declared("delete_missing") == ([], [contact])
    assert declared("extract_contacts") == (
        [contact],
        [AssetAlias("creatio-files:{{ params.folder }}/extract")],
    )
    assert declared("load_contacts") == ([], [contact])
    assert declared("process_writes") == (
        [AssetAlias("creatio:creatio_default:Account")],
        [contact, templated],
    )
