"""OData 4.01 JSON ``$batch``: up to 100 sub-requests, run in order through the same handler as single requests.

Without ``Prefer: continue-on-error`` on the batch request, processing stops at the first sub-request answered
with 4xx/5xx: it is in the answer, the ones after it are neither run nor answered. ``atomicityGroup`` is accepted
but not transactional (see docs/creatio-notes/emulator-batch.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from airflow_provider_creatio.testing.emulator.odata import ODATA_HEADERS, ODataRequest, handle
from airflow_provider_creatio.testing.emulator.replies import Reply, odata_error, routing_error
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
) -> Reply:
    """Answer a ``$batch``; ``odata_roots()`` are the OData root paths the current layout serves."""
    try:
        items = _requests(outer.body)
    except _BadBatch as exc:
        return odata_error(400, str(exc))
    keep_going = continue_on_error(outer.headers)
    responses = []
    for item in items:
        reply = _run_one(store, settings, outer, item, odata_roots())
        responses.append(_response_item(item, reply))
        if reply.status >= 400 and not keep_going:
            break
    return Reply(200, {"responses": responses}, headers=ODATA_HEADERS)


def _requests(body: bytes) -> list[dict[str, Any]]:
    try:
        document = json.loads(body or b"null")
    except ValueError:
        raise _BadBatch("The batch request body is not valid JSON.") from None
    items = document.get("requests") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise _BadBatch('The batch request body must be a JSON object with a "requests" array.')
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
) -> Reply:
    url = urlsplit(item["url"])
    path = url.path
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


def _response_item(item: Mapping[str, Any], reply: Reply) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": item.get("id"),
        "status": reply.status,
        "headers": {**reply.headers, **({"content-type": reply.media_type} if reply.status != 204 else {})},
    }
    if reply.text is not None:
        answer["body"] = reply.text
    elif reply.body is not None:
        answer["body"] = reply.body
    return answer
