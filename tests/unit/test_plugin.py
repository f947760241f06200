"""The plugin's middleware as an ASGI app around an app that echoes the request body it receives."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from typing import Any

import pytest

from airflow_provider_creatio.plugin import TEST_PATH, ConnectionTestPortFix, CreatioPlugin

# What the connections list of Airflow 3.3.2 sends for a Creatio connection with a null port.
UI_TEST = {
    "conn_type": "creatio",
    "connection_id": "creatio_default",
    "description": "",
    "extra": "{}",
    "host": "https://mysite.creatio.com",
    "login": "Supervisor",
    "password": "***",
    "port": 0,
    "schema": "",
}


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body, more = b"", True
    while more:
        message = await receive()
        body, more = body + message.get("body", b""), message.get("more_body", False)
    length = [(k, v) for k, v in scope["headers"] if k == b"content-length"]
    await send({"type": "http.response.start", "status": 200, "headers": length})
    await send({"type": "http.response.body", "body": body})


async def call(body: bytes, path: str = TEST_PATH, method: str = "POST", chunk: int = 0) -> tuple[bytes, int]:
    """Send ``body`` (in chunks of ``chunk`` bytes, when given) through the middleware: the body the app
    received and the content-length it saw."""
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)] if chunk else [body]
    incoming = [
        {"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    await ConnectionTestPortFix(echo)(scope, receive, send)
    (length,) = [int(v) for _, v in sent[0]["headers"]]
    return sent[1]["body"], length


async def test_a_creatio_test_with_the_uis_port_0_gets_a_null_port() -> None:
    received, length = await call(json.dumps(UI_TEST).encode(), chunk=40)
    assert json.loads(received) == {**UI_TEST, "port": None}
    assert length == len(received)


async def test_under_a_base_url_path_too() -> None:
    received, _ = await call(json.dumps(UI_TEST).encode(), path="/airflow" + TEST_PATH)
    assert json.loads(received)["port"] is None


@pytest.mark.parametrize(
    ("change", "path", "method"),
    [
        pytest.param({"port": 8765}, TEST_PATH, "POST", id="a-real-port"),
        pytest.param({"port": False}, TEST_PATH, "POST", id="false-is-not-0"),
        pytest.param({"conn_type": "http"}, TEST_PATH, "POST", id="another-type"),
        pytest.param({}, "/api/v2/connections", "POST", id="another-path"),
        pytest.param({}, TEST_PATH, "PUT", id="another-method"),
    ],
)
async def test_everything_else_passes_untouched(change: dict[str, Any], path: str, method: str) -> None:
    body = json.dumps({**UI_TEST, **change}).encode()
    assert await call(body, path, method) == (body, len(body))


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b"[0]", b""])
async def test_a_body_that_is_no_connection_passes_untouched(body: bytes) -> None:
    assert await call(body) == (body, len(body))


async def test_a_client_that_goes_away_is_passed_on() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((await receive())["type"])

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": TEST_PATH, "headers": []}
    await ConnectionTestPortFix(app)(scope, receive, None)  # type: ignore[arg-type]
    assert seen == ["http.disconnect"]


def test_the_plugin_is_registered_and_loaded() -> None:
    """What ``airflow plugins`` lists: Airflow's own loader found, validated and loaded the plugin."""
    from airflow.plugins_manager import get_plugin_info

    (entry,) = [e for e in entry_points(group="airflow.plugins") if e.name == "creatio"]
    assert entry.load() is CreatioPlugin
    (loaded,) = [info for info in get_plugin_info() if info["name"] == "creatio"]
    (middleware,) = loaded["fastapi_root_middlewares"]
    assert middleware["middleware"] == "airflow_provider_creatio.plugin.ConnectionTestPortFix"
    assert CreatioPlugin.fastapi_root_middlewares[0]["middleware"] is ConnectionTestPortFix


def test_the_plugin_is_not_also_a_provider_plugin() -> None:
    """With [core] lazy_discover_providers = False Airflow would load it twice and report the second as an error."""
    from airflow_provider_creatio.get_provider_info import get_provider_info

    assert "plugins" not in get_provider_info()


def test_importing_the_plugin_costs_no_web_framework() -> None:
    """Every Airflow component loads plugins: the module adds nothing to what the loader already imported."""
    code = (
        "import sys\n"
        "try:\n"
        "    import airflow.sdk.plugins_manager\n"
        "except ImportError:\n"  # Airflow 3.0 and 3.1 load plugins from the core package
        "    import airflow.plugins_manager\n"
        "before = set(sys.modules)\n"
        "import airflow_provider_creatio.plugin\n"
        "print(sorted(m for m in set(sys.modules) - before if not m.startswith('airflow_provider_creatio')))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
