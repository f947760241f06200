"""The identity server's one route: ``POST /connect/token``, the OAuth 2.0 client credentials grant.

Clients authenticate with ``client_secret_post`` (form fields, as Creatio's documentation shows) or
``client_secret_basic`` (an ``Authorization: Basic`` header). The answer is
``{"access_token", "expires_in", "token_type": "Bearer"}``; a refusal is RFC 6749's
``{"error", "error_description"}``, 400, or 401 with ``WWW-Authenticate: Basic`` when Basic authentication failed.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from airflow_provider_creatio.testing.emulator.identity import Grant, Refusal
from airflow_provider_creatio.testing.emulator.replies import Reply, media_type
from airflow_provider_creatio.testing.emulator.state import EmulatorState

TOKEN_PATH = "/connect/token"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 5.1: token answers are not cached
FORM = "application/x-www-form-urlencoded"


def routes(state: EmulatorState) -> list[Route]:
    async def token(request: Request) -> Response:
        if media_type(request.headers) != FORM:
            return _refused(Refusal("invalid_request", f"The token request must be sent as {FORM}."))
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        grant_type = form.get("grant_type", "")
        if grant_type != "client_credentials":
            described = f"'{grant_type}'" if grant_type else "missing"
            return _refused(
                Refusal("unsupported_grant_type", f"The grant type is {described}; use client_credentials.")
            )
        basic = _basic_credentials(request)
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        outcome = state.identity.grant(state.settings, client_id, secret)
        if isinstance(outcome, Refusal):
            return _refused(outcome, basic_used=basic is not None)
        return _granted(outcome)

    return [Route(TOKEN_PATH, token, methods=["POST"])]


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """The ``client_secret_basic`` credentials, or None when the request has no Basic header.
    A header that does not decode counts as wrong credentials."""
    authorization = request.headers.get("authorization", "")
    if authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret)


def _granted(grant: Grant) -> Response:
    answer = {"access_token": grant.access_token, "expires_in": int(grant.expires_in), "token_type": "Bearer"}
    return Reply(200, answer, headers=NO_STORE).to_response()


def _refused(refusal: Refusal, *, basic_used: bool = False) -> Response:
    body = {"error": refusal.error, "error_description": refusal.description}
    if basic_used and refusal.error == "invalid_client":
        headers = {**NO_STORE, "WWW-Authenticate": 'Basic realm="identity"'}
        return Reply(401, body, headers=headers).to_response()
    return Reply(400, body, headers=NO_STORE).to_response()
