"""The record-files example DAG inside ``dag.test`` against the emulator: a case made, a document attached, backed
up with its manifest, checked, and removed; nothing left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.testing.dagrun import run_dag

EXAMPLE_DAGS = Path(__file__).parents[2] / "example_dags"
DAG_ID = "example_creatio_case_attachments"


@pytest.fixture
def transfer_root(tmp_path: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from airflow import settings

    monkeypatch.setattr(settings, "DAGS_FOLDER", str(EXAMPLE_DAGS))
    monkeypatch.setenv("AIRFLOW_VAR_CREATIO_TRANSFER_FOLDER", str(tmp_path))
    return tmp_path


def test_a_document_goes_onto_a_case_into_a_backup_and_away(
    transfer_root: Path, creatio_connection: Any
) -> None:
    cases_before = creatio_connection.store.count("Case")
    result = run_dag(EXAMPLE_DAGS, DAG_ID)
    assert result.succeeded, result.task_states
    attached = result.xcoms["attach_scan"]["files"]
    backup = result.xcoms["backup_case_files"]
    assert (backup["files"], backup["bytes"]) == (1, attached[0]["size"])
    assert result.xcoms["check_backup"] == {"checked": 1}
    [copy] = [path for path in transfer_root.rglob("delivery-note.pdf") if "backup" in path.parts]
    assert copy.stat().st_size == attached[0]["size"]
    assert (
        creatio_connection.store.count("CaseFile") == 0
        and creatio_connection.store.count("Case") == cases_before
    )
    assert creatio_connection.count("POST", "FileApiService/UploadFile") == -(
        -attached[0]["size"] // (128 * 1024)
    )
