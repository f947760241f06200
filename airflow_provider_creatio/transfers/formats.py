"""Record files over Airflow's object storage: JSON Lines, CSV and Parquet, written and read as streams.

A *record* is what Creatio's OData answers for one row: a dict of column names to JSON values (strings, numbers,
booleans, null, and nested objects for expanded lookups). Every file is opened through
:class:`~airflow.sdk.ObjectStoragePath`, so whatever Airflow's object storage reaches works (``file://``,
``s3://`` with the Amazon provider, ``gs://``...); a plain local path is taken as ``file://``.

Writers take one record at a time (Parquet buffers one row group); readers yield one record at a time (Parquet
reads one row group's worth). Memory stays flat whatever the file's size.

How values are kept, so that a record read back equals the record written (docs/guides/transfers.md):

* **JSON Lines**: one JSON object per line, UTF-8, exactly the values given.
* **CSV**: UTF-8, a header row of column names, RFC 4180 quoting. An empty cell is null, except in a text
  column, where it is the empty string (Creatio keeps empty text as ``""``, never null). Booleans are ``true`` and
  ``false``; numbers are written as JSON writes them (``10``, ``10.0``, ``1e-07``); GUIDs and dates as Creatio
  sent them (lower-case GUIDs, ISO 8601 UTC dates); nested objects as JSON text. CSV cells carry no type, so a
  reader is told each column's :class:`ValueKind` (:func:`kinds_for_entity` reads them from the entity's schema);
  a column without one is read as text.
* **Parquet** (the ``parquet`` extra, pyarrow): booleans, 64-bit integers, doubles and strings; GUIDs and dates
  as Creatio's text, so they come back unchanged (cast them in the warehouse); nested objects as JSON text. The
  file records each column's kind, so a reader needs no schema.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_creatio._compat import ObjectStoragePath
from airflow_provider_creatio.client.errors import CreatioConfigError, CreatioFileError

if TYPE_CHECKING:
    from airflow_provider_creatio.client.schema import EntitySchema

Record = dict[str, Any]

DEFAULT_ROW_GROUP_SIZE = 10_000  # Parquet rows buffered before a row group is written
DEFAULT_READ_BATCH_SIZE = 1_000  # Parquet rows decoded at a time when reading
_LOCAL_PROTOCOLS = ("file", "local", "")
_CSV_CELL_LIMIT = 2**31 - 1  # characters in one CSV cell (the csv module's own default is 131,072)
_KIND_KEY = b"creatio.kind"  # Parquet field metadata: the column's ValueKind
_PARQUET_EXTRA_HINT = (
    "install the provider's 'parquet' extra: pip install 'airflow-provider-creatio[parquet]'"
)


class FileFormat(str, enum.Enum):
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"

    @property
    def suffix(self) -> str:
        return f".{self.value}"

    @classmethod
    def resolve(
        cls, value: FileFormat | str | None, path: ObjectStoragePath | str | None = None
    ) -> FileFormat:
        """The format named by ``value`` (``jsonl`` or ``ndjson``, ``csv``, ``parquet`` or ``pq``), or, when it
        is None, the one the path's suffix names (a ``.json`` file is one JSON document, not JSON Lines)."""
        if value is None:
            name = str(path or "").rsplit("/", 1)[-1]
            value = name.rsplit(".", 1)[-1] if "." in name else ""
            if not value:
                raise CreatioFileError(
                    f"cannot tell the format of {path}: give format (jsonl, csv or parquet)"
                )
        text = str(value.value if isinstance(value, FileFormat) else value).strip().lower().lstrip(".")
        text = {"ndjson": "jsonl", "pq": "parquet"}.get(text, text)
        try:
            return cls(text)
        except ValueError:
            raise CreatioFileError(f"unknown file format {value!r}: use jsonl, csv or parquet") from None


