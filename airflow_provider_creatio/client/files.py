"""Record files (attachments): where a record's files live, the calls that move their bytes, and the site's upload
limits. No I/O here; :mod:`.file_transfer` runs these calls over a client.

Creatio keeps a record's files in ``{Object}File`` objects (``ContactFile``, ``CaseFile``...; the polymorphic
``SysFile`` from 8.3.2), takes a file's bytes through ``rest/FileApiService/UploadFile`` one chunk per request with
a ``Content-Range`` (the first chunk makes the file record, with the Id the client chose), and gives them back
through ``rest/FileService/Download/{Object}File/{Id}``, the name in ``Content-Disposition``
(docs/creatio-notes/record-files.md).
"""

from __future__ import annotations

import dataclasses
import email.message
import mimetypes
import uuid
from collections.abc import Mapping
from typing import Any

from airflow_provider_creatio.client import odata, validation
from airflow_provider_creatio.client.errors import CreatioResponseError, CreatioValidationError
from airflow_provider_creatio.client.http import (
    MAX_BODY_BYTES,
    ApiRequest,
    ApiResponse,
    BodySink,
    Call,
    Service,
)
from airflow_provider_creatio.client.responses import decode_json

# CrtBaseConsts FileConsts: what a file record is.
FILE_TYPES = {
    "File": "529bc2f8-0ee0-df11-971b-001d60e938c6",
    "Link": "539bc2f8-0ee0-df11-971b-001d60e938c6",
    "EntityLink": "549bc2f8-0ee0-df11-971b-001d60e938c6",
}
POLYMORPHIC_ENTITY = "SysFile"  # Creatio 8.3.2+: one object for the files of every record
DEFAULT_CHUNK_SIZE = 1024 * 1024  # what Creatio's own .NET client sends
MIN_CHUNK_SIZE = 64 * 1024
# The namespace of the file Ids an upload chooses when it is given none: one Id per record and file name, so that
# a retried or rerun upload writes the same file record.
FILE_ID_NAMESPACE = uuid.UUID("6f0d3c1e-4b5a-4c7e-9a51-2d8f3e7b9c10")
METADATA_COLUMNS = ("Id", "Name", "TypeId", "Size", "Url", "CreatedOn", "ModifiedOn")
UPLOAD_SETTINGS = ("MaxFileSize", "FileExtensionsAllowList", "FileExtensionsDenyList")


@dataclasses.dataclass(frozen=True)
class FileParent:
    """The record files hang on, and in which form its files are kept: ``{entity}File`` with a lookup column
    named after the entity (every version), or ``SysFile`` with ``RecordSchemaName`` and ``RecordId`` (8.3.2+)."""

    entity: str
    record_id: str
    polymorphic: bool = False

    @classmethod
    def of(cls, entity: object, record_id: object, polymorphic: bool = False) -> FileParent:
        return cls(
            validation.check_entity_name(entity, "entity"),
            validation.parse_guid(record_id, "record_id"),
            polymorphic,
        )

    @property
    def file_entity(self) -> str:
        return file_entity(self.entity, self.polymorphic)

    @property
    def columns(self) -> dict[str, str]:
        """The file record's columns that name the parent."""
        if self.polymorphic:
            return {"RecordSchemaName": self.entity, "RecordId": self.record_id}
        return {f"{self.entity}Id": self.record_id}

    def owns(self, record: Mapping[str, Any]) -> bool:
        """Whether a file record (read with :attr:`columns`) belongs to this parent."""
        return all(str(record.get(name, "")).lower() == value.lower() for name, value in self.columns.items())

    def __str__(self) -> str:
        return f"{self.entity}({self.record_id})"


def file_entity(entity: str, polymorphic: bool = False) -> str:
    """The object that keeps the files of ``entity``'s records."""
    return POLYMORPHIC_ENTITY if polymorphic else f"{validation.check_entity_name(entity)}File"


def parent_columns(entity: str, polymorphic: bool = False) -> tuple[str, ...]:
    """The columns of a file record that name its parent record."""
    return ("RecordSchemaName", "RecordId") if polymorphic else (f"{entity}Id",)


def metadata_columns(entity: str, polymorphic: bool = False) -> list[str]:
    """What a listing reads of each file record: never the bytes."""
    return [*METADATA_COLUMNS, *parent_columns(entity, polymorphic)]


def files_filter(
    entity: str, record_id: str | None, conditions: str | Mapping[str, Any] | None, polymorphic: bool = False
) -> str | None:
    """The file records of one record (``record_id``), or of every record of ``entity``; ``conditions`` on the
    file records narrow them (``{"ModifiedOn gt": ...}``, ``"startswith(Name, 'Scan')"``)."""
    parts = [odata.build_filter(conditions)]
    if polymorphic:
        parts.append(odata.build_filter({"RecordSchemaName": validation.check_entity_name(entity)}))
    if record_id is not None:
        key = "RecordId" if polymorphic else f"{entity}/Id"  # a lookup is filtered through its navigation
        parts.append(odata.build_filter({key: validation.parse_guid(record_id, "record_id")}))
    present = [part for part in parts if part]
    return " and ".join(f"({part})" for part in present) if present else None


