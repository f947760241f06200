"""How to read Creatio's answers: session expiry, error classification, error messages and JSON bodies.

Pure functions over :class:`ApiResponse`, shared by the sync and async clients and by the protocol modules. Nothing
here sees request headers or cookies, so nothing here can leak them; paths are paths only (a query string can carry
process parameters), and quoted server text is cut short.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from airflow_provider_creatio.client.errors import (
    CreatioAuthError,
    CreatioBadRequestError,
    CreatioConflictError,
    CreatioError,
    CreatioMemoryLimitError,
    CreatioNotFoundError,
    CreatioOutcomeUnknownError,
    CreatioRateLimitError,
    CreatioResponseError,
    CreatioServerError,
)
from airflow_provider_creatio.client.http import ApiRequest, ApiResponse, Call, Idempotency

T = TypeVar("T")

_SERVER_MESSAGE_LIMIT = 500  # characters of Creatio's own wording kept in an error
_EXCERPT_LIMIT = 80  # characters of an unreadable body quoted in a CreatioResponseError
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_JSON_TYPES = frozenset({"application/json", "text/json", "text/plain", ""})
# SQL Server: "Cannot insert duplicate key", PostgreSQL: "duplicate key value violates unique constraint",
# Oracle: "unique constraint (...) violated".
_DUPLICATE_KEY_RE = re.compile(r"duplicate key|unique constraint", re.IGNORECASE)
# Creatio's words past MaxMemoryUsageToGetDataViaEntityCollection; only this part is sourced (the rest of the
# message is quoted with an ellipsis), so nothing else of the text is matched.
_RAM_LIMIT_RE = re.compile(r"RAM consumption limit", re.IGNORECASE)
_QUERY_IN_URL_RE = re.compile(r"(\bhttps?://[^\s'\"?#<>]*)\?[^\s'\"<>]*")
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")
# Statuses that mean "the request was received but whether it was carried out is unknown" when they come from a
# gateway in front of Creatio (a long synchronous process run behind a load balancer is the usual case).
_GATEWAY_LOST_ANSWER = frozenset({502, 504})


# ----------------------------------------------------------------------------------------------------------------
# Session expiry


def is_login_page(response: ApiResponse) -> bool:
    """A 2xx HTML page where an API answer was expected: the login page Creatio redirects to."""
    return 200 <= response.status < 300 and response.content_type in _HTML_TYPES


def is_session_expired(response: ApiResponse) -> bool:
    """True for every documented form of "no valid session": 401, 403 (bad BPMCSRF), any redirect (which is never
    followed, and points to the login page) and the login page itself served with 200."""
    return response.status in (401, 403) or 300 <= response.status < 400 or is_login_page(response)


def session_rejected(
    call: Call[Any], response: ApiResponse, expired: Callable[[ApiResponse], bool] = is_session_expired
) -> bool:
    """Whether the client should log in again and replay ``call``; ``expired`` is the auth method's reading of
    an answer. A status the call accepts as a normal answer is not an expiry, but the login page never is a
    normal answer."""
    if is_login_page(response):
        return True
    return response.status not in call.accept_statuses and expired(response)


# ----------------------------------------------------------------------------------------------------------------
# Creatio's own words


def _clean(text: str, limit: int) -> str:
    """One line, no query strings in quoted URLs, at most ``limit`` characters."""
    text = _QUERY_IN_URL_RE.sub(r"\1", text)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = _SPACE_RE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _text_of(value: object) -> str | None:
    """A message field: a string, or OData v3's ``{"lang": ..., "value": ...}``."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, dict):
        return _text_of(value.get("value"))
    return None


def _odata_message(error: dict[str, Any]) -> str | None:
    inner = error.get("innererror")
    inner_message = _text_of(inner.get("message")) if isinstance(inner, dict) else None
    return _text_of(error.get("message")) or inner_message or _text_of(error.get("code"))


