"""Parquet (the ``parquet`` extra, pyarrow): booleans, 64-bit integers, doubles and strings; GUIDs and dates as
Creatio's text, so they come back unchanged; nested objects as JSON text. The file records each column's kind in
its field metadata, so a reader needs no schema. Written one row group at a time, read one batch of rows at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from airflow_provider_creatio.client.errors import CreatioConfigError
from airflow_provider_creatio.formats.kinds import ValueKind, infer_kinds
from airflow_provider_creatio.formats.record_writer import Record, RecordWriter, check_columns

DEFAULT_ROW_GROUP_SIZE = 10_000  # rows buffered before a row group is written
DEFAULT_READ_ROWS = 1_000  # rows decoded at a time when reading
_KIND_KEY = b"creatio.kind"  # field metadata: the column's ValueKind
_EXTRA_HINT = "install the provider's 'parquet' extra: pip install 'airflow-provider-creatio[parquet]'"


class ParquetWriter(RecordWriter):
    """Buffers ``row_group_size`` records, then writes them as one row group. The schema comes from ``kinds``,
    else from the values of the first row group."""

    def __init__(self, handle: IO[bytes], kinds: Mapping[str, ValueKind] | None, row_group_size: int) -> None:
        super().__init__(handle, kinds)
        self._pa, self._pq = pyarrow_modules()
        self._row_group_size = row_group_size
        self._rows: list[Mapping[str, Any]] = []
        self._writer: Any = None

    def _write(self, record: Mapping[str, Any]) -> None:
        if self._kinds is not None:
            check_columns(record, list(self._kinds), self.count)
        self._rows.append(record)
        if len(self._rows) >= self._row_group_size:
            self._flush_rows()

    def _flush_rows(self) -> None:
        if self._kinds is None:
            self._kinds = infer_kinds(self._rows)
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(self._handle, _arrow_schema(self._pa, self._kinds))
        if self._rows:
            columns = {name: _arrow_values(kind, self._rows, name) for name, kind in self._kinds.items()}
            self._writer.write_table(self._pa.table(columns, schema=self._writer.schema))
        self._rows = []

    def finish(self) -> None:
        self._flush_rows()
        self._writer.close()


def pyarrow_modules() -> tuple[Any, Any]:
    """pyarrow and pyarrow.parquet, or a CreatioConfigError naming the extra that brings them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as err:
        raise CreatioConfigError(
            f"Parquet files need pyarrow, which is not installed: {_EXTRA_HINT}"
        ) from err
    return pyarrow, pyarrow.parquet


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


def column_names(handle: IO[bytes]) -> list[str]:
    """The file's column names (its schema)."""
    _, pq = pyarrow_modules()
    return list(pq.ParquetFile(handle).schema_arrow.names)


def read_parquet(handle: IO[bytes], rows_per_read: int) -> Iterator[Record]:
    _, pq = pyarrow_modules()
    parquet = pq.ParquetFile(handle)
    json_columns = [
        field.name
        for field in parquet.schema_arrow
        if (field.metadata or {}).get(_KIND_KEY) == ValueKind.JSON.value.encode()
    ]
    for batch in parquet.iter_batches(batch_size=rows_per_read):
        for record in batch.to_pylist():
            for name in json_columns:
                if record[name] is not None:
                    record[name] = json.loads(record[name])
            yield record
