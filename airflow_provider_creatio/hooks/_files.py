"""Record-file (attachment) calls of CreatioHook. Kept in its own module; CreatioHook mixes it in.

Files are read from and written to any location Airflow's object storage reaches (an
:class:`~airflow.sdk.ObjectStoragePath`, a URI, or a local path), streamed: memory holds a chunk. The site's
upload limits are read once per hook (one task). The client modules are imported inside the methods, so importing
the hook stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import logging

    from airflow_provider_creatio._compat import ObjectStoragePath
    from airflow_provider_creatio.client.file_transfer import FileCopy
    from airflow_provider_creatio.client.files import UploadLimits
    from airflow_provider_creatio.client.http import Call
    from airflow_provider_creatio.client.page_fit import PageSizes
    from airflow_provider_creatio.client.transport import CreatioClient

T = TypeVar("T")


class FileCallsMixin:
    """Upload, download, list and delete the files attached to records."""

    if TYPE_CHECKING:
        log: logging.Logger

        @property
        def client(self) -> CreatioClient: ...

        @property
        def page_sizes(self) -> PageSizes: ...

        def call(self, call: Call[T]) -> T: ...

    @cached_property
    def upload_limits(self) -> UploadLimits:
        """The site's ``MaxFileSize`` and file extension lists, read once per hook. When they cannot be read (a
        user without access to system settings, a site without the service) nothing is checked before an upload,
        and the site's own refusal of the first chunk says why."""
        from airflow_provider_creatio.client import files
        from airflow_provider_creatio.client.errors import CreatioError

        try:
            settings = self.call(files.query_settings())
        except CreatioError as err:
            self.log.warning(
                "Could not read the site's upload limits; uploads are not checked first: %s", err
            )
            return files.UploadLimits(None)
        return files.upload_limits(settings)

    def upload_file(
        self,
        entity: str,
        record_id: str,
        source: ObjectStoragePath | str,
        *,
        name: str | None = None,
        file_id: str | None = None,
        mime_type: str | None = None,
        chunk_size: int | None = None,
        polymorphic: bool = False,
        storage_conn_id: str | None = None,
    ) -> FileCopy:
        """Attach the file at ``source`` to the record ``record_id`` of ``entity`` (``{entity}File``, or
        ``SysFile`` with ``polymorphic``), under ``name`` (the file's own by default). ``file_id`` is the file
        record's Id: by default one derived from the record and the name, so that uploading the same name again
        replaces that attachment's bytes instead of adding a second one. Checked before any byte is sent: the
        site's ``MaxFileSize`` and extension lists, a parent that exists, a file Id that is not another
        record's, a file that is not empty. Sent in chunks of ``chunk_size`` bytes (1 MiB; at most 4 MiB); a
        ``SysFile`` record is made first with an OData POST."""
        from airflow_provider_creatio.client import file_transfer, files
        from airflow_provider_creatio.formats.location import storage_path

        parent = files.FileParent.of(entity, record_id, polymorphic)
        path = storage_path(source, storage_conn_id)
        name = name or path.name
        upload = files.FileUpload.of(parent, name, path.stat().st_size, file_id=file_id, mime_type=mime_type)
        chunk = files.check_chunk_size(chunk_size or files.DEFAULT_CHUNK_SIZE)
        return file_transfer.send(self.client, upload, lambda: path.open("rb"), self.upload_limits, chunk)

    def add_file_link(
        self,
        entity: str,
        record_id: str,
        url: str,
        *,
        name: str | None = None,
        file_id: str | None = None,
        polymorphic: bool = False,
    ) -> str:
        """Attach a link (a file record of type Link, no bytes) to a record; its file Id. Idempotent like
        :meth:`upload_file`: the same link name on the same record is one attachment."""
        from airflow_provider_creatio.client import file_transfer, files, records

        parent = files.FileParent.of(entity, record_id, polymorphic)
        name = name or url
        chosen = files.file_id_for(parent, name, file_id)
        file_transfer.check_destination(self.client, parent, chosen)
        records.create(self.client, parent.file_entity, files.link_body(parent, name, url), chosen)
        return chosen

    def download_file(
        self,
        file_entity: str,
        file_id: str,
        target: ObjectStoragePath | str,
        *,
        expected_size: int | None = None,
        storage_conn_id: str | None = None,
    ) -> FileCopy:
        """Write the bytes of the file ``file_id`` of ``file_entity`` (``ContactFile``, ``SysFile``...) to
        ``target``, streamed. The target appears only complete: a local file is renamed into place, an object
        is shown once its upload ends. The length is checked against ``Content-Length`` and ``expected_size``
        (the record's ``Size``, when the caller has it)."""
        from airflow_provider_creatio.client import file_transfer
        from airflow_provider_creatio.formats.location import opened_for_write, storage_path

        path = storage_path(target, storage_conn_id)
        return file_transfer.download(
            self.client, file_entity, file_id, lambda: opened_for_write(path), expected_size=expected_size
        )

    def iter_files(
        self,
        entity: str,
        record_id: str | None = None,
        *,
        filter: str | Mapping[str, Any] | None = None,
        polymorphic: bool = False,
        page_size: int = 1000,
    ) -> Iterator[dict[str, Any]]:
        """The file records (Id, Name, TypeId, Size, Url, CreatedOn, ModifiedOn and the parent's columns) of one
        record, or of every record of ``entity`` with ``filter`` on the file records, keyset-paged."""
        from airflow_provider_creatio.client import files, paging

        conditions = files.files_filter(entity, record_id, filter, polymorphic)
        return paging.iter_keyset(
            self.client,
            files.file_entity(entity, polymorphic),
            filter=conditions,
            select=files.metadata_columns(entity, polymorphic),
            page_size=page_size,
            page_sizes=self.page_sizes,
        )

    def delete_file(self, file_entity: str, file_id: str, *, missing_ok: bool = False) -> bool:
        """Delete a file record (and so its bytes); False when it was already gone and ``missing_ok``."""
        from airflow_provider_creatio.client import odata

        return self.call(odata.delete_record(file_entity, file_id, missing_ok=missing_ok))
