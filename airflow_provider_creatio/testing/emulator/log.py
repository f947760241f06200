"""What the emulator was asked: a thread-safe request log and counters, for tests to assert on.

Only service, method, path, query string, status, time, the kind of credential, whether cookies or a BPMCSRF
header were sent, and the client's product name (``python-requests``, ``python-httpx``) are kept: never other
header values, cookies or bodies. ``rows_read`` is what the request cost the emulated database: the rows an
OData read touched (``$skip`` reads skip + top, a keyset range on an index reads its page, a scan every row).

``api_calls`` is what the request counts against Creatio's daily quota, per user and UTC day as Creatio counts it:
one per OData operation (each operation inside a ``$batch``; the envelope itself none) and one per other
ServiceModel call (ProcessEngineService...); logins, logouts and refused requests none
(``docs/creatio-notes/api-call-quota.md``).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_creatio.testing.emulator.replies import Reply

COST = (
    "emulator.cost"  # the ASGI scope key of the request's RequestCost (the router copies the scope, not it)
)


@dataclass
class RequestCost:
    """Filled in by the endpoint that answers (one ``add`` per OData operation), read by the gate when the answer
    starts (the server's work) and when it logs the request."""

    rows_read: int = 0
    rows_returned: int = 0
    records_written: int = 0
    operations: int = 0  # OData operations answered: 1, or those of a $batch

    def add(self, reply: Reply) -> None:
        self.rows_read += reply.rows_read
        self.rows_returned += reply.rows_returned
        self.records_written += reply.records_written
        self.operations += 1


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    status: int
    timestamp: float  # time.time() when the answer started
    auth: str  # "cookie", "bearer" or "none"
    service: str = "creatio"  # "creatio" (the site) or "identity" (the identity server)
    sent_cookies: bool = False  # the request carried a Cookie header
    sent_csrf: bool = False  # the request carried a BPMCSRF header
    agent: str = ""  # the User-Agent's product name, without its version: which HTTP client sent it
    rows_read: int = 0  # rows the database read to answer (OData reads; 0 for everything else)
    user: str = ""  # who called: the session's user, or the OAuth client id of a bearer token; "" for nobody
    api_calls: int = 0  # what the request counts against the user's daily API call quota

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []
        self._per_path: Counter[str] = Counter()
        self._logins = 0
        self._rows_read = 0
        self._api_calls: Counter[tuple[str, str]] = Counter()  # (user, UTC day) -> calls

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)
            self._per_path[entry.path] += 1
            self._rows_read += entry.rows_read
            if entry.api_calls:
                self._api_calls[entry.user, utc_day(entry.timestamp)] += entry.api_calls

    def note_login(self) -> None:
        with self._lock:
            self._logins += 1

    @property
    def login_count(self) -> int:
        """Successful cookie logins since the last clear."""
        with self._lock:
            return self._logins

    def api_calls_today(self, user: str) -> int:
        """The calls ``user`` made this UTC day (Creatio's quota resets at 00:00 UTC)."""
        with self._lock:
            return self._api_calls[user, utc_day(time.time())]

    def api_calls(self) -> dict[str, dict[str, int]]:
        """``{user: {"YYYY-MM-DD": calls}}``, days in UTC."""
        with self._lock:
            counted = sorted(self._api_calls.items())
        by_user: dict[str, dict[str, int]] = {}
        for (user, day), calls in counted:
            by_user.setdefault(user, {})[day] = calls
        return by_user

    def snapshot(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        wanted_method = method.upper() if method else None
        return sum(
            1
            for entry in self.snapshot()
            if (wanted_method is None or entry.method == wanted_method)
            and (path_contains is None or path_contains in entry.path)
        )

    def stats(self) -> dict[str, Any]:
        api_calls = self.api_calls()
        with self._lock:
            return {
                "logins": self._logins,
                "requests": len(self._entries),
                "per_path": dict(self._per_path),
                "rows_read": self._rows_read,
                "api_calls": api_calls,
            }

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._per_path.clear()
            self._logins = 0
            self._rows_read = 0
            self._api_calls.clear()


def utc_day(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).date().isoformat()


def seconds_to_next_utc_day() -> int:
    """Whole seconds until 00:00 UTC, when Creatio's daily quota starts again (at least 1)."""
    now = dt.datetime.now(dt.UTC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    return max(1, math.ceil((midnight - now).total_seconds()))
