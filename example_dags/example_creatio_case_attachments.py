"""Case attachments: a document attached to a case, backed up with its manifest, checked, and removed.

A support team receives scans in object storage and keeps them on the case they belong to; a nightly job copies
every case's files to a backup folder. This DAG does both once, on a case of its own:

* ``create_case`` makes the case (its Id chosen by the client, so a retry never makes a second one).
* ``receive_scan`` stands in for the document arriving: it writes a small file into the run's folder. The folders'
  root is the Airflow Variable ``creatio_transfer_folder`` (as for the other transfer examples), else a folder
  under the machine's temporary directory; on Celery or Kubernetes, set it to a shared mount or an object
  storage URI such as ``s3://aws_default@lake/creatio``.
* ``attach_scan`` (``CreatioUploadFileOperator``) attaches it to the case as a ``CaseFile``, in chunks through
  ``FileApiService/UploadFile``, after checking the site's ``MaxFileSize`` and extension lists. Its file Id comes
  from the case and the file's name: a retry replaces the same attachment's bytes.
* ``backup_case_files`` (``CreatioFilesToObjectStorageOperator``) copies the case's files to a backup folder, one
  object per file, and writes ``manifest.jsonl`` (name, size, SHA-256, where each went).
* ``check_backup`` compares the manifest with what was attached: the same bytes came back.
* ``remove_scan`` deletes the attachment (``CreatioHook.delete_file``) and ``delete_case`` the case.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import Variable, dag, task

from airflow_provider_creatio.formats import storage_path
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.entity import CreatioCreateEntityOperator, CreatioDeleteEntityOperator
from airflow_provider_creatio.operators.files import CreatioUploadFileOperator
from airflow_provider_creatio.transfers.creatio_files_to_object_storage import (
    CreatioFilesToObjectStorageOperator,
)

DEFAULT_FOLDER = (Path(tempfile.gettempdir()) / "creatio-transfers").as_posix()
RUN_FOLDER = (
    "{{ var.value.get('creatio_transfer_folder', '" + DEFAULT_FOLDER + "') }}"
    "/case-attachments/{{ run_id | replace(':', '-') | replace('+', '-') }}"
)


@dag(
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["creatio", "example", "files"],
    doc_md=__doc__,
)
def example_creatio_case_attachments() -> None:
    case = CreatioCreateEntityOperator(
        task_id="create_case", entity="Case", data={"Subject": "Scanned delivery note (attachments example)"}
    )

    @task
    def receive_scan(run_id: str) -> str:
        """Write the 'scan' (a few hundred kilobytes) where documents arrive; its URI."""
        root = Variable.get("creatio_transfer_folder", default=DEFAULT_FOLDER)
        safe_run = run_id.replace(":", "-").replace("+", "-")
        path = storage_path(f"{root}/case-attachments/{safe_run}/incoming/delivery-note.pdf")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 1200 + b"\n%%EOF\n")
        return str(path)

    attach = CreatioUploadFileOperator(
        task_id="attach_scan",
        entity="Case",
        record_id=case.output,
        source=receive_scan(run_id="{{ run_id }}"),
        chunk_size=128 * 1024,
    )
    backup = CreatioFilesToObjectStorageOperator(
        task_id="backup_case_files",
        entity="Case",
        record_id=case.output,
        path=RUN_FOLDER + "/backup/",
    )

    @task
    def check_backup(attached: dict[str, Any], backed_up: dict[str, Any]) -> dict[str, Any]:
        """The manifest lists the attachment with the same size and SHA-256 as the upload sent."""
        manifest = storage_path(backed_up["manifest_uri"]).read_text()
        entries = {entry["file_id"]: entry for entry in map(json.loads, manifest.splitlines())}
        for sent in attached["files"]:
            copy = entries.get(sent["file_id"])
            if copy is None or (copy["size"], copy["sha256"]) != (sent["size"], sent["sha256"]):
                raise ValueError(f"the backup of {sent['name']} differs from what was attached: {copy}")
        return {"checked": len(attached["files"])}

    @task
    def remove_scan(attached: dict[str, Any]) -> int:
        with CreatioHook() as hook:
            return sum(hook.delete_file("CaseFile", sent["file_id"]) for sent in attached["files"])

    delete_case = CreatioDeleteEntityOperator(task_id="delete_case", entity="Case", record_id=case.output)
    checked = check_backup(attach.output, backup.output)
    attach >> backup >> checked >> remove_scan(attach.output) >> delete_case


example_creatio_case_attachments()