class ValueKind(str, enum.Enum):
    """What a column holds, as far as a file needs to know to give its values back unchanged."""

    TEXT = "text"  # Edm.String: never null in Creatio; an empty CSV cell is ""
    GUID = "guid"  # Edm.Guid, kept as text
    DATETIME = "datetime"  # Edm.DateTimeOffset, Edm.Date...: kept as Creatio's ISO 8601 text
    BOOLEAN = "boolean"
    INTEGER = "integer"  # Edm.Int16/32/64, Edm.Byte
    NUMBER = "number"  # Edm.Decimal, Edm.Double, Edm.Single
    JSON = "json"  # a nested object or list (an expanded lookup)


_EDM_KINDS = {
    "Edm.String": ValueKind.TEXT,
    "Edm.Guid": ValueKind.GUID,
    "Edm.Boolean": ValueKind.BOOLEAN,
    "Edm.Byte": ValueKind.INTEGER,
    "Edm.SByte": ValueKind.INTEGER,
    "Edm.Int16": ValueKind.INTEGER,
    "Edm.Int32": ValueKind.INTEGER,
    "Edm.Int64": ValueKind.INTEGER,
    "Edm.Decimal": ValueKind.NUMBER,
    "Edm.Double": ValueKind.NUMBER,
    "Edm.Single": ValueKind.NUMBER,
}


def kinds_for_entity(schema: EntitySchema, columns: Iterable[str] | None = None) -> dict[str, ValueKind]:
    """The kind of each of ``columns`` (every column of the entity when None), in that order: lookups (expanded
    navigation properties) are JSON, dates and other EDM types text that is null when empty."""
    names = list(schema.column_names if columns is None else columns)
    kinds: dict[str, ValueKind] = {}
    for name in names:
        column = schema.column(name)
        if column is not None:
            kinds[name] = _EDM_KINDS.get(column.edm_type, ValueKind.DATETIME)
        elif schema.lookup(name) is not None:
            kinds[name] = ValueKind.JSON
        else:
            kinds[name] = ValueKind.TEXT
    return kinds


def storage_path(location: ObjectStoragePath | str, conn_id: str | None = None) -> ObjectStoragePath:
    """``location`` as an ObjectStoragePath: a URI (``s3://bucket/key``, ``file:///tmp/x``) or a local path.
    ``conn_id`` names the Airflow connection that reaches the store (also writable as ``s3://conn@bucket/key``)."""
    if isinstance(location, ObjectStoragePath):
        return location if conn_id is None else ObjectStoragePath(str(location), conn_id=conn_id)
    text = str(location).strip()
    if not text:
        raise CreatioFileError("the file location is empty")
    if "://" not in text:
        text = f"file://{os.path.abspath(text)}"
    return ObjectStoragePath(text, conn_id=conn_id)


def _is_local(path: ObjectStoragePath) -> bool:
    return (path.protocol or "") in _LOCAL_PROTOCOLS


# ---------------------------------------------------------------------------------------------------- writing


class RecordWriter:
    """Writes records one by one into one open file; ``count`` is how many were written so far."""

    def __init__(self, handle: IO[bytes], kinds: Mapping[str, ValueKind] | None) -> None:
        self._handle = handle
        self._kinds = dict(kinds) if kinds else None
        self.count = 0

    def write(self, record: Mapping[str, Any]) -> None:
        if not isinstance(record, Mapping):
            raise CreatioFileError(f"a record must be a mapping of columns, got {type(record).__name__}")
        self._write(record)
        self.count += 1

    def write_all(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Write every record; the number written."""
        for record in records:
            self.write(record)
        return self.count

    def _write(self, record: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Flush what is buffered (the file itself is closed by :func:`open_writer`)."""


class _JsonLinesWriter(RecordWriter):
    def __init__(self, handle: IO[bytes], kinds: Mapping[str, ValueKind] | None) -> None:
        super().__init__(handle, kinds)
        self._text = io.TextIOWrapper(handle, encoding="utf-8", newline="\n", write_through=False)

    def _write(self, record: Mapping[str, Any]) -> None:
        self._text.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        self._text.write("\n")

    def finish(self) -> None:
        self._text.flush()
        self._text.detach()


class _CsvWriter(RecordWriter):
    """The header comes from ``kinds`` when given, else from the first record's columns."""

    def __init__(self, handle: IO[bytes], kinds: Mapping[str, ValueKind] | None) -> None:
        super().__init__(handle, kinds)
        self._text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=False)
        self._csv = csv.writer(self._text, lineterminator="\r\n")
        self._columns: list[str] | None = list(kinds) if kinds else None
        if self._columns is not None:
            self._csv.writerow(self._columns)

    def _write(self, record: Mapping[str, Any]) -> None:
        if self._columns is None:
            self._columns = [str(name) for name in record]
            self._csv.writerow(self._columns)
        _check_columns(record, self._columns, self.count)
        self._csv.writerow([_csv_cell(record.get(name)) for name in self._columns])

    def finish(self) -> None:
        self._text.flush()
        self._text.detach()


