"""Record files (the formats package): what is written comes back equal, in every format, through file:// paths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio import formats
from airflow_provider_creatio.client.errors import CreatioConfigError, CreatioFileError
from airflow_provider_creatio.client.schema import Column, EntitySchema, Lookup
from airflow_provider_creatio.formats import FileFormat, ValueKind

KINDS = {
    "Id": ValueKind.GUID,
    "Name": ValueKind.TEXT,
    "Age": ValueKind.INTEGER,
    "Amount": ValueKind.NUMBER,
    "Active": ValueKind.BOOLEAN,
    "BirthDate": ValueKind.DATETIME,
    "Account": ValueKind.JSON,
}
RECORDS: list[dict[str, Any]] = [
    {
        "Id": "0a1b2c3d-0000-4000-8000-000000000001",
        "Name": 'Zoë "Z" O\'Brien, Jr.\nsecond line',
        "Age": 42,
        "Amount": 10.0,
        "Active": True,
        "BirthDate": "1984-02-29T00:00:00Z",
        "Account": {"Id": "0a1b2c3d-0000-4000-8000-0000000000aa", "Name": "Acme 株式会社 🚀"},
    },
    {
        "Id": "0a1b2c3d-0000-4000-8000-000000000002",
        "Name": "",
        "Age": None,
        "Amount": 1e-07,
        "Active": False,
        "BirthDate": None,
        "Account": None,
    },
    {
        "Id": "0a1b2c3d-0000-4000-8000-000000000003",
        "Name": "  spaces kept  ",
        "Age": -9007199254740993,
        "Amount": 1234567.891,
        "Active": None,
        "BirthDate": "2024-06-01T12:30:45.1234567Z",
        "Account": [1, "two", None],
    },
]


@pytest.mark.parametrize("file_format", list(FileFormat))
def test_every_type_round_trips(tmp_path: Path, file_format: FileFormat) -> None:
    path = tmp_path / f"contacts{file_format.suffix}"
    with formats.open_writer(str(path), kinds=KINDS) as writer:
        writer.write_all(RECORDS)
    assert writer.count == 3
    assert list(formats.read_records(str(path), kinds=KINDS)) == RECORDS


def test_csv_cells_are_written_as_documented(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    with formats.open_writer(f"file://{path}", "csv", kinds=KINDS) as writer:
        writer.write_all(RECORDS[1:2])
    assert path.read_bytes().decode() == (
        "Id,Name,Age,Amount,Active,BirthDate,Account\r\n0a1b2c3d-0000-4000-8000-000000000002,,,1e-07,false,,\r\n"
    )


def test_csv_without_kinds_reads_text_and_the_header_comes_from_the_first_record(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    with formats.open_writer(path.as_posix()) as writer:
        writer.write({"Name": "a", "Count": 3, "Ok": True, "Gone": None})
    assert list(formats.read_records(path.as_posix())) == [
        {"Name": "a", "Count": "3", "Ok": "true", "Gone": ""}
    ]


def test_a_record_with_a_column_the_csv_lacks_fails_and_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    refused = pytest.raises(CreatioFileError, match=r"record #1 has columns the file does not: Email")
    with refused, formats.open_writer(path.as_posix()) as writer:
        writer.write({"Name": "a"})
        writer.write({"Name": "b", "Email": "b@x"})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "kinds", "message"),
    [
        ("Active\r\nyes\r\n", {"Active": ValueKind.BOOLEAN}, r"line 2: 'yes' is not true or false"),
        ("Age\r\n1.5\r\n", {"Age": ValueKind.INTEGER}, r"line 2: '1.5' is not an integer"),
        ("Amount\r\nabc\r\n", {"Amount": ValueKind.NUMBER}, r"line 2"),
        ("A,B\r\n1\r\n", {}, r"line 2: 1 cells where the header names 2 columns"),
        ('A,B\r\n1,"cut off\r\n', {}, r"line 2: not CSV \(unexpected end of data\)"),
        ('A,B\r\n"x"y,1\r\n', {}, r"line 2: not CSV"),
    ],
)
def test_a_malformed_csv_row_is_named(tmp_path: Path, content: str, kinds: Any, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CreatioFileError, match=message):
        list(formats.read_records(path.as_posix(), kinds=kinds))


def test_a_csv_cell_longer_than_the_csv_modules_default_limit_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    body = "<p>" + 'é, "quoted"\n' * 30_000 + "</p>"  # about 400,000 characters: an e-mail's Body
    with formats.open_writer(path.as_posix()) as writer:
        writer.write({"Body": body, "Title": "long"})
    assert list(formats.read_records(path.as_posix())) == [{"Body": body, "Title": "long"}]


def test_a_malformed_json_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n\n{"a": \n[1]\n')
    records = formats.read_records(path.as_posix())
    assert next(records) == {"a": 1}
    with pytest.raises(CreatioFileError, match=r"bad.jsonl, line 3: not JSON"):
        next(records)
    path.write_text("[1]\n")
    with pytest.raises(CreatioFileError, match=r"line 1: not a JSON object"):
        list(formats.read_records(path.as_posix()))


def test_files_roll_over_by_record_count(tmp_path: Path) -> None:
    records = [{"Id": str(n), "Name": f"n{n}"} for n in range(10)]
    written = formats.write_files(
        iter(records),
        lambda n: (tmp_path / f"part-{n:03d}.jsonl").as_posix(),
        "jsonl",
        max_records_per_file=4,
    )
    assert [(Path(item.uri.removeprefix("file://")).name, item.count) for item in written] == [
        ("part-000.jsonl", 4),
        ("part-001.jsonl", 4),
        ("part-002.jsonl", 2),
    ]
    back = [record for item in written for record in formats.read_records(item.uri)]
    assert back == records


def test_no_records_still_make_one_empty_file(tmp_path: Path) -> None:
    written = formats.write_files(
        [], lambda n: (tmp_path / f"part-{n}.csv").as_posix(), "csv", max_records_per_file=5, kinds=KINDS
    )
    assert [item.count for item in written] == [0]
    assert (tmp_path / "part-0.csv").read_bytes().decode() == ",".join(KINDS) + "\r\n"
    assert list(formats.read_records(written[0].uri, kinds=KINDS)) == []


def test_parquet_writes_row_groups_and_records_each_kind(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "many.parquet"
    records = [dict(RECORDS[n % 3], Id=f"{n:08d}-0000-4000-8000-000000000000") for n in range(25)]
    with formats.open_writer(path.as_posix(), kinds=KINDS, row_group_size=10) as writer:
        writer.write_all(records)
    parquet = pq.ParquetFile(path)
    assert parquet.num_row_groups == 3
    assert [str(field.type) for field in parquet.schema_arrow] == [
        "string",
        "string",
        "int64",
        "double",
        "bool",
        "string",
        "string",
    ]
    assert list(formats.read_records(path.as_posix(), rows_per_read=7)) == records


def test_parquet_without_kinds_infers_them_from_the_first_row_group(tmp_path: Path) -> None:
    path = tmp_path / "inferred.parquet"
    records = [
        {"Count": 1, "Ratio": 1, "Mixed": "a", "Never": None},
        {"Count": 2, "Ratio": 2.5, "Mixed": 3, "Never": None},
    ]
    with formats.open_writer(path.as_posix()) as writer:
        writer.write_all(records)
    assert list(formats.read_records(path.as_posix())) == [
        {"Count": 1, "Ratio": 1.0, "Mixed": "a", "Never": None},
        {"Count": 2, "Ratio": 2.5, "Mixed": 3, "Never": None},
    ]


def test_parquet_without_pyarrow_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "in.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    refused = pytest.raises(CreatioConfigError, match=r"pip install 'airflow-provider-creatio\[parquet\]'")
    with refused, formats.open_writer((tmp_path / "out.parquet").as_posix()):
        pass
    with pytest.raises(CreatioConfigError, match=r"Parquet files need pyarrow"):
        next(formats.read_records((tmp_path / "in.parquet").as_posix()))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.parquet"]


@pytest.mark.parametrize(
    ("given", "path", "expected"),
    [
        (None, "s3://bucket/a/contacts.jsonl", FileFormat.JSONL),
        (None, "/tmp/x.ndjson", FileFormat.JSONL),
        (None, "file:///tmp/x.CSV", FileFormat.CSV),
        (None, "x.parquet", FileFormat.PARQUET),
        ("parquet", "x.bin", FileFormat.PARQUET),
        (" NDJSON ", None, FileFormat.JSONL),
    ],
)
def test_the_format_is_named_or_read_from_the_suffix(given: Any, path: Any, expected: FileFormat) -> None:
    assert FileFormat.resolve(given, path) is expected


@pytest.mark.parametrize(
    ("given", "path"), [(None, "/tmp/contacts"), ("xml", None), (None, "/tmp/a.txt"), (None, "/tmp/a.json")]
)
def test_an_unknown_format_is_refused(given: Any, path: Any) -> None:
    with pytest.raises(CreatioFileError, match="format"):
        FileFormat.resolve(given, path)


def test_kinds_come_from_the_entity_schema() -> None:
    schema = EntitySchema(
        name="Contact",
        key=("Id",),
        columns=(
            Column("Id", "Edm.Guid", False),
            Column("Name", "Edm.String", False),
            Column("Age", "Edm.Int32", False),
            Column("Amount", "Edm.Decimal", False),
            Column("Active", "Edm.Boolean", False),
            Column("BirthDate", "Edm.DateTimeOffset", True),
            Column("AccountId", "Edm.Guid", False),
        ),
        lookups=(Lookup("Account", "Account", "AccountId"),),
    )
    assert formats.kinds_for_entity(schema, ["Name", "Account", "Age"]) == {
        "Name": ValueKind.TEXT,
        "Account": ValueKind.JSON,
        "Age": ValueKind.INTEGER,
    }
    assert list(formats.kinds_for_entity(schema).values()) == [
        ValueKind.GUID,
        ValueKind.TEXT,
        ValueKind.INTEGER,
        ValueKind.NUMBER,
        ValueKind.BOOLEAN,
        ValueKind.DATETIME,
        ValueKind.GUID,
    ]


def test_chunks_hold_at_most_their_size() -> None:
    assert [len(chunk) for chunk in formats.read_chunks(({"n": n} for n in range(7)), 3)] == [3, 3, 1]


# Measured in a fresh interpreter: tracemalloc counts every thread's allocations, and a thread an earlier test left
# running in this process (a server, an event loop) would add to the peak of whichever file is being written.
PEAK_PROBE = """
import json, sys, tracemalloc
from airflow_provider_creatio import formats
from airflow_provider_creatio.formats import ValueKind

