"""Record files on the wire, on every site variant: uploads in chunks, downloads streamed back identical, listings,
links, deletes, and each refusal before a byte is sent (the emulator's FileApiService, FileService and
QuerySysSettings)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.client.errors import (
    CreatioConflictError,
    CreatioNotFoundError,
    CreatioResponseError,
    CreatioValidationError,
)
from airflow_provider_creatio.hooks.creatio import CreatioHook

pytestmark = pytest.mark.creatio_every_site

CHUNK = 64 * 1024
UPLOAD = "FileApiService/UploadFile"


def contact(emulator: Any, name: str = "Files Owner") -> str:
    return str(emulator.store.insert("Contact", {"Name": name})["Id"])


def a_file(folder: Path, name: str, size: int) -> Path:
    path = folder / name
    path.write_bytes(os.urandom(size))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_goes_up_in_chunks_and_comes_back_identical(creatio_connection: Any, tmp_path: Path) -> None:
    emulator, owner = creatio_connection, contact(creatio_connection)
    source = a_file(tmp_path, "contract.pdf", 3 * CHUNK + 100)
    emulator.state.log.clear()
    with CreatioHook() as hook:
        sent = hook.upload_file("Contact", owner, str(source), chunk_size=CHUNK)
        assert emulator.count("POST", UPLOAD) == sent.requests == 4  # nothing sent twice
        back = hook.download_file("ContactFile", sent.file_id, str(tmp_path / "back.pdf"))
        [listed] = list(hook.iter_files("Contact", owner))
    assert (tmp_path / "back.pdf").read_bytes() == source.read_bytes()
    assert sent.sha256 == back.sha256 == sha256(source)
    assert (back.name, back.size, back.mime_type) == (
        "contract.pdf",
        source.stat().st_size,
        "application/pdf",
    )
    assert listed["Id"] == sent.file_id and listed["Size"] == source.stat().st_size
    assert listed["ContactId"] == owner and listed["Name"] == "contract.pdf"
    assert emulator.count("GET", "FileService/Download") == 1


def test_an_upload_run_again_replaces_the_same_attachment(creatio_connection: Any, tmp_path: Path) -> None:
    owner = contact(creatio_connection)
    source = a_file(tmp_path, "scan.png", 1000)
    with CreatioHook() as hook:
        first = hook.upload_file("Contact", owner, str(source))
        source.write_bytes(b"second version")
        second = hook.upload_file("Contact", owner, str(source))
        assert second.file_id == first.file_id
        [only] = list(hook.iter_files("Contact", owner))
        hook.download_file("ContactFile", only["Id"], str(tmp_path / "back.png"))
    assert (tmp_path / "back.png").read_bytes() == b"second version"
    assert only["Size"] == len(b"second version")


def test_refusals_come_before_any_byte_and_name_the_setting(creatio_connection: Any, tmp_path: Path) -> None:
    emulator, owner = creatio_connection, contact(creatio_connection)
    emulator.settings.patch({"max_file_size": 100 * 1024})
    big = a_file(tmp_path, "big.pdf", 100 * 1024 + 1)
    script = a_file(tmp_path, "setup.exe", 10)
    emulator.state.log.clear()
    with CreatioHook() as hook:
        with pytest.raises(CreatioValidationError, match=r"MaxFileSize of 102,400 bytes"):
            hook.upload_file("Contact", owner, str(big))
        with pytest.raises(CreatioValidationError, match="FileExtensionsDenyList"):
            hook.upload_file("Contact", owner, str(script))
        with pytest.raises(CreatioNotFoundError, match="to attach the file to does not exist"):
            hook.upload_file("Contact", "5b2a8f1c-0000-4000-8000-000000000001", str(script), name="ok.txt")
        elsewhere = hook.upload_file("Contact", contact(emulator, "Other"), str(script), name="ok.txt")
        with pytest.raises(CreatioConflictError, match="belongs to another record"):
            hook.upload_file("Contact", owner, str(script), name="ok.txt", file_id=elsewhere.file_id)
    assert emulator.count("POST", UPLOAD) == 1  # the one upload that was allowed
    assert emulator.count("POST", "QuerySysSettings") == 1  # the limits are read once per hook


def test_without_readable_limits_the_sites_own_refusal_speaks(
    creatio_connection: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator, owner = creatio_connection, contact(creatio_connection)
    emulator.settings.patch(
        {"max_file_size": 1024, "faults": {"rates": {"500": 1.0}, "path_regex": "QuerySysSettings"}}
    )
    try:
        with CreatioHook(retry_attempts=1) as hook, pytest.raises(CreatioResponseError, match="MaxFileSize"):
            hook.upload_file("Contact", owner, str(a_file(tmp_path, "big.pdf", 2048)))
    finally:
        emulator.settings.patch({"faults": {}})
    assert "uploads are not checked first" in capsys.readouterr().out
    assert emulator.count("POST", UPLOAD) == 1  # the first chunk, refused


def test_links_and_deletes(creatio_connection: Any, tmp_path: Path) -> None:
    owner = contact(creatio_connection)
    with CreatioHook() as hook:
        link = hook.add_file_link("Contact", owner, "https://example.com/terms", name="Terms")
        assert hook.add_file_link("Contact", owner, "https://example.com/terms", name="Terms") == link
        uploaded = hook.upload_file("Contact", owner, str(a_file(tmp_path, "a.txt", 10)))
        assert sorted(f["Name"] for f in hook.iter_files("Contact", owner)) == ["Terms", "a.txt"]
        assert hook.delete_file("ContactFile", uploaded.file_id) is True
        assert hook.delete_file("ContactFile", uploaded.file_id, missing_ok=True) is False
        [left] = list(hook.iter_files("Contact", owner))
    assert left["Id"] == link and left["Url"] == "https://example.com/terms"


def test_a_chunk_that_meets_a_transient_fault_is_sent_again_alone(
    creatio_connection: Any, tmp_path: Path
) -> None:
    emulator, owner = creatio_connection, contact(creatio_connection)
    source = a_file(tmp_path, "report.csv", 4 * CHUNK)
    emulator.settings.patch({"faults": {"seed": 7, "rates": {"503": 0.3}, "path_regex": "UploadFile"}})
    try:
        with CreatioHook(backoff_initial=0.01, backoff_max=0.02, retry_attempts=8) as hook:
            sent = hook.upload_file("Contact", owner, str(source), chunk_size=CHUNK)
            hook.download_file("ContactFile", sent.file_id, str(tmp_path / "back.csv"))
    finally:
        emulator.settings.patch({"faults": {}})
    assert (tmp_path / "back.csv").read_bytes() == source.read_bytes()
    assert emulator.count("POST", UPLOAD) > 4  # some chunks were sent twice, each alone


def test_sysfile_keeps_the_files_of_any_record(creatio_connection: Any, tmp_path: Path) -> None:
    emulator, owner = creatio_connection, contact(creatio_connection)
    source = a_file(tmp_path, "cv.docx", CHUNK + 1)
    with CreatioHook() as hook:
        sent = hook.upload_file("Contact", owner, str(source), polymorphic=True, chunk_size=CHUNK)
        again = hook.upload_file("Contact", owner, str(source), polymorphic=True, chunk_size=CHUNK)
        [listed] = list(hook.iter_files("Contact", owner, polymorphic=True))
        back = hook.download_file("SysFile", sent.file_id, str(tmp_path / "back.docx"))
    assert again.file_id == sent.file_id == listed["Id"]
    assert (listed["RecordSchemaName"], listed["RecordId"]) == ("Contact", owner)
    assert back.sha256 == sha256(source)
    assert emulator.count("POST", "odata/SysFile") == 1  # the record is made once, before the first upload


def test_an_empty_file_is_refused_before_anything_is_sent(creatio_connection: Any, tmp_path: Path) -> None:
    emulator, owner = creatio_connection, contact(creatio_connection)
    emulator.state.log.clear()
    with CreatioHook() as hook, pytest.raises(CreatioValidationError, match="is empty"):
        hook.upload_file("Contact", owner, str(a_file(tmp_path, "empty.txt", 0)))
    assert emulator.count("POST", UPLOAD) == 0