def _check_columns(record: Mapping[str, Any], columns: Sequence[str], index: int) -> None:
    extra = [name for name in record if name not in columns]
    if extra:
        raise CreatioFileError(
            f"record #{index} has columns the file does not: {', '.join(map(str, extra))} "
            f"(the file's columns: {', '.join(columns)})"
        )


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _ParquetWriter(RecordWriter):
    """Buffers ``row_group_size`` records, then writes them as one row group. The schema comes from ``kinds``,
    else from the values of the first row group."""

    def __init__(self, handle: IO[bytes], kinds: Mapping[str, ValueKind] | None, row_group_size: int) -> None:
        super().__init__(handle, kinds)
        self._pa, self._pq = _pyarrow()
        self._row_group_size = row_group_size
        self._rows: list[Mapping[str, Any]] = []
        self._writer: Any = None

    def _write(self, record: Mapping[str, Any]) -> None:
        if self._kinds is not None:
            _check_columns(record, list(self._kinds), self.count)
        self._rows.append(record)
        if len(self._rows) >= self._row_group_size:
            self._flush_rows()

    def _flush_rows(self) -> None:
        if self._kinds is None:
            self._kinds = _infer_kinds(self._rows)
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(self._handle, _arrow_schema(self._pa, self._kinds))
        if self._rows:
            columns = {name: _arrow_values(kind, self._rows, name) for name, kind in self._kinds.items()}
            self._writer.write_table(self._pa.table(columns, schema=self._writer.schema))
        self._rows = []

    def finish(self) -> None:
        self._flush_rows()
        self._writer.close()


def _pyarrow() -> tuple[Any, Any]:
    """pyarrow and pyarrow.parquet, or a CreatioConfigError naming the extra that brings them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as err:
        raise CreatioConfigError(
            f"Parquet files need pyarrow, which is not installed: {_PARQUET_EXTRA_HINT}"
        ) from err
    return pyarrow, pyarrow.parquet


def _infer_kinds(rows: Sequence[Mapping[str, Any]]) -> dict[str, ValueKind]:
    """Each column's kind from its values: the first row's columns, then any new ones; all-null columns are text."""
    seen: dict[str, set[ValueKind]] = {}
    for row in rows:
        for name, value in row.items():
            kinds = seen.setdefault(str(name), set())
            if value is not None:
                kinds.add(_kind_of(value))
    return {name: _widest(kinds) for name, kinds in seen.items()}


def _kind_of(value: Any) -> ValueKind:
    if isinstance(value, bool):
        return ValueKind.BOOLEAN
    if isinstance(value, int):
        return ValueKind.INTEGER
    if isinstance(value, float):
        return ValueKind.NUMBER
    if isinstance(value, str):
        return ValueKind.TEXT
    return ValueKind.JSON


def _widest(kinds: set[ValueKind]) -> ValueKind:
    if not kinds:
        return ValueKind.TEXT
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds == {ValueKind.INTEGER, ValueKind.NUMBER}:
        return ValueKind.NUMBER
    return ValueKind.JSON  # mixed values: kept exactly as JSON text


def _arrow_schema(pa: Any, kinds: Mapping[str, ValueKind]) -> Any:
    types = {
        ValueKind.BOOLEAN: pa.bool_(),
        ValueKind.INTEGER: pa.int64(),
        ValueKind.NUMBER: pa.float64(),
    }
    return pa.schema(
        [
            pa.field(name, types.get(kind, pa.string()), metadata={_KIND_KEY: kind.value.encode()})
            for name, kind in kinds.items()
        ]
    )


def _arrow_values(kind: ValueKind, rows: Sequence[Mapping[str, Any]], name: str) -> list[Any]:
    values = [row.get(name) for row in rows]
    if kind is ValueKind.JSON:
        return [None if value is None else json.dumps(value, ensure_ascii=False) for value in values]
    return values


@contextmanager
def _opened_for_write(path: ObjectStoragePath) -> Iterator[IO[bytes]]:
    """A binary handle on ``path``. A local file is written beside its name and renamed when complete; an object
    store shows an object only once its upload completes. A failed write leaves nothing behind."""
    if _is_local(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        target = path.parent / f".{path.name}.{uuid.uuid4().hex}.part"
    else:
        target = path
    try:
        with target.open("wb") as handle:
            yield handle
        if target is not path:
            target.rename(path)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


@contextmanager
def open_writer(
    path: ObjectStoragePath | str,
    format: FileFormat | str | None = None,
    *,
    kinds: Mapping[str, ValueKind] | None = None,
    conn_id: str | None = None,
    row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
) -> Iterator[RecordWriter]:
    """A writer of records into one file, replacing it: ``with open_writer(uri, "csv") as out: out.write(r)``.

    ``format`` defaults to the one the path's suffix names. ``kinds`` fixes the columns, in order (CSV's header,
    Parquet's schema); without it they come from the first record (CSV) or row group (Parquet)."""
    target = storage_path(path, conn_id)
    file_format = FileFormat.resolve(format, target)
    if file_format is FileFormat.PARQUET:
        _pyarrow()  # refuse before a file is opened
    with _opened_for_write(target) as handle:
        writer = _new_writer(file_format, handle, kinds, row_group_size)
        yield writer
        writer.finish()


