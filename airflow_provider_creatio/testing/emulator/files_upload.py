"""``POST {app}/0/rest/FileApiService/UploadFile``: one chunk of a file, its bytes the request body
[academy "API for file management" endpoints; CREATIO_API.md].

Query: ``fileId`` (the file record's Id, chosen by the client), ``totalFileLength``, ``mimeType``, ``fileName``,
``columnName`` (``Data``), ``entitySchemaName`` (``ContactFile``...), ``parentColumnName`` (``Contact``: the lookup
without ``Id``; ``RecordId`` for SysFile) and ``parentColumnValue`` (the parent record's Id). Header
``Content-Range: bytes <start>-<end>/<total>``.

The first chunk creates the file record (Id = fileId, Name = fileName, the parent set, TypeId File) if it is not
there; a SysFile record must be created first with OData (``RecordSchemaName``, ``RecordId``), since UploadFile
names no parent object. The last byte sets ``Size``/``TotalSize``. Every answer is HTTP 200: ``{"success": true,
"errorInfo": null}``, or ``{"success": false, "errorInfo": {"errorCode", "message", "stackTrace": null}}``
(docs/creatio-notes/file-upload-chunks.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from airflow_provider_creatio.testing.emulator.file_chunks import ChunkError, ContentRange, place_chunk
from airflow_provider_creatio.testing.emulator.file_entities import (
    DATA,
    FILE_ENTITIES,
    FILE_PARENTS,
    FILE_TYPE_IDS,
    SYS_FILE,
    note_stored_bytes,
    parent_column,
    parent_of,
)
from airflow_provider_creatio.testing.emulator.file_limits import LimitError, check_name, check_size
from airflow_provider_creatio.testing.emulator.files_store import Change, FileStore, StreamKey
from airflow_provider_creatio.testing.emulator.replies import Reply
from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings
from airflow_provider_creatio.testing.emulator.store import EntityStore
from airflow_provider_creatio.testing.emulator.values import ZERO_GUID, normalize_guid

ARGUMENT = "ArgumentException"
NOT_FOUND = "ItemNotFoundException"
CONFLICT = "InvalidOperationException"
DEFAULT_MIME_TYPE = "application/octet-stream"


class UploadRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class UploadParams:
    file_id: str
    total: int
    mime_type: str
    file_name: str
    entity: str
    parent_id: str

    @property
    def key(self) -> StreamKey:
        return StreamKey(self.entity, self.file_id, DATA)


def upload_reply(code: str | None = None, message: str = "") -> Reply:
    """UploadFile's answer: success, or the refusal with its ``errorCode`` and words."""
    if code is None:
        return Reply(200, {"success": True, "errorInfo": None}, records_written=1)
    error = {"errorCode": code, "message": message, "stackTrace": None}
    return Reply(200, {"success": False, "errorInfo": error})


