"""The API calls a request costs, as Creatio counts them against its daily quota (academy "Pricing model limits";
docs/creatio-notes/api-call-quota.md): one per OData operation, each operation inside a ``$batch`` separately and
the envelope not at all, one per other service call; logins and logouts are not counted. No I/O here.

What the client cannot see it counts as the emulator does: an answer the server gave before serving the call (the
retry statuses 429, 502, 503, 504: the quota's refusal or a gateway's) and a rejected session (the call is sent
again after a new login) cost nothing; a lost answer (a timeout, a dropped connection) costs nothing, though the
server may have served it.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator

from airflow_provider_creatio.client.batch import CONTINUE_ON_ERROR
from airflow_provider_creatio.client.errors import CreatioResponseError
from airflow_provider_creatio.client.http import ApiRequest, ApiResponse, Service
from airflow_provider_creatio.client.responses import decode_json

NOT_SERVED = frozenset({429, 502, 503, 504})
KEY = "api_calls"  # the key of the calls spent, in a task's dict XCom and a trigger's event


def cost(request: ApiRequest, response: ApiResponse) -> int:
    """The calls ``request`` cost, answered with ``response`` (after any retries and a session's renewal)."""
    if response.status in NOT_SERVED:
        return 0
    if request.service is Service.ODATA and request.path == "$batch":
        return _batch_operations(request, response)
    return 1


def _batch_operations(request: ApiRequest, response: ApiResponse) -> int:
    """The operations Creatio ran: every one with continue-on-error, else those it answered (it stops after the
    first failure); none when it refused the envelope itself."""
    if not 200 <= response.status < 300:
        return 0
    sent = request.json_body.get("requests", []) if isinstance(request.json_body, dict) else []
    if CONTINUE_ON_ERROR.items() <= request.headers.items():
        return len(sent)
    try:
        document = decode_json(response)
    except CreatioResponseError:  # its parser raises too; what was sent is the upper bound
        return len(sent)
    answered = document.get("responses") if isinstance(document, dict) else None
    return len(answered) if isinstance(answered, list) else len(sent)


class ApiCallCount:
    """A running count of API calls, safe to add to from several threads (concurrent ``$batch`` lanes) and from
    coroutines (nothing is awaited while the lock is held)."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    @property
    def value(self) -> int:
        with self._lock:
            return self._value

    def add(self, calls: int) -> None:
        with self._lock:
            self._value += calls


# What the calls made in the current context (an asyncio task, a thread) are also counted on, besides the client's
# own total: a trigger's share of a client the triggerer's other triggers use too.
_context_count: contextvars.ContextVar[ApiCallCount | None] = contextvars.ContextVar(
    "creatio_api_calls", default=None
)


@contextlib.contextmanager
def counted_here() -> Iterator[ApiCallCount]:
    """Count the calls made inside the ``with`` block by this asyncio task or thread only, whichever clients they
    go through (a shared client counts every caller's)."""
    count = ApiCallCount()
    token = _context_count.set(count)
    try:
        yield count
    finally:
        _context_count.reset(token)


def charge(total: ApiCallCount, calls: int) -> None:
    """Add ``calls`` to a client's ``total`` and to the count of the context that made them, if one is kept."""
    total.add(calls)
    if (here := _context_count.get()) is not None:
        here.add(calls)