def message_from_json(body: object) -> str | None:
    """Creatio's error text from any of its three JSON shapes (OData, ASP.NET, routing), the OAuth shape, or a
    plain string."""
    if isinstance(body, str):
        return body.strip() or None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):  # OData: {"error": {"code", "message", "innererror"}}
        return _odata_message(error)
    if isinstance(error, str):  # OAuth token endpoint: {"error": "invalid_client", "error_description": ...}
        return _text_of(body.get("error_description")) or error
    message = _text_of(body.get("Message"))
    detail = _text_of(body.get("MessageDetail"))
    if message and detail:  # routing: {"Message", "MessageDetail"}; the detail names the missing thing
        return f"{message} {detail}"
    # ASP.NET: {"Message", "ExceptionType", "StackTrace"}; with detailed errors on, ExceptionMessage is the real one
    return _text_of(body.get("ExceptionMessage")) or message or detail


def _json_or_none(response: ApiResponse) -> object:
    if response.content_type in _HTML_TYPES or not response.content.strip():
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def server_message(response: ApiResponse) -> str | None:
    """Creatio's message from any of its error shapes, from plain text, or from an HTML error page's title."""
    body = _json_or_none(response)
    if body is not None:
        message = message_from_json(body)
        return _clean(message, _SERVER_MESSAGE_LIMIT) if message else None
    text = response.text.strip()
    if not text:
        return None
    if response.content_type in _HTML_TYPES or text.startswith("<"):
        title = _TITLE_RE.search(text)
        return _clean(_TAG_RE.sub(" ", title.group(1)), _SERVER_MESSAGE_LIMIT) if title else None
    return _clean(text, _SERVER_MESSAGE_LIMIT)


def oauth_error(response: ApiResponse) -> tuple[str | None, str | None]:
    """The ``error`` code and ``error_description`` of an RFC 6749 error answer (either may be missing)."""
    body = _json_or_none(response)
    if not isinstance(body, dict):
        return None, None
    fields = (_text_of(body.get("error")), _text_of(body.get("error_description")))
    code, description = (_clean(text, _SERVER_MESSAGE_LIMIT) if text else None for text in fields)
    return code, description


def _exception_type(response: ApiResponse) -> str:
    body = _json_or_none(response)
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("ExceptionType"), str):
        return str(body["ExceptionType"])
    error = body.get("error")
    inner = error.get("innererror") if isinstance(error, dict) else None
    return str(inner.get("type", "")) if isinstance(inner, dict) else ""


# ----------------------------------------------------------------------------------------------------------------
# Classification


def _error_class(response: ApiResponse, idempotency: Idempotency) -> tuple[type[CreatioError], str]:
    status = response.status
    if status == 400:
        return CreatioBadRequestError, "bad request"
    if status == 403:
        return CreatioAuthError, "access was refused"
    if status == 401 or 300 <= status < 400 or is_login_page(response):
        return CreatioAuthError, "the session was rejected"
    if status == 404:
        return CreatioNotFoundError, "not found"
    if status in (409, 412):
        return CreatioConflictError, "conflict"
    if status == 429:
        return CreatioRateLimitError, "rate limited"
    if status == 500 and _exception_type(response).endswith("ItemNotFoundException"):
        return CreatioNotFoundError, "not found"
    if status == 500 and _RAM_LIMIT_RE.search(response.text):
        return CreatioMemoryLimitError, "the read reached Creatio's RAM consumption limit"
    if status == 500 and _DUPLICATE_KEY_RE.search(response.text):
        return CreatioConflictError, "conflict (duplicate key)"
    if status in _GATEWAY_LOST_ANSWER and idempotency is Idempotency.UNSAFE:
        return (
            CreatioOutcomeUnknownError,
            "a gateway lost Creatio's answer; the request may or may not have been carried out",
        )
    if 500 <= status < 600:
        return CreatioServerError, "server error"
    if 400 <= status < 500:
        return CreatioError, "request refused"
    return CreatioResponseError, "unexpected answer"