@dataclasses.dataclass(frozen=True)
class UploadLimits:
    """What the site refuses to take, from its system settings: ``max_bytes`` (``MaxFileSize``, None when it could
    not be read) and the extension lists (``FileExtensionsAllowList``, ``FileExtensionsDenyList``; lower case,
    without the dot; an empty allow list allows every extension the deny list does not name)."""

    max_bytes: int | None
    allowed: frozenset[str] = frozenset()
    denied: frozenset[str] = frozenset()

    def check(self, name: str, size: int) -> None:
        """Refuse, before any byte is sent, a file the site would refuse."""
        extension = name.rsplit(".", 1)[1].lower() if "." in name else ""
        if extension in self.denied:
            raise CreatioValidationError(
                f"file {name!r}: the site refuses the extension {extension!r} (system setting FileExtensionsDenyList)"
            )
        if self.allowed and extension not in self.allowed:
            raise CreatioValidationError(
                f"file {name!r}: the extension {extension!r} is not in the site's FileExtensionsAllowList "
                f"({', '.join(sorted(self.allowed))})"
            )
        if self.max_bytes is not None and size > self.max_bytes:
            raise CreatioValidationError(
                f"file {name!r} has {size:,} bytes, more than the site's MaxFileSize of {self.max_bytes:,} bytes "
                f"({self.max_bytes / 2**20:g} MB); an administrator can raise the system setting MaxFileSize"
            )


def check_chunk_size(value: object) -> int:
    """Bytes per upload request: at most ASP.NET's default request limit, at least 64 KiB."""
    return validation.check_count(value, "chunk_size", maximum=MAX_BODY_BYTES, minimum=MIN_CHUNK_SIZE)


