"""The provider's Airflow plugin: makes the UI's connection Test button work for Creatio connections.

Airflow 3.3.2's connections list sends ``port: Number(conn.port)`` to ``POST /api/v2/connections/test``, which
is ``0`` when the stored port is null, and the API refuses to test stored credentials against a port other than
the stored one: "400 The host or port to test differs from the stored connection". A Creatio connection's form
hides the port, so every Creatio connection made in the UI has a null port and its Test button always fails.

:class:`ConnectionTestPortFix`, an ASGI middleware on the API server's root app, turns exactly that request's
``"port": 0`` back into ``null`` for connections of type ``creatio``. Port 0 can only be the UI's ``Number(null)``
here (the form has no port field, and the hook never connects to port 0), so the test still reaches the stored
host and port and nothing else changes. Every other request passes through untouched.

Registered through the ``airflow.plugins`` entry point, not ``get_provider_info()["plugins"]``: Airflow 3.3
loads a provider's plugins only with ``[core] lazy_discover_providers = False`` (default True), but entry-point
plugins always. Every Airflow component loads plugins, so this module imports nothing beyond what the plugin
loader already has (no Starlette: the middleware speaks plain ASGI).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

# Imported here rather than from _compat, whose Task SDK imports every component would then pay for.
try:  # Airflow 3.2+
    from airflow.sdk.plugins_manager import AirflowPlugin
except ImportError:  # pragma: no cover - Airflow 3.0 and 3.1
    from airflow.plugins_manager import AirflowPlugin  # type: ignore[no-redef]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TEST_PATH = "/api/v2/connections/test"  # matched at the end: the API server may sit under a base URL path


class ConnectionTestPortFix:
    """Root ASGI middleware: in a Creatio connection test request, ``"port": 0`` becomes ``null``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_connection_test(scope):
            await self.app(scope, receive, send)
            return
        messages = await _read_request(receive)
        fixed = _null_ui_port(messages)
        if fixed is not None:
            messages = [{"type": "http.request", "body": fixed, "more_body": False}]
            scope = {**scope, "headers": _with_content_length(scope["headers"], len(fixed))}
        await self.app(scope, _replay(messages, receive), send)


def _is_connection_test(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["method"] == "POST" and str(scope["path"]).endswith(TEST_PATH)


async def _read_request(receive: Receive) -> list[Message]:
    """The request's messages up to its last body chunk (or a disconnect, which is passed on as it came)."""
    messages = [await receive()]
    while messages[-1]["type"] == "http.request" and messages[-1].get("more_body", False):
        messages.append(await receive())
    return messages


def _null_ui_port(messages: list[Message]) -> bytes | None:
    """The body with ``port`` null when it is a Creatio connection with port 0; None to leave it as it is."""
    if messages[-1]["type"] != "http.request":
        return None
    try:
        payload = json.loads(b"".join(m.get("body", b"") for m in messages))
    except ValueError:  # not JSON (or not UTF-8): the API answers that itself
        return None
    if not isinstance(payload, dict) or payload.get("conn_type") != "creatio":
        return None
    if type(payload.get("port")) is not int or payload["port"] != 0:  # not False, not 0.0
        return None
    payload["port"] = None
    return json.dumps(payload).encode()


def _with_content_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(name, value) for name, value in headers if name.lower() != b"content-length"]
    return [*kept, (b"content-length", str(length).encode())]


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out ``messages`` first, then whatever the client sends next (a disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


class CreatioPlugin(AirflowPlugin):  # type: ignore[misc]
    """Loaded by every Airflow component; only the API server uses the middleware."""

    name = "creatio"
    fastapi_root_middlewares = [  # noqa: RUF012 - the attribute Airflow's plugin loader reads
        {
            "name": "creatio-connection-test-port",
            "middleware": ConnectionTestPortFix,
            "args": [],
            "kwargs": {},
        }
    ]