def _new_writer(
    file_format: FileFormat,
    handle: IO[bytes],
    kinds: Mapping[str, ValueKind] | None,
    row_group_size: int,
) -> RecordWriter:
    if file_format is FileFormat.JSONL:
        return _JsonLinesWriter(handle, kinds)
    if file_format is FileFormat.CSV:
        return _CsvWriter(handle, kinds)
    return _ParquetWriter(handle, kinds, row_group_size)


@dataclass(frozen=True)
class WrittenFile:
    uri: str
    count: int


def write_files(
    records: Iterable[Mapping[str, Any]],
    path_for: Callable[[int], ObjectStoragePath | str],
    format: FileFormat | str,
    *,
    max_records_per_file: int,
    kinds: Mapping[str, ValueKind] | None = None,
    conn_id: str | None = None,
) -> list[WrittenFile]:
    """Write ``records`` into files of at most ``max_records_per_file`` records each, the n-th (from 0) at
    ``path_for(n)``; no records still make one (empty) file, so a run always leaves its output."""
    if max_records_per_file < 1:
        raise CreatioFileError(f"max_records_per_file must be at least 1, got {max_records_per_file}")
    iterator = iter(records)
    written: list[WrittenFile] = []
    pending = next(iterator, None)
    while pending is not None or not written:
        target = storage_path(path_for(len(written)), conn_id)
        with open_writer(target, format, kinds=kinds) as writer:
            while pending is not None and writer.count < max_records_per_file:
                writer.write(pending)
                pending = next(iterator, None)
        written.append(WrittenFile(str(target), writer.count))
    return written


# ---------------------------------------------------------------------------------------------------- reading


def read_records(
    path: ObjectStoragePath | str,
    format: FileFormat | str | None = None,
    *,
    kinds: Mapping[str, ValueKind] | None = None,
    conn_id: str | None = None,
    batch_size: int = DEFAULT_READ_BATCH_SIZE,
) -> Iterator[Record]:
    """The records of one file, one at a time (the file stays open until the iterator is exhausted or closed).

    ``kinds`` types CSV cells (a column without one is text); JSON Lines and Parquet carry their own types."""
    source = storage_path(path, conn_id)
    file_format = FileFormat.resolve(format, source)
    if file_format is FileFormat.PARQUET:
        _pyarrow()
    with source.open("rb") as handle:
        if file_format is FileFormat.JSONL:
            yield from _read_json_lines(handle, source)
        elif file_format is FileFormat.CSV:
            yield from _read_csv(handle, source, kinds or {})
        else:
            yield from _read_parquet(handle, batch_size)


