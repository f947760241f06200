"""What every record file writer does: take records one at a time, count them, refuse a record whose columns the
file does not have."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from airflow_provider_creatio.client.errors import CreatioFileError
from airflow_provider_creatio.formats.kinds import ValueKind

Record = dict[str, Any]


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


def check_columns(record: Mapping[str, Any], columns: Sequence[str], index: int) -> None:
    extra = [name for name in record if name not in columns]
    if extra:
        raise CreatioFileError(
            f"record #{index} has columns the file does not: {', '.join(map(str, extra))} "
            f"(the file's columns: {', '.join(columns)})"
        )