file_format, folder, samples, kinds = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
kinds = {name: ValueKind(kind) for name, kind in kinds.items()}

def peak(count):
    path = f"{folder}/n{count}.{file_format}"
    records = (dict(samples[n % len(samples)], Id=f"{n:08d}-0000-4000-8000-000000000000") for n in range(count))
    tracemalloc.start()
    try:
        with formats.open_writer(path, kinds=kinds, row_group_size=1_000) as writer:
            writer.write_all(records)
        assert sum(1 for _ in formats.read_records(path, kinds=kinds)) == count
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

peak(100)  # the first file imports and caches what every later one uses
print(json.dumps([peak(2_000), peak(20_000)]))
"""


@pytest.mark.parametrize("file_format", list(FileFormat))
def test_writing_and_reading_hold_a_bounded_number_of_records_whatever_the_file_size(
    tmp_path: Path, file_format: FileFormat
) -> None:
    """Python memory at its peak (tracemalloc) while a file is written from a generator and read back: the same
    for 20,000 records as for 2,000, where holding the records would need ten times as much."""
    kinds = json.dumps({name: kind.value for name, kind in KINDS.items()})
    command = [sys.executable, "-c", PEAK_PROBE, file_format.value, str(tmp_path), json.dumps(RECORDS), kinds]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    small, large = json.loads(done.stdout.splitlines()[-1])  # the last line: what the probe printed
    assert large < small * 1.5, (small, large)


def test_the_old_module_path_and_keyword_still_work_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import airflow_provider_creatio.transfers as transfers

    # Imported afresh, whatever ran before: ``from package import name`` takes a submodule already imported.
    monkeypatch.delitem(sys.modules, "airflow_provider_creatio.transfers.formats", raising=False)
    monkeypatch.delattr(transfers, "formats", raising=False)
    with pytest.warns(
        DeprecationWarning, match=r"transfers\.formats is deprecated: use airflow_provider_creatio\.formats"
    ):
        from airflow_provider_creatio.transfers import formats as old

    assert old.read_records is formats.read_records
    assert old.FileFormat is FileFormat
    path = tmp_path / "rows.jsonl"
    with formats.open_writer(path.as_posix()) as writer:
        writer.write({"A": 1})
    with pytest.warns(DeprecationWarning, match="batch_size is deprecated: use rows_per_read"):
        assert list(formats.read_records(path.as_posix(), batch_size=7)) == [{"A": 1}]
