"""CreatioToObjectStorageOperator(parallelism=n) against the emulator: a full extract read in ``CreatedOn`` ranges
side by side (an incremental one in ``ModifiedOn`` ranges of its window) writes every record exactly once, into
files of its own per range that a rerun writes again under the same names; records without a ``CreatedOn`` come
too; the server sees the ranges at once; rows read stay close to the records written."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_creatio.transfers.creatio_to_object_storage import CreatioToObjectStorageOperator

TOTAL = 2_000
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def accounts(creatio_connection: Any) -> Any:
    """TOTAL accounts created over 55 days, three at a time (sharing a ``CreatedOn``)."""
    store = creatio_connection.store
    with store.lock:
        for number in range(TOTAL):
            created = START + dt.timedelta(hours=2 * (number // 3))
            store.insert("Account", {"Name": f"Range {number:05d}", "CreatedOn": created.isoformat()})
    creatio_connection.state.log.clear()
    return creatio_connection


def extract(folder: Path, run_id: str = "run", **kwargs: Any) -> dict[str, Any]:
    operator = CreatioToObjectStorageOperator(
        task_id="extract",
        entity="Account",
        select=["Name"],
        filter="startswith(Name, 'Range') or startswith(Name, 'Undated')",
        path=f"file://{folder}/",
        page_size=150,
        **{"parallelism": 4, **kwargs},
    )
    context = {"run_id": run_id, "dag_run": SimpleNamespace(run_after=dt.datetime.now(dt.timezone.utc))}
    return operator.execute(context=context)


def written_ids(result: dict[str, Any]) -> list[str]:
    return [
        json.loads(line)["Id"]
        for uri in result["uris"]
        for line in Path(uri.removeprefix("file://")).read_text().splitlines()
    ]


def expected(creatio: Any) -> list[str]:
    return sorted(
        row["Id"]
        for row in creatio.store.rows("Account")
        if str(row["Name"]).startswith(("Range", "Undated"))
    )


def test_every_record_once_in_files_of_each_range(accounts: Any, tmp_path: Path, variables: Any) -> None:
    result = extract(tmp_path)

    assert sorted(written_ids(result)) == expected(accounts) and result["count"] == TOTAL
    names = sorted(Path(uri).name for uri in result["uris"])
    assert {name[:7] for name in names} == {"part-00", "part-01", "part-02", "part-03"}
    assert all(name.endswith(".jsonl") and len(name) == len("part-00-00000.jsonl") for name in names)
    pages = [entry for entry in accounts.requests if entry.method == "GET" and "/Account" in entry.path]
    assert sum(entry.rows_read for entry in pages) <= 1.05 * TOTAL  # each range seeks its slice of the index
    assert all("$skip" not in entry.query for entry in pages)
    spans = [entry for entry in pages if "$top=1&" in entry.query + "&"]
    assert len(spans) == 2  # the first CreatedOn, and whether any record has none


def test_records_without_a_created_on_come_in_a_range_of_their_own(
    accounts: Any, tmp_path: Path, variables: Any
) -> None:
    for number in range(7):
        accounts.store.insert("Account", {"Name": f"Undated {number}", "CreatedOn": None})
    result = extract(tmp_path)
    assert sorted(written_ids(result)) == expected(accounts) and result["count"] == TOTAL + 7
    assert len([uri for uri in result["uris"] if "/part-04-" in uri]) == 1


def test_the_server_sees_the_ranges_at_once(accounts: Any, tmp_path: Path, variables: Any) -> None:
    accounts.state.settings.server_request_work = 0.05
    accounts.state.server.clear()
    extract(tmp_path)
    assert accounts.stats()["server"]["peak_concurrency"] >= 2


def test_a_rerun_writes_the_same_files_and_a_layout_change_leaves_no_stale_part(
    accounts: Any, tmp_path: Path, variables: Any
) -> None:
    first = extract(tmp_path)
    again = extract(tmp_path)
    assert again["uris"] == first["uris"] and sorted(written_ids(again)) == expected(accounts)

    sequential = extract(tmp_path, parallelism=1)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["part-00000.jsonl"]
    assert sorted(written_ids(sequential)) == expected(accounts)
    fewer = extract(tmp_path, parallelism=2)
    assert sorted(Path(uri).name for uri in fewer["uris"]) == sorted(p.name for p in tmp_path.iterdir())
    assert sorted(written_ids(fewer)) == expected(accounts)


def test_csv_ranges_and_an_incremental_window_in_ranges(
    accounts: Any, tmp_path: Path, variables: Any
) -> None:
    result = extract(tmp_path / "csv", format="csv")
    rows = []
    for uri in result["uris"]:
        with Path(uri.removeprefix("file://")).open(newline="") as handle:
            rows.extend(csv.DictReader(handle))
    assert sorted(row["Id"] for row in rows) == expected(accounts)

    edited = sorted(expected(accounts))[:30]
    for record_id in edited:
        accounts.store.update("Account", record_id, {"Name": f"Range edited {record_id[:8]}"})
    window = {
        "data_interval_start": dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5),
        "data_interval_end": dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5),
    }
    operator = CreatioToObjectStorageOperator(
        task_id="extract",
        entity="Account",
        filter="startswith(Name, 'Range edited')",
        path=f"file://{tmp_path}/window/",
        incremental=True,
        parallelism=3,
        page_size=7,
    )
    result = operator.execute(context={"run_id": "w", **window})
    assert sorted(written_ids(result)) == sorted(edited)


def test_deletes_with_ranges_keep_every_id_in_the_snapshot(
    accounts: Any, tmp_path: Path, variables: Any
) -> None:
    extract(tmp_path / "one", "one", deletes="reconcile")
    gone = expected(accounts)[::50]
    for record_id in gone:
        accounts.store.delete("Account", record_id)
    result = extract(tmp_path / "two", "two", deletes="reconcile")
    assert result["deleted"] == len(gone)


@pytest.mark.parametrize("value", [0, 33, 2.0, True])
def test_parallelism_out_of_range_fails_the_dag_file(value: Any) -> None:
    with pytest.raises(ValueError, match="parallelism must be an integer between 1 and 32"):
        CreatioToObjectStorageOperator(task_id="x", entity="Account", path="file:///x/", parallelism=value)
