"""What the emulator was asked: a thread-safe request log and counters, for tests to assert on.

Only service, method, path, query string, status, time, the kind of credential, whether cookies or a BPMCSRF
header were sent, and the client's product name (``python-requests``, ``python-httpx``) are kept: never other
header values, cookies or bodies. ``rows_read`` is what the request cost the emulated database: the rows an
OData read touched (``$skip`` reads skip + top, a keyset range on an index reads its page, a scan every row).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

COST = (
    "emulator.cost"  # the ASGI scope key of the request's RequestCost (the router copies the scope, not it)
)


@dataclass
class RequestCost:
    """Filled in by the endpoint that answers, read by the gate when it logs the request."""

    rows_read: int = 0


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

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []
        self._per_path: Counter[str] = Counter()
        self._logins = 0
        self._rows_read = 0

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)
            self._per_path[entry.path] += 1
            self._rows_read += entry.rows_read

    def note_login(self) -> None:
        with self._lock:
            self._logins += 1

    @property
    def login_count(self) -> int:
        """Successful cookie logins since the last clear."""
        with self._lock:
            return self._logins

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
        with self._lock:
            return {
                "logins": self._logins,
                "requests": len(self._entries),
                "per_path": dict(self._per_path),
                "rows_read": self._rows_read,
            }

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._per_path.clear()
            self._logins = 0
            self._rows_read = 0