def error_for_response(
    response: ApiResponse,
    *,
    operation: str | None = None,
    idempotency: Idempotency = Idempotency.SAFE,
    attempts: int = 1,
) -> CreatioError:
    """The specific exception for a failed answer, naming the operation, status, method, path and server text."""
    error_class, message = _error_class(response, idempotency)
    if attempts > 1:
        message += f" after {attempts} attempts"
    return error_class(
        message,
        status=response.status,
        method=response.method or None,
        path=response.path or None,
        server_message=server_message(response),
        operation=operation or None,
    )


def session_rejected_again(response: ApiResponse, *, operation: str | None = None) -> CreatioAuthError:
    """The session was refused right after a fresh login: retrying further would only loop."""
    if is_login_page(response):
        return CreatioAuthError(
            "Creatio answered its HTML login page instead of data, again right after a new login "
            "(a proxy dropping cookies, or a user without access)",
            status=response.status,
            method=response.method or None,
            path=response.path or None,
            operation=operation or None,
        )
    return CreatioAuthError(
        "the session was rejected again right after a new login",
        status=response.status,
        method=response.method or None,
        path=response.path or None,
        server_message=server_message(response),
        operation=operation or None,
    )


def raise_for_response(
    call_or_request: Call[Any] | ApiRequest, response: ApiResponse, *, attempts: int = 1
) -> None:
    """Return if ``response`` is a normal answer for the call (2xx that is not the login page, or an accepted
    status), raise the matching :class:`CreatioError` otherwise."""
    if isinstance(call_or_request, Call):
        request, accepted = call_or_request.request, call_or_request.accept_statuses
    else:
        request, accepted = call_or_request, frozenset()
    normal = response.status in accepted or 200 <= response.status < 300
    if normal and not is_login_page(response):
        return
    raise error_for_response(
        response, operation=request.operation, idempotency=request.idempotency, attempts=attempts
    )


def finish(call: Call[T], response: ApiResponse, *, attempts: int = 1) -> T:
    """The value of a call: classify the answer, then hand it to the call's parser."""
    raise_for_response(call, response, attempts=attempts)
    return call.parse(response)


# ----------------------------------------------------------------------------------------------------------------
# JSON bodies


def excerpt(response: ApiResponse) -> str:
    """A short, single-line quote of a body for an error message."""
    return repr(_clean(response.text, _EXCERPT_LIMIT))


def unreadable(
    response: ApiResponse, problem: str, operation: str | None, *, quote_body: bool = True
) -> CreatioResponseError:
    """``quote_body=False`` for answers that carry credentials (the OAuth token answer): never quote those."""
    return CreatioResponseError(
        f"{problem}; the body starts with {excerpt(response)}" if quote_body else problem,
        status=response.status,
        method=response.method or None,
        path=response.path or None,
        operation=operation,
    )


def decode_json(response: ApiResponse, *, operation: str | None = None, quote_body: bool = True) -> Any:
    """The JSON value of a body, or :class:`CreatioResponseError` for an empty, truncated or non-JSON body
    (quoting the start of the body unless ``quote_body`` is False)."""
    if response.content_type not in _JSON_TYPES and not response.content_type.endswith("+json"):
        if response.content_type in _HTML_TYPES:
            problem = "Creatio answered an HTML page where JSON was expected"
        else:
            problem = f"Creatio answered {response.content_type!r} where JSON was expected"
        raise unreadable(response, problem, operation, quote_body=quote_body)
    if not response.content.strip():
        raise unreadable(
            response,
            "Creatio answered an empty body where JSON was expected",
            operation,
            quote_body=quote_body,
        )
    try:
        return json.loads(response.content)
    except ValueError as exc:
        where = f" (at character {exc.pos})" if isinstance(exc, json.JSONDecodeError) else ""
        raise unreadable(
            response, f"Creatio answered invalid or truncated JSON{where}", operation, quote_body=quote_body
        ) from None
