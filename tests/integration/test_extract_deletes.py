"""CreatioToObjectStorageOperator(deletes="reconcile") against the emulator: a key-only scan compared with the last
run's Id snapshot finds exactly the records deleted since, never one created meanwhile; reruns write the same
tombstones; a missing or corrupt snapshot is an error, never a silent false deletion.

The Airflow Variables that name the snapshots are a dict here (``marks``); the deployment tier runs the same with
a real Airflow."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_creatio.client.errors import CreatioFileError, CreatioValidationError
from airflow_provider_creatio.transfers.creatio_to_object_storage import CreatioToObjectStorageOperator

TOTAL = 300
RUN_AFTER = "2026-12-07T10:00:00Z"


@pytest.fixture
def accounts(creatio_connection: Any) -> Any:
    with creatio_connection.store.lock:
        for number in range(TOTAL):
            creatio_connection.store.insert("Account", {"Name": f"Account {number:05d}"})
    return creatio_connection


def extract(folder: Path, run_id: str, **kwargs: Any) -> dict[str, Any]:
    import datetime as dt

    operator = CreatioToObjectStorageOperator(
        task_id="extract",
        entity="Account",
        select=["Name"],
        path=f"file://{folder}/",
        deletes="reconcile",
        **kwargs,
    )
    run_after = dt.datetime.fromisoformat(RUN_AFTER.replace("Z", "+00:00"))
    return operator.execute(context={"run_id": run_id, "dag_run": SimpleNamespace(run_after=run_after)})


def tombstones(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for uri in result["deleted_uris"]
        for line in Path(uri.removeprefix("file://")).read_text().splitlines()
    ]


def ids(creatio: Any) -> list[str]:
    """The Ids of the accounts this module inserted (the seed's accounts have contacts, which a delete refuses)."""
    return [row["Id"] for row in creatio.store.rows("Account") if str(row.get("Name")).startswith("Account ")]


def test_the_first_run_reports_no_deletion_and_keeps_a_snapshot(
    accounts: Any, tmp_path: Path, variables: Any
) -> None:
    result = extract(tmp_path / "run1", "run1")
    assert (result["deleted"], result["deleted_uris"]) == (0, [])
    [state] = variables.values()
    snapshot = Path(state["snapshot"].removeprefix("file://"))
    lines = gzip.decompress(snapshot.read_bytes()).decode().splitlines()
    assert lines == sorted(row["Id"].lower() for row in accounts.store.rows("Account"))
    assert not list((tmp_path / "run1").glob("deleted-*"))


def test_a_second_run_finds_exactly_the_deleted_records(
    accounts: Any, tmp_path: Path, variables: Any
) -> None:
    extract(tmp_path / "run1", "run1")
    gone = ids(accounts)[::7]
    for record_id in gone:
        accounts.store.delete("Account", record_id)
    created = accounts.store.insert("Account", {"Name": "created since"})["Id"]
    accounts.store.update("Account", ids(accounts)[0], {"Name": "edited since"})
    accounts.state.log.clear()

    result = extract(tmp_path / "run2", "run2")

    assert result["deleted"] == len(gone)
    assert result["deleted_uris"] == [f"file://{tmp_path}/run2/deleted-00000.jsonl"]
    found = tombstones(result)
    assert sorted(row["Id"] for row in found) == sorted(record_id.lower() for record_id in gone)
    assert {row["DeletionSeenAt"] for row in found} == {RUN_AFTER}
    assert created.lower() not in {row["Id"] for row in found}
    # The scan read Ids only, in Creatio's largest pages, one per 20,000 rows.
    scans = [entry for entry in accounts.requests if "$select=Id&" in entry.query + "&"]
    existing = accounts.store.count("Account")
    assert len(scans) == existing // 20_000 + 1  # full pages, then the short one that ends the scan
    assert sum(entry.rows_read for entry in scans) <= existing


def test_a_rerun_writes_the_same_tombstones_and_a_quiet_run_writes_none(
    accounts: Any, tmp_path: Path, variables: Any
) -> None:
    extract(tmp_path / "run1", "run1")
    for record_id in ids(accounts)[:5]:
        accounts.store.delete("Account", record_id)
    second = extract(tmp_path / "run2", "run2")
    rerun = extract(tmp_path / "run2", "run2")
    quiet = extract(tmp_path / "run3", "run3")

    assert rerun == second and second["deleted"] == 5
    assert quiet["deleted"] == 0 and not list((tmp_path / "run3").glob("deleted-*"))
    # Only the snapshots a run still compares with are kept.
    assert sorted(path.parent.name for path in tmp_path.rglob("ids-*.txt.gz")) == ["run2", "run3"]


def test_runs_that_share_one_folder_keep_comparing_with_the_last_snapshot(
    accounts: Any, tmp_path: Path, variables: Any
) -> None:
    extract(tmp_path, "run1")
    accounts.store.delete("Account", ids(accounts)[0])
    assert extract(tmp_path, "run2")["deleted"] == 1
    assert extract(tmp_path, "run3")["deleted"] == 0


def test_a_missing_snapshot_is_an_error_naming_it(accounts: Any, tmp_path: Path, variables: Any) -> None:
    extract(tmp_path / "run1", "run1")
    for path in (tmp_path / "run1").glob("ids-*"):
        path.unlink()
    with pytest.raises(
        CreatioFileError, match=r"the Id snapshot file://.*/run1/ids-run1\.txt\.gz is missing"
    ):
        extract(tmp_path / "run2", "run2")


@pytest.mark.parametrize(
    "content",
    [
        b"not gzip at all",
        gzip.compress(b"ffffffff-0000-0000-0000-000000000000\n00000000-0000-0000-0000-000000000001\n"),
    ],
    ids=["not gzip", "out of order"],
)
def test_a_corrupt_snapshot_is_an_error_not_a_false_deletion(
    accounts: Any, tmp_path: Path, variables: Any, content: bytes
) -> None:
    extract(tmp_path / "run1", "run1")
    [snapshot] = (tmp_path / "run1").glob("ids-*")
    snapshot.write_bytes(content)
    with pytest.raises(CreatioFileError, match="is corrupt"):
        extract(tmp_path / "run2", "run2")
    assert not list((tmp_path / "run2").glob("deleted-*"))


@pytest.mark.parametrize(
    ("deletes", "message"),
    [
        ("event_log", "not available: the sources document how to configure"),
        ("purge", "must be None or 'reconcile'"),
    ],
)
def test_an_unknown_or_unavailable_mode_is_refused_when_the_dag_is_parsed(deletes: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CreatioToObjectStorageOperator(task_id="x", entity="Account", path="file:///tmp/x/", deletes=deletes)


def test_an_entity_without_an_id_column_is_refused_before_any_file(
    accounts: Any, tmp_path: Path, variables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_creatio.hooks.creatio import CreatioHook

    real = CreatioHook.get_entity_schema

    def without_id(hook: CreatioHook, entity: str) -> Any:
        schema = real(hook, entity)
        return SimpleNamespace(
            column=lambda name: None if name == "Id" else schema.column(name),
            **{name: getattr(schema, name) for name in ("column_names", "lookup", "columns")},
        )

    monkeypatch.setattr(CreatioHook, "get_entity_schema", without_id)
    with pytest.raises(CreatioValidationError, match="needs an Id column, and Account has none"):
        extract(tmp_path, "run1", check_columns=False)
    assert list(tmp_path.iterdir()) == []


def test_a_record_written_and_deleted_before_the_scan_is_reported_by_the_next_run(
    accounts: Any, tmp_path: Path, variables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The part files are written first and the key-only scan comes after: a record deleted in between is in the
    run's files (and so in the warehouse) but not in its scan. The snapshot holds it all the same."""
    victim = ids(accounts)[3]
    scan = CreatioToObjectStorageOperator._ids

    def deleted_before_the_scan(operator: CreatioToObjectStorageOperator, filter: Any) -> Any:
        accounts.store.delete("Account", victim)
        return scan(operator, filter)

    monkeypatch.setattr(CreatioToObjectStorageOperator, "_ids", deleted_before_the_scan)
    first = extract(tmp_path / "run1", "run1")
    assert victim in {
        json.loads(line)["Id"]
        for line in Path(first["uris"][0].removeprefix("file://")).read_text().splitlines()
    }
    monkeypatch.setattr(CreatioToObjectStorageOperator, "_ids", scan)

    second = extract(tmp_path / "run2", "run2")

    assert [row["Id"] for row in tombstones(second)] == [victim.lower()]