def upload_chunk(
    store: EntityStore,
    files: FileStore,
    settings: EmulatorSettings,
    *,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> Reply:
    """Take one chunk: checks, then its place in the file, then the record. Nothing changes when it is refused."""
    try:
        params = parse_params(query)
        chunk = ContentRange.parse(headers.get("content-range"), len(body))
        if chunk.total != params.total:
            raise ChunkError(
                f"Content-Range '{chunk}' gives a total length of {chunk.total} bytes, but totalFileLength is "
                f"{params.total}."
            )
        check_name(settings, params.file_name)
        check_size(settings, params.file_name, params.total)
        with store.lock:
            _take(store, files, params, chunk, body)
    except UploadRefused as refusal:
        return upload_reply(refusal.code, refusal.message)
    except LimitError as exc:
        return upload_reply(exc.code, exc.message)
    except ChunkError as exc:
        return upload_reply(ARGUMENT, str(exc))
    return upload_reply()


def _take(
    store: EntityStore, files: FileStore, params: UploadParams, chunk: ContentRange, body: bytes
) -> None:
    exists = _check_owner(store, params)
    complete = place_chunk(files, params.key, chunk, body, params.mime_type)
    if not exists:
        parent = FILE_PARENTS[params.entity]
        record = {"Id": params.file_id, "Name": params.file_name, f"{parent}Id": params.parent_id}
        store.insert(params.entity, {**record, "TypeId": FILE_TYPE_IDS["File"]})
    if complete is None:
        return
    change = files.store(params.key, complete)
    named = store.peek(params.entity, params.file_id)
    if named is not None and named["Name"] != params.file_name:  # the upload names the file
        store.update(params.entity, params.file_id, {"Name": params.file_name})
    if change is not Change.SAME:
        replaced = change is Change.REPLACED
        note_stored_bytes(store, params.entity, params.file_id, complete.size, replaced=replaced)


def parse_params(query: Mapping[str, str]) -> UploadParams:
    """The query parameters, each checked; UploadRefused names the first one that is missing or wrong."""
    entity = _required(query, "entitySchemaName")
    expected_parent = parent_column(entity)
    if expected_parent is None:
        raise UploadRefused(
            NOT_FOUND,
            f"Entity schema {entity} is not a file object: expected one of {', '.join(FILE_ENTITIES)}.",
        )
    column = _required(query, "columnName")
    if column != DATA:
        raise UploadRefused(
            ARGUMENT, f"Column {column} of {entity} is not its file column: columnName is {DATA}."
        )
    given_parent = _required(query, "parentColumnName")
    if given_parent != expected_parent:
        raise UploadRefused(
            ARGUMENT,
            f"parentColumnName {given_parent} is not the parent column of {entity}: it is {expected_parent}.",
        )
    total_text = _required(query, "totalFileLength")
    if not total_text.isdigit() or int(total_text) == 0:
        raise UploadRefused(ARGUMENT, f"totalFileLength '{total_text}' is not a length of 1 byte or more.")
    return UploadParams(
        file_id=_guid(query, "fileId"),
        total=int(total_text),
        mime_type=query.get("mimeType") or DEFAULT_MIME_TYPE,
        file_name=_required(query, "fileName"),
        entity=entity,
        parent_id=_guid(query, "parentColumnValue"),
    )


def _required(query: Mapping[str, str], name: str) -> str:
    value = query.get(name, "").strip()
    if not value:
        raise UploadRefused(ARGUMENT, f"The query parameter {name} is required.")
    return value


def _guid(query: Mapping[str, str], name: str) -> str:
    value = _required(query, name)
    guid = normalize_guid(value)
    if guid is None or guid == ZERO_GUID:
        raise UploadRefused(ARGUMENT, f"{name} '{value}' is not a valid Guid.")
    return guid


def _check_owner(store: EntityStore, params: UploadParams) -> bool:
    """The parent must exist, and the file must be this parent's in this object, or new; whether it exists."""
    for other in FILE_ENTITIES:
        if other != params.entity and store.peek(other, params.file_id) is not None:
            raise UploadRefused(
                CONFLICT,
                f"File {params.file_id} already exists in {other}, not in {params.entity}: a file's Id is its "
                "own, choose a new one.",
            )
    record = store.peek(params.entity, params.file_id)
    if record is None and params.entity == SYS_FILE:
        raise UploadRefused(
            NOT_FOUND,
            f"SysFile record {params.file_id} not found: create it first (POST odata/SysFile with its "
            "RecordSchemaName and RecordId), then upload its bytes.",
        )
    parent = parent_of(params.entity, record) if record is not None else (FILE_PARENTS[params.entity], "")
    if record is not None and parent[1] != params.parent_id:
        raise UploadRefused(
            CONFLICT,
            f"File {params.file_id} of {params.entity} belongs to {parent[0]} {parent[1]}, not to "
            f"{params.parent_id}: a file cannot move to another parent record.",
        )
    if not store.has_entity(parent[0]) or store.peek(parent[0], params.parent_id) is None:
        raise UploadRefused(
            NOT_FOUND, f"Parent record {params.parent_id} not found in {parent[0] or 'any object'}."
        )
    return record is not None
