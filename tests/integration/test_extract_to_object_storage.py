"""CreatioToObjectStorageOperator against the emulator, into file:// folders: keyset pages (never $skip), the
server's cost, rollover, idempotent reruns, one login."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.transfers.creatio_to_object_storage import CreatioToObjectStorageOperator

TOTAL = 2_500


def _seed(creatio: Any) -> Any:
    store = creatio.store
    with store.lock:
        for number in range(TOTAL):
            store.insert("Account", {"Name": f"Account {number:05d}", "Phone": f"+1 555 {number:05d}"})
    creatio.state.log.clear()
    return creatio


@pytest.fixture
def accounts(creatio_connection: Any) -> Any:
    return _seed(creatio_connection)


def _extract(folder: Path, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"entity": "Account", "select": ["Name", "Phone"], "page_size": 300}
    options.update(kwargs)
    operator = CreatioToObjectStorageOperator(task_id="extract", path=f"file://{folder}/", **options)
    return operator.execute(context={})


def _lines(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for part in sorted(folder.iterdir()) for line in part.read_text().splitlines()]


def test_a_full_extract_pages_on_id_and_reads_each_row_about_once(accounts: Any, tmp_path: Path) -> None:
    result = _extract(tmp_path, max_records_per_file=1_000)

    reads = [entry for entry in accounts.requests if "/odata/Account" in entry.path]
    total = accounts.store.count("Account")
    assert result["count"] == total
    assert [uri.rsplit("/", 1)[-1] for uri in result["uris"]] == [
        "part-00000.jsonl",
        "part-00001.jsonl",
        "part-00002.jsonl",
    ]
    records = _lines(tmp_path)
    assert len({record["Id"] for record in records}) == total
    assert set(records[0]) == {"Name", "Phone", "Id"}
    assert all("$skip" not in entry.query for entry in reads)
    assert len(reads) == total // 300 + 1
    assert sum(entry.rows_read for entry in reads) <= 1.05 * total
    assert accounts.login_count == 1


def test_a_rerun_writes_the_same_files_and_removes_parts_it_no_longer_needs(
    accounts: Any, tmp_path: Path
) -> None:
    first = _extract(tmp_path, max_records_per_file=1_000)
    before = {part.name: part.read_bytes() for part in tmp_path.iterdir()}

    again = _extract(tmp_path, max_records_per_file=1_000)
    after = {part.name: part.read_bytes() for part in tmp_path.iterdir()}
    narrower = _extract(tmp_path, max_records_per_file=1_000, filter={"Name__startswith": "Account 000"})

    assert again == first
    assert after == before
    assert narrower["count"] == 100
    assert sorted(part.name for part in tmp_path.iterdir()) == ["part-00000.jsonl"]


def test_a_site_refusing_guid_comparison_makes_the_extract_fall_back_once_losing_and_repeating_nothing(
    creatio_connection: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(creatio_connection.settings, "guid_ordering", False)  # a site refusing Id gt <guid>
    creatio_connection.reset()
    accounts = _seed(creatio_connection)

    with caplog.at_level(logging.WARNING):
        result = _extract(tmp_path)

    reads = [entry for entry in accounts.requests if "/odata/Account" in entry.path]
    records = _lines(tmp_path)
    refused = [entry for entry in reads if entry.status == 400]
    assert result["count"] == len({record["Id"] for record in records}) == accounts.store.count("Account")
    assert len(records) == result["count"]
    assert all(
        set(record) == {"Name", "Phone", "Id"} for record in records
    )  # no CreatedOn the read never asked
    assert len(refused) == 1 and "Id gt" in unquote(
        refused[0].query
    )  # the first comparison, and never another
    assert all("Id gt" not in unquote(entry.query) for entry in reads[reads.index(refused[0]) + 1 :])
    assert [r.getMessage() for r in caplog.records if "refused to compare GUIDs" in r.getMessage()] == [
        "Creatio refused to compare GUIDs (A binary operator with incompatible types was detected. Found operand "
        "types 'Edm.Guid' and 'Edm.Guid' for operator kind 'GreaterThan'.): reading Account on CreatedOn alone "
        "from now on, as guid_comparison=False does (docs/creatio-notes/keyset-paging-and-guid-order.md)"
    ]


def test_without_guid_comparison_the_extract_pages_on_created_on(
    creatio_connection: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(creatio_connection.settings, "guid_ordering", False)  # a site refusing Id gt <guid>
    creatio_connection.reset()
    accounts = _seed(creatio_connection)

    result = _extract(tmp_path / "out", guid_comparison=False)

    reads = [entry for entry in accounts.requests if "/odata/Account" in entry.path]
    assert result["count"] == accounts.store.count("Account")
    assert len({record["Id"] for record in _lines(tmp_path / "out")}) == result["count"]
    assert all("Id gt" not in unquote(entry.query) and "$skip" not in entry.query for entry in reads)
    # every record is created in the same instant here: pages of one date, each followed by the whole date
    assert sum(entry.rows_read for entry in reads) <= 2 * result["count"] + len(reads) * 300


def test_a_page_above_creatios_cap_is_refused_before_a_request(accounts: Any, tmp_path: Path) -> None:
    with pytest.raises(CreatioValidationError, match="page_size"):
        _extract(tmp_path, page_size=20_001, check_columns=False)

    assert accounts.requests == []


def test_an_unknown_column_is_refused_from_the_schema_before_any_read(accounts: Any, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="Nmae"):
        _extract(tmp_path, select=["Nmae"])

    assert [entry for entry in accounts.requests if "/odata/Account" in entry.path] == []


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_every_column_of_an_entity_goes_to_csv_and_parquet_with_the_schemas_columns(
    creatio_connection: Any, tmp_path: Path, file_format: str
) -> None:
    from airflow_provider_creatio import formats

    result = _extract(tmp_path, entity="Contact", select=None, format=file_format, expand=["Account"])

    contacts = {row["Id"]: row for row in creatio_connection.store.rows("Contact")}
    schema_kinds = CreatioToObjectStorageOperator(task_id="k", entity="Contact", path="x")
    with schema_kinds.hook as hook:
        kinds = formats.kinds_for_entity(hook.get_entity_schema("Contact"))
    records = list(formats.read_records(result["uris"][0], file_format, kinds={**kinds, "Account": "json"}))
    assert result["count"] == len(records) == len(contacts)
    for record in records:
        assert {name: record[name] for name in ("Name", "Email", "ModifiedOn")} == {
            name: contacts[record["Id"]][name] for name in ("Name", "Email", "ModifiedOn")
        }
