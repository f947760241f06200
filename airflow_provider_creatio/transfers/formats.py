"""STAND-IN until the ``load`` branch's formats module is merged (it replaces this file whole): JSON Lines only,
with the same ``write_files`` / ``WrittenFile`` / ``storage_path`` interface."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_creatio._compat import ObjectStoragePath
from airflow_provider_creatio.client.errors import CreatioValidationError


def storage_path(location: ObjectStoragePath | str, conn_id: str | None = None) -> ObjectStoragePath:
    text = str(location).strip()
    if "://" not in text:
        text = f"file://{os.path.abspath(text)}"
    return ObjectStoragePath(text, conn_id=conn_id)


@dataclass(frozen=True)
class WrittenFile:
    uri: str
    count: int


def write_files(
    records: Iterable[Mapping[str, Any]],
    path_for: Callable[[int], ObjectStoragePath | str],
    format: str,
    *,
    max_records_per_file: int,
    kinds: Mapping[str, Any] | None = None,
    conn_id: str | None = None,
) -> list[WrittenFile]:
    if format != "jsonl":
        raise CreatioValidationError(f"unknown file format {format!r}")
    iterator = iter(records)
    written: list[WrittenFile] = []
    pending = next(iterator, None)
    while pending is not None or not written:
        target = storage_path(path_for(len(written)), conn_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with target.open("wb") as handle:
            while pending is not None and count < max_records_per_file:
                handle.write(json.dumps(pending, ensure_ascii=False).encode() + b"\n")
                count += 1
                pending = next(iterator, None)
        written.append(WrittenFile(str(target), count))
    return written
