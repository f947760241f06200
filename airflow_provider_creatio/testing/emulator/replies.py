"""Answers as data (``Reply``), and the body shapes Creatio uses for errors and for the login page.

Handlers build Replies so that ``$batch`` can reuse them as sub-responses; ``to_response`` turns one into HTTP.
Error shapes (CREATIO_API.md): OData ``{"error": {...}}``, ASP.NET ``{"Message", "ExceptionType", "StackTrace"}``
and routing ``{"Message", "MessageDetail"}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

JSON = "application/json; charset=utf-8"
ODATA_JSON = "application/json; odata.metadata=minimal; charset=utf-8"
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
XML = "application/xml; charset=utf-8"

AUTH_FAILED_BODY: dict[str, Any] = {
    "Message": "Authentication failed.",
    "StackTrace": None,
    "ExceptionType": "System.Security.Authentication.AuthenticationException",
}
LOGIN_PAGE_HTML = (
    "<!DOCTYPE html><html><head><title>Creatio</title></head><body>"
    '<form id="loginForm" method="post"><input name="UserName"/><input name="UserPassword" type="password"/>'
    "</form></body></html>"
)


@dataclass(frozen=True)
class Reply:
    """An answer before it becomes HTTP. ``body`` is JSON (None: no body); ``text`` a non-JSON body."""

    status: int
    body: Any = None
    text: str | None = None
    media_type: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)
    rows_read: int = 0  # rows the answer cost the database (see store.QueryResult.read)
    rows_returned: int = 0  # rows a read answers with (the server's read work)
    records_written: int = 0  # records a write stored, changed or deleted (the server's write work)

    def to_response(self) -> Response:
        if self.text is not None:
            return Response(self.text, self.status, dict(self.headers), self.media_type)
        if self.body is None:
            return Response(None, self.status, dict(self.headers))
        content = json.dumps(self.body, ensure_ascii=False, separators=(",", ":"))
        return Response(content, self.status, dict(self.headers), self.media_type)


def media_type(headers: Mapping[str, str]) -> str:
    """The request's media type, lower case, without parameters (``charset``...); empty when none was sent."""
    return headers.get("content-type", "").split(";")[0].strip().lower()


def odata_error(status: int, message: str, code: str = "") -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, media_type=ODATA_JSON)


def aspnet_error(status: int, message: str, exception_type: str) -> Reply:
    return Reply(status, {"Message": message, "ExceptionType": exception_type, "StackTrace": None})


def routing_error(url: str, controller: str) -> Reply:
    return Reply(
        404,
        {
            "Message": f"No HTTP resource was found that matches the request URI '{url}'.",
            "MessageDetail": f"No type was found that matches the controller named '{controller}'.",
        },
    )


def method_not_allowed(method: str) -> Reply:
    return aspnet_error(
        405,
        f"The requested resource does not support http method '{method}'.",
        "System.Web.Http.HttpResponseException",
    )


def unsupported_media_type(media_type: str) -> Reply:
    return aspnet_error(
        415,
        f"The request entity's media type '{media_type}' is not supported for this resource.",
        "System.Net.Http.UnsupportedMediaTypeException",
    )


def auth_failed() -> Reply:
    return Reply(401, AUTH_FAILED_BODY)


def bearer_rejected() -> Reply:
    return Reply(401, AUTH_FAILED_BODY, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def csrf_rejected() -> Reply:
    return aspnet_error(403, "The BPMCSRF header is missing or invalid.", "System.Security.SecurityException")


def login_page_path(net_core: bool) -> str:
    return "/Login/Login.html" if net_core else "/Login/NuiLogin.aspx"


def login_redirect(net_core: bool, return_path: str, status: int = 302, base_path: str = "") -> Reply:
    """What the forms module answers to a request without a session: a redirect to the login page (both paths
    inside the site's virtual directory ``base_path``)."""
    location = f"{base_path}{login_page_path(net_core)}?ReturnUrl={quote(base_path + return_path, safe='')}"
    html = (
        "<html><head><title>Object moved</title></head><body>"
        f'<h2>Object moved to <a href="{location}">here</a>.</h2></body></html>'
    )
    return Reply(status, text=html, media_type=HTML, headers={"Location": location})


def login_page() -> Reply:
    return Reply(200, text=LOGIN_PAGE_HTML, media_type=HTML)


def generic_error(status: int) -> Reply:
    """A plausible error body for any status (used by scripted faults)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return aspnet_error(status, f"{status} {phrase}: An error has occurred.", "System.Web.HttpException")


def ram_limit_reached(limit_mb: float) -> Reply:
    """A read past ``MaxMemoryUsageToGetDataViaEntityCollection``, in Creatio's words (academy "RAM consumption
    limit"), as an OData error like the site's other 500s."""
    return odata_error(
        500, f"Request processing terminated because it reached the RAM consumption limit of {limit_mb:g} MB."
    )


def api_call_cap_reached(cap: int, user: str, retry_after: int) -> Reply:
    """The emulator's answer past ``api_call_hard_cap``: Creatio's caps are soft and its wire is silent on them,
    so status and words are the emulator's choice (docs/creatio-notes/api-call-quota.md). Retry-After is the time
    left until the count resets at 00:00 UTC."""
    reply = aspnet_error(
        429,
        f"The daily limit of {cap} API calls for user '{user}' has been reached. The count resets at 00:00 UTC.",
        "System.Web.HttpException",
    )
    return Reply(reply.status, reply.body, headers={"Retry-After": str(retry_after)})
