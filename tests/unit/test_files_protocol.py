"""The record-file protocol without a server: chunk ranges, the upload request's form, Content-Disposition both
ways, the site's upload limits, and the filters of a listing."""

from __future__ import annotations

import pytest

from airflow_provider_creatio.client import files
from airflow_provider_creatio.client.errors import CreatioValidationError

CONTACT = "0a7f5a5e-5d0b-4b0e-9c8b-2f1e0c6b1a01"
FILE = "3d3f0c55-0a4b-4a8e-9d61-5d4b2a1c9e02"


@pytest.mark.parametrize(
    ("total", "chunk", "ranges"),
    [
        (0, 10, []),
        (10, 10, [(0, 10)]),
        (25, 10, [(0, 10), (10, 20), (20, 25)]),
    ],
)
def test_chunk_ranges_cover_the_file_once(total: int, chunk: int, ranges: list[tuple[int, int]]) -> None:
    assert files.chunk_ranges(total, chunk) == ranges


def test_an_upload_chunk_says_where_its_bytes_go() -> None:
    parent = files.FileParent.of("Contact", CONTACT)
    upload = files.FileUpload(parent, FILE, "contract.pdf", "application/pdf", 25)
    request = upload.chunk(10, b"x" * 10).request
    assert request.path == "rest/FileApiService/UploadFile"
    assert dict(request.params) == {
        "fileId": FILE,
        "totalFileLength": "25",
        "mimeType": "application/pdf",
        "fileName": "contract.pdf",
        "columnName": "Data",
        "entitySchemaName": "ContactFile",
        "parentColumnName": "Contact",
        "parentColumnValue": CONTACT,
    }
    assert request.headers["Content-Range"] == "bytes 10-19/25"
    assert request.headers["Content-Disposition"] == 'attachment; filename="contract.pdf"'
    assert request.body_bytes == b"x" * 10


def test_a_non_ascii_name_goes_as_rfc_5987_and_comes_back() -> None:
    upload = files.FileUpload(files.FileParent.of("Case", CONTACT), FILE, "Übersicht €.txt", "text/plain", 1)
    header = upload.chunk(0, b"x").request.headers["Content-Disposition"]
    assert header.isascii() and "filename*=utf-8''" in header
    assert files.disposition_name(header) == "Übersicht €.txt"
    assert files.disposition_name('attachment; filename="C:\\scans\\a.pdf"') == "a.pdf"  # never a path
    assert files.disposition_name("") is None


def test_the_site_settings_become_limits_that_name_the_setting() -> None:
    limits = files.upload_limits(
        {"MaxFileSize": 10, "FileExtensionsDenyList": "exe; .bat, *.JS", "FileExtensionsAllowList": ""}
    )
    assert limits == files.UploadLimits(10 * 2**20, frozenset(), frozenset({"exe", "bat", "js"}))
    limits.check("scan.pdf", 10 * 2**20)
    with pytest.raises(CreatioValidationError, match=r"MaxFileSize of 10,485,760 bytes \(10 MB\)"):
        limits.check("scan.pdf", 10 * 2**20 + 1)
    with pytest.raises(CreatioValidationError, match=r"'exe'.*FileExtensionsDenyList"):
        limits.check("setup.EXE", 1)
    allowed = files.upload_limits({"FileExtensionsAllowList": "pdf,docx"})
    allowed.check("a.pdf", 1)
    with pytest.raises(CreatioValidationError, match="'txt' is not in the site's FileExtensionsAllowList"):
        allowed.check("a.txt", 1)
    assert files.upload_limits({}).max_bytes is None  # not readable: nothing checked first


def test_a_listing_filters_on_the_parent_and_the_callers_conditions() -> None:
    assert files.files_filter("Contact", CONTACT, None) == f"(Contact/Id eq {CONTACT})"
    assert files.files_filter("Contact", None, "startswith(Name, 'Scan')") == "(startswith(Name, 'Scan'))"
    assert files.files_filter("Case", CONTACT, None, polymorphic=True) == (
        f"(RecordSchemaName eq 'Case') and (RecordId eq {CONTACT})"
    )
    assert files.files_filter("Contact", None, None) is None
    assert files.metadata_columns("Contact")[-1] == "ContactId"


def test_the_default_file_id_is_the_same_for_the_same_record_and_name() -> None:
    first = files.default_file_id("Contact", CONTACT, "a.pdf")
    assert first == files.default_file_id("Contact", CONTACT.upper(), "a.pdf")
    assert first != files.default_file_id("Contact", CONTACT, "b.pdf")
    assert first != files.default_file_id("Account", CONTACT, "a.pdf")


@pytest.mark.parametrize("size", [0, 1000, 4 * 2**20 + 1, True])
def test_a_chunk_size_outside_64_kib_to_4_mib_is_refused(size: object) -> None:
    with pytest.raises(
        CreatioValidationError, match="chunk_size must be an integer between 65,536 and 4,194,304"
    ):
        files.check_chunk_size(size)
