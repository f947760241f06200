"""Attach files from object storage to a Creatio record: ``CreatioUploadFileOperator``.

Importing this module is cheap: object storage and the HTTP client are imported when a task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_creatio.operators.entity import CreatioEntityOperator

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context


class CreatioFileOperator(CreatioEntityOperator):
    """Base of the operators that move record files: the files of ``entity``'s records live in ``{entity}File``,
    or in ``SysFile`` with ``polymorphic`` (Creatio 8.3.2+), which lineage names."""

    polymorphic: bool = False

    @property
    def lineage_entity(self) -> str:
        from airflow_provider_creatio.client.files import file_entity

        return file_entity(self.entity, self.polymorphic)


class CreatioUploadFileOperator(CreatioFileOperator):
    """Attach one or more files from object storage to one record, as its ``{entity}File`` records (or
    ``SysFile`` with ``polymorphic``, Creatio 8.3.2+), streamed in chunks through ``FileApiService/UploadFile``.

    Each file's record gets an Id derived from the record and the file's name unless ``file_ids`` names one, so a
    retried or rerun task replaces the bytes of the attachments it made instead of adding new ones. Before any
    byte is sent, every file is checked against the site's ``MaxFileSize`` and file extension lists (read once),
    the record must exist, and a file Id must not be another record's.

    ``entity`` is the record's object, e.g. ``Contact``, ``Account``, ``Case``, ``Activity`` (templated).

    :param record_id: the record's Id. Templated.
    :param source: a file, or a list of files: ObjectStoragePath URIs (``s3://bucket/scans/a.pdf``) or local
        paths. Templated.
    :param names: the attachments' names, one per file (by default each file's own name). Templated.
    :param file_ids: the file records' Ids, one per file (by default derived from the record and the name).
        Templated.
    :param polymorphic: keep the files in ``SysFile`` (``RecordSchemaName``, ``RecordId``) instead of
        ``{entity}File``.
    :param chunk_size: bytes per upload request (1 MiB by default, as Creatio's own client; 64 KiB to 4 MiB).
    :param storage_conn_id: the Airflow connection that reaches the store. Templated.

    XCom: ``{"entity", "record_id", "files": [{"file_id", "name", "size", "sha256", "mime_type", "uri"}],
    "bytes"}`` and ``api_calls``.
    """

    template_fields: Sequence[str] = (
        "entity",
        "record_id",
        "source",
        "names",
        "file_ids",
        "creatio_conn_id",
        "storage_conn_id",
    )
    writes_entity: ClassVar[bool] = True
    ui_color = "#e3f4e8"

    def __init__(
        self,
        *,
        record_id: str,
        source: str | Sequence[str],
        names: Sequence[str] | None = None,
        file_ids: Sequence[str] | None = None,
        polymorphic: bool = False,
        chunk_size: int | None = None,
        storage_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.record_id = record_id
        self.source = source
        self.names = names
        self.file_ids = file_ids
        self.polymorphic = polymorphic
        self.chunk_size = chunk_size
        self.storage_conn_id = storage_conn_id

    def run(self, context: Context) -> dict[str, Any]:
        sources = [self.source] if isinstance(self.source, str) else list(self.source)
        names = _one_each(self.names, sources, "names")
        file_ids = _one_each(self.file_ids, sources, "file_ids")
        self.files_read = sources
        copies = []
        for source, name, file_id in zip(sources, names, file_ids, strict=True):
            copy = self.hook.upload_file(
                self.entity,
                self.record_id,
                source,
                name=name,
                file_id=file_id,
                chunk_size=self.chunk_size,
                polymorphic=self.polymorphic,
                storage_conn_id=self.storage_conn_id,
            )
            self.log.info(
                "Attached %s (%d bytes) to %s(%s) as file %s",
                source,
                copy.size,
                self.entity,
                self.record_id,
                copy.file_id,
            )
            copies.append({**copy.to_dict(), "uri": source})
        self.rows_written = len(copies)
        return {
            "entity": self.entity,
            "record_id": self.record_id,
            "files": copies,
            "bytes": sum(copy["size"] for copy in copies),
        }


def _one_each(values: Sequence[str] | None, sources: list[str], argument: str) -> list[str | None]:
    from airflow_provider_creatio.client.errors import CreatioValidationError

    if values is None:
        return [None] * len(sources)
    listed: list[str | None] = [values] if isinstance(values, str) else list(values)
    if len(listed) != len(sources):
        raise CreatioValidationError(
            f"{argument} must name one value per file: {len(listed)} for {len(sources)} file(s)"
        )
    return listed
