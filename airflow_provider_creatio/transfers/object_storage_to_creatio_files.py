"""Files on object storage attached to Creatio records: ``ObjectStorageToCreatioFilesOperator``.

Importing this module is cheap: object storage and the HTTP client are imported when a task runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_creatio._compat import AirflowException
from airflow_provider_creatio.client.bulk_operation import FAILURE_REPORT_KEY
from airflow_provider_creatio.client.lanes import DEFAULT_CONCURRENCY, MAX_CONCURRENCY
from airflow_provider_creatio.client.validation import check_count
from airflow_provider_creatio.operators.files import CreatioFileOperator

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context, ObjectStoragePath
    from airflow_provider_creatio.client.files import UploadLimits
    from airflow_provider_creatio.client.http import CallExecutor

REPORT_NAME = "_files.report.jsonl"


class ObjectStorageToCreatioFilesOperator(CreatioFileOperator):
    """Attach files from object storage to Creatio records, each to the record a manifest or the folder layout
    names, streamed in chunks through ``FileApiService/UploadFile``; ``concurrency`` files at a time.

    Idempotent by file Id: a file's record gets the ``file_id`` its manifest line names, or one derived from the
    record and the name, so a rerun (or a retry after a worker died mid-upload) replaces the bytes of the same
    attachments and never adds a second one. Before any byte is sent, every file is checked against the site's
    ``MaxFileSize`` and extension lists (read once); a file whose record is missing, or whose Id is another
    record's file, fails alone. Every file is tried; the outcomes go to a report, one JSON object per file
    (``parent_id``, ``file_id``, ``name``, ``uri``, ``ok``, and ``size`` and ``sha256`` or ``error``), written at
    ``<manifest>.report.jsonl`` or ``<folder>/_files.report.jsonl``.

    ``entity`` is the records' object, e.g. ``Contact`` (files in ``ContactFile``; templated).

    :param manifest: a JSON Lines file with one object per file: ``parent_id`` (the record), ``uri`` (the file),
        and optionally ``name``, ``file_id`` and ``mime_type``. The manifest that
        :class:`~.creatio_files_to_object_storage.CreatioFilesToObjectStorageOperator` writes is one (its links,
        which have no ``uri``, are left out). Templated.
    :param source: instead of a manifest, a folder laid out as ``<folder>/<record Id>/<file name>``: every file
        one level below a sub-folder named by a record Id goes to that record. Templated.
    :param polymorphic: keep the files in ``SysFile`` instead of ``{entity}File``.
    :param chunk_size: bytes per upload request (1 MiB by default; 64 KiB to 4 MiB).
    :param concurrency: files uploaded at once, 1 to 16 (default 4), on the task's session (a session per lane
        with the connection's blocking ``session_mode``).
    :param allow_partial: succeed even when some files failed (counted in the XCom, listed in the report). By
        default any failed file fails the task, after every file was tried.
    :param max_api_calls: fail before sending anything when the load could spend more API calls than this, as
        Creatio counts them (per file: one read of its record, one of the parent's when the file is new, and
        one per chunk; and one read of the site's limits). The count is an upper bound.
    :param storage_conn_id: the Airflow connection that reaches the store. Templated.

    XCom: ``{"entity", "count", "succeeded", "failed", "bytes", "report"}`` and ``api_calls``; when the task
    fails, the same value is pushed under the key ``bulk_report``.
    """

    template_fields: Sequence[str] = (
        "entity",
        "manifest",
        "source",
        "creatio_conn_id",
        "storage_conn_id",
    )
    writes_entity: ClassVar[bool] = True
    ui_color = "#e3f4e8"

    def __init__(
        self,
        *,
        manifest: str | None = None,
        source: str | None = None,
        polymorphic: bool = False,
        chunk_size: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        allow_partial: bool = False,
        max_api_calls: int | None = None,
        storage_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (manifest is None) == (source is None):
            raise ValueError("give either manifest or source (a folder of <record Id>/<file name>), not both")
        self.manifest = manifest
        self.source = source
        self.polymorphic = polymorphic
        self.chunk_size = chunk_size
        self.concurrency = check_count(concurrency, "concurrency", maximum=MAX_CONCURRENCY)
        self.allow_partial = allow_partial
        self.max_api_calls = max_api_calls
        self.storage_conn_id = storage_conn_id

    def run(self, context: Context) -> dict[str, Any]:
        from airflow_provider_creatio.client import files
        from airflow_provider_creatio.client.lanes import Lanes

        chunk = files.check_chunk_size(self.chunk_size or files.DEFAULT_CHUNK_SIZE)
        wanted = list(self._wanted())
        self.files_read = [item["uri"] for item in wanted]
        if self.max_api_calls is not None:
            self.refuse_over_api_calls(self.max_api_calls, _calls_needed(wanted, chunk))
        limits = self.hook.upload_limits
        lanes = Lanes(self.concurrency, self.hook.lane_sessions())
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="creatio-files") as pool:
            outcomes = list(pool.map(lambda item: self._upload(lanes, limits, item, chunk), wanted))
        return self._finish(context, outcomes)

    def _wanted(self) -> Iterator[dict[str, Any]]:
        """The files to upload, each as ``{"parent_id", "uri", "size", "name"?, "file_id"?, "mime_type"?}``."""
        from airflow_provider_creatio.formats import storage_path

        if self.manifest is not None:
            for line in _manifest_lines(storage_path(self.manifest, self.storage_conn_id)):
                path = storage_path(line["uri"], self.storage_conn_id)
                yield {**line, "size": path.stat().st_size}
            return
        folder = storage_path(str(self.source), self.storage_conn_id)
        for parent in sorted(folder.iterdir(), key=str):
            if not parent.is_dir():
                continue
            for path in sorted(parent.iterdir(), key=str):
                if path.is_file() and not path.name.startswith((".", "_")):
                    uri = f"{str(self.source).rstrip('/')}/{parent.name}/{path.name}"
                    yield {"parent_id": parent.name, "uri": uri, "size": path.stat().st_size}

    def _upload(
        self, lanes: CallExecutor, limits: UploadLimits, item: dict[str, Any], chunk: int
    ) -> dict[str, Any]:
        """One file: its outcome, never an exception for what concerns this file alone."""
        from airflow_provider_creatio.client import file_transfer, files
        from airflow_provider_creatio.client.errors import CreatioError
        from airflow_provider_creatio.formats import storage_path

        path = storage_path(item["uri"], self.storage_conn_id)
        name = item.get("name") or path.name
        outcome: dict[str, Any] = {"parent_id": item["parent_id"], "name": name, "uri": item["uri"]}
        try:
            parent = files.FileParent.of(self.entity, item["parent_id"], self.polymorphic)
            upload = files.FileUpload.of(
                parent, name, item["size"], file_id=item.get("file_id"), mime_type=item.get("mime_type")
            )
            outcome["file_id"] = upload.file_id
            copy = file_transfer.send(lanes, upload, lambda: path.open("rb"), limits, chunk)
        except CreatioError as err:
            self.log.warning(
                "File %s for %s(%s) failed: %s", item["uri"], self.entity, item["parent_id"], err
            )
            return {**outcome, "ok": False, "error": str(err)}
        return {**outcome, "ok": True, "size": copy.size, "sha256": copy.sha256}

    def _finish(self, context: Context, outcomes: list[dict[str, Any]]) -> dict[str, Any]:
        from airflow_provider_creatio.formats import opened_for_write, storage_path

        report = self._report_uri()
        with opened_for_write(storage_path(report, self.storage_conn_id)) as out:
            for outcome in outcomes:
                out.write((json.dumps(outcome, ensure_ascii=False) + "\n").encode("utf-8"))
        failed = [outcome for outcome in outcomes if not outcome["ok"]]
        self.rows_written = len(outcomes) - len(failed)
        value = {
            "entity": self.lineage_entity,
            "count": len(outcomes),
            "succeeded": len(outcomes) - len(failed),
            "failed": len(failed),
            "bytes": sum(outcome.get("size", 0) for outcome in outcomes),
            "report": report,
        }
        self.log.info("Upload into %s: %s", self.lineage_entity, value)
        if failed and not self.allow_partial:
            context["ti"].xcom_push(key=FAILURE_REPORT_KEY, value=value)
            shown = "\n".join(f"- {o['uri']}: {o['error']}" for o in failed[:10])
            raise AirflowException(
                f"upload into {self.lineage_entity}: {len(failed)} of {len(outcomes)} files failed (every outcome "
                f"is in {report}):\n{shown}"
            )
        return value

    def _report_uri(self) -> str:
        if self.manifest is not None:
            return f"{self.manifest}.report.jsonl"
        return f"{str(self.source).rstrip('/')}/{REPORT_NAME}"


def _manifest_lines(path: ObjectStoragePath) -> Iterator[dict[str, Any]]:
    """The manifest's files (lines without a ``uri``, a link, are skipped), each checked."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError as err:
                raise AirflowException(f"{path}, line {number}: not JSON ({err})") from None
            if not isinstance(line, dict) or not line.get("parent_id"):
                raise AirflowException(f"{path}, line {number}: a file needs parent_id and uri")
            if line.get("uri"):
                yield line


def _calls_needed(wanted: list[dict[str, Any]], chunk: int) -> int:
    """The most calls the load can spend: the limits' read, and per file two reads and a request per chunk."""
    return 1 + sum(2 + max(1, -(-int(item["size"]) // chunk)) for item in wanted)
