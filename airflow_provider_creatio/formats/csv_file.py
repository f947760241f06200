"""CSV: UTF-8, a header row of column names, RFC 4180 quoting. An empty cell is null, except in a text column,
where it is the empty string (Creatio keeps empty text as ``""``, never null). Booleans are ``true`` and ``false``;
numbers are written as JSON writes them; GUIDs and dates as Creatio sent them; nested objects as JSON text. Cells
carry no type, so a reader is told each column's :class:`~.kinds.ValueKind`; a column without one is text."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from airflow_provider_creatio._compat import ObjectStoragePath
from airflow_provider_creatio.client.errors import CreatioFileError
from airflow_provider_creatio.formats.kinds import ValueKind
from airflow_provider_creatio.formats.record_writer import Record, RecordWriter, check_columns

_CELL_LIMIT = 2**31 - 1  # characters in one CSV cell (the csv module's own default is 131,072)


class CsvWriter(RecordWriter):
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
        check_columns(record, self._columns, self.count)
        self._csv.writerow([_csv_cell(record.get(name)) for name in self._columns])

    def finish(self) -> None:
        self._text.flush()
        self._text.detach()


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


def header(handle: IO[bytes]) -> list[str]:
    """The file's column names (its first row)."""
    return next(csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline="")), [])


def read_csv(
    handle: IO[bytes], source: ObjectStoragePath, kinds: Mapping[str, ValueKind]
) -> Iterator[Record]:
    # The csv module refuses cells over 128 KiB by default; long text columns (an e-mail's Body) exceed that.
    csv.field_size_limit(max(csv.field_size_limit(), _CELL_LIMIT))
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
