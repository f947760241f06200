"""Stream properties over OData 4: ``GET``/``PUT``/``DELETE {odata}/ContactFile(<id>)/Data`` (any entity's
``Edm.Stream`` property: the file objects' ``Data``, Contact's ``ContactPhoto``) [academy "Stream data type
request examples"; CREATIO_API.md].

* ``GET``: 200 with the bytes (``Content-Type`` as stored), streamed; 204 when the record has none.
* ``PUT`` with ``Content-Type: application/octet-stream`` and the raw bytes: 204. The body is streamed into the
  file store (to disk when large), never held whole. A file object's record must pass the upload limits
  (``file_limits.py``): its ``Name``'s extension, 400, and ``MaxFileSize``, 413; both OData errors naming the
  setting. ``Size``/``TotalSize`` follow the bytes; a chunked upload under way is dropped.
* ``DELETE``: 204; the record stays, its bytes go (``Size`` 0).

An unknown record is a 404 in the OData error shape, as for other OData reads. These are handled before (and
outside) ``odata.handle``: a stream's bytes are neither JSON nor small, so ``$batch`` does not carry them
(docs/creatio-notes/file-records.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_creatio.testing.emulator.file_entities import FILE_ENTITIES, note_stored_bytes
from airflow_provider_creatio.testing.emulator.file_limits import LimitError, check_name, size_message
from airflow_provider_creatio.testing.emulator.files_routes import stream_response
from airflow_provider_creatio.testing.emulator.files_store import Blob, Change, StreamKey
from airflow_provider_creatio.testing.emulator.log import RequestCost
from airflow_provider_creatio.testing.emulator.odata import ODATA_HEADERS, parse_resource, resource_id
from airflow_provider_creatio.testing.emulator.replies import (
    Reply,
    media_type,
    method_not_allowed,
    odata_error,
    unsupported_media_type,
)
from airflow_provider_creatio.testing.emulator.state import EmulatorState
from airflow_provider_creatio.testing.emulator.store import EntityStore, RecordNotFoundError

OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class StreamTarget:
    entity: str
    key: str  # the key as written in the path (a Guid, or not)
    column: str


def stream_target(store: EntityStore, path: str) -> StreamTarget | None:
    """The stream property a path below the OData root names (``ContactFile(<id>)/Data``), or None."""
    resource = parse_resource(path)
    if resource is None or resource.key is None or resource.property is None or resource.raw_value:
        return None
    if not store.has_entity(resource.entity) or resource.property not in store.schema(resource.entity).media:
        return None
    return StreamTarget(resource.entity, resource.key, resource.property)


async def serve_stream(
    state: EmulatorState, request: Request, target: StreamTarget, cost: RequestCost
) -> Response:
    record_id = resource_id(target.key)
    if record_id is None:
        return _answer(odata_error(400, f"The key value '{target.key}' is not a valid Guid."), cost)
    if state.store.peek(target.entity, record_id) is None:
        return _answer(odata_error(404, str(RecordNotFoundError(target.entity, record_id))), cost)
    key = StreamKey(target.entity, record_id, target.column)
    if request.method == "GET":
        return _read(state, key, cost)
    if request.method == "PUT":
        return _answer(await _write(state, request, key), cost)
    if request.method == "DELETE":
        return _answer(_delete(state, key), cost)
    return _answer(method_not_allowed(request.method), cost)


def _answer(reply: Reply, cost: RequestCost) -> Response:
    cost.add(reply)
    return replace(reply, headers={**ODATA_HEADERS, **reply.headers}).to_response()


def _read(state: EmulatorState, key: StreamKey, cost: RequestCost) -> Response:
    opened = state.files.open(key)
    if opened is None:
        return _answer(Reply(204, rows_returned=1), cost)
    cost.add(Reply(200, rows_returned=1))
    return stream_response(*opened, ODATA_HEADERS)


async def _write(state: EmulatorState, request: Request, key: StreamKey) -> Reply:
    sent_type = media_type(request.headers)
    if sent_type != OCTET_STREAM:
        return unsupported_media_type(sent_type or "none")
    name = _file_name(state.store, key)
    if name is not None:
        try:
            check_name(state.settings, name)
        except LimitError as exc:
            return odata_error(400, exc.message)
    blob = await _receive(state, request, key)
    if blob is None:
        limit = state.settings.max_file_size or 0
        return odata_error(413, size_message(name or key.column, None, limit))
    with state.store.lock:
        if state.store.peek(key.entity, key.record_id) is None:  # deleted while the body arrived
            blob.discard()
            return odata_error(404, str(RecordNotFoundError(key.entity, key.record_id)))
        state.files.drop_upload(key)
        change = state.files.store(key, blob)
        if change is not Change.SAME:
            note_stored_bytes(
                state.store, key.entity, key.record_id, blob.size, replaced=change is Change.REPLACED
            )
    return Reply(204, records_written=1)


async def _receive(state: EmulatorState, request: Request, key: StreamKey) -> Blob | None:
    """The body in a new blob; None (the rest of the body read and dropped, so the refusal reaches the client
    whole) when it is larger than ``MaxFileSize``."""
    limit = state.settings.max_file_size
    blob: Blob | None = state.files.new_blob(OCTET_STREAM)
    async for piece in request.stream():
        if blob is None:
            continue
        if limit is not None and blob.size + len(piece) > limit:
            blob.discard()
            blob = None
            continue
        blob.append(piece)
    return blob


def _delete(state: EmulatorState, key: StreamKey) -> Reply:
    with state.store.lock:
        if state.files.delete(key):
            note_stored_bytes(state.store, key.entity, key.record_id, 0, replaced=False)
    return Reply(204, records_written=1)


def _file_name(store: EntityStore, key: StreamKey) -> str | None:
    """The name the upload limits judge: a file object's ``Name``; None for other objects' streams (a photo)."""
    if key.entity not in FILE_ENTITIES:
        return None
    record = store.peek(key.entity, key.record_id)
    return None if record is None else str(record["Name"])
