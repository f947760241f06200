"""The three file operators against the emulator, with files on file:// and on a real S3-compatible server (moto):
attach, copy out with a manifest (whole and incremental), and load a manifest or a folder back, idempotently,
with a report, partial failures and an API-call budget."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio._compat import AirflowException
from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.formats import storage_path
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.files import CreatioUploadFileOperator
from airflow_provider_creatio.transfers.creatio_files_to_object_storage import (
    CreatioFilesToObjectStorageOperator,
)
from airflow_provider_creatio.transfers.object_storage_to_creatio_files import (
    ObjectStorageToCreatioFilesOperator,
)


class FakeTI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


@pytest.fixture(params=["file", "s3"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "file":
        return f"file://{tmp_path}"
    return str(request.getfixturevalue("s3_bucket"))


def put(uri: str, data: bytes) -> str:
    path = storage_path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return uri


def contacts(emulator: Any, count: int) -> list[str]:
    return [str(emulator.store.insert("Contact", {"Name": f"Files {n}"})["Id"]) for n in range(count)]


def manifest(uri: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in storage_path(uri).read_text().splitlines()]


def run(operator: Any, **context: Any) -> Any:
    return operator.execute(context={"ti": FakeTI(), **context})


def test_files_go_up_out_with_a_manifest_and_back_into_other_records(
    creatio_connection: Any, root: str
) -> None:
    emulator = creatio_connection
    owners = contacts(emulator, 3)
    sent = {owner: os.urandom(70_000 + n) for n, owner in enumerate(owners)}
    for owner, data in sent.items():
        upload = CreatioUploadFileOperator(
            task_id="attach", entity="Contact", record_id=owner, source=put(f"{root}/in/{owner}.pdf", data)
        )
        result = run(upload)
        assert result["files"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    link_owner = owners[0]
    with CreatioHook() as hook:
        hook.add_file_link("Contact", link_owner, "https://example.com/a", name="A link")

    out = run(CreatioFilesToObjectStorageOperator(task_id="out", entity="Contact", path=f"{root}/out/"))
    assert (out["files"], out["links"]) == (3, 1)
    entries = manifest(out["manifest_uri"])
    copied = {e["parent_id"]: storage_path(e["uri"]).read_bytes() for e in entries if e["type"] == "File"}
    assert copied == sent
    assert [e["url"] for e in entries if e["type"] == "Link"] == ["https://example.com/a"]

    # Load the manifest back: the files already exist under their Ids, so the load sends their bytes again
    # and makes no second attachment; a rerun does the same.
    before = emulator.store.count("ContactFile")
    load = ObjectStorageToCreatioFilesOperator(task_id="load", entity="Contact", manifest=out["manifest_uri"])
    first, second = run(load), run(load)
    assert first["succeeded"] == second["succeeded"] == 3 and first["failed"] == 0
    assert emulator.store.count("ContactFile") == before
    report = manifest(first["report"])
    assert all(line["ok"] for line in report) and len(report) == 3


def test_a_folder_of_record_ids_loads_each_file_to_its_record_and_reports_failures(
    creatio_connection: Any, root: str
) -> None:
    emulator = creatio_connection
    owner, missing = contacts(emulator, 1)[0], str(uuid.uuid4())
    put(f"{root}/drop/{owner}/a.txt", b"first")
    put(f"{root}/drop/{owner}/b.txt", b"second")
    put(f"{root}/drop/{owner}/setup.exe", b"MZ")
    put(f"{root}/drop/{missing}/c.txt", b"nobody's")
    load = ObjectStorageToCreatioFilesOperator(task_id="load", entity="Contact", source=f"{root}/drop/")
    ti = FakeTI()
    with pytest.raises(AirflowException, match="2 of 4 files failed"):
        load.execute(context={"ti": ti})
    assert ti.pushed["bulk_report"]["succeeded"] == 2
    report = {Path(line["uri"]).name: line for line in manifest(f"{root}/drop/_files.report.jsonl")}
    assert report["a.txt"]["ok"] and report["b.txt"]["ok"]
    assert "FileExtensionsDenyList" in report["setup.exe"]["error"]
    assert "does not exist" in report["c.txt"]["error"]

    partial = ObjectStorageToCreatioFilesOperator(
        task_id="load", entity="Contact", source=f"{root}/drop/", allow_partial=True
    )
    assert run(partial)["failed"] == 2
    attached = [row for row in emulator.store.rows("ContactFile") if row["ContactId"] == owner]
    assert len(attached) == 2  # the rerun made no second attachment


def test_a_load_over_its_api_call_budget_sends_nothing(creatio_connection: Any, tmp_path: Path) -> None:
    emulator = creatio_connection
    owner = contacts(emulator, 1)[0]
    put(f"file://{tmp_path}/drop/{owner}/big.bin", os.urandom(3 * 64 * 1024))
    emulator.state.log.clear()
    load = ObjectStorageToCreatioFilesOperator(
        task_id="load",
        entity="Contact",
        source=f"file://{tmp_path}/drop/",
        chunk_size=64 * 1024,
        max_api_calls=5,
    )
    with pytest.raises(CreatioValidationError, match="needs 6 API calls"):
        run(load)
    assert emulator.count("POST", "UploadFile") == 0


def test_an_incremental_copy_takes_the_files_changed_in_its_window(
    creatio_connection: Any, tmp_path: Path, variables: dict[str, Any]
) -> None:
    emulator = creatio_connection
    owner = contacts(emulator, 1)[0]
    upload = CreatioUploadFileOperator(
        task_id="attach",
        entity="Contact",
        record_id=owner,
        source=[put(f"file://{tmp_path}/in/{name}", name.encode()) for name in ("old.txt", "new.txt")],
    )
    [old, new] = run(upload)["files"]
    emulator.store.update("ContactFile", old["file_id"], {"ModifiedOn": "2030-01-01T10:00:00Z"})
    emulator.store.update("ContactFile", new["file_id"], {"ModifiedOn": "2030-01-02T10:00:00Z"})
    copy = CreatioFilesToObjectStorageOperator(
        task_id="out", entity="Contact", path=f"file://{tmp_path}/out/", incremental=True
    )
    day = {
        "data_interval_start": dt.datetime(2030, 1, 2, tzinfo=dt.timezone.utc),
        "data_interval_end": dt.datetime(2030, 1, 3, tzinfo=dt.timezone.utc),
        "run_id": "scheduled__2030-01-02",
    }
    result = run(copy, **day)
    assert [entry["name"] for entry in manifest(result["manifest_uri"])] == ["new.txt"]
    assert result["high_water_mark"].startswith("2030-01-03")
    assert variables[copy.watermark_key()]["high_water_mark"] == result["high_water_mark"]
