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

from airflow_provider_creatio.formats.files import (
    WrittenFile,
    column_names,
    open_writer,
    read_chunks,
    read_records,
    write_files,
)
from airflow_provider_creatio.formats.kinds import FileFormat, ValueKind, kinds_for_entity
from airflow_provider_creatio.formats.location import opened_for_write, storage_path
from airflow_provider_creatio.formats.parquet_file import DEFAULT_READ_ROWS, DEFAULT_ROW_GROUP_SIZE
from airflow_provider_creatio.formats.record_writer import Record, RecordWriter

__all__ = [
    "DEFAULT_READ_ROWS",
    "DEFAULT_ROW_GROUP_SIZE",
    "FileFormat",
    "Record",
    "RecordWriter",
    "ValueKind",
    "WrittenFile",
    "column_names",
    "kinds_for_entity",
    "open_writer",
    "opened_for_write",
    "read_chunks",
    "read_records",
    "storage_path",
    "write_files",
]