def column_names(
    path: ObjectStoragePath | str,
    format: FileFormat | str | None = None,
    *,
    conn_id: str | None = None,
) -> list[str]:
    """The columns a file's records have, in first-seen order: a CSV's header, a Parquet file's schema, or every
    key of every line of a JSON Lines file (which has no header: that one is read through, one line at a time)."""
    source = storage_path(path, conn_id)
    file_format = FileFormat.resolve(format, source)
    if file_format is FileFormat.PARQUET:
        _, pq = _pyarrow()
        with source.open("rb") as handle:
            return list(pq.ParquetFile(handle).schema_arrow.names)
    if file_format is FileFormat.CSV:
        with source.open("rb") as handle:
            return next(csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline="")), [])
    names: dict[str, None] = {}
    for record in read_records(source, file_format):
        names.update(dict.fromkeys(record))
    return list(names)


def read_chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """``records`` in lists of ``size`` (the last may be shorter): one list held at a time."""
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _read_json_lines(handle: IO[bytes], source: ObjectStoragePath) -> Iterator[Record]:
    for number, line in enumerate(io.TextIOWrapper(handle, encoding="utf-8", newline="\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise CreatioFileError(f"{source}, line {number}: not JSON ({err.msg})") from None
        if not isinstance(record, dict):
            raise CreatioFileError(f"{source}, line {number}: not a JSON object")
        yield record


def _read_csv(
    handle: IO[bytes], source: ObjectStoragePath, kinds: Mapping[str, ValueKind]
) -> Iterator[Record]:
    # The csv module refuses cells over 128 KiB by default; long text columns (an e-mail's Body) exceed that.
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_CELL_LIMIT))
    # strict: a cut-off file (a quote never closed) or a stray quote is an error, not a silently odd record.
    rows = csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline=""), strict=True)
    try:
        header = next(rows, None)
        if header is None:
            return
        decoders = [(name, kinds.get(name, ValueKind.TEXT)) for name in header]
        for row in rows:
            yield _csv_record(decoders, row, f"{source}, line {rows.line_num}")
    except csv.Error as err:
        raise CreatioFileError(f"{source}, line {rows.line_num}: not CSV ({err})") from None


def _csv_record(decoders: Sequence[tuple[str, ValueKind]], row: Sequence[str], where: str) -> Record:
    if len(row) != len(decoders):
        raise CreatioFileError(f"{where}: {len(row)} cells where the header names {len(decoders)} columns")
    try:
        return {name: _csv_value(kind, cell) for (name, kind), cell in zip(decoders, row, strict=True)}
    except ValueError as err:
        raise CreatioFileError(f"{where}: {err}") from None


def _csv_value(kind: ValueKind, cell: str) -> Any:
    if kind is ValueKind.TEXT:
        return cell
    if cell == "":
        return None
    if kind in (ValueKind.GUID, ValueKind.DATETIME):
        return cell
    if kind is ValueKind.BOOLEAN:
        if cell not in ("true", "false"):
            raise ValueError(f"{cell!r} is not true or false")
        return cell == "true"
    value = json.loads(cell)
    if kind is ValueKind.INTEGER and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{cell!r} is not an integer")
    if kind is ValueKind.NUMBER and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ValueError(f"{cell!r} is not a number")
    return value


def _read_parquet(handle: IO[bytes], batch_size: int) -> Iterator[Record]:
    _, pq = _pyarrow()
    parquet = pq.ParquetFile(handle)
    json_columns = [
        field.name
        for field in parquet.schema_arrow
        if (field.metadata or {}).get(_KIND_KEY) == ValueKind.JSON.value.encode()
    ]
    for batch in parquet.iter_batches(batch_size=batch_size):
        for record in batch.to_pylist():
            for name in json_columns:
                if record[name] is not None:
                    record[name] = json.loads(record[name])
            yield record
