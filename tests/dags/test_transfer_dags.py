"""The transfer example DAGs inside ``dag.test`` against the emulator, files on ``file://`` folders."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.testing.dagrun import DagRunResult, run_dag

EXAMPLE_DAGS = Path(__file__).parents[2] / "example_dags"
DAG_ID = "example_creatio_contacts_to_object_storage"
WATERMARK = f"creatio_extract_watermark__{DAG_ID}__extract_contacts"
FIRST_RUN = datetime(
    2024, 3, 10, 6, 30, tzinfo=timezone.utc
)  # a manual run at this logical date: the day before
DAY = timedelta(days=1)


def iso(moment: datetime) -> str:
    """As the operator writes a window's bounds into $filter and XCom."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def versions(result: DagRunResult) -> list[tuple[str, str]]:
    """(Id, ModifiedOn) of every record the run's files hold."""
    found = []
    for uri in result.xcoms["extract_contacts"]["uris"]:
        for line in Path(uri.removeprefix("file://")).read_text().splitlines():
            record = json.loads(line)
            found.append((record["Id"], record["ModifiedOn"]))
    return found


@pytest.fixture
def export_root(tmp_path: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from airflow import settings
    from airflow.models import Variable

    monkeypatch.setattr(settings, "DAGS_FOLDER", str(EXAMPLE_DAGS))
    monkeypatch.setenv("AIRFLOW_VAR_CREATIO_EXPORT_ROOT", f"file://{tmp_path}")
    Variable.delete(WATERMARK)
    return tmp_path


def test_two_windows_hold_every_record_version_exactly_once(
    export_root: Path, creatio_connection: Any
) -> None:
    store = creatio_connection.store
    start, end = FIRST_RUN - DAY, FIRST_RUN

    def write(name: str, modified: datetime, record_id: str | None = None) -> tuple[str, str]:
        """A record version stamped ``modified``: its (Id, ModifiedOn) as Creatio answers them."""
        values = {"Name": name, "ModifiedOn": iso(modified)}
        if record_id is None:
            stored = store.insert("Contact", values)
        else:
            stored = store.update("Contact", record_id, values)
        return stored["Id"], stored["ModifiedOn"]

    before = write("Before the first window", start - timedelta(seconds=1))
    first_window = [
        write("At the first window's start", start),
        write("Inside the first window", start + timedelta(hours=3)),
        *[write(f"Same instant {n}", start + timedelta(hours=5)) for n in range(3)],
    ]
    edited_later = first_window[1][0]
    first = run_dag(EXAMPLE_DAGS, DAG_ID, logical_date=FIRST_RUN)

    # between the runs: a record stamped exactly at the first window's end, a new version of one already
    # extracted, and a new record
    second_window = [
        write("At the first window's end", end),
        write("Edited after the first run", end + timedelta(minutes=10), record_id=edited_later),
        write("Created after the first run", end + timedelta(minutes=20)),
    ]
    run_after = end + timedelta(hours=1)
    second = run_dag(EXAMPLE_DAGS, DAG_ID, logical_date=None, run_after=run_after)

    assert first.succeeded and second.succeeded, (first.task_states, second.task_states)
    assert sorted(versions(first)) == sorted(first_window)
    assert sorted(versions(second)) == sorted(second_window)
    assert before not in versions(first) + versions(second)
    summary = second.xcoms["extract_contacts"]
    assert summary["window"] == [iso(end), iso(run_after - timedelta(minutes=1))]
    assert summary["high_water_mark"] == summary["window"][1]
    assert summary["count"] == 3


def test_the_first_run_without_a_data_interval_is_the_initial_load(
    export_root: Path, creatio_connection: Any
) -> None:
    run_after = datetime.now(timezone.utc)

    result = run_dag(EXAMPLE_DAGS, DAG_ID, logical_date=None, run_after=run_after)

    summary = result.xcoms["extract_contacts"]
    assert summary["window"] == [None, iso(run_after - timedelta(minutes=1))]
    assert summary["count"] == creatio_connection.store.count("Contact") > 0
    assert "ModifiedOn%20ge" not in next(
        r.query for r in creatio_connection.requests if r.path.endswith("/Contact")
    )
