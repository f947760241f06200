"""OData ``$batch``: up to 100 sub-requests, run in order through the same handler as single requests.

The body is OData 4.01 JSON (``{"requests": [...]}``) or OData 4 multipart/mixed with changesets
(``multipart.py``); a multipart batch is answered in multipart, or in JSON when it was sent with
``Accept: application/json``.

Without ``Prefer: continue-on-error`` on the batch request, processing stops at the first sub-request answered
with 4xx/5xx: it is in the answer, the ones after it are neither run nor answered. ``atomicityGroup`` is accepted
but not transactional (see docs/creatio-notes/emulator-batch.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from airflow_provider_creatio.testing.emulator.log import RequestCost
from airflow_provider_creatio.testing.emulator.multipart import (
    Answer,
    MultipartError,
    boundary,
    parse_batch,
    write_answer,
)
from airflow_provider_creatio.testing.emulator.odata import ODATA_HEADERS, ODataRequest, handle
from airflow_provider_creatio.testing.emulator.replies import Reply, media_type, odata_error, routing_error
from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings
from airflow_provider_creatio.testing.emulator.store import EntityStore

MAX_REQUESTS = 100
_METHODS = ("GET", "POST", "PATCH", "DELETE", "PUT")


class _BadBatch(ValueError):
    pass


def continue_on_error(headers: Mapping[str, str]) -> bool:
    preferences = {item.strip().lower() for item in headers.get("prefer", "").split(",")}
    return bool(preferences & {"continue-on-error", "odata.continue-on-error"})


def handle_batch(
    store: EntityStore,
    settings: EmulatorSettings,
    outer: ODataRequest,
    odata_roots: Callable[[], tuple[str, ...]],
    cost: RequestCost,
) -> Reply:
    """Answer a ``$batch``; ``odata_roots()`` are the OData root paths the current layout serves. Each
    sub-request run is added to ``cost``: an operation of its own, as Creatio's quota counts it."""
    multipart = media_type(outer.headers) == "multipart/mixed"
    try:
        items = _checked(_multipart_requests(outer) if multipart else _json_requests(outer.body))
    except (_BadBatch, MultipartError) as exc:
        return odata_error(400, str(exc))
    keep_going = continue_on_error(outer.headers)
    answered: list[tuple[Mapping[str, Any], Reply]] = []
    locations: dict[str, str] = {}  # Content-ID -> Location of what it created, for "$<id>" references
    for item in items:
        reply = _run_one(store, settings, outer, item, odata_roots(), locations=locations)
        cost.add(reply)
        answered.append((item, reply))
        if "Location" in reply.headers:
            locations[str(item.get("id"))] = reply.headers["Location"]
        if reply.status >= 400 and not keep_going:
            break
    groups: dict[str, str] = {}  # the client's atomicityGroup -> the GUID the server names it by
    if multipart and not _wants_json(outer.headers):
        text, content_type = write_answer([_multipart_answer(item, reply) for item, reply in answered])
        return Reply(200, text=text, media_type=content_type, headers=ODATA_HEADERS)
    responses = [_response_item(item, reply, groups) for item, reply in answered]
    return Reply(200, {"responses": responses}, headers=ODATA_HEADERS)


def _wants_json(headers: Mapping[str, str]) -> bool:
    """A multipart batch sent with ``Accept: application/json`` is answered in JSON (Creatio's documentation)."""
    accept = headers.get("accept", "").lower()
    return "application/json" in accept and "multipart/mixed" not in accept


def _multipart_requests(outer: ODataRequest) -> list[dict[str, Any]]:
    text = outer.body.decode("utf-8", errors="replace")
    return parse_batch(text, boundary(outer.headers.get("content-type", ""), text))


def _json_requests(body: bytes) -> list[dict[str, Any]]:
    try:
        document = json.loads(body or b"null")
    except ValueError:
        raise _BadBatch("The batch request body is not valid JSON.") from None
    items = document.get("requests") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise _BadBatch('The batch request body must be a JSON object with a "requests" array.')
    return items


def _checked(items: list[Any]) -> list[dict[str, Any]]:
    if len(items) > MAX_REQUESTS:
        raise _BadBatch(f"The batch holds {len(items)} requests; at most {MAX_REQUESTS} are allowed.")
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise _BadBatch('Every batch request needs "method", "url" and "id".')
        if str(item.get("method", "")).upper() not in _METHODS:
            raise _BadBatch(f"Unsupported method {item.get('method')!r} in a batch request.")
    return items


def _run_one(
    store: EntityStore,
    settings: EmulatorSettings,
    outer: ODataRequest,
    item: Mapping[str, Any],
    roots: tuple[str, ...],
    *,
    locations: Mapping[str, str],
) -> Reply:
    url = urlsplit(_resolved(item["url"], locations))
    path = url.path
    base = settings.base_path  # an absolute path or URL names the site's virtual directory first
    if base and (path == base or path.startswith(f"{base}/")):
        path = path[len(base) :]
    if path.startswith("/"):
        root = next((root for root in roots if path == root or path.startswith(f"{root}/")), None)
        if root is None:
            return routing_error(item["url"], path.strip("/").split("/")[0])
        path = path[len(root) :]
    path = path.lstrip("/")
    if path == "$batch":
        return odata_error(400, "A batch request cannot contain another batch request.")
    headers = {str(name).lower(): str(value) for name, value in (item.get("headers") or {}).items()}
    body = item.get("body")
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
        headers.setdefault("content-type", "application/json")
    request = ODataRequest(
        method=str(item["method"]).upper(),
        path=path,
        params=dict(parse_qsl(url.query, keep_blank_values=True)),
        headers=headers,
        body=(body or "").encode(),
        root_url=outer.root_url,
    )
    return handle(store, settings, request)


def _resolved(url: str, locations: Mapping[str, str]) -> str:
    """``$1/...`` refers to what request ``1`` created (its Location)."""
    if not url.startswith("$"):
        return url
    reference, slash, rest = url[1:].partition("/")
    return f"{locations[reference]}{slash}{rest}" if reference in locations else url


def _response_item(item: Mapping[str, Any], reply: Reply, groups: dict[str, str]) -> dict[str, Any]:
    """One JSON answer as Creatio writes it: header names in lower case, the atomicity group renamed to a GUID of
    the server's making, no content-type and no body for a 204."""
    answer: dict[str, Any] = {"id": item.get("id")}
    group = item.get("atomicityGroup")
    if group is not None:
        answer["atomicityGroup"] = groups.setdefault(str(group), str(uuid.uuid4()))
    headers = {name.lower(): value for name, value in reply.headers.items()}
    if reply.status != 204:
        headers["content-type"] = reply.media_type
    answer.update(status=reply.status, headers=headers)
    if reply.text is not None:
        answer["body"] = reply.text
    elif reply.body is not None:
        answer["body"] = reply.body
    return answer


def _multipart_answer(item: Mapping[str, Any], reply: Reply) -> Answer:
    headers = dict(reply.headers)
    if reply.status != 204:
        headers["Content-Type"] = reply.media_type
    body = reply.text if reply.text is not None else None
    if body is None and reply.body is not None:
        body = json.dumps(reply.body, ensure_ascii=False, separators=(",", ":"))
    group = item.get("atomicityGroup")
    return Answer(str(item.get("id")), None if group is None else str(group), reply.status, headers, body)
