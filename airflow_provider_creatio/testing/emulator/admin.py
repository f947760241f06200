"""Admin endpoints under ``/__emulator__/`` (no auth, never logged): for the demo and for tests that run the
emulator in another process. Everything here is also available in Python on ``EmulatorServer``.

GET requests · GET stats · GET settings · POST reset · POST settings (JSON patch) · POST script
(``{"path_regex", "statuses", "retry_after"?, "method"?}``) · POST expire-sessions (sessions and tokens) ·
POST expire-tokens · POST oauth-clients (``{"client_id", "client_secret", "token_lifetime"?}``) ·
DELETE oauth-clients/{client_id} · POST records (``{"entity", "records": [...]}``: stored as given, in order,
stopping at the first refused record; for seeding large tables without going through OData).
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
        return _ok(state.stats())

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
        state.expire_credentials()
        return _ok({"expired": True})

    async def expire_tokens(_request: Request) -> Response:
        return _ok({"expired": state.identity.expire_tokens()})

    async def register_client(request: Request) -> Response:
        try:
            body = await _json_object(request)
            lifetime = body.get("token_lifetime")
            state.identity.register(
                str(body["client_id"]),
                str(body["client_secret"]),
                None if lifetime is None else float(lifetime),
            )
        except (KeyError, TypeError, ValueError) as exc:
            # No message here quotes the secret: they name a missing field or a bad lifetime.
            return _bad(f"expected {{client_id, client_secret, token_lifetime?}}: {exc}")
        return _ok({"registered": str(body["client_id"])})

    async def unregister_client(request: Request) -> Response:
        client_id = request.path_params["client_id"]
        if not state.identity.unregister(client_id):
            return Reply(404, {"error": f"no registered OAuth client {client_id!r}"}).to_response()
        return _ok({"unregistered": client_id})

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
        Route(f"{PREFIX}/expire-tokens", expire_tokens, methods=["POST"]),
        Route(f"{PREFIX}/oauth-clients", register_client, methods=["POST"]),
        Route(f"{PREFIX}/oauth-clients/{{client_id}}", unregister_client, methods=["DELETE"]),
        Route(f"{PREFIX}/records", insert_records, methods=["POST"]),
    ]
