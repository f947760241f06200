"""Faults the emulator injects before normal handling, so tests can script outages deterministically.

``FaultPlan.next_fault(method, path)`` is the single place a request is checked for a fault (the gate calls it
first for every request except the admin endpoints). Scripted faults are queued per path pattern and consumed one
status per matching request.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    status: int
    retry_after: float | None = None


@dataclass
class _Script:
    pattern: re.Pattern[str]
    statuses: deque[int]
    retry_after: float | None
    method: str | None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and self.pattern.search(path) is not None


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: list[_Script] = []

    def script(
        self,
        path_regex: str,
        statuses: list[int],
        retry_after: float | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next requests whose path matches ``path_regex`` (``re.search``) with ``statuses``, in order.

        ``method`` limits the script to one HTTP method; ``retry_after`` (seconds) adds a Retry-After header.
        Earlier scripts take precedence over later ones matching the same request.
        """
        if not statuses or not all(isinstance(s, int) and 300 <= s <= 599 for s in statuses):
            raise ValueError("statuses must be a non-empty list of HTTP status codes from 300 to 599")
        if retry_after is not None and retry_after < 0:
            raise ValueError("retry_after must be >= 0 seconds")
        script = _Script(
            re.compile(path_regex), deque(statuses), retry_after, method.upper() if method else None
        )
        with self._lock:
            self._scripts.append(script)

    def next_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for script in self._scripts:
                if script.matches(method, path):
                    status = script.statuses.popleft()
                    if not script.statuses:
                        self._scripts.remove(script)
                    return Fault(status, script.retry_after)
        return None

    def clear(self) -> None:
        with self._lock:
            self._scripts.clear()
