"""Record files as whole files: open one for writing or reading in the format it is (or its name says), write
many records into numbered files, read a file's column names."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from airflow_provider_creatio._compat import ObjectStoragePath
from airflow_provider_creatio.client.errors import CreatioFileError
from airflow_provider_creatio.deprecated import renamed
from airflow_provider_creatio.formats import csv_file, jsonl_file, parquet_file
from airflow_provider_creatio.formats.kinds import FileFormat, ValueKind
from airflow_provider_creatio.formats.location import opened_for_write, storage_path
from airflow_provider_creatio.formats.record_writer import Record, RecordWriter


@contextmanager
def open_writer(
    path: ObjectStoragePath | str,
    format: FileFormat | str | None = None,
    *,
    kinds: Mapping[str, ValueKind] | None = None,
    conn_id: str | None = None,
    row_group_size: int = parquet_file.DEFAULT_ROW_GROUP_SIZE,
) -> Iterator[RecordWriter]:
    """A writer of records into one file, replacing it: ``with open_writer(uri, "csv") as out: out.write(r)``.

    ``format`` defaults to the one the path's suffix names. ``kinds`` fixes the columns, in order (CSV's header,
    Parquet's schema); without it they come from the first record (CSV) or row group (Parquet)."""
    target = storage_path(path, conn_id)
    file_format = FileFormat.resolve(format, target)
    if file_format is FileFormat.PARQUET:
        parquet_file.pyarrow_modules()  # refuse before a file is opened
    with opened_for_write(target) as handle:
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
        return jsonl_file.JsonLinesWriter(handle, kinds)
    if file_format is FileFormat.CSV:
        return csv_file.CsvWriter(handle, kinds)
    return parquet_file.ParquetWriter(handle, kinds, row_group_size)


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


def read_records(
    path: ObjectStoragePath | str,
    format: FileFormat | str | None = None,
    *,
    kinds: Mapping[str, ValueKind] | None = None,
    conn_id: str | None = None,
    rows_per_read: int = parquet_file.DEFAULT_READ_ROWS,
    batch_size: int | None = None,
) -> Iterator[Record]:
    """The records of one file, one at a time (the file is opened at the first record and stays open until the
    iterator is exhausted or closed; a wrong format or argument fails at the call).

    ``kinds`` types CSV cells (a column without one is text); JSON Lines and Parquet carry their own types.
    ``rows_per_read`` is how many Parquet rows are decoded at a time (``batch_size``, deprecated: everywhere else
    that name means requests per ``$batch``)."""
    rows_per_read = renamed("batch_size", "rows_per_read", batch_size, rows_per_read)
    source = storage_path(path, conn_id)
    file_format = FileFormat.resolve(format, source)
    if file_format is FileFormat.PARQUET:
        parquet_file.pyarrow_modules()
    return _records(source, file_format, kinds or {}, rows_per_read)


def _records(
    source: ObjectStoragePath, file_format: FileFormat, kinds: Mapping[str, ValueKind], rows_per_read: int
) -> Iterator[Record]:
    with source.open("rb") as handle:
        if file_format is FileFormat.JSONL:
            yield from jsonl_file.read_json_lines(handle, source)
        elif file_format is FileFormat.CSV:
            yield from csv_file.read_csv(handle, source, kinds)
        else:
            yield from parquet_file.read_parquet(handle, rows_per_read)


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
    if file_format is not FileFormat.JSONL:
        with source.open("rb") as handle:
            if file_format is FileFormat.CSV:
                return csv_file.header(handle)
            return parquet_file.column_names(handle)
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
