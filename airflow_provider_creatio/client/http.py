"""Transport-neutral request and response values shared by the sync and async clients.

Protocol modules (odata, process) build a :class:`Call`: the request to send plus the function that turns the
answer into a Python value. The sync transport (requests) and the async one (httpx) only move bytes; everything
they decide (URL, headers, retry safety, error classification, parsing) comes from here and from the
protocol modules, so both sides behave identically.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeAlias, TypeVar
from urllib.parse import quote

T = TypeVar("T")

# ASP.NET's default maxRequestLength (4,096 KB): a larger body is refused before Creatio reads it
# (docs/creatio-notes/request-size-limits.md).
MAX_BODY_BYTES = 4 * 1024 * 1024
_QUERY_SAFE = "$'(),/:"  # left readable in query values; everything else outside A-Z a-z 0-9 -._~ is escaped


def encode_query(params: Iterable[tuple[str, str]]) -> str:
    """``key=value&...`` percent-encoded for Creatio: a space is ``%20``, never ``+`` (which Creatio may keep
    as a literal plus), and ``&``, ``=``, ``+``, ``#``, ``%`` inside keys and values are always escaped. The
    client's one query encoding: both transports send it, and :func:`process.fits_in_url` measures with it."""
    return "&".join(f"{quote(key, safe='$')}={quote(value, safe=_QUERY_SAFE)}" for key, value in params)


class Service(enum.Enum):
    """Which root a request path is relative to. The layout (``/0/`` or not) is applied by the config."""

    ROOT = "root"  # {base}/ : AuthService.svc lives here in both layouts
    APP = "app"  # {base}[/0]/ : rest/FileApiService, rest/FileService, DataService
    SERVICE_MODEL = "service_model"  # {base}[/0]/ServiceModel/
    ODATA = "odata"  # {base}[/0]/odata/


class Idempotency(enum.Enum):
    """How freely a request may be repeated when its answer is missing or transient."""

    SAFE = (
        "safe"  # repeating it has no extra effect (GET of data, PATCH, DELETE, POST with a client-chosen Id)
    )
    # Repeat only when the server provably never received it: connection refused, connect timeout,
    # or 429/503 answered before processing. Never after a read timeout or a dropped connection.
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class ApiRequest:
    method: str
    service: Service
    path: str  # relative to the service root, already percent-encoded where needed, no leading slash
    params: tuple[tuple[str, str], ...] = ()
    json_body: Any = None
    # A raw body instead of JSON: a file's chunk, which may be a view of the uploader's one reused buffer.
    content: bytes | memoryview | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict)
    idempotency: Idempotency = Idempotency.SAFE
    operation: str = ""  # human wording for errors and logs, e.g. "get Contact(3f2...)"

    @property
    def body_bytes(self) -> bytes | memoryview | None:
        if self.content is not None:
            return self.content
        if self.json_body is None:
            return None
        return json.dumps(self.json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class ApiResponse:
    status: int
    # Not in repr: headers carry Set-Cookie values and the body may hold a token.
    headers: Mapping[str, str] = field(repr=False)  # keys lower-cased
    content: bytes = field(repr=False)
    method: str = ""
    path: str = ""  # path only, never the query string

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class ByteWriter(Protocol):
    def write(self, data: bytes, /) -> object: ...


# Where a successful answer's body goes instead of memory (a downloaded file): opened afresh for each try, so a
# retried download starts over; the answer the parser gets then has an empty body.
BodySink: TypeAlias = Callable[[], AbstractContextManager[ByteWriter]]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the parser of its successful answer."""

    request: ApiRequest
    parse: Callable[[ApiResponse], T]
    # Statuses that are a normal answer for this call and go to ``parse`` instead of raising (e.g. 404 for
    # "delete if present").
    accept_statuses: frozenset[int] = frozenset()
    sink: BodySink | None = None  # the synchronous client streams a 2xx body here


class CallExecutor(Protocol):
    """What the multi-call flows (records, paging, bulk) need from a client: run one call on its session and
    return the parsed value."""

    def execute(self, call: Call[T]) -> T: ...