def mime_type_of(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def chunk_ranges(total: int, chunk_size: int) -> list[tuple[int, int]]:
    """The ``(start, end)`` byte ranges (end exclusive) a file of ``total`` bytes is sent in."""
    return [(start, min(start + chunk_size, total)) for start in range(0, total, chunk_size)]


@dataclasses.dataclass(frozen=True)
class FileUpload:
    """A file to send: the record it goes to, the Id its file record gets (chosen by the client, so that a
    repeated upload writes the same record), its name, MIME type and size (not 0: UploadFile takes at least one
    byte)."""

    parent: FileParent
    file_id: str
    name: str
    mime_type: str
    size: int

    @classmethod
    def of(
        cls,
        parent: FileParent,
        name: str,
        size: int,
        *,
        file_id: str | None = None,
        mime_type: str | None = None,
    ) -> FileUpload:
        """The upload of ``name``: ``file_id`` checked, or the record's default Id for the name
        (:func:`file_id_for`); ``mime_type``, or the one the name's extension gives."""
        return cls(parent, file_id_for(parent, name, file_id), name, mime_type or mime_type_of(name), size)

    def __post_init__(self) -> None:
        if self.size == 0:
            raise CreatioValidationError(
                f"file {self.name!r} is empty; Creatio's UploadFile takes at least one byte"
            )

    def chunk(self, start: int, data: bytes | memoryview) -> Call[None]:
        """The chunk of the file's bytes that begins at ``start``. Safe to repeat: the file Id and the byte range
        say where it goes."""
        return _upload_chunk(self, start, data)


def _upload_chunk(upload: FileUpload, start: int, chunk: bytes | memoryview) -> Call[None]:
    parent, name, total = upload.parent, upload.name, upload.size
    last = start + len(chunk) - 1
    params = [
        ("fileId", upload.file_id),
        ("totalFileLength", str(total)),
        ("mimeType", upload.mime_type),
        ("fileName", name),
        ("columnName", "Data"),
        ("entitySchemaName", parent.file_entity),
    ]
    parent_column = "RecordId" if parent.polymorphic else parent.entity  # the lookup's name, without "Id"
    params += [("parentColumnName", parent_column), ("parentColumnValue", parent.record_id)]
    operation = f"upload {name!r} to {parent} (bytes {start:,}-{last:,} of {total:,})"
    request = ApiRequest(
        "POST",
        Service.APP,
        "rest/FileApiService/UploadFile",
        params=tuple(params),
        content=chunk,
        headers={
            "Content-Type": upload.mime_type,
            "Content-Range": f"bytes {start}-{last}/{total}",
            "Content-Disposition": _disposition(name),
        },
        operation=operation,
    )

    def parse(response: ApiResponse) -> None:
        document = (
            decode_json(response, operation=operation) if response.content.strip() else {"success": True}
        )
        if isinstance(document, dict) and document.get("success") is False:
            info = document.get("errorInfo") or {}
            raise CreatioResponseError(
                "Creatio refused the file's bytes",
                status=response.status,
                method=response.method or None,
                path=response.path or None,
                server_message=str(info.get("message") or info.get("errorCode") or "no reason given"),
                operation=operation,
            )

    return Call(request, parse)


@dataclasses.dataclass(frozen=True)
class Downloaded:
    """What a download's answer said of the file: its name and MIME type, and its length when given."""

    name: str | None
    mime_type: str | None
    length: int | None


def download(file_entity: str, file_id: str, sink: BodySink) -> Call[Downloaded]:
    """A file's bytes, streamed into ``sink``."""
    entity = validation.check_entity_name(file_entity, "file entity")
    file_id = validation.parse_guid(file_id, "file_id")
    request = ApiRequest(
        "GET",
        Service.APP,
        f"rest/FileService/Download/{entity}/{file_id}",
        headers={"Accept": "*/*"},
        operation=f"download {entity}({file_id})",
    )

    def parse(response: ApiResponse) -> Downloaded:
        length = response.headers.get("content-length")
        return Downloaded(
            name=disposition_name(response.headers.get("content-disposition", "")),
            mime_type=response.content_type or None,
            length=int(length) if length and length.isdigit() else None,
        )

    return Call(request, parse, sink=sink)


def file_record(file_entity: str, file_id: str) -> Call[dict[str, Any]]:
    return odata.get_record(file_entity, file_id)


def link_body(parent: FileParent, name: str, url: str) -> dict[str, Any]:
    """A link's file record: no bytes, the address in ``Url``."""
    return {"Name": name, "Url": url, "TypeId": FILE_TYPES["Link"], **parent.columns}


def query_settings(names: tuple[str, ...] = UPLOAD_SETTINGS) -> Call[dict[str, Any]]:
    """System settings' values by code (DataService ``QuerySysSettings``); a code the site does not have is
    left out."""
    operation = "read the system settings " + ", ".join(names)
    request = ApiRequest(
        "POST",
        Service.APP,
        "DataService/json/SyncReply/QuerySysSettings",
        json_body={"sysSettingsNameCollection": list(names)},
        operation=operation,
    )

    def parse(response: ApiResponse) -> dict[str, Any]:
        document = decode_json(response, operation=operation)
        values = document.get("values") if isinstance(document, dict) else None
        if not isinstance(values, dict):
            raise CreatioResponseError(
                "the answer has no 'values' object", status=response.status, operation=operation
            )
        return {
            code: entry.get("value") if isinstance(entry, dict) else entry for code, entry in values.items()
        }

    return Call(request, parse)


def upload_limits(settings: Mapping[str, Any]) -> UploadLimits:
    """The limits that the settings read by :func:`query_settings` set. ``MaxFileSize`` is in megabytes."""
    size = settings.get("MaxFileSize")
    max_bytes = int(float(size) * 2**20) if isinstance(size, (int, float, str)) and _number(size) else None
    return UploadLimits(
        max_bytes,
        _extensions(settings.get("FileExtensionsAllowList")),
        _extensions(settings.get("FileExtensionsDenyList")),
    )


def default_file_id(entity: str, record_id: str, name: str) -> str:
    """The file Id of ``name`` on a record when the caller chooses none: the same for every upload of it."""
    return str(uuid.uuid5(FILE_ID_NAMESPACE, f"{entity}/{record_id.lower()}/{name}"))


def file_id_for(parent: FileParent, name: str, file_id: str | None = None) -> str:
    """``file_id`` checked, or the default Id of ``name`` on the parent record (:func:`default_file_id`)."""
    if file_id is not None:
        return validation.parse_guid(file_id, "file_id")
    return default_file_id(parent.entity, parent.record_id, name)


def disposition_name(header: str) -> str | None:
    """The file name of a ``Content-Disposition`` header (``filename*`` in UTF-8 preferred), without a path."""
    if not header:
        return None
    message = email.message.Message()
    message["content-disposition"] = header
    name = message.get_filename()
    return name.replace("\\", "/").rsplit("/", 1)[-1] if name else None


def _disposition(name: str) -> str:
    message = email.message.Message()
    message.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
    if name.isascii():
        message.replace_header("Content-Disposition", f'attachment; filename="{name}"')
    return str(message["Content-Disposition"])


def _extensions(value: object) -> frozenset[str]:
    if not isinstance(value, str):
        return frozenset()
    parts = value.replace(";", ",").split(",")
    return frozenset(part.strip().lstrip("*").lstrip(".").lower() for part in parts if part.strip())


def _number(value: object) -> bool:
    try:
        return float(str(value)) > 0
    except ValueError:
        return False
