"""Files attached to Creatio records into object storage: ``CreatioFilesToObjectStorageOperator``.

Importing this module is cheap: object storage and the HTTP client are imported when a task runs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_creatio.assets import storage_uri
from airflow_provider_creatio.client.changes import CHANGE_COLUMN, change_window
from airflow_provider_creatio.client.lanes import DEFAULT_CONCURRENCY, MAX_CONCURRENCY
from airflow_provider_creatio.client.validation import check_count
from airflow_provider_creatio.marks import keep_window, run_window
from airflow_provider_creatio.operators.files import CreatioFileOperator
from airflow_provider_creatio.templated import as_filter

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context
    from airflow_provider_creatio.client.http import CallExecutor
    from airflow_provider_creatio.client.odata import Filter
    from airflow_provider_creatio.marks import Window

MANIFEST_NAME = "manifest.jsonl"
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f/\\]")


class CreatioFilesToObjectStorageOperator(CreatioFileOperator):
    """Copy the files attached to records (one record's, or those of every record with files matching
    ``filter``) into a folder on object storage, one object per file, streamed; and write a manifest of them.
    Links (file records of type Link) have no bytes: the manifest lists them with their ``url``.

    Objects are named ``<folder>/<file Id>/<file name>``: a rerun writes the same objects, and a file renamed in
    Creatio is written under its new name (the old object stays). The manifest, ``<folder>/manifest.jsonl``,
    has one JSON object per file: ``parent_entity``, ``parent_id``, ``file_id``, ``name``, ``type`` (``File`` or
    ``Link``), ``size``, ``mime_type``, ``sha256``, ``modified_on``, and ``uri`` (a file's object) or ``url`` (a
    link's address). Each download is checked against the file record's ``Size``.

    ``entity`` is the records' object, e.g. ``Contact`` (files in ``ContactFile``; templated).

    :param path: the folder to write into (``s3://bucket/contact-files/{{ ds }}/``). Templated.
    :param record_id: only this record's files. Templated.
    :param filter: conditions on the file records (``{"Name endswith": ".pdf"}``, ``"Size lt 1000000"``).
        Templated.
    :param polymorphic: read ``SysFile`` (``RecordSchemaName`` = ``entity``) instead of ``{entity}File``.
    :param incremental: copy only the files whose record was modified in a window of ``ModifiedOn``, as
        :class:`~airflow_provider_creatio.transfers.creatio_to_object_storage.CreatioToObjectStorageOperator`
        does for records: the run's data interval, or from the last run's high-water mark (kept in the Airflow
        Variable :meth:`watermark_key` names) to ``clock_margin`` before the run.
    :param clock_margin: see ``incremental``.
    :param concurrency: downloads in flight at once, 1 to 16 (default 4), on the task's one session.
    :param storage_conn_id: the Airflow connection that reaches the store. Templated.

    XCom: ``{"manifest_uri", "count", "files", "links", "bytes", "high_water_mark", "window"}`` and
    ``api_calls``.
    """

    template_fields: Sequence[str] = (
        "entity",
        "path",
        "record_id",
        "filter",
        "creatio_conn_id",
        "storage_conn_id",
    )
    writes_entity: ClassVar[bool] = False
    ui_color = "#dcecf9"

    def __init__(
        self,
        *,
        path: str,
        record_id: str | None = None,
        filter: Filter = None,
        polymorphic: bool = False,
        incremental: bool = False,
        clock_margin: dt.timedelta = dt.timedelta(minutes=1),
        concurrency: int = DEFAULT_CONCURRENCY,
        storage_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.record_id = record_id
        self.filter = filter
        self.polymorphic = polymorphic
        self.incremental = incremental
        self.clock_margin = clock_margin
        self.concurrency = check_count(concurrency, "concurrency", maximum=MAX_CONCURRENCY)
        self.storage_conn_id = storage_conn_id

    def watermark_key(self) -> str:
        """The Airflow Variable holding this task's high-water mark."""
        return f"creatio_files_watermark__{self.dag_id}__{self.task_id}"

    def run(self, context: Context) -> dict[str, Any]:
        from airflow_provider_creatio.formats import opened_for_write, storage_path

        window = run_window(context, self.watermark_key(), self.clock_margin) if self.incremental else None
        folder = self.path.rstrip("/")
        entries = self._copy_all(self._file_records(window), folder)
        manifest = f"{folder}/{MANIFEST_NAME}"
        with opened_for_write(storage_path(manifest, self.storage_conn_id)) as out:
            for entry in entries:
                out.write((json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
        if window is not None:
            description = f"{type(self).__name__} {self.dag_id}.{self.task_id} high-water mark"
            keep_window(self.watermark_key(), window, context["run_id"], description)
        copied = [entry for entry in entries if "uri" in entry]
        size = sum(entry["size"] or 0 for entry in copied)
        self.log.info(
            "Copied %d files (%d bytes) and %d links of %s to %s",
            len(copied),
            size,
            len(entries) - len(copied),
            self.lineage_entity,
            folder,
        )
        self.files_written = [(storage_uri(folder), len(entries), len(copied) + 1)]
        self.emit_asset(context, storage_uri(folder), {"files": len(copied), "bytes": size})
        return {
            "manifest_uri": manifest,
            "count": len(entries),
            "files": len(copied),
            "links": len(entries) - len(copied),
            "bytes": size,
            "high_water_mark": None if window is None else window[1],
            "window": None if window is None else list(window),
        }

    def _file_records(self, window: Window | None) -> Iterator[dict[str, Any]]:
        from airflow_provider_creatio.client import files

        conditions = files.files_filter(self.entity, self.record_id, as_filter(self.filter), self.polymorphic)
        if window is not None:
            conditions = change_window(conditions, *window)
        return self.hook.iter_keyset(
            self.lineage_entity,
            filter=conditions,
            select=files.metadata_columns(self.entity, self.polymorphic),
            column=CHANGE_COLUMN if window is not None else None,
        )

    def _copy_all(self, records: Iterator[dict[str, Any]], folder: str) -> list[dict[str, Any]]:
        """Every file record's manifest entry, its bytes copied first: ``concurrency`` downloads at a time on the
        task's session (a session per lane with a blocking ``session_mode``). The entries keep the records'
        order."""
        from airflow_provider_creatio.client.lanes import Lanes

        lanes = Lanes(self.concurrency, self.hook.lane_sessions())
        numbered = enumerate(records)
        lock = threading.Lock()

        def next_record() -> tuple[int, dict[str, Any]] | None:
            with lock:  # the keyset read is one generator: one thread at a time moves it
                return next(numbered, None)

        def worker() -> list[tuple[int, dict[str, Any]]]:
            done = []
            while (item := next_record()) is not None:
                done.append((item[0], self._copy(lanes, item[1], folder)))
            return done

        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="creatio-files") as pool:
            parts = [pool.submit(worker) for _ in range(self.concurrency)]
            entries = [entry for part in parts for entry in part.result()]
        return [entry for _, entry in sorted(entries, key=lambda pair: pair[0])]

    def _copy(self, lanes: CallExecutor, record: dict[str, Any], folder: str) -> dict[str, Any]:
        from airflow_provider_creatio.client import file_transfer
        from airflow_provider_creatio.client.files import FILE_TYPES, parent_columns
        from airflow_provider_creatio.formats import opened_for_write, storage_path

        parents = [record.get(column) for column in parent_columns(self.entity, self.polymorphic)]
        entry = {
            "parent_entity": self.entity,
            "parent_id": parents[-1],
            "file_id": record["Id"],
            "name": record.get("Name"),
            "type": "Link" if str(record.get("TypeId", "")).lower() == FILE_TYPES["Link"] else "File",
            "size": record.get("Size"),
            "modified_on": record.get("ModifiedOn"),
        }
        if entry["type"] == "Link":
            return {**entry, "url": record.get("Url")}
        uri = f"{folder}/{record['Id']}/{_object_name(record.get('Name'), record['Id'])}"
        target = storage_path(uri, self.storage_conn_id)
        copy = file_transfer.download(
            lanes,
            self.lineage_entity,
            record["Id"],
            lambda: opened_for_write(target),
            expected_size=record.get("Size"),
        )
        return {**entry, "size": copy.size, "mime_type": copy.mime_type, "sha256": copy.sha256, "uri": uri}


def _object_name(name: object, file_id: str) -> str:
    """A file's name as the last part of an object key: no folders, no control characters."""
    cleaned = _UNSAFE_IN_NAME.sub("_", str(name or "")).strip(" .")
    return cleaned or file_id
