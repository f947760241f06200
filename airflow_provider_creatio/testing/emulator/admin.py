"""Admin endpoints under ``/__emulator__/`` (no auth, never logged): for the demo and for tests that run the
emulator in another process. Everything here is also available in Python on ``EmulatorServer``.

GET requests · GET stats · GET settings · POST reset · POST settings (JSON patch) · POST script
(``{"path_regex", "statuses", "retry_after"?, "method"?}``) · POST expire-sessions · POST records
(``{"entity", "records": [...]}``: stored as given, in order, stopping at the first refused record; for seeding
large tables without going through OData).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from airflow_provider_creatio.testing.emulator.replies import Reply
from airflow_provider_creatio.testing.emulator.settings import SettingsError
from airflow_provider_creatio.testing.emulator.state import EmulatorState
from airflow_provider_creatio.testing.emulator.store import StoreError

PREFIX = "/__emulator__"


def _ok(body: Any) -> Response:
    return Reply(200, body).to_response()


def _bad(message: str) -> Response:
    return Reply(400, {"error": message}).to_response()


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise SettingsError("the body must be JSON") from None
    if not isinstance(body, dict):
        raise SettingsError("the body must be a JSON object")
    return body


def routes(state: EmulatorState) -> list[Route]:
    async def requests(_request: Request) -> Response:
        return _ok([entry.as_json() for entry in state.log.snapshot()])

    async def stats(_request: Request) -> Response:
        return _ok({**state.log.stats(), "sessions": state.auth.session_count()})

    async def get_settings(_request: Request) -> Response:
        return _ok(state.settings.public_view())

    async def reset(_request: Request) -> Response:
        state.reset()
        return _ok({"reset": True})

    async def patch_settings(request: Request) -> Response:
        try:
            state.settings.patch(await _json_object(request))
        except SettingsError as exc:
            return _bad(str(exc))
        return _ok(state.settings.public_view())

    async def script(request: Request) -> Response:
        try:
            body = await _json_object(request)
            state.faults.script(
                str(body["path_regex"]),
                list(body["statuses"]),
                retry_after=body.get("retry_after"),
                method=body.get("method"),
            )
        except (KeyError, TypeError, ValueError, re.error) as exc:
            return _bad(f"expected {{path_regex, statuses, retry_after?, method?}}: {exc}")
        return _ok({"scripted": True})

    async def expire_sessions(_request: Request) -> Response:
        state.auth.expire_all()
        return _ok({"expired": True})

    async def insert_records(request: Request) -> Response:
        try:
            body = await _json_object(request)
            entity, records = str(body["entity"]), body["records"]
            if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
                raise TypeError("records must be a list of objects")
            for record in records:
                state.store.insert(entity, record)
        except (KeyError, TypeError, ValueError, StoreError) as exc:
            return _bad(f"expected {{entity, records: [...]}}: {exc}")
        return _ok({"inserted": len(records)})

    return [
        Route(f"{PREFIX}/requests", requests, methods=["GET"]),
        Route(f"{PREFIX}/stats", stats, methods=["GET"]),
        Route(f"{PREFIX}/settings", get_settings, methods=["GET"]),
        Route(f"{PREFIX}/reset", reset, methods=["POST"]),
        Route(f"{PREFIX}/settings", patch_settings, methods=["POST"]),
        Route(f"{PREFIX}/script", script, methods=["POST"]),
        Route(f"{PREFIX}/expire-sessions", expire_sessions, methods=["POST"]),
        Route(f"{PREFIX}/records", insert_records, methods=["POST"]),
    ]
