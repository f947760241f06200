"""The transfer example DAGs inside ``dag.test`` against the emulator, files on ``file://`` folders."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.testing.dagrun import DagRunResult, run_dag

EXAMPLE_DAGS = Path(__file__).parents[2] / "example_dags"
DAG_FILES = Path(__file__).parent / "dag_files"
DAG_ID = "example_creatio_contacts_to_object_storage"
WATERMARK = f"creatio_extract_watermark__{DAG_ID}__extract_contacts"
WINDOWS_WATERMARK = "creatio_extract_watermark__test_transfer_windows__extract_contacts"
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
    monkeypatch.setenv("AIRFLOW_VAR_CREATIO_TRANSFER_FOLDER", str(tmp_path))
    Variable.delete(WATERMARK)
    Variable.delete(WINDOWS_WATERMARK)
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


def test_records_changed_during_a_run_land_in_the_next_window_and_no_version_twice(
    export_root: Path, creatio_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run 1 reads yesterday in pages of 20 while a thread edits records it has read and records it has not yet
    read, and creates new ones (Creatio stamps them now, after the window's end); run 2, triggered by hand, reads
    from the mark on."""
    import threading
    import time

    from airflow import settings

    monkeypatch.setattr(settings, "DAGS_FOLDER", str(DAG_FILES))
    # each page takes 50 ms to answer, so that the edits surely come while the first run still reads
    monkeypatch.setattr(creatio_connection.settings, "faults", {"latency": 0.05, "path_regex": "/Contact$"})
    store = creatio_connection.store
    logical_date = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)
    start = logical_date - DAY
    seeded = [
        store.insert("Contact", {"Name": f"Yesterday {n}", "ModifiedOn": iso(start + timedelta(minutes=n))})[
            "Id"
        ]
        for n in range(200)
    ]
    changed: list[str] = []
    pages_before_the_edits: list[int] = []

    def contact_pages() -> int:
        return sum(1 for entry in creatio_connection.requests if entry.path.endswith("/Contact"))

    def edit_while_the_extract_reads() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if contact_pages() >= 3:
                break
            time.sleep(0.001)
        pages_before_the_edits.append(contact_pages())
        for record_id in seeded[::10]:  # read already (the first pages) and not yet (the later ones)
            store.update("Contact", record_id, {"Name": "Edited during the run"})
            changed.append(record_id)
        for n in range(5):
            changed.append(store.insert("Contact", {"Name": f"Created during the run {n}"})["Id"])

    editor = threading.Thread(target=edit_while_the_extract_reads)
    editor.start()
    first = run_dag(DAG_FILES, "test_transfer_windows", logical_date=logical_date)
    editor.join()
    pages_of_the_first_run = contact_pages()
    second = run_dag(
        DAG_FILES,
        "test_transfer_windows",
        logical_date=None,
        run_after=datetime.now(timezone.utc) + timedelta(seconds=5),
    )

    assert first.succeeded and second.succeeded, (first.task_states, second.task_states)
    assert pages_before_the_edits[0] < pages_of_the_first_run  # the edits came while run 1 was reading
    landed = versions(first) + versions(second)
    assert len(landed) == len(set(landed))  # no version twice
    final = {row["Id"]: row["ModifiedOn"] for row in store.rows("Contact")}
    assert {(record_id, final[record_id]) for record_id in changed} <= set(versions(second))
    untouched = set(seeded) - set(changed)
    assert {(record_id, final[record_id]) for record_id in untouched} <= set(versions(first))
