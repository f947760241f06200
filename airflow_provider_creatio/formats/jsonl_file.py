"""JSON Lines: one JSON object per line, UTF-8, exactly the values given."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping
from typing import IO, Any

from airflow_provider_creatio._compat import ObjectStoragePath
from airflow_provider_creatio.client.errors import CreatioFileError
from airflow_provider_creatio.formats.kinds import ValueKind
from airflow_provider_creatio.formats.record_writer import Record, RecordWriter


class JsonLinesWriter(RecordWriter):
    def __init__(self, handle: IO[bytes], kinds: Mapping[str, ValueKind] | None) -> None:
        super().__init__(handle, kinds)
        self._text = io.TextIOWrapper(handle, encoding="utf-8", newline="\n", write_through=False)

    def _write(self, record: Mapping[str, Any]) -> None:
        self._text.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        self._text.write("\n")

    def finish(self) -> None:
        self._text.flush()
        self._text.detach()


def read_json_lines(handle: IO[bytes], source: ObjectStoragePath) -> Iterator[Record]:
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
