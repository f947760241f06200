"""AuthService.svc Login/Logout (cookie sessions) and the login pages. The OAuth token endpoint is the identity
server's (``identity_routes.py``)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from airflow_provider_creatio.testing.emulator.auth import Session
from airflow_provider_creatio.testing.emulator.gate import LOGIN_PATH, LOGOUT_PATH
from airflow_provider_creatio.testing.emulator.replies import (
    Reply,
    aspnet_error,
    auth_failed,
    login_page,
    media_type,
    unsupported_media_type,
)
from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings
from airflow_provider_creatio.testing.emulator.state import EmulatorState

LOGIN_FAILED_MESSAGE = "Either user name or password specified incorrectly."
SESSION_COOKIE_NAMES = ("BPMLOADER", ".ASPXAUTH", "BPMCSRF", "UserName", "BPMSESSIONID")


def login_answer(code: int, message: str = "") -> dict[str, Any]:
    return {
        "Code": code,
        "Message": message,
        "Exception": None,
        "PasswordChangeUrl": None,
        "RedirectUrl": None,
    }


def _user_name_cookie(user: str) -> str:
    # Creatio writes the user name as character codes joined by "|" (the WSO2 Creatio connector reference shows "UserName=83": an "S").
    return "|".join(str(ord(char)) for char in user)


def cookie_path(settings: EmulatorSettings) -> str:
    """Cookies belong to the site's virtual directory (IIS sets them for the application's path)."""
    return settings.base_path or "/"


def _set_session_cookies(response: Response, session: Session, path: str) -> None:
    values = {
        "BPMLOADER": (session.loader, True),
        ".ASPXAUTH": (session.aspxauth, True),
        "BPMCSRF": (session.csrf, False),  # readable by scripts: they copy it into the BPMCSRF header
        "UserName": (_user_name_cookie(session.user), False),
        "BPMSESSIONID": (session.session_id, True),
    }
    for name, (value, http_only) in values.items():
        response.set_cookie(name, value, path=path, httponly=http_only, samesite=None)


def routes(state: EmulatorState) -> list[Route]:
    async def login(request: Request) -> Response:
        sent_type = media_type(request.headers)
        if sent_type != "application/json":
            return unsupported_media_type(sent_type or "application/octet-stream").to_response()
        try:
            body = json.loads(await request.body())
        except ValueError:
            return aspnet_error(
                400,
                "The request body is not valid JSON.",
                "System.Runtime.Serialization.SerializationException",
            ).to_response()
        fields = body if isinstance(body, dict) else {}
        user, password = fields.get("UserName"), fields.get("UserPassword")
        session = None
        if isinstance(user, str) and isinstance(password, str):
            session = state.auth.login(state.settings, user, password)
        if session is None:
            # A failed login is still HTTP 200: only Code tells.
            return Reply(200, login_answer(1, LOGIN_FAILED_MESSAGE)).to_response()
        state.log.note_login()
        response = Reply(200, login_answer(0)).to_response()
        _set_session_cookies(response, session, cookie_path(state.settings))
        return response

    async def login_below_zero(_request: Request) -> Response:
        # On a .NET Framework site this path answered 401: login lives at the site root only.
        return auth_failed().to_response()

    async def logout(request: Request) -> Response:
        state.auth.logout(request.cookies)
        response = Response(None, 200)
        for name in SESSION_COOKIE_NAMES:
            response.delete_cookie(name, path=cookie_path(state.settings))
        return response

    async def page(_request: Request) -> Response:
        return login_page().to_response()

    return [
        Route(LOGIN_PATH, login, methods=["POST"]),
        Route(f"/0{LOGIN_PATH}", login_below_zero, methods=["POST"]),
        Route(LOGOUT_PATH, logout, methods=["POST"]),
        Route(f"/0{LOGOUT_PATH}", logout, methods=["POST"]),
        Route("/Login/NuiLogin.aspx", page, methods=["GET"]),
        Route("/Login/Login.html", page, methods=["GET"]),
    ]
