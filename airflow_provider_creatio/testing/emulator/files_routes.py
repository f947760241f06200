"""The file services under ``{app}/0/rest`` (and ``{app}/rest`` on .NET Core; the gate refuses the roots a layout
does not serve, and checks the session or bearer token, as for every service):

* ``POST /FileApiService/UploadFile?...``: one chunk of a file (``files_upload.py``);
* ``GET /FileService/Download/{Object}File/{fileId}``: the file's bytes, streamed from memory or disk, with the
  stored ``Content-Type``, ``Content-Length`` and ``Content-Disposition: attachment; filename="<Name>"``
  (``filename*=UTF-8''...`` too for a name that is not plain ASCII). An unknown file, or one whose bytes have not
  all arrived, is a 404 [academy "API for file management"; CREATIO_API.md].

Each call is one API call, as the gate counts every service call; an accepted chunk is one record written and a
download one record read, for the server model (docs/creatio-notes/file-upload-chunks.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import BinaryIO
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from airflow_provider_creatio.testing.emulator.file_entities import DATA
from airflow_provider_creatio.testing.emulator.files_store import Blob, StreamKey, stream_chunks
from airflow_provider_creatio.testing.emulator.files_upload import upload_chunk
from airflow_provider_creatio.testing.emulator.log import COST, RequestCost
from airflow_provider_creatio.testing.emulator.replies import Reply, aspnet_error
from airflow_provider_creatio.testing.emulator.state import EmulatorState
from airflow_provider_creatio.testing.emulator.values import normalize_guid

# ASP.NET's default maxRequestLength (4,096 KB): a larger chunk never reaches Creatio's code
# (docs/creatio-notes/request-size-limits.md).
MAX_REQUEST_BYTES = 4 * 1024 * 1024
UPLOAD_PATH = "/FileApiService/UploadFile"
DOWNLOAD_PATH = "/FileService/Download/{entity}/{record_id}"
NOT_FOUND_EXCEPTION = "Terrasoft.Common.ItemNotFoundException"


def request_too_long() -> Reply:
    return aspnet_error(500, "Maximum request length exceeded.", "System.Web.HttpException")


def routes(state: EmulatorState) -> list[Route]:
    async def upload(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_REQUEST_BYTES:
            return request_too_long().to_response()
        query = dict(request.query_params)
        reply = upload_chunk(
            state.store, state.files, state.settings, query=query, headers=request.headers, body=body
        )
        _cost(request).add(reply)
        return reply.to_response()

    async def download(request: Request) -> Response:
        entity, raw_id = request.path_params["entity"], request.path_params["record_id"]
        found = _open(state, entity, raw_id)
        if isinstance(found, Reply):
            return found.to_response()
        name, blob, handle = found
        _cost(request).add(Reply(200, rows_returned=1))
        return stream_response(blob, handle, {"Content-Disposition": content_disposition(name)})

    return [
        Route(UPLOAD_PATH, upload, methods=["POST"]),
        Route(DOWNLOAD_PATH, download, methods=["GET"]),
    ]


def _cost(request: Request) -> RequestCost:
    return request.scope.get(COST, RequestCost())  # type: ignore[no-any-return]


def _open(state: EmulatorState, entity: str, raw_id: str) -> tuple[str, Blob, BinaryIO] | Reply:
    """The file's name, its bytes and a handle on them; or the 404 of a file that is not there (yet)."""
    record_id = normalize_guid(raw_id)
    with state.store.lock:
        known = state.store.has_entity(entity) and DATA in state.store.schema(entity).media
        record = state.store.get(entity, record_id) if known and record_id else None
        opened = state.files.open(StreamKey(entity, record_id, DATA)) if record and record_id else None
    if record is None:
        return not_found(f"File with Id '{raw_id}' not found in {entity}.")
    if opened is None:
        return not_found(
            f"File with Id '{raw_id}' of {entity} has no content: none was uploaded, or not all of it."
        )
    blob, handle = opened
    return str(record.get("Name") or record["Id"]), blob, handle


def not_found(message: str) -> Reply:
    return aspnet_error(404, message, NOT_FOUND_EXCEPTION)


def stream_response(blob: Blob, handle: BinaryIO, headers: Mapping[str, str]) -> Response:
    """The bytes behind ``handle``, read in pieces as the client takes them (a sync iterator: Starlette reads it in
    a worker thread, so a file on disk never blocks the event loop)."""
    sent = {"Content-Type": blob.mime_type, "Content-Length": str(blob.size), **headers}
    return StreamingResponse(stream_chunks(handle), status_code=200, headers=sent)


def content_disposition(name: str) -> str:
    """``attachment; filename="<name>"``; a name that is not plain ASCII (or holds a quote or a backslash) gets
    an ASCII stand-in there and its exact form in ``filename*`` (RFC 6266, UTF-8, percent-encoded)."""
    plain = "".join(char if " " <= char < "\x7f" and char not in '"\\' else "_" for char in name)
    value = f'attachment; filename="{plain}"'
    if plain != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value
