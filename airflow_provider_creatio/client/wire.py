"""A request and its answer as they are on the wire, and the session cookies: no authentication, no I/O.

Both transports send an :class:`Outgoing`, built from an :class:`~.http.ApiRequest` by :func:`outgoing_for` (the
login and logout requests are built by the auth strategies), turn what comes back into an
:class:`~.http.ApiResponse` with :func:`answer_to`, and read their cookie jar (``http.cookiejar``, the jar of
requests and of httpx alike) with :func:`cookies_for_path` and :func:`jar_items`.
"""

from __future__ import annotations

import http.cookiejar
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from airflow_provider_creatio.client.config import CreatioConfig
from airflow_provider_creatio.client.http import ApiRequest, ApiResponse, Idempotency, Service, encode_query

ODATA_JSON = "application/json; charset=utf-8; IEEE754Compatible=true"
SERVICE_JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Outgoing:
    """One request exactly as it goes on the wire: absolute URL (with its encoded query), headers and body."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    content: bytes | memoryview | None = field(default=None, repr=False)
    idempotency: Idempotency = Idempotency.SAFE
    operation: str = ""

    @property
    def path(self) -> str:
        """The URL path: what logs and errors show (never the query string)."""
        return urlsplit(self.url).path or "/"

    def with_headers(self, extra: Mapping[str, str]) -> Outgoing:
        """A copy with ``extra`` headers added; they win over headers of the same name."""
        return Outgoing(
            self.method,
            self.url,
            merge_headers(self.headers, extra),
            self.content,
            self.idempotency,
            self.operation,
        )


def merge_headers(*layers: Mapping[str, str]) -> dict[str, str]:
    """Header layers merged case-insensitively, later layers winning."""
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for name, value in layer.items():
            merged[name.lower()] = (name, value)
    return dict(merged.values())


def outgoing_for(config: CreatioConfig, request: ApiRequest) -> Outgoing:
    """The wire form of an API request, before the session's headers are added."""
    defaults = {"Accept": "application/json"}
    content = request.body_bytes
    if request.json_body is not None:
        defaults["Content-Type"] = ODATA_JSON if request.service is Service.ODATA else SERVICE_JSON
    url = config.url(request.service, request.path)
    if request.params:  # odata's encoding, the one process.fits_in_url measures URLs with
        url += "?" + encode_query(request.params)
    return Outgoing(
        request.method.upper(),
        url,
        merge_headers(defaults, request.headers),
        content,
        request.idempotency,
        request.operation,
    )


class RawAnswer(Protocol):
    """An answer as requests and httpx both give it."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...


def answer_to(outgoing: Outgoing, raw: RawAnswer) -> ApiResponse:
    """The answer to ``outgoing`` as the clients read it: header names lower-cased, and the request's method and
    path (never its query) for errors and logs."""
    return ApiResponse(
        status=raw.status_code,
        headers={name.lower(): value for name, value in raw.headers.items()},
        content=raw.content,
        method=outgoing.method,
        path=outgoing.path,
    )


def jar_items(jar: http.cookiejar.CookieJar) -> list[tuple[str, str]]:
    """Every ``(name, value)`` in the jar, whatever its path."""
    return [(cookie.name, cookie.value) for cookie in jar if cookie.value is not None]


def cookies_for_path(jar: http.cookiejar.CookieJar, path: str) -> dict[str, str]:
    """The cookies the jar sends to ``path``, by name. When a name exists for several paths (a rotated BPMCSRF set
    on a sub-path), the most specific one wins, as it is the one the server reads first."""
    chosen: dict[str, tuple[int, str]] = {}
    for cookie in jar:
        cookie_path = cookie.path or "/"
        applies = path == cookie_path or (
            path.startswith(cookie_path) and (cookie_path.endswith("/") or path[len(cookie_path)] == "/")
        )
        if not applies or cookie.value is None or cookie.is_expired():
            continue
        if cookie.name not in chosen or len(cookie_path) > chosen[cookie.name][0]:
            chosen[cookie.name] = (len(cookie_path), cookie.value)
    return {name: value for name, (_, value) in chosen.items()}
